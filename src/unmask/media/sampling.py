"""Which frames of a video to look at.

Default: 32 frames spread evenly over the whole video, as in the DFDC baseline and the
Self-Blended Images evaluation (Shiohara & Yamasaki, CVPR 2022, which sample 32 frames per
video); `--fps` samples at a fixed rate instead. Either way at most `Limits.max_frames`.

Scans take each sample at or next to a keyframe (`plan_near_keyframes`) unless exact times are
asked for (`--exact-times`, or `--fps`). Why: a keyframe decodes on its own, while the frame
1.9 s after it needs every frame in between decoded first. With 32 samples over a 60 s clip
(1.94 s apart) exact times meant decoding all 1,799 frames (12.9 of the scan's 20 CPU s at
1080p); taking the keyframes nearest the sample times was measured 19x cheaper (issue 17,
BENCHMARKS.md). The price: a sample can move up to half a keyframe interval from its evenly
spaced time, and a video with few keyframes gets samples in short runs after them.
"""

from __future__ import annotations

from bisect import bisect_right

import numpy as np

from unmask.media.limits import DEFAULT_SAMPLE_FRAMES, Limits

MAX_SAMPLED_FRAME_SIDE = 1920
"""Sampled frames (of videos and animated images) larger than this on their longer side are
scaled down while converting to RGB: face detection works on at most ~1280 px anyway, and 32
full 4K frames would take 800 MB."""


def sample_indices(
    total_frames: int,
    duration_s: float,
    n_frames: int | None,
    fps: float | None,
    limits: Limits,
) -> list[int]:
    """Sorted, distinct frame indices in [0, total_frames) to decode."""
    if total_frames <= 0:
        return []
    if fps is not None and fps > 0 and duration_s > 0:
        rate = total_frames / duration_s
        times = np.arange(0.0, duration_s, 1.0 / fps)
        indices = np.floor(times * rate).astype(int)
    else:
        count = min(n_frames or DEFAULT_SAMPLE_FRAMES, total_frames)
        indices = np.linspace(0, total_frames - 1, count).round().astype(int)
    indices = np.unique(np.clip(indices, 0, total_frames - 1))
    if len(indices) > limits.max_frames:
        # Spread the allowed number evenly rather than keeping only the start of the video.
        keep = np.linspace(0, len(indices) - 1, limits.max_frames).round().astype(int)
        indices = indices[np.unique(keep)]
    return [int(i) for i in indices]


def frames_within(
    total_frames: int, width: int, height: int, budget_bytes: int, limits: Limits
) -> int:
    """Every frame when they fit in `budget_bytes` as RGB at the file's size, else as many as
    fit (at least 2, at most `limits.max_frames`), for sampling evenly."""
    per_frame = max(1, width * height * 3)
    return min(total_frames, max(2, min(limits.max_frames, budget_bytes // per_frame)))


MAX_DECODE_RUN = 8
"""Most frames decoded to reach one sample in keyframe sampling: from the last decoded frame, or
from the keyframe at or before the sample's time. About 0.3 s at 25-30 fps, so a sample that
cannot reach its exact time lies within that run, or at the nearest keyframe, whichever is
closer to the time asked for; decoding stays under 8 frames per sample (256 for 32 samples,
against all 1,799 of a 60 s clip at 30 fps)."""


def plan_near_keyframes(
    targets: list[int], keyframes: list[int], total: int, max_run: int = MAX_DECODE_RUN
) -> list[tuple[int, bool]]:
    """Which frames to decode for the wanted frame indices `targets` (sorted, presentation
    order), given the indices of the keyframes in a stream of `total` frames: a list of
    (frame index, seek first) in increasing order, at most one per target.

    Each target is replaced by the frame nearest to it among those reachable by decoding at most
    `max_run` frames: forward from the last decoded frame (no seek), forward from the keyframe
    at or before it (a seek), or the next keyframe after it (a seek, one frame decoded). Ties go
    to the cheaper choice. A target whose nearest reachable frame was already taken is dropped,
    so a video with few keyframes can yield fewer samples than asked for."""
    if max_run < 1:
        raise ValueError("max_run must be at least 1")
    plan: list[tuple[int, bool]] = []
    last = -1  # the last decoded frame, -1 before the first seek
    for target in targets:
        options: list[tuple[int, int, int, bool]] = []  # (distance, cost, frame, seek)
        if last >= 0:
            pick = min(max(target, last + 1), last + max_run, total - 1)
            if pick > last:
                options.append((abs(pick - target), pick - last, pick, False))
        k = bisect_right(keyframes, target) - 1
        if k >= 0:
            before = keyframes[k]
            pick = min(target, before + max_run - 1)
            if pick > last:
                options.append((abs(pick - target), pick - before + 1, pick, True))
        if k + 1 < len(keyframes) and keyframes[k + 1] > last:
            after = keyframes[k + 1]
            options.append((after - target, 1, after, True))
        if not options:
            continue
        _, _, pick, seek = min(options)
        plan.append((pick, seek))
        last = pick
    return plan
