"""What every request and response of `unmask serve` must satisfy, checked before any route runs.

- **Security headers** on every answer: pages load only this server's own files, are never
  framed, never sent on as referrers, never sniffed as another type, and never cached
  (`Cache-Control: no-store` unless a route set its own, e.g. the static files).
- **Host**: only the names the server was bound to are served (default: the loopback names).
  A page on another site whose name an attacker re-points at 127.0.0.1 (DNS rebinding) sends
  its own name as Host and is refused before the app sees the request.
- **Cross-site forms**: an unsafe request (POST, ...) to a page is refused when the browser says
  it comes from another origin (`Origin`, else `Referer`, or `Sec-Fetch-Site` other than
  `same-origin`). A request that names no origin (a script, an old browser, or `Origin: null`,
  which browsers send for our own forms because our referrer policy is `no-referrer`) must
  carry the form token of its session instead: a random session cookie (HttpOnly, SameSite=Strict)
  and, in every form, an HMAC of it under a key that lives only in this process. Routes check the
  token with `check_form_token` once they have read the form (see `unmask.server.web.uploads`).
  A same-origin `Origin` header cannot be forged by another site's page, so it is enough on its
  own; requiring the token there too would only break scripts, not stop an attacker.

The REST API (`/v1`) is not cookie-based (every call carries an `X-API-Key` header, which a
cross-site page cannot send), so only the Host check and the headers apply to it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable
from http.cookies import CookieError, SimpleCookie
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from unmask.server.errors import error_body

API_PREFIXES = ("/v1", "/openapi.json")
"""Paths of the REST API and its description (JSON errors; no cookies, no forms)."""
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
SESSION_COOKIE = "unmask_session"
FORM_FIELD = "form_token"
FORM_HEADER = "x-unmask-form-token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
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
NO_STORE = (b"cache-control", b"no-store")


def allowed_hosts_for(bound: str) -> tuple[str, ...] | None:
    """The Host names to answer for when bound to `bound`: the loopback names and the bound
    name; any name (None) when bound to every address, whose names cannot be known here."""
    if bound in ("0.0.0.0", "::", ""):
        return None
    return tuple(dict.fromkeys((*LOOPBACK_HOSTS, bound.strip("[]").lower())))


class FormTokenError(Exception):
    """A form arrived without this session's token (and without an origin header)."""


def host_name(value: str) -> str:
    """The name part of a Host header: `[::1]:8000` -> `::1`, `Example.org.:80` -> `example.org`."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else value
    return value.rsplit(":", 1)[0].rstrip(".") if value.count(":") == 1 else value.rstrip(".")


class RequestGuard:
    """ASGI middleware: the checks of this module's docstring, before the app runs."""

    def __init__(self, app: ASGIApp, allowed_hosts: Iterable[str] | None = LOOPBACK_HOSTS) -> None:
        self.app = app
        self.allowed_hosts = None if allowed_hosts is None else {h.lower() for h in allowed_hosts}
        self.secret = secrets.token_bytes(32)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        path = str(scope.get("path", ""))
        host = headers.get("host", "")
        is_page = not path.startswith(API_PREFIXES)
        if self.allowed_hosts is not None and host_name(host) not in self.allowed_hosts:
            await _refuse(send, 421, "This server does not answer for that host name.", is_page)
            return
        if is_page and scope["method"] not in SAFE_METHODS and _cross_site(headers, scope, host):
            await _refuse(send, 403, "Refused: this form was sent from another site.", True)
            return
        session, new = _session_of(headers.get("cookie", ""))
        state = scope.setdefault("state", {})
        state["form_token"] = self.token_for(session)
        # No origin named (or "null"): the route must find this session's token in the form.
        state["form_token_required"] = is_page and headers.get("origin", "null") == "null"
        if _same(headers.get(FORM_HEADER), state["form_token"]):
            state["form_token_required"] = False
        static = path.startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                out = list(message.get("headers", []))
                out += SECURITY_HEADERS
                if not static and not any(k.lower() == b"cache-control" for k, _ in out):
                    out.append(NO_STORE)
                if new and is_page:
                    cookie = (
                        f"{SESSION_COOKIE}={session}; Path=/; HttpOnly; SameSite=Strict"
                    ).encode("latin-1")
                    out.append((b"set-cookie", cookie))
                message["headers"] = out
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def token_for(self, session: str) -> str:
        return hmac.new(self.secret, session.encode(), hashlib.sha256).hexdigest()[:40]


def check_form_token(request: Request, value: str | None) -> None:
    """Raise `FormTokenError` unless the request named its own origin (checked by the guard) or
    `value` is this session's form token."""
    state = request.scope.get("state", {})
    if not state.get("form_token_required", False):
        return
    if not _same(value, state.get("form_token", "")):
        raise FormTokenError


def _same(given: str | None, expected: str) -> bool:
    """Constant-time comparison of a token (as bytes: any text may arrive in a form)."""
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode())


def _session_of(cookie_header: str) -> tuple[str, bool]:
    """The session id from the Cookie header, or a new one (True)."""
    try:
        cookies = SimpleCookie(cookie_header)
    except CookieError:
        cookies = SimpleCookie()
    morsel = cookies.get(SESSION_COOKIE)
    value = morsel.value if morsel is not None else ""
    if 20 <= len(value) <= 64 and value.replace("-", "").replace("_", "").isalnum():
        return value, False
    return secrets.token_urlsafe(32), True


def _cross_site(headers: dict[str, str], scope: Scope, host: str) -> bool:
    """Whether the browser says this request comes from another origin. `Origin: null` is not
    proof either way: browsers send it for our own forms too, since our pages' referrer policy is
    `no-referrer` (as for sandboxed frames and file: pages); such a request needs the token."""
    if headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
        return True  # cross-site, or same-site: another port or subdomain is another origin
    scheme = str(scope.get("scheme", "http"))
    source = headers.get("origin")
    if source in (None, "null"):
        source = headers.get("referer")
    if source is None:
        return False
    parts = urlsplit(source)
    return (parts.scheme, parts.netloc.lower()) != (scheme, host.lower())


async def _refuse(send: Send, status: int, message: str, page: bool) -> None:
    """A short answer that needs no app: HTML for pages, the API's JSON error shape for it."""
    if page:
        body = (
            "<!doctype html><meta charset=utf-8><title>Refused</title>"
            f"<h1>Refused</h1><p>{message}</p>"
        ).encode()
        kind = b"text/html; charset=utf-8"
    else:
        body = json.dumps(error_body("refused", message)).encode()
        kind = b"application/json"
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", kind),
                (b"content-length", str(len(body)).encode()),
                NO_STORE,
                *SECURITY_HEADERS,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
