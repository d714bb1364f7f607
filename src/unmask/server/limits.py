"""How long and how much `unmask serve` waits for a client, so slow or idle connections cannot
hold it: a deadline for a request's headers, one for each piece of its body, and how many
connections are served at once.

uvicorn (with h11) closes an idle kept-alive connection after `timeout_keep_alive`, but has no
deadline for a request whose headers or body never finish: measured on 0.1, a client that sends
half its headers, or a Content-Length and then nothing, kept its connection (and an upload's
file) open indefinitely. `header_deadline_protocol` and `BodyDeadline` close both gaps.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from dataclasses import dataclass
from typing import Any

from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

HEADER_TIMEOUT_S = 20.0
"""A request's headers must arrive within this long of the connection opening (or of the
previous answer on a kept-alive connection). Browsers send them in one packet."""
BODY_IDLE_TIMEOUT_S = 30.0
"""Longest wait for the next piece of a request body. A phone upload over a poor link sends a
piece every few hundred milliseconds; a stalled one is dropped and its partial file deleted."""
KEEP_ALIVE_S = 5.0
"""uvicorn's own default for an idle kept-alive connection."""
LIMIT_CONCURRENCY = 100
"""Connections and tasks served at once; beyond it uvicorn answers 503 at once (no queueing).
With one scan at a time and a queue of 16, 100 leaves room for progress polls of every queued
file from several tabs."""
GRACEFUL_SHUTDOWN_S = 5.0
"""At Ctrl+C, SIGTERM or SIGHUP, requests still running (an upload in flight) get this long, then
are cancelled, so that the shutdown that deletes every upload always runs."""
MAX_API_BODY_BYTES = 16 << 20
"""Largest JSON body of a REST call. 10,000 PDQ entries (the most one call adds) are about
2 MB; vPDQ entries of ten-minute videos are about 60 KB each, so such a batch is split."""
TIMED_OUT = "body_timed_out"
"""Key in the ASGI scope's state set when a body deadline passed."""
STOPPED = "server_stopping"
"""Key in the ASGI scope's state set when a body was cut short because the server stops."""
STOP_POLL_S = 0.25
"""How often a body still arriving checks its deadline and whether the server is stopping."""


@dataclass(frozen=True)
class ServerLimits:
    """The connection limits handed to uvicorn (see the constants). The body deadline belongs to
    the app (`WebConfig.body_idle_timeout_s`), since the app reads the body."""

    header_timeout_s: float = HEADER_TIMEOUT_S
    keep_alive_s: float = KEEP_ALIVE_S
    limit_concurrency: int = LIMIT_CONCURRENCY
    graceful_shutdown_s: float = GRACEFUL_SHUTDOWN_S

    def uvicorn_options(self) -> dict[str, Any]:
        return {
            "http": header_deadline_protocol(self.header_timeout_s),
            "timeout_keep_alive": self.keep_alive_s,
            "limit_concurrency": self.limit_concurrency,
            "timeout_graceful_shutdown": self.graceful_shutdown_s,
        }


class BodyDeadline:
    """ASGI middleware: a request whose next body piece does not come within `timeout_s`, or
    that is still receiving when the server is asked to stop (`stopping` is set), is ended as if
    the client had gone: the app sees `http.disconnect`, so a streamed upload stops, its partial
    file is removed and it answers at once. `scope["state"]` says which (`TIMED_OUT`,
    `STOPPED`). Without the second, an upload in flight held a stopping server until uvicorn's
    graceful-shutdown time ran out and it cancelled the request with a traceback. A request
    that is not receiving (a report being made) and is cancelled that way answers 503."""

    def __init__(
        self,
        app: ASGIApp,
        timeout_s: float = BODY_IDLE_TIMEOUT_S,
        stopping: threading.Event | None = None,
    ) -> None:
        self.app = app
        self.timeout_s = timeout_s
        self.stopping = stopping or threading.Event()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body_done = False

        async def receive_in_time() -> Message:
            nonlocal body_done
            if body_done:  # only the body has a deadline; later waits are for a disconnect
                return await receive()
            pending = asyncio.ensure_future(receive())
            waited = 0.0
            while not pending.done():
                await asyncio.wait({pending}, timeout=STOP_POLL_S)
                waited += STOP_POLL_S
                if not pending.done() and (self.stopping.is_set() or waited >= self.timeout_s):
                    pending.cancel()
                    why = STOPPED if self.stopping.is_set() else TIMED_OUT
                    scope.setdefault("state", {})[why] = True
                    body_done = True
                    return {"type": "http.disconnect"}
            message = pending.result()
            if message["type"] != "http.request" or not message.get("more_body", False):
                body_done = True
            return message

        started = False

        async def send_noting_start(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive_in_time, send_noting_start)
        except asyncio.CancelledError:
            if not self.stopping.is_set():
                raise
            # uvicorn cancels what still runs when the graceful-shutdown time is over (a report
            # being laid out): answer that the server stops, instead of a logged traceback.
            if not started:
                body = {"error": {"code": "stopping", "message": "the server is stopping"}}
                with contextlib.suppress(Exception):
                    await JSONResponse(body, status_code=503)(scope, receive, send)


class ApiBodyCap:
    """ASGI middleware: a REST request body that is not an upload (JSON: hashes to add or look
    up) may hold at most `max_bytes`. FastAPI reads such a body into memory before any route
    or key check runs, so a caller without a key could otherwise make the server hold
    hundreds of MB. Refused from Content-Length before reading, or once the count passes the cap
    when the body is sent in chunks."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_API_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        if scope["type"] != "http" or not path.startswith("/v1/"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        if headers.get(b"content-type", b"").startswith(b"multipart/form-data"):
            await self.app(scope, receive, send)  # uploads: the upload size limit applies
            return
        length = headers.get(b"content-length", b"")
        if length.isdigit() and int(length) > self.max_bytes:
            await JSONResponse(self._error(), status_code=413)(scope, receive, send)
            return
        received = 0

        async def receive_capped() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                raise HTTPException(413, self._error()["error"]["message"])
            return message

        await self.app(scope, receive_capped, send)

    def _error(self) -> dict[str, Any]:
        return {
            "error": {
                "code": "too_large",
                "message": f"this request body is larger than {self.max_bytes >> 20} MiB",
                "hint": "send fewer entries per call",
            }
        }


def header_deadline_protocol(timeout_s: float) -> type[H11Protocol]:
    """uvicorn's h11 protocol, closing a connection whose request headers do not arrive in time."""

    class HeaderDeadlineH11(H11Protocol):
        _deadline: asyncio.TimerHandle | None = None

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self._arm()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _arm(self) -> None:
            self._disarm()
            self._deadline = self.loop.call_later(timeout_s, self._expired)

        def _disarm(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _expired(self) -> None:
            self._deadline = None
            # A request under way has its headers; its body has BodyDeadline.
            if self.cycle is None or self.cycle.response_complete:
                self.transport.close()

    return HeaderDeadlineH11
