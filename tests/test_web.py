"""The web pages of `unmask serve`: upload, progress, result, blurred pictures, limits, deletion,
and the bank pages. Runs the app in-process with FastAPI's TestClient."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import worker_tasks
from face_model_factory import write_model
from fastapi import FastAPI
from fastapi.testclient import TestClient
from media_factory import EXAMPLE, gradient, truncated, write_video
from PIL import Image, ImageFilter
from test_face_swap import write_face_video
from web_server import free_port, page_client

from unmask import hashing
from unmask.bank.store import BankStore
from unmask.config import ScanConfig
from unmask.report.pictures import PREVIEW_SIDE
from unmask.result import ScanResult
from unmask.scan import Scanner
from unmask.server import create_app
from unmask.server.web import ScanQueue, WebConfig
from unmask.server.web.folders import OWNER_FILE

JSON = {"Accept": "application/json"}
PDQ_A = "e64cc9d91c623882f8d1f1d9a398e78c9f199b3bd83924f2b7e11e0bf861b064"


def make_app(tmp_path: Path, **options: Any) -> FastAPI:
    store = BankStore(f"sqlite:///{tmp_path}/bank.sqlite3")
    web = WebConfig(**{"frames": 8, "upload_dir": tmp_path / "uploads", **options})
    return create_app(store, web=web)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with page_client(make_app(tmp_path)) as c:
        yield c


def upload(client: TestClient, *files: tuple[str, bytes], as_json: bool = True) -> Any:
    parts = [("files", (name, data, "application/octet-stream")) for name, data in files]
    return client.post("/upload", files=parts, headers=JSON if as_json else {})


def wait_done(client: TestClient, job_id: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = client.get(f"/jobs/{job_id}/status").json()
        if status["finished"]:
            return status
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish")


def scan_one(client: TestClient, name: str, data: bytes) -> tuple[str, str]:
    """Upload one file, wait for it, return (job id, result page HTML)."""
    response = upload(client, (name, data))
    assert response.status_code == 202, response.text
    job_id = response.json()["jobs"][0]["id"]
    wait_done(client, job_id)
    page = client.get(f"/jobs/{job_id}")
    assert page.status_code == 200
    return job_id, page.text


def kept(root: Path) -> list[str]:
    """What a server keeps in its upload folder, but the file naming the server's process."""
    return sorted(set(os.listdir(root)) - {OWNER_FILE})


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&#39;", "'")


# -- pages ---------------------------------------------------------------------------------


def test_upload_page_says_what_will_and_will_not_be_shown_before_anything_is(client: TestClient):
    page = client.get("/")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "not sent anywhere" in text
    assert "blurred" in text and "Reveal" in text
    assert "cannot prove that a file is unaltered" in text
    assert 'for="files"' in page.text  # the file input has a label
    assert "default-src 'self'" in page.headers["content-security-policy"]
    for external in ("http://", "https://"):
        assert external not in page.text.replace("http://www.w3.org", "")


def test_a_picture_gets_the_verdict_reasons_and_cover_in_the_words_of_the_cli(
    client: TestClient,
):
    expected = Scanner(ScanConfig(keep_maps=True, frames=8)).scan(EXAMPLE).verdict
    assert expected is not None
    _, html = scan_one(client, "astronaut.jpg", EXAMPLE.read_bytes())
    text = text_of(html)
    assert expected.headline.replace("'", "'") in text
    for line in expected.not_covered + expected.reasons:
        assert line in text
    assert "Create evidence report" in text and "/report" in html
    assert "Delete now" in text
    lowered = text.lower()
    assert "authentic" not in lowered and "genuine" not in lowered


def test_previews_are_blurred_and_the_sharp_picture_is_only_at_its_own_url(client: TestClient):
    job_id, html = scan_one(client, "astronaut.jpg", EXAMPLE.read_bytes())
    sources = re.findall(r'<img[^>]* src="([^"]+)"', html)
    assert f"/jobs/{job_id}/images/preview" in sources
    assert any("forensics-ela" in s for s in sources)  # forensic maps are there
    assert all(not s.endswith("/sharp") for s in sources)  # nothing sharp in the page
    assert html.count('class="reveal"') == len(sources)
    for src in sources:
        blurred = Image.open(io.BytesIO(client.get(src).content))
        sharp = Image.open(io.BytesIO(client.get(src + "/sharp").content))
        assert max(blurred.size) <= PREVIEW_SIDE
        # The blurred picture has almost no fine detail left: compare edge energy.
        assert _detail(blurred) < _detail(sharp.resize(blurred.size)) / 3
    assert client.get(f"/jobs/{job_id}/images/nope").status_code == 404


