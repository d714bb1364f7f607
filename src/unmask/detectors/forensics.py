"""Classic image forensics: error level, JPEG quantisation and double compression, noise.

These are the views journalists and investigators know and ask for. None of them proves a
manipulation: error level and noise maps mostly show edges, texture and compression history,
and a double-compressed JPEG is what any re-saved photo looks like. They are reported as
context ("info") for a person to read, with maps for `--maps`; only a clear double-compression
pattern is raised to a weak hint of editing.

Images are analysed whole. For videos (and animated images) only the first sampled frame is
read, and only for its noise: error level and JPEG analysis assume an 8x8 JPEG grid that a
video codec's motion-compensated frames do not have.
"""

from __future__ import annotations

import io
import math
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageChops

from unmask.detectors.base import Detector, ScanContext, register
from unmask.detectors.copy_move import copy_move
from unmask.detectors.exif_thumbnail import exif_thumbnail
from unmask.media.types import Media
from unmask.result import Finding

if TYPE_CHECKING:
    from unmask.config import ScanConfig

NAME = "forensics"

MAP_MAX_SIDE = 2048
"""Maps are shrunk to this longest side (box filter): a 12 MP map is too big to look at and to
keep in memory for a batch. Scores are computed at full resolution."""

STRIP_ROWS = 512
"""Error level and noise are computed in strips of this many rows, so that a 100-megapixel
picture needs a few strips' worth of temporary arrays rather than several full-size copies
(0.1 peaked at 2.2 GB on one). A multiple of 16 (a JPEG MCU with 4:2:0 chroma) and of
NOISE_BLOCK, so strips give exactly the whole-picture result."""
ELA_MARGIN_ROWS = 16
"""Rows of context re-saved above and below each error-level strip and then dropped: decoding
a JPEG smooths chroma across one neighbouring row, which the margin keeps out of the strip."""

# -- error level analysis (N. Krawetz, "A Picture's Worth...", Black Hat 2007) ------------------
ELA_QUALITY = 90
"""Re-save quality. Krawetz's examples and most ELA tools use 90-95; 90 leaves a visible error
on anything not already saved at that quality."""
ELA_MAP_GAIN = 16
"""Map = difference x 16 (a difference of 16 levels is white): a fixed gain keeps maps of
different images comparable, unlike per-image stretching that turns noise into "hot spots"."""
ELA_BLOCK = 16
ELA_HIGH_BLOCK_FACTOR = 3.0
"""A block is "high error" when its mean error is over 3x the median block's (and above
ELA_HIGH_BLOCK_FLOOR levels): the fraction of such blocks is the non-uniformity measure."""
ELA_HIGH_BLOCK_FLOOR = 2.0

# -- JPEG quantisation -----------------------------------------------------------------------
# ITU-T T.81 (ISO/IEC 10918-1) Annex K, Tables K.1 and K.2, in natural (row-major) order.
ANNEX_K_LUMINANCE = (
    16, 11, 10, 16, 24, 40, 51, 61,
    12, 12, 14, 19, 26, 58, 60, 55,
    14, 13, 16, 24, 40, 57, 69, 56,
    14, 17, 22, 29, 51, 87, 80, 62,
    18, 22, 37, 56, 68, 109, 103, 77,
    24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101,
    72, 92, 95, 98, 112, 100, 103, 99,
)  # fmt: skip
ANNEX_K_CHROMINANCE = (
    17, 18, 24, 47, 99, 99, 99, 99,
    18, 21, 26, 66, 99, 99, 99, 99,
    24, 26, 56, 99, 99, 99, 99, 99,
    47, 66, 99, 99, 99, 99, 99, 99,
    99, 99, 99, 99, 99, 99, 99, 99,
    99, 99, 99, 99, 99, 99, 99, 99,
    99, 99, 99, 99, 99, 99, 99, 99,
    99, 99, 99, 99, 99, 99, 99, 99,
)  # fmt: skip
# Natural-order index of the first zig-zag positions (T.81 Figure A.6).
ZIGZAG = (0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40)

