"""Copy-move (clone) detection: parts of a picture that were copied to another place in it.

Keypoints of the picture are matched with the keypoints of the same picture (SIFT, D. Lowe,
IJCV 2004). A keypoint can have several copies, so every match whose distance is clearly smaller
than the next one's is kept (the generalised 2-nearest-neighbour test, g2NN, of Amerini et al.,
"A SIFT-Based Forensic Method for Copy-Move Attack Detection and Transformation Recovery",
IEEE TIFS 6(3), 2011). The matched pairs are then grouped by the geometric transformation that
maps one end onto the other (a similarity: shift, rotation, scale), fitted with RANSAC one group
at a time; a group with enough pairs is a copied region, boxed at both ends.

Repeated things (tiles, windows, a pattern on a shirt, two similar objects) match too; so the
number of pairs a group needs was chosen on unaltered photos of people (see MIN_PAIRS), and
the finding says "look copied", with that measured false-alarm rate. Flat regions have no
keypoints, so a clone of sky or wall is not found; nor is a region copied from another picture
(a splice).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import cv2
import numpy as np

from unmask.result import Finding

ANALYSIS_MAX_SIDE = 512
"""Pictures are matched at this longest side at most (area interpolation): SIFT doubles the
picture internally, so a larger side costs seconds (on a noisy 12 MP photo, 640 took as long
as its error level analysis, 512 half that), and a 12 MP photo's extra keypoints are sensor
noise, not objects. Smaller pictures are used as they are (enlarging them found no more
clones in bench/bench_copy_move.py)."""
MAX_KEYPOINTS = 2000
"""The strongest keypoints kept; matching is quadratic in their number."""
NEIGHBOURS = 8
"""Nearest neighbours looked at per keypoint: up to NEIGHBOURS - 1 copies (the first is itself)."""
G2NN_RATIO = 0.5
"""g2NN: the k-th neighbour is a match while d_k / d_(k+1) < 0.5 (Amerini et al. 2011, T=0.5)."""
MIN_OFFSET_FRACTION = 0.03
"""Pairs closer than 3 % of the picture's diagonal are dropped: SIFT gives one point several
orientations, and neighbouring points of one texture match each other."""
RANSAC_PIXELS = 4.0
"""A pair fits a transformation when it maps within 4 px (at analysis size)."""
MIN_PAIRS = 8
"""Pairs a transformation needs to count as a copied region. Chosen on bench/bench_copy_move.py
(BENCHMARKS.md has the run): 0.7 % of the 1,486 photos of people in the shared faces/real set
(10) get a finding at 8 (at most 2 % was the aim: a false alarm on a person's photo discredits
true evidence), mostly press photos in front of a backdrop printed with repeated logos; 6 flags
no more Coverage forgeries, 12 finds fewer made clones (15 of 46, not 22) for three false
alarms less."""
FALSE_ALARM_RATE = 0.007
"""Measured at MIN_PAIRS on faces/real; quoted in the finding."""
COVERAGE_FOUND = "9 of 11"
"""Coverage copy-move forgeries with a finding at MIN_PAIRS (bench/bench_copy_move.py)."""
MIN_SPREAD_FRACTION = 0.02
"""The matched points at each end must spread over at least 2 % of the diagonal (their box's
shorter side): pairs heaped on one spot are one repeated corner, not a region."""
SCALE_RANGE = (0.5, 2.0)
"""Copies scaled more than this are not looked for (and such fits are mostly chance)."""
MAX_REGIONS = 5
MAX_LINES = 16
"""Matched pairs joined by a line on the map, per region (more hide the picture)."""


@dataclass(frozen=True)
class CopiedRegion:
    """One region that looks copied, in pixels of the full picture: (x0, y0, x1, y1) boxes of
    its two ends. Which end is the original cannot be told from the matches."""

    one_end: tuple[int, int, int, int]
    other_end: tuple[int, int, int, int]
    pairs: int
    """Matched keypoint pairs that agree with the transformation."""
    shift: tuple[float, float]
    """Mean displacement from one end to the other, in pixels."""
    rotation_degrees: float
    scale: float
    one_points: np.ndarray
    """(pairs, 2) matched points at one end (full-picture pixels), for drawing."""
    other_points: np.ndarray

    def to_dict(self) -> dict:
        return {
            "one_end_box": list(self.one_end),
            "other_end_box": list(self.other_end),
            "matched_pairs": self.pairs,
            "shift_px": [round(self.shift[0], 1), round(self.shift[1], 1)],
            "rotation_degrees": round(self.rotation_degrees, 1),
            "scale": round(self.scale, 3),
        }


def find_copied_regions(picture: np.ndarray, min_pairs: int = MIN_PAIRS) -> list[CopiedRegion]:
    """Regions of `picture` (H x W x 3 RGB or H x W luma, uint8) that look copied to another
    place in it, strongest first. Empty when none reaches `min_pairs` matched pairs."""
    height, width = picture.shape[:2]
    if picture.ndim == 2:
        gray = picture
    else:
        gray = cv2.cvtColor(np.ascontiguousarray(picture[:, :, :3]), cv2.COLOR_RGB2GRAY)
    longest = max(height, width)
    factor = min(1.0, ANALYSIS_MAX_SIDE / longest)
    if factor < 1.0:
        size = (max(1, round(width * factor)), max(1, round(height * factor)))
        gray = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
    points, pairs = _matched_pairs(gray)
    if len(pairs) < min_pairs:
        return []
    diagonal = math.hypot(*gray.shape)
    regions: list[CopiedRegion] = []
    remaining = pairs
    cv2.setRNGSeed(1)  # RANSAC draws from OpenCV's global generator: the same answer each run
    while len(remaining) >= min_pairs and len(regions) < MAX_REGIONS:
        # Each pair is tried in both directions; the direction with the larger group wins.
        src = np.concatenate([points[remaining[:, 0]], points[remaining[:, 1]]])
        dst = np.concatenate([points[remaining[:, 1]], points[remaining[:, 0]]])
        transform, inliers = cv2.estimateAffinePartial2D(
            src, dst, method=cv2.RANSAC, ransacReprojThreshold=RANSAC_PIXELS, maxIters=4000
        )
        if transform is None or inliers is None:
            break
        mask = inliers.ravel().astype(bool)
        forward = mask[: len(remaining)]
        backward = mask[len(remaining) :]
        used = forward | backward
        group = np.where(forward[:, None], remaining, remaining[:, ::-1])[used]
        remaining = remaining[~used]
        if len(group) < min_pairs:
            break
        scale = math.hypot(transform[0, 0], transform[1, 0])
        one_points, other_points = points[group[:, 0]], points[group[:, 1]]
        if not SCALE_RANGE[0] <= scale <= SCALE_RANGE[1]:
            continue
        if min(_spread(one_points), _spread(other_points)) < MIN_SPREAD_FRACTION * diagonal:
            continue
        shift = (other_points - one_points).mean(axis=0)
        regions.append(
            CopiedRegion(
                one_end=_box(one_points / factor, width, height),
                other_end=_box(other_points / factor, width, height),
                pairs=len(group),
                shift=(float(shift[0] / factor), float(shift[1] / factor)),
                rotation_degrees=math.degrees(math.atan2(transform[1, 0], transform[0, 0])),
                scale=scale,
                one_points=one_points / factor,
                other_points=other_points / factor,
            )
        )
    return sorted(regions, key=lambda r: r.pairs, reverse=True)


def _matched_pairs(gray: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Keypoint positions (N, 2) and the g2NN pairs (M, 2) of indices, each pair once."""
    sift = cv2.SIFT_create(nfeatures=MAX_KEYPOINTS)
    keypoints, descriptors = sift.detectAndCompute(gray, None)
    if descriptors is None or len(keypoints) < 3:
        return np.zeros((0, 2), np.float32), np.zeros((0, 2), np.int64)
    points = np.array([kp.pt for kp in keypoints], dtype=np.float32)
    k = min(NEIGHBOURS, len(keypoints))
    matches = cv2.BFMatcher(cv2.NORM_L2).knnMatch(descriptors, descriptors, k=k)
    min_offset = MIN_OFFSET_FRACTION * math.hypot(*gray.shape)
    found: set[tuple[int, int]] = set()
    for neighbours in matches:
        # neighbours[0] is the keypoint itself (or a twin at the same place).
        for near, far in itertools.pairwise(neighbours[1:]):
            if near.distance >= G2NN_RATIO * far.distance:
                break
            a, b = near.queryIdx, near.trainIdx
            if np.hypot(*(points[a] - points[b])) < min_offset:
                continue
            found.add((min(a, b), max(a, b)))
    pairs = np.array(sorted(found), dtype=np.int64).reshape(-1, 2)
    return points, pairs


