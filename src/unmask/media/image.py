"""Decode still and animated images with Pillow, within limits, keeping their raw headers."""

from __future__ import annotations

import functools
import io
import struct
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from PIL import ExifTags, Image, ImageOps, ImageSequence, IptcImagePlugin, UnidentifiedImageError

from unmask.errors import (
    CorruptMediaError,
    LimitExceededError,
    TimeBudgetExceededError,
    UnsupportedFormatError,
)
from unmask.media.guards import check_jpeg_scans
from unmask.media.limits import Limits
from unmask.media.sampling import MAX_SAMPLED_FRAME_SIDE, frames_within, sample_indices
from unmask.media.types import Frame, ImageHeaders

try:  # HEIC/HEIF through the maintained pillow-heif plugin; AVIF is built into Pillow >= 11.2.
    import pillow_heif

    pillow_heif.register_heif_opener()
except ImportError:  # pragma: no cover - optional
    pass

# We enforce our own pixel limit (Limits.max_pixels) on the header size before any pixel is
# decoded, so Pillow's global bomb check is replaced by ours rather than doubled.
Image.MAX_IMAGE_PIXELS = None

_EXIF_IFD = 0x8769
_GPS_IFD = 0x8825


def _keeping_warnings(
    decode: Callable[..., tuple[list[Frame], ImageHeaders, dict[str, Any]]],
) -> Callable[..., tuple[list[Frame], ImageHeaders, dict[str, Any]]]:
    """`decode`, with what Pillow warns about on the way (a malformed metadata tag, say) kept as
    the file's warnings (facts["warnings"]) instead of printed to the terminal."""

    @functools.wraps(decode)
    def decoding(*args: Any, **kwargs: Any) -> tuple[list[Frame], ImageHeaders, dict[str, Any]]:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # the limits decide
            frames, headers, facts = decode(*args, **kwargs)
        said = dict.fromkeys(str(w.message) for w in caught if issubclass(w.category, UserWarning))
        facts["warnings"] = [f"the image decoder (Pillow) warned: {message}" for message in said]
        return frames, headers, facts

    return decoding


@_keeping_warnings
def decode_image(
    data: bytes,
    limits: Limits,
    n_frames: int | None,
    fps: float | None,
    deadline: float,
    on_frame: Callable[[Frame], None] | None = None,
    frames_within_bytes: int | None = None,
) -> tuple[list[Frame], ImageHeaders, dict[str, Any]]:
    """Decode `data`; returns frames (one for a still image, a sample for an animation),
    the headers and facts about the file (format, size, animation timing).
    `frames_within_bytes`: sample an animation's every frame, or as many as fit in that many
    bytes (`unmask.media.sampling.frames_within`), instead of `n_frames`.

    Every limit is checked on what the headers say, before a pixel is decoded: the pixel
    count, the scans of a JPEG, and for an animation the frames times the canvas (each frame
    is composited on the whole canvas, so 3,000 one-pixel frames on a 4000 x 4000 canvas cost
    48 billion pixel writes). A multi-page TIFF or HEIF shows its first picture only, and its
    pages are never walked. The container's framing (PNG chunks, HEIF boxes) is checked by
    the loader before the file is read (`unmask.media.guards`)."""
    try:
        image = Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        raise UnsupportedFormatError(
            "the file looks like an image but no decoder recognised it",
            "convert it to JPEG or PNG and try again",
        ) from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise CorruptMediaError(f"the image header is damaged ({exc})", _REDOWNLOAD) from None

    width, height = image.size
    if width <= 0 or height <= 0:
        raise CorruptMediaError("the image says it has no pixels", _REDOWNLOAD)
    if width * height > limits.max_pixels:
        raise LimitExceededError(
            f"the image is {width} x {height} = {width * height / 1e6:.0f} megapixels, above the "
            f"limit of {limits.max_pixels / 1e6:.0f} megapixels (a decompression-bomb guard)",
            "if you trust this file, raise the limit with --max-pixels",
        )
    if image.format in ("JPEG", "MPO"):
        check_jpeg_scans(data, width * height)

    headers = _headers(image)
    # Multi-frame JPEG (MPO), TIFF and HEIF hold extra pictures (previews, pages), not motion:
    # only GIF, WebP and APNG animations are sampled like videos; the others show their first
    # frame, and their frames are never counted (counting walks every TIFF page).
    try:
        animated = image.format in _ANIMATED_FORMATS and bool(getattr(image, "is_animated", False))
        total = int(getattr(image, "n_frames", 1) or 1) if animated else 1
    except (OSError, SyntaxError, ValueError, EOFError, struct.error) as exc:
        raise CorruptMediaError(f"the animation is damaged ({exc})", _REDOWNLOAD) from None
    animated = animated and total > 1
    if animated and total * width * height > limits.max_animation_pixels:
        raise LimitExceededError(
            f"the animation has {total:,} frames on a {width} x {height} canvas: decoding it "
            f"means {total * width * height / 1e9:.1f} billion pixels, above the limit of "
            f"{limits.max_animation_pixels / 1e9:.0f} billion (a decompression-bomb guard)",
            "if you trust this file, convert it to a video (e.g. MP4) and scan that",
        )
    facts: dict[str, Any] = {"format": image.format or "", "width": width, "height": height}
    frames: list[Frame] = []
    try:
        if not animated:
            image.load()
            upright = ImageOps.exif_transpose(image) or image
            frames = [Frame(0, 0.0, _to_rgb(upright))]
            facts["width"], facts["height"] = upright.size
            return frames, headers, facts
        if frames_within_bytes is not None:
            n_frames = frames_within(total, width, height, frames_within_bytes, limits)
        durations = _decode_animation(
            image, total, limits, n_frames, fps, deadline, on_frame or frames.append
        )
    except (OSError, SyntaxError, ValueError, EOFError, struct.error) as exc:
        message = str(exc)
        if "truncated" in message:
            raise CorruptMediaError(
                "the image is truncated: the file ends before the picture does", _REDOWNLOAD
            ) from None
        raise CorruptMediaError(f"the image data is damaged ({message})", _REDOWNLOAD) from None
    facts.update(
        animated=True,
        frame_count=total,
        duration_s=sum(durations) / 1000.0,
        fps=(1000.0 * len(durations) / sum(durations)) if sum(durations) > 0 else None,
    )
    return frames, _replace_animated(headers), facts