DQ_COEFFICIENTS = ZIGZAG[1:15]
"""Low-frequency AC coefficients (zig-zag 1-14): enough non-zero values in every photo, and
the smallest quantisation steps, where a second quantisation shows best."""
DQ_MAX_BLOCKS = 40_000
"""Blocks sampled (evenly) for the DCT histograms; more changes the score by < 0.01 on 12 MP
photos and costs time."""
DQ_HIST_RANGE = 40
DQ_MIN_NONZERO = 500
"""A coefficient needs this many non-zero values to count: fewer give noisy histograms."""
DQ_THRESHOLD = 0.25
"""Score above which double compression is reported as a weak hint. Measured in
tests/test_forensics.py: single compression of real photos at quality 50-98 scores < 0.05,
quality 60 then 90 scores > 0.3. Set well above the single-compression range."""

# -- noise (J. Immerkær, "Fast Noise Variance Estimation", CVIU 64(2), 1996) ------------------
NOISE_BLOCK = 32
NOISE_MAP_GAIN = 8
NOISE_CLIP_LOW, NOISE_CLIP_HIGH = 8, 247
"""Blocks whose mean brightness is outside these levels are left out: clipped pixels have no
noise, so they would make any photo look inconsistent."""


@register
class ForensicsDetector(Detector):
    """Error level analysis, JPEG quantisation tables and double compression, noise residual."""

    name = NAME
    scope = "file"
    covers = (
        "Error level, JPEG quantisation (quality estimate, double compression), noise "
        "consistency, regions copied within a picture (copy-move) and the EXIF preview against "
        "the picture; double-compression scoring was checked on single- and double-saved "
        "unaltered photos, copy-move on the Coverage set and photos of people. Error level and "
        "noise show compression history and texture, not proof of manipulation."
    )

    def __init__(self, ela_quality: int = ELA_QUALITY) -> None:
        self.ela_quality = ela_quality

    @classmethod
    def from_config(cls, config: ScanConfig) -> Detector:
        return cls(ela_quality=config.ela_quality)

    def analyse(self, context: ScanContext) -> list[Finding]:
        media = context.media
        if not media.frames:
            return []
        rgb = media.frames[0].rgb
        if rgb.ndim != 3 or rgb.shape[0] < 16 or rgb.shape[1] < 16:
            return []
        rgb = np.ascontiguousarray(rgb[:, :, :3])
        gray = Image.fromarray(_luma(rgb), "L")
        findings: list[Finding] = []
        still = media.kind == "image"
        if still:
            findings.append(error_level(rgb, self.ela_quality))
            quantization = jpeg_quantization(media, gray)
            if quantization is not None:
                findings.append(quantization)
        findings.append(noise_residual(gray, first_frame_of_video=not still))
        if still:
            # Video frames are not searched for clones: codecs copy blocks between and within
            # frames by design.
            for extra in (copy_move(rgb, np.asarray(gray)), exif_thumbnail(media)):
                if extra is not None:
                    findings.append(extra)
        return findings


# -- error level -----------------------------------------------------------------------------


