"""`unmask verify --originals`: a face-swapped, resized, re-encoded copy is traced to its source
photo among others, and the comparison engine (unmask.compare) names the face that changed."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from unmask.cli import app
from unmask.faces import FaceDetector

VICTIM = "faces/real/Deep3DFaceRecon_pytorch__datasets__examples__000006.jpg"
DONOR = "faces/real/hardfakevsreal__images__real__real_16.jpg"
DISTRACTORS = [
    "faces/real/Deep3DFaceRecon_pytorch__datasets__examples__000002.jpg",
    "faces/real/Deep3DFaceRecon_pytorch__datasets__examples__000007.jpg",
    "faces/real/Deep3DFaceRecon_pytorch__datasets__examples__000031.jpg",
    "faces/real/hardfakevsreal__images__real__real_344.jpg",
]


@pytest.fixture(autouse=True)
def _own_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UNMASK_HOME", str(tmp_path / "home"))


def _rgb(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def _face_box(rgb: np.ndarray) -> tuple[int, int, int, int]:
    faces = FaceDetector().detect(rgb)
    assert faces, "the test photo must show a face"
    x0, y0, x1, y1 = faces[0].box
    return round(x0), round(y0), round(x1), round(y1)


def _iou(a: list[float], b: list[float]) -> float:
    x0, y0, x1, y1 = max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x1 - x0) * max(0.0, y1 - y0)
    area = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1])
    return inter / (area - inter)


def _jpeg(rgb: np.ndarray, path: Path, scale: float, quality: int) -> None:
    image = Image.fromarray(rgb)
    size = (round(image.width * scale), round(image.height * scale))
    buffer = io.BytesIO()
    image.resize(size, Image.Resampling.BILINEAR).save(buffer, "JPEG", quality=quality)
    path.write_bytes(buffer.getvalue())


@pytest.fixture()
def originals(shared_data: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "originals"
    folder.mkdir()
    for name in [VICTIM, *DISTRACTORS]:
        if not (shared_data / name).exists():
            pytest.skip(f"{name} not in the shared data")
        shutil.copy(shared_data / name, folder / Path(name).name)
    return folder


def _swap(shared_data: Path) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """The victim photo with its face region replaced by another person's face."""
    victim = _rgb(shared_data / VICTIM).copy()
    donor = _rgb(shared_data / DONOR)
    x0, y0, x1, y1 = _face_box(victim)
    d0, e0, d1, e1 = _face_box(donor)
    patch = Image.fromarray(donor[e0:e1, d0:d1]).resize((x1 - x0, y1 - y0))
    victim[y0:y1, x0:x1] = np.asarray(patch)
    return victim, (x0, y0, x1, y1)


def test_a_face_swapped_resized_jpeg_copy_is_traced_and_the_face_boxed(
    shared_data: Path, originals: Path, tmp_path: Path
) -> None:
    swapped, face = _swap(shared_data)
    scale = 0.7
    suspect = tmp_path / "suspect.jpg"
    _jpeg(swapped, suspect, scale, quality=70)
    diff = tmp_path / "evidence"

    result = CliRunner().invoke(
        app, ["verify", str(suspect), "--originals", str(originals), "--diff", str(diff), "--json"]
    )
    assert result.exit_code == 0, result.output
    found = json.loads(result.output)["original"]
    comparison = found["comparison"]
    assert found["found"] and Path(comparison["original"]).name == Path(VICTIM).name
    assert comparison["outcome"] == "altered"
    face_in_suspect = [v * scale for v in face]
    faces = [r["box"] for r in comparison["regions"] if r["kind"] == "face"]
    assert max(_iou(box, face_in_suspect) for box in faces) >= 0.4
    assert sorted(p.name for p in diff.iterdir()) == ["heatmap.png", "side_by_side.png"]


def test_a_cropped_copy_is_still_traced(shared_data: Path, originals: Path, tmp_path: Path) -> None:
    swapped, face = _swap(shared_data)
    height, width = swapped.shape[:2]
    top, left = round(height * 0.08), round(width * 0.1)
    cropped = swapped[top:, left : round(width * 0.95)]
    suspect = tmp_path / "cropped.jpg"
    _jpeg(cropped, suspect, 0.6, quality=60)

    result = CliRunner().invoke(
        app, ["verify", str(suspect), "--originals", str(originals), "--json"]
    )
    comparison = json.loads(result.output)["original"]["comparison"]
    assert Path(comparison["original"]).name == Path(VICTIM).name
    x0, y0, x1, y1 = face
    expected = [(x0 - left) * 0.6, (y0 - top) * 0.6, (x1 - left) * 0.6, (y1 - top) * 0.6]
    faces = [r["box"] for r in comparison["regions"] if r["kind"] == "face"]
    assert max(_iou(box, expected) for box in faces) >= 0.4


def test_an_unchanged_re_encoded_copy_shows_no_changed_region(
    shared_data: Path, originals: Path, tmp_path: Path
) -> None:
    suspect = tmp_path / "copy.jpg"
    _jpeg(_rgb(shared_data / VICTIM), suspect, 0.7, quality=70)
    result = CliRunner().invoke(
        app, ["verify", str(suspect), "--originals", str(originals), "--json"]
    )
    found = json.loads(result.output)["original"]
    assert found["found"] and found["comparison"]["outcome"] == "same_content"
    assert found["comparison"]["regions"] == []


def test_an_unrelated_picture_has_no_original(
    shared_data: Path, originals: Path, tmp_path: Path
) -> None:
    result = CliRunner().invoke(
        app, ["verify", str(shared_data / DONOR), "--originals", str(originals), "--json"]
    )
    found = json.loads(result.output)["original"]
    assert found["candidates"] == 5 and not found["found"]


def test_a_folder_of_one_unrelated_picture_is_counted_in_the_singular(
    shared_data: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "one"
    folder.mkdir()
    shutil.copy(shared_data / DISTRACTORS[0], folder)
    result = CliRunner().invoke(
        app, ["verify", str(shared_data / DONOR), "--originals", str(folder)]
    )
    text = " ".join(result.output.split())
    assert f"Original: the one file in folder {folder} does not show the same photo" in text


def test_protected_originals_are_searched_without_naming_a_folder(
    shared_data: Path, tmp_path: Path
) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["keys", "init", "--name", "Ada Example"]).exit_code == 0
    signed = tmp_path / "mine.jpg"
    assert (
        runner.invoke(app, ["protect", str(shared_data / VICTIM), "-o", str(signed)]).exit_code == 0
    )
    swapped, _ = _swap(shared_data)
    suspect = tmp_path / "suspect.jpg"
    _jpeg(swapped, suspect, 0.7, quality=70)
    found = json.loads(runner.invoke(app, ["verify", str(suspect), "--json"]).output)["original"]
    assert found["searched"] == "your registry of protected originals"
    comparison = found["comparison"]
    assert comparison["original"] == str(signed.resolve())
    assert comparison["outcome"] == "altered" and comparison["regions"]
