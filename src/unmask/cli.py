"""The `unmask` command: one command tree for identify, verify, report and prevent."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import click
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from unmask import __version__
from unmask.config import DEFAULT_CROP_SIZE, DEFAULT_FACE_MARGIN, ScanConfig
from unmask.errors import UnmaskError
from unmask.media.limits import Limits
from unmask.media.sampling import DEFAULT_SAMPLE_FRAMES
from unmask.result import ScanError, ScanResult

EXIT_OK = 0
EXIT_FLAGGED = 1
EXIT_UNREADABLE = 2
EXIT_USAGE = 64

EXIT_CODES_HELP = (
    "Exit codes: 0 nothing flagged; 1 at least one file is likely manipulated; "
    "2 at least one input could not be read (takes precedence over 1); 64 wrong usage."
)

app = typer.Typer(
    name="unmask",
    help=(
        "Find out whether a picture or video of a person was manipulated, prove it, report it "
        "and stop it spreading. Everything runs on this computer; nothing is uploaded."
    ),
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)

_out = Console()
_err = Console(stderr=True)


def _version(value: bool) -> None:
    if value:
        print(f"unmask {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """Unmask: identify, verify, report and prevent deepfakes."""


Paths = Annotated[
    list[str],
    typer.Argument(help="Files or folders (searched recursively); '-' reads standard input."),
]


@app.command(epilog=EXIT_CODES_HELP)
def scan(
    paths: Paths,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
    as_jsonl: Annotated[
        bool, typer.Option("--jsonl", help="Print one JSON line per file, as each finishes.")
    ] = False,
    output: Annotated[
        Path | None,
        typer.Option(
            "-o",
            "--output",
            help="Write results to this file (JSON; JSON Lines if it ends in .jsonl).",
        ),
    ] = None,
    resume: Annotated[
        bool,
        typer.Option(help="With -o FILE.jsonl: skip files already in FILE and append the rest."),
    ] = False,
    maps: Annotated[
        Path | None,
        typer.Option(help="Write each detector's maps (error levels, noise) as PNGs here."),
    ] = None,
    frames: Annotated[
        int, typer.Option(min=1, help="Frames sampled evenly from each video.")
    ] = DEFAULT_SAMPLE_FRAMES,
    fps: Annotated[
        float | None,
        typer.Option(min=0.01, help="Sample this many frames per second instead of --frames."),
    ] = None,
    detectors: Annotated[
        str | None, typer.Option(help="Comma-separated detectors to run (default: all).")
    ] = None,
    max_pixels: Annotated[
        float, typer.Option(help="Largest image or frame, in megapixels (decompression guard).")
    ] = Limits.max_pixels / 1e6,
    max_file_size: Annotated[
        float, typer.Option(help="Largest file, in MiB (images are capped at 200 MiB).")
    ] = Limits.max_file_bytes / 1024**2,
    max_duration: Annotated[
        float, typer.Option(help="Longest video, in seconds.")
    ] = Limits.max_duration_s,
    max_frames: Annotated[
        int, typer.Option(min=1, help="Most frames sampled from one video.")
    ] = Limits.max_frames,
    time_budget: Annotated[
        float, typer.Option(help="Seconds one file may take before it is given up.")
    ] = Limits.time_budget_s,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Scan pictures and videos: faces, metadata and forensic traces, and a verdict.

    Shows a readable report by default. Results are written as each file finishes, so an
    interrupted batch loses nothing (and --resume carries on where it stopped).
    """
    if as_json and as_jsonl:
        raise typer.BadParameter("choose one of --json and --jsonl")
    if resume and (output is None or output.suffix != ".jsonl"):
        raise typer.BadParameter("--resume needs -o FILE.jsonl")
    max_file_bytes = int(max_file_size * 1024**2)
    limits = Limits(
        max_pixels=int(max_pixels * 1e6),
        max_file_bytes=max_file_bytes,
        max_image_file_bytes=min(Limits.max_image_file_bytes, max_file_bytes),
        max_duration_s=max_duration,
        max_frames=max_frames,
        time_budget_s=time_budget,
    )
    chosen = tuple(name.strip() for name in detectors.split(",")) if detectors else None
    config = ScanConfig(
        limits=limits, frames=frames, fps=fps, detectors=chosen, keep_maps=maps is not None
    )

    from unmask import inputs as input_list
    from unmask.output import json_document, print_details, print_table, write_jsonl, write_maps
    from unmask.scan import Scanner

    try:
        scanner = Scanner(config)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    try:
        items = input_list.expand(paths, max_file_bytes)
    except UnmaskError as exc:
        _err.print(f"[red]error:[/red] {exc.message}; {exc.hint}")
        raise typer.Exit(EXIT_UNREADABLE) from None

    jsonl = as_jsonl or (output is not None and output.suffix == ".jsonl")
    done = _already_done(output) if resume and output is not None else set()
    sink = None
    if output is not None and jsonl:
        sink = output.open("a" if resume else "w", encoding="utf-8")
    elif jsonl:
        sink = sys.stdout

    results: list[ScanResult] = []
    show_progress = len(items) > 1 and not quiet
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[current]}"),
        console=_err,
        disable=not show_progress,
        transient=True,
    )
    try:
        with progress:
            task = progress.add_task("scanning", total=len(items), current="")
            for item in items:
                progress.update(task, current=item.name[-60:])
                if item.name in done:
                    progress.advance(task)
                    continue
                result = scanner.scan(item.path, display_name=item.name)
                results.append(result)
                if sink is not None:
                    write_jsonl(sink, result)
                if maps is not None and result.ok:
                    write_maps(result, maps)
                progress.advance(task)
    except KeyboardInterrupt:
        _err.print(f"[yellow]interrupted after {len(results)} of {len(items)} files[/yellow]")
        raise typer.Exit(130) from None
    finally:
        input_list.cleanup(items)
        if sink is not None and sink is not sys.stdout:
            sink.close()

    if as_json or (output is not None and not jsonl):
        document = json_document([r.to_dict() for r in results])
        if output is not None:
            output.write_text(document + "\n", encoding="utf-8")
        else:
            print(document)
    if not (as_json or as_jsonl):
        if len(results) == 1:
            print_details(_out, results[0])
        elif results:
            print_table(_out, results)
        if output is not None:
            _out.print(f"results written to {output}")
    if maps is not None and not (as_json or as_jsonl):
        _out.print(f"maps written to {maps}/")
    raise typer.Exit(_exit_code(results))


