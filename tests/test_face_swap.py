"""The face-manipulation check end to end, with a stand-in model that scores colour: crops reach
the model as the card says, probabilities are calibrated by the card, tracks and files are
aggregated by the documented rule, and the verdict's words and thresholds follow the card."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import av
import jsonschema
import numpy as np
import pytest
from face_model_factory import CARD, expected_logit, write_model
from media_factory import EXAMPLE
from PIL import Image

from unmask import models as installed
from unmask.config import ScanConfig
from unmask.detectors.face_swap import MIN_TRACK_DETECTIONS, file_probability
from unmask.errors import ModelError
from unmask.faces import crop_face
from unmask.models import ModelNotInstalledError, load_card, parse_card
from unmask.result import FaceTrack, Finding, json_schema
from unmask.scan import Scanner
from unmask.verdict import NO_FACE_MODEL, decide

RED = (1.0, 1.0, 0.3)
BLUE = (0.5, 0.9, 1.2)
NEVER_SAY = ("real", "authentic", "genuine")


def sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def tinted(tint: tuple[float, float, float]) -> np.ndarray:
    rgb = np.asarray(Image.open(EXAMPLE).convert("RGB"), dtype=np.float64)
    return np.clip(rgb * np.array(tint), 0, 255).astype(np.uint8)


def save_png(rgb: np.ndarray, path: Path) -> Path:
    Image.fromarray(rgb).save(path)
    return path


def write_face_video(path: Path, tints: list[tuple[float, float, float]], fps: int = 5) -> Path:
    """An H.264 video of the example portrait, one second per tint, in order."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=Fraction(fps))
        stream.width, stream.height = 512, 512
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": "12"}
        for tint in tints:
            picture = tinted(tint)
            for _ in range(fps):
                frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
                for packet in stream.encode(frame):
                    container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def unmask(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "unmask.cli", *args],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=cwd,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
    )


@pytest.fixture
def colour_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = write_model(tmp_path / "model")
    monkeypatch.setenv("UNMASK_FACE_SWAP_MODEL", str(path))
    return path


