"""Turn what the user typed (files, folders, "-") into the list of files to scan."""

from __future__ import annotations

import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from unmask.errors import LimitExceededError

STDIN = "-"


@dataclass(frozen=True)
class Input:
    path: Path
    """Where the bytes are (a temporary file for standard input)."""
    name: str
    """What to call it in results."""


def expand(arguments: list[str], max_stdin_bytes: int) -> list[Input]:
    """Files as given, folders walked recursively in sorted order (hidden entries skipped),
    "-" read from standard input into a private temporary file."""
    inputs: list[Input] = []
    for argument in arguments:
        if argument == STDIN:
            inputs.append(Input(_spool_stdin(max_stdin_bytes), "<stdin>"))
            continue
        path = Path(argument)
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for file in sorted(files):
                    if not file.startswith("."):
                        child = Path(root) / file
                        inputs.append(Input(child, str(child)))
        else:
            inputs.append(Input(path, argument))
    return inputs


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


__all__ = ["STDIN", "Input", "cleanup", "expand"]
