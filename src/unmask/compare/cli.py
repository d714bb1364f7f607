"""`unmask compare`: what was changed in a suspect picture or video, against its original."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from unmask.cli_options import frames_option
from unmask.compare.result import Comparison
from unmask.errors import UnmaskError, UnreadableFileError
from unmask.terminal import markup_safe

EXIT_OK = 0
EXIT_ALTERED = 1
EXIT_UNREADABLE = 2

_out = Console()
_err = Console(stderr=True)

HELP = """Compare SUSPECT with its ORIGINAL (photo or video) and say exactly what was changed.

Give the original(s) as files, or a folder to search with --originals. Stills and videos can be
mixed: a video against its source video, a photo against the video it was grabbed from, a
picture against the photo it was made from. The two are lined up in time (trims, other frame
rates, dropped frames) and in space (crops, resizing, mirroring, letterboxing, colour changes,
re-encoding), then compared; each changed region is related to the faces in both files.

\b
The answer is one of three:
  altered           the suspect shows the original's scene, and a region of
                    it differs beyond what re-encoding, resizing, cropping or
                    colour changes explain: it says which face (or other
                    area), and in a video which frames and times;
  same_content      it is the original, perhaps re-encoded, resized, cropped,
                    mirrored or colour-graded; parts outside the original
                    and changes below the calibrated thresholds are not seen;
  no_common_source  the two do not show the same photo or footage: this pair
                    says nothing about whether the suspect was altered.

Nothing is sent anywhere. Pictures written with --diff are blurred unless you add --reveal.
"""


@click.command(
    "compare",
    help=HELP,
    epilog="Exit codes: 1 altered; 0 same content or no common source; 2 a file could not be "
    "read; 64 wrong usage.",
)
@click.argument("suspect", type=click.Path(dir_okay=False, path_type=Path))
@click.argument(
    "original_files", nargs=-1, type=click.Path(path_type=Path), metavar="[ORIGINAL]..."
)
@click.option(
    "--originals",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder of candidate originals (photos and videos, searched recursively). Their PDQ "
    "hashes are kept in an index in the unmask home folder, so later searches are fast.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@click.option(
    "--diff",
    "diff_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write the evidence pictures into this folder: the suspect beside the aligned original, "
    "the difference heatmap with changed regions boxed, and (video) a timeline.",
)
@click.option("--reveal", is_flag=True, help="Write the --diff pictures sharp (default: blurred).")
@frames_option
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
def compare_command(
    suspect: Path,
    original_files: tuple[Path, ...],
    folder: Path | None,
    as_json: bool,
    diff_dir: Path | None,
    reveal: bool,
    frames: int,
    quiet: bool,
) -> None:
    if not original_files and folder is None:
        raise click.UsageError("name the original file(s), or a folder with --originals DIR")
    if original_files and folder is not None:
        raise click.UsageError("give original files or --originals DIR, not both")
    try:
        comparison = _run(suspect, list(original_files), folder, frames, diff_dir, reveal, quiet)
    except UnmaskError as exc:
        _fail(suspect, exc, as_json)
        return
    if as_json:
        print(json.dumps(comparison.to_dict(), indent=2, ensure_ascii=False))
    else:
        print_comparison(comparison.to_dict())
    sys.exit(EXIT_ALTERED if comparison.outcome == "altered" else EXIT_OK)


def _run(
    suspect: Path,
    originals: list[Path],
    folder: Path | None,
    frames: int,
    diff_dir: Path | None,
    reveal: bool,
    quiet: bool,
) -> Comparison:
    from unmask.compare.engine import compare_files
    from unmask.compare.evidence import write_evidence

    for path in [suspect, *originals]:
        _check_file(path)
    keep = diff_dir is not None
    if folder is not None:
        comparison = _search(suspect, folder, frames, keep, quiet)
    else:
        comparison = compare_files(suspect, originals, frames=frames, keep_maps=keep)
    if diff_dir is not None:
        write_evidence(comparison, diff_dir, reveal=reveal)
    comparison.maps = None
    return comparison


def _search(suspect: Path, folder: Path, frames: int, keep: bool, quiet: bool) -> Comparison:
    from unmask.compare.search import search_folder

    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=_err,
        disable=quiet,
        transient=True,
    )
    with progress:
        task = progress.add_task("indexing originals", total=None)

        def report(stage: str, done: int, total: int) -> None:
            progress.update(task, description=stage, completed=done, total=total)

        return search_folder(suspect, folder, frames=frames, keep_maps=keep, progress=report)


def _check_file(path: Path) -> None:
    if not path.exists():
        raise UnreadableFileError(f"{path}: no such file", "check the path")
    if path.is_dir():
        raise UnreadableFileError(
            f"{path} is a folder", "to search a folder of originals, use --originals DIR"
        )


def _fail(path: Path, exc: UnmaskError, as_json: bool) -> None:
    if as_json:
        error = {"code": exc.code, "message": exc.message, "hint": exc.hint}
        print(json.dumps({"suspect": str(path), "error": error}, indent=2))
    else:
        _err.print(f"[red]could not compare:[/red] {markup_safe(exc.message)}")
        if exc.hint:
            _err.print(f"what to do: {markup_safe(exc.hint)}")
    sys.exit(EXIT_UNREADABLE)


STYLE = {"altered": "bold red", "same_content": "yellow", "no_common_source": "yellow"}
LABEL = {
    "altered": "ALTERED",
    "same_content": "same content",
    "no_common_source": "no common source",
}


def print_comparison(document: dict[str, Any], console: Console | None = None) -> None:
    """A comparison (its JSON form) in plain words."""
    out = console or _out
    outcome = document["outcome"]
    style = STYLE[outcome]
    out.print(f"[bold]{markup_safe(document['suspect'])}[/bold]")
    if document.get("original"):
        out.print(f"compared with {markup_safe(document['original'])}")
    out.print(f"[{style}]{LABEL[outcome]}[/{style}]: {markup_safe(document['summary'])}")
    for region in document["regions"]:
        out.print("  " + markup_safe(_region_line(region)))
    alignment = document.get("alignment")
    if alignment:
        parts = [
            f"{alignment['inliers']} matching points",
            f"scale {alignment['scale']:.2f}",
            f"overlap {alignment['overlap'] * 100:.0f} %",
        ]
        if alignment["mirrored"]:
            parts.append("mirrored")
        if alignment["time_offset_s"] is not None:
            parts.append(f"time offset {alignment['time_offset_s']:+.2f} s")
        if document["aligned_frames"]:
            parts.append(f"{len(document['aligned_frames'])} frame(s) aligned")
        out.print(f"  alignment: {', '.join(parts)}")
    for note in document["not_checked"]:
        out.print(f"  [dim]not checked:[/dim] {markup_safe(note)}")
    for path in document["evidence"]:
        out.print(f"  evidence written: {markup_safe(path)}")


def _region_line(region: dict[str, Any]) -> str:
    x0, y0, x1, y1 = (round(v) for v in region["box"])
    what = f"face {region['track_id']}" if region["kind"] == "face" else "other area"
    line = f"{what}: box ({x0}, {y0})-({x1}, {y1}), {region['score']:.1f}x the threshold"
    if region.get("time_range_s"):
        start, end = region["time_range_s"]
        line += f", {len(region['frames'])} sampled frame(s) from {start:.2f} s to {end:.2f} s"
    return line
