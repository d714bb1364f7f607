"""Fit the cue fusion and choose its operating point (training time; needs scikit-learn).

Data: pairs from our own real photos and training-video frames, each with its swapper-like
redraw (`unmask.train.rerender`); thresholds: held-out real photos and real videos only, so
that the false-positive limits are met on real people (a flagged real person is the worst error
this tool can make, issue 13). Fakes are never used to place the threshold.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from unmask.detectors.face_cues import FaceCueError, face_cues
from unmask.detectors.face_fusion import CueFusion, design
from unmask.errors import UnmaskError
from unmask.faces import FaceDetector
from unmask.media import open_media
from unmask.train.data import largest_face
from unmask.train.rerender import training_pair

REGULARISATION_C = 0.1
"""Inverse L2 strength of the logistic regression: strong, because the redraws are our own
recipe and a fusion that leans hard on one cue of it will not transfer."""


def training_cues(
    paths: list[Path], detector: FaceDetector, frames_per_video: int, seed: int
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(unaltered cues, redrawn cues) for the largest face of each photo or sampled frame."""
    index = 0
    for path in paths:
        try:
            media = open_media(path, n_frames=frames_per_video)
        except UnmaskError:
            continue
        for frame in media.frames:
            face = largest_face(detector, frame.rgb)
            if face is None:
                continue
            index += 1
            real, fake = training_pair(frame.rgb, face.box, face.landmarks, seed + index)
            try:
                yield (
                    face_cues(real, face.box, face.landmarks),
                    face_cues(fake, face.box, face.landmarks),
                )
            except FaceCueError:
                continue


def fit_fusion(real: np.ndarray, fake: np.ndarray, features: tuple[str, ...]) -> CueFusion:
    """Logistic regression (balanced classes) over `features` of the cue vectors (see
    `unmask.detectors.face_fusion`), standardised; deviations are measured from the median of
    the real faces."""
    from sklearn.linear_model import LogisticRegression

    centre = np.median(real, axis=0)
    x = design(np.concatenate([real, fake]), features, centre)
    y = np.concatenate([np.zeros(len(real)), np.ones(len(fake))])
    mean, scale = x.mean(0), x.std(0) + 1e-9
    model = LogisticRegression(C=REGULARISATION_C, class_weight="balanced", max_iter=1000)
    model.fit((x - mean) / scale, y)
    return CueFusion(
        features=features,
        centre=centre,
        mean=mean,
        scale=scale,
        coef=model.coef_[0].astype(np.float64),
        intercept=float(model.intercept_[0]),
    )


def operating_point(
    real_photos: np.ndarray,
    real_videos: np.ndarray,
    max_photo_fpr: float,
    max_video_fpr: float,
    band_fpr: float,
) -> tuple[float, float]:
    """(low, threshold) from held-out real scores only.

    The threshold is the lowest score at which at most `max_photo_fpr` of the photos and
    `max_video_fpr` of the videos reach it, here taken at half those rates to leave room for
    the sampling error of ~100 photos and ~25 videos; `low` is where `band_fpr` of them would
    reach it, so the scores between are answered "inconclusive"."""

    def at(scores: np.ndarray, rate: float) -> float:
        return float(np.quantile(scores, 1 - rate, method="higher")) if len(scores) else 0.0

    threshold = max(at(real_photos, max_photo_fpr / 2), at(real_videos, max_video_fpr / 2))
    threshold = float(np.nextafter(threshold, 1.0))  # strictly above the quantile's own score
    low = min(threshold, max(at(real_photos, band_fpr), at(real_videos, band_fpr)))
    return low, threshold