def error_level(picture: Image.Image | np.ndarray, quality: int = ELA_QUALITY) -> Finding:
    """Re-save as JPEG at `quality` and look at what changed, per pixel (max over R, G, B).
    Done in strips of STRIP_ROWS with ELA_MARGIN_ROWS of context (see there)."""
    width, height = _size(picture)
    levels = np.empty((height, width), dtype=np.uint8)
    histogram = np.zeros(256, dtype=np.float64)
    block_parts: list[np.ndarray] = []
    for y0 in range(0, height, STRIP_ROWS):
        y1 = min(height, y0 + STRIP_ROWS)
        top, bottom = max(0, y0 - ELA_MARGIN_ROWS), min(height, y1 + ELA_MARGIN_ROWS)
        part = _rows(picture, top, bottom).convert("RGB")
        buffer = io.BytesIO()
        part.save(buffer, "JPEG", quality=quality)
        resaved = Image.open(io.BytesIO(buffer.getvalue()))
        resaved.load()
        r, g, b = ImageChops.difference(part, resaved).split()
        changed = ImageChops.lighter(ImageChops.lighter(r, g), b)  # max over channels, in C
        levels[y0:y1] = np.asarray(changed)[y0 - top : y1 - top]
        # Statistics per strip too: a whole-picture sum or bincount casts to int64 first
        # (800 MB for 100 megapixels). A strip shorter than a block is the picture's last
        # rows, which whole-picture blocks would leave out as well.
        histogram += changed.crop((0, y0 - top, width, y1 - top)).histogram()
        if y1 - y0 >= ELA_BLOCK or height < ELA_BLOCK:
            block_parts.append(_block_means(levels[y0:y1], ELA_BLOCK))
    diff = Image.fromarray(levels, "L")

    p99 = _percentile_from_histogram(histogram, 0.99)
    mean = float((histogram * np.arange(256)).sum() / max(1.0, histogram.sum()))
    blocks = np.concatenate(block_parts)
    median_block = float(np.median(blocks))
    high = blocks > max(ELA_HIGH_BLOCK_FACTOR * median_block, ELA_HIGH_BLOCK_FLOOR)
    high_ratio = float(high.mean())

    ela_map = _shrink(diff.point(lambda v: min(255, v * ELA_MAP_GAIN)))
    score = p99 / 255.0
    if round(p99) == 0:
        # "1% of pixels by 0 levels or more" would say nothing: a picture last saved at
        # about this quality changes hardly at all, and its map is dark everywhere
        measured = (
            f"re-saving at JPEG quality {quality} leaves at least 99% of pixels unchanged, as "
            "when a picture was last saved at about that quality, so the map shows little "
            "anywhere (re-saving at another quality may show more)"
        )
    else:
        measured = (
            f"re-saving at JPEG quality {quality} changes 1% of pixels by {p99:.0f} levels or "
            f"more and {high_ratio:.0%} of areas stand out"
        )
    return Finding(
        detector=NAME,
        code="error_level",
        summary=(
            f"Error level analysis: {measured}; bright areas mark edges, texture and a "
            "different compression history, which a person must interpret, and are not "
            "proof of editing."
        ),
        score=score,
        evidence={
            "quality": quality,
            "p99_difference": p99,
            "mean_difference": round(mean, 3),
            "high_block_ratio": round(high_ratio, 4),
            "block_size": ELA_BLOCK,
            "map_gain": ELA_MAP_GAIN,
        },
        maps={"ela": np.asarray(ela_map, dtype=np.uint8)},
    )


# -- JPEG quantisation -----------------------------------------------------------------------


