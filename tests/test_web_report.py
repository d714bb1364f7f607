"""The web app's report pages: the takedown questions, the sealed package to download, and the
page that checks a package someone received."""

from __future__ import annotations

import io
import json
import subprocess
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import worker_tasks
from fastapi.testclient import TestClient
from media_factory import EXAMPLE, write_video
from test_report_received import make_package, rezip
from test_web import kept, make_app, scan_one, text_of
from web_server import page_client

from unmask import hashing, worker
from unmask.media.limits import Limits
from unmask.report.package import zip_package
from unmask.report.received import check_package_at


@pytest.fixture
def client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("UNMASK_HOME", str(tmp_path / "home"))
    with page_client(make_app(tmp_path)) as c:
        yield c


FORM = {
    "found_at": "20 November 2026",
    "full_name": "Jane Example",
    "email": "jane@example.org",
    "platform": "ExampleTube",
    "urls": "https://example.com/a\nhttps://example.com/b",
    "description": "My face edited into a photo.",
    "not_consensual": "yes",
    "notice_take_it_down": "yes",
    "notice_platform": "yes",
}


def make_report(client: TestClient, tmp_path: Path) -> tuple[str, Path]:
    job_id, _ = scan_one(client, "astronaut.jpg", EXAMPLE.read_bytes())
    form = client.get(f"/jobs/{job_id}/report")
    assert form.status_code == 200
    assert 'for="q-email"' in form.text and "[TO FILL IN]" in form.text
    made = client.post(f"/jobs/{job_id}/report", data=FORM)
    assert made.status_code == 200 and "/report/ready" in str(made.url)
    assert "Your evidence report is ready" in made.text
    download = client.get(f"/jobs/{job_id}/report.zip")
    assert download.status_code == 200
    assert download.headers["content-type"] == "application/zip"
    assert "attachment" in download.headers["content-disposition"]
    saved = tmp_path / "downloaded.zip"
    saved.write_bytes(download.content)
    return job_id, saved


def test_the_wizard_writes_a_sealed_package_with_the_answers_and_deletes_the_upload(
    client: TestClient, tmp_path: Path
):
    job_id, saved = make_report(client, tmp_path)
    assert check_package_at(saved).ok
    with zipfile.ZipFile(saved) as archive:
        names = {n.split("/", 1)[1] for n in archive.namelist()}
        top = archive.namelist()[0].split("/", 1)[0]
        evidence = json.loads(archive.read(f"{top}/evidence.json"))
        request = archive.read(f"{top}/takedown/take_it_down.txt").decode()
    assert {"report.pdf", "report.html", "evidence.json", "hashes.csv", "manifest.sig"} <= names
    assert {"takedown/take_it_down.txt", "takedown/platform.txt"} <= names
    assert "takedown/dmca.txt" not in names  # only the requests that were ticked
    assert evidence["sighting"]["urls"] == ["https://example.com/a", "https://example.com/b"]
    assert evidence["sighting"]["found_at"] == "20 November 2026"
    assert evidence["pictures_blurred"] is True
    assert "Jane Example" in request and "https://example.com/b" in request
    maps = {n for n in names if n.startswith("pictures/01-forensics-")}
    assert maps, "the scan's forensic maps are in the report, read back from the job folder"
    job = client.app.state.scans.get(job_id)  # type: ignore[attr-defined]
    assert not job.upload.exists(), "the upload is deleted once the report is made"
    # Delete now removes the package too.
    client.post(f"/jobs/{job_id}/delete")
    assert client.get(f"/jobs/{job_id}/report.zip").status_code == 404


def test_the_check_page_says_intact_and_names_what_was_changed(client: TestClient, tmp_path: Path):
    _, saved = make_report(client, tmp_path)
    files = {"package": ("evidence.zip", saved.read_bytes(), "application/zip")}
    page = client.post("/verify", files=files)
    assert page.status_code == 200 and "Intact." in text_of(page.text)
    tampered = io.BytesIO()
    with zipfile.ZipFile(saved) as original, zipfile.ZipFile(tampered, "w") as out:
        for info in original.infolist():
            data = original.read(info)
            if info.filename.endswith("evidence.json"):
                data = data.replace(b"20 November", b"21 November")
            out.writestr(info, data)
    files = {"package": ("evidence.zip", tampered.getvalue(), "application/zip")}
    text = text_of(client.post("/verify", files=files).text)
    assert "Not intact." in text and "evidence.json was altered" in text


