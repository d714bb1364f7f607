"""Which video frames a scan decodes: near keyframes by default, exact times when asked."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from media_factory import gradient

from unmask.media import open_media
from unmask.media.limits import Limits
from unmask.media.sampling import MAX_DECODE_RUN, plan_near_keyframes, sample_indices


def write_gop_video(path: Path, seconds: float, fps: int, gop: int) -> Path:
    """An H.264 MP4 with a keyframe exactly every `gop` frames (no scene-cut keyframes)."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream(
            "libx264", rate=Fraction(fps), options={"g": str(gop), "sc_threshold": "0"}
        )
        stream.width, stream.height = 160, 120
        stream.pix_fmt = "yuv420p"
        base = gradient(160, 120)
        for i in range(int(seconds * fps)):
            frame = av.VideoFrame.from_ndarray(np.roll(base, i * 5, axis=1), format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


def keyframe_times(path: Path) -> list[float]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return sorted(float(p.pts * p.time_base) for p in container.demux(stream) if p.is_keyframe)


def every_frame(path: Path) -> dict[float, np.ndarray]:
    with av.open(str(path)) as container:
        return {
            round(float(f.time), 4): f.to_ndarray(format="rgb24") for f in container.decode(video=0)
        }


def test_plan_takes_exact_frames_when_keyframes_are_dense():
    targets = [0, 10, 20, 30]
    assert plan_near_keyframes(targets, list(range(0, 40, 5)), 40) == [
        (0, True),
        (10, True),
        (20, True),
        (30, True),
    ]


def test_plan_decodes_forward_when_the_next_sample_is_close():
    assert plan_near_keyframes([0, 3, 6], [0], 100) == [(0, True), (3, False), (6, False)]


def test_plan_never_decodes_more_than_the_run_to_reach_a_sample():
    keyframes = [0, 250, 500, 750, 1000]
    targets = sample_indices(1008, 33.6, 32, None, Limits())
    plan = plan_near_keyframes(targets, keyframes, 1008)
    picks = [frame for frame, _ in plan]
    assert picks == sorted(set(picks)), "increasing, no frame twice"
    last = None
    for frame, seek in plan:
        start = max(k for k in keyframes if k <= frame) if seek else last
        assert start is not None and frame - start < MAX_DECODE_RUN + (0 if seek else 1)
        last = frame
    assert picks[0] == 0 and picks[-1] >= 1000, "the samples still reach both ends"


def test_plan_rejects_a_run_below_one():
    with pytest.raises(ValueError, match="max_run"):
        plan_near_keyframes([0], [0], 10, max_run=0)


def test_scan_sampling_lands_at_or_next_to_keyframes_with_the_right_pictures(tmp_path: Path):
    path = write_gop_video(tmp_path / "gop.mp4", seconds=20.0, fps=25, gop=100)
    keys = keyframe_times(path)
    media = open_media(path, n_frames=32, near_keyframes=True)
    times = [f.time_s for f in media.frames]
    assert times == sorted(set(times)) and len(times) > len(keys)
    assert times[0] < 0.1 and times[-1] > 20.0 - 4.0
    run_s = MAX_DECODE_RUN / 25
    previous = None
    for t in times:
        after_key = any(0 <= t - k < run_s for k in keys)
        after_previous = previous is not None and 0 < t - previous <= run_s + 1e-6
        assert after_key or after_previous, f"{t:.2f} s needs more than {MAX_DECODE_RUN} frames"
        previous = t
    truth = every_frame(path)
    for frame in media.frames:
        assert np.array_equal(frame.rgb, truth[round(frame.time_s, 4)]), frame.time_s
    assert not media.warnings, "fewer samples by design is not a truncation"


def test_exact_times_still_sample_evenly(tmp_path: Path):
    path = write_gop_video(tmp_path / "gop.mp4", seconds=20.0, fps=25, gop=100)
    media = open_media(path, n_frames=32)
    steps = np.diff([f.time_s for f in media.frames])
    assert len(media.frames) == 32 and np.allclose(steps, steps.mean(), atol=0.05)


def test_a_truncated_video_sampled_near_keyframes_still_says_it_is_truncated(tmp_path: Path):
    from media_factory import truncated, write_video

    whole = write_video(tmp_path / "clip.mkv", seconds=4.0)
    cut = truncated(whole, tmp_path / "cut.mkv", keep=0.5)
    media = open_media(cut, n_frames=32, near_keyframes=True)
    assert media.frames, "the frames before the cut are kept"
    assert any("truncated" in warning for warning in media.warnings)
    assert not open_media(whole, n_frames=32, near_keyframes=True).warnings
