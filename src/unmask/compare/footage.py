"""Decode both files of a comparison through the one media loader, at the density each side
needs.

The suspect is sampled as `unmask scan` samples it (32 frames spread over the video), so a
comparison costs about what a scan costs. The original is decoded densely (every frame, up to a
memory budget), because each suspect frame must find its exact counterpart: a trim, a change of
frame rate or a dropped frame shifts which original frame that is, and a neighbouring frame of a
moving person differs more than H.264 does.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import cv2
import numpy as np

from unmask.media import Frame, Limits, Media, open_media
from unmask.media.sampling import DEFAULT_SAMPLE_FRAMES

WORK_SIDE = 640
"""Long side (pixels) at which frames are registered and compared. Faces in the shared
DeepFaceLive clips are 60-150 px at this size, enough for the structural difference; larger
sizes cost time quadratically and mostly add compression noise."""
ORIGINAL_MEMORY_BYTES = 1 << 30
"""Decoded original frames kept at once (RGB, before they are shrunk to WORK_SIDE): 1 GiB holds
about 170 frames of 1080p or 1,100 of 480p. Longer originals are sampled at a lower rate."""


@dataclass
class Footage:
    """One decoded side of a comparison, frames shrunk to the working size."""

    path: str
    kind: str
    sha256: str
    width: int
    height: int
    """Size of the file's pictures, in its own pixels."""
    scale: float
    """Working pixels per file pixel."""
    fps: float | None
    duration_s: float | None
    frames: list[Frame]
    """Frames at working size; `index` and `time_s` are the file's own."""

    @property
    def is_video(self) -> bool:
        return self.kind == "video" and len(self.frames) > 1


def load_suspect(
    path: str | os.PathLike[str], limits: Limits | None = None, frames: int | None = None
) -> Footage:
    """The suspect, sampled like a scan. Raises `UnmaskError` for an unreadable file."""
    media = open_media(path, limits, n_frames=frames or DEFAULT_SAMPLE_FRAMES)
    return _footage(media)


def load_original(path: str | os.PathLike[str], limits: Limits | None = None) -> Footage:
    """An original, every frame where the memory budget allows (counted frames, not a rate:
    every frame when they fit, else evenly spread ones), opened and hashed once. Raises
    `UnmaskError`."""
    return _footage(open_media(path, limits, frames_within_bytes=ORIGINAL_MEMORY_BYTES))


def _footage(media: Media) -> Footage:
    frames = [
        Frame(f.index, f.time_s, shrink(f.rgb, WORK_SIDE / max(f.rgb.shape[:2])))
        for f in media.frames
    ]
    # The loader may already have scaled large video frames down: measure, do not assume.
    scale = frames[0].rgb.shape[1] / media.width if frames and media.width else 1.0
    return Footage(
        path=media.path,
        kind=media.kind,
        sha256=media.sha256,
        width=media.width,
        height=media.height,
        scale=scale,
        fps=media.fps,
        duration_s=media.duration_s,
        frames=frames,
    )


def shrink(rgb: np.ndarray, scale: float) -> np.ndarray:
    """`rgb` scaled by `scale` (<= 1) with area averaging; the same array when scale is 1."""
    if scale >= 1.0:
        return rgb
    size = (max(1, round(rgb.shape[1] * scale)), max(1, round(rgb.shape[0] * scale)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