def _detail(picture: Image.Image) -> float:
    """Fine detail: how far the picture is from a slightly blurred copy of itself."""
    gray = picture.convert("L")
    smooth = gray.filter(ImageFilter.GaussianBlur(2))
    diff = np.asarray(gray, dtype=np.float64) - np.asarray(smooth, dtype=np.float64)
    return float(np.abs(diff).mean())


def test_a_video_with_the_face_model_shows_face_heatmaps_and_a_timeline_chart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("UNMASK_FACE_SWAP_MODEL", str(write_model(tmp_path / "model")))
    tints = [(1.0, 1.0, 1.0), (1.3, 0.8, 0.6), (0.6, 0.8, 1.3)]
    video = write_face_video(tmp_path / "faces.mp4", tints)
    with page_client(make_app(tmp_path)) as client:
        _, html = scan_one(client, "faces.mp4", video.read_bytes())
    assert '<svg class="timeline"' in html
    assert len(re.findall(r"<circle ", html)) >= 6  # one point per sampled frame
    assert "face_swap-heatmap_track" in html
    assert "Manipulation probability" in html
    assert "The values as a table" in html


def test_a_corrupt_file_shows_its_error_and_hint_while_the_app_keeps_serving(
    client: TestClient, tmp_path: Path
):
    broken = truncated(write_video(tmp_path / "v.mp4"), tmp_path / "broken.mp4", keep=0.3)
    expected = Scanner(ScanConfig(frames=8)).scan(broken).error
    assert expected is not None
    job_id, html = scan_one(client, "broken.mp4", broken.read_bytes())
    text = text_of(html)
    assert "This file could not be checked" in text
    assert expected.message.replace("'", "'") in text
    assert "Traceback" not in html
    good_id, _ = scan_one(client, "ok.png", _png(gradient()))
    assert client.get(f"/jobs/{good_id}/status").json()["state"] == "done"
    assert client.get(f"/jobs/{job_id}/status").json()["state"] == "error"


def _png(rgb: Any) -> bytes:
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, "PNG")
    return out.getvalue()


@pytest.mark.parametrize(
    ("files", "status", "message"),
    [
        ([], 400, "No file was chosen"),
        ([("empty.jpg", b"")], 400, "is empty (0 bytes)"),
        ([("notes.txt", b"hello, this is text\n" * 20)], 415, "not a picture or video"),
    ],
)
def test_bad_uploads_get_a_clear_message_on_the_page_never_a_traceback(
    client: TestClient, files: list[tuple[str, bytes]], status: int, message: str
):
    page = upload(client, *files, as_json=False)
    assert page.status_code == status
    assert "text/html" in page.headers["content-type"]
    assert message in text_of(page.text) and "Traceback" not in page.text
    answer = upload(client, *files)
    assert answer.status_code == status and message in answer.json()["error"]["message"]
    assert kept(client.app.state.scans.root) == []  # nothing kept


def test_an_upload_over_the_size_limit_is_refused_with_the_limit(tmp_path: Path):
    with page_client(make_app(tmp_path, max_upload_bytes=4096)) as client:
        page = upload(client, ("big.png", _png(gradient(200, 200))), as_json=False)
        assert page.status_code == 413
        assert "too large" in page.text and "4 KB" in page.text
        assert kept(client.app.state.scans.root) == []


class SlowScanner:
    """Stands in for Scanner: each scan waits until the test lets it finish."""

    def __init__(self, release: threading.Event) -> None:
        self.config = ScanConfig()
        self.release = release

    def scan(self, path: Path, display_name: str | None = None) -> ScanResult:
        self.release.wait(30)
        return Scanner(ScanConfig(detectors=("metadata",))).scan(path, display_name)


def test_a_full_queue_answers_busy_and_try_again_shortly(tmp_path: Path):
    release = threading.Event()
    app = make_app(tmp_path, workers=1, queue_size=1)
    config = app.state.scans.config
    app.state.scans = ScanQueue(config, lambda: SlowScanner(release))  # type: ignore[arg-type,return-value]
    picture = ("a.png", _png(gradient()))
    with page_client(app) as client:
        first = upload(client, picture).json()["jobs"][0]["id"]
        second = upload(client, picture).json()["jobs"][0]["id"]
        busy = upload(client, picture, as_json=False)
        assert busy.status_code == 503 and busy.headers["retry-after"]
        assert "busy" in busy.text and "try again" in busy.text
        status = client.get(f"/jobs/{second}/status").json()
        assert status["state"] == "queued" and status["position"] == 1
        release.set()
        assert wait_done(client, first)["state"] == "done"
        assert wait_done(client, second)["state"] == "done"
        assert upload(client, picture).status_code == 202


