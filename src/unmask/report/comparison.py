"""The "Comparison with the original" part of an evidence package: what `unmask.compare` found
when the suspect was laid over the original she named, in the words and pictures a platform or
the police can check.

    comparison = add_comparison(result, path, originals, config, keep_maps=True)
    view = comparison_view(comparison, package_folder, "01", reveal=False)  # writes pictures
    record = comparison_record(comparison, view)                           # evidence.json

The comparison is made once (by `unmask.compare.scan_finding.add_comparison`, which also turns
an `altered` outcome into the scan's strong finding); this module only presents it. Names, never
folders, go into the package: where her files sit on her computer is nobody else's business.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from unmask.compare.evidence import write_evidence
from unmask.compare.faces import describe as describe_region
from unmask.compare.result import OUTCOME_WORDS, Comparison

PICTURE_TITLES = {
    "side_by_side": (
        "Suspect beside the aligned original",
        "Left: the suspect. Right: the original laid onto it (same crop, scale and mirroring). "
        "Changed regions are boxed in yellow.",
    ),
    "heatmap": (
        "Difference heatmap",
        "Where the suspect differs from the aligned original: transparent below half the "
        "calibrated threshold, yellow at it, red at twice it. Changed regions are boxed.",
    ),
    "timeline": (
        "Where each region differs over time",
        "One row per changed region; a red tick marks each sampled frame where it differs.",
    ),
}
"""Title and caption of each evidence picture `unmask.compare.evidence` draws."""


def name_of(path: str | None) -> str:
    """The file name alone (no folders) of a path the comparison recorded."""
    return os.path.basename(path or "") or (path or "")


def write_pictures(comparison: Comparison, folder: Path) -> dict[str, tuple[Path, Path]]:
    """Draw the evidence pictures twice, blurred and sharp, into `folder`/blurred and
    `folder`/sharp (a web page shows the blurred one and fetches the sharp one on "Reveal").
    Returns picture stem -> (blurred file, sharp file). Needs the comparison's maps; frees them
    afterwards, since they hold every decoded frame of both files."""
    if comparison.maps is None:
        return {}
    blurred = write_evidence(comparison, folder / "blurred", reveal=False)
    sharp = write_evidence(comparison, folder / "sharp", reveal=True)
    comparison.maps = None
    comparison.evidence = []
    return {Path(b).stem: (Path(b), Path(s)) for b, s in zip(blurred, sharp, strict=True)}


def comparison_view(
    comparison: Comparison,
    folder: Path,
    prefix: str,
    reveal: bool,
    pictures: dict[str, tuple[Path, Path]] | None = None,
) -> dict[str, Any]:
    """What the report shows of one comparison; puts its pictures into `folder`/pictures.

    `pictures` are ones already drawn (`write_pictures`, as the web app keeps them); without
    them the pictures are drawn here from the comparison's maps, blurred unless `reveal`."""
    written: list[str] = []
    if pictures:
        for stem, (blurred_file, sharp_file) in pictures.items():
            name = f"pictures/{prefix}-compare-{stem}.png"
            shutil.copyfile(sharp_file if reveal else blurred_file, folder / name)
            written.append(name)
    elif comparison.maps is not None:
        drawn = write_evidence(comparison, folder / "pictures" / f"{prefix}-compare", reveal)
        comparison.maps = None
        written = [Path(p).relative_to(folder).as_posix() for p in drawn]
    return {**comparison_facts(comparison), "pictures": [_picture(name) for name in written]}


