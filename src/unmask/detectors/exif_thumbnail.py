"""The EXIF thumbnail against the picture: does the embedded preview show the same picture?

Cameras write a small preview (the EXIF thumbnail, IFD1 of the Exif segment, CIPA DC-008
"Exif 2.32" section 4.5.8) when they take a photo. Many editors change the pixels but copy the
Exif segment as it was, so the old preview stays: a preview that shows another picture, or the
picture before something was removed or moved, is a trace of editing after the camera wrote it
(and sometimes shows what the picture looked like before). Editors that rewrite the preview, and
files without one, tell nothing either way.

The preview is compared with the picture shrunk to the preview's size, on the content both show
(previews of 3:2 photos are often 4:3 with black bars, which are cut off first):
- PDQ hashes of the two (ThreatExchange's perceptual hash): a distance over
  `PDQ_CONFIDENT_MATCH_THRESHOLD` (31) bits means another picture, or the same one rotated,
  mirrored or heavily cropped (the dihedral hashes say which);
- the largest difference of 8x8-pixel blocks after matching brightness and contrast, for a
  local change that leaves the PDQ hash close (an object removed or added).
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
from PIL import ExifTags, Image, ImageOps

from unmask.hashing import PDQ_CONFIDENT_MATCH_THRESHOLD, PdqSignal
from unmask.media.types import Media
from unmask.result import Finding

THUMBNAIL_MAX_PIXELS = 1024 * 1024
"""A preview declaring more pixels than this is not decoded (EXIF limits the segment to 64 KB;
a larger declared size is a decompression bomb, not a preview)."""
THUMBNAIL_MIN_SIDE = 32
"""Previews smaller than this have too little detail to compare."""
BAR_LEVEL = 16
"""Rows and columns at the preview's edges darker than this (mean of 0-255) are letterbox bars."""
ASPECT_TOLERANCE = 0.06
"""Preview and picture proportions may differ by 6 %: rounding of small previews."""
BLOCK = 8
BLOCK_DIFFERENCE_THRESHOLD = 45.0
"""A block of the brightness-matched preview whose mean difference from the picture exceeds 45
levels (of 255) is a local change. The 35 shared JPEGs whose preview matches their picture
stay at 37 or below (bench/bench_exif_thumbnail.py; previews are small and compressed hard);
a flat square painted over 1/8 of a camera photo's width and height gives 60, over 1/12 only
43, so smaller changes are missed (tests/test_exif_thumbnail.py)."""


def exif_thumbnail(media: Media) -> Finding | None:
    """A finding on the EXIF thumbnail of a JPEG picture; None when it has none."""
    if media.kind != "image" or media.raw is None or not media.frames:
        return None
    if media.format.upper() not in ("JPEG", "MPO"):
        return None
    data, orientation = _thumbnail_bytes(media.raw)
    if data is None:
        return None
    thumbnail = _decode(data)
    if thumbnail is None:
        return Finding(
            detector="forensics",
            code="exif_thumbnail",
            summary=(
                "The file carries an EXIF preview that could not be read (damaged or not a "
                "picture), so it could not be compared with the picture."
            ),
            evidence={"thumbnail_bytes": len(data)},
        )
    thumbnail = _oriented(thumbnail, orientation)
    return compare_with_picture(thumbnail, media.frames[0].rgb, len(data))


