"""The one configuration object of a scan. The CLI, server and batch jobs all build this."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from unmask.media.limits import Limits

# Published pipelines crop faces with 12.5 % (FaceForensics++ uses a 1.3x box, i.e. 15 %
# per side) to 30 % margin per side; SBI (Shiohara & Yamasaki 2022) enlarges the landmark box
# by 4-20 % at random in training. 20 % keeps the jaw line and hair boundary, where blending
# seams show, inside the crop.
DEFAULT_FACE_MARGIN = 0.2
DEFAULT_CROP_SIZE = 224


@dataclass(frozen=True)
class ScanConfig:
    limits: Limits = field(default_factory=Limits)
    frames: int | None = None
    """Frames sampled evenly from a video (None: the default, 32)."""
    fps: float | None = None
    """Sample this many frames per second instead of a fixed count."""
    exact_times: bool = False
    """Decode each of `frames` samples at its exact, evenly spaced time. False (the default):
    at or next to a keyframe, for far less decoding (see `unmask.media.sampling`). `fps`
    sampling always uses exact times."""
    detectors: tuple[str, ...] | None = None
    """Detector names to run (None: all registered)."""
    face_margin: float = DEFAULT_FACE_MARGIN
    crop_size: int = DEFAULT_CROP_SIZE
    keep_maps: bool = False
    """Keep detectors' maps (ELA, noise, heatmaps) in findings, for --maps."""
    ela_quality: int = 90
    """JPEG quality at which error level analysis re-saves a picture (`--ela-quality`); the
    forensics detector's ELA_QUALITY."""
    keep_preview: bool = False
    """Keep the picture that stands for the file in `ScanResult.preview` (for a report or a
    result page), taken from the scan's own decoded frames so the file is not decoded again."""
    face_swap_model: Path | None = None
    """Your own face-manipulation checkpoint (an .onnx file with its .json card beside it)
    instead of the shipped one; the environment variable UNMASK_FACE_SWAP_MODEL does the same."""
