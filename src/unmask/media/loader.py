"""The one way to open a file: check it, sniff it, decode it within limits."""

from __future__ import annotations

import errno
import hashlib
import io
import os
import stat
import struct
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from unmask.errors import (
    EmptyFileError,
    LimitExceededError,
    UnreadableFileError,
    UnsupportedFormatError,
)
from unmask.hashing import file_sha256
from unmask.media.guards import check_structure
from unmask.media.image import decode_image
from unmask.media.limits import Limits
from unmask.media.sniff import SNIFF_BYTES, sniff
from unmask.media.types import Frame, FrameTap, Media

# The UUID of the C2PA manifest box in ISO BMFF files (C2PA spec 2.1, section 11.3.4).
_C2PA_BMFF_UUID = bytes.fromhex("d8fec3d61b0e483c92975828877ec481")
_MAX_TOP_LEVEL_BOXES = 10_000
_CHUNK = 1 << 20


def open_media(
    path: str | os.PathLike[str],
    limits: Limits | None = None,
    *,
    n_frames: int | None = None,
    fps: float | None = None,
    deadline: float | None = None,
    display_name: str | None = None,
    on_frame: Callable[[Frame], None] | None = None,
    near_keyframes: bool = False,
    progress: Callable[[int, int], None] | None = None,
    every_frame: FrameTap | None = None,
    frames_within_bytes: int | None = None,
) -> Media:
    """Open and decode one file.

    Images are decoded whole (animated ones are sampled like videos); videos are sampled:
    `n_frames` evenly spread (default 32) or `fps` frames per second. Raises an
    `UnmaskError` subclass with a plain message and hint for anything that cannot be read.

    `on_frame`: for videos and animations, receive each sampled frame as it is decoded
    instead of keeping it in `Media.frames` (which then stays empty), to bound memory when
    every frame is only hashed. A still image always comes in `Media.frames`.

    `near_keyframes`: take a video's `n_frames` samples at or next to keyframes rather than at
    exact, evenly spaced times (much less decoding; see `unmask.media.sampling`). Scans use
    it; hashing and comparison, which need exact times, do not. Ignored with `fps`.

    `progress(done, planned)`: called after each sampled video frame is decoded.

    `every_frame`: a `FrameTap` shown every frame of a video, from the first to the last, in
    the same decoding pass as the samples (a report hashes the video this way while its scan
    samples it). Still and animated pictures never call it.

    `frames_within_bytes`: sample every frame of a video or animation, or as many (evenly
    spread) as fit in that many bytes of RGB at the file's size, instead of `n_frames`.
    """
    limits = limits or Limits()
    deadline = deadline or time.monotonic() + limits.time_budget_s
    file = Path(path)
    name = display_name or str(path)
    size, head = read_head(file)
    if size == 0 or not head:
        raise EmptyFileError("the file is empty (0 bytes)", "the download or copy probably failed")
    if size > limits.max_file_bytes:
        raise LimitExceededError(
            f"the file is {size / 1024**3:.1f} GiB, above the {limits.max_file_bytes / 1024**3:.1f}"
            " GiB limit",
            "raise it with --max-file-size if you mean to scan it",
        )
    kind = sniff(head)
    if kind.family == "unknown":
        raise UnsupportedFormatError(
            f"this is {kind.description}, not a picture or video unmask can read",
            "supported: JPEG, PNG, WebP, GIF, BMP, TIFF, HEIC, AVIF images; MP4, MOV, MKV, "
            "WebM and AVI videos",
        )

    if kind.family == "image":
        if size > limits.max_image_file_bytes:
            raise LimitExceededError(
                f"the image file is {size / 1024**2:.0f} MiB, above the "
                f"{limits.max_image_file_bytes / 1024**2:.0f} MiB limit for images",
                "raise it with --max-file-size if you mean to scan it",
            )
        with file.open("rb") as handle:  # framing first: a PNG of 200 MB of empty chunks
            check_structure(handle, size)
        data = file.read_bytes()
        frames, headers, facts = decode_image(
            data, limits, n_frames, fps, deadline, on_frame, frames_within_bytes
        )
        animated = bool(facts.get("animated"))
        return Media(
            path=name,
            kind="video" if animated else "image",
            format=facts["format"] or kind.format,
            mime=kind.mime,
            size_bytes=size,
            sha256=hashlib.sha256(data).hexdigest(),
            width=facts["width"],
            height=facts["height"],
            frames=frames,
            duration_s=facts.get("duration_s"),
            fps=facts.get("fps"),
            frame_count=facts.get("frame_count"),
            raw=data,
            image_headers=headers,
            has_c2pa_manifest=_image_has_c2pa(data, kind.format),
            warnings=facts["warnings"],
        )

    # PyAV loads FFmpeg: only when needed
    from unmask.media.video import decode_video, truncation_slack_s

    frames, container, facts = decode_video(
        str(file),
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
    warnings = []
    if facts["decoded"] < facts["wanted"]:
        warnings.append(
            f"only {facts['decoded']} of {facts['wanted']} sampled frames could be decoded; "
            "the video is probably truncated"
        )
    ends = facts.get("packets_end_s")
    unreadable = facts.get("packets_unreadable")
    if unreadable is not None:
        after, why = unreadable
        warnings.append(
            f"the video's packets are unreadable after {after:.1f} s of the "
            f"{facts['duration_s']:.1f} s its container declares (FFmpeg said: {why}); the "
            "video is probably damaged, and only what could be read was sampled"
        )
    elif ends is not None and facts["duration_s"] - ends > truncation_slack_s(facts["fps"]):
        warnings.append(
            f"the video's data ends at {ends:.1f} s of the {facts['duration_s']:.1f} s its "
            "container declares; the video is probably truncated, and only that part was sampled"
        )
    return Media(
        path=name,
        kind="video",
        format=kind.format,
        mime=kind.mime,
        size_bytes=size,
        sha256=file_sha256(file),
        width=facts["width"],
        height=facts["height"],
        frames=frames,
        duration_s=facts["duration_s"],
        fps=facts["fps"],
        frame_count=facts["frame_count"],
        video_container=container,
        has_c2pa_manifest=kind.format in ("mp4", "mov") and _bmff_has_c2pa(file),
        warnings=warnings,
    )


def read_head(file: Path) -> tuple[int, bytes]:
    """The size and first bytes of a regular file; `UnreadableFileError` for anything else.

    A FIFO or a socket would block a reader for ever and a device (a link to /dev/zero) never
    ends, so the kind of file is checked with `stat` before it is opened, and again on the open
    descriptor (opened non-blocking, so a FIFO swapped in between cannot block either)."""
    try:
        kind = regular_file_problem(os.stat(file).st_mode)
        if kind is not None:
            raise UnreadableFileError(*kind)
        descriptor = os.open(file, os.O_RDONLY | os.O_NONBLOCK)
        try:
            info = os.fstat(descriptor)
            kind = regular_file_problem(info.st_mode)
            if kind is not None:
                raise UnreadableFileError(*kind)
            return info.st_size, os.read(descriptor, SNIFF_BYTES)
        finally:
            os.close(descriptor)
    except FileNotFoundError:
        if os.path.islink(file):
            raise UnreadableFileError(
                "this is a link to something that does not exist", "check where the link points"
            ) from None
        raise UnreadableFileError("no such file", "check the path") from None
    except PermissionError:
        raise UnreadableFileError("permission denied", "check the file's permissions") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UnreadableFileError(
                "this is a link that points back to itself", "check where the link points"
            ) from None
        raise UnreadableFileError(f"the file could not be read ({exc.strerror})") from None


def regular_file_problem(mode: int) -> tuple[str, str] | None:
    """(message, hint) when a file-system object is not a regular file, else None."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "this is a folder, not a file", "pass the folder itself to scan what is inside it"
    kinds = (
        (stat.S_ISFIFO, "a named pipe (FIFO)"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
    )
    what = next((label for test, label in kinds if test(mode)), "not a regular file")
    return (
        f"this is {what}, not a file; it was skipped without being read",
        "copy the picture or video into a regular file and check that",
    )


def _image_has_c2pa(data: bytes, image_format: str) -> bool:
    """Is a C2PA manifest store embedded where the C2PA spec puts it? JPEG: an APP11 segment
    holding a JUMBF box labelled "c2pa"; PNG: a caBX chunk; WebP: a C2PA chunk; HEIF/AVIF: the
    C2PA uuid box. Text that merely mentions "c2pa" (e.g. in XMP) does not count."""
    if image_format == "JPEG":
        return _jpeg_has_c2pa(data)
    if image_format == "PNG":
        return _png_has_chunk(data, b"caBX")
    if image_format == "WEBP":
        return _riff_has_chunk(data, b"C2PA")
    if image_format in ("HEIF", "AVIF"):
        return _bmff_boxes_have_c2pa(io.BytesIO(data), len(data))
    return False


def _jpeg_has_c2pa(data: bytes) -> bool:
    offset = 2
    while offset + 4 <= len(data) and data[offset] == 0xFF:
        marker = data[offset + 1]
        if marker == 0xDA:  # start of scan: no more metadata segments
            return False
        if marker in (0x01, *range(0xD0, 0xD8)):  # markers without a length
            offset += 2
            continue
        length = struct.unpack(">H", data[offset + 2 : offset + 4])[0]
        body = data[offset + 4 : offset + 2 + length]
        if marker == 0xEB and b"jumb" in body[:64] and b"c2pa" in body[:128]:
            return True
        offset += 2 + length
    return False


def _png_has_chunk(data: bytes, wanted: bytes) -> bool:
    offset = 8
    while offset + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[offset : offset + 8])
        if kind == wanted:
            return True
        if kind == b"IEND":
            return False
        offset += 12 + length
    return False


def _riff_has_chunk(data: bytes, wanted: bytes) -> bool:
    offset = 12
    while offset + 8 <= len(data):
        kind, length = struct.unpack("<4sI", data[offset : offset + 8])
        if kind == wanted:
            return True
        offset += 8 + length + (length & 1)
    return False


def _bmff_has_c2pa(file: Path) -> bool:
    with file.open("rb") as handle:
        return _bmff_boxes_have_c2pa(handle, file.stat().st_size)


def _bmff_boxes_have_c2pa(handle: BinaryIO, end: int) -> bool:
    """Walk the top-level ISO BMFF boxes only (bounded), looking for the C2PA uuid box."""
    offset = 0
    for _ in range(_MAX_TOP_LEVEL_BOXES):
        if offset + 8 > end:
            return False
        handle.seek(offset)
        header = handle.read(32)
        size, box_type = struct.unpack(">I4s", header[:8])
        header_len = 8
        if size == 1 and len(header) >= 16:
            size = struct.unpack(">Q", header[8:16])[0]
            header_len = 16
        elif size == 0:
            size = end - offset
        if box_type == b"uuid" and header[header_len : header_len + 16] == _C2PA_BMFF_UUID:
            return True
        if size < 8:
            return False
        offset += size
    return False