@pytest.fixture
def no_shipped_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An install without face_swap.onnx (the face detector's files are still there)."""
    folder = tmp_path / "installed-models"
    folder.mkdir()
    for shipped in installed.MODEL_DIR.glob("mtcnn_*.onnx"):
        (folder / shipped.name).symlink_to(shipped)
    monkeypatch.setattr(installed, "MODEL_DIR", folder)
    monkeypatch.delenv("UNMASK_FACE_SWAP_MODEL", raising=False)


def face_scanner(**options: object) -> Scanner:
    return Scanner(ScanConfig(detectors=("face_swap",), **options))  # type: ignore[arg-type]


# --- per face ----------------------------------------------------------------------------


def test_a_reddish_face_is_likely_manipulated_and_a_bluish_one_shows_no_signs(
    colour_model: Path, tmp_path: Path
):
    scanner = face_scanner()
    red = scanner.scan(save_png(tinted(RED), tmp_path / "red.png"))
    blue = scanner.scan(save_png(tinted(BLUE), tmp_path / "blue.png"))

    assert red.verdict is not None and blue.verdict is not None
    assert red.verdict.label == "likely_manipulated" and red.verdict.probability > 0.95
    assert blue.verdict.label == "no_signs_found" and blue.verdict.probability < 0.05
    [finding] = red.findings
    assert (finding.code, finding.indicates, finding.strength) == (
        "face_manipulation",
        "manipulation",
        "strong",
    )
    assert finding.track_id == 0 and finding.evidence["model"]["version"] == "test-colour"
    assert blue.findings[0].strength == "info"


def test_the_model_sees_the_scan_crop_in_rgb_0_to_255_and_the_card_temperature_calibrates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    card = {**CARD, "temperature": 4.0}
    monkeypatch.setenv("UNMASK_FACE_SWAP_MODEL", str(write_model(tmp_path / "m", card)))
    picture = tinted(RED)
    result = face_scanner().scan(save_png(picture, tmp_path / "red.png"))

    detection = result.faces[0].detections[0]
    crop = crop_face(picture, detection.box, 0.2, 224)
    expected = sigmoid(expected_logit(crop) / 4.0)
    assert result.findings[0].score == pytest.approx(expected, abs=1e-3)
    assert result.verdict is not None and result.verdict.probability == pytest.approx(expected)


def test_a_checkpoint_given_in_the_config_wins_over_the_environment(
    colour_model: Path, tmp_path: Path
):
    mine = write_model(tmp_path / "mine", {**CARD, "version": "my-own"})
    result = face_scanner(face_swap_model=mine).scan(save_png(tinted(RED), tmp_path / "r.png"))
    assert result.findings[0].evidence["model"]["version"] == "my-own"
    assert result.verdict is not None and result.verdict.face_model is not None
    assert result.verdict.face_model.version == "my-own"


# --- aggregation -------------------------------------------------------------------------


def test_a_video_track_scores_the_mean_of_its_frames_with_max_and_share_above_threshold(
    colour_model: Path, tmp_path: Path
):
    video = write_face_video(tmp_path / "half.mp4", [RED, RED, BLUE, BLUE])
    result = face_scanner(frames=8).scan(video)

    assert result.ok, result.error
    assert len(result.faces) == 1
    [finding] = result.findings
    timeline = finding.evidence["frames"]
    probabilities = [frame["probability"] for frame in timeline]
    assert len(timeline) == len(result.faces[0].detections) == 8
    assert [f["time_s"] for f in timeline] == sorted(f["time_s"] for f in timeline)
    assert probabilities[0] > 0.95 and probabilities[-1] < 0.05  # red first, then blue
    assert finding.score == pytest.approx(np.mean(probabilities), abs=1e-4)
    assert finding.evidence["max"] == pytest.approx(max(probabilities), abs=1e-4)
    share = np.mean(np.asarray(probabilities) >= CARD["threshold"])
    assert finding.evidence["fraction_at_or_above_threshold"] == pytest.approx(share)
    assert 0.3 < share < 0.7
    assert "mean of the per-frame probabilities" in finding.evidence["aggregation"]
    # a half-swapped video lands in between; the verdict follows the card's band
    assert result.verdict is not None
    assert result.verdict.probability == pytest.approx(finding.score)
    low, high = CARD["inconclusive_band"]
    expected = "inconclusive" if low <= finding.score < high else "no_signs_found"
    assert result.verdict.label == expected
    jsonschema.validate(result.to_dict(), json_schema())


def test_a_model_measured_on_photos_only_is_not_run_on_a_video_and_the_verdict_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    model = write_model(tmp_path / "m", {**CARD, "media": ["image"]})
    monkeypatch.setenv("UNMASK_FACE_SWAP_MODEL", str(model))
    scanner = face_scanner(frames=4)
    video = scanner.scan(write_face_video(tmp_path / "red.mp4", [RED, RED]))
    photo = scanner.scan(save_png(tinted(RED), tmp_path / "red.png"))

    assert video.ok and len(video.faces) == 1  # the face was found, and not scored
    assert video.findings == [] and video.verdict is not None
    assert video.verdict.label == "inconclusive" and video.verdict.probability is None
    assert "measured on photos only, so it was not run on this file" in video.verdict.headline
    assert "no signs" not in video.verdict.headline.lower()
    assert video.verdict.not_covered[0].startswith("Face swaps and reenactments in videos")
    assert not any(check.startswith("face_swap") for check in video.verdict.checks_run)
    jsonschema.validate(video.to_dict(), json_schema())
    # on a photo the same model runs as before
    assert photo.verdict is not None and photo.verdict.label == "likely_manipulated"
    assert any(check.startswith("face_swap") for check in photo.verdict.checks_run)


@pytest.mark.parametrize(
    ("limits", "why"),
    [
        ({"min_face_px": 5000}, "smaller than the 5000 px faces the model was measured on"),
        ({"min_face_score": 1.0}, "found it with confidence"),
    ],
)
def test_a_face_unlike_those_the_model_was_measured_on_is_not_checked_and_never_reads_as_no_signs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, limits: dict, why: str
):
    model = write_model(tmp_path / "m", {**CARD, **limits})
    monkeypatch.setenv("UNMASK_FACE_SWAP_MODEL", str(model))
    # a bluish face: scored, it would show no signs
    result = face_scanner().scan(save_png(tinted(BLUE), tmp_path / "blue.png"))

    assert result.ok and len(result.faces) == 1
    [finding] = result.findings
    assert finding.code == "face_not_checked" and finding.score is None
    assert finding.indicates == "none" and finding.track_id == 0
    assert why in finding.summary
    assert result.verdict is not None and result.verdict.label == "inconclusive"
    assert result.verdict.probability is None
    assert "model did not check the face found" in result.verdict.headline
    assert "no signs" not in result.verdict.headline.lower()
    assert finding.summary in result.verdict.reasons
    jsonschema.validate(result.to_dict(), json_schema())


