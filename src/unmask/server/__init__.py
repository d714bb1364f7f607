"""The REST API behind `unmask serve`: one FastAPI app, one router per thing a user does."""

from unmask.server.app import create_app

__all__ = ["create_app"]
