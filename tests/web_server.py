"""Run the real app with uvicorn in a thread, on a free port, for browser tests and screenshots."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient

from unmask.server.guard import FORM_HEADER
from unmask.server.limits import ServerLimits
from unmask.server.run import bind, make_server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(app: FastAPI, limits: ServerLimits | None = None) -> Iterator[str]:
    """The app served as `unmask serve` serves it (its limits, deadlines and protocol) at the
    yielded base URL until the block ends (then shut down cleanly, which runs the app's
    shutdown: uploads are deleted)."""
    sock = bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    server = make_server(app, limits)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the server did not start")
        time.sleep(0.05)
    try:
        httpx.get(base + "/", timeout=5).raise_for_status()
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


FORM_TOKEN = re.compile(r'name="form_token" value="([^"]+)"')


@contextmanager
def page_client(app: FastAPI, **options: Any) -> Iterator[TestClient]:
    """A TestClient that talks to the app as its own pages do: at a loopback host name, with the
    session's form token (read from the upload page) sent with every form."""
    with TestClient(app, base_url="http://127.0.0.1", **options) as client:
        found = FORM_TOKEN.search(client.get("/").text)
        assert found, "the upload page carries the session's form token"
        client.headers[FORM_HEADER] = found.group(1)
        yield client
