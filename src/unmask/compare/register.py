"""Lay the original onto the suspect: SIFT keypoints, Lowe's ratio test and a RANSAC
similarity transform (OpenCV), tried on the original as it is and mirrored.

A similarity (rotation, one scale, shift) is what re-publishing does to a picture: crop,
resize, letterbox, a slight straightening. Four degrees of freedom instead of a homography's
eight make a chance fit between unrelated pictures much rarer, which matters more here than
fitting perspective changes: comparing against the wrong original must never end in "altered".
SIFT is not mirror-invariant, so a mirrored copy (common on re-uploads, to dodge matching) is
found by matching the mirrored original too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

RATIO_TEST = 0.75
"""Lowe's ratio between the best and second-best match distances (Lowe 2004, section 7.1)."""
MAX_FEATURES = 3000
"""SIFT keypoints kept per picture (strongest first); 3,000 at 640 px is more than the
RANSAC fit needs and keeps matching under ~50 ms."""
RANSAC_PIXELS = 3.0
"""Largest reprojection error (working pixels) of an inlier."""
REFINE_PIXELS = 1.5
"""Reprojection error (working pixels) of an inlier in the pooled final fit."""
MIN_INLIERS = 24
"""Inliers needed to say two pictures show the same scene. Measured with
scripts/calibrate_compare.py: 23 pairs of unrelated photos reached at most 4 inliers; the
controls (re-encoded, rescaled, cropped, mirrored copies) give hundreds."""
MIN_SPREAD = 0.08
"""The inliers' convex hull must cover at least this share of the overlap: a logo, caption or
studio backdrop shared by two different pictures matches well but only in one small place."""
SCALE_RANGE = (0.1, 10.0)
"""Suspect-to-original scales outside this range are refused as chance fits."""


@dataclass(frozen=True)
class Features:
    """SIFT keypoint positions (N, 2) and descriptors (N, 128) of one grey picture."""

    points: np.ndarray
    descriptors: np.ndarray | None
    shape: tuple[int, int]


@dataclass(frozen=True)
class Registration:
    """A map from original (working) pixels to suspect (working) pixels."""

    matrix: np.ndarray
    """2x3 float64, mirroring included."""
    mirrored: bool
    inliers: int
    spread: float
    """Share of the overlap covered by the inliers' convex hull."""

    @property
    def scale(self) -> float:
        return float(math.sqrt(abs(np.linalg.det(self.matrix[:, :2]))))

    @property
    def rotation_deg(self) -> float:
        a, b = self.matrix[0, 0], self.matrix[1, 0]
        angle = math.degrees(math.atan2(b, a))
        return angle if not self.mirrored else math.degrees(math.atan2(b, -a))


def grey(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)


def features(rgb: np.ndarray) -> Features:
    """SIFT features of an RGB picture at working size."""
    sift = cv2.SIFT_create(nfeatures=MAX_FEATURES)
    keypoints, descriptors = sift.detectAndCompute(grey(rgb), None)
    points = np.float32([k.pt for k in keypoints]).reshape(-1, 2)
    return Features(points, descriptors, rgb.shape[:2])


def resize_matrix(sx: float, sy: float | None = None) -> np.ndarray:
    """3x3 map of pixel coordinates when a picture is resized by (sx, sy). OpenCV puts pixel
    centres at integer coordinates, so a resize also shifts by half a pixel: ignoring it moves a
    mirrored map by several pixels once pictures are shrunk (measured: a 512 px frame compared
    at 96 px picked the wrong video frame)."""
    sy = sx if sy is None else sy
    return np.array([[sx, 0.0, 0.5 * sx - 0.5], [0.0, sy, 0.5 * sy - 0.5], [0.0, 0.0, 1.0]])


def compose(*matrices: np.ndarray) -> np.ndarray:
    """The 2x3 map applying the last matrix first (each 2x3 or 3x3)."""
    out = np.eye(3)
    for m in matrices:
        out = out @ (np.vstack([m, [0.0, 0.0, 1.0]]) if m.shape[0] == 2 else m)
    return out[:2]


