"""`unmask compare` on media made in the test: the example photo, copies of it as re-publishing
makes them (re-encoded, scaled, mirrored, letterboxed), a face replaced, and a video panning
over it at other frame rates and trims, with a still grabbed from it."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import av
import jsonschema
import numpy as np
import pytest
from click.testing import CliRunner
from media_factory import EXAMPLE, gradient
from PIL import Image

from unmask.cli import app
from unmask.compare import compare_files, controls
from unmask.compare.result import json_schema
from unmask.faces import FaceDetector

WINDOW = (400, 300)
"""Width and height of the panning video's frames (a window moving over the example photo)."""
TOP = 20


@pytest.fixture(autouse=True)
def _own_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UNMASK_HOME", str(tmp_path / "home"))


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    return np.asarray(Image.open(EXAMPLE).convert("RGB"))


@pytest.fixture(scope="module")
def face(photo: np.ndarray) -> tuple[float, float, float, float]:
    return FaceDetector().detect(photo)[0].box


def _replace_face(rgb: np.ndarray, box: tuple[float, ...]) -> np.ndarray:
    """The face turned upside down inside its box: every feature moves, colours stay."""
    x0, y0, x1, y1 = (round(v) for v in box)
    out = rgb.copy()
    out[y0:y1, x0:x1] = rgb[y0:y1, x0:x1][::-1, ::-1]
    return out


def _jpeg(path: Path, rgb: np.ndarray, quality: int = 90) -> Path:
    path.write_bytes(controls.jpeg_bytes(rgb, quality))
    return path


def _pan(photo: np.ndarray, n: int, altered: range = range(0)) -> list[np.ndarray]:
    """Frames of a camera panning right by 1 px per frame; the face replaced in `altered`."""
    face = FaceDetector().detect(photo)[0].box
    frames = []
    for i in range(n):
        picture = _replace_face(photo, face) if i in altered else photo
        frames.append(picture[TOP : TOP + WINDOW[1], 40 + i : 40 + i + WINDOW[0]].copy())
    return frames


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory, photo: np.ndarray) -> Path:
    path = tmp_path_factory.mktemp("video") / "original.mp4"
    return controls.write_h264(path, _pan(photo, 75), 25)


def _compare(*args: str) -> tuple[int, dict]:
    result = CliRunner().invoke(app, ["compare", *args, "--json", "-q"])
    document = json.loads(result.output)
    if "error" not in document:
        jsonschema.validate(document, json_schema())
    return result.exit_code, document


def _iou(a: list[float], b: list[float]) -> float:
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def test_a_re_encoded_scaled_copy_is_the_same_content(photo: np.ndarray, tmp_path: Path) -> None:
    copy = tmp_path / "copy.jpg"
    copy.write_bytes(controls.still_control(photo, "scale_0.75"))
    again = tmp_path / "q70.jpg"
    again.write_bytes(controls.still_control(np.asarray(Image.open(copy)), "jpeg_q70"))
    code, result = _compare(str(again), str(EXAMPLE))
    assert (code, result["outcome"], result["regions"]) == (0, "same_content", [])
    assert result["alignment"]["scale"] == pytest.approx(0.75, abs=0.01)


def test_a_mirrored_letterboxed_graded_copy_is_the_same_content(
    photo: np.ndarray, tmp_path: Path
) -> None:
    mirrored = np.ascontiguousarray(photo[:, ::-1])
    boxed = np.pad(mirrored, ((60, 60), (0, 0), (0, 0)))
    graded = np.clip(boxed.astype(np.float32) ** 0.9 * 1.1, 0, 255).astype(np.uint8)
    code, result = _compare(str(_jpeg(tmp_path / "m.jpg", graded, 80)), str(EXAMPLE))
    assert (code, result["outcome"]) == (0, "same_content")
    assert result["alignment"]["mirrored"] is True
    assert result["alignment"]["matrix"][1][2] == pytest.approx(60, abs=1.5)


