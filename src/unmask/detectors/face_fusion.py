"""The logistic fusion of a face's consistency cues, as the scan runs it: plain arrays, no model
runtime.

The weights are fitted at training time (`unmask.train.fusion`, scikit-learn) and stored in a
JSON card; here a face's cue vector (`unmask.detectors.face_cues.CUE_NAMES`) is turned into the
fusion's features, standardised with the card's mean and scale, weighted, and made a
probability with the card's temperature. Keeping the run-time side to a dot product means a
scan needs neither scikit-learn nor ONNX for it, and the card alone says what the check does.

Features. A cue itself ("noise_vs_ring": the sign says which way the face differs from its
ring) or its deviation from what real faces show ("deviation:noise_vs_ring" = |cue - centre|,
centre = the median over real training faces): a face pasted from another photo can carry
more or less noise than its new frame, so only the size of the difference points one way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from unmask.detectors.face_cues import CUE_NAMES

DEVIATION = "deviation:"


class FusionCardError(ValueError):
    """The fusion part of a card is missing or inconsistent."""


def feature_index(feature: str) -> tuple[int, bool]:
    """(index into CUE_NAMES, whether it is a deviation) of a feature name."""
    deviation = feature.startswith(DEVIATION)
    name = feature[len(DEVIATION) :] if deviation else feature
    if name not in CUE_NAMES:
        raise FusionCardError(f"unknown cue {name!r}; known cues: {', '.join(CUE_NAMES)}")
    return CUE_NAMES.index(name), deviation


@dataclass(frozen=True)
class CueFusion:
    """Logistic regression: logit = coef . (features(x) - mean) / scale + intercept."""

    features: tuple[str, ...]
    centre: np.ndarray
    """Median of each cue (all of CUE_NAMES) over real training faces."""
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    temperature: float = 1.0

    def __post_init__(self) -> None:
        for feature in self.features:
            feature_index(feature)
        arrays = (self.mean, self.scale, self.coef)
        if any(np.shape(a) != (len(self.features),) for a in arrays) or np.shape(self.centre) != (
            len(CUE_NAMES),
        ):
            raise FusionCardError(
                "mean, scale and coef must each hold one number per feature, centre one per cue"
            )
        if not all(np.isfinite(a).all() for a in (*arrays, self.centre)):
            raise FusionCardError("fusion weights must be finite numbers")
        if (np.asarray(self.scale) <= 0).any() or self.temperature <= 0:
            raise FusionCardError("scale and temperature must be positive")

    @classmethod
    def from_dict(cls, data: Any) -> CueFusion:
        try:
            if list(data["cue_names"]) != list(CUE_NAMES):
                raise FusionCardError(
                    "the card was fitted on other cues than this version measures; refit it"
                )
            return cls(
                features=tuple(str(f) for f in data["features"]),
                centre=np.asarray(data["centre"], dtype=np.float64),
                mean=np.asarray(data["mean"], dtype=np.float64),
                scale=np.asarray(data["scale"], dtype=np.float64),
                coef=np.asarray(data["coef"], dtype=np.float64),
                intercept=float(data["intercept"]),
                temperature=float(data.get("temperature", 1.0)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, FusionCardError):
                raise
            raise FusionCardError(f"fusion weights are incomplete ({exc})") from exc

    def to_dict(self) -> dict[str, Any]:
        def numbers(values: np.ndarray) -> list[float]:
            return [round(float(v), 6) for v in values]

        return {
            "cue_names": list(CUE_NAMES),
            "features": list(self.features),
            "centre": numbers(self.centre),
            "mean": numbers(self.mean),
            "scale": numbers(self.scale),
            "coef": numbers(self.coef),
            "intercept": round(self.intercept, 6),
            "temperature": round(self.temperature, 6),
        }

    def design(self, cues: np.ndarray) -> np.ndarray:
        """The (N, len(features)) feature matrix of (N, len(CUE_NAMES)) cue vectors."""
        return design(np.atleast_2d(np.asarray(cues, dtype=np.float64)), self.features, self.centre)

    def logits(self, cues: np.ndarray) -> np.ndarray:
        return (self.design(cues) - self.mean) / self.scale @ self.coef + self.intercept

    def probabilities(self, cues: np.ndarray) -> np.ndarray:
        scaled = np.clip(self.logits(cues) / self.temperature, -60, 60)
        return 1.0 / (1.0 + np.exp(-scaled))


def design(cues: np.ndarray, features: tuple[str, ...], centre: np.ndarray) -> np.ndarray:
    columns = []
    for feature in features:
        index, deviation = feature_index(feature)
        column = cues[:, index]
        columns.append(np.abs(column - centre[index]) if deviation else column)
    return np.stack(columns, axis=1)