_ANIMATED_FORMATS = {"GIF", "WEBP", "PNG"}
_REDOWNLOAD = "the file may be damaged or incomplete: download or copy it again from its source"


def _decode_animation(
    image: Image.Image,
    total: int,
    limits: Limits,
    n_frames: int | None,
    fps: float | None,
    deadline: float,
    keep: Callable[[Frame], None],
) -> list[float]:
    """Sample an animation in one pass over its frames (each frame depends on the ones before
    it, so every frame up to the last sampled one is decoded). Sampling at a fixed rate needs
    the frame durations first, which costs a second pass; the animation limit is checked
    against the frames of one pass, and the time budget is checked on every frame. Sampled
    frames go to `keep` as they are decoded; returns every frame's duration (ms)."""
    duration_s = None
    if fps is not None:
        durations = [_duration_ms(frame, deadline) for frame in ImageSequence.Iterator(image)]
        duration_s = sum(durations) / 1000.0
    wanted = set(sample_indices(total, duration_s or total / 10.0, n_frames, fps, limits))
    durations = []
    start_ms = 0.0
    for index, frame in enumerate(ImageSequence.Iterator(image)):
        duration = _duration_ms(frame, deadline)
        if index in wanted:
            keep(Frame(index, start_ms / 1000.0, _sampled_rgb(frame)))
        durations.append(duration)
        start_ms += duration
    return durations


def _duration_ms(frame: Image.Image, deadline: float) -> float:
    if time.monotonic() > deadline:
        raise TimeBudgetExceededError(
            "decoding the animation stopped: the per-file time budget ran out",
            "sample fewer frames, or raise --time-budget",
        )
    return float(frame.info.get("duration", 100) or 100)


def _sampled_rgb(frame: Image.Image) -> np.ndarray:
    """A sampled animation frame as RGB, scaled down like video frames (MAX_SAMPLED_FRAME_SIDE)
    so that 32 frames of a 9000 x 9000 canvas do not hold 8 GB."""
    rgb = _to_rgb(frame)
    height, width = rgb.shape[:2]
    scale = MAX_SAMPLED_FRAME_SIDE / max(width, height)
    if scale >= 1.0:
        return rgb
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return np.asarray(Image.fromarray(rgb).resize(size, Image.Resampling.BOX))


