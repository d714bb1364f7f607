"""How results are shown and written: a readable view, JSON, JSON Lines, map images."""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Collection
from pathlib import Path
from typing import IO, Any

import numpy as np
from PIL import Image
from rich.console import Console
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from unmask import __version__
from unmask.result import SCHEMA_VERSION, Finding, ScanResult, Verdict
from unmask.terminal import file_name_part, printable

VERDICT_STYLE = {
    "likely_manipulated": "bold red",
    "inconclusive": "yellow",
    "no_signs_found": "green",
}
STRENGTH_STYLE = {"strong": "bold red", "weak": "yellow", "info": "dim"}
SPARK_BARS = "▁▂▃▄▅▆▇█"
SPARK_WIDTH = 64
"""Most characters in a timeline; longer timelines show the highest value of each stretch."""

MAP_FILE_NAMES = {
    "ela": "error-level",
    "noise": "noise-level-by-block",
    "noise_residual": "noise-residual-amplified",
    "copy_move": "copied-regions",
    "exif_thumbnail_difference": "exif-preview-difference",
}
"""File-name parts for `--maps`, so that the two noise maps are told apart by name: the noise
level estimated per block, and the filtered residual itself."""


def json_document(results: list[dict[str, Any]]) -> str:
    document = {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "unmask", "version": __version__},
    }
    document["results"] = results
    return json.dumps(document, indent=2, ensure_ascii=False)


def write_jsonl(stream: IO[str], result: ScanResult) -> None:
    stream.write(json.dumps(result.to_dict(), ensure_ascii=False) + "\n")
    stream.flush()


def write_maps(result: ScanResult, folder: Path, picture: np.ndarray | None = None) -> list[Path]:
    """Write every map of every finding as a PNG named after the file, the detector and what
    the map shows. Forensic maps get a legend and scale under them (`unmask.map_views`); with
    `picture` (the scanned picture), each grey forensic map is also written blended over it
    (`...-overlay.png`)."""
    from unmask.map_views import legend_for, overlay, with_legend

    folder.mkdir(parents=True, exist_ok=True)
    stem = file_name_part(Path(result.path).stem, "input")
    tag = (result.sha256 or "")[:8]
    written = []
    for finding in result.findings:
        for name, array in finding.maps.items():
            shown = MAP_FILE_NAMES.get(name, name)
            target = folder / f"{stem}-{tag}-{finding.detector}-{shown}.png"
            grey = np.asarray(array, dtype=np.uint8)
            legend = legend_for(name, finding)
            if legend is None:  # face heatmaps: already overlays, captioned where shown
                Image.fromarray(grey).save(target)
                written.append(target)
                continue
            with_legend(grey, legend).save(target)
            written.append(target)
            if picture is not None and grey.ndim == 2:
                blended = target.with_name(target.stem + "-overlay.png")
                with_legend(overlay(picture, grey), legend, heat=True).save(blended)
                written.append(blended)
    return written


def print_details(console: Console, result: ScanResult) -> None:
    """The full readable view of one result; wrapped lines keep their indent."""

    def say(indent: int, *parts: str | Text) -> None:
        console.print(Padding(Text.assemble(*parts), (0, 0, 0, indent), expand=False))

    console.print(Text(printable(result.path), style="bold"))
    if result.error:
        say(2, Text(f"could not be scanned: {printable(result.error.message)}", style="red"))
        if result.error.hint:
            say(2, Text(f"what to do: {printable(result.error.hint)}"))
        return
    media = result.media
    assert media is not None and result.verdict is not None
    line = f"{media.kind}, {media.format}, {media.width}x{media.height}, {_size(media.size_bytes)}"
    if media.kind == "video":
        line += f", {media.duration_s or 0:.1f} s, {media.frames_sampled} frames sampled"
    say(2, line)
    verdict = result.verdict
    say(
        2,
        Text("Verdict: ", style="bold"),
        Text(printable(verdict.headline), VERDICT_STYLE[verdict.label]),
    )
    say(2, f"Faces: {len(result.faces)}")
    face_scores = {
        f.track_id: f
        for f in result.findings
        if f.code == "face_manipulation" and f.track_id is not None
    }
    for track in result.faces:
        best = max(track.detections, key=lambda d: d.score)
        x0, y0, x1, y1 = (round(v) for v in best.box)
        where = (
            f"box ({x0}, {y0})-({x1}, {y1}), {x1 - x0}x{y1 - y0} px, confidence {best.score:.2f}"
        )
        if media.kind == "video":
            where += (
                f", seen in {len(track.detections)} of {media.frames_sampled} frames "
                f"({track.first_time_s:.1f}-{track.last_time_s:.1f} s)"
            )
        say(4, f"face {track.track_id}: {where}")
        scored = face_scores.get(track.track_id)
        if scored is not None:
            _say_face_probability(say, scored, media.kind == "video")
    if result.findings:
        say(2, "Findings:")
    order = {"strong": 0, "weak": 1, "info": 2}
    for finding in sorted(result.findings, key=lambda f: order[f.strength]):
        say(
            4,
            Text(f"[{finding.strength}] ", STRENGTH_STYLE[finding.strength]),
            Text(f"{finding.detector}/{finding.code}: ", "bold"),
            Text(printable(finding.summary)),
        )
    for warning in media.warnings:
        say(2, Text(f"warning: {printable(warning)}", style="yellow"))
    say(2, "Not covered by this scan:")
    for item in verdict.not_covered:
        say(4, f"- {item}")