def test_the_check_page_gives_a_clear_error_for_a_file_that_is_not_a_package(
    client: TestClient,
):
    files = {"package": ("photo.zip", EXAMPLE.read_bytes(), "application/zip")}
    page = client.post("/verify", files=files)
    assert page.status_code == 400
    assert "is not a zip file or is damaged" in text_of(page.text)
    assert client.get("/").status_code == 200


def test_a_report_for_a_scan_that_is_gone_is_a_clear_page(client: TestClient):
    page = client.get("/jobs/0123456789abcdef/report")
    assert page.status_code == 404 and "no report can be made" in text_of(page.text)


def test_a_file_that_could_not_be_read_offers_no_report(client: TestClient):
    job_id, page = scan_one(client, "broken.jpg", EXAMPLE.read_bytes()[:2000])
    assert "could not be checked" in text_of(page)
    assert "Create evidence report" not in page
    for answer in (
        client.get(f"/jobs/{job_id}/report"),
        client.post(f"/jobs/{job_id}/report", data={"full_name": "Jane Example"}),
    ):
        assert answer.status_code == 409
        assert "no evidence report can be made" in text_of(answer.text)
    assert client.get(f"/jobs/{job_id}/report.zip").status_code == 409


def test_the_ready_page_shows_each_request_with_a_copy_button_and_where_to_send_it(
    client: TestClient,
):
    job_id, _ = scan_one(client, "astronaut.jpg", EXAMPLE.read_bytes())
    form = {**FORM, "country": "United Kingdom", "platform": "Instagram", "notice_dmca": "yes"}
    form["original_description"] = "typed, then the question was hidden"  # owns_original unticked
    page = client.post(f"/jobs/{job_id}/report", data=form).text
    text = text_of(page)
    for kind in ("take_it_down", "platform"):
        assert f'id="text-{kind}"' in page and f'data-target="text-{kind}"' in page
    assert page.count("Copy the text") == 2, "one copy button a written request"
    assert "Where to send it: To Instagram, through its removal process" in text
    assert "https://example.com/b" in text and "Jane Example" in text  # the request itself
    # No DMCA notice without her owning the photo used, and the page says why.
    assert 'id="text-dmca"' not in page and "No DMCA notice was written" in text
    # Routes for her country, platform and age, and the date the list was compiled.
    assert 'id="route-meta"' in page and 'id="route-revenge_porn_helpline"' in page
    assert 'id="route-stopncii"' in page and 'id="route-take_it_down"' not in page
    assert "List compiled" in text


@pytest.mark.parametrize(
    ("entry", "named"),
    [
        ("../../escaped.txt", "points outside the package (..)"),
        ("/etc/unmask-planted", "has an absolute path"),
        ("evidence/hashes.csv", "hashes.csv appears 2 times in the zip"),
        ("evidence/\x1b[2Jnote.txt", "\\x1b[2Jnote.txt was added after the package was sealed"),
    ],
)
def test_the_check_page_names_each_hostile_entry_and_keeps_nothing(
    client: TestClient, tmp_path: Path, entry: str, named: str
):
    zipped = zip_package(make_package(tmp_path / "evidence"))
    hostile = rezip(zipped, tmp_path / "hostile.zip", [(entry, b"planted")])
    files = {"package": ("hostile.zip", hostile.read_bytes(), "application/zip")}
    page = client.post("/verify", files=files)
    text = text_of(page.text)
    assert page.status_code == 200 and "Not intact." in text
    assert named in text.replace("&#39;", "'"), text[-800:]
    assert "\x1b" not in page.text
    assert kept(client.app.state.scans.root) == []  # type: ignore[attr-defined]


def test_the_form_records_when_she_found_it_with_her_time_zone(client: TestClient, tmp_path: Path):
    job_id, _ = scan_one(client, "astronaut.jpg", EXAMPLE.read_bytes())
    form = client.get(f"/jobs/{job_id}/report").text
    assert 'type="datetime-local" id="found_at"' in form and 'id="time_zone"' in form
    wrong = {"found_at": "2026-11-20T21:00", "time_zone": "Mars/Base"}
    refused = client.post(f"/jobs/{job_id}/report", data=wrong)
    assert refused.status_code == 400 and "not a time zone unmask knows" in text_of(refused.text)
    assert 'value="Mars/Base"' in refused.text, "her answers are kept for her to correct"
    good = {**wrong, "time_zone": "America/New_York"}
    assert "Your evidence report is ready" in client.post(f"/jobs/{job_id}/report", data=good).text
    saved = tmp_path / "package.zip"
    saved.write_bytes(client.get(f"/jobs/{job_id}/report.zip").content)
    with zipfile.ZipFile(saved) as archive:
        top = archive.namelist()[0].split("/", 1)[0]
        sighting = json.loads(archive.read(f"{top}/evidence.json"))["sighting"]
    assert sighting["found_at_iso"] == "2026-11-20T21:00:00-05:00"
    assert sighting["time_zone"] == "America/New_York"


