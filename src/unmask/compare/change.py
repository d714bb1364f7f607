"""Where two aligned pictures differ beyond what re-encoding explains.

1. **Photometric normalisation.** Colour grading, a contrast curve or a different encoder's
   levels change every pixel a little. A per-channel tone curve (original -> suspect) is fitted
   on the overlapping pixels from band medians (see `normalise`).
2. **Compression-robust difference.** Two measures on the normalised pair, each averaged over a
   neighbourhood (`REGION_SIGMA`) so that one noisy pixel never makes a region:
   - structure: 1 - SSIM (Wang et al., IEEE TIP 2004) of the luma, averaged over three scales
     (1/2, 1/4, 1/8; after Wang, Simoncelli & Bovik's multi-scale SSIM, 2003), after a light
     blur.
     JPEG and H.264 remove fine detail, which the blur and the coarser scales do not see; a
     swapped face changes eyes, nose and mouth shape, which they do;
   - colour: the distance between the blurred, normalised RGB values (a pasted face of another
     skin tone, a recoloured object).
3. **Calibrated thresholds.** Each measure is divided by its threshold, the largest value it
   reached on controls (originals against their own degraded copies: H.264 CRF 35, JPEG q70,
   scaled to 0.75, cropped 3 % per side, mirrored, colour-graded, other frame rates), times a
   safety margin. scripts/calibrate_compare.py measures them; the figures are below. A score
   above 1 is therefore a difference larger than any the controls showed.
4. **Regions.** Connected areas above 1, grown to where the score stays above `HYSTERESIS`,
   boxed in suspect pixels.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

STRUCTURE_THRESHOLD = 0.115
"""Largest neighbourhood-averaged 1 - SSIM counted as unchanged. Calibrated by
`scripts/calibrate_compare.py --photos 24 --videos 5` on 179 controls (24 photos of faces/real
x 6 copies, 5 real videos x 7 copies, none of them used in the benchmark): the largest value was
0.096 (H.264 CRF 35; every other kind of copy stayed under 0.05), times the margin 1.2."""
COLOUR_THRESHOLD = 20.2
"""Largest neighbourhood-averaged RGB distance (0-441) counted as unchanged. Same calibration:
the largest value was 16.9 (H.264 CRF 35; the others under 11.5), times 1.2."""
PRE_SHRINK_BELOW = 0.95
"""A map that shrinks the original by more than this first resizes it with area averaging, as
the suspect itself was most likely made; warping alone would alias fine texture (a 0.75 copy's
control peak fell by half: scripts/calibrate_compare.py)."""
PRE_BLUR = 1.0
"""Gaussian blur (working pixels) before SSIM: removes JPEG ringing and H.264 mosquito noise."""
SSIM_SIGMA = 1.5
"""SSIM's Gaussian window (Wang et al. 2004)."""
SSIM_C1 = (0.01 * 255) ** 2
SSIM_C2 = (0.03 * 255) ** 2
"""SSIM's stabilising constants for 8-bit pictures (Wang et al. 2004)."""
SCALES = 3
"""Dyadic scales averaged by the structural measure."""
FIRST_SCALE = 1
"""The finest of them is 1/2^FIRST_SCALE of the working size: the full size mostly sees what
H.264 removes (at CRF 35 it alone doubled the controls' peak, while the swaps' peak fell by a
quarter: scripts/calibrate_compare.py on the AniPortrait clip and two DeepFaceLive pairs)."""
COLOUR_BLUR = 2.0
"""Gaussian blur (working pixels) before the colour distance."""
REGION_SIGMA = 0.012
"""Neighbourhood over which both measures are averaged, as a share of the long side (about
8 px at 640 px): smaller than an eye, larger than a JPEG block."""
HYSTERESIS = 0.6
"""A region grows from its pixels above 1 into neighbours above this."""
MIN_REGION_SHARE = 0.0015
"""Regions smaller than this share of the overlap are dropped."""
EDGE_MARGIN = 8
"""Pixels (working size) at the overlap's edge left out: resampling blends them with what lies
outside, and JPEG rings along a letterbox bar's edge (3 px let a letterboxed photo's control
peak reach 0.094, 8 px brought it to 0.031: scripts/calibrate_compare.py)."""
CURVE_BINS = 32
"""Bands of original values over which the tone curve is fitted (8 levels each)."""
CURVE_MIN_SAMPLES = 30
"""Pixels a band needs to take part in the fit."""
FIT_SAMPLES = 60_000
"""Covered pixels sampled for the fit (enough for 32 medians, bounded in time)."""