def compare_with_picture(thumbnail: Image.Image, rgb: np.ndarray, size_bytes: int) -> Finding:
    """Compare a decoded, upright preview with the picture (see the module's description)."""
    picture = Image.fromarray(np.ascontiguousarray(rgb[:, :, :3]))
    preview = _without_bars(np.asarray(thumbnail.convert("RGB")), picture.width / picture.height)
    height, width = preview.shape[:2]
    aspect_preview, aspect_picture = width / height, picture.width / picture.height
    aspect_change = abs(aspect_preview - aspect_picture) / aspect_picture
    evidence: dict[str, Any] = {
        "thumbnail_bytes": size_bytes,
        "thumbnail_size": [width, height],
        "picture_size": [picture.width, picture.height],
        "aspect_difference": round(aspect_change, 3),
        "pdq_match_threshold": PDQ_CONFIDENT_MATCH_THRESHOLD,
        "block_difference_threshold": BLOCK_DIFFERENCE_THRESHOLD,
    }
    if min(width, height) < THUMBNAIL_MIN_SIDE:
        return _finding(
            "The file carries an EXIF preview too small to compare with the picture.",
            evidence,
        )
    shrunk = np.asarray(picture.resize((width, height), Image.Resampling.BOX))
    distance, transform = _pdq_distance(preview, picture)
    evidence["pdq_distance"] = distance
    block, where = _largest_block_difference(preview, shrunk)
    evidence["largest_block_difference"] = round(block, 1)
    evidence["largest_block_at_fraction"] = [round(float(v), 3) for v in where]
    maps = {"exif_thumbnail_difference": _difference_map(preview, shrunk)}

    if transform:
        evidence["picture_is_preview"] = transform
        return _finding(
            f"The embedded EXIF preview shows this picture, but the picture is the preview "
            f"{transform}: it was turned or mirrored after the camera (or an earlier program) "
            "wrote the preview.",
            evidence,
            maps,
            edited=True,
        )
    if aspect_change > ASPECT_TOLERANCE or distance > PDQ_CONFIDENT_MATCH_THRESHOLD:
        cropped = " and has other proportions" if aspect_change > ASPECT_TOLERANCE else ""
        return _finding(
            f"The embedded EXIF preview differs clearly from the picture{cropped} (PDQ distance "
            f"{distance} of 256 bits, over {PDQ_CONFIDENT_MATCH_THRESHOLD}): the picture was "
            "edited, cropped or replaced after the camera (or an earlier program) wrote the "
            "preview. The preview may show what it looked like before.",
            evidence,
            maps,
            edited=True,
        )
    if block > BLOCK_DIFFERENCE_THRESHOLD:
        x, y = where
        return _finding(
            "The embedded EXIF preview matches the picture overall but differs in one area "
            f"(about {x:.0%} across, {y:.0%} down; block difference {block:.0f} of 255): that "
            "area may have been changed after the preview was written.",
            evidence,
            maps,
            edited=True,
        )
    return _finding(
        f"The embedded EXIF preview shows the same picture (PDQ distance {distance} of 256 "
        "bits, no area clearly different). Editors can rewrite the preview, so this does not "
        "show the picture is unedited.",
        evidence,
        maps,
    )


def _finding(
    summary: str,
    evidence: dict[str, Any],
    maps: dict[str, np.ndarray] | None = None,
    edited: bool = False,
) -> Finding:
    return Finding(
        detector="forensics",
        code="exif_thumbnail",
        summary=summary,
        indicates="editing" if edited else "none",
        strength="weak" if edited else "info",
        evidence=evidence,
        maps=maps or {},
    )


def _thumbnail_bytes(raw: bytes) -> tuple[bytes | None, int]:
    """The preview's JPEG bytes (IFD1 JPEGInterchangeFormat and its length, offsets from the
    TIFF header) and the picture's orientation tag; (None, 1) when there is no preview."""
    try:
        with Image.open(io.BytesIO(raw)) as image:
            exif_block = image.info.get("exif")
            exif = image.getexif()
            orientation = int(exif.get(ExifTags.Base.Orientation, 1) or 1)
            ifd1 = exif.get_ifd(ExifTags.IFD.IFD1)
    except Exception:  # a malformed Exif segment is the metadata check's business
        return None, 1
    if not exif_block or not ifd1:
        return None, orientation
    offset = ifd1.get(ExifTags.Base.JpegIFOffset)
    length = ifd1.get(ExifTags.Base.JpegIFByteCount)
    tiff = exif_block[6:] if exif_block.startswith(b"Exif\x00\x00") else exif_block
    if not isinstance(offset, int) or not isinstance(length, int) or length <= 0:
        return None, orientation
    data = tiff[offset : offset + length]
    if len(data) != length or not data.startswith(b"\xff\xd8"):
        return None, orientation
    return data, orientation


def _decode(data: bytes) -> Image.Image | None:
    try:
        image = Image.open(io.BytesIO(data))
        if image.width * image.height > THUMBNAIL_MAX_PIXELS:
            return None
        image.load()
    except Exception:  # any damage: the caller reports "could not be read"
        return None
    return image


