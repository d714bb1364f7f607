"""How results are shown and written: a readable view, JSON, JSON Lines, map images."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import IO, Any

import numpy as np
from PIL import Image
from rich.console import Console
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from unmask import __version__
from unmask.result import SCHEMA_VERSION, ScanResult

VERDICT_STYLE = {
    "likely_manipulated": "bold red",
    "inconclusive": "yellow",
    "no_signs_found": "green",
}
STRENGTH_STYLE = {"strong": "bold red", "weak": "yellow", "info": "dim"}


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


def write_maps(result: ScanResult, folder: Path) -> list[Path]:
    """Write every map of every finding as a PNG named after the file and the detector."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(result.path).stem)[:80] or "input"
    tag = (result.sha256 or "")[:8]
    written = []
    for finding in result.findings:
        for name, array in finding.maps.items():
            target = folder / f"{stem}-{tag}-{finding.detector}-{name}.png"
            Image.fromarray(np.asarray(array, dtype=np.uint8)).save(target)
            written.append(target)
    return written


def print_details(console: Console, result: ScanResult) -> None:
    """The full readable view of one result; wrapped lines keep their indent."""

    def say(indent: int, *parts: str | Text) -> None:
        console.print(Padding(Text.assemble(*parts), (0, 0, 0, indent), expand=False))

    console.print(Text(result.path, style="bold"))
    if result.error:
        say(2, Text(f"could not be scanned: {result.error.message}", style="red"))
        if result.error.hint:
            say(2, f"what to do: {result.error.hint}")
        return
    media = result.media
    assert media is not None and result.verdict is not None
    line = f"{media.kind}, {media.format}, {media.width}x{media.height}, {_size(media.size_bytes)}"
    if media.kind == "video":
        line += f", {media.duration_s or 0:.1f} s, {media.frames_sampled} frames sampled"
    say(2, line)
    verdict = result.verdict
    say(2, Text("Verdict: ", style="bold"), Text(verdict.headline, VERDICT_STYLE[verdict.label]))
    say(2, f"Faces: {len(result.faces)}")
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
    if result.findings:
        say(2, "Findings:")
    order = {"strong": 0, "weak": 1, "info": 2}
    for finding in sorted(result.findings, key=lambda f: order[f.strength]):
        say(
            4,
            Text(f"[{finding.strength}] ", STRENGTH_STYLE[finding.strength]),
            Text(f"{finding.detector}/{finding.code}: ", "bold"),
            finding.summary,
        )
    for warning in media.warnings:
        say(2, Text(f"warning: {warning}", style="yellow"))
    say(2, "Not covered by this scan:")
    for item in verdict.not_covered:
        say(4, f"- {item}")


def print_table(console: Console, results: list[ScanResult]) -> None:
    """One row a file, for batches."""
    table = Table(show_lines=False)
    for column in ("File", "Type", "Faces", "Verdict", "Notes"):
        table.add_column(column, overflow="fold")
    for result in results:
        if result.error:
            table.add_row(result.path, "-", "-", Text("error", "red"), result.error.message)
            continue
        assert result.media is not None and result.verdict is not None
        notable = [f.summary for f in result.findings if f.strength != "info"]
        table.add_row(
            result.path,
            f"{result.media.kind} {result.media.format}",
            str(len(result.faces)),
            Text(result.verdict.label.replace("_", " "), VERDICT_STYLE[result.verdict.label]),
            "; ".join(notable[:2]),
        )
    console.print(table)


def _size(size: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024  # type: ignore[assignment]
    return str(size)
