"""Decode sampled video frames with PyAV (FFmpeg), decoding only what the sample needs."""

from __future__ import annotations

import math
import time
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import av
import numpy as np

from unmask.errors import (
    CorruptMediaError,
    LimitExceededError,
    TimeBudgetExceededError,
    UnreadableFileError,
    UnsupportedFormatError,
)
from unmask.media.limits import Limits
from unmask.media.sampling import (
    MAX_SAMPLED_FRAME_SIDE,
    frames_within,
    plan_near_keyframes,
    sample_indices,
)
from unmask.media.types import Frame, FrameTap, VideoContainer

MAX_VIDEO_FRAME_SIDE = MAX_SAMPLED_FRAME_SIDE
# When the next wanted frame is further ahead than this, seek instead of decoding through.
# Typical GOPs are 1-10 s; a seek lands on the previous keyframe, so for short gaps decoding
# forward is cheaper than seeking back to a keyframe and decoding forward again.
SEEK_GAP_S = 2.0
TAP_BUDGET_SHARE = 0.5
"""A frame tap (vPDQ hashing for a report) may use this share of the per-file time budget: the
pass decodes every frame for it, and a video too long to decode whole in that time has its
remaining samples taken by seeking, so that it is still scanned (the tap is told it failed)."""
TRUNCATION_SLACK_S = 1.0
TRUNCATION_SLACK_FRAMES = 2
"""With sampling near keyframes, a file whose packets end more than TRUNCATION_SLACK_S, or this
many frame intervals if longer (a slideshow at 0.5 fps), before the duration its container
declares is reported as probably truncated (the samples are spread over what is there, so no
sample goes missing to show it). A packet ends when the next frame is due: its timestamp plus
how long it is shown, so a held last frame (a screen recording, a still picture) is no gap."""


NO_VIDEO_STREAM = "no video stream"
"""Words of the error for a container without a video track; `unmask.inputs.not_checked`
finds a sound-only file met in a folder by them (the error crosses the worker as text)."""


def truncation_slack_s(fps: float | None) -> float:
    """How far before its declared duration a video's packets may end without being called
    truncated (`TRUNCATION_SLACK_S`, `TRUNCATION_SLACK_FRAMES`)."""
    return max(TRUNCATION_SLACK_S, TRUNCATION_SLACK_FRAMES / fps if fps else 0.0)


_REDOWNLOAD = "the file may be damaged or incomplete: download or copy it again from its source"


def decode_video(
    path: str,
    limits: Limits,
    n_frames: int | None,
    fps: float | None,
    deadline: float,
    on_frame: Callable[[Frame], None] | None = None,
    near_keyframes: bool = False,
    progress: Callable[[int, int], None] | None = None,
    every_frame: FrameTap | None = None,
    frames_within_bytes: int | None = None,
) -> tuple[list[Frame], VideoContainer, dict[str, Any]]:
    """Decode the sampled frames. With `on_frame`, each frame is handed to it as soon as it is
    decoded and none is kept (the returned list is empty; `facts["decoded"]` counts them), so
    hashing one frame a second of a long video holds one frame in memory, not thousands.

    `near_keyframes` (with `n_frames`, not `fps`): take each sample at or next to a keyframe
    (`unmask.media.sampling.plan_near_keyframes`) instead of at its exact time, found from the
    packet index (one pass reading packets, no decoding). Streams whose packets carry no
    timestamps or keyframe flags are sampled at exact times. `progress(done, planned)` is
    called after each frame.

    `every_frame`: a tap shown every frame of the video in one pass from the start (no seeking),
    the samples being taken from that same pass; it may use `TAP_BUDGET_SHARE` of the time
    left. `frames_within_bytes`: sample every frame, or as many as fit in that many bytes
    (`unmask.media.sampling.frames_within`), instead of `n_frames`."""
    try:
        container = av.open(path, metadata_errors="ignore")
    except av.error.InvalidDataError:
        raise CorruptMediaError(
            "the video container is damaged or not a video FFmpeg can read", _REDOWNLOAD
        ) from None
    except av.error.FFmpegError as exc:
        raise CorruptMediaError(f"the video could not be opened ({exc})", _REDOWNLOAD) from None
    try:
        return _decode(
            container,
            limits,
            n_frames,
            fps,
            deadline,
            on_frame,
            near_keyframes,
            progress,
            every_frame,
            frames_within_bytes,
        )
    except av.error.FFmpegError as exc:
        raise CorruptMediaError(
            f"no frame of the video could be decoded (FFmpeg said: {exc.strerror or exc})",
            _REDOWNLOAD + "; a streaming segment without its media parts holds no frames",
        ) from None
    finally:
        container.close()


