"""Which frames of a video to look at.

Default: 32 frames spread evenly over the whole video, as in the DFDC baseline and the
Self-Blended Images evaluation (Shiohara & Yamasaki, CVPR 2022, which sample 32 frames per
video); `--fps` samples at a fixed rate instead. Either way at most `Limits.max_frames`.
"""

from __future__ import annotations

import numpy as np

from unmask.media.limits import Limits

DEFAULT_SAMPLE_FRAMES = 32

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
