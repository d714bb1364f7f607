"""App factory. Routers are added here and nowhere else; shared state lives on `app.state`."""

from __future__ import annotations

import threading

from fastapi import FastAPI

from unmask import __version__
from unmask.bank.matching import Matcher
from unmask.bank.store import BankStore
from unmask.server.errors import install_error_handlers
from unmask.server.guard import RequestGuard
from unmask.server.limits import ApiBodyCap, BodyDeadline
from unmask.server.routers import banks, hashing, matching
from unmask.server.web import WebConfig, install, lifespan

DESCRIPTION = """Hash pictures and videos, and match them against banks of hashes of content
that must not spread (PDQ, vPDQ, MD5, SHA-256). Media sent here are hashed in memory and never
stored. Every call needs an API key in the `X-API-Key` header; keys carry scopes (`match`,
`write`, `admin`) and may be limited to some banks. Errors always have the shape
`{"error": {"code": ..., "message": ..., "hint": ...}}`."""


def create_app(
    store: BankStore,
    matcher: Matcher | None = None,
    *,
    web: WebConfig | None = None,
    pages: bool = True,
) -> FastAPI:
    """The REST API and, unless `pages` is False, the web pages (set up by `web`)."""
    app = FastAPI(
        title="Unmask hash bank",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan if pages else None,
        # FastAPI's /docs and /redoc pages load their scripts from a CDN: a person checking a
        # picture of themselves must not be announced to a third party. The machine-readable
        # description stays at /openapi.json.
        docs_url=None,
        redoc_url=None,
    )
    config = web or WebConfig()
    # Added last, so it runs first: refused requests never reach a route or a body parser.
    # Set by `unmask.server.run` when asked to stop: bodies still arriving are cut short.
    app.state.stopping = threading.Event()
    app.add_middleware(
        BodyDeadline, timeout_s=config.body_idle_timeout_s, stopping=app.state.stopping
    )
    app.add_middleware(ApiBodyCap)
    app.add_middleware(RequestGuard, allowed_hosts=config.allowed_hosts)
    app.state.store = store
    app.state.max_upload_bytes = config.max_upload_bytes
    app.state.matcher = matcher or Matcher(store)
    install_error_handlers(app)
    app.include_router(hashing.router)
    app.include_router(matching.router)
    app.include_router(banks.router)
    app.include_router(banks.audit_router)
    if pages:
        install(app, config)
    return app