@app.command(epilog="Exit codes: 0 done; 2 the input could not be read; 64 wrong usage.")
def faces(
    path: Annotated[str, typer.Argument(help="A picture or video.")],
    crops: Annotated[
        Path | None, typer.Option(help="Write each face crop as a PNG into this folder.")
    ] = None,
    margin: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Crop margin per side, as a fraction.")
    ] = DEFAULT_FACE_MARGIN,
    size: Annotated[
        int, typer.Option(min=16, max=2048, help="Crop size in pixels.")
    ] = DEFAULT_CROP_SIZE,
    frames: Annotated[
        int, typer.Option(min=1, help="Frames sampled evenly from a video.")
    ] = DEFAULT_SAMPLE_FRAMES,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Find the faces in a picture or video: boxes, five landmarks, tracks across frames."""
    from dataclasses import asdict

    from PIL import Image

    from unmask.faces import crop_face
    from unmask.media import open_media
    from unmask.scan import Scanner

    scanner = Scanner(ScanConfig(frames=frames, detectors=()))
    try:
        media = open_media(path, n_frames=frames)
    except UnmaskError as exc:
        error = ScanError(exc.code, exc.message, exc.hint)
        if as_json:
            print(json.dumps({"path": path, "error": asdict(error)}, indent=2))
        else:
            _err.print(f"[red]{path}: could not be read:[/red] {exc.message}")
            if exc.hint:
                _err.print(f"what to do: {exc.hint}")
        raise typer.Exit(EXIT_UNREADABLE) from None
    tracks = scanner.find_faces(media)
    if crops is not None:
        crops.mkdir(parents=True, exist_ok=True)
        by_index = {frame.index: frame for frame in media.frames}
        for track in tracks:
            for d in track.detections:
                crop = crop_face(by_index[d.frame_index].rgb, d.box, margin, size)
                name = f"{Path(path).stem}-face{track.track_id}-frame{d.frame_index}.png"
                Image.fromarray(crop).save(crops / name)
    if as_json:
        document = {"path": path, "faces": [asdict(t) for t in tracks]}
        print(json.dumps(document, indent=2, default=float))
    else:
        _out.print(f"{path}: {len(tracks)} face(s) in {len(media.frames)} frame(s)")
        for track in tracks:
            for d in track.detections:
                x0, y0, x1, y1 = (round(v) for v in d.box)
                where = f" at {d.time_s:.2f} s" if media.kind == "video" else ""
                _out.print(
                    f"  face {track.track_id}{where}: box ({x0}, {y0})-({x1}, {y1}), "
                    f"confidence {d.score:.2f}, landmarks "
                    + " ".join(f"({x:.0f},{y:.0f})" for x, y in d.landmarks)
                )
        if crops is not None:
            _out.print(f"crops written to {crops}/")


def _already_done(output: Path) -> set[str]:
    """Paths already recorded in a JSON Lines file (a partial last line is ignored)."""
    done: set[str] = set()
    if not output.exists():
        return done
    for line in output.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            done.add(json.loads(line)["path"])
        except (ValueError, KeyError, TypeError):
            continue
    return done


def _exit_code(results: list[ScanResult]) -> int:
    if any(not r.ok for r in results):
        return EXIT_UNREADABLE
    if any(r.flagged for r in results):
        return EXIT_FLAGGED
    return EXIT_OK


def main() -> None:
    """Console entry point: usage errors exit with 64 so that 2 keeps its documented meaning."""
    try:
        app(standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        _err.print("aborted")
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(EXIT_USAGE)


if __name__ == "__main__":
    main()