def test_delete_now_removes_the_upload_and_everything_made_from_it(client: TestClient):
    job_id, _ = scan_one(client, "astronaut.jpg", EXAMPLE.read_bytes())
    folder = client.app.state.scans.get(job_id).folder
    assert any(folder.iterdir())
    page = client.post(f"/jobs/{job_id}/delete")
    assert page.status_code == 200 and "Deleted." in page.text
    assert not folder.exists()
    gone = client.get(f"/jobs/{job_id}")
    assert gone.status_code == 404 and "not here any more" in gone.text
    assert client.get(f"/jobs/{job_id}/images/preview/sharp").status_code == 404


def test_finished_jobs_are_deleted_after_the_retention_time(client: TestClient):
    job_id, _ = scan_one(client, "astronaut.jpg", EXAMPLE.read_bytes())
    scans = client.app.state.scans
    folder = scans.get(job_id).folder
    assert scans.sweep() == []  # not yet
    assert scans.sweep(now=time.time() + scans.config.retention_s + 1) == [job_id]
    assert not folder.exists() and scans.get(job_id) is None


def test_uploads_live_in_a_private_folder_removed_at_shutdown(tmp_path: Path):
    with page_client(make_app(tmp_path)) as client:
        job_id, _ = scan_one(client, "astronaut.jpg", EXAMPLE.read_bytes())
        root = client.app.state.scans.root
        assert root.stat().st_mode & 0o777 == 0o700
        assert client.app.state.scans.get(job_id).folder.stat().st_mode & 0o777 == 0o700
    assert not root.exists()


def test_pages_get_html_errors_and_the_api_keeps_its_json_errors(client: TestClient):
    page = client.get("/no-such-page")
    assert page.status_code == 404 and "text/html" in page.headers["content-type"]
    api = client.get("/v1/banks")
    assert api.status_code == 401 and set(api.json()["error"]) == {"code", "message", "hint"}
    assert client.get("/progress?job=unknown").status_code == 404


def test_a_bug_behind_a_page_shows_a_plain_page_never_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    from unmask.server.web import views

    def broken(_: object) -> None:
        raise RuntimeError("kaboom-42")

    monkeypatch.setattr(views, "faces", broken)
    with page_client(make_app(tmp_path), raise_server_exceptions=False) as client:
        job_id, _ = scan_one_status(client, "astronaut.jpg", EXAMPLE.read_bytes())
        page = client.get(f"/jobs/{job_id}")
        assert page.status_code == 500 and "text/html" in page.headers["content-type"]
        assert "Unmask failed while answering this page" in page.text
        assert "Traceback" not in page.text and "kaboom-42" not in page.text
        assert client.get("/").status_code == 200


def scan_one_status(client: TestClient, name: str, data: bytes) -> tuple[str, dict[str, Any]]:
    job_id = upload(client, (name, data)).json()["jobs"][0]["id"]
    return job_id, wait_done(client, job_id)


# -- bank pages ----------------------------------------------------------------------------


def _bank_app(tmp_path: Path) -> tuple[FastAPI, BankStore, str]:
    """An app whose bank store holds the bank "ncii" and a helper's key to write and match."""
    app = make_app(tmp_path)
    store: BankStore = app.state.store
    store.create_bank("ncii", "test bank")
    return app, store, store.create_key("helper", ["write", "match"], ["ncii"])


def test_bank_pages_need_a_key_then_add_hashes_and_match_them(tmp_path: Path):
    app, _store, key = _bank_app(tmp_path)
    with page_client(app) as client:
        assert "API key" in client.get("/bank").text
        wrong = client.post("/bank/key", data={"api_key": "nope"})
        assert wrong.status_code == 401 and "not known" in wrong.text
        page = client.post("/bank/key", data={"api_key": key})
        assert page.status_code == 200 and "ncii" in page.text
        assert key not in client.cookies.get("unmask_bank_session", "")
        added = client.post(
            "/bank/add",
            data={"bank": "ncii", "hashes": f"pdq:{PDQ_A}", "labels": "ncii"},
            files=[("files", ("", b"", "application/octet-stream"))],
        )
        assert "Added 1 hash to" in added.text
        picture = ("photo.png", _png(gradient(256, 256)), "image/png")
        added = client.post("/bank/add", data={"bank": "ncii"}, files=[("files", picture)])
        assert "Added 3 hashes" in added.text  # pdq, md5, sha256
        found = client.post("/bank/match", data={"hashes": PDQ_A}, files=[("files", picture)])
        text = text_of(found.text)
        assert "Lookup results" in text and "photo.png" in text
        assert text.count("ncii") >= 3 and "No match" not in text
        assert kept(app.state.scans.root) == []  # files hashed, then deleted
        denied = client.post("/bank/create", data={"name": "x"})
        assert denied.status_code == 403 and "admin" in denied.text
        client.post("/bank/forget")
        assert "Open the bank" in client.get("/bank").text