def test_a_face_the_model_can_check_is_scored_as_before_when_the_card_sets_limits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    card = {**CARD, "min_face_px": 40, "min_face_score": 0.9}
    monkeypatch.setenv("UNMASK_FACE_SWAP_MODEL", str(write_model(tmp_path / "m", card)))
    result = face_scanner().scan(save_png(tinted(RED), tmp_path / "red.png"))
    assert result.verdict is not None and result.verdict.label == "likely_manipulated"
    assert [f.code for f in result.findings] == ["face_manipulation"]


def test_with_mirror_average_the_model_scores_each_crop_and_its_mirror_image(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    from unmask.detectors import face_swap

    seen: list[np.ndarray] = []
    original = face_swap.FaceSwapDetector.predict

    def spy(self, crops):  # type: ignore[no-untyped-def]
        seen.append(crops.copy())
        return original(self, crops)

    monkeypatch.setattr(face_swap.FaceSwapDetector, "predict", spy)
    card = {**CARD, "mirror_average": True}
    monkeypatch.setenv("UNMASK_FACE_SWAP_MODEL", str(write_model(tmp_path / "m", card)))
    picture = tinted(RED)
    picture[:, :256] = tinted(BLUE)[:, :256]  # left and right differ, so the mirror does too
    result = face_scanner().scan(save_png(picture, tmp_path / "half.png"))

    assert len(seen) == 2 and not np.array_equal(seen[0], seen[1])
    np.testing.assert_array_equal(seen[1], seen[0][:, :, ::-1])
    [finding] = result.findings
    logit = (expected_logit(seen[0][0]) + expected_logit(seen[1][0])) / 2
    assert finding.score == pytest.approx(sigmoid(logit), abs=1e-4)


def test_faces_left_unchecked_are_named_in_a_no_signs_headline():
    scored = Finding(
        detector="face_swap",
        code="face_manipulation",
        summary="Face 0: face-manipulation probability 0.10.",
        indicates="manipulation",
        score=0.1,
        track_id=0,
    )
    unchecked = dataclasses.replace(
        scored,
        code="face_not_checked",
        summary="Face 1: not checked for a swap: it is at most 30 px across.",
        indicates="none",
        score=None,
        track_id=1,
    )
    verdict = decide([scored, unchecked], [], [], face_probability=0.1, face_model=card_with())
    assert verdict.label == "no_signs_found"
    assert "did not look at 1 other face: too small or too unclear" in verdict.headline
    assert unchecked.summary in verdict.reasons
    # the unchecked face is part of the face check, not a file-level "noted" measurement
    assert "for a person to interpret" not in verdict.headline
    other = dataclasses.replace(unchecked, track_id=2, summary="Face 2: not checked.")
    tracks = [FaceTrack(track_id=i, detections=[]) for i in (1, 2)]
    none_checked = decide([unchecked, other], tracks, [], face_model=card_with())
    assert none_checked.label == "inconclusive" and none_checked.probability is None
    assert "checked none of the 2 faces found (each is smaller" in none_checked.headline


def test_the_file_score_comes_from_tracks_seen_in_enough_frames():
    assert MIN_TRACK_DETECTIONS == 3
    # a face glimpsed in one frame does not outvote one followed through the video
    assert file_probability([(0.95, 1), (0.2, 12)]) == 0.2
    # the highest of the long tracks: a swapped face among others is not averaged away
    assert file_probability([(0.1, 10), (0.9, 5), (0.99, 2)]) == 0.9
    # a photo (every track one detection): the highest face
    assert file_probability([(0.3, 1), (0.8, 1)]) == 0.8
    assert file_probability([]) is None


# --- verdict -----------------------------------------------------------------------------


def card_with(**changes: object):
    return parse_card({**CARD, **changes}, Path("card.json"))


@pytest.mark.parametrize(
    ("probability", "label"),
    [
        (0.93, "likely_manipulated"),
        (0.7, "likely_manipulated"),
        (0.55, "inconclusive"),
        (0.4, "inconclusive"),
        (0.39, "no_signs_found"),
    ],
)
def test_verdict_words_follow_the_card_band(probability: float, label: str):
    verdict = decide([], [], [], face_probability=probability, face_model=card_with())
    assert verdict.label == label
    assert verdict.probability == probability
    words = verdict.headline.lower()
    assert not any(word in words.split() for word in NEVER_SAY)
    if label == "likely_manipulated":
        assert f"likely manipulated (probability {probability:.2f})" in verdict.headline
        assert "3.1%" in verdict.headline  # the card's measured false-positive rate
    if label == "no_signs_found":
        assert verdict.headline.startswith("No signs of manipulation found by these checks")


def test_moving_the_threshold_in_the_card_moves_the_verdict():
    strict = card_with(threshold=0.95, inconclusive_band=[0.8, 0.95])
    assert decide([], [], [], face_probability=0.9, face_model=card_with()).label == (
        "likely_manipulated"
    )
    assert decide([], [], [], face_probability=0.9, face_model=strict).label == "inconclusive"


def test_not_covered_names_what_the_model_does_not_cover_and_how_it_was_measured():
    verdict = decide([], [], [], face_probability=0.1, face_model=card_with())
    text = " ".join(verdict.not_covered)
    assert "fully generated faces" in text and "talking-head animation" in text
    assert "a colour test, not a detector." in text
    assert NO_FACE_MODEL not in verdict.not_covered


def test_with_the_model_but_no_face_the_verdict_says_no_face_was_checked():
    verdict = decide([], [], [], face_probability=None, face_model=card_with())
    assert verdict.label == "inconclusive"
    assert "no face was found" in verdict.headline


# --- no model, broken model --------------------------------------------------------------


def test_without_a_model_the_check_is_skipped_and_the_verdict_says_none_ran(
    no_shipped_model: None,
):
    scanner = Scanner()
    assert "face_swap" in scanner.skipped
    assert "face_swap" not in [d.name for d in scanner.detectors]
    result = scanner.scan(EXAMPLE)
    assert result.verdict is not None
    assert "no face-manipulation model ran" in result.verdict.headline
    assert NO_FACE_MODEL in result.verdict.not_covered
    assert result.verdict.probability is None and result.verdict.face_model is None
    with pytest.raises(ModelNotInstalledError):
        face_scanner()


def test_a_damaged_model_file_is_a_clear_error_naming_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    path = write_model(tmp_path / "broken")
    path.write_bytes(b"this is not an onnx model")
    monkeypatch.setenv("UNMASK_FACE_SWAP_MODEL", str(path))
    with pytest.raises(ModelError, match=r"could not load model .*broken/face_swap\.onnx"):
        Scanner()
    run = unmask("scan", str(EXAMPLE), env={"UNMASK_FACE_SWAP_MODEL": str(path)})
    assert run.returncode == 2
    assert "face_swap.onnx" in run.stderr and "Traceback" not in run.stderr + run.stdout


def test_a_face_the_second_detector_confirms_is_scored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    card = {**CARD, "confirm_faces": True}
    monkeypatch.setenv("UNMASK_FACE_SWAP_MODEL", str(write_model(tmp_path / "m", card)))
    result = face_scanner().scan(save_png(tinted(RED), tmp_path / "red.png"))
    assert [f.code for f in result.findings] == ["face_manipulation"]
    assert result.verdict is not None and result.verdict.label == "likely_manipulated"


def test_a_face_the_second_detector_does_not_confirm_is_not_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    from unmask.detectors import face_swap

    asked: list[tuple[float, ...]] = []

    def cascades_find_nothing(rgb, box):  # type: ignore[no-untyped-def]
        asked.append(tuple(box))
        return False

    monkeypatch.setattr(face_swap, "confirms_face", cascades_find_nothing)
    card = {**CARD, "confirm_faces": True}
    monkeypatch.setenv("UNMASK_FACE_SWAP_MODEL", str(write_model(tmp_path / "m", card)))
    result = face_scanner().scan(save_png(tinted(RED), tmp_path / "red.png"))

    assert asked == [tuple(result.faces[0].detections[0].box)]
    [finding] = result.findings
    assert finding.code == "face_not_checked" and finding.score is None
    assert "second face detector of another kind (OpenCV's Haar cascades) found no face" in (
        finding.summary
    )
    assert finding.evidence["confirm_faces"] is True
    assert result.verdict is not None and result.verdict.label == "inconclusive"
    assert "no signs" not in result.verdict.headline.lower()
    jsonschema.validate(result.to_dict(), json_schema())


def test_video_frames_the_second_detector_does_not_confirm_are_left_out_and_counted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    from unmask.detectors import face_swap

    calls = iter(range(100))
    # confirms the face in every other sampled frame
    monkeypatch.setattr(face_swap, "confirms_face", lambda rgb, box: next(calls) % 2 == 0)
    card = {**CARD, "confirm_faces": True}
    monkeypatch.setenv("UNMASK_FACE_SWAP_MODEL", str(write_model(tmp_path / "m", card)))
    video = write_face_video(tmp_path / "red.mp4", [RED, RED])
    result = face_scanner(frames=8).scan(video)

    assert result.ok, result.error
    [track] = result.faces
    [finding] = result.findings
    assert finding.code == "face_manipulation"
    kept = [d.frame_index for d in track.detections][0::2]
    assert [f["frame_index"] for f in finding.evidence["frames"]] == kept
    assert finding.evidence["detections"] == len(kept) == 4
    assert finding.evidence["frames_not_checked"] == 4
    jsonschema.validate(result.to_dict(), json_schema())


def test_without_confirm_faces_in_the_card_the_second_detector_is_not_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, colour_model: Path
):
    from unmask.detectors import face_swap

    def must_not_run(rgb, box):  # type: ignore[no-untyped-def]
        raise AssertionError("asked the cascades for a card that does not want them")

    monkeypatch.setattr(face_swap, "confirms_face", must_not_run)
    result = face_scanner().scan(save_png(tinted(RED), tmp_path / "red.png"))
    assert [f.code for f in result.findings] == ["face_manipulation"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"threshold": None}, "threshold must be a number"),
        ({"inconclusive_band": [0.4, 0.6]}, "inconclusive_band"),
        ({"temperature": -1}, "temperature"),
        ({"does_not_cover": "everything"}, "does_not_cover"),
        ({"media": ["photo"]}, "media must be"),
        ({"media": []}, "media must be"),
        ({"confirm_faces": "yes"}, "confirm_faces must be true or false"),
    ],
)
def test_a_bad_card_is_a_clear_error_naming_the_key(tmp_path: Path, change: dict, message: str):
    path = write_model(tmp_path / "m", {**CARD, **change})
    with pytest.raises(ModelError, match=message) as error:
        load_card("face_swap", path)
    assert "face_swap.json" in error.value.message


