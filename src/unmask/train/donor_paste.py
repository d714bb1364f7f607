"""Donor pastes for training: another person's face put into a training face, as an editor does.

Self-blends (`unmask.train.sbi`) blend a face with a changed copy of itself, so everything but
the seam matches: the light, the skin, the camera. A face taken from another photo brings its
own light, skin tone, sharpness and noise, and that mismatch with the frame around it is what a
detector must see in a photo edited by hand (the case this project started from). So a share of
the training fakes are made from two training faces:

- the donor face is aligned onto the target's five landmarks with a similarity transform
  (scale, rotation, shift);
- its detail is changed as a picture taken from elsewhere would be (resized down and up,
  softened or sharpened), without any JPEG step;
- its colour is moved part of the way towards the target's face (per-channel mean and spread
  in RGB over the mask, strength 0-1: an editor matches colour by eye, often not at all);
- it is blended in over the same deformed, blurred face mask as the self-blends (468-point hull
  where the mesh found the face), whose values are the localisation target.

Deliberately unlike the face-paste evaluation set (`unmask.train.face_paste`): no Poisson
cloning, no ellipse mask, no Reinhard colour transfer in Lab, no separate JPEG history of the
donor. Real and paste then go through the same `degrade` as every training crop.
"""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image, ImageFilter

from unmask.train.sbi import FaceSample, SelfBlend, face_mask, self_blend

MIN_COVERAGE = 0.97
"""Share of the paste mask the donor's picture must cover, at least `EDGE_PX` inside it; below
it (a donor cut from near its photo's edge, whose cache square is black there) the face is
self-blended instead (34 % of drawn pairs, `scripts/training_contact_sheet.py
--count-fallbacks`); the rest (at most 3 %) is cut from the mask, so no black corner is ever
pasted in."""
EDGE_PX = 3
"""How far inside the donor's picture the mask must stay: `change_detail` blurs and resizes the
donor, which smears its black padding inwards."""


def picture_area(rgb: np.ndarray) -> np.ndarray:
    """HxW uint8, 1 where the cached square holds picture, 0 where it is the black the cache pads
    a face cut near its photo's edge with."""
    content = (rgb.max(axis=2) > 4).astype(np.uint8)
    content = cv2.morphologyEx(content, cv2.MORPH_OPEN, np.ones((5, 5), np.uint8))
    # Padding lies along the square's edges; a dark patch inside the picture (hair, a pupil, a
    # night photo) is picture, not padding.
    _, labels = cv2.connectedComponents(1 - content, connectivity=4)
    edges = np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])
    padding = np.isin(labels, np.unique(edges[edges > 0]))
    return (~padding).astype(np.uint8)


def align(donor: FaceSample, target: FaceSample) -> tuple[np.ndarray, np.ndarray]:
    """(donor picture moved onto the target's landmarks, HxW float32 1 where it holds picture)."""
    matrix, _ = cv2.estimateAffinePartial2D(
        np.asarray(donor.landmarks, np.float32), np.asarray(target.landmarks, np.float32)
    )
    if matrix is None or not np.isfinite(matrix).all():
        matrix = np.array([[1, 0, 0], [0, 1, 0]], np.float64)
    height, width = target.rgb.shape[:2]
    moved = cv2.warpAffine(
        donor.rgb, matrix, (width, height), flags=cv2.INTER_LINEAR, borderValue=(0, 0, 0)
    )
    valid = cv2.warpAffine(
        picture_area(donor.rgb).astype(np.float32), matrix, (width, height), flags=cv2.INTER_NEAREST
    )
    return moved, valid


def change_detail(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A picture from elsewhere: resized down and up (0.3-0.9), then softened or sharpened."""
    picture = Image.fromarray(rgb)
    if rng.random() < 0.7:
        factor = rng.uniform(0.3, 0.9)
        small = picture.resize(
            (max(8, int(picture.width * factor)), max(8, int(picture.height * factor))),
            Image.BICUBIC if rng.random() < 0.5 else Image.BILINEAR,
        )
        picture = small.resize(picture.size, Image.BILINEAR)
    choice = rng.random()
    if choice < 0.3:
        picture = picture.filter(ImageFilter.GaussianBlur(radius=float(rng.uniform(0.4, 1.5))))
    elif choice < 0.6:
        radius, percent = float(rng.uniform(1, 3)), int(rng.uniform(40, 160))
        picture = picture.filter(ImageFilter.UnsharpMask(radius=radius, percent=percent))
    return np.asarray(picture)


def match_colour(
    source: np.ndarray, target: np.ndarray, weight: np.ndarray, strength: float
) -> np.ndarray:
    """`source` (float32 HxWx3) with each channel's mean and spread over `weight` moved
    `strength` of the way to `target`'s."""
    w = weight[..., None]
    total = max(float(weight.sum()), 1e-6)
    mean_s = (source * w).sum((0, 1)) / total
    mean_t = (target * w).sum((0, 1)) / total
    std_s = np.sqrt(((source - mean_s) ** 2 * w).sum((0, 1)) / total) + 1e-3
    std_t = np.sqrt(((target - mean_t) ** 2 * w).sum((0, 1)) / total) + 1e-3
    matched = (source - mean_s) * (std_t / std_s) + mean_t
    return source + strength * (matched - source)


def paste_region(
    target: FaceSample, donor: FaceSample, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray] | None:
    """(donor picture moved onto the target, deformed face mask of the target within its own
    picture), or None when the donor's picture does not cover the mask (`MIN_COVERAGE`)."""
    moved, valid = align(donor, target)
    inside = cv2.erode(valid, np.ones((2 * EDGE_PX + 1, 2 * EDGE_PX + 1), np.uint8))
    mask = face_mask(target, rng) * picture_area(target.rgb)
    if (mask * inside).sum() < MIN_COVERAGE * mask.sum():
        return None
    return moved, mask * inside


def donor_paste(target: FaceSample, donor: FaceSample, rng: np.random.Generator) -> SelfBlend:
    """`donor`'s face pasted into `target` over a deformed face mask of the target (a
    self-blend where the donor's picture does not cover the mask, see `paste_region`)."""
    region = paste_region(target, donor, rng)
    if region is None:
        return self_blend(target, rng)
    moved, mask = region
    source = change_detail(moved, rng).astype(np.float32)
    original = target.rgb.astype(np.float32)
    strength = float(rng.choice([0.0, rng.uniform(0.3, 1.0), 1.0]))
    source = match_colour(source, original, mask, strength)
    pasted = source * mask[..., None] + original * (1.0 - mask[..., None])
    return SelfBlend(np.clip(pasted + 0.5, 0, 255).astype(np.uint8), mask.astype(np.float32))