def _decode(
    container: Any,
    limits: Limits,
    n_frames: int | None,
    fps: float | None,
    deadline: float,
    on_frame: Callable[[Frame], None] | None,
    near_keyframes: bool = False,
    progress: Callable[[int, int], None] | None = None,
    every_frame: FrameTap | None = None,
    frames_within_bytes: int | None = None,
) -> tuple[list[Frame], VideoContainer, dict[str, Any]]:
    if not container.streams.video:
        raise UnsupportedFormatError(
            f"the file has {NO_VIDEO_STREAM} (audio only?)", "unmask scans pictures and videos"
        )
    stream = container.streams.video[0]
    if stream.codec_context is None:  # FFmpeg knows no decoder for the track's codec
        raise UnreadableFileError(
            "the video track uses a codec that FFmpeg cannot decode (or names none), so no "
            "frame could be read",
            "convert it to H.264 MP4 with a video converter and scan that",
        )
    stream.thread_type = "AUTO"
    width, height = stream.codec_context.width, stream.codec_context.height
    if width * height > limits.max_pixels:
        raise LimitExceededError(
            f"video frames are {width} x {height}, above the {limits.max_pixels / 1e6:.0f} "
            "megapixel limit",
            "raise the limit with --max-pixels if you trust this file",
        )
    rate = float(stream.average_rate or stream.guessed_rate or 0) or None
    time_base = stream.time_base or Fraction(1, 1_000_000)
    start_s = float(stream.start_time * time_base) if stream.start_time is not None else 0.0
    duration_s = _duration(container, stream, time_base)
    if duration_s is not None and duration_s > limits.max_duration_s:
        raise LimitExceededError(
            f"the video lasts {_length(duration_s)}, above the limit of "
            f"{_length(limits.max_duration_s)}",
            "cut out the part to check, or raise the limit with --max-duration",
        )
    total = int(stream.frames or 0)
    if total <= 0 and duration_s and rate:
        total = max(1, round(duration_s * rate))
    if total <= 0:
        total, duration_s = _count_frames(container, stream, deadline)
        rate = rate or (total / duration_s if duration_s else 25.0)
    if not rate:
        rate = total / duration_s if duration_s else 25.0
    duration_s = duration_s or total / rate
    if frames_within_bytes is not None:
        n_frames, fps = frames_within(total, width, height, frames_within_bytes, limits), None

    wanted = sample_indices(total, duration_s, n_frames, fps, limits)
    times = [start_s + i / rate for i in wanted]
    seek_to: list[int | None] | None = None
    sampling = "exact"
    ends_s = None
    unreadable: tuple[float, str] | None = None
    if near_keyframes and fps is None:
        packets = _keyframe_plan(container, stream, duration_s, rate, n_frames, limits, deadline)
        unreadable = packets.unreadable
        if packets.times is not None:
            times, seek_to, ends_s = packets.times, packets.seek_to, packets.ends_s
            sampling = "near_keyframes"
    frames: list[Frame] = []
    keep = on_frame or frames.append
    if progress is not None:
        keep = _counting(keep, progress, len(times))
    tap = None
    if every_frame is not None:
        every_frame.start(stream)
        now = time.monotonic()
        tap = (every_frame, now + max(0.0, deadline - now) * TAP_BUDGET_SHARE)
    decoded = _decode_at(container, stream, times, rate, start_s, deadline, keep, seek_to, tap)
    if not decoded:
        raise CorruptMediaError("no frame of the video could be decoded", _REDOWNLOAD)
    meta = {k: str(v) for k, v in (container.metadata or {}).items()}
    audio_context = container.streams.audio[0].codec_context if container.streams.audio else None
    audio = getattr(audio_context, "name", None)
    info = VideoContainer(
        format_name=container.format.name,
        metadata=meta,
        video_codec=stream.codec_context.name,
        stream_metadata={k: str(v) for k, v in (stream.metadata or {}).items()},
        audio_codec=audio,
        bit_rate=int(container.bit_rate) if container.bit_rate else None,
    )
    facts = {
        "width": width,
        "height": height,
        "duration_s": duration_s,
        "fps": rate,
        "frame_count": total,
        "wanted": len(times),  # what keyframe sampling planned, at most len(wanted)
        "decoded": decoded,
        "start_s": start_s,
        "sampling": sampling,
        "packets_end_s": ends_s - start_s if ends_s is not None else None,
        # (where, FFmpeg's words) when the packets stopped being readable part way
        "packets_unreadable": (unreadable[0] - start_s, unreadable[1]) if unreadable else None,
    }
    return frames, info, facts


