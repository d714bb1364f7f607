"""The web pages of `unmask serve`: scan a file, read its result, use the hash bank.

Everything is served from this package (templates, one stylesheet, one small script): no
external CDN, font or request, so nothing about a scan leaves the machine.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, cast

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response

from unmask.server.errors import error_body
from unmask.server.guard import API_PREFIXES
from unmask.server.web import bank_pages, pages, report_pages
from unmask.server.web.config import WebConfig
from unmask.server.web.jobs import ScanQueue
from unmask.server.web.rendering import HERE, PageError, error_page

__all__ = ["ScanQueue", "WebConfig", "install", "lifespan"]


def install(app: FastAPI, config: WebConfig | None = None) -> None:
    """Add the pages, their static files and their HTML error pages to `app`."""
    app.state.scans = ScanQueue(config or WebConfig())
    app.state.bank_sessions = bank_pages.BankSessions()
    app.include_router(pages.router)
    app.include_router(bank_pages.router)
    app.include_router(report_pages.router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    _install_page_errors(app)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """At start, remove uploads left by a server that was killed; at shutdown, remove every
    upload and everything made from them."""
    scans = getattr(app.state, "scans", None)
    if scans is not None:
        scans.sweep_abandoned()
    yield
    if scans is not None:
        scans.close()


def _is_api(request: Request) -> bool:
    return request.url.path.startswith(API_PREFIXES)


def _install_page_errors(app: FastAPI) -> None:
    """Pages answer errors with a page, never a traceback; the API keeps its JSON errors."""
    api_http = app.exception_handlers[StarletteHTTPException]
    api_invalid = app.exception_handlers[RequestValidationError]

    @app.exception_handler(PageError)
    async def _page(request: Request, exc: PageError) -> Response:
        return error_page(request, exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if _is_api(request):
            return await _call(api_http, request, exc)
        message = {
            404: "There is no page at this address.",
            405: "This page cannot be used that way.",
        }.get(exc.status_code, str(exc.detail))
        title = "Not found" if exc.status_code == 404 else "This did not work"
        return error_page(request, PageError(exc.status_code, message, title=title))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        if _is_api(request):
            return await _call(api_invalid, request, exc)
        return error_page(request, PageError(400, "This request was not understood."))

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception) -> Response:
        if _is_api(request):
            body = error_body("internal_error", f"unmask failed ({type(exc).__name__})")
            return JSONResponse(body, status_code=500)
        return error_page(
            request,
            PageError(
                500,
                f"Unmask failed while answering this page ({type(exc).__name__}).",
                "Please try again; if it happens again, report it as a bug.",
            ),
        )


async def _call(handler: Callable[..., Any], request: Request, exc: Exception) -> Response:
    """Run a registered exception handler, sync or async."""
    response = handler(request, exc)
    if inspect.isawaitable(response):
        response = await response
    return cast(Response, response)
