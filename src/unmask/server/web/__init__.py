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
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from unmask.server.errors import error_body
from unmask.server.web import bank_pages, pages, report_pages
from unmask.server.web.config import WebConfig
from unmask.server.web.jobs import ScanQueue
from unmask.server.web.rendering import HERE, PageError, error_page

__all__ = ["ScanQueue", "WebConfig", "install", "lifespan"]

API_PREFIXES = ("/v1", "/openapi.json")
"""Paths of the REST API and its description: they keep their JSON errors and headers."""
SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self'; style-src 'self'; script-src 'self'; "
        b"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    ),
    (b"referrer-policy", b"no-referrer"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
]


def install(app: FastAPI, config: WebConfig | None = None) -> None:
    """Add the pages, their static files and their HTML error pages to `app`."""
    app.state.scans = ScanQueue(config or WebConfig())
    app.state.bank_sessions = bank_pages.BankSessions()
    app.include_router(pages.router)
    app.include_router(bank_pages.router)
    app.include_router(report_pages.router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.add_middleware(_SecurityHeaders)
    _install_page_errors(app)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """At shutdown, remove every upload and everything made from them."""
    yield
    scans = getattr(app.state, "scans", None)
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


class _SecurityHeaders:
    """Pages load only this server's own files and are never framed or sent on as referrers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or str(scope.get("path", "")).startswith(API_PREFIXES):
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + SECURITY_HEADERS
            await send(message)

        await self.app(scope, receive, with_headers)
