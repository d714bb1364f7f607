"""What a comparison with the original says: one of three outcomes, the changed regions, and
the alignment figures a second examiner needs to check it.

Field names are stable: renaming or removing one bumps `SCHEMA_VERSION`'s major number, adding
one its minor number. The JSON Schema is `unmask/schema/compare-result.schema.json`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from unmask.result import Box

SCHEMA_VERSION = "1.0"

Outcome = Literal["altered", "same_content", "no_common_source"]
RegionKind = Literal["face", "other"]

OUTCOME_WORDS: dict[str, str] = {
    "altered": "altered: the suspect shows the original's scene, and a region of it differs "
    "beyond what re-encoding, resizing, cropping or colour changes explain",
    "same_content": "same content: every aligned part of the suspect matches the original "
    "within what re-encoding, resizing, cropping, mirroring or colour changes explain",
    "no_common_source": "no common source: the two files do not show the same photo or "
    "footage, so nothing about alteration can be said from this pair",
}
"""The three outcomes in plain words (the CLI help and the reports use these)."""


@dataclass
class ChangedRegion:
    """One place where the suspect differs from the aligned original."""

    kind: RegionKind
    """"face" when it covers a face found in the suspect, else "other"."""
    box: Box
    """x0, y0, x1, y1 in suspect pixels (for video: the union over the frames listed)."""
    score: float
    """How far beyond the calibrated compression threshold it lies: its peak difference
    divided by the threshold (1.0 = at the threshold)."""
    track_id: int | None = None
    """The suspect's face track (unmask faces numbering) for a face region."""
    frames: list[int] = field(default_factory=list)
    """Suspect frame numbers (video) where this region differs; [0] for a still."""
    time_range_s: tuple[float, float] | None = None
    """First and last suspect time (s) where it differs; None for a still."""
    face_in_original: bool | None = None
    """For a face region: whether the original shows a face at the same place (True: the face
    was replaced or retouched; False: it was added). None where it was not checked."""


@dataclass
class AlignedFrame:
    """One suspect frame and the original frame it was matched to."""

    suspect_frame: int
    suspect_time_s: float
    original_frame: int
    original_time_s: float
    changed_share: float
    """Share of the overlapping area that differs beyond the threshold."""


@dataclass
class Alignment:
    """How the original was laid onto the suspect (figures for the report)."""

    matrix: list[list[float]]
    """2x3 affine map from original pixels to suspect pixels (mirroring included)."""
    mirrored: bool
    scale: float
    """Suspect pixels per original pixel."""
    rotation_deg: float
    inliers: int
    """Feature matches consistent with the map (RANSAC inliers)."""
    overlap: float
    """Share of the suspect's area that the original covers."""
    time_offset_s: float | None = None
    """Original time minus suspect time, for video pairs."""


@dataclass
class Comparison:
    """The answer to "what was changed in SUSPECT, compared with ORIGINAL?"."""

    suspect: str
    original: str | None
    """The original it matched (the best candidate when none matched)."""
    outcome: Outcome
    summary: str
    """One plain sentence for the person reading it."""
    suspect_sha256: str | None = None
    original_sha256: str | None = None
    suspect_kind: str | None = None
    original_kind: str | None = None
    regions: list[ChangedRegion] = field(default_factory=list)
    aligned_frames: list[AlignedFrame] = field(default_factory=list)
    alignment: Alignment | None = None
    candidates: list[str] = field(default_factory=list)
    """Every original tried, best first."""
    evidence: list[str] = field(default_factory=list)
    """Files written with --diff."""
    not_checked: list[str] = field(default_factory=list)
    """What this comparison could not see (frames that did not align, areas outside the
    overlap, ...)."""
    thresholds: dict[str, float] = field(default_factory=dict)
    """The calibrated thresholds used (see unmask.compare.change)."""
    elapsed_s: float = 0.0
    schema_version: str = SCHEMA_VERSION
    maps: Any = field(default=None, repr=False, compare=False)
    """`unmask.compare.engine.ComparisonMaps` when asked for (pictures for the evidence);
    never part of the JSON."""

    def to_dict(self) -> dict[str, Any]:
        maps, self.maps = self.maps, None
        try:
            data = asdict(self, dict_factory=_json_dict)
        finally:
            self.maps = maps
        data.pop("maps", None)
        return {"schema_version": data.pop("schema_version"), **data}


def _json_dict(items: list[tuple[str, Any]]) -> dict[str, Any]:
    return {key: _jsonable(value) for key, value in items}


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, float):
        return round(value, 4)
    if hasattr(value, "item"):
        return value.item()
    return value


def json_schema() -> dict[str, Any]:
    """The JSON Schema that every `Comparison.to_dict()` satisfies."""
    import json
    from importlib.resources import files

    text = files("unmask").joinpath("schema/compare-result.schema.json").read_text("utf-8")
    return dict(json.loads(text))