def ijg_table(base: tuple[int, ...], quality: int) -> list[int]:
    """The IJG libjpeg scaling of an Annex K table (jcparam.c, jpeg_quality_scaling and
    jpeg_add_quant_table with force_baseline): what Pillow, libjpeg-turbo and most software use."""
    quality = min(100, max(1, quality))
    scale = 5000 // quality if quality < 50 else 200 - 2 * quality
    return [min(255, max(1, (value * scale + 50) // 100)) for value in base]


def estimate_quality(tables: dict[int, list[int]]) -> tuple[int, bool, float]:
    """(nearest IJG quality, whether the tables are exactly IJG-scaled, mean relative deviation).

    Tables are compared in natural order, as Pillow (>= 8.3) returns them.
    """
    bases = [(tables[0], ANNEX_K_LUMINANCE)]
    if 1 in tables:
        bases.append((tables[1], ANNEX_K_CHROMINANCE))
    errors = np.zeros(100)
    for table, base in bases:
        expected = np.array([ijg_table(base, q) for q in range(1, 101)], dtype=np.float64)
        errors += (np.abs(np.asarray(table, dtype=np.float64) - expected) / expected).sum(axis=1)
    quality = int(np.argmin(errors)) + 1
    exact = all(list(t) == ijg_table(b, quality) for t, b in bases)
    return quality, exact, float(errors[quality - 1]) / (64 * len(bases))


def jpeg_quantization(media: Media, gray: Image.Image) -> Finding | None:
    headers = media.image_headers
    if media.format.upper() not in ("JPEG", "MPO") or headers is None:
        return None
    tables = {int(k): [int(v) for v in t] for k, t in headers.jpeg_quantization.items()}
    if 0 not in tables or len(tables[0]) != 64:
        return None
    quality, exact, deviation = estimate_quality(tables)
    score, per_coefficient = double_compression_score(np.asarray(gray), tables[0])
    double = score is not None and score >= DQ_THRESHOLD

    kind = (
        f"standard IJG tables at quality {quality}"
        if exact
        else f"non-standard tables (nearest IJG quality about {quality}), as cameras and "
        "editors such as Photoshop write"
    )
    if score is None:
        dq = "too little detail to test for double compression"
    elif double:
        dq = (
            f"the DCT histograms show the periodic pattern of a second compression "
            f"(score {score:.2f}), i.e. the picture was decoded and saved again, as editors "
            "and some platforms do"
        )
    else:
        dq = f"no clear sign of double compression (score {score:.2f})"
    evidence = {
        "tables": {str(k): v for k, v in sorted(tables.items())},
        "table_order": "natural",
        "estimated_quality": quality,
        "standard_ijg": exact,
        "mean_relative_deviation": round(deviation, 4),
        "double_compression": None if score is None else round(score, 4),
        "double_compression_threshold": DQ_THRESHOLD,
        "double_compression_per_coefficient": per_coefficient,
        "method": (
            "aligned 8x8 DCT of luminance, histograms of coefficients in units of the last "
            "quantisation step, compared (total variation) with the same histograms of the "
            "image cropped by 4 pixels (Lukas & Fridrich 2003 calibration; the periodic "
            "artefacts of Popescu & Farid 2004 are what the distance picks up)"
        ),
    }
    return Finding(
        detector=NAME,
        code="jpeg_quantization",
        summary=f"JPEG saved with {kind}; {dq}.",
        indicates="editing" if double else "none",
        strength="weak" if double else "info",
        score=None if score is None else min(1.0, score),
        evidence=evidence,
    )


def _dct_matrix() -> np.ndarray:
    """The 64x64 operator of the 2-D orthonormal DCT-II on a flattened 8x8 block; it equals the
    FDCT of T.81 A.3.3."""
    n = np.arange(8)
    matrix = np.cos((2 * n[None, :] + 1) * n[:, None] * np.pi / 16) * np.sqrt(2 / 8)
    matrix[0] /= np.sqrt(2)
    return np.kron(matrix, matrix).T.astype(np.float32)


_DCT_2D = _dct_matrix()


def _block_dct(luma: np.ndarray, offset: int) -> np.ndarray:
    """DCT of up to DQ_MAX_BLOCKS 8x8 blocks on the grid starting at (offset, offset), sampled
    evenly; returns (blocks, 64) in natural order."""
    y = luma[offset:, offset:]
    h, w = y.shape[0] // 8, y.shape[1] // 8
    step = max(1, math.ceil(math.sqrt(h * w / DQ_MAX_BLOCKS)))
    tiles = y[: h * 8, : w * 8].reshape(h, 8, w, 8)[::step, :, ::step, :]
    blocks = tiles.transpose(0, 2, 1, 3).reshape(-1, 64).astype(np.float32) - 128.0
    return blocks @ _DCT_2D


def double_compression_score(
    luma: np.ndarray, luminance_table: list[int]
) -> tuple[float | None, dict[str, float]]:
    """How far the aligned DCT histograms are from those of a calibrated single compression.

    A JPEG decoded and saved again with a different step leaves histograms of the quantised
    DCT coefficients with periodic gaps or peaks (Popescu & Farid, "Statistical Tools for
    Digital Forensics", 2004). The image cropped by 4 pixels has no aligned grid, so its
    histograms quantised with the same last step estimate what a single compression would
    have given (Lukáš & Fridrich, "Estimation of Primary Quantization Matrix in Double
    Compressed JPEG Images", DFRWS 2003). The score is the count-weighted mean total-variation
    distance between the two, over DQ_COEFFICIENTS: 0 when they agree, towards 1 when the
    aligned histograms are combs. Returns None when the image has too little detail.
    """
    if luma.shape[0] < 64 or luma.shape[1] < 64:
        return None, {}
    observed = _block_dct(luma, 0)
    calibrated = _block_dct(luma, 4)
    bins = np.arange(-DQ_HIST_RANGE, DQ_HIST_RANGE + 2) - 0.5
    distances: list[float] = []
    weights: list[float] = []
    per_coefficient: dict[str, float] = {}
    for index in DQ_COEFFICIENTS:
        step = float(luminance_table[index])
        obs = np.rint(observed[:, index] / step)
        cal = np.rint(calibrated[:, index] / step)
        nonzero = int(np.count_nonzero(obs))
        if nonzero < DQ_MIN_NONZERO:
            continue
        p_obs = np.histogram(obs, bins)[0].astype(np.float64)
        p_cal = np.histogram(cal, bins)[0].astype(np.float64)
        p_obs /= max(1.0, p_obs.sum())
        p_cal /= max(1.0, p_cal.sum())
        distance = 0.5 * float(np.abs(p_obs - p_cal).sum())
        distances.append(distance)
        weights.append(nonzero)
        per_coefficient[f"{index // 8},{index % 8}"] = round(distance, 4)
    if not distances:
        return None, {}
    return float(np.average(distances, weights=weights)), per_coefficient


# -- noise -----------------------------------------------------------------------------------


def noise_residual(
    gray: Image.Image | np.ndarray, *, first_frame_of_video: bool = False
) -> Finding:
    """Immerkær's residual: the image filtered with [[1,-2,1],[-2,4,-2],[1,-2,1]] (a difference
    of two Laplacians that cancels edges and ramps and keeps sensor noise); noise sigma of a
    block = sqrt(pi/2) / 6 * mean |residual|. Spliced or generated regions often carry
    different noise from the rest; so do dark, bright, smooth and out-of-focus areas.
    Computed in strips of STRIP_ROWS residual rows (whole blocks), with the same result."""
    y = np.asarray(gray, dtype=np.uint8)
    height, width = y.shape
    amplified = np.zeros((height, width), dtype=np.uint8)  # no value on the 1-pixel border
    sigma_parts: list[np.ndarray] = []
    brightness_parts: list[np.ndarray] = []
    residual_rows = height - 2
    # Small pictures (under one block) are one strip, padded by _block_means as before.
    step = STRIP_ROWS if residual_rows >= NOISE_BLOCK else max(1, residual_rows)
    for r0 in range(0, max(1, residual_rows), step):
        r1 = min(residual_rows, r0 + step)
        if residual_rows - r1 < NOISE_BLOCK and r1 < residual_rows:
            r1 = residual_rows  # the last strip takes the rows left over
        strip = y[r0 : r1 + 2].astype(np.int16)
        rows = strip[:, :-2] - 2 * strip[:, 1:-1] + strip[:, 2:]  # separable: [1,-2,1] twice
        residual = np.abs(rows[:-2] - 2 * rows[1:-1] + rows[2:])
        amplified[r0 + 1 : r1 + 1, 1:-1] = (
            np.minimum(residual, 255 // NOISE_MAP_GAIN).astype(np.uint8) * NOISE_MAP_GAIN
        )
        whole = residual.shape[0] - residual.shape[0] % NOISE_BLOCK or residual.shape[0]
        sigma_parts.append(_block_means(residual[:whole], NOISE_BLOCK))
        brightness_parts.append(_block_means(strip[1 : whole + 1, 1:-1], NOISE_BLOCK))
        if r1 == residual_rows:
            break
    sigma = np.concatenate(sigma_parts) * (math.sqrt(math.pi / 2) / 6)
    brightness = np.concatenate(brightness_parts)
    usable = (brightness > NOISE_CLIP_LOW) & (brightness < NOISE_CLIP_HIGH)
    values = sigma[usable] if usable.sum() >= 4 else sigma.ravel()
    mean = float(values.mean()) if values.size else 0.0
    cv = float(values.std() / mean) if mean > 0 else 0.0
    p10, p90 = (float(v) for v in np.percentile(values, [10, 90])) if values.size else (0.0, 0.0)

    level = np.clip(sigma * (255.0 / max(1e-6, 2 * float(np.median(values)))), 0, 255)
    level_map = Image.fromarray(level.astype(np.uint8), "L").resize(
        _map_size((width, height)), Image.Resampling.NEAREST
    )
    residual_map = _shrink(Image.fromarray(amplified, "L"))
    where = "the first sampled frame" if first_frame_of_video else "the image"
    return Finding(
        detector=NAME,
        code="noise_residual",
        summary=(
            f"Noise across {where} varies by {cv:.0%} between areas (coefficient of variation); "
            "texture, focus and exposure change noise too, so uneven noise is a place to "
            "look, not a finding of manipulation."
        ),
        score=min(1.0, cv),
        evidence={
            "method": "Immerkaer 1996 noise sigma per block",
            "block_size": NOISE_BLOCK,
            "blocks_used": int(values.size),
            "mean_sigma": round(mean, 4),
            "sigma_p10": round(p10, 4),
            "sigma_p90": round(p90, 4),
            "coefficient_of_variation": round(cv, 4),
            "first_frame_of_video": first_frame_of_video,
        },
        maps={
            "noise": np.asarray(level_map, dtype=np.uint8),
            "noise_residual": np.asarray(residual_map, dtype=np.uint8),
        },
    )


# -- helpers ---------------------------------------------------------------------------------


def _size(picture: Image.Image | np.ndarray) -> tuple[int, int]:
    if isinstance(picture, np.ndarray):
        return picture.shape[1], picture.shape[0]
    return picture.size


def _rows(picture: Image.Image | np.ndarray, top: int, bottom: int) -> Image.Image:
    """Rows [top, bottom) of a picture as a Pillow image (a copy of those rows only)."""
    if isinstance(picture, np.ndarray):
        return Image.fromarray(np.ascontiguousarray(picture[top:bottom]))
    return picture.crop((0, top, picture.size[0], bottom))


def _luma(rgb: np.ndarray) -> np.ndarray:
    """BT.601 luma (as JPEG encodes it, by Pillow's "L" conversion), a strip at a time."""
    luma = np.empty(rgb.shape[:2], dtype=np.uint8)
    for y0 in range(0, rgb.shape[0], STRIP_ROWS):
        luma[y0 : y0 + STRIP_ROWS] = np.asarray(_rows(rgb, y0, y0 + STRIP_ROWS).convert("L"))
    return luma


def _block_means(values: np.ndarray, block: int) -> np.ndarray:
    """Mean of each full block x block tile (at least one tile, padding small inputs)."""
    h, w = values.shape
    if h < block or w < block:
        values = np.pad(values, ((0, max(0, block - h)), (0, max(0, block - w))), mode="edge")
        h, w = values.shape
    h, w = h - h % block, w - w % block
    tiles = values[:h, :w].reshape(h // block, block, w // block, block)
    return tiles.sum(axis=(1, 3), dtype=np.int64) / float(block * block)


def _percentile_from_histogram(histogram: np.ndarray, fraction: float) -> float:
    cumulative = np.cumsum(histogram)
    return float(np.searchsorted(cumulative, fraction * cumulative[-1]))


def _map_factor(size: tuple[int, int]) -> int:
    return max(1, math.ceil(max(size) / MAP_MAX_SIDE))


def _map_size(size: tuple[int, int]) -> tuple[int, int]:
    factor = _map_factor(size)
    return max(1, math.ceil(size[0] / factor)), max(1, math.ceil(size[1] / factor))


def _shrink(image: Image.Image) -> Image.Image:
    """Integer box reduction (Pillow's reduce: fast, no resampling artefacts)."""
    factor = _map_factor(image.size)
    return image if factor == 1 else image.reduce(factor)
