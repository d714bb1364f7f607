"""The one interface every signal implements, and the registry that names them.

A detector reads decoded media (and the face tracks found in it) and returns findings. It never
opens files, prints or decides the verdict: `unmask.verdict` does that from all findings.
A new signal is one new module with one `@register` class; nothing else changes.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar, Literal

import numpy as np

from unmask.media.types import Media
from unmask.result import FaceTrack, Finding

if TYPE_CHECKING:
    from unmask.config import ScanConfig
    from unmask.models import ModelCard

Scope = Literal["file", "face"]


@dataclass
class ScanContext:
    """Everything a detector may read about one file."""

    media: Media
    tracks: list[FaceTrack] = field(default_factory=list)
    crops: dict[tuple[int, int], np.ndarray] = field(default_factory=dict)
    """Face crops for the classifier, keyed by (track_id, frame_index)."""


class Detector(ABC):
    name: ClassVar[str]
    """Registry name; also the `detector` field of every finding it makes."""
    scope: ClassVar[Scope]
    """"file" detectors read the whole file; "face" detectors read face crops."""
    covers: ClassVar[str]
    """One sentence: what this detector can show, and how it was evaluated."""
    card: ModelCard | None = None
    """The model card of a learned detector (calibration, thresholds, limits); None otherwise."""

    @classmethod
    def from_config(cls, config: ScanConfig) -> Detector:
        """Build the detector for a scan. Detectors with a model override this to load it, and
        raise `ModelNotInstalledError` when its file is absent (the scan then skips them)."""
        return cls()

    @abstractmethod
    def analyse(self, context: ScanContext) -> list[Finding]:
        """Return this detector's findings for one file (empty when it has nothing to say)."""

    def face_probability(self, findings: list[Finding]) -> float | None:
        """A face model's file-level calibrated probability from its own findings; None for
        every other detector, and when no face was scored."""
        return None


_REGISTRY: dict[str, type[Detector]] = {}


def register(cls: type[Detector]) -> type[Detector]:
    """Class decorator adding a detector to the registry under `cls.name`."""
    if cls.name in _REGISTRY and _REGISTRY[cls.name] is not cls:
        raise ValueError(f"two detectors are named {cls.name!r}")
    _REGISTRY[cls.name] = cls
    return cls


def detector_names() -> list[str]:
    _load_builtin()
    return sorted(_REGISTRY)


def create_detector(name: str, config: ScanConfig | None = None) -> Detector:
    """The detector `name`, built for `config`. Raises `ValueError` for an unknown name and
    `ModelError` (or its `ModelNotInstalledError`) when its model cannot be loaded."""
    from unmask.config import ScanConfig

    _load_builtin()
    try:
        cls = _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
        raise ValueError(f"unknown detector {name!r}; known detectors: {known}") from None
    return cls.from_config(config or ScanConfig())


def _load_builtin() -> None:
    # Importing the modules runs their @register decorators.
    from unmask.detectors import face_swap, forensics, metadata, provenance, watermark  # noqa: F401
