"""vPDQ of a video, with the frames and timestamps Meta's `vpdq` reference picks.

Two vPDQ hashes of the same file only match when both sides hash (nearly) the same frames.
The reference (`vpdq`'s `FFmpegHasher`, ThreatExchange/vpdq/cpp/vpdq/cpp/hashing/filehasher.cpp)
decodes every frame and hashes frame n when ``n % int(seconds_per_hash * fps) == 0``, with
``fps`` the stream's average frame rate (its r_frame_rate when that is unknown), n counted in
the order the decoder outputs frames, and timestamp ``n / fps`` in single precision. At 29.97
fps that is every 29th frame, so its timestamps drift from whole seconds by 3 % (frame 870 is
at 29.03 s). 0.1 hashed the frame nearest to each whole second instead: the two hashes of one
29.97 fps clip then matched at only 23-60 % of frames, below vPDQ's 80 % threshold, so a video
banked by HMA was not found by our hash of the same file. Here the selection is the
reference's, frame for frame; the pixels go through FFmpeg's RGB conversion with area
averaging (SWS_AREA), as the reference's do, and PDQ is the same algorithm (`pdqhash`).

Frames are hashed as they are decoded and then dropped, so memory stays at one frame.

`VpdqHasher` does the hashing as a frame tap of the media loader (`unmask.media.FrameTap`), so a
report hashes a video in the same decoding pass as its scan samples it; `hash_video_frames`
runs it over a file on its own.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from unmask.errors import CorruptMediaError, TimeBudgetExceededError, UnmaskError

_REDOWNLOAD = "the file may be damaged or incomplete: download or copy it again from its source"


def reference_frame_rate(stream: Any) -> float:
    """The rate the reference divides by: avg_frame_rate, else r_frame_rate."""
    rate = stream.average_rate or stream.base_rate or stream.guessed_rate
    if not rate:
        raise CorruptMediaError("the video does not say its frame rate", _REDOWNLOAD)
    return float(rate)


def frame_step(fps: float, seconds_per_hash: float) -> int:
    """Every how many decoded frames one is hashed: int(seconds x fps), at least 1 (the
    reference's m_frameMod; int() truncates, so 29.97 fps gives 29)."""
    return max(1, int(seconds_per_hash * fps))


def frame_timestamp(frame_number: int, fps: float) -> float:
    """The reference's timestamp: frame number / frame rate, both as C floats."""
    return float(np.float32(frame_number) / np.float32(fps))


class VpdqHasher:
    """A frame tap that hashes the frames the reference would hash, as they pass.

    Give it to `unmask.media.open_media(..., every_frame=...)` (or `Scanner.scan(..., tap=...)`),
    which shows it every frame the decoder outputs, from the first; then read `frames()`."""

    def __init__(self, seconds_per_hash: float, hash_rgb: Callable[[np.ndarray], tuple[str, int]]):
        self.seconds_per_hash = seconds_per_hash
        self.hash_rgb = hash_rgb
        self.started = False
        """True once a video stream was opened for it (never for a still or animated picture)."""
        self.problem: UnmaskError | None = None
        """Why hashing stopped before the end of the video (the time it may use ran out)."""
        self._hashed: list[tuple[str, int, float]] = []
        self._fps = 0.0
        self._step = 1
        self._number = 0

    def start(self, stream: Any) -> None:
        """Called once, before the first frame, with the PyAV video stream."""
        self._fps = reference_frame_rate(stream)
        self._step = frame_step(self._fps, self.seconds_per_hash)
        self._number, self._hashed, self.started, self.problem = 0, [], True, None

    def __call__(self, frame: Any) -> None:
        """One decoded frame (a PyAV VideoFrame), in the decoder's output order."""
        if self._number % self._step == 0:
            rgb = frame.to_ndarray(format="rgb24", interpolation="AREA")
            self._hashed.append((*self.hash_rgb(rgb), frame_timestamp(self._number, self._fps)))
        self._number += 1

    @property
    def hashed(self) -> int:
        """How many frames were hashed so far."""
        return len(self._hashed)

    def fail(self, problem: UnmaskError) -> None:
        """Told when the pass stops before the end for a reason other than damaged data."""
        self.problem = problem

    def frames(self) -> list[tuple[str, int, float]]:
        """(pdq hex, quality, timestamp) of the hashed frames. Raises the reason hashing stopped
        early, or `CorruptMediaError` when no frame was hashed. Frames hashed before damaged
        data are kept, as the reference keeps them."""
        if self.problem is not None:
            raise self.problem
        if not self._hashed:
            raise CorruptMediaError("no frame of the video could be decoded", _REDOWNLOAD)
        return list(self._hashed)


def hash_video_frames(
    path: str,
    seconds_per_hash: float,
    hash_rgb: Callable[[np.ndarray], tuple[str, int]],
    deadline: float,
) -> list[tuple[str, int, float]]:
    """(pdq hex, quality, timestamp) of the frames the reference would hash. The file has
    already been opened once through `unmask.media.open_media` (limits, clear errors), so a
    failure here means damaged data; frames decoded before it are kept."""
    import av

    hasher = VpdqHasher(seconds_per_hash, hash_rgb)
    try:
        container = av.open(path, metadata_errors="ignore")
    except av.error.FFmpegError as exc:
        raise CorruptMediaError(f"the video could not be opened ({exc})", _REDOWNLOAD) from None
    try:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        hasher.start(stream)
        try:
            for frame in container.decode(stream):
                if time.monotonic() > deadline:  # every frame: a huge step decodes many
                    raise TimeBudgetExceededError(
                        f"hashing stopped after {hasher.hashed} frames: the per-file time "
                        "budget ran out",
                        "raise --time-budget",
                    )
                hasher(frame)
        except av.error.FFmpegError as exc:
            if not hasher.hashed:
                raise CorruptMediaError(
                    f"no frame of the video could be decoded (FFmpeg said: {exc})", _REDOWNLOAD
                ) from None
            # Damaged data after some good frames: keep what was hashed, as the reference does.
    finally:
        container.close()
    return hasher.frames()