def _replace_animated(headers: ImageHeaders) -> ImageHeaders:
    from dataclasses import replace

    return replace(headers, animated=True)


RGB_STRIP_PIXELS = 4_000_000
"""Pictures larger than this are converted to RGB a band of rows at a time, so that a
100-megapixel picture does not hold Pillow's RGBA copy (400 MB) beside the result (300 MB)."""


def _to_rgb(image: Image.Image) -> np.ndarray:
    """RGB uint8; transparency is composited on white, 16-bit and float images are rescaled
    (over the whole picture's range, also when converted in bands)."""
    extrema = None
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        low, high = image.getextrema()
        extrema = (float(low), float(high))  # type: ignore[arg-type]
    width, height = image.size
    if width * height <= RGB_STRIP_PIXELS:
        return _band_to_rgb(image, extrema)
    rgb = np.empty((height, width, 3), dtype=np.uint8)
    rows = max(1, RGB_STRIP_PIXELS // width)
    for top in range(0, height, rows):
        bottom = min(height, top + rows)
        rgb[top:bottom] = _band_to_rgb(image.crop((0, top, width, bottom)), extrema)
    return rgb


def _band_to_rgb(image: Image.Image, extrema: tuple[float, float] | None) -> np.ndarray:
    if extrema is not None:
        low, high = extrema
        array = np.asarray(image, dtype=np.float64)
        scaled = (array - low) / (high - low) * 255.0 if high > low else np.zeros_like(array)
        image = Image.fromarray(scaled.astype(np.uint8), "L")
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba)
    return np.ascontiguousarray(np.asarray(image.convert("RGB"), dtype=np.uint8))


def _headers(image: Image.Image) -> ImageHeaders:
    info = image.info
    return ImageHeaders(
        exif=_exif(image),
        xmp=_xmp(image),
        iptc=_iptc(image),
        icc_profile=info.get("icc_profile") or None,
        text_chunks=_text_chunks(image),
        jpeg_quantization={
            int(k): [int(v) for v in table]
            for k, table in (getattr(image, "quantization", None) or {}).items()
        },
        jpeg_app_segments=[(marker, len(body)) for marker, body in getattr(image, "applist", [])],
        photoshop_irb=any(
            marker == "APP13" and body.startswith(b"Photoshop 3.0")
            for marker, body in getattr(image, "applist", [])
        ),
        comment=_text(info.get("comment")),
    )


def _exif(image: Image.Image) -> dict[str, Any]:
    try:
        exif = image.getexif()
        tags: dict[str, Any] = {ExifTags.TAGS.get(k, f"0x{k:04x}"): v for k, v in exif.items()}
        for key, value in exif.get_ifd(_EXIF_IFD).items():
            tags[ExifTags.TAGS.get(key, f"0x{key:04x}")] = value
        gps = exif.get_ifd(_GPS_IFD)
        if gps:
            tags["GPSInfo"] = {ExifTags.GPSTAGS.get(k, f"0x{k:04x}"): v for k, v in gps.items()}
        else:
            tags.pop("GPSInfo", None)
        tags.pop("ExifOffset", None)
        return tags
    except Exception:  # malformed EXIF is common and must never stop a scan
        return {}


def _xmp(image: Image.Image) -> str | None:
    raw = image.info.get("xmp") or image.info.get("XML:com.adobe.xmp")
    if raw is None and hasattr(image, "tag_v2"):
        raw = image.tag_v2.get(700)  # TIFF XMLPacket
    return _text(raw)


def _iptc(image: Image.Image) -> dict[str, Any]:
    try:
        records = IptcImagePlugin.getiptcinfo(image) or {}
    except Exception:
        return {}
    result: dict[str, Any] = {}
    for (record, dataset), value in records.items():
        values = value if isinstance(value, list) else [value]
        texts = [_text(v) for v in values]
        result[f"{record}:{dataset}"] = texts[0] if len(texts) == 1 else texts
    return result


def _text_chunks(image: Image.Image) -> dict[str, str]:
    chunks: dict[str, str] = {}
    try:
        text = getattr(image, "text", None) or {}
    except Exception:
        text = {}
    for key, value in {**image.info, **text}.items():
        if key in ("xmp", "XML:com.adobe.xmp", "icc_profile", "exif", "comment"):
            continue
        if isinstance(value, str):
            chunks[str(key)] = value
    return chunks


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)
