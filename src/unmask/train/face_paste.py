"""Face pastes for evaluation: a face from another photo put onto a person, as a photo editor does.

This is the case the project started from (a face photoshopped onto another body). The set is
made only for evaluation, from photos kept out of training, with a procedure no training
generator uses, so that a check is not scored on its own recipe:

- the donor face has its own JPEG history (re-saved at `DONOR_QUALITY` before it is moved);
- it is aligned onto the target's five landmarks with a similarity transform (scale, rotation,
  shift, as "free transform" does in an editor);
- it is pasted either with OpenCV's Poisson `seamlessClone` (Pérez et al., SIGGRAPH 2003; the
  editor's "healing" paste), or with plain alpha blending through a feathered mask after
  matching the donor's colour to the target's face (Reinhard et al., 2001, in Lab);
- the result is saved once more as JPEG at `FINAL_QUALITY`; its unaltered counterpart is the
  target photo saved the same way, so the last compression cannot tell the two apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import cv2
import numpy as np

Method = Literal["seamless_clone", "alpha_blend"]
METHODS: tuple[Method, ...] = ("seamless_clone", "alpha_blend")
DONOR_QUALITY = (55, 80)
"""JPEG quality range of the donor's re-save: a face grabbed from the web, not the camera's."""
FINAL_QUALITY = (85, 95)
"""JPEG quality range of the saved composite (and of its unaltered counterpart)."""
MASK_AXES = (1.15, 1.35)
"""Paste mask semi-axes in eye distances (across) and eye-to-mouth distances (down), centred
between eyes and mouth: brows to chin, cheek to cheek, as a hand-drawn face selection."""
FEATHER = 0.06
"""Gaussian feather of the alpha mask, sigma as a fraction of the face box side."""
MIN_FACE_PX = 60
MAX_FACE_FRACTION = 0.8
"""Targets whose face box is wider than this share of the picture's shorter side are tight
face crops with no frame around the face: no one pastes a face onto those, and the ring and
surroundings the cues compare with do not exist there."""
MIN_COVERAGE = 0.97
"""Share of the paste mask the moved donor picture must cover (no black corners pasted in)."""


class PasteError(ValueError):
    """The two faces cannot be aligned or the paste would fall off the picture."""


def jpeg_round_trip(rgb: np.ndarray, quality: int) -> np.ndarray:
    ok, data = cv2.imencode(".jpg", rgb[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise PasteError("JPEG encoding failed")
    return cv2.imdecode(data, cv2.IMREAD_COLOR)[..., ::-1].copy()


def paste_mask(shape: tuple[int, int], landmarks: np.ndarray) -> np.ndarray:
    """uint8 0/255 ellipse over the face of `landmarks` (see `MASK_AXES`)."""
    marks = np.asarray(landmarks, dtype=np.float64).reshape(5, 2)
    eyes, mouth = (marks[0] + marks[1]) / 2, (marks[3] + marks[4]) / 2
    centre = (eyes + mouth) / 2
    axes = (
        round(MASK_AXES[0] * np.linalg.norm(marks[1] - marks[0])),
        round(MASK_AXES[1] * np.linalg.norm(mouth - eyes)),
    )
    angle = float(np.degrees(np.arctan2(*(marks[1] - marks[0])[::-1])))
    mask = np.zeros(shape, dtype=np.uint8)
    cv2.ellipse(mask, (round(centre[0]), round(centre[1])), axes, angle, 0, 360, 255, -1)
    return mask


def paste_face(
    target: np.ndarray,
    target_marks: np.ndarray,
    target_side: float,
    donor: np.ndarray,
    donor_marks: np.ndarray,
    method: Method,
    donor_quality: int,
) -> np.ndarray:
    """`target` (RGB uint8) with the donor's face pasted over its own face."""
    matrix, _ = cv2.estimateAffinePartial2D(
        np.asarray(donor_marks, np.float32), np.asarray(target_marks, np.float32), method=cv2.LMEDS
    )
    if matrix is None:
        raise PasteError("the two faces' landmarks cannot be aligned")
    h, w = target.shape[:2]
    donor = jpeg_round_trip(donor, donor_quality)
    moved = cv2.warpAffine(donor, matrix, (w, h), flags=cv2.INTER_LINEAR)
    covered = cv2.warpAffine(np.full(donor.shape[:2], 255, np.uint8), matrix, (w, h))
    mask = paste_mask((h, w), target_marks) & cv2.erode(covered, np.ones((5, 5), np.uint8))
    mask[:2], mask[-2:], mask[:, :2], mask[:, -2:] = 0, 0, 0, 0  # seamlessClone needs a border
    wanted = int((paste_mask((h, w), target_marks) > 0).sum())
    if int((mask > 0).sum()) < MIN_COVERAGE * wanted:
        raise PasteError("the donor picture does not cover the whole target face")
    if method == "seamless_clone":
        ys, xs = np.nonzero(mask)
        centre = (int((xs.min() + xs.max() + 1) // 2), int((ys.min() + ys.max() + 1) // 2))
        out = cv2.seamlessClone(
            moved[..., ::-1].copy(), target[..., ::-1].copy(), mask, centre, cv2.NORMAL_CLONE
        )
        return out[..., ::-1].copy()
    matched = _match_colour(moved, target, mask > 0)
    alpha = cv2.GaussianBlur(mask.astype(np.float32) / 255, (0, 0), FEATHER * target_side)
    alpha = (alpha * (covered.astype(np.float32) / 255))[..., None]
    out = alpha * matched + (1 - alpha) * target.astype(np.float32)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def _match_colour(source: np.ndarray, target: np.ndarray, where: np.ndarray) -> np.ndarray:
    """Source with its Lab mean and spread inside `where` moved to the target's (Reinhard)."""
    src = cv2.cvtColor(source, cv2.COLOR_RGB2LAB).astype(np.float32)
    dst = cv2.cvtColor(target, cv2.COLOR_RGB2LAB).astype(np.float32)
    s_mean, s_std = src[where].mean(0), src[where].std(0) + 1e-3
    d_mean, d_std = dst[where].mean(0), dst[where].std(0) + 1e-3
    moved = np.clip((src - s_mean) / s_std * d_std + d_mean, 0, 255).astype(np.uint8)
    return cv2.cvtColor(moved, cv2.COLOR_LAB2RGB).astype(np.float32)


def pair_donors(sizes: Sequence[float], seed: int) -> list[int]:
    """For each photo, the index of another photo to take the face from (a fixed derangement,
    so no face is pasted onto itself)."""
    n = len(sizes)
    if n < 2:
        raise PasteError("a face-paste set needs at least two photos")
    order = np.random.default_rng(seed).permutation(n)
    donor = [0] * n
    for i, index in enumerate(order):
        donor[int(index)] = int(order[(i + 1) % n])
    return donor