def print_table(
    console: Console, results: list[ScanResult], not_checked: Collection[str] = ()
) -> None:
    """One row a file, for batches; paths are shown relative to the folder they share. The
    files named in `not_checked` (kinds unmask cannot read, met in a folder) say so, in yellow,
    where other files that could not be read say "error", in red."""
    paths = [r.path for r in results]
    try:
        common = os.path.commonpath(paths) if len(paths) > 1 else ""
    except ValueError:  # absolute and relative paths mixed
        common = ""
    if common and all(p != common for p in paths):
        console.print(Text(f"in {printable(common.rstrip(os.sep))}{os.sep}"))
    else:
        common = ""
    table = Table(show_lines=False)
    for column in ("File", "Type", "Faces", "Face prob.", "Verdict", "Notes"):
        table.add_column(
            column, overflow="fold", justify="right" if column == "Face prob." else "left"
        )
    for result in results:
        if result.error:
            passed = result.path in not_checked
            why = result.error.message.removeprefix("not checked: ") if passed else None
            table.add_row(
                _shown(result.path, common),
                "-",
                "-",
                "-",
                Text("not checked", "yellow") if passed else Text("error", "red"),
                Text(printable(why or result.error.message)),
            )
            continue
        assert result.media is not None and result.verdict is not None
        notable = [f.summary for f in result.findings if f.strength != "info"]
        table.add_row(
            _shown(result.path, common),
            f"{result.media.kind} {result.media.format}",
            str(len(result.faces)),
            "-" if result.verdict.probability is None else f"{result.verdict.probability:.2f}",
            Text(short_verdict(result.verdict), VERDICT_STYLE[result.verdict.label]),
            Text(printable("; ".join(notable[:2]))),
        )
    console.print(table)


def short_verdict(verdict: Verdict) -> str:
    """The verdict in a few words for a table, in the headline's own words where it names the
    kind ("Likely AI-generated"), so that a row never says less than the file's result."""
    head, colon, _ = verdict.headline.partition(":")
    if colon and head.startswith("Likely ") and len(head) <= 40:
        return head
    return verdict.label.replace("_", " ")


def _shown(path: str, common: str) -> Text:
    """A path as a table cell: relative to the shared folder, never read as markup."""
    return Text(printable(os.path.relpath(path, common) if common else path))


def sparkline(values: list[float], width: int = SPARK_WIDTH) -> str:
    """Probabilities in [0, 1] as block characters on an absolute scale (▁ = 0, █ = 1), so two
    timelines compare by eye. Longer series are cut into `width` stretches showing each one's
    highest value, so a short burst of high scores stays visible."""
    if not values:
        return ""
    if len(values) > width:
        edges = np.linspace(0, len(values), width + 1).round().astype(int)
        values = [max(values[a:b]) for a, b in itertools.pairwise(edges)]
    top = len(SPARK_BARS) - 1
    return "".join(SPARK_BARS[min(top, max(0, int(v * len(SPARK_BARS))))] for v in values)


def _say_face_probability(say: Any, finding: Finding, video: bool) -> None:
    evidence = finding.evidence
    low, threshold = evidence.get("inconclusive_band", [None, None])
    probability = finding.score or 0.0
    style = STRENGTH_STYLE[finding.strength] if finding.strength != "info" else "green"
    where = (
        "likely manipulated"
        if finding.strength == "strong"
        else "inconclusive"
        if finding.strength == "weak"
        else "no signs found"
    )
    line = Text.assemble(
        "manipulation probability ",
        Text(f"{probability:.2f}: {where}", style),
        f" (the model's thresholds: inconclusive from {low:.2f}, likely manipulated from "
        f"{threshold:.2f})",
    )
    say(6, line)
    frames = evidence.get("frames") or []
    if video and len(frames) > 1:
        values = [float(f["probability"]) for f in frames]
        say(
            6,
            "timeline ",
            Text(sparkline(values), style),
            f" min {min(values):.2f}, mean {np.mean(values):.2f}, max {max(values):.2f} over "
            f"{len(values)} frames ({frames[0]['time_s']:.1f}-{frames[-1]['time_s']:.1f} s)",
        )


def _size(size: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024  # type: ignore[assignment]
    return str(size)
