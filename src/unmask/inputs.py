"""Turn what the user typed (files, folders, "-") into the list of files to scan."""

from __future__ import annotations

import os
import stat
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from unmask.errors import LimitExceededError, UnmaskError, UnreadableFileError

STDIN = "-"

MEDIA_SUFFIXES = frozenset(
    (  # noqa: SIM905 (one string reads better than 48 quoted names)
        ".jpg .jpeg .jpe .jfif .png .apng .gif .webp .bmp .dib .tif .tiff .heic .heif .hif "
        ".avif .jxl .svg .psd .ico .dng .cr2 .cr3 .nef .nrw .arw .raf .orf .rw2 .pef .srw "
        ".mp4 .m4v .mov .qt .mkv .webm .avi .ts .m2ts .mts .3gp .3g2 .mpg .mpeg .wmv .flv .ogv"
    ).split()
)
"""Names that promise a picture or a video, including the kinds unmask cannot read (camera raw,
JPEG XL, SVG): a file so named is scanned, and reported as an error if it is something else,
never skipped."""


@dataclass(frozen=True)
class Input:
    path: Path
    """Where the bytes are (a temporary file for standard input)."""
    name: str
    """What to call it in results."""
    from_folder: bool = False
    """Found by walking a folder the user named, rather than named by the user."""


def expand(arguments: list[str], max_stdin_bytes: int) -> list[Input]:
    """Files as given, folders walked recursively in sorted order (hidden entries skipped),
    "-" read from standard input into a private temporary file.

    Links to folders are followed, but no folder is entered twice (a link to a parent would
    otherwise loop for ever). Whatever a walk meets is listed, FIFOs and sockets included: the
    loader refuses anything that is not a regular file, without opening it, and says why.
    """
    inputs: list[Input] = []
    for argument in arguments:
        if argument == STDIN:
            inputs.append(Input(_spool_stdin(max_stdin_bytes), "<stdin>"))
            continue
        path = Path(argument)
        if path.is_dir():
            inputs.extend(_walk(path))
        else:
            inputs.append(Input(path, argument))
    return inputs


def not_media(item: Input) -> str | None:
    """What a file met in a folder is, when it is clearly neither a picture nor a video: its name
    does not promise one (`MEDIA_SUFFIXES`) and its first bytes are not one (the loader's own
    sniffing). None for everything else, which is scanned.

    This is the one rule that keeps the notes, spreadsheets and exports that sit beside a
    person's photos out of a folder scan (local workers and Ray alike: it runs before files are
    handed out). A file the user named, a `.jpg` that holds text, and a file that cannot be
    opened (a FIFO, a dangling link) are never skipped: the scan reports them as errors."""
    if not item.from_folder or item.path.suffix.lower() in MEDIA_SUFFIXES:
        return None
    from unmask.media.loader import read_head
    from unmask.media.sniff import sniff

    try:
        _, head = read_head(item.path)
    except UnmaskError:
        return None
    if not head:
        return "an empty file"
    kind = sniff(head)
    return kind.description if kind.family == "unknown" else None


def read_list(source: str) -> list[str]:
    """The entries of a file list (`--files-from`): one path, folder or URI a line, "-" for
    standard input; blank lines and lines starting with "#" are skipped, nothing else is
    changed (a name may hold spaces)."""
    try:
        text = sys.stdin.read() if source == STDIN else Path(source).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UnreadableFileError(
            f"the file list {source} could not be read ({exc.__class__.__name__})",
            "give a UTF-8 text file with one path a line",
        ) from None
    return [
        line
        for line in text.splitlines()
        if line.strip() and not line.lstrip().startswith("#") and line != STDIN
    ]


def _walk(folder: Path) -> list[Input]:
    found: list[Input] = []
    seen: set[tuple[int, int]] = set()
    for root, dirs, files in os.walk(folder, followlinks=True):
        try:
            info = os.stat(root)
        except OSError:
            dirs[:] = []
            continue
        if (info.st_dev, info.st_ino) in seen:
            dirs[:] = []
            continue
        seen.add((info.st_dev, info.st_ino))
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and _unseen(root, d, seen))
        for file in sorted(files):
            if not file.startswith("."):
                child = Path(root) / file
                found.append(Input(child, str(child), from_folder=True))
    return found


def _unseen(root: str, name: str, seen: set[tuple[int, int]]) -> bool:
    try:
        info = os.stat(os.path.join(root, name))
    except OSError:
        return False
    return stat.S_ISDIR(info.st_mode) and (info.st_dev, info.st_ino) not in seen


def _spool_stdin(max_bytes: int) -> Path:
    with tempfile.NamedTemporaryFile(prefix="unmask-stdin-", delete=False) as handle:
        copied = 0
        while chunk := sys.stdin.buffer.read(1 << 20):
            copied += len(chunk)
            if copied > max_bytes:
                os.unlink(handle.name)
                raise LimitExceededError(
                    "standard input is larger than the file-size limit",
                    "raise it with --max-file-size",
                )
            handle.write(chunk)
    return Path(handle.name)


def cleanup(inputs: list[Input]) -> None:
    for item in inputs:
        if item.name == "<stdin>":
            item.path.unlink(missing_ok=True)


__all__ = ["MEDIA_SUFFIXES", "STDIN", "Input", "cleanup", "expand", "not_media", "read_list"]
