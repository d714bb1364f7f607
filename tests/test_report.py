"""`unmask report`: the evidence package, its PDF, its seal and `unmask report verify`."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner, Result
from PIL import Image

from unmask.cli import app
from unmask.errors import UnmaskError

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "astronaut.jpg"
DEEPFAKE = "videos/fake/DeepFaceLive__doc__celebs__Tim_Norland__Tim_Norland_0__right_swap.mp4"
NOTICE_FILES = [
    f"takedown/{k}.{e}" for k in ("take_it_down", "dsa", "dmca", "platform") for e in ("txt", "pdf")
]
ANSWERS = {
    "full_name": "Jane Example",
    "email": "jane@example.org",
    "postal_address": "1 Example Street, Springfield",
    "phone": "+1 555 0100",
    "platform": "ExampleTube",
    "description": "A video in which my face was put on another person's body.",
    "not_consensual": True,
    "owns_original": True,
    "original_description": "My own portrait photo, taken in 2024.",
}


def run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def said(result: Result) -> str:
    """The command's output as one line (the console wraps long lines)."""
    return " ".join(result.output.split())


@pytest.fixture(autouse=True)
def private_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Keys live in a throw-away Unmask home, shared by every test of this module (one key)."""
    home = tmp_path_factory.getbasetemp() / "unmask-home"
    monkeypatch.setenv("UNMASK_HOME", str(home))
    return home


@pytest.fixture(scope="module")
def video_package(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One package for a shared DeepFaceLive swap, built once through the command line."""
    home = tmp_path_factory.getbasetemp() / "unmask-home"
    os.environ["UNMASK_HOME"] = str(home)
    folder = tmp_path_factory.mktemp("package")
    answers = folder / "answers.json"
    answers.write_text(json.dumps(ANSWERS))
    result = run(
        "report",
        str(shared_data / DEEPFAKE),
        "-o",
        str(folder / "evidence"),
        "--zip",
        "--no-ask",
        "--answers",
        str(answers),
        "--url",
        "https://example.com/watch/123",
        "--found-at",
        "2026-11-20 21:00",
        "--frames",
        "8",
    )
    assert result.exit_code == 0, result.output
    return folder / "evidence"