def _counting(
    keep: Callable[[Frame], None], progress: Callable[[int, int], None], planned: int
) -> Callable[[Frame], None]:
    done = 0

    def counted(frame: Frame) -> None:
        nonlocal done
        keep(frame)
        done += 1
        progress(done, planned)

    return counted


def _length(seconds: float) -> str:
    """A duration in the unit a person would use: seconds up to two minutes, then minutes."""
    if seconds < 120:
        return f"{seconds:.1f} s" if seconds < 10 else f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min"


def _duration(container: Any, stream: Any, time_base: Fraction) -> float | None:
    if stream.duration:
        return float(stream.duration * time_base)
    if container.duration:
        return container.duration / av.time_base
    return None


def _count_frames(container: Any, stream: Any, deadline: float) -> tuple[int, float | None]:
    """Count frames by demuxing packets (no decoding) when the container does not say."""
    count, last = 0, None
    for packet in container.demux(stream):
        if time.monotonic() > deadline:
            raise TimeBudgetExceededError(
                "the video took too long to read", "raise the limit with --time-budget"
            )
        if packet.pts is not None:
            count += 1
            last = float(packet.pts * packet.time_base) if packet.time_base else None
    container.seek(0)
    return count, last


def _keyframe_plan(
    container: Any,
    stream: Any,
    duration_s: float,
    rate: float,
    n_frames: int | None,
    limits: Limits,
    deadline: float,
) -> _PacketPlan:
    """Sample times, seek points (keyframe timestamps, or None to decode on) and the time the
    packets end (the last one's timestamp plus how long it is shown: its own duration, else
    one frame at `rate`), for sampling near keyframes; no times when the packets do not say
    enough (no timestamps, no keyframe, no packet readable), and the exact times are decoded
    instead. Packets that FFmpeg cannot read after some could be (damaged data in the middle
    of the file) are said to be so, with where they stop: the samples are spread over the part
    before, and the damage must not go unsaid because one sample there decoded."""
    stamps: set[int] = set()
    keys: set[int] = set()
    ends = -math.inf
    one_frame = 1 / (rate * stream.time_base) if stream.time_base else 0.0
    unreadable = None
    try:
        for packet in container.demux(stream):
            if time.monotonic() > deadline:
                raise TimeBudgetExceededError(
                    "the video took too long to read", "raise the limit with --time-budget"
                )
            if packet.pts is None:
                continue
            stamps.add(packet.pts)
            ends = max(ends, packet.pts + (packet.duration or one_frame))
            if packet.is_keyframe:
                keys.add(packet.pts)
    except av.error.FFmpegError as exc:
        if stamps and stream.time_base is not None:
            unreadable = (float(ends * stream.time_base), str(exc.strerror or exc))
    container.seek(0)
    if not stamps or not keys or stream.time_base is None:
        return _PacketPlan(unreadable=unreadable)
    order = sorted(stamps)
    position = {pts: i for i, pts in enumerate(order)}
    key_indices = sorted(position[pts] for pts in keys)
    targets = sample_indices(len(order), duration_s, n_frames, None, limits)
    times: list[float] = []
    seek_to: list[int | None] = []
    for index, seek in plan_near_keyframes(targets, key_indices, len(order)):
        times.append(float(order[index] * stream.time_base))
        key = key_indices[bisect_right(key_indices, index) - 1] if seek else None
        seek_to.append(order[key] if key is not None else None)
    return _PacketPlan(times, seek_to, float(ends * stream.time_base), unreadable)


@dataclass(frozen=True)
class _PacketPlan:
    """What one pass over a video's packets (no decoding) found, for `_keyframe_plan`."""

    times: list[float] | None = None
    seek_to: list[int | None] | None = None
    ends_s: float | None = None
    unreadable: tuple[float, str] | None = None
    """(where the readable packets end, FFmpeg's words) when the rest could not be read."""