def test_a_bank_page_upload_that_crashes_the_decoder_is_refused_and_the_server_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    # Hashing runs in a worker process of its own; here that worker crashes as a decoder
    # would on a hostile file.
    monkeypatch.setenv("PYTHONPATH", str(Path(worker_tasks.__file__).parent))
    monkeypatch.setattr(hashing, "hash_in_worker", worker_tasks.crash_hashing)
    app, store, key = _bank_app(tmp_path)
    with page_client(app) as client:
        client.post("/bank/key", data={"api_key": key})
        picture = ("photo.png", _png(gradient(64, 64)), "image/png")
        refused = client.post("/bank/add", data={"bank": "ncii"}, files=[("files", picture)])
        assert refused.status_code == 400
        assert "“photo.png”: the decoder crashed on this file" in text_of(refused.text)
        assert list(store.entries("ncii")) == [] and kept(app.state.scans.root) == []
        pasted = client.post("/bank/match", data={"hashes": PDQ_A})
        assert pasted.status_code == 200 and "Lookup results" in text_of(pasted.text)


def test_a_bank_page_upload_on_a_server_that_cannot_start_a_worker_says_busy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    def no_processes(*_args: object, **_kwargs: object) -> None:
        raise BlockingIOError(11, "Resource temporarily unavailable")  # fork refused

    app, store, key = _bank_app(tmp_path)
    with page_client(app) as client:
        client.post("/bank/key", data={"api_key": key})
        monkeypatch.setattr(subprocess, "Popen", no_processes)
        picture = ("photo.png", _png(gradient(64, 64)), "image/png")
        for route, data in (("/bank/add", {"bank": "ncii"}), ("/bank/match", {})):
            refused = client.post(route, data=data, files=[("files", picture)])
            assert refused.status_code == 503 and refused.headers["Retry-After"] == "30"
            text = text_of(refused.text)
            assert "The server is too busy to read “photo.png” just now" in text
            assert "Try again in 30 seconds" in text
        assert list(store.entries("ncii")) == [] and kept(app.state.scans.root) == []


# -- the command -----------------------------------------------------------------------------


def test_serve_prints_its_local_url_and_deletes_uploads_when_stopped(tmp_path: Path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    uploads = tmp_path / "up"
    command = [sys.executable, "-m", "unmask.cli", "serve", "--port", str(port)]
    command += ["--db", f"sqlite:///{tmp_path}/b.sqlite3", "--upload-dir", str(uploads)]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert proc.stdout is not None
        assert f"{base}/" in proc.stdout.readline()
        deadline = time.monotonic() + 30
        while True:
            try:
                assert httpx.get(base + "/").status_code == 200
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline
                time.sleep(0.2)
        files = {"files": ("a.png", _png(gradient()), "image/png")}
        headers = {**JSON, "Origin": base}  # as the page itself sends it
        job = httpx.post(base + "/upload", files=files, headers=headers).json()["jobs"][0]
        while not httpx.get(base + job["status_url"]).json()["finished"]:
            time.sleep(0.2)
        assert any(uploads.rglob("upload.png"))
    finally:
        proc.terminate()  # SIGTERM: the server shuts down cleanly
        proc.wait(timeout=30)
    assert list(uploads.iterdir()) == []


def test_serve_defaults_are_the_web_config_defaults():
    from unmask.bank.cli import serve_command
    from unmask.server.web import config

    defaults = {p.name: p.default for p in serve_command.params}
    assert defaults["workers"] == config.DEFAULT_WORKERS
    assert defaults["queue_size"] == config.DEFAULT_QUEUE_SIZE
    assert defaults["max_upload_mb"] * 1024**2 == config.DEFAULT_MAX_UPLOAD_BYTES
    assert defaults["keep_minutes"] * 60 == config.DEFAULT_RETENTION_S
    assert defaults["frames"] == config.DEFAULT_FRAMES
    assert defaults["host"] == "127.0.0.1"


def test_a_multi_file_upload_shows_each_files_answer_on_one_page(client: TestClient):
    answer = upload(
        client,
        ("astronaut.jpg", EXAMPLE.read_bytes()),
        ("broken.jpg", EXAMPLE.read_bytes()[:2000]),
    ).json()
    ids = [job["id"] for job in answer["jobs"]]
    statuses = [wait_done(client, job_id) for job_id in ids]
    page = client.get(answer["progress_url"]).text
    expected = Scanner(ScanConfig(frames=8)).scan(EXAMPLE).verdict
    assert expected is not None
    assert statuses[0]["verdict"] == expected.headline
    assert statuses[1]["verdict"].startswith("Could not be checked: ")
    lines = re.findall(r'<p class="verdict-line">(.*?)</p>', page, re.S)
    assert len(lines) == 2
    assert text_of(lines[0]).strip() == text_of(expected.headline).strip()
    assert "Could not be checked" in lines[1]
