"""Templates and the one way a page answers: HTML for people, JSON for the page's own script."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.templating import Jinja2Templates
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from unmask import __version__

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
templates.env.globals["version"] = __version__


class PageError(Exception):
    """A page that cannot be shown, with what to tell the user (never a traceback)."""

    def __init__(self, status: int, message: str, hint: str = "", title: str = "") -> None:
        super().__init__(message)
        self.status, self.message, self.hint = status, message, hint
        self.title = title or "Something went wrong"


def wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, status: int = 200
) -> Response:
    # Every form carries the session's token (see unmask.server.guard); set by the guard.
    token = request.scope.get("state", {}).get("form_token", "")
    context = {"form_token": token, **(context or {})}
    response = templates.TemplateResponse(request, name, context, status_code=status)
    response.headers["Cache-Control"] = "no-store"
    return response


def error_page(request: Request, error: PageError) -> Response:
    if wants_json(request):
        body = {"error": {"code": "page_error", "message": error.message, "hint": error.hint}}
        return JSONResponse(body, status_code=error.status)
    context = {"title": error.title, "message": error.message, "hint": error.hint}
    return render(request, "error.html", context, error.status)