def _spread(points: np.ndarray) -> float:
    extent = points.max(axis=0) - points.min(axis=0)
    return float(min(extent))


def _box(points: np.ndarray, width: int, height: int) -> tuple[int, int, int, int]:
    """The points' bounding box, widened by an eighth of its size on each side (the points are
    corners and blobs inside the copied object, not its outline), within the picture. On the
    Coverage set an eighth gave pixel precision 0.56 and recall 0.73, a quarter 0.44 and 0.78,
    none 0.65 and 0.63."""
    x0, y0 = points.min(axis=0)
    x1, y1 = points.max(axis=0)
    pad_x, pad_y = max(4.0, (x1 - x0) / 8), max(4.0, (y1 - y0) / 8)
    return (
        int(max(0, math.floor(x0 - pad_x))),
        int(max(0, math.floor(y0 - pad_y))),
        int(min(width, math.ceil(x1 + pad_x))),
        int(min(height, math.ceil(y1 + pad_y))),
    )


def copy_move(rgb: np.ndarray, luma: np.ndarray | None = None) -> Finding | None:
    """The copy-move finding of a picture, with its map (the picture, dimmed, with each copied
    region's two ends boxed and their matched points joined); None when nothing looks copied.
    `luma`: the picture's luma when the caller has it already (saves a conversion)."""
    regions = find_copied_regions(rgb if luma is None else luma)
    if not regions:
        return None
    count = len(regions)
    largest = regions[0]
    what = "one region that looks" if count == 1 else f"{count} regions that look"
    return Finding(
        detector="forensics",
        code="copy_move",
        summary=(
            f"Copy-move check: {what} copied to another place within the picture "
            f"(the strongest: {largest.pairs} matched points, shifted by "
            f"{math.hypot(*largest.shift):.0f} px). Repeated objects and patterns match too, so "
            "look at the boxes on the map: this check flagged "
            f"{FALSE_ALARM_RATE:.1%} of unaltered photos of people and {COVERAGE_FOUND} "
            "copy-move forgeries of the Coverage set, and it does not find clones of flat areas."
        ),
        indicates="editing",
        strength="weak",
        score=min(1.0, largest.pairs / 100),
        evidence={
            "method": (
                "SIFT keypoints of the picture matched with themselves (g2NN, Amerini et al. "
                "2011), grouped by RANSAC-fitted similarity transforms"
            ),
            "min_matched_pairs": MIN_PAIRS,
            "false_alarm_rate_on_photos_of_people": FALSE_ALARM_RATE,
            "regions": [region.to_dict() for region in regions],
        },
        maps={"copy_move": draw_regions(rgb, regions)},
    )


