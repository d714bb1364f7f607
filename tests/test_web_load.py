"""A bounded load test of the served app on 127.0.0.1: 50 parallel uploads, 20 uploads that
stall part-way and 5 connections that never finish their headers. The server keeps answering,
refuses what does not fit with "busy", drops the stalled ones at their deadline, and keeps
nothing on disk afterwards. Every wait is bounded; nothing is timed."""

from __future__ import annotations

import asyncio
import io
import signal
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from media_factory import gradient
from PIL import Image
from test_web import kept
from test_web_security import fast_app
from web_server import serving

from unmask.server.limits import ServerLimits
from unmask.server.run import bind, make_server

PARALLEL = 50
STALLED = 20
HEADERS_ONLY = 5
DEADLINE_S = 2.0
"""The header and body deadlines for this test (the served defaults are 20 and 30 s)."""
WAIT_S = 60.0
"""Upper bound for any one wait: generous, so a slow shared machine does not fail the test."""


def picture(seed: int) -> bytes:
    out = io.BytesIO()
    Image.fromarray(gradient(64 + seed, 64)).save(out, "PNG")
    return out.getvalue()


def open_stalled(base: str, full_headers: bool) -> socket.socket:
    host, port = base.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=WAIT_S)
    if full_headers:
        head = (
            f"POST /upload HTTP/1.1\r\nHost: {host}:{port}\r\nOrigin: {base}\r\n"
            "Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 200000\r\n\r\n"
            '--b\r\nContent-Disposition: form-data; name="files"; filename="slow.png"\r\n\r\n'
        )
        sock.sendall(head.encode() + picture(0)[:1000])
    else:
        sock.sendall(f"POST /upload HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Le".encode())
    return sock


def answer_of(sock: socket.socket) -> bytes:
    """What the server says before it closes the connection (b"" when it just closes it)."""
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except (TimeoutError, ConnectionResetError):
        pass
    finally:
        sock.close()
    return data


def test_the_server_keeps_answering_under_parallel_and_stalled_uploads(tmp_path: Path):
    app = fast_app(tmp_path, body_idle_timeout_s=DEADLINE_S, max_upload_bytes=1 << 20)
    limits = ServerLimits(header_timeout_s=DEADLINE_S, graceful_shutdown_s=DEADLINE_S)
    uploads = tmp_path / "uploads"
    with serving(app, limits) as base:
        stalled = [open_stalled(base, full_headers=True) for _ in range(STALLED)]
        stalled += [open_stalled(base, full_headers=False) for _ in range(HEADERS_ONLY)]

        def send(seed: int) -> tuple[int, list[str]]:
            files = {"files": (f"p{seed}.png", picture(seed), "image/png")}
            headers = {"Accept": "application/json", "Origin": base}
            with httpx.Client(timeout=WAIT_S) as client:
                answer = client.post(base + "/upload", files=files, headers=headers)
            ids = [j["id"] for j in answer.json().get("jobs", [])]
            return answer.status_code, ids

        with ThreadPoolExecutor(PARALLEL) as pool:
            results = list(pool.map(send, range(PARALLEL)))
        statuses = [status for status, _ in results]
        accepted = [job_id for _, ids in results for job_id in ids]
        # Each accepted, or refused as busy when the queue is full; never failed.
        assert set(statuses) <= {202, 503} and 202 in statuses, statuses
        assert len(accepted) == statuses.count(202)
        # While the stalled connections are still open, the pages answer.
        assert httpx.get(base + "/", timeout=WAIT_S).status_code == 200
        answers = [answer_of(sock) for sock in stalled]
        for answer in answers[:STALLED]:  # stalled bodies: a clear answer, then closed
            assert answer.startswith(b"HTTP/1.1 408"), answer[:100]
            assert b"stalled" in answer
        assert answers[STALLED:] == [b""] * HEADERS_ONLY  # unfinished headers: closed
        root = app.state.scans.root
        deadline = time.monotonic() + WAIT_S
        while not all(app.state.scans.get(j).finished for j in accepted):
            assert time.monotonic() < deadline
            time.sleep(0.1)
        # Only the accepted jobs' folders: no partial file of a stalled or refused upload.
        assert kept(root) == sorted(accepted)
        assert httpx.get(base + "/", timeout=WAIT_S).status_code == 200
    assert list(uploads.iterdir()) == []  # and nothing at all once the server has stopped


def test_beyond_the_connection_limit_the_server_answers_busy_then_recovers(tmp_path: Path):
    limit = 8
    app = fast_app(tmp_path, body_idle_timeout_s=DEADLINE_S)
    limits = ServerLimits(header_timeout_s=DEADLINE_S, limit_concurrency=limit)
    with serving(app, limits) as base:
        # The limit counts open connections, this request's own included.
        stalled = [open_stalled(base, full_headers=True) for _ in range(limit - 1)]
        busy = httpx.get(base + "/", timeout=WAIT_S)
        assert busy.status_code == 503  # refused at once, not queued behind the stalled ones
        answers = [answer_of(sock) for sock in stalled]  # dropped at their body deadline
        assert all(a.startswith(b"HTTP/1.1 408") for a in answers), [a[:40] for a in answers]
        assert httpx.get(base + "/", timeout=WAIT_S).status_code == 200
        assert kept(app.state.scans.root) == []


def test_a_request_still_running_at_shutdown_is_answered_not_logged_as_a_crash(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    app = fast_app(tmp_path)
    started = threading.Event()

    @app.get("/slow-for-test")
    async def slow() -> dict[str, str]:  # stands in for a report being laid out
        started.set()
        await asyncio.sleep(WAIT_S)
        return {}

    sock = bind("127.0.0.1", 0)
    server = make_server(app, ServerLimits(graceful_shutdown_s=0.5))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    with ThreadPoolExecutor(1) as pool:
        deadline = time.monotonic() + WAIT_S
        while not server.started:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        files = {"files": ("a.png", picture(1), "image/png")}
        headers = {"Accept": "application/json", "Origin": base}
        uploaded = httpx.post(base + "/upload", files=files, headers=headers, timeout=WAIT_S)
        assert uploaded.status_code == 202 and kept(app.state.scans.root)
        pending = pool.submit(httpx.get, base + "/slow-for-test", timeout=WAIT_S)
        assert started.wait(WAIT_S)
        server.handle_exit(signal.SIGTERM, None)  # what Ctrl+C or kill does
        answer = pending.result(timeout=WAIT_S)
    thread.join(WAIT_S)
    sock.close()
    assert answer.status_code == 503 and answer.json()["error"]["code"] == "stopping"
    assert "Exception in ASGI application" not in caplog.text
    assert list((tmp_path / "uploads").glob("*")) == []  # the shutdown that deletes files ran
