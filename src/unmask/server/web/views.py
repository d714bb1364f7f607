"""What a result page shows, prepared from a `ScanResult` in the words `unmask scan` uses."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from unmask.result import Finding, ScanResult
from unmask.server.web.uploads import describe_size

STRENGTH_ORDER = {"strong": 0, "weak": 1, "info": 2}
STRENGTH_WORDS = {"strong": "strong evidence", "weak": "weak hint", "info": "context"}
PANELS = (
    ("forensics", "Forensic views", ("forensics",)),
    ("metadata", "Metadata", ("metadata",)),
    ("provenance", "Provenance and watermarks", ("provenance", "watermark")),
)
"""(anchor, heading, detectors): the panels of a result page; other findings go to "Other"."""
HIDDEN_EVIDENCE = {"heatmap", "frames"}
"""Evidence too long for a table; the heatmap and timeline are drawn instead."""
MAX_VALUE_CHARS = 300


@dataclass
class FaceView:
    track_id: int
    where: str
    probability_line: str = ""
    strength: str = ""
    summary: str = ""
    frames: list[tuple[float, float]] = field(default_factory=list)


@dataclass
class FindingView:
    detector: str
    code: str
    summary: str
    strength: str
    strength_words: str
    evidence: list[tuple[str, str]]


@dataclass
class Panel:
    anchor: str
    heading: str
    findings: list[FindingView]


def verdict_class(result: ScanResult) -> str:
    if result.verdict is None:
        return "error"
    return result.verdict.label.replace("_", "-")


def media_line(result: ScanResult) -> str:
    media = result.media
    if media is None:
        return ""
    line = f"{media.kind}, {media.format}, {media.width}×{media.height}, "
    line += describe_size(media.size_bytes)
    if media.kind == "video":
        line += f", {media.duration_s or 0:.1f} s, {media.frames_sampled} frames sampled"
    return line


def faces(result: ScanResult) -> list[FaceView]:
    """One entry a face track: where it is and, when the face model ran, its probability."""
    media = result.media
    if media is None:
        return []
    scored = {
        f.track_id: f
        for f in result.findings
        if f.code == "face_manipulation" and f.track_id is not None
    }
    views = []
    for track in result.faces:
        best = max(track.detections, key=lambda d: d.score)
        x0, y0, x1, y1 = (round(v) for v in best.box)
        where = f"{x1 - x0}×{y1 - y0} px at ({x0}, {y0}), face-detector confidence {best.score:.2f}"
        if media.kind == "video":
            where += (
                f"; seen in {len(track.detections)} of {media.frames_sampled} sampled frames "
                f"({track.first_time_s:.1f}–{track.last_time_s:.1f} s)"
            )
        view = FaceView(track.track_id, where)
        finding = scored.get(track.track_id)
        if finding is not None:
            view.probability_line, view.strength = _probability_line(finding)
            view.summary = finding.summary
            view.frames = [
                (float(f["time_s"]), float(f["probability"]))
                for f in finding.evidence.get("frames") or []
            ]
        views.append(view)
    return views


def panels(result: ScanResult) -> list[Panel]:
    """Findings grouped for reading: forensic, metadata, provenance, then everything else."""
    out: list[Panel] = []
    used: set[int] = set()
    for anchor, heading, detectors in PANELS:
        chosen = [f for f in result.findings if f.detector in detectors]
        used.update(id(f) for f in chosen)
        out.append(Panel(anchor, heading, [_finding_view(f) for f in _sorted(chosen)]))
    rest = [f for f in result.findings if id(f) not in used and f.code != "face_manipulation"]
    if rest:
        out.append(Panel("other", "Other findings", [_finding_view(f) for f in _sorted(rest)]))
    return out


def _sorted(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: STRENGTH_ORDER[f.strength])


def _finding_view(finding: Finding) -> FindingView:
    rows = [
        (key.replace("_", " "), _shown(value))
        for key, value in finding.evidence.items()
        if key not in HIDDEN_EVIDENCE and value not in (None, "", [], {})
    ]
    return FindingView(
        finding.detector,
        finding.code,
        finding.summary,
        finding.strength,
        STRENGTH_WORDS[finding.strength],
        rows,
    )


def _shown(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 1] + "…"


def _probability_line(finding: Finding) -> tuple[str, str]:
    """The sentence `unmask scan` prints under a scored face, and its strength."""
    low, threshold = finding.evidence.get("inconclusive_band", [0.0, 0.0])
    probability = finding.score or 0.0
    where = {
        "strong": "likely manipulated",
        "weak": "inconclusive",
        "info": "no signs found",
    }[finding.strength]
    return (
        f"Manipulation probability {probability:.2f}: {where} (the model's thresholds: "
        f"inconclusive from {low:.2f}, likely manipulated from {threshold:.2f}).",
        finding.strength,
    )
