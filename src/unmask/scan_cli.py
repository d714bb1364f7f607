"""`unmask scan` and `unmask faces`: the commands that run the detectors on pictures and videos.

Loaded only when one of them runs (see the command table in `unmask.cli`), so that `unmask --help`
and the other commands do not pay for Rich, NumPy, Pillow and the media loader."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from unmask.cli_options import frames_option
from unmask.config import DEFAULT_CROP_SIZE, DEFAULT_FACE_MARGIN, ScanConfig
from unmask.errors import UnmaskError
from unmask.media.limits import Limits
from unmask.result import ScanError, ScanResult
from unmask.terminal import PipeSafeConsole, markup_safe

if TYPE_CHECKING:
    from unmask.scan_ray import RayScanner

EXIT_OK = 0
EXIT_FLAGGED = 1
EXIT_UNREADABLE = 2

EXIT_CODES_HELP = (
    "Exit codes: 0 nothing flagged; 1 at least one file is likely manipulated; "
    "2 at least one input could not be read (takes precedence over 1); 64 wrong usage. "
    "Files met in a folder that are clearly not pictures or videos (notes.md, labels.csv) are "
    "skipped, named in one line, and do not set 2; nor do kinds unmask cannot read (camera RAW, "
    "SVG, PSD, an audio-only .m4a), listed as not checked; a file named on the command line "
    "always counts. "
    "A folder holding no files is named on standard error ('no files found in FOLDER') and, "
    "with nothing checked in it, sets nothing: 0 then means only that no file was flagged."
)

_out = PipeSafeConsole()
_err = Console(stderr=True)


@click.command(epilog=EXIT_CODES_HELP)
@click.argument("paths", nargs=-1, metavar="PATH...")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@click.option(
    "--jsonl", "as_jsonl", is_flag=True, help="Print one JSON line per file, as each finishes."
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write results to this file (JSON; JSON Lines if it ends in .jsonl).",
)
@click.option(
    "--resume",
    is_flag=True,
    help="With -o FILE.jsonl: skip files already in FILE, append the rest.",
)
@click.option(
    "--maps",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write each detector's maps (error level, noise, copied regions, EXIF preview "
    "difference) as PNGs into this folder, each with a legend and scale under it.",
)
@click.option(
    "--overlay",
    is_flag=True,
    help="With --maps: also write each grey map blended over the picture (pictures only).",
)
@click.option(
    "--ela-quality",
    type=click.IntRange(50, 100),
    default=90,
    show_default=True,
    help="JPEG quality at which error level analysis saves the picture again.",
)
@frames_option
@click.option(
    "--fps",
    type=click.FloatRange(min=0.01),
    help="Sample this many frames per second instead of --frames.",
)
@click.option(
    "--exact-times",
    is_flag=True,
    help="Decode each of --frames at its exact, evenly spaced time. By default a sample is "
    "taken at or next to the nearest keyframe, which decodes far less of a long video but can "
    "move a sample by up to half the distance between keyframes (--fps always uses exact times).",
)
@click.option("--detectors", help="Comma-separated detectors to run (default: all).")
@click.option(
    "--face-model",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    envvar="UNMASK_FACE_SWAP_MODEL",
    help="Your own face-manipulation model (.onnx, its .json card beside it) instead of the "
    "shipped one [env: UNMASK_FACE_SWAP_MODEL].",
)
@click.option(
    "--max-pixels",
    type=click.FloatRange(min=0.0, min_open=True),
    default=Limits.max_pixels / 1e6,
    show_default=True,
    help="Largest image or video frame, in megapixels (decompression-bomb guard).",
)
@click.option(
    "--max-file-size",
    type=click.FloatRange(min=0.0, min_open=True),
    default=Limits.max_file_bytes / 1024**2,
    show_default=True,
    help="Largest file, in MiB (images are also capped at 200 MiB).",
)
@click.option(
    "--max-duration",
    type=click.FloatRange(min=0.0, min_open=True),
    default=Limits.max_duration_s,
    show_default=True,
    help="Longest video, in seconds.",
)
@click.option(
    "--max-frames",
    type=click.IntRange(min=1),
    default=Limits.max_frames,
    show_default=True,
    help="Most frames sampled from one video.",
)
@click.option(
    "--time-budget",
    type=click.FloatRange(min=0.0, min_open=True),
    default=Limits.time_budget_s,
    show_default=True,
    help="Seconds one file may take before it is given up with an error entry.",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    help="Files scanned at the same time, each in its own process with its own models "
    "(results still come in the order given). Default: one per core, as memory allows.",
)
@click.option(
    "--original",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The original photo or video: compare each file with it (as `unmask compare` does); "
    "a region that differs becomes a strong finding.",
)
@click.option(
    "--files-from",
    metavar="FILE",
    help="Also scan the files listed in FILE, one path (with --ray, or a URI the workers read: "
    "s3://, gs://, hdfs://, file://) a line; '-' reads the list from standard input.",
)
@click.option(
    "--ray",
    "ray_address",
    metavar="ADDRESS",
    help="Scan on the Ray cluster at ADDRESS (HOST:PORT of its head, or 'auto'): one worker per "
    'CPU of the cluster unless --workers, same results and order. Needs pip install "unmask[ray]".',
)
@click.option(
    "--parquet",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the results as a Parquet table (one row per file), for analysts.",
)
def scan(
    paths: tuple[str, ...],
    as_json: bool,
    as_jsonl: bool,
    output: Path | None,
    resume: bool,
    maps: Path | None,
    overlay: bool,
    ela_quality: int,
    frames: int,
    fps: float | None,
    exact_times: bool,
    detectors: str | None,
    face_model: Path | None,
    max_pixels: float,
    max_file_size: float,
    max_duration: float,
    max_frames: int,
    time_budget: float,
    quiet: bool,
    workers: int | None,
    original: Path | None,
    files_from: str | None,
    ray_address: str | None,
    parquet: Path | None,
) -> None:
    """Scan pictures and videos: faces, metadata and forensic traces, and a verdict.

    PATH is a file, a folder (searched recursively) or '-' for standard input. Shows a readable
    report by default. Results are written as each file finishes, so an interrupted batch loses
    nothing (and --resume carries on where it stopped).
    """
    if as_json and as_jsonl:
        raise click.UsageError("choose one of --json and --jsonl")
    if resume and (output is None or output.suffix != ".jsonl"):
        raise click.UsageError("--resume needs -o FILE.jsonl")
    if not paths and files_from is None:
        raise click.UsageError("give at least one PATH, or --files-from FILE")
    if overlay and maps is None:
        raise click.UsageError("--overlay needs --maps DIR (the folder the maps go into)")
    for target, option in ((output, "-o"), (parquet, "--parquet")):
        if target is not None and not target.resolve().parent.is_dir():
            raise click.BadParameter(
                f"the folder {target.parent} does not exist", param_hint=option
            )
    if maps is not None:
        try:
            maps.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            _err.print(
                f"[red]error:[/red] cannot make the maps folder {markup_safe(maps)}: "
                f"{markup_safe(exc.strerror or str(exc))}"
            )
            sys.exit(EXIT_UNREADABLE)
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
    if chosen is not None:
        # Checked here, not when the scanner starts: with nothing to scan (an empty folder,
        # notes only, a resumed run with every file done) no scanner starts at all.
        from unmask.detectors.base import detector_names

        known = detector_names()
        unknown = [name for name in chosen if name not in known]
        if unknown:
            raise click.BadParameter(
                f"unknown detector {', '.join(map(repr, unknown))}; known detectors: "
                f"{', '.join(known)}",
                param_hint="--detectors",
            )
    config = ScanConfig(
        limits=limits,
        frames=frames,
        fps=fps,
        exact_times=exact_times,
        detectors=chosen,
        keep_maps=maps is not None,
        keep_preview=overlay,
        ela_quality=ela_quality,
        face_swap_model=face_model,
    )

    from unmask import inputs as input_list
    from unmask.output import write_jsonl, write_maps
    from unmask.scan_pool import ScannerPool, default_workers
    from unmask.scan_ray import is_uri
    from unmask.terminal import printable

    try:
        listed = input_list.read_list(files_from) if files_from is not None else []
        items, empty_folders = [], []
        for argument in list(paths) + listed:
            found = input_list.expand([argument], max_file_bytes)
            if not found and Path(argument).is_dir():
                empty_folders.append(argument)
            items += found
        # Notes and exports beside the photos are left out here, before files are handed to
        # local workers or to Ray, so that both follow the same rule.
        skipped = {item: what for item in items if (what := input_list.not_media(item))}
        items = [item for item in items if item not in skipped]
        if parquet is not None:
            from unmask.parquet_output import columns

            columns()  # pyarrow is there, before anything is scanned
    except UnmaskError as exc:
        _err.print(f"[red]error:[/red] {markup_safe(exc.message)}; {markup_safe(exc.hint)}")
        sys.exit(EXIT_UNREADABLE)
    for folder in empty_folders:
        _err.print(
            f"no files found in {markup_safe(printable(folder))}", highlight=False, soft_wrap=True
        )
    done = _already_done(output) if resume and output is not None else {}
    todo = [item for item in items if item.name not in done]
    passed_over = [
        _skipped_result(item.name, what) for item, what in skipped.items() if item.name not in done
    ]
    # Each file is scanned in a worker process that is killed if the file passes
    # --time-budget (a decoder stuck in C code cannot be stopped any other way); several
    # such workers use every core.
    if ray_address is None and any(is_uri(item.name) for item in items):
        input_list.cleanup(items)
        raise click.UsageError("URIs are read by Ray workers: add --ray ADDRESS")
    # Nothing to scan (an empty folder, notes only, a resumed run with every file done): no
    # worker is started, so no model is loaded and no Ray cluster is contacted.
    scanner: ScannerPool | RayScanner | NothingToScan
    if not todo:
        scanner = NothingToScan()
    elif ray_address is not None:
        from unmask.scan_ray import RayScanner

        scanner = RayScanner(config, ray_address, workers, len(todo))
    else:
        scanner = ScannerPool(config, min(workers or default_workers(), len(todo)))
    try:
        scanner.start()
    except ValueError as exc:
        scanner.close()
        input_list.cleanup(items)
        raise click.BadParameter(str(exc), param_hint="--detectors") from None
    except UnmaskError as exc:  # a model that is missing or damaged
        scanner.close()
        input_list.cleanup(items)
        _err.print(f"[red]error:[/red] {markup_safe(exc.message)}; {markup_safe(exc.hint)}")
        sys.exit(EXIT_UNREADABLE)

    jsonl = as_jsonl or (output is not None and output.suffix == ".jsonl")
    sink = None
    if output is not None and jsonl:
        try:
            sink = output.open("a" if resume else "w", encoding="utf-8")
        except OSError as exc:
            scanner.close()
            input_list.cleanup(items)
            _err.print(
                f"[red]error:[/red] cannot write {markup_safe(output)}: "
                f"{markup_safe(exc.strerror or str(exc))}"
            )
            sys.exit(EXIT_UNREADABLE)
    elif jsonl:
        sink = sys.stdout

    results: list[ScanResult] = []
    not_checked: set[str] = set()  # names of files met in a folder of kinds unmask cannot read
    # A batch shows files done; a single file shows its steps (a video takes seconds).
    one_file = len(items) == 1 and len(todo) == 1
    show_progress = (len(items) > 1 or (one_file and _err.is_terminal)) and not quiet
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[current]}", markup=False),
        console=_err,
        disable=not show_progress,
        transient=True,
    )
    try:
        with progress:
            task = progress.add_task(
                "scanning",
                total=len(items),
                completed=len(items) - len(todo),
                current="",
                visible=not one_file,
            )
            steps = progress.add_task("opening", total=None, current="", visible=one_file)

            def on_step(step: tuple[str, int, int]) -> None:
                what, done_count, total = step
                progress.update(steps, description=what, completed=done_count, total=total)

            scanned = scanner.scan_in_order(
                ((item.path, item.name) for item in todo), on_step if one_file else None
            )
            for item, result in zip(todo, scanned, strict=True):
                progress.update(task, current=printable(item.name)[-60:])
                if original is not None:
                    from unmask.compare.scan_finding import add_comparison

                    add_comparison(result, item.path, original, config)
                if result.error and (
                    why := input_list.not_checked(item, result.error.code, result.error.message)
                ):
                    result.error = ScanError("unsupported_format", f"not checked: {why[0]}", why[1])
                    not_checked.add(item.name)
                results.append(result)
                if sink is not None:
                    try:
                        write_jsonl(sink, result)
                    except BrokenPipeError:  # `--jsonl | head`: nobody reads the rest
                        _silence_stdout()
                        break
                if maps is not None and result.ok:
                    picture = (
                        result.preview if result.media and result.media.kind == "image" else None
                    )
                    try:
                        write_maps(result, maps, picture)
                    except OSError as exc:  # a full disk, a folder removed during the scan
                        _err.print(
                            f"[red]error:[/red] cannot write maps into {markup_safe(maps)}: "
                            f"{markup_safe(exc.strerror or str(exc))}"
                        )
                        sys.exit(EXIT_UNREADABLE)
                progress.advance(task)
            else:  # the skipped files follow the scanned ones, unless the reader went away
                for result in passed_over if sink is not None else []:
                    try:
                        write_jsonl(sink, result)
                    except BrokenPipeError:
                        _silence_stdout()
                        break
    except UnmaskError as exc:  # the Ray cluster lost every worker
        _err.print(f"[red]error:[/red] {markup_safe(exc.message)}; {markup_safe(exc.hint)}")
        sys.exit(EXIT_UNREADABLE)
    except KeyboardInterrupt:
        _err.print(f"[yellow]interrupted after {len(results)} of {len(items)} files[/yellow]")
        sys.exit(130)
    finally:
        scanner.close()
        input_list.cleanup(items)
        if sink is not None and sink is not sys.stdout:
            sink.close()

    parquet_failed = False
    if parquet is not None:
        from unmask.parquet_output import write_parquet

        # what a resumed run found done: scanned files, and the files an earlier run skipped
        earlier_records = [done[item.name] for item in [*items, *skipped] if item.name in done]
        try:
            write_parquet(parquet, earlier_records + [r.to_dict() for r in results + passed_over])
        except OSError as exc:  # a full disk, no write permission: the results are still shown
            _err.print(
                f"[red]error:[/red] cannot write {markup_safe(parquet)}: "
                f"{markup_safe(exc.strerror or str(exc))}"
            )
            parquet_failed = True
    try:
        _show(results, passed_over, output, maps, as_json, as_jsonl, jsonl, not_checked)
    except BrokenPipeError:
        # The reader went away (`unmask scan photo.jpg -q | head -1`): the exit code still
        # says what the scan found, not that the pipe closed.
        _silence_stdout()
    if parquet_failed:
        sys.exit(EXIT_UNREADABLE)
    earlier = [done[item.name] for item in items if item.name in done]
    for item in items:  # files a resumed run found before, in a folder, of kinds not checked
        error = (done.get(item.name) or {}).get("error") or {}
        code, message = str(error.get("code")), str(error.get("message"))
        if (
            error
            and item.from_folder
            and code == "unsupported_format"
            and (message.startswith("not checked: ") or input_list.not_checked(item, code, message))
        ):
            not_checked.add(item.name)
    sys.exit(_exit_code(results, earlier, not_checked))


class NothingToScan:
    """The scanner of a run with no file to scan: starts no worker, yields no result."""

    def start(self) -> None:
        pass

    def close(self) -> None:
        pass

    def scan_in_order(self, files: Iterable[tuple[Path, str]], *args: Any) -> list[ScanResult]:
        assert not list(files), "NothingToScan was given files"
        return []


def _skipped_result(name: str, what: str) -> ScanResult:
    """The entry of a file that `inputs.not_media` left out of a folder scan."""
    return ScanResult.not_scanned(name, skipped=f"this is {what}, not a picture or video")


def skipped_line(skipped: list[ScanResult]) -> str:
    """One line naming the files a folder scan left out (`inputs.skipped_line`)."""
    from unmask.inputs import skipped_line as line

    return line([Path(r.path).name for r in skipped])


def _show(
    results: list[ScanResult],
    skipped: list[ScanResult],
    output: Path | None,
    maps: Path | None,
    as_json: bool,
    as_jsonl: bool,
    jsonl: bool,
    not_checked: set[str] | None = None,
) -> None:
    """Print (or write) the results as the options ask; the table says "not checked" for the
    files named in `not_checked` (`inputs.not_checked`), not "error"."""
    from unmask.output import json_document, print_details, print_table

    if as_json or (output is not None and not jsonl):
        document = json_document([r.to_dict() for r in results + skipped])
        if output is not None:
            output.write_text(document + "\n", encoding="utf-8")
        else:
            print(document)
    if not (as_json or as_jsonl):
        if len(results) == 1:
            print_details(_out, results[0])
        elif results:
            print_table(_out, results, not_checked or set())
        if skipped:
            _out.print(markup_safe(skipped_line(skipped)), highlight=False, soft_wrap=True)
        if skipped and not results:
            _out.print("nothing was scanned: no picture or video was found", highlight=False)
        if output is not None:
            _out.print(f"results written to {markup_safe(output)}", highlight=False)
        if maps is not None and any(r.ok for r in results):
            _out.print(f"maps written to {markup_safe(maps)}/", highlight=False)
        elif maps is not None:  # no file could be read: nothing was drawn
            _out.print(f"no maps written to {markup_safe(maps)}/", highlight=False)
    elif skipped:  # standard output holds JSON: the line goes to standard error
        _err.print(markup_safe(skipped_line(skipped)), highlight=False, soft_wrap=True)


@click.command(epilog="Exit codes: 0 done; 2 the input could not be read; 64 wrong usage.")
@click.argument("path")
@click.option(
    "--crops",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write each face crop as a PNG into this folder.",
)
@click.option(
    "--margin",
    type=click.FloatRange(0.0, 1.0),
    default=DEFAULT_FACE_MARGIN,
    show_default=True,
    help="Crop margin added on each side, as a fraction of the face box.",
)
@click.option(
    "--size",
    type=click.IntRange(16, 2048),
    default=DEFAULT_CROP_SIZE,
    show_default=True,
    help="Crop size in pixels.",
)
@frames_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def faces(
    path: str, crops: Path | None, margin: float, size: int, frames: int, as_json: bool
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
            _err.print(
                f"[red]{markup_safe(path)}: could not be read:[/red] {markup_safe(exc.message)}",
                highlight=False,
            )
            if exc.hint:
                _err.print(f"what to do: {markup_safe(exc.hint)}", highlight=False)
        sys.exit(EXIT_UNREADABLE)
    tracks = scanner.find_faces(media)
    if crops is not None:
        by_index = {frame.index: frame for frame in media.frames}
        try:
            crops.mkdir(parents=True, exist_ok=True)
            for track in tracks:
                for d in track.detections:
                    crop = crop_face(by_index[d.frame_index].rgb, d.box, margin, size)
                    name = f"{Path(path).stem}-face{track.track_id}-frame{d.frame_index}.png"
                    Image.fromarray(crop).save(crops / name)
        except OSError as exc:
            _err.print(
                f"[red]error:[/red] cannot write crops into {markup_safe(crops)}: "
                f"{markup_safe(exc.strerror or str(exc))}"
            )
            sys.exit(EXIT_UNREADABLE)
    if as_json:
        document = {"path": path, "faces": [asdict(t) for t in tracks]}
        print(json.dumps(document, indent=2, default=float))
    else:
        _out.print(
            f"{markup_safe(path)}: {len(tracks)} face(s) in {len(media.frames)} frame(s)",
            highlight=False,
        )
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
            _out.print(f"crops written to {markup_safe(crops)}/", highlight=False)


def _already_done(output: Path) -> dict[str, dict]:
    """Results already recorded in a JSON Lines file, by path. A partial last line (an
    interrupted write) is cut off, so that the lines appended next stay whole."""
    done: dict[str, dict] = {}
    if not output.exists():
        return done
    data = output.read_bytes()
    if data and not data.endswith(b"\n"):
        with output.open("r+b") as handle:
            handle.truncate(data.rfind(b"\n") + 1)
    for line in output.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            record = json.loads(line)
            done[str(record["path"])] = record
        except (ValueError, KeyError, TypeError):
            continue
    return done


def _exit_code(
    results: list[ScanResult],
    earlier: list[dict] | None = None,
    not_checked: set[str] | None = None,
) -> int:
    """2 if any input could not be read, else 1 if any was flagged, else 0.

    Files a folder scan skipped (`inputs.not_media`: a .txt beside the photos) are not among
    the results and count for nothing: the user asked for the folder's pictures, not for every
    file in it. Nor do the files of a folder named in `not_checked` (`inputs.not_checked`: a
    camera RAW beside its JPEG, a .m4a voice memo), kinds unmask cannot read whose bytes are
    what their names say. Every other file that was scanned counts, a `.jpg` holding text
    included. With
    --resume, the results recorded earlier for this run's inputs count too, so a resumed run
    that finds nothing new still reports the errors and flags it holds."""
    outcomes: list[tuple[str, str | None, bool]] = [
        (r.path, r.error.code if r.error else None, r.flagged) for r in results
    ]
    for record in earlier or []:
        error = record.get("error") or {}
        verdict = record.get("verdict") or {}
        outcomes.append(
            (
                str(record.get("path")),
                str(error.get("code", "error")) if record.get("error") else None,
                verdict.get("label") == "likely_manipulated",
            )
        )
    excused = not_checked or set()
    if any(
        code is not None and not (code == "unsupported_format" and path in excused)
        for path, code, _ in outcomes
    ):
        return EXIT_UNREADABLE
    if any(flagged for _, _, flagged in outcomes):
        return EXIT_FLAGGED
    return EXIT_OK


def _silence_stdout() -> None:
    """Point stdout at /dev/null so that the interpreter's final flush raises nothing more."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
