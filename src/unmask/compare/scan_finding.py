"""`unmask scan --original FILE`: the comparison with the original as a finding of the scan.

An alteration shown against the original is the strongest evidence unmask can give, stronger
than any blind detector, so `altered` becomes a *strong* manipulation finding, which the verdict
(`unmask.verdict.decide`) turns into "likely manipulated" with the comparison as its reason.
`same_content` and `no_common_source` are context only ("info"): matching the original never
makes a verdict more reassuring, and a wrong original says nothing either way.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from unmask.compare.engine import compare_files
from unmask.compare.result import Comparison
from unmask.errors import UnmaskError
from unmask.result import Finding, ScanResult
from unmask.verdict import decide

if TYPE_CHECKING:
    from unmask.config import ScanConfig
    from unmask.models import ModelCard

DETECTOR = "compare"
CHECK = (
    "compare: aligned with the original you named and compared region by region (thresholds "
    "calibrated on re-encoded, resized, cropped and mirrored copies: scripts/calibrate_compare.py)"
)


def comparison_finding(comparison: Comparison) -> Finding:
    """The finding that stands for a comparison in a scan result."""
    evidence = comparison.to_dict()
    face = next((r for r in comparison.regions if r.kind == "face"), None)
    if comparison.outcome == "altered":
        return Finding(
            detector=DETECTOR,
            code="differs_from_original",
            summary=comparison.summary,
            indicates="manipulation",
            strength="strong",
            evidence=evidence,
            track_id=face.track_id if face is not None else None,
        )
    code = "matches_original" if comparison.outcome == "same_content" else "not_from_original"
    return Finding(detector=DETECTOR, code=code, summary=comparison.summary, evidence=evidence)


def add_comparison(
    result: ScanResult,
    path: str | Path,
    original: str | Path | Sequence[str | Path],
    config: ScanConfig,
    *,
    keep_maps: bool = False,
) -> Comparison | None:
    """Compare the scanned file with `original` (or with each of several, keeping the one it
    matches), add the finding and decide the verdict again (with the same face model and
    sampling as the scan). The scan's face tracks are reused, so face numbers agree. An
    unreadable original becomes a warning, not an error of the scanned file. Returns the
    comparison (with its maps when `keep_maps`, for `unmask.compare.evidence`), or None when
    there was none."""
    if not result.ok or result.verdict is None:
        return None
    originals = [original] if isinstance(original, str | Path) else list(original)
    try:
        comparison = compare_files(
            path,
            originals,
            limits=config.limits,
            frames=config.frames,
            tracks=result.faces,
            keep_maps=keep_maps,
        )
    except UnmaskError as exc:
        if result.media is not None:
            result.media.warnings.append(f"the original could not be compared: {exc.message}")
        return None
    comparison.suspect = result.path
    finding = comparison_finding(comparison)
    result.findings.append(finding)
    verdict = result.verdict
    result.verdict = decide(
        result.findings,
        result.faces,
        [*verdict.checks_run, CHECK],
        face_probability=verdict.probability,
        face_model=_face_card(config) if verdict.face_model is not None else None,
    )
    return comparison


def _face_card(config: ScanConfig) -> ModelCard | None:
    """The card of the face model the scan used (read again: the scan ran in its worker)."""
    from unmask.detectors.face_swap import MODEL_NAME
    from unmask.models import load_card

    try:
        return load_card(MODEL_NAME, config.face_swap_model)
    except UnmaskError:
        return None