def test_a_distorted_face_is_altered_and_named_from_the_original(
    photo: np.ndarray, face: tuple[float, ...], tmp_path: Path
) -> None:
    suspect = _jpeg(tmp_path / "distorted.jpg", _replace_face(photo, face), 85)
    code, result = _compare(str(suspect), str(EXAMPLE))
    assert (code, result["outcome"]) == (1, "altered")
    region = result["regions"][0]
    assert region["kind"] == "face" and region["face_in_original"] is True
    assert _iou(region["box"], list(face)) >= 0.5
    # Upside down, the face is no longer found in the suspect: the original's face names it.
    assert region["track_id"] is None and "the original's face at" in result["summary"]


def test_an_unrelated_picture_has_no_common_source(photo: np.ndarray, tmp_path: Path) -> None:
    other = _jpeg(tmp_path / "other.jpg", gradient(512, 512, seed=3))
    code, result = _compare(str(other), str(EXAMPLE))
    assert (code, result["outcome"], result["alignment"]) == (0, "no_common_source", None)
    assert "cannot say whether anything was altered" in result["summary"]


def test_the_right_original_is_chosen_among_several(photo: np.ndarray, tmp_path: Path) -> None:
    other = _jpeg(tmp_path / "other.jpg", gradient(512, 512, seed=4))
    suspect = tmp_path / "copy.jpg"
    suspect.write_bytes(controls.still_control(photo, "crop_3pct"))
    code, result = _compare(str(suspect), str(other), str(EXAMPLE))
    assert (code, result["outcome"], result["original"]) == (0, "same_content", str(EXAMPLE))
    assert result["candidates"] == [str(EXAMPLE), str(other)]


@pytest.mark.parametrize("kind", ["other_fps", "trim_1s", "h264_crf35"])
def test_a_re_published_video_is_the_same_content(video: Path, tmp_path: Path, kind: str) -> None:
    copy = controls.video_control(video, tmp_path / f"{kind}.mp4", kind)
    code, result = _compare(str(copy), str(video))
    assert (code, result["outcome"]) == (0, "same_content"), result["summary"]
    offset = 1.0 if kind == "trim_1s" else 0.0
    assert result["alignment"]["time_offset_s"] == pytest.approx(offset, abs=0.05)
    matched = [
        (f["suspect_time_s"] + offset, f["original_time_s"]) for f in result["aligned_frames"]
    ]
    assert all(abs(a - b) <= 0.05 for a, b in matched)


def test_a_face_replaced_in_some_frames_is_dated(
    photo: np.ndarray, video: Path, tmp_path: Path
) -> None:
    suspect = controls.write_h264(tmp_path / "swap.mp4", _pan(photo, 75, range(25, 50)), 25)
    code, result = _compare(str(suspect), str(video))
    assert (code, result["outcome"]) == (1, "altered")
    faces = [r for r in result["regions"] if r["kind"] == "face"]
    assert len(faces) == 1 and not [r for r in result["regions"] if r["kind"] == "other"]
    assert faces[0]["frames"][0] >= 25 and faces[0]["frames"][-1] <= 49
    start, end = faces[0]["time_range_s"]
    assert 0.96 <= start <= 1.3 and 1.7 <= end <= 1.96
    assert f"frames {faces[0]['frames'][0]}-{faces[0]['frames'][-1]}" in result["summary"]


def test_a_still_grabbed_from_the_video_finds_its_frame(
    photo: np.ndarray, video: Path, tmp_path: Path
) -> None:
    frame = _pan(photo, 41)[40]
    still = tmp_path / "grab.jpg"
    still.write_bytes(controls.still_control(frame, "scale_0.75"))
    code, result = _compare(str(still), str(video))
    assert (code, result["outcome"]) == (0, "same_content")
    assert result["aligned_frames"][0]["original_frame"] == 40


def test_evidence_pictures_are_blurred_unless_revealed(
    photo: np.ndarray, face: tuple[float, ...], tmp_path: Path
) -> None:
    suspect = _jpeg(tmp_path / "swapped.jpg", _replace_face(photo, face))
    detail = {}
    for name, extra in (("blurred", []), ("sharp", ["--reveal"])):
        folder = tmp_path / name
        _compare(str(suspect), str(EXAMPLE), "--diff", str(folder), *extra)
        assert sorted(p.name for p in folder.iterdir()) == ["heatmap.png", "side_by_side.png"]
        grey = np.asarray(Image.open(folder / "side_by_side.png").convert("L"), dtype=float)
        detail[name] = np.abs(np.diff(grey, axis=1)).mean()
    assert detail["blurred"] * 3 < detail["sharp"]