def _oriented(thumbnail: Image.Image, orientation: int) -> Image.Image:
    """The preview turned as the picture was (the loader shows pictures upright by their
    Orientation tag, and previews are stored as the sensor saw them)."""
    if orientation == 1:
        return thumbnail
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    thumbnail.info["exif"] = exif.tobytes()
    return ImageOps.exif_transpose(thumbnail)


def _without_bars(rgb: np.ndarray, aspect: float) -> np.ndarray:
    """The preview without black letterbox bars at its edges, when cutting them brings its
    proportions closer to the picture's (a dark scene's own edges are not bars)."""
    luma = rgb.mean(axis=2)
    rows = np.where(luma.mean(axis=1) > BAR_LEVEL)[0]
    cols = np.where(luma.mean(axis=0) > BAR_LEVEL)[0]
    if rows.size < 2 or cols.size < 2:
        return rgb
    cut = rgb[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]

    def off(picture: np.ndarray) -> float:
        return abs(picture.shape[1] / picture.shape[0] - aspect)

    return cut if off(cut) < off(rgb) else rgb


TURNS = (
    (Image.Transpose.ROTATE_270, "rotated 90° clockwise"),
    (Image.Transpose.ROTATE_90, "rotated 90° counter-clockwise"),
    (Image.Transpose.ROTATE_180, "rotated 180°"),
    (Image.Transpose.FLIP_LEFT_RIGHT, "mirrored left to right"),
    (Image.Transpose.FLIP_TOP_BOTTOM, "flipped upside down"),
    (Image.Transpose.TRANSPOSE, "mirrored along the diagonal"),
    (Image.Transpose.TRANSVERSE, "mirrored along the other diagonal"),
)
"""The seven ways a picture can be turned or mirrored (Pillow's transposes), in words that say
what the picture is relative to its preview."""


def _pdq_distance(preview: np.ndarray, picture: Image.Image) -> tuple[int, str]:
    """(PDQ distance between the preview and the picture shrunk to its size, and the turn of
    the preview that matches the picture when the preview as it is does not, else "")."""
    from unmask.hashing import pdq

    def distance_to(candidate: np.ndarray) -> int:
        height, width = candidate.shape[:2]
        shrunk = np.asarray(picture.resize((width, height), Image.Resampling.BOX))
        return PdqSignal.distance(pdq(np.ascontiguousarray(candidate))[0], pdq(shrunk)[0])

    distance = distance_to(preview)
    if distance <= PDQ_CONFIDENT_MATCH_THRESHOLD:
        return distance, ""
    upright = Image.fromarray(preview)
    for turn, words in TURNS:
        if distance_to(np.asarray(upright.transpose(turn))) <= PDQ_CONFIDENT_MATCH_THRESHOLD:
            return distance, words
    return distance, ""


def _normalised(grey: np.ndarray) -> np.ndarray:
    return (grey - grey.mean()) / max(1.0, float(grey.std()))


def _greys(preview: np.ndarray, shrunk: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both in grey, the preview's brightness and contrast matched to the picture's (cameras
    write previews with their own tone curve)."""
    p = preview.astype(np.float32).mean(axis=2)
    s = shrunk.astype(np.float32).mean(axis=2)
    return _normalised(p) * float(s.std()) + float(s.mean()), s


def _largest_block_difference(
    preview: np.ndarray, shrunk: np.ndarray
) -> tuple[float, tuple[float, float]]:
    p, s = _greys(preview, shrunk)
    diff = np.abs(p - s)
    h, w = (diff.shape[0] // BLOCK) * BLOCK, (diff.shape[1] // BLOCK) * BLOCK
    if h == 0 or w == 0:
        return 0.0, (0.5, 0.5)
    blocks = diff[:h, :w].reshape(h // BLOCK, BLOCK, w // BLOCK, BLOCK).mean(axis=(1, 3))
    y, x = np.unravel_index(int(np.argmax(blocks)), blocks.shape)
    where = ((x + 0.5) * BLOCK / diff.shape[1], (y + 0.5) * BLOCK / diff.shape[0])
    return float(blocks[y, x]), where


def _difference_map(preview: np.ndarray, shrunk: np.ndarray) -> np.ndarray:
    """|preview - picture| per pixel, x4 (64 levels are white), at the preview's size."""
    p, s = _greys(preview, shrunk)
    return np.clip(np.abs(p - s) * 4.0, 0, 255).astype(np.uint8)