def test_a_missing_card_or_checkpoint_is_named(tmp_path: Path):
    path = write_model(tmp_path / "m")
    path.with_suffix(".json").unlink()
    with pytest.raises(ModelError, match=r"model card .*face_swap\.json is missing"):
        load_card("face_swap", path)
    with pytest.raises(ModelError, match="does not exist"):
        load_card("face_swap", tmp_path / "nowhere.onnx")


# --- what the user sees ------------------------------------------------------------------


def test_scan_shows_face_probability_timeline_and_writes_heatmap_overlays(
    colour_model: Path, tmp_path: Path
):
    video = write_face_video(tmp_path / "clip.mp4", [RED, BLUE])
    maps = tmp_path / "maps"
    run = unmask(
        "scan",
        str(video),
        "--frames",
        "6",
        "--detectors",
        "face_swap",
        "--maps",
        str(maps),
        env={"UNMASK_FACE_SWAP_MODEL": str(colour_model)},
    )
    assert run.returncode in (0, 1), run.stderr
    assert "manipulation probability" in run.stdout
    timeline = next(line for line in run.stdout.splitlines() if "timeline" in line)
    assert "█" in timeline and "▁" in timeline and "over 6 frames" in timeline
    [overlay] = maps.glob("*heatmap_track0.png")
    assert Image.open(overlay).size == (224, 224)


def test_table_view_shows_the_face_probability(colour_model: Path, tmp_path: Path):
    folder = tmp_path / "inbox"
    folder.mkdir()
    save_png(tinted(RED), folder / "red.png")
    save_png(tinted(BLUE), folder / "blue.png")
    run = unmask("scan", str(folder), "--detectors", "face_swap", "-q", "--json")
    document = json.loads(run.stdout)
    by_name = {Path(r["path"]).name: r for r in document["results"]}
    assert by_name["red.png"]["verdict"]["face_model"]["threshold"] == CARD["threshold"]
    run = unmask("scan", ".", "--detectors", "face_swap", "-q", cwd=folder)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "Face prob." in run.stdout
    red_row = next(line for line in run.stdout.splitlines() if "red.png" in line)
    assert f"{by_name['red.png']['verdict']['probability']:.2f}" in red_row
