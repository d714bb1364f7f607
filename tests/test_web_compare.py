"""The web app with an original: upload a file to check beside the original it was made from,
read the comparison on the result page (pictures blurred until revealed), and carry it into the
evidence report. On a still pair made here and a same-content control."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from media_factory import EXAMPLE
from PIL import Image
from test_web import JSON, kept, make_app, text_of, wait_done
from web_server import page_client

from unmask.compare import controls
from unmask.faces import FaceDetector
from unmask.report.received import check_package_at


@pytest.fixture
def client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("UNMASK_HOME", str(tmp_path / "home"))
    with page_client(make_app(tmp_path)) as c:
        yield c


@pytest.fixture(scope="module")
def altered() -> bytes:
    """The example photo with its face turned upside down inside its box, as JPEG q90."""
    rgb = np.asarray(Image.open(EXAMPLE).convert("RGB"))
    x0, y0, x1, y1 = (round(v) for v in FaceDetector().detect(rgb)[0].box)
    edited = rgb.copy()
    edited[y0:y1, x0:x1] = rgb[y0:y1, x0:x1][::-1, ::-1]
    return controls.jpeg_bytes(edited, 90)


def check_with_original(client: TestClient, suspect: bytes, *originals: bytes) -> str:
    parts = [("files", ("posted.jpg", suspect, "image/jpeg"))]
    parts += [
        ("originals", (f"my photo {i}.jpg", o, "image/jpeg")) for i, o in enumerate(originals)
    ]
    response = client.post("/upload", files=parts, headers=JSON)
    assert response.status_code == 202, response.text
    jobs = response.json()["jobs"]
    assert len(jobs) == 1, "an original is not a file to check"
    wait_done(client, jobs[0]["id"])
    return str(jobs[0]["id"])


def test_an_altered_picture_shows_the_comparison_blurred_and_the_report_carries_it(
    client: TestClient, altered: bytes, tmp_path: Path
) -> None:
    job_id = check_with_original(client, altered, EXAMPLE.read_bytes())
    page = client.get(f"/jobs/{job_id}").text
    text = text_of(page)
    assert "Comparison with the original" in text
    assert "Altered: the suspect shows the original's scene" in text
    assert "The picture matches my_photo_0.jpg" in text  # her original, by its name
    assert "Likely manipulated" in text  # the verdict rests on the comparison
    # Its pictures are served blurred, and sharp only at their own /sharp address.
    shown = [n for n in ("compare-side_by_side", "compare-heatmap") if f"img-{n}" in page]
    assert shown == ["compare-side_by_side", "compare-heatmap"]
    for name in shown:
        assert f'src="/jobs/{job_id}/images/{name}"' in page
        blurred = client.get(f"/jobs/{job_id}/images/{name}")
        sharp = client.get(f"/jobs/{job_id}/images/{name}/sharp")
        assert blurred.status_code == sharp.status_code == 200
        assert blurred.content != sharp.content

    made = client.post(
        f"/jobs/{job_id}/report", data={"full_name": "Jane Example", "notice_take_it_down": "yes"}
    )
    assert "Your evidence report is ready" in made.text
    saved = tmp_path / "package.zip"
    saved.write_bytes(client.get(f"/jobs/{job_id}/report.zip").content)
    assert check_package_at(saved).ok
    with zipfile.ZipFile(saved) as archive:
        top = archive.namelist()[0].split("/", 1)[0]
        names = archive.namelist()
        item = json.loads(archive.read(f"{top}/evidence.json"))["items"][0]
        notice = archive.read(f"{top}/takedown/take_it_down.txt").decode()
        html = archive.read(f"{top}/report.html").decode()
    comparison = item["comparison"]
    assert comparison["outcome"] == "altered"
    assert comparison["original"] == "my_photo_0.jpg"
    assert comparison["evidence"] == [
        "pictures/01-compare-side_by_side.png",
        "pictures/01-compare-heatmap.png",
    ]
    assert all(f"{top}/{p}" in names for p in comparison["evidence"])
    assert "Comparison with the original" in html
    assert "Comparison with the original:" in notice
    assert "uploads" not in json.dumps(item), "no server folder is named in the record"
    # The originals went with the upload once the report was made.
    job_folder = client.app.state.scans.root / job_id  # type: ignore[attr-defined]
    assert not (job_folder / "originals").exists()


def test_a_same_content_copy_is_said_to_match_and_the_verdict_is_not_raised(
    client: TestClient,
) -> None:
    copy = controls.jpeg_bytes(np.asarray(Image.open(EXAMPLE).convert("RGB")), 70)
    unrelated = controls.jpeg_bytes(np.full((200, 300, 3), 90, np.uint8), 90)
    job_id = check_with_original(client, copy, unrelated, EXAMPLE.read_bytes())
    text = text_of(client.get(f"/jobs/{job_id}").text)
    assert "Same content: every aligned part of the suspect matches the original" in text
    assert "my_photo_0.jpg, my_photo_1.jpg" in text or "my_photo_1.jpg, my_photo_0.jpg" in text
    assert "Likely manipulated" not in text


def test_an_original_alone_is_refused_and_nothing_is_kept(client: TestClient) -> None:
    parts = [("originals", ("mine.jpg", EXAMPLE.read_bytes(), "image/jpeg"))]
    page = client.post("/upload", files=parts)
    assert page.status_code == 400
    assert "Only an original was chosen" in text_of(page.text)
    assert kept(client.app.state.scans.root) == []  # type: ignore[attr-defined]


def test_an_original_that_is_not_a_picture_is_refused_by_name(client: TestClient) -> None:
    parts = [
        ("files", ("posted.jpg", EXAMPLE.read_bytes(), "image/jpeg")),
        ("originals", ("notes.txt", b"not a picture\n" * 20, "text/plain")),
    ]
    page = client.post("/upload", files=parts)
    assert page.status_code == 415 and "notes.txt" in text_of(page.text)


def test_the_upload_page_has_a_labelled_field_for_the_original(client: TestClient) -> None:
    page = client.get("/").text
    assert '<label for="originals">The original, if you have it (optional)</label>' in page
    assert 'name="originals"' in page and 'aria-describedby="originals-hint"' in page


def test_an_original_that_cannot_be_decoded_is_named_and_the_file_still_gets_its_answer(
    client: TestClient, altered: bytes
) -> None:
    job_id = check_with_original(client, altered, EXAMPLE.read_bytes()[:3000])
    text = text_of(client.get(f"/jobs/{job_id}").text)
    assert "the original could not be compared" in text and "my_photo_0.jpg" in text
    assert "Comparison with the original" not in text
    assert "What the checks found" in text  # the scan's own answer stands
