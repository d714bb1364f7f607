"""The private folder that holds a server's uploads, and the sweep that removes those left by a
server that could not clean up (killed with SIGKILL, a power cut).

Each folder is `unmask-web-*` (mode 0700) with an `owner.pid` file naming the process that made
it and when that process started; a later `unmask serve` removes every such folder of this user
whose owner is no longer running. The start time guards against a reused process id: a new
process with the same id started later than the folder's owner.
"""

from __future__ import annotations

import logging
import os
import shutil
import stat
import tempfile
import time
from pathlib import Path

log = logging.getLogger(__name__)

PREFIX = "unmask-web-"
OWNER_FILE = "owner.pid"
UNOWNED_GRACE_S = 60.0
"""A folder without an owner file is left alone this long: it may be one being made right now
(the file is written just after the folder)."""


def make_private_folder(base: Path | None) -> Path:
    """A new 0700 upload folder in `base` (the system's temporary folder when None), owned by
    this process."""
    if base is not None:
        base.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=PREFIX, dir=base))
    (folder / OWNER_FILE).write_text(f"{os.getpid()} {_started(os.getpid())}\n")
    return folder


def sweep_abandoned(base: Path | None, now: float | None = None) -> list[Path]:
    """Remove the upload folders in `base` left by servers of this user that are gone; returns
    them. Never follows a link and never touches another user's folder."""
    root = Path(base) if base is not None else Path(tempfile.gettempdir())
    now = time.time() if now is None else now
    removed = []
    try:
        candidates = [p for p in root.iterdir() if p.name.startswith(PREFIX)]
    except OSError:
        return []
    for folder in candidates:
        try:
            info = os.lstat(folder)
        except OSError:
            continue
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
            continue
        if _owner_alive(folder, info.st_mtime, now):
            continue
        shutil.rmtree(folder, ignore_errors=True)
        log.info("removed %s, left by a server that stopped without cleaning up", folder)
        removed.append(folder)
    return removed


def _owner_alive(folder: Path, mtime: float, now: float) -> bool:
    try:
        fd = os.open(folder / OWNER_FILE, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        return now - mtime < UNOWNED_GRACE_S
    except OSError:
        return False
    with os.fdopen(fd) as handle:
        fields = handle.read(100).split()
    try:
        pid, started = int(fields[0]), fields[1] if len(fields) > 1 else ""
    except (ValueError, IndexError):
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # alive, but another user's: keep it
    return _started(pid) == started


def _started(pid: int) -> str:
    """When process `pid` started, in clock ticks since boot (Linux); "" where unknown."""
    try:
        stat_line = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    # Field 22; the command name (field 2) may hold spaces and parentheses, so split after it.
    return stat_line.rsplit(")", 1)[-1].split()[19]
