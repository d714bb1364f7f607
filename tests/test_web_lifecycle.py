"""`unmask serve` as a real process: uploads and everything made from them are deleted when it
stops (Ctrl+C/SIGTERM, a closed terminal/SIGHUP, also with an upload in flight), after the
retention time, and, after a SIGKILL, by the next server at its start. A taken port is a clear
error."""

from __future__ import annotations

import io
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from media_factory import gradient
from PIL import Image
from web_server import free_port

from unmask.server.web.folders import OWNER_FILE, PREFIX

START_TIMEOUT_S = 90
STOP_TIMEOUT_S = 60
"""Generous: a clean stop takes about a second, at most the graceful-shutdown time (5 s) more."""


def picture() -> bytes:
    out = io.BytesIO()
    Image.fromarray(gradient(128, 128)).save(out, "PNG")
    return out.getvalue()


@contextmanager
def server(
    tmp_path: Path, uploads: Path, *extra: str, port: int | None = None
) -> Iterator[tuple[subprocess.Popen[str], str]]:
    port = port or free_port()
    base = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "unmask.cli", "serve", "--port", str(port)]
    command += ["--db", f"sqlite:///{tmp_path}/bank.sqlite3", "--upload-dir", str(uploads)]
    proc = subprocess.Popen(
        [*command, *extra], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            assert proc.poll() is None, proc.communicate()[0]
            try:
                if httpx.get(base + "/", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "unmask serve did not start"
            time.sleep(0.2)
        yield proc, base
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def scan(base: str) -> str:
    """Upload a picture as the page does and wait for its result; returns the job id."""
    headers = {"Accept": "application/json", "Origin": base}
    files = {"files": ("photo.png", picture(), "image/png")}
    answer = httpx.post(base + "/upload", files=files, headers=headers, timeout=30)
    assert answer.status_code == 202, answer.text
    job = answer.json()["jobs"][0]
    deadline = time.monotonic() + 120
    while not httpx.get(base + job["status_url"], timeout=10).json()["finished"]:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    return str(job["id"])


def files_under(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


def stop(proc: subprocess.Popen[str], sig: signal.Signals) -> None:
    proc.send_signal(sig)
    proc.wait(timeout=STOP_TIMEOUT_S)


def start_upload(base: str, size: int = 4 << 20) -> socket.socket:
    """An upload left in flight: headers and the first part of its body, then nothing."""
    host, port = base.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=30)
    head = (
        f"POST /upload HTTP/1.1\r\nHost: {host}:{port}\r\nOrigin: {base}\r\n"
        f"Content-Type: multipart/form-data; boundary=b\r\nContent-Length: {size}\r\n\r\n"
        '--b\r\nContent-Disposition: form-data; name="files"; filename="big.png"\r\n\r\n'
    )
    sock.sendall(head.encode() + picture() + bytes(256 << 10))
    return sock


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP], ids=str)
def test_stopping_the_server_deletes_every_upload_even_one_in_flight(
    tmp_path: Path, sig: signal.Signals
):
    uploads = tmp_path / "uploads"
    with server(tmp_path, uploads) as (proc, base):
        job_id = scan(base)
        folder = next(uploads.glob(PREFIX + "*"))
        assert any(p.name.startswith("upload") for p in (folder / job_id).iterdir())
        in_flight = start_upload(base)
        deadline = time.monotonic() + 30
        while not list(folder.glob("upload-*/part-0")):  # the partial file is on disk
            assert time.monotonic() < deadline
            time.sleep(0.1)
        stop(proc, sig)
        in_flight.close()
        assert "Traceback" not in (proc.stdout.read() if proc.stdout else "")
    assert files_under(uploads) == []


def test_after_a_sigkill_the_next_server_removes_what_the_killed_one_left(tmp_path: Path):
    uploads = tmp_path / "uploads"
    with server(tmp_path, uploads) as (proc, base):
        scan(base)
        stop(proc, signal.SIGKILL)
    left = list(uploads.glob(PREFIX + "*"))
    assert len(left) == 1 and (left[0] / OWNER_FILE).exists()  # SIGKILL allows no clean-up
    with server(tmp_path, uploads) as (proc, base):
        assert not left[0].exists()  # swept before the server answered
        job_id = scan(base)
        mine = next(uploads.glob(PREFIX + "*"))
        assert (mine / job_id).is_dir()
        stop(proc, signal.SIGTERM)
    assert files_under(uploads) == []


def test_a_running_servers_folder_is_never_swept_by_another(tmp_path: Path):
    uploads = tmp_path / "uploads"
    with server(tmp_path, uploads) as (first, base):
        job_id = scan(base)
        with server(tmp_path, uploads) as (second, _):
            stop(second, signal.SIGTERM)
        assert httpx.get(f"{base}/jobs/{job_id}", timeout=10).status_code == 200
        stop(first, signal.SIGTERM)
    assert files_under(uploads) == []


def test_uploads_are_deleted_after_the_retention_time(tmp_path: Path):
    uploads = tmp_path / "uploads"
    with server(tmp_path, uploads, "--keep-minutes", "0.03") as (proc, base):
        job_id = scan(base)
        deadline = time.monotonic() + 60
        while httpx.get(f"{base}/jobs/{job_id}/status", timeout=10).status_code != 404:
            assert time.monotonic() < deadline, "the job outlived its retention time"
            time.sleep(0.5)
        folder = next(uploads.glob(PREFIX + "*"))
        assert files_under(folder) == [OWNER_FILE]
        stop(proc, signal.SIGTERM)


def test_a_taken_port_is_a_clear_error(tmp_path: Path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        command = [sys.executable, "-m", "unmask.cli", "serve", "--port", str(port)]
        command += ["--db", f"sqlite:///{tmp_path}/b.sqlite3"]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    said = " ".join(result.stderr.split())
    assert f"port {port} on 127.0.0.1 is already taken by another program" in said
    assert f"--port {port + 1}" in said
    assert "running at" not in result.stdout and "Traceback" not in result.stderr
