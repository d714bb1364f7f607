"""`unmask frames`: still frames of a shared video for a reverse image search."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from hostile_factory import (
    bmff_deep_boxes,
    bmff_many_boxes,
    fifo_jpg,
    gif_frames_bomb,
    webm_without_codec,
)
from PIL import Image

from unmask.cli import app

VIDEO = "videos/real/DeepFaceLive__build__samples__Obama_speaking.mp4"
TIME = re.compile(r"-t(\d\d)h(\d\d)m(\d\d\.\d\d\d)s-f(\d{6})\.(png|jpg)$")


def seconds(name: str) -> float:
    match = TIME.search(name)
    assert match, name
    return int(match[1]) * 3600 + int(match[2]) * 60 + float(match[3])


@pytest.fixture
def video(shared_data: Path) -> Path:
    return shared_data / VIDEO


def test_frames_are_spread_over_the_video_and_named_with_their_time(video: Path, tmp_path: Path):
    out = tmp_path / "frames"
    run = CliRunner().invoke(app, ["frames", str(video), "-o", str(out), "-n", "5"])
    assert run.exit_code == 0, run.output
    written = sorted(out.iterdir(), key=lambda p: seconds(p.name))
    assert len(written) == 5
    times = [seconds(p.name) for p in written]
    assert times[0] < 0.5 and times[-1] > 7.0  # the clip is 8.6 s long
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) > 1.0  # evenly spread, not bunched
    with Image.open(written[2]) as frame:
        assert frame.format == "PNG" and frame.size[0] > 100
    assert str(written[0]) in run.stdout


def test_frames_are_not_overwritten_without_force(video: Path, tmp_path: Path):
    out = tmp_path / "frames"
    runner = CliRunner()
    first = runner.invoke(app, ["frames", str(video), "-o", str(out), "-n", "2", "--format", "jpg"])
    assert first.exit_code == 0, first.output
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    again = runner.invoke(app, ["frames", str(video), "-o", str(out), "-n", "2", "--format", "jpg"])
    # A usage error (click's 2 here in-process; `unmask` itself exits 64 for those).
    assert again.exit_code != 0 and "--force" in again.output
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == before
    forced = runner.invoke(
        app, ["frames", str(video), "-o", str(out), "-n", "2", "--format", "jpg", "--force"]
    )
    assert forced.exit_code == 0, forced.output
    assert sorted(before) == sorted(p.name for p in out.iterdir())


def test_force_leaves_only_this_runs_frames_and_never_other_files(video: Path, tmp_path: Path):
    out = tmp_path / "frames"
    runner = CliRunner()
    first = runner.invoke(app, ["frames", str(video), "-o", str(out), "-n", "6"])
    assert first.exit_code == 0, first.output
    # The user's own files, two of them named like the video, and another video's frame.
    mine = [
        f"{video.stem}-thumbnails-for-me.png",  # looks like a frame to a loose glob
        f"{video.stem}-notes.txt",
        "holiday.jpg",
    ]
    for name in mine:
        (out / name).write_bytes(b"kept")
    other = next(out.glob("*.png")).name.replace(video.stem, "other-clip")
    (out / other).write_bytes(b"kept")
    forced = runner.invoke(
        app, ["frames", str(video), "-o", str(out), "-n", "3", "--format", "jpg", "--force"]
    )
    assert forced.exit_code == 0, forced.output
    frames = sorted(p.name for p in out.iterdir() if p.name.startswith(f"{video.stem}-t0"))
    assert len(frames) == 3 and all(name.endswith(".jpg") for name in frames)
    assert frames == sorted(Path(line).name for line in forced.stdout.split())
    for name in [*mine, other]:
        assert (out / name).read_bytes() == b"kept", name
    assert "6 earlier frame(s) of this video removed" in forced.output


def test_a_still_picture_or_a_damaged_file_is_a_plain_error(shared_data: Path, tmp_path: Path):
    runner = CliRunner()
    photo = sorted((shared_data / "faces" / "real").glob("*.jpg"))[0]
    still = runner.invoke(app, ["frames", str(photo), "-o", str(tmp_path / "a")])
    assert still.exit_code == 2 and "still picture" in " ".join(still.output.split())
    damaged = tmp_path / "cut.mp4"
    damaged.write_bytes((shared_data / VIDEO).read_bytes()[:3000])
    cut = runner.invoke(app, ["frames", str(damaged), "-o", str(tmp_path / "b")])
    assert cut.exit_code == 2 and "error:" in cut.output
    assert "Traceback" not in cut.output
    assert not list((tmp_path / "b").glob("*.png"))


@pytest.mark.parametrize(
    "make", [bmff_deep_boxes, bmff_many_boxes, webm_without_codec, gif_frames_bomb, fifo_jpg]
)
def test_hostile_files_end_in_a_plain_error_without_frames(
    tmp_path: Path, make: Callable[[Path], Path]
):
    hostile = make(tmp_path)
    out = tmp_path / "out"
    run = CliRunner().invoke(app, ["frames", str(hostile), "-o", str(out)])
    assert run.exit_code != 0
    assert run.exception is None or isinstance(run.exception, SystemExit), run.exception
    assert "error" in run.output.lower()
    assert not list(out.glob("*.png"))


def test_a_hostile_video_name_becomes_a_plain_file_name(video: Path, tmp_path: Path):
    hostile = tmp_path / "clip [1]\u202egpj.exe; rm -rf ~.mp4"
    hostile.symlink_to(video)
    out = tmp_path / "frames"
    run = CliRunner().invoke(app, ["frames", str(hostile), "-o", str(out), "-n", "1"])
    assert run.exit_code == 0, run.output
    (written,) = out.iterdir()
    assert written.name.startswith("clip_1_gpj.exe_rm_-rf_-t00h00m00.")
    assert re.fullmatch(r"[A-Za-z0-9._-]+", written.name)


def test_keyframes_that_bunch_up_are_pointed_out(shared_data: Path, tmp_path: Path):
    """A clip with one keyframe (at its start) gives --keyframes frames from its first second
    only: the user is told, and told how to get evenly spaced ones."""
    clip = (
        shared_data
        / "videos"
        / "fake"
        / ("DeepFaceLive__doc__celebs__Albica_Johns__Albica_Johns_0__right_swap.mp4")
    )
    if not clip.exists():
        pytest.skip(f"{clip.name} is not in the shared data")
    args = ["frames", str(clip), "-o", str(tmp_path / "k"), "-n", "3", "-q"]
    bunched = CliRunner().invoke(app, [*args, "--keyframes"])
    assert bunched.exit_code == 0, bunched.output
    said = " ".join(bunched.output.split())
    assert "bunched up; leave out --keyframes" in said
    even = CliRunner().invoke(app, [*args[:3], str(tmp_path / "e"), *args[4:]])
    assert even.exit_code == 0 and "bunched" not in even.output
    assert max(seconds(p.name) for p in (tmp_path / "e").iterdir()) > 4
