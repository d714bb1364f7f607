"""Find the original a suspect picture was made from, and show what was changed.

A person who has the photo that was manipulated can prove it: unmask finds that photo among
their originals, lines the two up, and draws boxes around the regions that differ ("this face
was replaced"). Three steps:

1. **Find** the closest original by PDQ (the perceptual hash platforms share). PDQ survives
   resizing and re-encoding but not much cropping (a 5 % crop moves it ~48 bits, past the
   usual match threshold of 31), so the few nearest candidates all go on to step 2.
2. **Align** with SIFT keypoints (Lowe 2004) matched under Lowe's ratio test and a RANSAC
   homography (OpenCV). This undoes crops, resizes and small rotations; a candidate with too
   few consistent matches is not the original.
3. **Compare** the aligned pictures after a blur that removes JPEG and resampling noise, and
   box the connected regions whose colour differs by more than a threshold.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from unmask import hashing

CANDIDATES_ALIGNED = 3
"""The PDQ-nearest originals always tried with feature matching; the best aligned one wins."""
MAX_CANDIDATES_ALIGNED = 40
"""If none of those align (a crop moved PDQ too far), later candidates are tried in PDQ order
until one aligns or this many were tried (about 0.1 s each)."""
MIN_INLIERS = 25
"""RANSAC inliers needed to call two pictures the same scene. Unrelated photos give under 10
with SIFT + ratio test on our data; a resized, re-encoded copy of the same photo gives
hundreds."""
RATIO_TEST = 0.75
"""Lowe's ratio between the best and second-best match distances (Lowe 2004, section 7.1)."""
WORK_SIDE = 1024
"""Both pictures are compared at most this size on the long side."""
BLUR_SIGMA = 2.0
"""Gaussian blur (pixels) before differencing: JPEG q70 and bilinear resampling leave
differences that this blur brings under `CHANGE_THRESHOLD`."""
CHANGE_THRESHOLD = 28
"""Largest per-channel difference (0-255, after the blur) still counted as unchanged."""
MIN_REGION_FRACTION = 0.002
"""Changed regions smaller than this share of the picture are dropped as noise."""
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff", ".bmp", ".heic", ".avif"}


@dataclass
class OriginalMatch:
    original: str
    pdq_distance: int | None
    inliers: int
    homography: list[list[float]]
    """Maps original pixel coordinates to suspect pixel coordinates (3x3)."""
    changed_boxes: list[tuple[int, int, int, int]] = field(default_factory=list)
    """x0, y0, x1, y1 in suspect pixels, largest region first."""
    changed_fraction: float = 0.0
    """Share of the overlapping area that differs."""
    difference: np.ndarray | None = field(default=None, repr=False)
    """HxW uint8 difference map in suspect pixels (0 = same)."""


def image_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)


def find_original(
    suspect: np.ndarray,
    originals: Iterable[tuple[str, np.ndarray | None, str | None]],
) -> OriginalMatch | None:
    """The original `suspect` (RGB) was made from, with its changed regions; None if none.

    `originals` yields (name, rgb or None, known PDQ hex or None); rgb None means "load it
    later by name" and is read with `load_rgb` only when the candidate is aligned.
    """
    suspect_pdq = {h for h, _ in hashing.pdq_windows(suspect, hashing.QUERY_WINDOW_CUTS)}
    ranked: list[tuple[int, str, np.ndarray | None]] = []
    for name, rgb, known in originals:
        if known is None:
            if rgb is None:
                rgb = load_rgb(name)
            if rgb is None:
                continue
            known = hashing.pdq(rgb)[0]
        distance = min(hashing.PdqSignal.distance(known, h) for h in suspect_pdq)
        ranked.append((distance, name, rgb))
    ranked.sort(key=lambda item: item[0])

    features = _features(_shrink(suspect)[0])
    best: OriginalMatch | None = None
    for rank, (distance, name, rgb) in enumerate(ranked[:MAX_CANDIDATES_ALIGNED]):
        if rank >= CANDIDATES_ALIGNED and best is not None:
            break
        rgb = rgb if rgb is not None else load_rgb(name)
        if rgb is None:
            continue
        match = compare(suspect, rgb, features)
        if match is None:
            continue
        match.original, match.pdq_distance = name, distance
        if best is None or match.inliers > best.inliers:
            best = match
    return best


