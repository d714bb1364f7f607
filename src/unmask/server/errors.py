"""One error shape for every failure: {"error": {"code", "message", "hint"}}."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from unmask.bank.store import BankError, NotFoundError
from unmask.errors import UnmaskError
from unmask.hashing import InvalidHashError, ServerBusyError


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, hint: str = "") -> None:
        self.status, self.code, self.message, self.hint = status, code, message, hint


class ErrorDetail(BaseModel):
    code: str = Field(examples=["not_found"], description="Stable, for programs")
    message: str = Field(description="What went wrong, for people")
    hint: str = Field(description="What to do next (may be empty)")


class ErrorOut(BaseModel):
    """The shape of every error answer."""

    error: ErrorDetail


def error_body(code: str, message: str, hint: str = "") -> dict[str, object]:
    return {"error": {"code": code, "message": message, "hint": hint}}


ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    status: {
        "description": text,
        "model": ErrorOut,
        "content": {"application/json": {"example": error_body(code, text)}},
    }
    for status, code, text in [
        (400, "bad_request", "'abc' is not a pdq hash"),
        (401, "unauthorized", "no API key; send it in the X-API-Key header"),
        (403, "forbidden", "this key may not use bank 'ncii'"),
        (404, "not_found", "no bank called 'ncii'"),
    ]
}


BUSY_RESPONSE: dict[int | str, dict[str, object]] = {
    503: {
        "description": "No worker could hash the upload now (a Retry-After header says when "
        "to try again); nothing is known about the file",
        "model": ErrorOut,
        "content": {
            "application/json": {
                "example": error_body(
                    "server_busy",
                    "the server is busy: it could not start a hashing process just now",
                    "try again in 30 s",
                )
            }
        },
    }
}
"""Routes that hash an upload (`unmask.hashing.ServerBusyError`)."""


def _without_422(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """FastAPI documents invalid requests as 422 with its own body; this server answers them
    400 in the one error shape (below), so the document says that instead, and a client
    generated from it expects what it will get."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            spec = build()
            for methods in spec.get("paths", {}).values():
                for op in methods.values():
                    op.get("responses", {}).pop("422", None)
            for name in ("HTTPValidationError", "ValidationError"):
                spec.get("components", {}).get("schemas", {}).pop(name, None)
            app.openapi_schema = spec
        return app.openapi_schema

    return openapi


def install_error_handlers(app: FastAPI) -> None:
    app.openapi = _without_422(app)  # type: ignore[method-assign]
    @app.exception_handler(ApiError)
    async def _api(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(error_body(exc.code, exc.message, exc.hint), status_code=exc.status)

    @app.exception_handler(UnmaskError)
    async def _unmask(_: Request, exc: UnmaskError) -> JSONResponse:
        if isinstance(exc, ServerBusyError):  # the server's state, not the caller's file
            return JSONResponse(
                error_body("server_busy", exc.message, exc.hint),
                status_code=503,
                headers={"Retry-After": str(exc.retry_after_s)},
            )
        if isinstance(exc, NotFoundError):
            status, code = 404, "not_found"
        elif isinstance(exc, InvalidHashError | BankError):
            status, code = 400, "bad_request"
        else:  # unreadable or unsupported media
            status, code = 400, "unreadable_media"
        return JSONResponse(error_body(code, exc.message, exc.hint), status_code=status)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        message = f"{where}: {first.get('msg', 'invalid request')}" if where else "invalid request"
        return JSONResponse(
            error_body("bad_request", message, "see /openapi.json for the request format"),
            status_code=400,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse(error_body(code, str(exc.detail)), status_code=exc.status_code)
