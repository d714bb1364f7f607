"""Within-frame consistency cues of one face: does the inner face look like its own frame?

A swapper or a photo editor replaces the inner face (brows to chin, cheek to cheek) with pixels
that were made or saved elsewhere: rendered at a low resolution, restored, colour-matched, or cut
from another photo with another JPEG history. The rest of the frame keeps the camera's noise,
focus and compression. These cues compare the inner face with a ring of the same person's skin
just outside it and with the surroundings of the face in the same frame, so that they do not
depend on how one clip differs from another (notes/detector-baseline.md: the shared swaps differ
from their originals by less than clips differ from each other).

Everything is plain NumPy/OpenCV over one frame, no learning. Each cue is a signed number
(a log ratio or a distance); which direction means "pasted" is learned by the fusion, never
assumed here. The measurements are in BENCHMARKS.md ("Within-frame consistency cues").

Geometry from the five MTCNN landmarks (no dense mesh at scan time):
- inner face: an ellipse centred between the eyes' midpoint and the mouth's midpoint, tilted
  with the eye line, semi-axes `INNER_AXES` times (eye distance, eye-to-mouth distance): inside
  the region every swapper in our data redraws;
- ring: the annulus between `RING_SCALES` times that ellipse, limited to skin-coloured pixels
  (forehead, jaw, neck, ears), i.e. beyond the swap's mask but the same person's skin;
- surroundings: the rest of a square of `CONTEXT` face boxes around the face.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

CUE_NAMES = (
    "noise_vs_ring",
    "noise_vs_surroundings",
    "detail_vs_ring",
    "detail_vs_surroundings",
    "blockiness_vs_ring",
    "colour_vs_ring",
    "colour_vs_surroundings",
    "saturation_vs_ring",
    "error_level_vs_ring",
    "error_level_vs_surroundings",
)
"""Order of the values `face_cues` returns (and of the fusion's weights)."""

INNER_AXES = (0.85, 1.0)
"""Inner-face ellipse semi-axes in eye distances (across) and eye-to-mouth distances (down).
Faces average ~2.2 eye distances wide and ~2.6 eye-to-mouth distances from brow to chin
(anthropometry, Farkas 1994), so this stays inside the cheeks and below the brows."""
RING_SCALES = (1.45, 1.9)
"""The ring lies between these multiples of the inner ellipse: past the jaw line and the cheek
edge, where swap masks end, and within the head and neck."""
CONTEXT = 4.0
"""Side of the square around the face, in face-box sides, that holds the surroundings."""
WORK_FACE_SIDE = 256
"""Faces larger than this (box side, pixels) are measured on a copy shrunk to it (INTER_AREA):
bounds the cost per face; the ratios compare regions shrunk alike."""
SKIN_CR = (133, 173)
SKIN_CB = (77, 127)
"""Skin in YCrCb (Chai & Ngan, IEEE TCSVT 9(4), 1999): used to keep the ring on skin."""
MIN_SKIN_FRACTION = 0.05
"""With fewer ring pixels looking like skin (a shaded or unusual light), the whole ring is used."""
MIN_REGION_PIXELS = 64
CLIP_LOW, CLIP_HIGH = 8, 247
"""Clipped pixels carry no noise; they are left out of the noise statistics (as in
`detectors.forensics`)."""
JPEG_BLOCK = 8
ELA_QUALITY = 90
"""Error level analysis re-saves at this JPEG quality, as `detectors.forensics` does (Krawetz,
"A Picture's Worth", 2007): areas with another compression history re-save with other errors."""
EPS = 1e-3


class FaceCueError(ValueError):
    """The face is too small or lies too far outside the frame to measure."""


@dataclass(frozen=True)
class Regions:
    """Boolean masks over one working crop."""

    inner: np.ndarray
    ring: np.ndarray
    surroundings: np.ndarray


def face_cues(rgb: np.ndarray, box: Sequence[float], landmarks: np.ndarray) -> np.ndarray:
    """The `CUE_NAMES` values of one face in one RGB uint8 frame, as a float64 vector.

    Raises `FaceCueError` when a region is too small to measure (a tiny or cut-off face)."""
    frame = np.asarray(rgb)
    if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
        raise FaceCueError("expected an H x W x 3 uint8 RGB frame")
    marks = np.asarray(landmarks, dtype=np.float64).reshape(5, 2)
    x0, y0, x1, y1 = (float(v) for v in box)
    if not (np.isfinite(marks).all() and np.isfinite([x0, y0, x1, y1]).all()):
        raise FaceCueError("the face box or landmarks are not finite numbers")
    side = max(x1 - x0, y1 - y0)
    if side < 16:
        raise FaceCueError(f"face box of {side:.0f} px is too small to measure")
    h, w = frame.shape[:2]
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    half = CONTEXT * side / 2
    # The crop starts on the frame's 8 x 8 JPEG grid, so re-saving it lines up with the blocks.
    left = max(0, int(cx - half)) // JPEG_BLOCK * JPEG_BLOCK
    top = max(0, int(cy - half)) // JPEG_BLOCK * JPEG_BLOCK
    right, bottom = min(w, int(cx + half)), min(h, int(cy + half))
    native = frame[top:bottom, left:right]
    native_marks = marks - [left, top]

    native_regions = face_regions(native.shape[:2], native_marks)
    native_ring = _skin(native, native_regions.ring)
    blockiness = _blockiness_vs_ring(native, native_regions.inner, native_ring, (left, top))
    error_level = _error_levels(native, native_regions, native_ring)

    scale = min(1.0, WORK_FACE_SIDE / side)
    if scale < 1.0:
        size = (max(1, round(native.shape[1] * scale)), max(1, round(native.shape[0] * scale)))
        work = cv2.resize(native, size, interpolation=cv2.INTER_AREA)
    else:
        work = native
    regions = face_regions(work.shape[:2], native_marks * scale)
    grey = cv2.cvtColor(work, cv2.COLOR_RGB2GRAY)
    lab = cv2.cvtColor(work, cv2.COLOR_RGB2LAB).astype(np.float64)
    ring = _skin(work, regions.ring)

    noise = _noise_map(grey)
    usable = (grey > CLIP_LOW) & (grey < CLIP_HIGH)
    detail = np.abs(cv2.Laplacian(cv2.GaussianBlur(grey, (0, 0), 1.0), cv2.CV_32F))
    chroma = lab[..., 1:]
    saturation = np.hypot(chroma[..., 0] - 128, chroma[..., 1] - 128)

    def median(values: np.ndarray, mask: np.ndarray) -> float:
        return float(np.median(values[mask]))

    def log_ratio(values: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
        return float(np.log((median(values, a) + EPS) / (median(values, b) + EPS)))

    def colour_distance(a: np.ndarray, b: np.ndarray) -> float:
        return float(np.linalg.norm(chroma[a].mean(0) - chroma[b].mean(0)))

    inner, around = regions.inner, regions.surroundings
    for name, mask in (("inner face", inner), ("ring", ring), ("surroundings", around)):
        if int(mask.sum()) < MIN_REGION_PIXELS:
            raise FaceCueError(f"the {name} region is too small to measure")
    noisy = [
        m & usable if int((m & usable).sum()) >= MIN_REGION_PIXELS else m
        for m in (inner, ring, around)
    ]
    return np.array(
        [
            log_ratio(noise, noisy[0], noisy[1]),
            log_ratio(noise, noisy[0], noisy[2]),
            log_ratio(detail, inner, ring),
            log_ratio(detail, inner, around),
            blockiness,
            colour_distance(inner, ring),
            colour_distance(inner, around),
            float(np.log((saturation[inner].std() + EPS) / (saturation[ring].std() + EPS))),
            *error_level,
        ],
        dtype=np.float64,
    )


def face_regions(shape: tuple[int, int], landmarks: np.ndarray) -> Regions:
    """Inner face, ring and surroundings masks for a crop of `shape` (see module docstring)."""
    marks = np.asarray(landmarks, dtype=np.float64)
    eyes = (marks[0] + marks[1]) / 2
    mouth = (marks[3] + marks[4]) / 2
    eye_distance = float(np.linalg.norm(marks[1] - marks[0]))
    eye_mouth = float(np.linalg.norm(mouth - eyes))
    if eye_distance < 2 or eye_mouth < 2:
        raise FaceCueError("the landmarks are too close together to place the face regions")
    centre = (eyes + mouth) / 2
    angle = float(np.degrees(np.arctan2(marks[1, 1] - marks[0, 1], marks[1, 0] - marks[0, 0])))
    axes = np.array([INNER_AXES[0] * eye_distance, INNER_AXES[1] * eye_mouth])

    def ellipse(scale: float) -> np.ndarray:
        mask = np.zeros(shape, dtype=np.uint8)
        half = tuple(round(v) for v in axes * scale)
        cv2.ellipse(mask, tuple(round(v) for v in centre), half, angle, 0, 360, 1, -1)
        return mask.astype(bool)

    inner = ellipse(1.0)
    near, far = ellipse(RING_SCALES[0]), ellipse(RING_SCALES[1])
    return Regions(inner=inner, ring=far & ~near, surroundings=~far)


def _skin(rgb: np.ndarray, ring: np.ndarray) -> np.ndarray:
    ycrcb = cv2.cvtColor(rgb, cv2.COLOR_RGB2YCrCb)
    cr, cb = ycrcb[..., 1], ycrcb[..., 2]
    skin = ring & (cr >= SKIN_CR[0]) & (cr <= SKIN_CR[1]) & (cb >= SKIN_CB[0]) & (cb <= SKIN_CB[1])
    return skin if skin.sum() >= max(MIN_REGION_PIXELS, MIN_SKIN_FRACTION * ring.sum()) else ring


def _noise_map(grey: np.ndarray) -> np.ndarray:
    """|Immerkær residual| per pixel (J. Immerkær, CVIU 64(2), 1996): the [1,-2,1] x [1,-2,1]
    kernel cancels edges and ramps and keeps sensor noise; the median over a region of it is
    a robust (MAD-like) noise level."""
    kernel = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], dtype=np.float32)
    return np.abs(cv2.filter2D(grey.astype(np.float32), -1, kernel))


