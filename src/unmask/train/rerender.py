"""Swapper-like pseudo-fakes for the cue fusion: a face redrawn from its own frame.

A modern swapper renders a new inner face at low resolution (inswapper 128 px, DeepFaceLive
224-320 px), often smooths or restores it, matches its colour and pastes it back with a soft
mask; the video is then re-encoded. This imitates the parts that leave within-frame traces,
from the face's own pixels (so the pair differs only by the redraw, as GenD, WACV 2026, asks of
training pairs):

- the inner face is downscaled to `RENDER_SIDE` pixels across the face box and back up
  (the renderer's resolution), then optionally smoothed with a bilateral filter (restoration);
- its brightness and colour are shifted slightly (imperfect colour matching);
- it is pasted back through a feathered ellipse from the five landmarks;
- the frame is JPEG re-encoded at `RESAVE_QUALITY`, on its own 8 x 8 grid.

It never uses another person's face, Poisson cloning or a separate JPEG history for the face:
those are the face-paste evaluation set's procedure (`unmask.train.face_paste`), kept apart so
the fusion is never scored on its own recipe.
"""

from __future__ import annotations

import cv2
import numpy as np

from unmask.train.face_paste import jpeg_round_trip

RENDER_SIDE = (64, 160)
"""Side of the face box at which the face is redrawn, pixels (swappers: 128-320 px crops of
which the face box is about half)."""
SMOOTH_PROBABILITY = 0.5
BILATERAL = (5, 30.0, 5.0)
"""cv2.bilateralFilter diameter, colour sigma, space sigma: skin smoothing as a restoration
network leaves it, mild enough to keep eyes and mouth."""
COLOUR_SHIFT = 6.0
"""Largest shift of each Lab channel, in Lab units."""
MASK_AXES = (1.05, 1.25)
"""Mask semi-axes in eye distances and eye-to-mouth distances: a swapper's face region."""
FEATHER = 0.08
RESAVE_QUALITY = (70, 95)


def training_pair(
    rgb: np.ndarray, box: tuple[float, float, float, float], landmarks: np.ndarray, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """(unaltered, redrawn): the frame and its face redrawn as a swapper would (see the module
    docstring), both re-saved at the same JPEG quality, so the last save tells them nothing."""
    rng = np.random.default_rng(seed)
    quality = int(rng.integers(RESAVE_QUALITY[0], RESAVE_QUALITY[1] + 1))
    fake = rerender(rgb, box, landmarks, rng)
    return jpeg_round_trip(rgb, quality), jpeg_round_trip(fake, quality)


def rerender(
    rgb: np.ndarray,
    box: tuple[float, float, float, float],
    landmarks: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """`rgb` (uint8) with its face redrawn and pasted back (not re-saved)."""
    h, w = rgb.shape[:2]
    x0, y0, x1, y1 = box
    side = max(x1 - x0, y1 - y0, 1.0)
    render = float(rng.uniform(*RENDER_SIDE))
    scale = min(1.0, render / side)
    small = cv2.resize(
        rgb, (max(8, round(w * scale)), max(8, round(h * scale))), interpolation=cv2.INTER_AREA
    )
    redrawn = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
    if rng.random() < SMOOTH_PROBABILITY:
        redrawn = cv2.bilateralFilter(redrawn, *BILATERAL)  # type: ignore[call-overload]
    lab = cv2.cvtColor(redrawn, cv2.COLOR_RGB2LAB).astype(np.float32)
    lab += rng.uniform(-COLOUR_SHIFT, COLOUR_SHIFT, 3).astype(np.float32)
    redrawn = cv2.cvtColor(np.clip(lab, 0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB)

    marks = np.asarray(landmarks, dtype=np.float64).reshape(5, 2)
    eyes, mouth = (marks[0] + marks[1]) / 2, (marks[3] + marks[4]) / 2
    centre = (eyes + mouth) / 2
    axes = (
        max(1, round(MASK_AXES[0] * float(np.linalg.norm(marks[1] - marks[0])))),
        max(1, round(MASK_AXES[1] * float(np.linalg.norm(mouth - eyes)))),
    )
    angle = float(np.degrees(np.arctan2(marks[1, 1] - marks[0, 1], marks[1, 0] - marks[0, 0])))
    mask = np.zeros((h, w), dtype=np.float32)
    cv2.ellipse(mask, (round(centre[0]), round(centre[1])), axes, angle, 0, 360, 1.0, -1)
    alpha = cv2.GaussianBlur(mask, (0, 0), FEATHER * side)[..., None]
    out = alpha * redrawn.astype(np.float32) + (1 - alpha) * rgb.astype(np.float32)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)