def _decode_at(
    container: Any,
    stream: Any,
    times: list[float],
    rate: float,
    start_s: float,
    deadline: float,
    keep: Callable[[Frame], None],
    seek_to: list[int | None] | None = None,
    tap: tuple[FrameTap, float] | None = None,
) -> int:
    """Decode the frames at `times`, handing each to `keep`; returns how many were decoded.

    Without `seek_to`, a seek happens when the next time is more than SEEK_GAP_S ahead; with
    it, before target i exactly when `seek_to[i]` (a keyframe's timestamp) is not None.

    With `tap` (a frame tap and the time it must be done by), nothing is skipped: every frame
    from the first is decoded and shown to the tap, and the pass goes on to the last frame after
    the last sample. When the tap's time runs out, it is told so and dropped, and the
    remaining samples are reached by seeking as without it."""
    half_frame = 0.5 / rate
    done = 0
    decoder: Any = None
    position = -math.inf
    n = 0
    while n < len(times):
        target = times[n]
        planned = seek_to[n] if seek_to is not None else None
        if tap is not None:
            must_seek = False
            if decoder is None:
                decoder = _tapped(container.decode(stream), *tap)
        elif seek_to is not None:
            must_seek = decoder is None or planned is not None
        else:
            must_seek = decoder is None or target - position > SEEK_GAP_S
        if must_seek:
            point = planned if planned is not None else int(target / stream.time_base)
            try:
                container.seek(point, stream=stream, backward=True)
            except av.error.FFmpegError:
                if decoder is None:  # unseekable: decode from the start
                    container.seek(0)
            decoder = container.decode(stream)
        try:
            frame = _next_at_or_after(decoder, target, half_frame, deadline, done, len(times))
        except _TapOutOfTime:
            tap, decoder = None, None  # the tap was told; seek to this sample again
            continue
        except av.error.FFmpegError:
            if not done:
                raise
            break  # damaged data after some good frames: keep what was decoded
        if frame is None:
            break  # end of stream (a truncated file ends early)
        position = float(frame.time)
        index = round((position - start_s) * rate)
        keep(Frame(index, position - start_s, _rgb(frame)))
        done += 1
        n += 1
    if tap is not None and decoder is not None:
        _drain(decoder)
    return done


class _TapOutOfTime(Exception):
    """The frame tap's share of the time budget ran out (it has been told)."""


def _tapped(decoder: Any, tap: FrameTap, tap_deadline: float) -> Any:
    """The frames of `decoder`, each shown to `tap` first; raises `_TapOutOfTime` (after telling
    the tap) when its time runs out."""
    for frame in decoder:
        if time.monotonic() > tap_deadline:
            tap.fail(
                TimeBudgetExceededError(
                    "hashing stopped before the end of the video: it may use "
                    f"{TAP_BUDGET_SHARE:.0%} of the per-file time budget, which ran out",
                    "raise --time-budget",
                )
            )
            raise _TapOutOfTime
        tap(frame)
        yield frame


def _drain(decoder: Any) -> None:
    """Decode the rest of the video for the tap (damaged data ends it, as it ends a decoder)."""
    try:
        for _ in decoder:
            pass
    except (_TapOutOfTime, av.error.FFmpegError):
        pass


def _next_at_or_after(
    decoder: Any, target: float, half_frame: float, deadline: float, done: int, wanted: int
) -> Any:
    """Decode forward to the first frame at (or within half a frame of) `target`."""
    for frame in decoder:
        if time.monotonic() > deadline:
            raise TimeBudgetExceededError(
                f"decoding stopped after {done} of {wanted} sampled frames: the per-file time "
                "budget ran out",
                "sample fewer frames (without --fps), or raise --time-budget",
            )
        if frame.time is not None and float(frame.time) + half_frame >= target:
            return frame
    return None


def _rgb(frame: Any) -> np.ndarray:
    width, height = frame.width, frame.height
    scale = min(1.0, MAX_VIDEO_FRAME_SIDE / max(width, height))
    if scale < 1.0:
        width, height = round(width * scale) // 2 * 2, round(height * scale) // 2 * 2
    return frame.reformat(width=width, height=height, format="rgb24").to_ndarray()
