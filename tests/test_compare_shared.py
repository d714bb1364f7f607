"""`unmask compare` on real media from ../shared/data: DeepFaceLive swaps against their own
originals, a swap against the wrong original, a different shot, a face pasted from another
photo, and an original against its own H.264 CRF 35 copy. A few cases only (the whole sweep is
bench/bench_compare.py); they skip where the shared data is absent."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from unmask.cli import app
from unmask.compare import compare_files, controls
from unmask.faces import FaceDetector
from unmask.result import json_schema as scan_schema

PAIRS = "videos/{half}/DeepFaceLive__doc__celebs__{name}__{part}.mp4"
VICTIM = "faces/real/Deep3DFaceRecon_pytorch__datasets__examples__000006.jpg"
DONOR = "faces/real/hardfakevsreal__images__real__real_16.jpg"


@pytest.fixture(autouse=True)
def _own_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UNMASK_HOME", str(tmp_path / "home"))


def _pair(data: Path, name: str) -> tuple[Path, Path]:
    swap = data / PAIRS.format(half="fake", name=name, part="right_swap")
    original = data / PAIRS.format(half="real", name=name, part="left_original")
    if not swap.exists() or not original.exists():
        pytest.skip(f"the {name} pair is not in the shared data")
    return swap, original


@pytest.mark.parametrize("name", ["Ava_de_Addario__Ava_de_Addario_0", "Tim_Norland__Tim_Norland_1"])
def test_a_deepfacelive_swap_is_altered_and_its_face_named(shared_data: Path, name: str) -> None:
    swap, original = _pair(shared_data, name)
    result = compare_files(swap, [original])
    assert result.outcome == "altered", result.summary
    faces = [r for r in result.regions if r.kind == "face"]
    assert faces and faces[0].face_in_original is True and len(faces[0].frames) >= 2
    assert faces[0].time_range_s is not None and faces[0].time_range_s[1] > faces[0].time_range_s[0]
    assert len(result.aligned_frames) >= 28 and result.alignment is not None
    assert abs(result.alignment.scale - 1) < 0.02 and not result.alignment.mirrored


def test_a_different_shot_has_no_common_source(shared_data: Path) -> None:
    swap, original = _pair(shared_data, "Dean_Wiesel__Dean_Wiesel_2")
    assert compare_files(swap, [original]).outcome == "no_common_source"


@pytest.mark.parametrize(
    "other", ["Tim_Norland__Tim_Norland_1", "Ava_de_Addario__Ava_de_Addario_1"]
)
def test_a_swap_against_the_wrong_original_is_never_altered(shared_data: Path, other: str) -> None:
    swap, _ = _pair(shared_data, "Ava_de_Addario__Ava_de_Addario_0")
    _, wrong = _pair(shared_data, other)
    result = compare_files(swap, [wrong])
    assert result.outcome == "no_common_source", result.summary


def test_an_original_against_its_crf35_copy_is_the_same_content(
    shared_data: Path, tmp_path: Path
) -> None:
    _, original = _pair(shared_data, "Ewon_Spice__Ewon_Spice_1")
    copy = controls.video_control(original, tmp_path / "crf35.mp4", "h264_crf35")
    result = compare_files(copy, [original])
    assert (result.outcome, result.regions) == ("same_content", []), result.summary


def test_a_face_pasted_from_another_photo_is_altered_and_named(
    shared_data: Path, tmp_path: Path
) -> None:
    victim = np.asarray(Image.open(shared_data / VICTIM).convert("RGB"))
    donor = np.asarray(Image.open(shared_data / DONOR).convert("RGB"))
    detector = FaceDetector()
    box, donor_box = detector.detect(victim)[0].box, detector.detect(donor)[0].box
    pasted = controls.paste_face(victim, box, donor, donor_box)
    suspect = tmp_path / "pasted.jpg"
    suspect.write_bytes(controls.jpeg_bytes(pasted, 85))
    result = compare_files(suspect, [shared_data / VICTIM])
    assert result.outcome == "altered"
    face = result.regions[0]
    assert face.kind == "face" and face.face_in_original is True
    x0, y0, x1, y1 = face.box
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    assert x0 <= cx <= x1 and y0 <= cy <= y1


def test_scan_with_the_original_makes_the_swap_a_strong_finding(shared_data: Path) -> None:
    swap, original = _pair(shared_data, "Ava_de_Addario__Ava_de_Addario_0")
    result = CliRunner().invoke(
        app, ["scan", str(swap), "--original", str(original), "--json", "-q"]
    )
    assert result.exit_code == 1, result.output
    document = json.loads(result.output)
    scanned = document["results"][0] if "results" in document else document
    jsonschema.validate(scanned, scan_schema())
    finding = next(f for f in scanned["findings"] if f["detector"] == "compare")
    assert (finding["code"], finding["strength"]) == ("differs_from_original", "strong")
    assert scanned["verdict"]["label"] == "likely_manipulated"
    assert "it was replaced" in scanned["verdict"]["headline"]


def test_another_moment_of_the_same_scene_is_not_altered(shared_data: Path, tmp_path: Path) -> None:
    """The second half of a clip against its first half: same room, same camera, same person,
    but never the same frames. It lines up in space; it must not be called altered."""
    from unmask.media import open_media

    _, original = _pair(shared_data, "Ewon_Spice__Ewon_Spice_1")
    media = open_media(original, n_frames=10_000)
    half = len(media.frames) // 2
    rate = media.fps or 25.0
    first = controls.write_h264(tmp_path / "first.mp4", [f.rgb for f in media.frames[:half]], rate)
    second = controls.write_h264(
        tmp_path / "second.mp4", [f.rgb for f in media.frames[half:]], rate
    )
    result = compare_files(second, [first])
    assert result.outcome != "altered", result.summary