def evidence_in(client: TestClient, job_id: str) -> dict:
    data = client.get(f"/jobs/{job_id}/report.zip").content
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        top = archive.namelist()[0].split("/", 1)[0]
        return json.loads(archive.read(f"{top}/evidence.json"))  # type: ignore[no-any-return]


def hash_with(
    monkeypatch: pytest.MonkeyPatch, client: TestClient, task: object, budget_s: float = 0.5
) -> None:
    """Hash uploads with a task from worker_tasks, under `budget_s` (+0.5 s grace)."""
    monkeypatch.setenv("PYTHONPATH", str(Path(worker_tasks.__file__).parent))
    monkeypatch.setattr(hashing, "hash_in_worker", task)
    monkeypatch.setattr(worker, "KILL_GRACE_S", 0.5)
    queue = client.app.state.scans  # type: ignore[attr-defined]
    budget = replace(queue.scan_config, limits=Limits(time_budget_s=budget_s))
    monkeypatch.setattr(queue, "scan_config", budget)


def test_a_report_whose_hashing_hangs_is_made_without_its_pdq_and_holds_up_no_other_report(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
):
    hanging, _ = scan_one(client, "hostile.jpeg", EXAMPLE.read_bytes())
    other, _ = scan_one(client, "astronaut.jpg", EXAMPLE.read_bytes())
    hash_with(monkeypatch, client, worker_tasks.hash_or_hang, budget_s=3.0)
    # Two hashing workers may run at once here, whatever the number of cores of this computer.
    monkeypatch.setattr(hashing, "_SLOTS", threading.BoundedSemaphore(2))
    job = client.app.state.scans.get(hanging)  # type: ignore[attr-defined]
    mark = job.upload.with_suffix(".hashing")
    answers: list = []
    first = threading.Thread(
        target=lambda: answers.append(client.post(f"/jobs/{hanging}/report", data=FORM))
    )
    first.start()
    for _ in range(600):  # until the worker hashing the first upload is stuck
        if mark.exists() or not first.is_alive():
            break
        first.join(0.1)
    assert mark.exists(), "the first report's hashing started"
    # While it hangs, another report is made: no lock is held while an upload is hashed.
    made = client.post(f"/jobs/{other}/report", data=FORM)
    assert "Your evidence report is ready" in made.text and "missing-hashes" not in made.text
    assert first.is_alive(), "the other report did not wait for the stuck one"
    assert evidence_in(client, other)["items"][0]["hashes"]["pdq"]
    first.join(60)
    assert not first.is_alive()
    page = answers[0]
    assert page.status_code == 200 and "Your evidence report is ready" in page.text
    text = text_of(page.text)
    assert "The PDQ fingerprint of hostile.jpeg could not be computed" in text
    assert "time budget of 3 s" in text and "match exact copies only" in text
    item = evidence_in(client, hanging)["items"][0]
    assert item["hash_error"] == (
        "PDQ hash missing: the hashing did not finish within the time budget of 3 s"
    )
    assert "--time-budget" not in text, "a hint for the command line, not for her"
    assert "pdq" not in item["hashes"] and "pdq" not in item["hashes"]["signals"]
    assert item["hashes"]["sha256"] == item["scan"]["sha256"] and len(item["hashes"]["md5"]) == 32
    assert client.get("/").status_code == 200


