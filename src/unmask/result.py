"""The one result of scanning one file. Every consumer (CLI, report, server, batch) reads it.

Field names are stable: a change that renames or removes one bumps `SCHEMA_VERSION`'s major
number; adding a field bumps the minor number. The JSON Schema lives in
`unmask/schema/scan-result.schema.json` and a test checks every result against it.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np

SCHEMA_VERSION = "1.2"

Box = tuple[float, float, float, float]
"""x0, y0, x1, y1 in pixels of the frame, origin at the top left."""

Indication = Literal["none", "editing", "ai_generation", "manipulation"]
"""What a finding points to: nothing (context), editing software, an AI generator, a face
manipulation."""
Strength = Literal["info", "weak", "strong"]
"""How much a finding should move a verdict: context only, a weak hint, or strong evidence."""
VerdictLabel = Literal["likely_manipulated", "no_signs_found", "inconclusive"]


def box_size(box: Box) -> float:
    """A face box's size: the geometric mean of its width and height, in pixels (the measure
    the face detector, training's face filter and a model card's `min_face_px` share)."""
    width, height = max(box[2] - box[0], 0.0), max(box[3] - box[1], 0.0)
    return math.sqrt(width * height)


@dataclass
class FaceDetection:
    """One face in one frame."""

    frame_index: int
    time_s: float
    box: Box
    score: float
    """Face-detector confidence (0-1); not a manipulation score."""
    landmarks: list[tuple[float, float]]
    """Five points: left eye, right eye, nose tip, left mouth corner, right mouth corner
    (left/right as seen in the picture)."""


@dataclass
class FaceTrack:
    """The same face followed across the sampled frames of a video (one detection for an image)."""

    track_id: int
    detections: list[FaceDetection]

    @property
    def first_time_s(self) -> float:
        return self.detections[0].time_s

    @property
    def last_time_s(self) -> float:
        return self.detections[-1].time_s


@dataclass
class Finding:
    """One observation by one detector, in words a non-expert can read, with its evidence."""

    detector: str
    """Registry name of the detector that produced it."""
    code: str
    """Stable machine-readable kind, e.g. "ai_generator_metadata", "error_level"."""
    summary: str
    """One plain sentence saying what was found."""
    indicates: Indication = "none"
    strength: Strength = "info"
    score: float | None = None
    """A detector-specific number in [0, 1] where one exists (documented per detector)."""
    evidence: dict[str, Any] = field(default_factory=dict)
    """JSON-serialisable details a professional can check."""
    track_id: int | None = None
    maps: dict[str, np.ndarray] = field(default_factory=dict, repr=False, compare=False)
    """Images for `--maps` (name -> HxW or HxWx3 uint8); not part of the JSON result."""


@dataclass
class FaceModelUse:
    """The face-manipulation model behind a verdict's probability, and its operating point
    (all read from its model card)."""

    name: str
    version: str
    threshold: float
    """Probability at or above which a face is called likely manipulated."""
    inconclusive_band: tuple[float, float]
    """[low, threshold): the probabilities called inconclusive."""
    false_positive_rate: float | None
    """Share of held-out real media the model flagged at `threshold`, as measured for its card."""


@dataclass
class Verdict:
    """The answer, in the honest words of DESIGN.md, with reasons and what was not checked."""

    label: VerdictLabel
    headline: str
    probability: float | None
    """Calibrated probability that a face was manipulated; None while no face model ran."""
    reasons: list[str] = field(default_factory=list)
    checks_run: list[str] = field(default_factory=list)
    not_covered: list[str] = field(default_factory=list)
    face_model: FaceModelUse | None = None
    """The face-manipulation model that ran; None when none is installed (schema 1.1)."""


@dataclass
class MediaSummary:
    kind: Literal["image", "video"]
    format: str
    mime: str
    size_bytes: int
    width: int
    height: int
    duration_s: float | None
    fps: float | None
    frame_count: int | None
    frames_sampled: int
    sample_times_s: list[float]
    warnings: list[str] = field(default_factory=list)


@dataclass
class ScanError:
    """Why a file could not be scanned, and what the user can do about it."""

    code: str
    message: str
    hint: str = ""


@dataclass
class ScanResult:
    path: str
    tool_version: str
    started_at: str
    """UTC, ISO 8601."""
    elapsed_s: float
    sha256: str | None = None
    media: MediaSummary | None = None
    faces: list[FaceTrack] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    verdict: Verdict | None = None
    error: ScanError | None = None
    skipped: str | None = None
    """Why a file met in a folder was not scanned at all, when it is clearly neither a picture
    nor a video (`unmask.inputs.not_media`), e.g. "this is a text file, not a picture or
    video"; such a result has no media, verdict or error (added in 1.2; left out of `to_dict()`
    when None)."""
    schema_version: str = SCHEMA_VERSION
    preview: np.ndarray | None = field(default=None, repr=False, compare=False)
    """The picture that stands for the file (`ScanConfig.keep_preview`): the picture itself, or
    a video's sampled frame where the face model scored highest (else the middle one), at most
    `unmask.scan.PREVIEW_MAX_SIDE` on its long side; not part of the JSON result."""

    @classmethod
    def not_scanned(
        cls, path: str, *, error: ScanError | None = None, skipped: str | None = None
    ) -> ScanResult:
        """The entry of a file that was never scanned: left out (`skipped`), or lost before a
        scan could start or finish (`error`); started now, no time spent."""
        from datetime import UTC, datetime

        from unmask import __version__

        return cls(
            path=path,
            tool_version=__version__,
            started_at=datetime.now(UTC).isoformat(timespec="seconds"),
            elapsed_s=0.0,
            error=error,
            skipped=skipped,
        )

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def flagged(self) -> bool:
        return self.verdict is not None and self.verdict.label == "likely_manipulated"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (maps and the preview are left out; `--maps` writes maps as files).

        `skipped` is there only for a file that was skipped: a scanned file's record has exactly
        the 1.1 fields, so a reader that checks records against the 1.1 schema (which allows no
        other field) still accepts every scanned file."""
        data = asdict(self, dict_factory=_json_dict)
        if data["skipped"] is None:
            del data["skipped"]
        return {"schema_version": data.pop("schema_version"), **data}


def _json_dict(items: list[tuple[str, Any]]) -> dict[str, Any]:
    return {key: _jsonable(value) for key, value in items if key not in ("maps", "preview")}


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float):
        return round(value, 6)
    return value


def json_schema() -> dict[str, Any]:
    """The JSON Schema that every `ScanResult.to_dict()` satisfies."""
    import json
    from importlib.resources import files

    text = files("unmask").joinpath("schema/scan-result.schema.json").read_text("utf-8")
    return dict(json.loads(text))