def _error_levels(native: np.ndarray, regions: Regions, ring: np.ndarray) -> tuple[float, float]:
    """log(inner face's mean error level / the ring's, / the surroundings'), at native size."""
    ok, data = cv2.imencode(".jpg", native[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, ELA_QUALITY])
    if not ok:
        raise FaceCueError("could not re-save the face for error level analysis")
    resaved = cv2.imdecode(data, cv2.IMREAD_COLOR)[..., ::-1]
    error = np.abs(native.astype(np.int16) - resaved).sum(-1).astype(np.float64)
    means = [
        float(error[m].mean()) + EPS if m.any() else EPS
        for m in (regions.inner, ring, regions.surroundings)
    ]
    return float(np.log(means[0] / means[1])), float(np.log(means[0] / means[2]))


def _blockiness_vs_ring(
    native: np.ndarray, inner: np.ndarray, ring: np.ndarray, origin: tuple[int, int]
) -> float:
    """log(inner face's JPEG blockiness / the ring's), at the frame's own 8 x 8 grid.

    Blockiness of a region = mean |step| across block boundaries / mean |step| elsewhere
    (a JPEG-compressed area is > 1 at its grid's phase). A face cut from a photo with another
    JPEG history, scaled and pasted, carries no or misaligned blocks under the frame's grid."""
    grey = cv2.cvtColor(native, cv2.COLOR_RGB2GRAY).astype(np.float32)
    left, top = origin
    steps_x = np.abs(np.diff(grey, axis=1))
    steps_y = np.abs(np.diff(grey, axis=0))
    on_x = ((np.arange(steps_x.shape[1]) + left + 1) % JPEG_BLOCK == 0)[None, :]
    on_y = ((np.arange(steps_y.shape[0]) + top + 1) % JPEG_BLOCK == 0)[:, None]

    def blockiness(mask: np.ndarray) -> float:
        mx, my = mask[:, 1:] & mask[:, :-1], mask[1:] & mask[:-1]
        across = steps_x[mx & on_x].sum() + steps_y[my & on_y].sum()
        n_across = (mx & on_x).sum() + (my & on_y).sum()
        within = steps_x[mx & ~on_x].sum() + steps_y[my & ~on_y].sum()
        n_within = (mx & ~on_x).sum() + (my & ~on_y).sum()
        if n_across == 0 or n_within == 0:
            return 1.0
        return float((across / n_across + EPS) / (within / n_within + EPS))

    return float(np.log(blockiness(inner) / blockiness(ring)))