def mirror_matrix(width: int) -> np.ndarray:
    """3x3 map of a left-right mirror of a picture `width` pixels wide."""
    return np.array([[-1.0, 0.0, width - 1.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])


def register(
    suspect: Features, original: Features, original_mirrored: Features | None = None
) -> Registration | None:
    """The best map of the original (or its mirror) onto the suspect; None if neither fits."""
    best: Registration | None = None
    tries = [(original, False)]
    if original_mirrored is not None:
        tries.append((original_mirrored, True))
    for source, mirrored in tries:
        found = _fit(source, suspect)
        if found is None:
            continue
        matrix, inliers, spread = found
        if mirrored:
            full = np.vstack([matrix, [0.0, 0.0, 1.0]]) @ mirror_matrix(source.shape[1])
            matrix = full[:2]
        candidate = Registration(matrix, mirrored, inliers, spread)
        if best is None or candidate.inliers > best.inliers:
            best = candidate
    return best


def refine(
    pairs: list[tuple[Features, Features]], mirrored: bool, initial: Registration
) -> Registration:
    """One map fitted on the matches of several (suspect, original) frame pairs at once, with a
    tighter RANSAC threshold: a single pair's fit can be off by a fraction of a percent in
    scale, which puts sharp edges a pixel or two apart and shows as change (measured: a CRF 35
    copy fitted at scale 1.004 peaked at 5x the threshold; pooled, it stays under it). `pairs`
    hold the original's features mirrored when `mirrored`. Returns `initial` when the pooled
    fit is not better supported."""
    src, dst = [], []
    width = 0
    for suspect, original in pairs:
        if original.descriptors is None or suspect.descriptors is None or len(original.points) < 2:
            continue
        width = original.shape[1]
        matches = cv2.BFMatcher(cv2.NORM_L2).knnMatch(
            original.descriptors, suspect.descriptors, k=2
        )
        good = [p[0] for p in matches if len(p) == 2 and p[0].distance < RATIO_TEST * p[1].distance]
        src.append(original.points[[m.queryIdx for m in good]])
        dst.append(suspect.points[[m.trainIdx for m in good]])
    if not src or sum(len(a) for a in src) < MIN_INLIERS:
        return initial
    matrix, mask = cv2.estimateAffinePartial2D(
        np.concatenate(src),
        np.concatenate(dst),
        method=cv2.RANSAC,
        ransacReprojThreshold=REFINE_PIXELS,
        maxIters=4000,
        confidence=0.999,
    )
    if matrix is None or mask is None or int(mask.sum()) < MIN_INLIERS:
        return initial
    if mirrored:
        matrix = (np.vstack([matrix, [0.0, 0.0, 1.0]]) @ mirror_matrix(width))[:2]
    return Registration(matrix.astype(np.float64), mirrored, int(mask.sum()), initial.spread)


def _fit(source: Features, target: Features) -> tuple[np.ndarray, int, float] | None:
    if (
        source.descriptors is None
        or target.descriptors is None
        or len(source.points) < 4
        or len(target.points) < 4
    ):
        return None
    pairs = cv2.BFMatcher(cv2.NORM_L2).knnMatch(source.descriptors, target.descriptors, k=2)
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < RATIO_TEST * p[1].distance]
    if len(good) < MIN_INLIERS:
        return None
    src = source.points[[m.queryIdx for m in good]]
    dst = target.points[[m.trainIdx for m in good]]
    matrix, mask = cv2.estimateAffinePartial2D(
        src,
        dst,
        method=cv2.RANSAC,
        ransacReprojThreshold=RANSAC_PIXELS,
        maxIters=4000,
        confidence=0.999,
    )
    if matrix is None or mask is None:
        return None
    inlier = mask.ravel().astype(bool)
    count = int(inlier.sum())
    scale = math.sqrt(abs(np.linalg.det(matrix[:, :2])))
    if count < MIN_INLIERS or not SCALE_RANGE[0] <= scale <= SCALE_RANGE[1]:
        return None
    overlap = overlap_mask(matrix, source.shape, target.shape).sum()
    hull = cv2.convexHull(dst[inlier].reshape(-1, 1, 2))
    spread = float(cv2.contourArea(hull)) / max(float(overlap), 1.0)
    if spread < MIN_SPREAD:
        return None
    return matrix.astype(np.float64), count, spread


def overlap_mask(
    matrix: np.ndarray, source_shape: tuple[int, int], target_shape: tuple[int, int]
) -> np.ndarray:
    """Boolean mask (target size) of where the mapped source picture lands."""
    height, width = target_shape
    ones = np.full(source_shape, 255, np.uint8)
    return cv2.warpAffine(ones, matrix, (width, height), flags=cv2.INTER_NEAREST) > 0