def test_a_folder_of_originals_is_searched_and_indexed_once(
    photo: np.ndarray, video: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from unmask import hashing

    folder = tmp_path / "originals"
    folder.mkdir()
    for seed in range(3):
        _jpeg(folder / f"other{seed}.jpg", gradient(300, 200, seed=seed))
    (folder / "clip.mp4").write_bytes(video.read_bytes())
    _jpeg(folder / "astronaut.jpg", photo)
    suspect = tmp_path / "suspect.jpg"
    suspect.write_bytes(controls.still_control(photo, "mirror"))

    code, result = _compare(str(suspect), "--originals", str(folder))
    assert (code, result["outcome"]) == (0, "same_content")
    assert Path(result["original"]).name == "astronaut.jpg"

    calls = []
    original_hash = hashing.hash_file
    monkeypatch.setattr(
        hashing, "hash_file", lambda *a, **k: calls.append(a) or original_hash(*a, **k)
    )
    code, again = _compare(str(suspect), "--originals", str(folder))
    assert again["original"] == result["original"] and calls == []


def test_unreadable_and_audio_only_files_get_a_clear_message(
    tmp_path: Path, photo: np.ndarray
) -> None:
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg" * 10)
    audio = tmp_path / "audio.mp4"
    with av.open(str(audio), "w") as container:
        stream = container.add_stream("aac", rate=44100)
        for _ in range(10):
            frame = av.AudioFrame.from_ndarray(
                np.zeros((1, 1024), np.float32), format="fltp", layout="mono"
            )
            frame.sample_rate = 44100
            for packet in stream.encode(frame):
                container.mux(packet)
    for bad, words in ((broken, "broken.jpg"), (audio, "no video stream")):
        result = CliRunner().invoke(app, ["compare", str(EXAMPLE), str(bad)])
        assert result.exit_code == 2 and words in result.output
        assert "Traceback" not in result.output
        code, document = _compare(str(bad), str(EXAMPLE))
        assert code == 2 and document["error"]["message"].startswith(str(bad))


def test_wrong_usage_exits_64_with_advice(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "unmask.cli", "compare", str(EXAMPLE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 64 and "--originals DIR" in done.stderr


def test_the_engine_keeps_the_suspect_pixels_in_its_boxes(
    photo: np.ndarray, face: tuple[float, ...], tmp_path: Path
) -> None:
    big = np.asarray(Image.fromarray(_replace_face(photo, face)).resize((1024, 1024)))
    suspect = tmp_path / "big.png"
    Image.fromarray(big).save(suspect, format="PNG")
    result = compare_files(suspect, [EXAMPLE])
    assert result.outcome == "altered"
    assert _iou(list(result.regions[0].box), [v * 2 for v in face]) >= 0.5


def test_help_explains_the_three_outcomes() -> None:
    text = CliRunner().invoke(app, ["compare", "--help"]).output
    for outcome in ("altered", "same_content", "no_common_source"):
        assert outcome in text
    assert "blurred" in text and io is not None


def test_verify_with_originals_compares_videos_too(
    photo: np.ndarray, video: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "originals"
    folder.mkdir()
    (folder / "clip.mp4").write_bytes(video.read_bytes())
    _jpeg(folder / "unrelated.jpg", gradient(300, 200, seed=5))
    suspect = controls.write_h264(tmp_path / "swap.mp4", _pan(photo, 75, range(10, 60)), 25)
    result = CliRunner().invoke(app, ["verify", str(suspect), "--originals", str(folder), "--json"])
    assert result.exit_code == 0, result.output
    found = json.loads(result.output)["original"]
    assert found["found"] and found["candidates"] == 2
    comparison = found["comparison"]
    assert Path(comparison["original"]).name == "clip.mp4"
    assert comparison["outcome"] == "altered"
