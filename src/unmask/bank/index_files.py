"""The match index saved beside the bank, so that a lookup does not rebuild it.

Building the index reads every hash from the database: for 100,000 banked pictures (1.6 M PDQ
hashes with their crop windows) that cost 16.8 CPU s and 1.65 GB on every `unmask bank match`.
Saved as NumPy .npy files and opened memory-mapped, a lookup reads only the pages it touches.

Where: for a SQLite bank, a folder next to its file (`bank.sqlite3.index/`); for PostgreSQL,
`$XDG_CACHE_HOME/unmask/bank-index/<SHA-256 of the URL without its password>/` (each machine
keeps its own, built from the database). An in-memory database has none.

Trust: `manifest.json`, written last and by rename, names the database (its index-state token)
and the entries the files hold, and lists every file with its size, inode, modification and
change times as they were just after it was written. A file that differs in any of these, is
missing, does not parse as a .npy array of the listed type and shape, or whose tables do not
span its entries (`PdqIndex.from_arrays`) makes the saved index unusable: it is rebuilt from
the database, never trusted. Not caught: bits that flip on the disk under an unchanged file
(no checksum is read on open; hashing every file would cost more than the lookup).

A database restored from a backup keeps its token, and once written to again it can reach the
very count and entry id the saved index names while holding other hashes under those ids: the
index would then report entries it does not hold. So the manifest also keeps a fingerprint of
the newest entries the index holds (`BankReader.index_tail`), and every refresh reads them
again (one query on the primary key); any that differ, or a newer one the index lacks, make it
rebuild (`tail_agrees`).

Writes: each file is written under a temporary name, flushed to disk and renamed into place,
the manifest last; files a new manifest no longer lists are deleted after it. One process
writes at a time (an exclusive `flock` on `lock`; a process that finds it taken leaves saving
to the one holding it); readers never wait.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import mmap
import os
import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

FORMAT = 1
"""Bumped whenever the files' layout changes: an index saved in another format is rebuilt."""
MANIFEST = "manifest.json"
LOCK = "lock"
MAP_FROM_BYTES = 1 << 20
"""Smaller files are read whole; larger ones are memory-mapped."""

FileEntry = dict[str, Any]
"""One saved array as the manifest lists it: file name, dtype, shape and its stat stamp."""


def index_folder(url: str) -> Path | None:
    """Where the saved index of the bank at `url` lives (see the module docstring)."""
    scheme, _, rest = url.partition("://")
    if scheme.startswith("sqlite"):
        database = rest.removeprefix("/").partition("?")[0]
        if database in ("", ":memory:") or database.startswith("file:"):
            return None
        return Path(database + ".index")
    # The password is left out of the key, so changing it keeps the index.
    scheme = scheme.partition("+")[0]
    rest = re.sub(r"^([^@/]*?):[^@/]*@", r"\1@", rest)
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    key = hashlib.sha256(f"{scheme}://{rest}".encode()).hexdigest()
    return base / "unmask" / "bank-index" / key[:32]


def _stamp(path: Path) -> dict[str, int]:
    st = path.stat()
    return {
        "size": st.st_size,
        "inode": st.st_ino,
        "mtime_ns": st.st_mtime_ns,
        "ctime_ns": st.st_ctime_ns,
    }


