"""Cut a square face crop for the face classifiers.

    >>> crop = crop_face(frame.rgb, face.box)             # 224 x 224 x 3 uint8
    >>> square = square_around(face.box, 2.0)             # (left, top, side), not rounded
    >>> cut = cut_square(frame.rgb, square, 320)          # points map back exactly

The crop is the face box's longer side plus `margin` of it on each side, centred on the box.
Where that square leaves the picture it is filled with a constant colour, never reflected:
reflection padding turns a tightly cropped face into a mirrored, kaleidoscope-like one, a
pattern a classifier can learn as a shortcut (see shared/data/README.md).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image

CROP_MARGIN = 0.2
"""Margin on each side, as a fraction of the box's longer side. Published deepfake pipelines
use 12.5 % (FaceForensics++ crops 1.3x the box) to 30 %; blending artefacts sit at the face
border, so the crop must show some skin and background around it."""
CROP_SIZE = 224
"""Side of the returned crop in pixels: the input size of common ImageNet backbones."""
CROP_FILL = 0
"""Grey level of the area outside the picture (black)."""


def crop_face(
    rgb: np.ndarray,
    box: Sequence[float],
    margin: float = CROP_MARGIN,
    size: int = CROP_SIZE,
    fill: int = CROP_FILL,
) -> np.ndarray:
    """A `size` x `size` x 3 uint8 square crop around `box` (x0, y0, x1, y1) of `rgb`.

    The square's side is `max(width, height) * (1 + 2 * margin)`; the part outside the
    picture is `fill`. Resized with Pillow's antialiased bilinear filter.
    """
    if not isinstance(rgb, np.ndarray) or rgb.dtype != np.uint8 or rgb.ndim != 3:
        raise ValueError("expected an HxWx3 uint8 RGB array")
    if rgb.shape[2] != 3:
        raise ValueError(f"expected 3 colour channels, got {rgb.shape[2]}")
    x0, y0, x1, y1 = (float(v) for v in box)
    if not (x1 > x0 and y1 > y0):
        raise ValueError(f"empty box {tuple(box)}")
    if margin < 0 or size < 1:
        raise ValueError("margin must be >= 0 and size >= 1")

    left, top, side_px = crop_square(box, margin)
    h, w = rgb.shape[:2]
    square = np.full((side_px, side_px, 3), fill, dtype=np.uint8)
    sx0, sy0 = max(left, 0), max(top, 0)
    sx1, sy1 = min(left + side_px, w), min(top + side_px, h)
    if sx1 > sx0 and sy1 > sy0:
        square[sy0 - top : sy1 - top, sx0 - left : sx1 - left] = rgb[sy0:sy1, sx0:sx1]
    if side_px == size:
        return square
    return np.asarray(
        Image.fromarray(square).resize((size, size), Image.Resampling.BILINEAR, reducing_gap=3.0)
    )


def crop_square(box: Sequence[float], margin: float) -> tuple[int, int, int]:
    """(left, top, side) in whole pixels of the square `crop_face` cuts around `box`: a point
    (x, y) of the picture is at ((x - left) * size / side, (y - top) * size / side) in its crop."""
    x0, y0, x1, y1 = (float(v) for v in box)
    side = max(1, round(max(x1 - x0, y1 - y0) * (1 + 2 * margin)))
    return round((x0 + x1) / 2 - side / 2), round((y0 + y1) / 2 - side / 2), side


def square_around(box: Sequence[float], scale: float) -> tuple[float, float, float]:
    """(left, top, side) of the square `scale` times the box's longer side, centred on the box."""
    x0, y0, x1, y1 = (float(v) for v in box)
    side = max(x1 - x0, y1 - y0) * scale
    return (x0 + x1) / 2 - side / 2, (y0 + y1) / 2 - side / 2, side


def cut_square(image: np.ndarray, square: tuple[float, float, float], size: int) -> np.ndarray:
    """`square` (left, top, side) of an RGB or grey uint8 `image`, resampled bilinearly to
    `size` x `size`, black outside the picture.

    Unlike `crop_face` nothing is rounded to whole pixels, so a point (u, v) of the result is
    (left + u * side / size, top + v * side / size) in `image`: landmarks found in the cut map
    back exactly, and landmarks of `image` map into it."""
    left, top, side = square
    picture = Image.fromarray(image).transform(
        (size, size),
        Image.Transform.EXTENT,
        (left, top, left + side, top + side),
        Image.Resampling.BILINEAR,
        fillcolor=0,
    )
    return np.asarray(picture)
