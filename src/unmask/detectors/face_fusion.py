"""The logistic fusion of a face's consistency cues, as the scan runs it: plain arrays, no model
runtime.

The weights are fitted at training time (`unmask.train.fusion`, scikit-learn) and stored in a
JSON card; here a face's cue vector (`unmask.detectors.face_cues.CUE_NAMES`) is standardised
with the card's mean and scale, weighted, and turned into a probability with the card's
temperature. Keeping the run-time side to a dot product means a scan needs neither
scikit-learn nor ONNX for it, and the card alone says everything the check does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


class FusionCardError(ValueError):
    """The fusion part of a card is missing or inconsistent."""


@dataclass(frozen=True)
class CueFusion:
    """Logistic regression over standardised cues: logit = coef . (x - mean) / scale + intercept."""

    cues: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    temperature: float = 1.0

    @classmethod
    def from_dict(cls, data: Any) -> CueFusion:
        try:
            cues = tuple(str(c) for c in data["cues"])
            arrays = [np.asarray(data[k], dtype=np.float64) for k in ("mean", "scale", "coef")]
            intercept, temperature = float(data["intercept"]), float(data.get("temperature", 1))
        except (KeyError, TypeError, ValueError) as exc:
            raise FusionCardError(f"fusion weights are incomplete ({exc})") from exc
        if any(a.shape != (len(cues),) for a in arrays) or not all(
            np.isfinite(a).all() for a in arrays
        ):
            raise FusionCardError("mean, scale and coef must each hold one number per cue")
        if (arrays[1] <= 0).any() or temperature <= 0:
            raise FusionCardError("scale and temperature must be positive")
        return cls(cues, arrays[0], arrays[1], arrays[2], intercept, temperature)

    def to_dict(self) -> dict[str, Any]:
        return {
            "cues": list(self.cues),
            "mean": [round(float(v), 6) for v in self.mean],
            "scale": [round(float(v), 6) for v in self.scale],
            "coef": [round(float(v), 6) for v in self.coef],
            "intercept": round(self.intercept, 6),
            "temperature": round(self.temperature, 6),
        }

    def logits(self, cues: np.ndarray) -> np.ndarray:
        """Raw logits for an (N, len(cues)) array of cue vectors."""
        x = (np.atleast_2d(np.asarray(cues, dtype=np.float64)) - self.mean) / self.scale
        return x @ self.coef + self.intercept

    def probabilities(self, cues: np.ndarray) -> np.ndarray:
        scaled = np.clip(self.logits(cues) / self.temperature, -60, 60)
        return 1.0 / (1.0 + np.exp(-scaled))
