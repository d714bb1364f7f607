"""What the media layer hands to everything else: decoded frames plus the file's own headers.

Detectors read these objects and never open files themselves, so a file is read and
decoded exactly once per scan.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

import numpy as np

if TYPE_CHECKING:
    from unmask.errors import UnmaskError

MediaKind = Literal["image", "video"]


class FrameTap(Protocol):
    """Sees every frame of a video, in the order its decoder outputs them, from the first to the
    last, while the loader decodes the sampled frames in the same pass (e.g. `unmask.video_hashing
    .VpdqHasher`, so that a report decodes a video once). Videos only: a still or animated
    picture never calls it."""

    def start(self, stream: Any) -> None:
        """Before the first frame, with the PyAV video stream."""

    def __call__(self, frame: Any) -> None:
        """Each decoded PyAV VideoFrame."""

    def fail(self, problem: UnmaskError) -> None:
        """The pass stopped before the last frame: the time the tap may use ran out. (Damaged
        data ends the pass without a call, as it ends a decoder.)"""


@dataclass(frozen=True)
class Frame:
    """One decoded picture: a still image, or one sampled frame of a video."""

    index: int
    """Position in the source (0 for a still image, the frame number in a video)."""
    time_s: float
    """Presentation time in seconds (0.0 for a still image)."""
    rgb: np.ndarray
    """Height x width x 3, uint8, RGB."""


@dataclass(frozen=True)
class ImageHeaders:
    """Raw header data of an image file, as the decoder found it; interpreted by detectors."""

    exif: dict[str, Any] = field(default_factory=dict)
    """EXIF tags by name (IFD0, Exif and GPS sub-IFDs merged), values as decoded by Pillow."""
    xmp: str | None = None
    """The XMP packet as text, if any."""
    iptc: dict[str, Any] = field(default_factory=dict)
    """IPTC-IIM records by (record, dataset) key written as "2:120" and so on."""
    icc_profile: bytes | None = None
    text_chunks: dict[str, str] = field(default_factory=dict)
    """PNG tEXt/iTXt/zTXt chunks and similar comment fields (key -> text)."""
    jpeg_quantization: dict[int, list[int]] = field(default_factory=dict)
    """JPEG quantisation tables by table id: 64 values each, in the order Pillow gives them."""
    jpeg_app_segments: list[tuple[str, int]] = field(default_factory=list)
    """JPEG APPn segments as (marker name, length); e.g. ("APP13", 8190) for Photoshop IRB."""
    photoshop_irb: bool = False
    """True when a Photoshop Image Resource Block (APP13 '8BIM') is present."""
    comment: str | None = None
    animated: bool = False


@dataclass(frozen=True)
class VideoContainer:
    """Container and stream metadata of a video, as PyAV/FFmpeg reports it."""

    format_name: str
    metadata: dict[str, str] = field(default_factory=dict)
    """Container-level tags (encoder, creation_time, major_brand, ...)."""
    video_codec: str = ""
    stream_metadata: dict[str, str] = field(default_factory=dict)
    audio_codec: str | None = None
    bit_rate: int | None = None


@dataclass
class Media:
    """A decoded file: its identity, its sampled frames and its headers."""

    path: str
    kind: MediaKind
    format: str
    """Container format detected from the bytes, e.g. "JPEG", "PNG", "WEBP", "mp4"."""
    mime: str
    size_bytes: int
    sha256: str
    width: int
    height: int
    frames: list[Frame]
    duration_s: float | None = None
    fps: float | None = None
    frame_count: int | None = None
    """Frames in the stream (estimated from duration and rate where the container does not say)."""
    raw: bytes | None = None
    """The file's bytes, kept for images only (bounded by the file-size limit)."""
    image_headers: ImageHeaders | None = None
    video_container: VideoContainer | None = None
    has_c2pa_manifest: bool = False
    """A C2PA manifest store (JUMBF) is embedded; the provenance check validates it."""
    warnings: list[str] = field(default_factory=list)
    """Non-fatal problems met while decoding (e.g. a truncated tail that was skipped)."""
