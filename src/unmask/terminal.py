"""Showing file-controlled text in a terminal safely, and living with a closed pipe.

File names, metadata and messages that quote them are hostile input: a name can hold Rich
markup (`dir[/]bad.jpg` is a closing tag to Rich) or terminal commands (`\\x1b[2J` clears the
screen; U+202E shows "gpj.exe" as "exe.jpg"). Everything shown goes through `printable`, and
into Rich as `Text` or through `markup_safe`, never as markup.
"""

from __future__ import annotations

import os
import re

from rich.console import Console
from rich.markup import escape

# Characters that a terminal acts on or that make a shown name read differently from what it
# is: C0 and C1 controls (ESC starts a terminal command), DEL, and the bidirectional overrides
# and invisible formatting characters of Unicode.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def printable(text: str) -> str:
    """`text` with every control, bidirectional and invisible formatting character written as
    an escape (`\\x1b`, `\\u202e`). Combine with Rich `Text` (or `markup_safe`) so that `[/]`
    is not markup either."""
    return _UNPRINTABLE.sub(lambda m: m.group(0).encode("unicode_escape").decode("ascii"), text)


_NOT_IN_FILE_NAMES = re.compile(r"[^A-Za-z0-9._-]+")


FILE_NAME_PART_MAX = 80


def file_name_part(name: str, fallback: str) -> str:
    """`name` (a file's own name, so hostile input) as part of a name of a file we write: only
    ASCII letters, digits, ".", "_" and "-" (controls, slashes, bidirectional overrides become
    "_"), at most `FILE_NAME_PART_MAX` characters, a short extension kept when a long name is
    cut (a copy named `…-photo.jpg` still opens as a picture); `fallback` when none is left.
    Put it after a prefix of ours: on its own, `..` would name the folder above."""
    part = _NOT_IN_FILE_NAMES.sub("_", name)
    if len(part) > FILE_NAME_PART_MAX:
        stem, dot, extension = part.rpartition(".")
        kept = dot + extension if stem and dot and len(extension) <= 8 else ""
        part = part[: FILE_NAME_PART_MAX - len(kept)] + kept
    return part or fallback


def markup_safe(text: object) -> str:
    """Any value as text to put inside a Rich markup string: printable, brackets escaped."""
    return escape(printable(str(text)))


class PipeSafeConsole(Console):
    """A Rich console that, when its reader goes away (`unmask scan photo.jpg | head -1`),
    stops writing and lets the command finish with the exit code its results call for,
    instead of Rich's default of exiting with status 1 (which reads as "likely manipulated")."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self.file.fileno())
        except (OSError, ValueError):
            pass


def counted(count: int, singular: str, plural: str | None = None) -> str:
    """A number and its noun, agreed: "1 CA", "30 CAs", "0 files" (`plural` defaults to
    `singular` + "s")."""
    return f"{count} {singular if count == 1 else plural or singular + 's'}"


__all__ = ["PipeSafeConsole", "counted", "markup_safe", "printable"]
