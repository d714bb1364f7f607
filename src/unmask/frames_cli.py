"""`unmask frames`: still frames of a video, to look for its source with a reverse image search.

A reverse image search (Google Lens, TinEye, Yandex, InVID-WeVerify's keyframe tool) finds where
a video's frames were published before, which often finds the footage a fake was made from.
By default frames are taken at evenly spaced times, so that every part of the video is
covered; `--keyframes` takes them at or next to keyframes instead (the codec's complete
pictures, often sharper, and far less decoding in a long video, but where keyframes are few
the frames bunch up next to them). The video is opened by the same guarded loader as a
scan (limits on size, pixels, duration and time), so a hostile file ends in a plain error.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import click
from rich.console import Console

from unmask.terminal import file_name_part, markup_safe

EXIT_UNREADABLE = 2
JPEG_QUALITY = 95

_err = Console(stderr=True)


def frame_file_name(stem: str, index: int, time_s: float, suffix: str) -> str:
    """`<video>-t00h01m02.480s-f001234.png`: the time in the video first (what a reader looks
    for), the frame number after (two frames never share a name)."""
    hours, rest = divmod(max(0.0, time_s), 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{stem}-t{int(hours):02d}h{int(minutes):02d}m{seconds:06.3f}s-f{index:06d}.{suffix}"


FORMATS = ("png", "jpg")


def earlier_frames(folder: Path, stem: str) -> list[Path]:
    """Frames of the video named `stem` that `unmask frames` wrote into `folder` before, in
    either format: only names that `frame_file_name` makes, matched exactly, so that no other
    file (`clip-notes.png`, the frames of `clip-2.mp4`) is ever taken for one."""
    pattern = re.compile(
        rf"{re.escape(stem)}-t\d{{2,}}h\d\dm\d\d\.\d{{3}}s-f\d{{6,}}\.(?:{'|'.join(FORMATS)})"
    )
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if pattern.fullmatch(p.name) and p.is_file())


@click.command("frames")
@click.argument("video", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "-o",
    "--output",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder to write the frames into (made if missing).",
)
@click.option(
    "-n",
    "--count",
    type=click.IntRange(1, 500),
    default=16,
    show_default=True,
    help="Frames to export, spread evenly over the video.",
)
@click.option(
    "--keyframes",
    is_flag=True,
    help="Take each frame at or next to the keyframe nearest its evenly spaced time: sharper "
    "and faster on long videos, but frames bunch up where keyframes are few.",
)
@click.option(
    "--format",
    "image_format",
    type=click.Choice(["png", "jpg"]),
    default="png",
    show_default=True,
    help="PNG keeps every pixel; JPEG (quality 95) makes files easier to upload.",
)
@click.option(
    "--force",
    is_flag=True,
    help="Replace the frames of this video already in the folder: the folder then holds only "
    "this run's frames of it (other files are never touched).",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress bar and no list of files.")
def frames_command(
    video: Path,
    folder: Path,
    count: int,
    keyframes: bool,
    image_format: str,
    force: bool,
    quiet: bool,
) -> None:
    """Export still frames of VIDEO as pictures, for a reverse image search.

    Frames are taken at evenly spaced times (or next to keyframes with --keyframes) and named
    with their time in the video, e.g. clip-t00h01m02.480s-f001562.png. Frames of the same
    video already in the folder are kept unless --force is given, which replaces them all.
    """
    from PIL import Image
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from unmask.errors import UnmaskError
    from unmask.media import open_media
    from unmask.media.types import Frame

    stem = file_name_part(video.stem, "video")
    suffix = image_format
    earlier = earlier_frames(folder, stem)
    if earlier and not force:
        raise click.UsageError(
            f"{folder} already holds {len(earlier)} frame(s) of this video (e.g. "
            f"{earlier[0].name}); give --force to replace them, or another folder"
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        _err.print(
            f"[red]error:[/red] cannot make the folder {markup_safe(folder)}: "
            f"{markup_safe(exc.strerror or str(exc))}"
        )
        sys.exit(EXIT_UNREADABLE)

    written: list[Path] = []
    times: list[float] = []
    progress = Progress(
        TextColumn("exporting frames"),
        BarColumn(),
        MofNCompleteColumn(),
        console=_err,
        disable=quiet or not _err.is_terminal,
        transient=True,
    )

    def save(frame: Frame) -> None:
        target = folder / frame_file_name(stem, frame.index, frame.time_s, suffix)
        picture = Image.fromarray(frame.rgb)
        with target.open("wb" if force else "xb") as handle:
            if suffix == "jpg":
                picture.save(handle, "JPEG", quality=JPEG_QUALITY)
            else:
                picture.save(handle, "PNG")
        written.append(target)
        times.append(frame.time_s)

    try:
        with progress:
            task = progress.add_task("frames", total=count)
            media = open_media(
                video,
                n_frames=count,
                near_keyframes=keyframes,
                on_frame=save,
                progress=lambda done, planned: progress.update(task, completed=done, total=planned),
            )
    except UnmaskError as exc:
        _err.print(f"[red]error:[/red] {markup_safe(exc.message)}; {markup_safe(exc.hint)}")
        sys.exit(EXIT_UNREADABLE)
    except FileExistsError as exc:
        _err.print(
            f"[red]error:[/red] {markup_safe(exc.filename)} appeared while exporting; "
            "give --force to overwrite it"
        )
        sys.exit(EXIT_UNREADABLE)
    except OSError as exc:
        _err.print(
            f"[red]error:[/red] cannot write into {markup_safe(folder)}: "
            f"{markup_safe(exc.strerror or str(exc))}"
        )
        sys.exit(EXIT_UNREADABLE)
    if media.kind != "video":
        _err.print(
            f"[red]error:[/red] {markup_safe(video.name)} is a still picture, not a video: "
            "search for it as it is"
        )
        sys.exit(EXIT_UNREADABLE)
    # Only now that this run's frames are all written: a failed run leaves the earlier ones.
    stale = [path for path in earlier if path not in set(written)]
    for path in stale:
        path.unlink(missing_ok=True)
    if not quiet:
        for path in written:
            click.echo(str(path))
    _err.print(f"{len(written)} frame(s) written to {markup_safe(folder)}/", highlight=False)
    if stale:
        _err.print(
            f"{len(stale)} earlier frame(s) of this video removed (--force)", highlight=False
        )
    duration = media.duration_s or 0.0
    if keyframes and len(times) > 1 and max(times) - min(times) < duration / 2:
        # evenly spaced times would span (count - 1) / count of the video
        _err.print(
            f"note: the frames lie within {max(times) - min(times):.1f} s of this "
            f"{duration:.1f} s video: it has few keyframes, so they bunched up; leave out "
            "--keyframes for evenly spaced frames",
            highlight=False,
        )