def test_a_report_asked_for_again_while_it_is_being_made_is_not_hashed_twice(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
):
    job_id, _ = scan_one(client, "hostile.jpeg", EXAMPLE.read_bytes())
    hash_with(monkeypatch, client, worker_tasks.hash_or_hang, budget_s=3.0)
    queue = client.app.state.scans  # type: ignore[attr-defined]
    mark = queue.get(job_id).upload.with_suffix(".hashing")
    answers: list = []
    first = threading.Thread(
        target=lambda: answers.append(client.post(f"/jobs/{job_id}/report", data=FORM))
    )
    first.start()
    for _ in range(600):
        if mark.exists() or not first.is_alive():
            break
        first.join(0.1)
    assert mark.exists(), "the first report's hashing started"
    mark.unlink()
    again = client.post(f"/jobs/{job_id}/report", data=FORM)
    assert first.is_alive(), "asked again while the first was still hashing"
    assert again.status_code == 409
    assert "Your report for this file is already being prepared" in text_of(again.text)
    first.join(60)
    assert not mark.exists(), "no second worker hashed the upload"
    assert "Your evidence report is ready" in answers[0].text


def test_a_report_whose_hashing_worker_crashes_says_so_and_is_still_sealed(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    job_id, _ = scan_one(client, "astronaut.jpg", EXAMPLE.read_bytes())
    hash_with(monkeypatch, client, worker_tasks.crash_hashing)
    page = client.post(f"/jobs/{job_id}/report", data=FORM)
    assert page.status_code == 200
    text = text_of(page.text)
    assert (
        "The PDQ fingerprint of astronaut.jpg could not be computed (the hashing process crashed)"
        in text
    )
    saved = tmp_path / "package.zip"
    saved.write_bytes(client.get(f"/jobs/{job_id}/report.zip").content)
    assert check_package_at(saved).ok
    assert (
        evidence_in(client, job_id)["items"][0]["hash_error"]
        == "PDQ hash missing: the hashing process crashed"
    )


def test_a_report_whose_upload_the_decoder_refuses_names_no_path_on_the_server(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    job_id, _ = scan_one(client, "astronaut.jpg", EXAMPLE.read_bytes())
    job = client.app.state.scans.get(job_id)  # type: ignore[attr-defined]
    hash_with(monkeypatch, client, worker_tasks.refuse_naming_the_path)
    page = client.post(f"/jobs/{job_id}/report", data=FORM)
    assert page.status_code == 200 and "Your evidence report is ready" in page.text
    raw = client.get(f"/jobs/{job_id}/report.zip").content
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        top = archive.namelist()[0].split("/", 1)[0]
        evidence = archive.read(f"{top}/evidence.json").decode()
    server_folder = str(job.folder.parent)
    assert server_folder not in evidence and str(tmp_path) not in evidence
    assert server_folder not in page.text
    error = json.loads(evidence)["items"][0]["hash_error"]
    assert error == (
        "PDQ hash missing: the file could not be decoded: [Errno 5] Input/output error: "
        "'astronaut.jpg'; could not read astronaut.jpg"
    )


def test_a_report_on_a_server_that_cannot_start_a_worker_is_refused_as_busy(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
):
    job_id, _ = scan_one(client, "astronaut.jpg", EXAMPLE.read_bytes())

    def no_processes(*_args: object, **_kwargs: object) -> None:
        raise BlockingIOError(11, "Resource temporarily unavailable")  # fork refused

    with monkeypatch.context() as patched:
        patched.setattr(subprocess, "Popen", no_processes)
        page = client.post(f"/jobs/{job_id}/report", data=FORM)
    assert page.status_code == 503 and page.headers["Retry-After"] == "30"
    text = text_of(page.text)
    assert "The server is too busy to make your report just now" in text
    assert "Send them again in 30 seconds" in text and "Jane Example" in page.text
    assert client.get(f"/jobs/{job_id}/report.zip").status_code == 404, "no package without PDQ"
    made = client.post(f"/jobs/{job_id}/report", data=FORM)
    assert "Your evidence report is ready" in made.text and "missing-hashes" not in made.text


def test_a_video_report_has_the_vpdq_of_every_second_hashed_in_the_worker(
    client: TestClient, tmp_path: Path
):
    video = write_video(tmp_path / "clip.mp4", seconds=3.0)
    job_id, _ = scan_one(client, "clip.mp4", video.read_bytes())
    page = client.post(f"/jobs/{job_id}/report", data=FORM)
    assert "Your evidence report is ready" in page.text and "missing-hashes" not in page.text
    item = evidence_in(client, job_id)["items"][0]
    assert item["hash_error"] is None
    assert item["hashes"]["kind"] == "video" and item["hashes"]["sha256"] == item["scan"]["sha256"]
    times = [float(frame.split(",")[2]) for frame in item["hashes"]["vpdq"]]
    assert times == [0.0, 1.0, 2.0], "one frame hash a second, from the first frame"