def test_a_report_on_a_shared_deepfake_video_writes_every_file(
    video_package: Path, shared_data: Path
):
    written = {p.relative_to(video_package).as_posix() for p in video_package.rglob("*")}
    expected = {
        "README.txt",
        "evidence.json",
        "hashes.csv",
        "report.html",
        "report.pdf",
        "pictures/01-preview.png",
        "manifest.json",
        "manifest.sig",
        "signing-key.pub.pem",
        *NOTICE_FILES,
    }
    assert expected <= written
    assert video_package.with_name("evidence.zip").is_file()
    data = (shared_data / DEEPFAKE).read_bytes()
    evidence = json.loads((video_package / "evidence.json").read_text())
    item = evidence["items"][0]
    assert item["hashes"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert item["hashes"]["md5"] == hashlib.md5(data).hexdigest()
    assert len(item["hashes"]["vpdq"]) >= 2  # one frame hash a second
    assert item["scan"]["verdict"]["headline"]
    assert evidence["sighting"]["urls"] == ["https://example.com/watch/123"]
    assert evidence["sighting"]["found_at"] == "2026-11-20 21:00"
    assert evidence["tool"]["name"] == "unmask" and evidence["created_at"].endswith("+00:00")
    assert evidence["pictures_blurred"] is True and evidence["media_included"] is False
    with (video_package / "hashes.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert {r["signal_type"] for r in rows} == {"video_sha256", "video_md5", "vpdq"}
    assert not any(p.suffix == ".mp4" for p in video_package.rglob("*")), "media only on request"


def _sharpness(path: Path) -> float:
    grey = np.asarray(Image.open(path).convert("L"), dtype=np.float64)
    return float(np.abs(np.diff(grey, axis=0)).mean() + np.abs(np.diff(grey, axis=1)).mean())


def test_previews_are_blurred_unless_revealed(tmp_path: Path):
    blurred = tmp_path / "blurred"
    sharp = tmp_path / "sharp"
    assert run("report", str(EXAMPLE), "-o", str(blurred), "--no-ask", "--no-pdf").exit_code == 0
    assert (
        run("report", str(EXAMPLE), "-o", str(sharp), "--no-ask", "--no-pdf", "--reveal").exit_code
        == 0
    )
    original = _sharpness(EXAMPLE)
    assert _sharpness(sharp / "pictures/01-preview.png") > 0.5 * original
    assert _sharpness(blurred / "pictures/01-preview.png") < 0.1 * original
    maps = sorted((blurred / "pictures").glob("01-forensics-*.png"))
    assert maps, "forensic maps are part of the report"
    for blurred_map in maps:
        sharp_map = sharp / "pictures" / blurred_map.name
        assert _sharpness(blurred_map) < 0.5 * _sharpness(sharp_map)
    html = (blurred / "report.html").read_text()
    assert (
        "blurred on purpose" in html
        and "blurred on purpose" not in (sharp / "report.html").read_text()
    )


def _pdf_pages(path: Path) -> list[tuple[str, Image.Image]]:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(str(path))
    pages = []
    for page in document:
        text = page.get_textpage().get_text_range()
        pages.append((text, page.render(scale=200 / 72).to_pil().convert("L")))
    return pages


def _ocr(image: Image.Image, folder: Path) -> str:
    picture = folder / "page.png"
    image.save(picture)
    done = subprocess.run(
        ["tesseract", str(picture), "-", "--psm", "3"], capture_output=True, text=True, check=True
    )
    return " ".join(done.stdout.split())


def test_the_pdf_renders_and_its_pages_show_the_verdict_and_the_sha256(
    video_package: Path, tmp_path: Path
):
    evidence = json.loads((video_package / "evidence.json").read_text())
    sha256 = evidence["items"][0]["hashes"]["sha256"]
    headline = evidence["items"][0]["scan"]["verdict"]["headline"]
    pages = _pdf_pages(video_package / "report.pdf")
    assert len(pages) >= 2
    for _, image in pages:  # every page renders to a picture with something printed on it
        assert np.asarray(image).min() < 100
    text = " ".join(" ".join(t.split()) for t, _ in pages)
    assert " ".join(headline.split()) in text
    assert sha256 in text.replace(" ", "").replace("\n", "")
    assert "Evidence report" in text
    # Recorded values in words for the reader, never Python's spelling (a video's metadata
    # once showed None, False and ['VideoHandler']).
    for python in (r"\bNone\b", r"\bFalse\b", r"\bTrue\b", r"\['", r"'\]"):
        assert not re.search(python, text), python
    if shutil.which("tesseract") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("tesseract must be installed in CI (.ci/run installs tesseract-ocr)")
        pytest.skip("tesseract is not installed: the text was checked in the PDF's text layer")
    seen = _ocr(pages[0][1], tmp_path)
    assert "Evidence report" in seen
    # The headline's words, as a person looking at the page reads them.
    words = [w.strip(".,:;()") for w in headline.split() if len(w) > 3]
    found = [w for w in words if w in seen]
    assert len(found) >= 0.8 * len(words), (words, seen)


def test_every_takedown_pdf_renders_with_its_request(video_package: Path):
    for name in ("take_it_down", "dsa", "dmca", "platform"):
        text = " ".join(t for t, _ in _pdf_pages(video_package / f"takedown/{name}.pdf"))
        assert "jane@example.org" in text
        assert "https://example.com/watch/123" in text.replace("\r", "").replace("\n", "")


# --- the seal ---------------------------------------------------------------------------


def test_verify_passes_on_the_package_and_on_its_zip(video_package: Path):
    result = run("report", "verify", str(video_package))
    assert result.exit_code == 0, result.output
    assert "intact" in result.output
    fingerprint = json.loads((video_package / "manifest.json").read_text())["fingerprint"]
    assert fingerprint in result.output
    zipped = run("report", "verify", str(video_package.with_name("evidence.zip")))
    assert zipped.exit_code == 0, zipped.output


@pytest.mark.parametrize(
    "name",
    [
        "report.pdf",
        "report.html",
        "evidence.json",
        "hashes.csv",
        "pictures/01-preview.png",
        "takedown/take_it_down.txt",
        "signing-key.pub.pem",
        "manifest.json",
    ],
)
def test_changing_any_byte_of_any_file_fails_verify_naming_the_file(
    video_package: Path, tmp_path: Path, name: str
):
    copy = tmp_path / "copy"
    shutil.copytree(video_package, copy)
    target = copy / name
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0x01
    target.write_bytes(bytes(data))
    result = run("report", "verify", str(copy))
    assert result.exit_code == 1
    assert "NOT intact" in result.output and name in result.output


def test_an_added_or_removed_file_fails_verify_naming_it(video_package: Path, tmp_path: Path):
    added = tmp_path / "added"
    shutil.copytree(video_package, added)
    (added / "takedown" / "extra.txt").write_text("slipped in later")
    result = run("report", "verify", str(added))
    assert result.exit_code == 1 and "takedown/extra.txt was added" in result.output
    removed = tmp_path / "removed"
    shutil.copytree(video_package, removed)
    (removed / "hashes.csv").unlink()
    result = run("report", "verify", str(removed))
    assert result.exit_code == 1 and "hashes.csv is listed in the manifest but missing" in (
        result.output
    )


def test_a_changed_zip_fails_verify(video_package: Path, tmp_path: Path):
    source = video_package.with_name("evidence.zip")
    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(tampered, "w") as out:
        for info in original.infolist():
            data = original.read(info)
            if info.filename.endswith("hashes.csv"):
                data = data.replace(b"md5", b"MD5")
            out.writestr(info, data)
    result = run("report", "verify", str(tampered))
    assert result.exit_code == 1 and "hashes.csv was altered" in result.output


def test_verify_with_another_key_fails_and_with_the_senders_key_passes(
    video_package: Path, tmp_path: Path
):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    other = tmp_path / "other.pem"
    other.write_bytes(
        Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    result = run("report", "verify", str(video_package), "--key", str(other))
    assert result.exit_code == 1 and "not with the key you gave" in result.output
    senders = video_package / "signing-key.pub.pem"
    assert run("report", "verify", str(video_package), "--key", str(senders)).exit_code == 0


def test_the_key_is_made_once_private_and_reused(tmp_path: Path, private_home: Path):
    first, second = tmp_path / "one", tmp_path / "two"
    for folder in (first, second):
        result = run("report", str(EXAMPLE), "-o", str(folder), "--no-ask", "--no-pdf")
        assert result.exit_code == 0, result.output
    fingerprints = {
        json.loads((f / "manifest.json").read_text())["fingerprint"] for f in (first, second)
    }
    assert len(fingerprints) == 1
    key = private_home / "keys" / "evidence-ed25519.pem"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600


def test_a_zip_with_a_path_outside_the_package_is_refused(tmp_path: Path):
    hostile = tmp_path / "hostile.zip"
    with zipfile.ZipFile(hostile, "w") as archive:
        archive.writestr("../../escaped.txt", "x")
    result = run("report", "verify", str(hostile))
    assert result.exit_code == 2 and "outside the package" in result.output
    assert not (tmp_path.parent / "escaped.txt").exists()


# --- inputs -----------------------------------------------------------------------------


def test_a_corrupt_file_is_recorded_with_its_error_and_the_rest_is_reported(tmp_path: Path):
    corrupt = tmp_path / "broken.jpg"
    corrupt.write_bytes(EXAMPLE.read_bytes()[:2000])
    folder = tmp_path / "evidence"
    result = run("report", str(EXAMPLE), str(corrupt), "-o", str(folder), "--no-ask", "--no-pdf")
    assert result.exit_code == 2, result.output
    assert "broken.jpg: could not be analysed" in result.output
    evidence = json.loads((folder / "evidence.json").read_text())
    assert [i["scan"]["error"] is None for i in evidence["items"]] == [True, False]
    assert run("report", "verify", str(folder)).exit_code == 0


def test_an_existing_folder_with_files_is_never_mixed_into(tmp_path: Path):
    folder = tmp_path / "taken"
    folder.mkdir()
    (folder / "mine.txt").write_text("keep me")
    result = run("report", str(EXAMPLE), "-o", str(folder), "--no-ask")
    assert result.exit_code == 2 and "not an empty folder" in result.output
    assert [p.name for p in folder.iterdir()] == ["mine.txt"]
    assert not list(tmp_path.glob(".taken.partial-*"))


def test_a_missing_file_is_a_clear_error(tmp_path: Path):
    result = run("report", str(tmp_path / "nothing.mp4"), "-o", str(tmp_path / "e"), "--no-ask")
    assert result.exit_code == 2 and "no such file" in result.output


def test_a_video_report_charts_each_faces_probability_over_time(tmp_path: Path, monkeypatch):
    """With a face model (the colour stand-in: reddish faces score high), the timeline chart
    draws the face's probability at each sampled frame and the model's threshold."""
    from face_model_factory import write_model
    from test_face_swap import write_face_video

    monkeypatch.setenv("UNMASK_FACE_SWAP_MODEL", str(write_model(tmp_path / "model")))
    video = write_face_video(tmp_path / "clip.mp4", [(1.3, 0.8, 0.8), (0.8, 0.8, 1.3)])
    folder = tmp_path / "evidence"
    result = run("report", str(video), "-o", str(folder), "--no-ask", "--no-pdf", "--frames", "6")
    assert result.exit_code == 0, result.output
    html = (folder / "report.html").read_text()
    assert "<polyline" in html and "likely manipulated above" in html
    evidence = json.loads((folder / "evidence.json").read_text())
    timeline = next(
        f["evidence"]["frames"]
        for f in evidence["items"][0]["scan"]["findings"]
        if f["code"] == "face_manipulation"
    )
    points = html.split('<polyline points="', 1)[1].split('"', 1)[0].split()
    assert len(points) == len(timeline) == 6
    # Reddish first second, bluish second: the line starts high (small y) and ends low.
    ys = [float(p.split(",")[1]) for p in points]
    assert ys[0] < ys[-1]
    assert (folder / "pictures" / "01-face_swap-heatmap_track0.png").is_file()
    # The model flagged the face, so the requests may say the analysis found signs of it.
    platform = " ".join((folder / "takedown" / "platform.txt").read_text().split())
    assert "analysis described under EVIDENCE below found signs of manipulation" in platform


def test_requests_claim_no_finding_the_analysis_did_not_make(video_package: Path):
    for notice in (video_package / "takedown").glob("*.txt"):
        assert "found signs of manipulation" not in " ".join(notice.read_text().split())


def test_writing_a_pdf_does_not_make_later_scans_accept_truncated_pictures(tmp_path: Path):
    """WeasyPrint switches on Pillow's LOAD_TRUNCATED_IMAGES when imported; a report must not
    leave the process scanning damaged files as if they were whole."""
    from unmask.media import open_media
    from unmask.report.render import write_pdf

    write_pdf("<p>a page</p>", tmp_path / "page.pdf", tmp_path)
    corrupt = tmp_path / "cut.jpg"
    corrupt.write_bytes(EXAMPLE.read_bytes()[:2000])
    with pytest.raises(UnmaskError, match="truncated"):
        open_media(corrupt)


def test_a_report_on_files_that_could_not_be_analysed_still_writes_and_seals(tmp_path: Path):
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    folder = tmp_path / "evidence"
    result = run("report", str(empty), "-o", str(folder), "--no-ask")
    assert result.exit_code == 2, result.output
    assert "empty.jpg: could not be analysed" in result.output
    html = (folder / "report.html").read_text()
    assert "No check could run" in html and "could not be analysed" in html
    assert (folder / "report.pdf").is_file()
    assert run("report", "verify", str(folder)).exit_code == 0


def test_locations_given_as_url_and_in_the_answers_are_one_list_everywhere(tmp_path: Path):
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps({"urls": ["https://example.com/a"], "full_name": "J"}))
    folder = tmp_path / "evidence"
    result = run(
        "report",
        str(EXAMPLE),
        "-o",
        str(folder),
        "--no-pdf",
        "--answers",
        str(answers),
        "--url",
        "https://example.com/b",
    )
    assert result.exit_code == 0, result.output
    both = ["https://example.com/b", "https://example.com/a"]
    assert json.loads((folder / "evidence.json").read_text())["sighting"]["urls"] == both
    for notice in (folder / "takedown").glob("*.txt"):
        if notice.stem.endswith("-not-written") or notice.name == "where-to-send.txt":
            continue  # why a notice is absent (no DMCA here), and where to send them
        text = notice.read_text()
        assert all(url in text for url in both), notice.name


def test_the_record_names_files_not_the_folders_they_were_in(tmp_path: Path):
    inner = tmp_path / "private" / "folder"
    inner.mkdir(parents=True)
    shutil.copy(EXAMPLE, inner / "photo.jpg")
    folder = tmp_path / "evidence"
    result = run("report", str(inner / "photo.jpg"), "-o", str(folder), "--no-ask", "--no-pdf")
    assert result.exit_code == 0, result.output
    text = (folder / "evidence.json").read_text()
    assert "private" not in text
    item = json.loads(text)["items"][0]
    assert item["scan"]["path"] == item["hashes"]["path"] == "photo.jpg"
    models = json.loads(text)["models"]
    assert len(models["face_detector"]["files"]) == 3


def test_a_hostile_file_name_becomes_a_plain_name_for_its_copy_in_the_package(tmp_path: Path):
    """The name is the upload's own (the web app passes it on): terminal commands, slashes,
    a right-to-left override and 200 characters become a plain name that keeps its
    extension; `..` stays a name inside media/."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from unmask.config import ScanConfig
    from unmask.report.package import PackageOptions, build_package, evidence_item
    from unmask.report.signing import SealingKey
    from unmask.scan import Scanner

    hostile = "\x1b[2J../../\u202egpj.exe" + "x" * 200 + ".jpg"
    result = Scanner(ScanConfig(detectors=("metadata",))).scan(EXAMPLE)
    items = [evidence_item(EXAMPLE, name, result) for name in (hostile, "..")]
    options = PackageOptions(include_media=True, pdf=False)
    key = SealingKey(Ed25519PrivateKey.generate())
    built = build_package(items, tmp_path / "evidence", options=options, key=key)
    first, second = sorted((built.folder / "media").iterdir())
    assert re.fullmatch(r"01-_2J\.\._\.\._gpj\.exex+\.jpg", first.name), first.name
    assert len(first.name) == len("01-") + 80
    assert second.name == "02-.."
    assert first.read_bytes() == second.read_bytes() == EXAMPLE.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["evidence"]
    assert run("report", "verify", str(built.folder)).exit_code == 0


def test_the_report_never_calls_a_file_real_or_authentic(video_package: Path):
    import re

    for name in (
        "report.html",
        "README.txt",
        *[f"takedown/{k}.txt" for k in ("take_it_down", "dsa", "dmca", "platform")],
    ):
        text = (video_package / name).read_text()
        assert not re.search(r"\b(real|authentic|genuine)\b", text, re.IGNORECASE), name


def test_an_existing_zip_is_never_overwritten_and_bad_folders_are_clear_errors(tmp_path: Path):
    (tmp_path / "evidence.zip").write_text("someone else's file")
    result = run("report", str(EXAMPLE), "-o", str(tmp_path / "evidence"), "--zip", "--no-ask")
    assert result.exit_code == 2 and "evidence.zip already exists" in said(result)
    assert (tmp_path / "evidence.zip").read_text() == "someone else's file"
    blocked = tmp_path / "a-file"
    blocked.write_text("x")
    result = run("report", str(EXAMPLE), "-o", str(blocked / "inside"), "--no-ask")
    assert result.exit_code == 2 and "error:" in result.output
    assert "Traceback" not in result.output


def test_a_file_added_beside_the_package_in_its_zip_is_named(video_package: Path, tmp_path: Path):
    source = video_package.with_name("evidence.zip")
    extended = tmp_path / "extended.zip"
    shutil.copy(source, extended)
    with zipfile.ZipFile(extended, "a") as archive:
        archive.writestr("note.txt", "added later")
    result = run("report", "verify", str(extended))
    assert result.exit_code == 1 and "note.txt was added" in result.output


def test_verify_on_a_folder_that_is_not_a_package_is_an_error(tmp_path: Path):
    result = run("report", "verify", str(tmp_path))
    assert result.exit_code == 2 and "not a sealed evidence package" in result.output


def test_asking_in_the_terminal_fills_the_requests_and_the_record(tmp_path: Path):
    from unmask.report.takedown import Answers, applies, questions

    typed = {"full_name": "Jane Example", "urls": "https://example.com/p/1", "email": "j@e.org"}
    lines, answers = [], Answers()
    for name, _, kind in questions():
        if not applies(name, answers):
            continue
        lines.append("n" if kind == "yes_no" else typed.get(name, ""))
    lines += ["last Tuesday", "a friend sent me the link"]
    folder = tmp_path / "evidence"
    result = CliRunner().invoke(
        app,
        ["report", str(EXAMPLE), "-o", str(folder), "--ask", "--no-pdf"],
        input="\n".join(lines) + "\n",
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    sighting = json.loads((folder / "evidence.json").read_text())["sighting"]
    assert sighting == {
        "urls": ["https://example.com/p/1"],
        "found_at": "last Tuesday",
        "found_at_iso": None,  # kept as written: not a date and time that can be read
        "time_zone": None,
        "notes": "a friend sent me the link",
    }
    request = (folder / "takedown" / "take_it_down.txt").read_text()
    assert "Jane Example" in request and "j@e.org" in request


def test_requests_put_her_request_first_and_leave_out_a_dmca_notice_she_cannot_send(
    tmp_path: Path,
):
    """The example photo: nothing is flagged, and she does not own the photo used."""
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps({**ANSWERS, "owns_original": False}))
    out = tmp_path / "evidence"
    result = run(
        "report", str(EXAMPLE), "-o", str(out), "--no-ask", "--answers", str(answers), "--no-pdf"
    )
    assert result.exit_code == 0, result.output
    evidence = json.loads((out / "evidence.json").read_text())
    assert evidence["items"][0]["scan"]["verdict"]["label"] != "likely_manipulated"
    # No DMCA notice, and the package says why, where she looks for it.
    assert not (out / "takedown/dmca.txt").exists()
    why = " ".join((out / "takedown/dmca-not-written.txt").read_text().split())
    assert "copyright owner" in why
    assert "No DMCA notice was written" in " ".join((out / "report.html").read_text().split())
    assert "dmca-not-written.txt" in (out / "README.txt").read_text()
    assert "No DMCA notice was written" in said(result)
    for notice in (out / "takedown").glob("*.txt"):
        words = " ".join(notice.read_text().split())
        assert "no signs of manipulation" not in words.lower(), notice.name
    # Platforms block re-uploads by PDQ: in the platform report and in hashes.csv.
    with (out / "hashes.csv").open() as handle:
        rows = {r["signal_type"]: r for r in csv.DictReader(handle)}
    assert set(rows) == {"photo_sha256", "photo_md5", "pdq"}
    assert rows["photo_sha256"]["hash"] == hashlib.sha256(EXAMPLE.read_bytes()).hexdigest()
    platform = (out / "takedown/platform.txt").read_text()
    assert f"pdq: {rows['pdq']['hash']}" in platform
    assert evidence["items"][0]["hashes"]["pdq"] == rows["pdq"]["hash"]