def comparison_facts(comparison: Comparison) -> dict[str, Any]:
    """A comparison in the words and figures a report or a web page shows (no pictures)."""
    video = comparison.suspect_kind == "video"
    return {
        "outcome": comparison.outcome,
        "outcome_words": OUTCOME_WORDS[comparison.outcome],
        "summary": comparison.summary,
        "suspect": name_of(comparison.suspect),
        "original": name_of(comparison.original),
        "suspect_sha256": comparison.suspect_sha256,
        "original_sha256": comparison.original_sha256,
        "suspect_kind": comparison.suspect_kind,
        "original_kind": comparison.original_kind,
        "candidates": [name_of(c) for c in comparison.candidates],
        "alignment": alignment_rows(comparison),
        "regions": [
            {
                "what": describe_region(region, video, None),
                "kind": region.kind,
                "box": [round(v) for v in region.box],
                "score": region.score,
                "frames": _frame_span(region.frames) if video else "",
                "time_range": (
                    f"{region.time_range_s[0]:.2f}–{region.time_range_s[1]:.2f} s"
                    if region.time_range_s
                    else ""
                ),
            }
            for region in comparison.regions
        ],
        "not_checked": list(comparison.not_checked),
        "thresholds": dict(comparison.thresholds),
    }


def comparison_record(comparison: Comparison, view: dict[str, Any]) -> dict[str, Any]:
    """The comparison for evidence.json: its JSON contract (unmask/schema/
    compare-result.schema.json), with file names instead of paths and the package's own
    picture files as its evidence."""
    record = comparison.to_dict()
    record["suspect"] = view["suspect"]
    record["original"] = view["original"] or None
    record["candidates"] = view["candidates"]
    record["evidence"] = [p["file"] for p in view["pictures"]]
    return record


def comparison_line(comparison: Comparison) -> str:
    """One sentence for a takedown notice: both files and their SHA-256, and what changed."""
    suspect, original = name_of(comparison.suspect), name_of(comparison.original)
    return (
        f"{suspect} (SHA-256 {comparison.suspect_sha256}) was compared with the original "
        f"{original} (SHA-256 {comparison.original_sha256}), laid over it: "
        f"{comparison.summary}"
    )


def alignment_rows(comparison: Comparison) -> list[tuple[str, str]]:
    """The alignment figures a second examiner needs, as (label, value) rows."""
    alignment = comparison.alignment
    if alignment is None:
        return []
    rows = [
        ("Matching points (RANSAC inliers)", str(alignment.inliers)),
        ("Scale (suspect pixels per original pixel)", f"{alignment.scale:.3f}"),
        ("Rotation", f"{alignment.rotation_deg:.1f}°"),
        ("Mirrored", "yes" if alignment.mirrored else "no"),
        ("Share of the suspect the original covers", f"{alignment.overlap * 100:.0f} %"),
        (
            "Map from original to suspect pixels (2×3 affine)",
            "; ".join(", ".join(f"{v:.3f}" for v in row) for row in alignment.matrix),
        ),
    ]
    if alignment.time_offset_s is not None:
        rows.append(("Time offset (original minus suspect)", f"{alignment.time_offset_s:+.2f} s"))
    if comparison.aligned_frames:
        rows.append(("Frames aligned", str(len(comparison.aligned_frames))))
    return rows


def _frame_span(frames: list[int]) -> str:
    if not frames:
        return ""
    if len(frames) == 1:
        return f"frame {frames[0]}"
    return f"frames {frames[0]}–{frames[-1]} ({len(frames)} sampled)"


def picture_title(stem: str) -> tuple[str, str]:
    """Title and caption of an evidence picture from its file stem (e.g. "heatmap_frame12")."""
    key = next((k for k in PICTURE_TITLES if stem.startswith(k)), "")
    title, caption = PICTURE_TITLES.get(key, ("Comparison", ""))
    frame = stem.rsplit("_frame", 1)[1] if "_frame" in stem else ""
    if frame:
        title += f", suspect frame {frame}"
    return title, caption


def _picture(name: str) -> dict[str, str]:
    title, caption = picture_title(Path(name).stem.split("-compare-")[-1])
    return {"file": name, "title": title, "caption": caption}


def strip_folders(findings: list[Any]) -> None:
    """Keep only file names in the compare finding's evidence (its suspect, original and
    candidates), so the scan record in a package names no folder of her computer."""
    for finding in findings:
        if finding.detector != "compare":
            continue
        evidence = finding.evidence
        for key in ("suspect", "original"):
            if evidence.get(key):
                evidence[key] = name_of(evidence[key])
        evidence["candidates"] = [name_of(c) for c in evidence.get("candidates") or []]
        evidence["evidence"] = []