@dataclass
class Region:
    """A changed area of one aligned picture pair, in working pixels of the suspect."""

    box: tuple[int, int, int, int]
    peak: float
    """Largest score inside (1.0 = the calibrated threshold)."""
    area: int


@dataclass
class ChangeMap:
    """The outcome of comparing one aligned pair."""

    score: np.ndarray = field(repr=False)
    """HxW float32, difference in units of the threshold (0 outside the overlap)."""
    coverage: np.ndarray = field(repr=False)
    """HxW bool: where the original covers the suspect."""
    regions: list[Region]
    changed_share: float
    """Share of the overlap above the threshold."""
    structure_peak: float
    """Largest neighbourhood-averaged 1 - SSIM in the overlap (what calibration reads)."""
    colour_peak: float
    mismatch: float
    """Median normalised luma difference (0-255) over the overlap: how well the pair aligns
    at all, used to choose between candidate frames."""


def warp(original: np.ndarray, matrix: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """The original laid onto the suspect's pixel grid (`shape` = suspect height, width)."""
    from unmask.compare.register import compose, resize_matrix

    height, width = shape
    scale = float(np.sqrt(abs(np.linalg.det(matrix[:, :2]))))
    if (
        scale < PRE_SHRINK_BELOW
    ):  # shrink first, so that warping averages instead of skipping pixels
        size = (max(1, round(original.shape[1] * scale)), max(1, round(original.shape[0] * scale)))
        shrink = resize_matrix(size[0] / original.shape[1], size[1] / original.shape[0])
        matrix = compose(matrix, np.linalg.inv(shrink))
        original = cv2.resize(original, size, interpolation=cv2.INTER_AREA)
    # Replicated borders: black from outside the original would bleed into the edge pixels.
    return cv2.warpAffine(
        original, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )


def coverage_of(
    original_shape: tuple[int, int],
    matrix: np.ndarray,
    shape: tuple[int, int],
    margin: int = EDGE_MARGIN,
) -> np.ndarray:
    """Where the mapped original covers the suspect, less `margin` pixels at every edge."""
    ones = np.full(original_shape, 255, np.uint8)
    mask = cv2.warpAffine(ones, matrix, (shape[1], shape[0]), flags=cv2.INTER_NEAREST) > 0
    if margin <= 0:
        return mask
    mask[:margin], mask[-margin:] = False, False
    mask[:, :margin], mask[:, -margin:] = False, False
    kernel = np.ones((2 * margin + 1, 2 * margin + 1), np.uint8)
    return cv2.erode(mask.astype(np.uint8), kernel) > 0


def normalise(original: np.ndarray, suspect: np.ndarray, coverage: np.ndarray) -> np.ndarray:
    """`original` (warped) with each channel mapped through the tone curve that takes it to the
    suspect on the covered pixels (float32, 0-255).

    The curve is the median suspect value of each band of original values (`CURVE_BINS` bands),
    joined linearly: any monotone grading (gamma, contrast, levels, a warm tint) is undone, and
    the median keeps a replaced face, which is a minority of every band, from bending it."""
    out = original.astype(np.float32)
    where = np.flatnonzero(coverage.ravel())
    if len(where) < 50:
        return out
    if len(where) > FIT_SAMPLES:
        where = np.random.default_rng(0).choice(where, FIT_SAMPLES, replace=False)
    width = 256 // CURVE_BINS
    for c in range(3):
        x = original[..., c].ravel()[where].astype(np.int64)
        y = suspect[..., c].ravel()[where].astype(np.int64)
        band = x // width
        centres, values = _band_medians(band, x, y)
        if len(centres) < 2:
            continue
        curve = np.interp(np.arange(256), centres, values)
        # Beyond the observed bands the curve continues with slope 1 from its ends.
        low, high = int(np.ceil(centres[0])), int(np.floor(centres[-1]))
        curve[:low] = values[0] - (centres[0] - np.arange(low))
        curve[high + 1 :] = values[-1] + (np.arange(high + 1, 256) - centres[-1])
        out[..., c] = np.clip(curve, 0, 255)[original[..., c]]
    return out


def _band_medians(band: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Median x and median y of each band holding at least `CURVE_MIN_SAMPLES` pixels, from
    per-band histograms (one pass, no sorting)."""
    counts = np.bincount(band, minlength=CURVE_BINS)
    keep = np.flatnonzero(counts >= CURVE_MIN_SAMPLES)
    medians = []
    for values in (x, y):
        hist = np.bincount(band * 256 + values, minlength=CURVE_BINS * 256).reshape(CURVE_BINS, 256)
        cum = np.cumsum(hist, axis=1)
        medians.append((cum[keep] >= (counts[keep, None] + 1) / 2).argmax(axis=1).astype(float))
    return medians[0], medians[1]


def compare_aligned(suspect: np.ndarray, original: np.ndarray, matrix: np.ndarray) -> ChangeMap:
    """Compare `suspect` (RGB, working size) with `original` (RGB) mapped by `matrix`."""
    shape = suspect.shape[:2]
    warped = warp(original, matrix, shape)
    coverage = coverage_of(original.shape[:2], matrix, shape)
    fitted = normalise(warped, suspect, coverage)
    # Outside the original (letterbox bars, margins) the suspect takes the original's values,
    # so that the coarse scales and the neighbourhood average see no edge that is not there.
    inside = coverage_of(original.shape[:2], matrix, shape, margin=0)
    s = np.where(inside[..., None], suspect.astype(np.float32), fitted)
    sigma = max(2.0, REGION_SIGMA * max(shape))

    structure = _neighbourhood(_structure(_luma(s), _luma(fitted)), coverage, sigma)
    colour_raw = np.linalg.norm(
        cv2.GaussianBlur(s, (0, 0), COLOUR_BLUR) - cv2.GaussianBlur(fitted, (0, 0), COLOUR_BLUR),
        axis=2,
    )
    colour = _neighbourhood(colour_raw, coverage, sigma)
    score = np.maximum(structure / STRUCTURE_THRESHOLD, colour / COLOUR_THRESHOLD)
    score[~coverage] = 0.0
    covered = int(coverage.sum())
    regions = _regions(score, covered)
    mismatch = float(np.median(np.abs(_luma(s) - _luma(fitted))[coverage])) if covered else 255.0
    return ChangeMap(
        score=score.astype(np.float32),
        coverage=coverage,
        regions=regions,
        changed_share=float((score[coverage] > 1.0).mean()) if covered else 0.0,
        structure_peak=float(structure[coverage].max()) if covered else 0.0,
        colour_peak=float(colour[coverage].max()) if covered else 0.0,
        mismatch=mismatch,
    )


def _luma(rgb: np.ndarray) -> np.ndarray:
    return (rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114).astype(np.float32)


def _ssim(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    def blur(a: np.ndarray) -> np.ndarray:
        return cv2.GaussianBlur(a, (0, 0), SSIM_SIGMA)

    mx, my = blur(x), blur(y)
    vx = blur(x * x) - mx * mx
    vy = blur(y * y) - my * my
    cxy = blur(x * y) - mx * my
    return ((2 * mx * my + SSIM_C1) * (2 * cxy + SSIM_C2)) / (
        (mx * mx + my * my + SSIM_C1) * (vx + vy + SSIM_C2)
    )


def _structure(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """1 - SSIM averaged over `SCALES` dyadic scales, at the input's size."""
    a = cv2.GaussianBlur(a, (0, 0), PRE_BLUR)
    b = cv2.GaussianBlur(b, (0, 0), PRE_BLUR)
    height, width = a.shape
    total = np.zeros_like(a)
    for _ in range(FIRST_SCALE):
        a, b = cv2.pyrDown(a), cv2.pyrDown(b)
    for level in range(SCALES):
        d = 1.0 - _ssim(a, b)
        total += cv2.resize(d, (width, height), interpolation=cv2.INTER_LINEAR)
        if min(a.shape) < 16:
            total += d.mean() * (SCALES - level - 1)
            break
        a, b = cv2.pyrDown(a), cv2.pyrDown(b)
    return np.clip(total / SCALES, 0.0, 2.0)


def _neighbourhood(values: np.ndarray, coverage: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian average of `values` over covered pixels only (normalised convolution)."""
    weight = coverage.astype(np.float32)
    num = cv2.GaussianBlur(values.astype(np.float32) * weight, (0, 0), sigma)
    den = cv2.GaussianBlur(weight, (0, 0), sigma)
    return np.where(den > 1e-3, num / np.maximum(den, 1e-3), 0.0).astype(np.float32)


def _regions(score: np.ndarray, covered: int) -> list[Region]:
    grown = (score > HYSTERESIS).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(grown, connectivity=8)
    min_area = max(16, MIN_REGION_SHARE * covered)
    regions = []
    for i in range(1, count):
        x, y, w, h, area = (int(v) for v in stats[i])
        if area < min_area:
            continue
        peak = float(score[labels == i].max())
        if peak <= 1.0:
            continue
        regions.append(Region((x, y, x + w, y + h), peak, area))
    regions.sort(key=lambda r: -r.area)
    return regions