def compare(
    suspect: np.ndarray, original: np.ndarray, suspect_features: tuple | None = None
) -> OriginalMatch | None:
    """Align `original` onto `suspect` and box what differs; None if they do not align.
    `suspect_features` (SIFT of the suspect at working size) saves recomputing them."""
    s_small, s_scale = _shrink(suspect)
    o_small, o_scale = _shrink(original)
    features = suspect_features if suspect_features is not None else _features(s_small)
    homography, inliers = _align(o_small, s_small, features)
    if homography is None or inliers < MIN_INLIERS:
        return None
    height, width = s_small.shape[:2]
    warped = cv2.warpPerspective(o_small, homography, (width, height), flags=cv2.INTER_LINEAR)
    coverage = cv2.warpPerspective(
        np.full(o_small.shape[:2], 255, np.uint8), homography, (width, height)
    )
    coverage = cv2.erode(coverage, np.ones((7, 7), np.uint8)) > 0

    a = cv2.GaussianBlur(s_small.astype(np.float32), (0, 0), BLUR_SIGMA)
    b = cv2.GaussianBlur(warped.astype(np.float32), (0, 0), BLUR_SIGMA)
    difference = np.abs(a - b).max(axis=2)
    difference[~coverage] = 0
    changed = (difference > CHANGE_THRESHOLD).astype(np.uint8)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (9, 9))
    changed = cv2.morphologyEx(changed, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    changed = cv2.morphologyEx(changed, cv2.MORPH_CLOSE, kernel, iterations=2)

    count, _, stats, _ = cv2.connectedComponentsWithStats(changed, connectivity=8)
    min_area = MIN_REGION_FRACTION * width * height
    boxes = []
    for i in range(1, count):
        x, y, w, h, area = (int(v) for v in stats[i])
        if area >= min_area:
            boxes.append((area, (x, y, x + w, y + h)))
    boxes.sort(reverse=True)
    scale_back = 1.0 / s_scale
    full_boxes = [tuple(round(v * scale_back) for v in box) for _, box in boxes]
    to_full = np.diag([scale_back, scale_back, 1.0]) @ homography @ np.diag([o_scale, o_scale, 1.0])
    diff_full = cv2.resize(
        np.clip(difference * 255.0 / max(CHANGE_THRESHOLD * 3, 1), 0, 255).astype(np.uint8),
        (suspect.shape[1], suspect.shape[0]),
        interpolation=cv2.INTER_LINEAR,
    )
    return OriginalMatch(
        original="",
        pdq_distance=None,
        inliers=inliers,
        homography=(to_full / to_full[2, 2]).round(6).tolist(),
        changed_boxes=full_boxes,  # type: ignore[arg-type]
        changed_fraction=float(changed[coverage].mean()) if coverage.any() else 0.0,
        difference=diff_full,
    )


def render_difference(suspect: np.ndarray, match: OriginalMatch) -> np.ndarray:
    """The suspect, darkened, with the difference map in red and the changed regions boxed."""
    base = (suspect.astype(np.float32) * 0.45).astype(np.uint8)
    if match.difference is not None:
        red = base[..., 0].astype(np.int32) + match.difference.astype(np.int32)
        base[..., 0] = np.clip(red, 0, 255).astype(np.uint8)
    thickness = max(2, round(max(suspect.shape[:2]) / 300))
    for x0, y0, x1, y1 in match.changed_boxes:
        cv2.rectangle(base, (x0, y0), (x1, y1), (255, 255, 0), thickness)
    return base


def load_rgb(path: str) -> np.ndarray | None:
    """An original's first frame as RGB, or None if it cannot be read."""
    from unmask.errors import UnmaskError
    from unmask.media import open_media

    try:
        media = open_media(path, n_frames=1)
    except UnmaskError:
        return None
    return media.frames[0].rgb if media.frames else None


def _shrink(rgb: np.ndarray) -> tuple[np.ndarray, float]:
    scale = min(1.0, WORK_SIDE / max(rgb.shape[:2]))
    if scale < 1.0:
        size = (round(rgb.shape[1] * scale), round(rgb.shape[0] * scale))
        rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    return rgb, scale


def _features(rgb: np.ndarray) -> tuple:
    """SIFT keypoints and descriptors of an RGB picture."""
    sift = cv2.SIFT_create(nfeatures=4000)
    return sift.detectAndCompute(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), None)


def _align(
    source: np.ndarray, target: np.ndarray, target_features: tuple
) -> tuple[np.ndarray | None, int]:
    """Homography mapping `source` pixels onto `target` pixels, and its RANSAC inliers."""
    kp_s, des_s = _features(source)
    kp_t, des_t = target_features
    if des_s is None or des_t is None or len(kp_s) < 4 or len(kp_t) < 4:
        return None, 0
    pairs = cv2.BFMatcher(cv2.NORM_L2).knnMatch(des_s, des_t, k=2)
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < RATIO_TEST * p[1].distance]
    if len(good) < 4:
        return None, 0
    src = np.float32([kp_s[m.queryIdx].pt for m in good]).reshape(-1, 1, 2)
    dst = np.float32([kp_t[m.trainIdx].pt for m in good]).reshape(-1, 1, 2)
    homography, mask = cv2.findHomography(src, dst, cv2.RANSAC, 4.0)
    if homography is None or mask is None:
        return None, 0
    return homography, int(mask.sum())
