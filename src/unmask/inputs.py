"""Turn what the user typed (files, folders, "-") into the list of files to scan."""

from __future__ import annotations

import os
import stat
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from unmask.errors import LimitExceededError, UnmaskError, UnreadableFileError

STDIN = "-"

PICTURE_SUFFIXES = frozenset(
    (  # noqa: SIM905 (one string reads better than 31 quoted names)
        ".jpg .jpeg .jpe .jfif .png .apng .gif .webp .bmp .dib .tif .tiff .heic .heif .hif "
        ".avif .jxl .svg .psd .ico .dng .cr2 .cr3 .nef .nrw .arw .raf .orf .rw2 .pef .srw"
    ).split()
)
"""Names that promise a picture, including the kinds unmask cannot read (camera raw, JPEG XL,
SVG)."""
VIDEO_SUFFIXES = frozenset(
    ".mp4 .m4v .mov .qt .mkv .webm .avi .ts .m2ts .mts .3gp .3g2 .mpg .mpeg .wmv .flv .ogv".split()  # noqa: SIM905
)
"""Names that promise a video."""
MEDIA_SUFFIXES = PICTURE_SUFFIXES | VIDEO_SUFFIXES
"""Names that promise a picture or a video: a file so named is scanned, never skipped; in a
folder, a kind unmask cannot read is then reported as not checked (`not_checked`), and anything
else that fails as an error."""
SKIPPED_NAMES_SHOWN = 10
"""File names `skipped_line` lists before it says how many more there are."""


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


def _ftyp_brand(head: bytes, brands: tuple[bytes, ...]) -> bool:
    """The ISO base media file's major brand (ISO/IEC 14496-12 "ftyp") is one of `brands`."""
    return head[4:8] == b"ftyp" and head[8:12] in brands


def _sniffed_as(*formats: str) -> Callable[[bytes], bool]:
    """The loader's own sniffing (`unmask.media.sniff`) names the file one of `formats`."""

    def check(head: bytes) -> bool:
        from unmask.media.sniff import sniff

        return sniff(head).format in formats

    return check


AUDIO_BRANDS = (b"M4A ", b"M4B ", b"M4P ")
"""ftyp major brands of MP4 audio: iTunes AAC audio, audiobooks, protected audio."""

CANNOT_READ: tuple[tuple[frozenset[str], str, Callable[[bytes], bool]], ...] = (
    (frozenset({".cr3"}), "a Canon RAW photo (CR3)", lambda h: _ftyp_brand(h, (b"crx ",))),
    (frozenset({".raf"}), "a Fujifilm RAW photo (RAF)", lambda h: h[:15] == b"FUJIFILMCCD-RAW"),
    (
        frozenset({".orf"}),
        "an Olympus RAW photo (ORF)",
        lambda h: h[:4] in (b"IIRO", b"IIRS", b"MMOR"),
    ),
    (frozenset({".rw2"}), "a Panasonic RAW photo (RW2)", lambda h: h[:4] == b"IIU\x00"),
    (
        frozenset(".dng .cr2 .nef .nrw .arw .pef .srw".split()),  # noqa: SIM905
        "a camera RAW photo",
        _sniffed_as("TIFF"),
    ),
    (frozenset({".svg"}), "an SVG drawing", lambda h: h.lstrip()[:1] == b"<"),
    (frozenset({".psd"}), "a Photoshop document (PSD)", lambda h: h[:4] == b"8BPS"),
    (
        frozenset({".jxl"}),
        "a JPEG XL picture",
        lambda h: h[:2] == b"\xff\x0a" or h[4:12] == b"JXL \r\n\x87\n",
    ),
    (frozenset({".ico"}), "an icon (ICO)", lambda h: h[:4] == b"\x00\x00\x01\x00"),
    (
        frozenset({".heic", ".heif", ".hif", ".avif"}),
        "a HEIF picture",
        _sniffed_as("HEIF", "AVIF"),
    ),
)
"""Picture kinds a photographer's folder holds that unmask cannot read: the names, what they
are, and the first bytes that show a file so named is one (a text file named .CR3 is not)."""


def not_checked(item: Input, code: str, message: str) -> tuple[str, str] | None:
    """Why a file met in a folder, which the scan could not read, is a kind unmask does not
    check rather than a file whose bytes contradict its name, with what the user can do; None
    when it is not (and the failure counts as an unreadable input).

    Two such kinds: a picture unmask cannot read, when its bytes are the kind its name says
    (`CANNOT_READ`: camera RAW beside the JPEGs, SVG, PSD, JPEG XL, ICO, HEIC without
    pillow-heif), and sound alone in an MP4 container (a .m4a voice memo: an audio brand, or
    no video stream), unless its name promises a picture. Files the user named are never
    excused, nor a `.jpg` holding text, nor a file refused by a limit."""
    if not item.from_folder or code not in ("unsupported_format", "corrupt_media"):
        return None
    from unmask.media.loader import read_head

    try:
        _, head = read_head(item.path)
    except UnmaskError:
        return None
    suffix = item.path.suffix.lower()
    for suffixes, what, is_one in CANNOT_READ:
        if suffix in suffixes and is_one(head):
            return f"{what}, which unmask cannot read", "export it as JPEG or PNG to check it"
    from unmask.media.video import NO_VIDEO_STREAM

    audio_only = _ftyp_brand(head, AUDIO_BRANDS) or (
        code == "unsupported_format" and NO_VIDEO_STREAM in message and head[4:8] == b"ftyp"
    )
    if audio_only and suffix not in PICTURE_SUFFIXES:
        return "sound only, no picture (an audio file)", "unmask checks pictures and videos"
    return None


def skipped_line(names: list[str], more_in: str = "") -> str:
    """One line naming the files a folder scan or evaluation left out, e.g. "skipped 3 files
    that are not pictures or videos: labels.csv, notes.md, results.json"; past
    `SKIPPED_NAMES_SHOWN` names it says how many more, and `more_in` where all are listed."""
    shown = ", ".join(names[:SKIPPED_NAMES_SHOWN])
    if len(names) > SKIPPED_NAMES_SHOWN:
        where = f" (all in {more_in})" if more_in else ""
        shown += f" and {len(names) - SKIPPED_NAMES_SHOWN} more{where}"
    if len(names) == 1:
        return f"skipped 1 file that is not a picture or video: {shown}"
    return f"skipped {len(names)} files that are not pictures or videos: {shown}"


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


__all__ = [
    "AUDIO_BRANDS",
    "CANNOT_READ",
    "MEDIA_SUFFIXES",
    "PICTURE_SUFFIXES",
    "SKIPPED_NAMES_SHOWN",
    "STDIN",
    "VIDEO_SUFFIXES",
    "Input",
    "cleanup",
    "expand",
    "not_checked",
    "not_media",
    "read_list",
    "skipped_line",
]
