"""Hashes that let platforms recognise a picture or video without ever seeing it.

Signal types are named and encoded as ThreatExchange and the Hasher-Matcher-Actioner (HMA) name
and encode them, so hashes made here can be shared with those tools and back:

- ``video_md5`` and ``video_sha256`` (ThreatExchange's names) and ``photo_md5`` and
  ``photo_sha256`` (the same for pictures; ThreatExchange has no photo digest types any more,
  older versions called the MD5 one ``photo_md5``): exact file hashes. They never match a
  re-encoded copy, but never give a false match either. ``md5`` and ``sha256`` (what 0.1
  wrote) are digests of a file of unstated kind; all digests of one algorithm match each other.
- ``pdq``: Meta's perceptual photo hash (256 bits, 64 hex digits) with a quality score 0-100.
  It survives resizing and recompression, which is what makes it useful, and which also means
  two different but similar-looking pictures can match: every PDQ match is a lead, not proof.
- ``vpdq``: PDQ of one frame per second of a video, the frames picked as Meta's ``vpdq``
  picks them (`unmask.video_hashing`), serialised byte for byte as ThreatExchange's
  ``vpdq_to_json``: a JSON list of ``"pdq_hex,quality,timestamp"`` strings.

Each signal type is one small class with the same few methods (validate a hash string, compare
two hashes), looked up by name in `SIGNAL_TYPES`, after python-threatexchange's `signal_type`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import numpy as np
from PIL import Image

from unmask.errors import UnmaskError

PDQ_CONFIDENT_MATCH_THRESHOLD = 31
"""Largest Hamming distance counted as a PDQ match. ThreatExchange's PDQ signal type and HMA
use 31 of 256 bits; the PDQ paper (Meta, 2019) reports it keeps false positives rare."""

PDQ_QUALITY_THRESHOLD = 50
"""PDQ hashes with quality below 50 are too unreliable to match on (flat or nearly blank
pictures hash alike); ThreatExchange and HMA drop them, and so do we."""

VPDQ_QUERY_MATCH_PERCENT = 80.0
"""A video matches when at least this share of its distinct frame hashes match the banked
video's (ThreatExchange's VPDQ_QUERY_MATCH_THRESHOLD_PERCENT)."""

VPDQ_INDEX_MATCH_PERCENT = 0.0
"""... and at least this share of the banked video's frames are matched by the query
(ThreatExchange's VPDQ_INDEX_MATCH_THRESHOLD_PERCENT)."""

VPDQ_SECONDS_PER_HASH = 1.0
"""One frame hashed per second of video, the vPDQ reference's default."""

_WINDOW_SIDE = 512
"""Sub-window hashes are taken on a copy scaled to at most 512 px a side: PDQ reduces every
picture to 64x64 before its DCT, so this changes the hash by a bit or two and saves time."""

BANK_WINDOW_CUTS = (0.0, 0.05)
"""Crop robustness, bank side: for a banked picture we also keep the PDQ of every sub-window
that cuts 0 % or 5 % off each of its four sides (16 windows, one of them the whole picture)."""

QUERY_WINDOW_CUTS = (0.0, 0.025)
"""Crop robustness, query side: a looked-up picture is hashed whole and with 0 % or 2.5 % cut off
each side (16 windows). A copy cropped by c <= 6 % on a side then meets a banked window within
1.25 % of the same region on every side, and PDQ stays within 31 bits for that (measured on
faces/real: a 1.5 % cut on all sides gives a median distance of 24). PDQ of the whole picture
alone misses a 5 % crop (distance ~48). The cost is 16 x 16 hash pairs per picture instead of
one, which raises the chance of a false match; tests measure it on 1,000 unrelated photos."""

PDQ_DIHEDRAL_TRANSFORMS = (
    "",
    "rotated 90° clockwise",
    "rotated 180°",
    "rotated 90° counter-clockwise",
    "flipped upside down",
    "mirrored left to right",
    "mirrored along the diagonal",
    "mirrored along the other diagonal",
)
"""What a looked-up picture is, relative to the banked one, when the i-th of the eight dihedral
PDQ hashes that `pdqhash.compute_dihedral` returns matches (checked on ThreatExchange's `dih`
test pictures and PIL's mirror, flip, rotate and transpose). python-threatexchange looks up all
eight, since a mirrored copy hashes ~130 bits from the original: a common way to slip a
re-upload past PDQ. The seven extra query hashes raise the chance of a false match; tests
measure it on 1,000 unrelated photos, and BENCHMARKS.md the lookup cost."""

PDQ_MAX_PIXELS = 24_000_000
"""Largest picture hashed as it is. pdqhash works on float copies of the whole picture (about
27 bytes a pixel: 2.2 GB more at 100 megapixels, measured), so larger pictures are first
area-averaged down to this size. PDQ itself reduces every picture to 64 x 64, so the hash
barely moves: 48-megapixel copies of 20 photos from the project's data set hashed 0-4 bits
(mean 0.7) from their area-averaged 24-megapixel copies, far inside the match threshold."""


class InvalidHashError(UnmaskError):
    """A hash string that is not a valid hash of its signal type."""


VPDQ_TIMESTAMP_FORMAT = ".3"
"""How ThreatExchange writes a vPDQ timestamp (`VpdqCompactFeature.__str__`: three significant
digits, so 1.0, 0.968, 29.0, 1.23e+02). Written the same way here so that a vPDQ hash made by
either tool is the same string; timestamps play no part in matching."""


@dataclass(frozen=True)
class VpdqFrame:
    """One hashed frame of a video."""

    pdq: str
    quality: int
    timestamp: float

    def __str__(self) -> str:
        return f"{self.pdq},{self.quality},{self.timestamp:{VPDQ_TIMESTAMP_FORMAT}}"


class SignalType:
    """One kind of hash. Subclasses set `name` and implement `validate` and `distance`."""

    name: ClassVar[str]
    description: ClassVar[str]

    @classmethod
    def validate(cls, value: str) -> str:
        """The normalised hash string; raises `InvalidHashError` if `value` is not one."""
        raise NotImplementedError

    @classmethod
    def distance(cls, a: str, b: str) -> int:
        """0 for equal hashes; larger is further apart."""
        return 0 if cls.validate(a) == cls.validate(b) else 1

    @classmethod
    def matches(cls, a: str, b: str) -> bool:
        return cls.distance(a, b) == 0


class _HexDigest(SignalType):
    length: ClassVar[int]

    @classmethod
    def validate(cls, value: str) -> str:
        text = str(value).strip().lower()
        if len(text) != cls.length or any(c not in "0123456789abcdef" for c in text):
            raise InvalidHashError(
                f"{value!r} is not a {cls.name} hash",
                f"a {cls.name} hash is {cls.length} hexadecimal digits",
            )
        return text


class Sha256Signal(_HexDigest):
    name = "sha256"
    description = "SHA-256 of a file's bytes (kind of file not stated): exact copies only."
    length = 64
    algorithm: ClassVar[str] = "sha256"


class Md5Signal(_HexDigest):
    name = "md5"
    description = "MD5 of a file's bytes (kind of file not stated): exact copies only."
    length = 32
    algorithm: ClassVar[str] = "md5"


class VideoSha256Signal(Sha256Signal):
    name = "video_sha256"
    description = "SHA-256 of a video file (ThreatExchange's video_sha256): exact copies only."


class VideoMd5Signal(Md5Signal):
    name = "video_md5"
    description = "MD5 of a video file (ThreatExchange's video_md5): exact copies only."


class PhotoSha256Signal(Sha256Signal):
    name = "photo_sha256"
    description = "SHA-256 of a picture file: exact copies only (no ThreatExchange type)."


class PhotoMd5Signal(Md5Signal):
    name = "photo_md5"
    description = "MD5 of a picture file (older ThreatExchange's photo_md5): exact copies only."


DIGEST_SIGNALS: dict[str, dict[str, type[_HexDigest]]] = {
    "video": {"md5": VideoMd5Signal, "sha256": VideoSha256Signal},
    "image": {"md5": PhotoMd5Signal, "sha256": PhotoSha256Signal},
}
"""The digest signal types of a file, by its kind (`FileHashes.kind`) and algorithm."""


class PdqSignal(_HexDigest):
    name = "pdq"
    description = (
        "Meta's PDQ perceptual hash of a picture: survives resizing and recompression; "
        f"a match is a Hamming distance <= {PDQ_CONFIDENT_MATCH_THRESHOLD} of 256 bits."
    )
    length = 64

    @classmethod
    def distance(cls, a: str, b: str) -> int:
        x = int(cls.validate(a), 16) ^ int(cls.validate(b), 16)
        return x.bit_count()

    @classmethod
    def matches(cls, a: str, b: str) -> bool:
        return cls.distance(a, b) <= PDQ_CONFIDENT_MATCH_THRESHOLD


class VpdqSignal(SignalType):
    name = "vpdq"
    description = (
        "vPDQ: PDQ of one frame per second of a video; two videos match when at least "
        f"{VPDQ_QUERY_MATCH_PERCENT:.0f} % of the query's distinct frames match."
    )

    @classmethod
    def parse(cls, value: str) -> list[VpdqFrame]:
        try:
            items = json.loads(value)
            if not isinstance(items, list) or not items:
                raise ValueError
            frames = []
            for item in items:
                pdq_hex, quality, timestamp = str(item).split(",")
                frames.append(
                    VpdqFrame(PdqSignal.validate(pdq_hex), int(quality), float(timestamp))
                )
        except (ValueError, TypeError, InvalidHashError):
            raise InvalidHashError(
                "this is not a vpdq hash",
                'a vpdq hash is a JSON list of "pdq_hex,quality,seconds" strings, as '
                "ThreatExchange writes it",
            ) from None
        return frames

    @classmethod
    def validate(cls, value: str) -> str:
        return serialise_vpdq(cls.parse(value))

    @classmethod
    def distance(cls, a: str, b: str) -> int:
        """100 minus the query's frame-match percentage (0 = every frame matched)."""
        query_pct, _ = vpdq_match_percent(cls.parse(a), cls.parse(b))
        return round(100 - query_pct)

    @classmethod
    def matches(cls, a: str, b: str) -> bool:
        query_pct, compared_pct = vpdq_match_percent(cls.parse(a), cls.parse(b))
        return vpdq_is_match(query_pct, compared_pct)


SIGNAL_TYPES: dict[str, type[SignalType]] = {
    s.name: s
    for s in (
        PdqSignal,
        VpdqSignal,
        VideoMd5Signal,
        VideoSha256Signal,
        PhotoMd5Signal,
        PhotoSha256Signal,
        Md5Signal,
        Sha256Signal,
    )
}
SIGNAL_ALIASES = {"pdq_ocr": "pdq"}
"""Other names read on import: HMA's PDQ-with-OCR signal carries a plain PDQ hash."""


def exact_algorithm(name: str) -> str | None:
    """The digest algorithm ("md5", "sha256") of a digest signal type of any kind of file, else
    None: digests of one algorithm match each other whatever kind of file their entry says."""
    return getattr(SIGNAL_TYPES.get(name), "algorithm", None)


def signal_type(name: str) -> type[SignalType]:
    """The signal type called `name` (ThreatExchange names and aliases accepted)."""
    key = SIGNAL_ALIASES.get(name.strip().lower(), name.strip().lower())
    if key not in SIGNAL_TYPES:
        raise InvalidHashError(
            f"unknown signal type {name!r}", f"use one of: {', '.join(SIGNAL_TYPES)}"
        )
    return SIGNAL_TYPES[key]


def guess_signal_type(value: str) -> type[SignalType]:
    """The signal type a bare hash string is written in, judged by its form."""
    text = value.strip()
    if text.startswith("["):
        return VpdqSignal
    if len(text) == 32:
        return Md5Signal
    if len(text) == 64:
        # PDQ and SHA-256 are both 64 hex digits; a bare 64-digit string is read as PDQ, the
        # usual thing to look up. Say "sha256:<hex>" for a SHA-256.
        return PdqSignal
    raise InvalidHashError(
        f"cannot tell what kind of hash {value[:70]!r} is",
        "write it as TYPE:HASH, e.g. pdq:<64 hex digits>, md5:<32 hex digits>, sha256:<64 hex>",
    )


def parse_hash(text: str) -> tuple[str, str]:
    """`"pdq:abc..."` or a bare hash -> (signal type name, normalised hash)."""
    text = text.strip()
    head, sep, rest = text.partition(":")
    if sep and not head.startswith("[") and head.isidentifier():
        kind = signal_type(head)
        return kind.name, kind.validate(rest)
    kind = guess_signal_type(text)
    return kind.name, kind.validate(text)


# -- computing hashes ---------------------------------------------------------------------------


def pdq(rgb: np.ndarray) -> tuple[str, int]:
    """PDQ hash (64 hex digits, ThreatExchange bit order) and quality (0-100) of an HxWx3 uint8
    RGB picture. Pictures over PDQ_MAX_PIXELS are hashed from an area-averaged copy of that
    size (see there)."""
    import pdqhash

    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError("pdq() needs an HxWx3 uint8 RGB array")
    height, width = rgb.shape[:2]
    if height * width > PDQ_MAX_PIXELS:
        import cv2

        scale = (PDQ_MAX_PIXELS / (height * width)) ** 0.5
        size = (max(1, int(width * scale)), max(1, int(height * scale)))
        rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    bits, quality = pdqhash.compute(np.ascontiguousarray(rgb))
    return np.packbits(bits.astype(np.uint8)).tobytes().hex(), int(quality)


def pdq_windows(rgb: np.ndarray, cuts: tuple[float, ...]) -> list[tuple[str, int]]:
    """PDQ of every sub-window that cuts one of `cuts` (fractions) off each side, whole
    picture first. See `BANK_WINDOW_CUTS` and `QUERY_WINDOW_CUTS` for why."""
    h, w = rgb.shape[:2]
    scale = min(1.0, _WINDOW_SIDE / max(h, w))
    if scale < 1.0:
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        rgb = np.asarray(Image.fromarray(rgb).resize(size, Image.Resampling.BILINEAR))
        h, w = rgb.shape[:2]
    seen: dict[str, int] = {}
    for top in cuts:
        for bottom in cuts:
            for left in cuts:
                for right in cuts:
                    y0, y1 = round(h * top), h - round(h * bottom)
                    x0, x1 = round(w * left), w - round(w * right)
                    if y1 - y0 < 16 or x1 - x0 < 16:
                        continue
                    hex_, quality = pdq(rgb[y0:y1, x0:x1])
                    seen.setdefault(hex_, quality)
    return list(seen.items())


def pdq_rotations(rgb: np.ndarray) -> list[tuple[str, str, int]]:
    """(transform, PDQ, quality) of the picture's seven rotations and mirror images (see
    `PDQ_DIHEDRAL_TRANSFORMS`), from one `pdqhash.compute_dihedral` call on the same <= 512 px
    copy the window hashes use."""
    import pdqhash

    h, w = rgb.shape[:2]
    scale = min(1.0, _WINDOW_SIDE / max(h, w))
    if scale < 1.0:
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        rgb = np.asarray(Image.fromarray(rgb).resize(size, Image.Resampling.BILINEAR))
    hashes, quality = pdqhash.compute_dihedral(np.ascontiguousarray(rgb))
    return [
        (name, np.packbits(bits.astype(np.uint8)).tobytes().hex(), int(quality))
        for name, bits in zip(PDQ_DIHEDRAL_TRANSFORMS[1:], hashes[1:], strict=True)
    ]


def serialise_vpdq(frames: list[VpdqFrame]) -> str:
    """ThreatExchange's `vpdq_to_json`, byte for byte (json.dumps with its default separators)."""
    return json.dumps([str(f) for f in frames])


def _distinct_good(frames: list[VpdqFrame]) -> list[str]:
    return list(dict.fromkeys(f.pdq for f in frames if f.quality >= PDQ_QUALITY_THRESHOLD))


def vpdq_match_percent(
    query: list[VpdqFrame], compared: list[VpdqFrame], radius: int = PDQ_CONFIDENT_MATCH_THRESHOLD
) -> tuple[float, float]:
    """(query match %, compared match %) as the vPDQ reference's brute-force matcher computes
    them: distinct frame hashes of quality >= 50; a frame matches if any frame of the other
    video is within `radius`."""
    q = _distinct_good(query)
    c = _distinct_good(compared)
    if not q or not c:
        return 0.0, 0.0
    qa = np.frombuffer(bytes.fromhex("".join(q)), dtype=np.uint8).reshape(-1, 32)
    ca = np.frombuffer(bytes.fromhex("".join(c)), dtype=np.uint8).reshape(-1, 32)
    dist = np.bitwise_count(qa[:, None, :] ^ ca[None, :, :]).sum(axis=2)
    close = dist <= radius
    return 100.0 * close.any(axis=1).mean(), 100.0 * close.any(axis=0).mean()


def vpdq_is_match(query_percent: float, compared_percent: float) -> bool:
    return query_percent >= VPDQ_QUERY_MATCH_PERCENT and compared_percent >= (
        VPDQ_INDEX_MATCH_PERCENT
    )


@dataclass
class FileHashes:
    """Every hash of one file. `pdq_windows` holds the extra crop-robust window hashes."""

    path: str
    kind: str
    sha256: str
    md5: str
    pdq: str | None = None
    pdq_quality: int | None = None
    vpdq: list[VpdqFrame] = field(default_factory=list)
    pdq_windows: list[tuple[str, int]] = field(default_factory=list)
    pdq_rotations: list[tuple[str, str, int]] = field(default_factory=list)
    """(transform, PDQ, quality) of the rotations and mirror images, for lookups."""

    def signals(self) -> dict[str, str]:
        """{signal type name: hash string} in ThreatExchange names and encodings."""
        digests = DIGEST_SIGNALS.get(self.kind, DIGEST_SIGNALS["image"])
        out = {digests["md5"].name: self.md5, digests["sha256"].name: self.sha256}
        if self.pdq is not None:
            out["pdq"] = self.pdq
        if self.vpdq:
            out["vpdq"] = serialise_vpdq(self.vpdq)
        return out

    def to_dict(self) -> dict[str, object]:
        """The file's digests and perceptual hashes; `signals` has them again under their
        ThreatExchange signal-type names, ready to send to HMA or ThreatExchange."""
        data: dict[str, object] = {
            "path": self.path,
            "kind": self.kind,
            "sha256": self.sha256,
            "md5": self.md5,
        }
        if self.pdq is not None:
            data["pdq"] = self.pdq
            data["pdq_quality"] = self.pdq_quality
        if self.vpdq:
            data["vpdq"] = [str(f) for f in self.vpdq]
        data["signals"] = self.signals()
        return data


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def file_md5(path: Path) -> str:
    """MD5 of a file's bytes (ThreatExchange's video_md5 / photo_md5 signal), 1 MiB chunks."""
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _file_digests(path: Path) -> tuple[str, str]:
    sha, md5 = hashlib.sha256(), hashlib.md5(usedforsecurity=False)
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            sha.update(chunk)
            md5.update(chunk)
    return sha.hexdigest(), md5.hexdigest()


def hash_file(
    path: str | os.PathLike[str], *, window_cuts: tuple[float, ...] | None = None
) -> FileHashes:
    """All hashes of one picture or video. Decoding goes through `unmask.media.open_media`
    (its limits and clear errors apply); video frames are sampled at one per second.

    `window_cuts`: also hash sub-windows of a picture (`BANK_WINDOW_CUTS` when adding to a
    bank, `QUERY_WINDOW_CUTS` when looking one up), and its rotations and mirror images (used
    by lookups only)."""
    from unmask.media import open_media
    from unmask.media.limits import Limits
    from unmask.media.types import Frame

    deadline = time.monotonic() + Limits().time_budget_s
    # Animated pictures (GIF, WebP, APNG) are sampled by the media loader, one frame a second;
    # video files are opened there once for its limits and checks (one frame decoded), then
    # hashed as Meta's vpdq hashes them (`unmask.video_hashing`). Either way frames are hashed
    # as they are decoded and dropped: keeping one 1080p frame a second took 3.8 GB for a
    # 10-minute video.
    sampled: list[VpdqFrame] = []

    def keep(frame: Frame) -> None:
        sampled.append(VpdqFrame(*pdq(frame.rgb), round(frame.time_s, 3)))

    media = open_media(path, n_frames=1, deadline=deadline, on_frame=keep)
    if media.kind == "video" and media.video_container is None:  # an animated picture
        sampled.clear()
        fps = 1.0 / VPDQ_SECONDS_PER_HASH
        media = open_media(path, fps=fps, deadline=deadline, on_frame=keep)
    sha, md5 = _file_digests(Path(path))
    result = FileHashes(path=str(path), kind=media.kind, sha256=sha, md5=md5)
    if media.kind == "image" and media.frames:
        rgb = media.frames[0].rgb
        result.pdq, result.pdq_quality = pdq(rgb)
        if window_cuts:
            result.pdq_windows = pdq_windows(rgb, window_cuts)
            result.pdq_rotations = pdq_rotations(rgb)
    elif media.video_container is None:
        result.vpdq = sampled
    else:
        from unmask.video_hashing import hash_video_frames

        hashed = hash_video_frames(str(path), VPDQ_SECONDS_PER_HASH, pdq, deadline)
        result.vpdq = [VpdqFrame(*item) for item in hashed]
    return result


def hash_in_worker(
    _state: object, path: str, window_cuts: tuple[float, ...] | None = None
) -> FileHashes:
    """`hash_file` as a `unmask.worker.FileWorker` task (the worker holds no state)."""
    return hash_file(path, window_cuts=window_cuts)


HASHING_WAIT_S = 30.0
"""Longest wait for a free hashing slot (`hashing_slots`) before the caller is told the server
is busy: a bounded wait, never an unbounded queue of threads each about to start a worker."""
BUSY_RETRY_AFTER_S = 30
"""What a busy server asks a client to wait before trying again (HTTP Retry-After)."""

_SLOTS: threading.BoundedSemaphore | None = None
_SLOTS_LOCK = threading.Lock()
log = logging.getLogger(__name__)


class ServerBusyError(UnmaskError):
    """No hashing worker could run now: every slot was taken for `HASHING_WAIT_S`, the worker did
    not start in time, or the system refused a new process. Says nothing about the file."""

    code = "server_busy"
    retry_after_s = BUSY_RETRY_AFTER_S


def hashing_slots() -> threading.BoundedSemaphore:
    """The process-wide limit on hashing workers alive at once, sized as the scan's worker pool
    is (`unmask.scan_pool.default_workers`: one per core, no more than the memory holds). Each
    worker may use up to `unmask.worker.MEMORY_SHARE` of the memory and decodes a whole video,
    so a server answering ~40 requests at a time must not start ~40 of them."""
    global _SLOTS
    with _SLOTS_LOCK:
        if _SLOTS is None:
            from unmask.scan_pool import default_workers

            _SLOTS = threading.BoundedSemaphore(default_workers())
        return _SLOTS


def hash_file_isolated(
    path: str | os.PathLike[str],
    budget_s: float,
    *,
    window_cuts: tuple[float, ...] | None = None,
) -> FileHashes:
    """`hash_file` in a worker process of its own, as a server needs it for an upload: the
    worker is killed `unmask.worker.KILL_GRACE_S` after `budget_s` and runs under the worker's
    memory cap, so a decoder stuck in C code or crashing on a hostile file ends that file's
    hashing, not the server. At most `hashing_slots()` workers live at once; a caller waits for
    a slot up to `HASHING_WAIT_S`. Raises `UnmaskError`: the decoder's own errors,
    `TimeBudgetExceededError`, `WorkerCrashedError`, `OutOfMemoryError`, and `ServerBusyError`
    when no slot came free or no worker could be started (the server's state, not the file's).

    A fresh interpreter per call: about 0.4 s more than hashing in the caller's process
    (astronaut.jpg: 0.49 s against 0.08 CPU s), and none of it in the caller's process."""
    from unmask import worker

    slots = hashing_slots()
    if not slots.acquire(timeout=HASHING_WAIT_S):
        raise ServerBusyError(
            f"the server is busy: every hashing worker stayed taken for {HASHING_WAIT_S:g} s",
            f"try again in {BUSY_RETRY_AFTER_S} s",
        )
    try:
        child = worker.FileWorker(budget_s, grace_s=worker.KILL_GRACE_S)
        try:
            child.start()
        except (OSError, worker.WorkerStartTimeoutError) as exc:
            child.close()
            log.warning("could not start a hashing worker: %s", exc)
            raise ServerBusyError(
                "the server is busy: it could not start a hashing process just now",
                f"try again in {BUSY_RETRY_AFTER_S} s",
            ) from None
        try:
            return child.run(hash_in_worker, str(path), window_cuts)
        finally:
            child.close()
    finally:
        slots.release()