def draw_regions(rgb: np.ndarray, regions: list[CopiedRegion]) -> np.ndarray:
    """The picture, dimmed and greyed, at most MAP_MAX_SIDE, with the regions boxed."""
    from unmask.detectors.forensics import MAP_MAX_SIDE
    from unmask.map_views import ONE_END_COLOUR, OTHER_END_COLOUR

    height, width = rgb.shape[:2]
    factor = min(1.0, MAP_MAX_SIDE / max(height, width))
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    grey = cv2.cvtColor(np.ascontiguousarray(rgb[:, :, :3]), cv2.COLOR_RGB2GRAY)
    if factor < 1.0:
        grey = cv2.resize(grey, size, interpolation=cv2.INTER_AREA)
    canvas = cv2.cvtColor((grey * 0.6 + 40).astype(np.uint8), cv2.COLOR_GRAY2RGB)
    thickness = max(2, round(max(size) / 300))
    for region in regions:
        step = max(1, len(region.one_points) // MAX_LINES)
        for a, b in zip(region.one_points[::step], region.other_points[::step], strict=True):
            start = tuple(int(v) for v in a * factor)
            end = tuple(int(v) for v in b * factor)
            cv2.line(canvas, start, end, (255, 255, 0), max(1, thickness // 2), cv2.LINE_AA)
        for box, colour in ((region.one_end, ONE_END_COLOUR), (region.other_end, OTHER_END_COLOUR)):
            x0, y0, x1, y1 = (int(v * factor) for v in box)
            cv2.rectangle(canvas, (x0, y0), (x1, y1), colour, thickness)
    return canvas