def read_manifest(folder: Path) -> dict[str, Any] | None:
    """The manifest, or None where there is none or it does not parse."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        return None
    return manifest


def _load_array(folder: Path, entry: FileEntry) -> np.ndarray:
    name = entry["file"]
    if not isinstance(name, str) or Path(name).name != name or name in ("", ".", ".."):
        raise ValueError(f"{name!r} is not a file of this folder")
    path = folder / name
    if _stamp(path) != entry["stamp"]:
        raise ValueError(f"{path.name} changed after it was written")
    if entry["stamp"]["size"] >= MAP_FROM_BYTES:
        array = _map(path)
    else:
        array = np.load(path, allow_pickle=False)
    if str(array.dtype) != entry["dtype"] or list(array.shape) != entry["shape"]:
        raise ValueError(f"{path.name} is not the array the manifest lists")
    return array


def _map(path: Path) -> np.ndarray:
    """A read-only memory map of a .npy file. Lookups read it at random (a probe here, a
    bucket there), so the kernel is told not to read ahead or map the pages around each one:
    a lookup then brings in only the pages it reads, not 64 KB around each."""
    with open(path, "rb") as handle:
        version = np.lib.format.read_magic(handle)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(handle)
        else:
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(handle)
        if fortran or dtype.hasobject:
            raise ValueError(f"{path.name}: not a C-ordered array of numbers")
        offset = handle.tell()
        mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    if hasattr(mmap, "MADV_RANDOM"):
        mapped.madvise(mmap.MADV_RANDOM)
    try:
        return np.ndarray(shape, dtype=dtype, buffer=mapped, offset=offset)
    except TypeError:  # the file is shorter than its header says
        raise ValueError(f"{path.name} is truncated") from None


def load(folder: Path) -> tuple[dict[str, Any], dict[str, dict[str, np.ndarray]]] | None:
    """The manifest and every segment's arrays, or None where nothing usable is saved (no
    manifest, or any file missing, changed or damaged: see the module docstring)."""
    for _ in range(3):  # a writer may replace the files between the manifest and them
        manifest = read_manifest(folder)
        if manifest is None:
            return None
        try:
            segments = {
                name: {key: _load_array(folder, entry) for key, entry in files.items()}
                for name, files in manifest["segments"].items()
            }
        except FileNotFoundError:
            continue
        except (OSError, ValueError, KeyError, TypeError, AttributeError, EOFError):
            return None
        return manifest, segments
    return None


STATE = {
    "token": str,
    "generation": int,
    "last_entry_id": int,
    "removed_at_build": int,
    "entries": int,
    "exact": int,
    "vpdq_videos": int,
    "tail": list,
}
"""The manifest's `state`: what the saved index holds (see `unmask.bank.matching.Matcher`)."""


def checked_state(state: dict[str, Any]) -> dict[str, Any]:
    """A saved index's state, every field there and of its type (else ValueError)."""
    if not isinstance(state, dict) or any(
        type(state.get(key)) is not kind for key, kind in STATE.items()
    ):
        raise ValueError("the saved index's state is incomplete")
    if not all(
        isinstance(e, list) and len(e) == 2 and type(e[0]) is int and type(e[1]) is str
        for e in state["tail"]
    ):
        raise ValueError("the saved index's newest entries are not (id, fingerprint) pairs")
    return {key: state[key] for key in STATE}


def tail_agrees(saved: list[list[Any]], current: list[tuple[int, str]]) -> bool:
    """Whether the database's newest entries up to the index's last one (`current`, newest
    first) are those the index was built from (`saved`, as `index_tail` gave them then).
    Entries removed since are missing from `current`, which is fine (removals are checked at
    match time); one with another fingerprint, or one newer than the oldest saved that the
    saved list lacks, is not. With every saved entry removed nothing is left to compare:
    that too counts as disagreeing (the index is rebuilt)."""
    fingerprints = {i: f for i, f in saved}
    oldest = min(fingerprints, default=0)
    compared = [(i, f) for i, f in current if i >= oldest]
    if fingerprints and not compared:
        return False
    return all(fingerprints.get(i) == f for i, f in compared)


def files_intact(folder: Path, files: dict[str, FileEntry]) -> bool:
    """Whether the files listed are still there as they were written."""
    try:
        return all(_stamp(folder / e["file"]) == e["stamp"] for e in files.values())
    except OSError:
        return False


@contextlib.contextmanager
def writing(folder: Path) -> Iterator[bool]:
    """Hold the folder's write lock; yields False (and holds nothing) where another process
    holds it, or where the folder cannot be written (a read-only place: the index then lives
    in memory only, as before it was saved)."""
    try:
        import fcntl
    except ImportError:  # no flock on this platform: never write, so never race
        yield False
        return
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(folder / LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        yield False
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


def _write_atomic(path: Path, write: Any) -> None:
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with open(temporary, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_segment(folder: Path, name: str, arrays: dict[str, np.ndarray]) -> dict[str, FileEntry]:
    """Write one segment's arrays under new names (hold `writing`); returns their entries."""
    tag = secrets.token_hex(6)
    files = {}
    for key, array in arrays.items():
        path = folder / f"{name}.{tag}.{key}.npy"
        _write_atomic(path, lambda handle, a=array: np.save(handle, a, allow_pickle=False))
        files[key] = {
            "file": path.name,
            "dtype": str(array.dtype),
            "shape": list(array.shape),
            "stamp": _stamp(path),
        }
    return files


def write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    """Put `manifest` in place (hold `writing`), then delete the files it no longer lists."""
    manifest = {**manifest, "format": FORMAT}
    _write_atomic(folder / MANIFEST, lambda handle: handle.write(json.dumps(manifest).encode()))
    listed = {e["file"] for files in manifest["segments"].values() for e in files.values()}
    for path in folder.iterdir():
        if path.name not in listed and path.name not in (MANIFEST, LOCK):
            path.unlink(missing_ok=True)
