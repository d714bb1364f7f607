"""`unmask report --original`: the comparison with the original in the evidence package, on a
still pair made here (the example photo with its face turned upside down inside its box) and on
a same-content control (the photo re-encoded as JPEG q70)."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner, Result
from PIL import Image

from unmask.cli import app
from unmask.compare import controls
from unmask.faces import FaceDetector
from unmask.report.received import check_package_at

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "astronaut.jpg"


def run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def sharpness(path: Path) -> float:
    grey = np.asarray(Image.open(path).convert("L"), dtype=np.float64)
    return float(np.abs(np.diff(grey, axis=0)).mean() + np.abs(np.diff(grey, axis=1)).mean())


@pytest.fixture(autouse=True)
def private_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("UNMASK_HOME", str(tmp_path_factory.getbasetemp() / "unmask-home"))


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, tuple[int, ...]]:
    """(an altered copy, a same-content copy, the face box) of the example photo."""
    folder = tmp_path_factory.mktemp("pair")
    rgb = np.asarray(Image.open(EXAMPLE).convert("RGB"))
    box = tuple(round(v) for v in FaceDetector().detect(rgb)[0].box)
    x0, y0, x1, y1 = box
    edited = rgb.copy()
    edited[y0:y1, x0:x1] = rgb[y0:y1, x0:x1][::-1, ::-1]
    altered = folder / "posted.jpg"
    altered.write_bytes(controls.jpeg_bytes(edited, 90))
    same = folder / "reposted.jpg"
    same.write_bytes(controls.jpeg_bytes(rgb, 70))
    return altered, same, box


ANSWERS = {"full_name": "Jane Example", "email": "jane@example.org", "not_consensual": True}


def make(tmp_path: Path, suspect: Path, *extra: str) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps(ANSWERS))
    out = tmp_path / "evidence"
    args = [str(suspect), "-o", str(out), "--no-ask", "--answers", str(answers), *extra]
    result = run("report", *args)
    assert result.exit_code == 0, result.output
    return out


def test_an_altered_still_gets_a_comparison_section_quoted_in_the_requests(
    pair: tuple[Path, Path, tuple[int, ...]], tmp_path: Path
) -> None:
    altered, _, (fx0, fy0, fx1, fy1) = pair
    package = make(tmp_path, altered, "--original", str(EXAMPLE))
    assert check_package_at(package).ok

    item = json.loads((package / "evidence.json").read_text())["items"][0]
    comparison = item["comparison"]
    assert comparison["outcome"] == "altered"
    assert (comparison["suspect"], comparison["original"]) == ("posted.jpg", "astronaut.jpg")
    assert comparison["suspect_sha256"] == sha256(altered)
    assert comparison["original_sha256"] == sha256(EXAMPLE)
    assert comparison["alignment"]["inliers"] > 50
    assert comparison["alignment"]["scale"] == pytest.approx(1.0, abs=0.02)
    # The changed region is where the face was turned over, in suspect pixels.
    x0, y0, x1, y1 = comparison["regions"][0]["box"]
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    assert fx0 <= cx <= fx1 and fy0 <= cy <= fy1
    # Only names, never the folders they were in.
    assert str(altered.parent) not in json.dumps(item)
    assert str(EXAMPLE.parent) not in json.dumps(item)
    # The comparison is the scan's strong finding.
    assert item["scan"]["verdict"]["label"] == "likely_manipulated"
    assert any(f["code"] == "differs_from_original" for f in item["scan"]["findings"])

    pictures = comparison["evidence"]
    assert {Path(p).name for p in pictures} == {"side_by_side.png", "heatmap.png"}
    for name in pictures:
        assert (package / name).is_file()
        assert name in (package / "report.html").read_text()

    html = (package / "report.html").read_text()
    assert "Comparison with the original" in html and sha256(EXAMPLE) in html
    assert "Matching points (RANSAC inliers)" in html

    for kind in ("take_it_down", "dsa", "platform"):
        notice = " ".join((package / f"takedown/{kind}.txt").read_text().split())
        assert "Comparison with the original:" in notice
        assert sha256(EXAMPLE) in notice and sha256(altered) in notice
        assert "it was altered" in notice

    import pypdfium2 as pdfium

    text = " ".join(
        p.get_textpage().get_text_range() for p in pdfium.PdfDocument(package / "report.pdf")
    )
    assert "Comparison with the original" in text and "Matching points" in text


def test_the_comparison_pictures_are_blurred_unless_revealed(
    pair: tuple[Path, Path, tuple[int, ...]], tmp_path: Path
) -> None:
    altered = pair[0]
    blurred = make(tmp_path / "b", altered, "--original", str(EXAMPLE), "--no-pdf")
    sharp = make(tmp_path / "s", altered, "--original", str(EXAMPLE), "--no-pdf", "--reveal")
    for name in ("side_by_side.png", "heatmap.png"):
        soft = sharpness(blurred / "pictures/01-compare" / name)
        assert soft < 0.5 * sharpness(sharp / "pictures/01-compare" / name), name


def test_a_same_content_copy_is_said_to_match_and_claims_nothing(
    pair: tuple[Path, Path, tuple[int, ...]], tmp_path: Path
) -> None:
    same = pair[1]
    package = make(tmp_path, same, "--original", str(EXAMPLE), "--no-pdf")
    item = json.loads((package / "evidence.json").read_text())["items"][0]
    assert item["comparison"]["outcome"] == "same_content"
    assert item["comparison"]["regions"] == []
    assert item["scan"]["verdict"]["label"] != "likely_manipulated"
    html = (package / "report.html").read_text()
    assert "Same content" in html and "is not a finding that the file is unaltered" in html
    for notice in (package / "takedown").glob("*.txt"):
        text = " ".join(notice.read_text().split())
        assert "Comparison with the original" not in text
        assert "it was altered" not in text and "signs of manipulation" not in text


def test_an_original_that_cannot_be_read_is_named_and_the_package_is_still_made(
    pair: tuple[Path, Path, tuple[int, ...]], tmp_path: Path
) -> None:
    broken = tmp_path / "original.jpg"
    broken.write_bytes(EXAMPLE.read_bytes()[:3000])
    package = make(tmp_path, pair[0], "--original", str(broken), "--no-pdf")
    item = json.loads((package / "evidence.json").read_text())["items"][0]
    assert item["comparison"] is None
    warnings = item["scan"]["media"]["warnings"]
    assert any("the original could not be compared" in w and "original.jpg" in w for w in warnings)
    assert "the original could not be compared" in (package / "report.html").read_text()
    rows = list(csv.DictReader((package / "hashes.csv").open()))
    assert {(r["file"], r["signal_type"]) for r in rows} >= {("posted.jpg", "photo_sha256")}


def test_a_video_against_its_original_video_names_frames_times_and_a_timeline(
    tmp_path: Path,
) -> None:
    """A camera panning over the example photo; the face turned over in frames 10-59."""
    rgb = np.asarray(Image.open(EXAMPLE).convert("RGB"))
    x0, y0, x1, y1 = (round(v) for v in FaceDetector().detect(rgb)[0].box)
    turned = rgb.copy()
    turned[y0:y1, x0:x1] = rgb[y0:y1, x0:x1][::-1, ::-1]

    def pan(altered: range) -> list[np.ndarray]:
        return [
            (turned if i in altered else rgb)[20:320, 40 + i : 440 + i].copy() for i in range(75)
        ]

    original = controls.write_h264(tmp_path / "original.mp4", pan(range(0)), 25)
    swap = controls.write_h264(tmp_path / "posted.mp4", pan(range(10, 60)), 25)
    package = make(tmp_path / "p", swap, "--original", str(original), "--no-pdf")
    comparison = json.loads((package / "evidence.json").read_text())["items"][0]["comparison"]
    assert comparison["outcome"] == "altered"
    assert comparison["alignment"]["time_offset_s"] == pytest.approx(0, abs=0.1)
    region = comparison["regions"][0]
    start, end = region["time_range_s"]
    assert start >= 0.3 and end <= 2.45 and region["frames"]
    assert any(p.endswith("timeline.png") for p in comparison["evidence"])
    html = " ".join((package / "report.html").read_text().split())
    assert f"frames {region['frames'][0]}–{region['frames'][-1]}" in html
    assert "Where each region differs over time" in html
