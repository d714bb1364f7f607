"""Running `unmask serve`: bind the port first (a taken port is a clear error, not uvicorn's),
then serve with the limits of `unmask.server.limits`, stopping cleanly on Ctrl+C, SIGTERM and
SIGHUP (a closed terminal), so that the app's shutdown deletes every upload.

uvicorn handles SIGINT and SIGTERM; SIGHUP's default action ends the process on the spot, which
on 0.1 left 18 of 19 uploaded files behind. Here it is one more way to ask for a clean stop.
"""

from __future__ import annotations

import errno
import signal
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

import uvicorn
from fastapi import FastAPI

from unmask.errors import UnmaskError
from unmask.server.limits import ServerLimits

LOG_LEVEL = "warning"


class PortTakenError(UnmaskError):
    code = "port_taken"


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on (host, port), or `UnmaskError` saying why not in plain words."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        # As uvicorn does: a port left in TIME_WAIT by a server just stopped can be reused,
        # one that another program listens on cannot.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise PortTakenError(
                f"port {port} on {host} is already taken by another program (perhaps another "
                "unmask serve)",
                f"stop that program, or choose another port: unmask serve --port {port + 1}",
            ) from None
        if exc.errno == errno.EACCES:
            raise UnmaskError(
                f"this user may not listen on port {port}",
                "choose a port above 1023, e.g. --port 8000",
            ) from None
        raise UnmaskError(
            f"cannot listen on {host}:{port} ({exc.strerror or exc})",
            "check --host: it must be an address of this computer, e.g. 127.0.0.1",
        ) from None
    sock.set_inheritable(True)
    return sock


class CleanStopServer(uvicorn.Server):
    """uvicorn's server, which also stops cleanly on SIGHUP, and tells the app when it is asked
    to stop (`app.state.stopping`) so that uploads still arriving end at once."""

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        stopping = getattr(getattr(self.config.app, "state", None), "stopping", None)
        if stopping is not None:
            stopping.set()
        super().handle_exit(sig, frame)

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            with super().capture_signals():
                yield
            return
        previous = signal.signal(signal.SIGHUP, self.handle_exit)
        try:
            with super().capture_signals():
                yield
        finally:
            signal.signal(signal.SIGHUP, previous)


def make_server(app: FastAPI, limits: ServerLimits | None = None) -> CleanStopServer:
    config = uvicorn.Config(
        app, log_level=LOG_LEVEL, **(limits or ServerLimits()).uvicorn_options()
    )
    return CleanStopServer(config)


def serve(app: FastAPI, sock: socket.socket, limits: ServerLimits | None = None) -> None:
    """Serve `app` on a socket from `bind` until stopped; the app's shutdown then runs."""
    make_server(app, limits).run(sockets=[sock])
