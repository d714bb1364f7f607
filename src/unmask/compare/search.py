"""Find the original of a suspect in a folder: PDQ of every still and of sampled video frames,
kept in an index file between runs, searched with the hash bank's index
(`unmask.bank.index.PdqIndex`); the nearest files then go through the full comparison.

Indexing costs one decode per file, once: a later search re-hashes only files that are new or
changed (size or modification time), so a folder of thousands is searched in seconds. The index
holds hashes only, never pictures, and lives in the unmask home folder (UNMASK_HOME), not in
the searched folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from unmask import hashing
from unmask.bank.index import PdqIndex, hex_to_codes
from unmask.compare.engine import compare_footage
from unmask.compare.footage import Footage, load_original, load_suspect
from unmask.compare.result import Comparison
from unmask.compare.timing import frame_codes
from unmask.errors import UnmaskError, UnreadableFileError
from unmask.media import Frame, Limits

INDEX_VERSION = 1
MEDIA_SUFFIXES = {
    ".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff", ".bmp", ".heic", ".avif", ".gif",
    ".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v",
}  # fmt: skip
CANDIDATES = 3
"""Nearest files compared in full, in PDQ order, until one matches."""
SEARCH_RADIUS = hashing.PDQ_CONFIDENT_MATCH_THRESHOLD
"""Hashes within this distance count as hits (ThreatExchange's PDQ match threshold). Files with
no hit are still ranked by their nearest hash, as crops and letterboxes move PDQ further."""
QUERY_FRAMES = 8
"""Suspect video frames hashed for the search (spread over the sample)."""

Report = Callable[[str, int, int], None]
"""progress(stage, done, total)."""


@dataclass
class IndexedFile:
    path: str
    size: int
    mtime_ns: int
    kind: str
    hashes: list[str]
    error: str | None = None


def media_files(folder: Path) -> list[Path]:
    return sorted(
        p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in MEDIA_SUFFIXES
    )


def index_path(folder: Path) -> Path:
    from unmask.protect.keys import HOME_ENV

    home = Path(os.environ.get(HOME_ENV) or Path.home() / ".unmask")
    key = hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:16]
    return home / "compare-index" / f"{key}.json"


def update_index(
    folder: Path, limits: Limits | None = None, progress: Report | None = None
) -> list[IndexedFile]:
    """Hash new or changed files of `folder`, drop vanished ones, save, and return the index."""
    store = index_path(folder)
    known: dict[str, IndexedFile] = {}
    if store.exists():
        try:
            data = json.loads(store.read_text("utf-8"))
            if data.get("version") == INDEX_VERSION and data.get("folder") == str(folder.resolve()):
                known = {f["path"]: IndexedFile(**f) for f in data["files"]}
        except (ValueError, KeyError, TypeError):
            known = {}
    files = media_files(folder)
    out: list[IndexedFile] = []
    for n, path in enumerate(files):
        stat = path.stat()
        entry = known.get(str(path))
        if entry is None or entry.size != stat.st_size or entry.mtime_ns != stat.st_mtime_ns:
            entry = _hash(path, stat.st_size, stat.st_mtime_ns, limits)
        out.append(entry)
        if progress is not None:
            progress("indexing", n + 1, len(files))
    store.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "version": INDEX_VERSION,
        "folder": str(folder.resolve()),
        "files": [vars(f) for f in out],
    }
    temporary = store.with_suffix(".tmp")
    temporary.write_text(json.dumps(document), "utf-8")
    temporary.replace(store)
    return out


def _hash(path: Path, size: int, mtime_ns: int, limits: Limits | None) -> IndexedFile:
    try:
        result = hashing.hash_file(path, window_cuts=hashing.BANK_WINDOW_CUTS)
    except UnmaskError as exc:
        return IndexedFile(str(path), size, mtime_ns, "unreadable", [], exc.message)
    hashes = [h for h, _ in result.pdq_windows] or ([result.pdq] if result.pdq else [])
    hashes += list(dict.fromkeys(f.pdq for f in result.vpdq))
    return IndexedFile(str(path), size, mtime_ns, result.kind, hashes)


def rank(suspect_frames: list[Frame], files: list[IndexedFile], exclude: Path | None) -> list[str]:
    """Files of the index nearest to the suspect (by their closest hash), best first."""
    usable = [
        f for f in files if f.hashes and (exclude is None or Path(f.path).resolve() != exclude)
    ]
    if not usable:
        return []
    step = max(1, len(suspect_frames) // QUERY_FRAMES)
    chosen = suspect_frames[::step][:QUERY_FRAMES]
    query = np.concatenate([frame_codes(chosen), frame_codes(chosen, mirrored=True)])
    owner = np.concatenate([np.full(len(f.hashes), i) for i, f in enumerate(usable)])
    codes = hex_to_codes([h for f in usable for h in f.hashes])
    index = PdqIndex(codes, owner)
    hits = index.search(query, SEARCH_RADIUS)
    best = np.full(len(usable), 257, dtype=np.int64)
    np.minimum.at(best, index.ids[hits.row], hits.distance)
    if (best <= SEARCH_RADIUS).sum() < CANDIDATES:
        # Too few hits: rank every file by its nearest hash (a crop or letterbox moves PDQ
        # beyond the radius but usually keeps the right file nearest).
        words = np.unpackbits(codes, axis=1).astype(bool)
        qbits = np.unpackbits(query, axis=1).astype(bool)
        for start in range(0, len(words), 4096):
            part = (qbits[:, None, :] != words[None, start : start + 4096, :]).sum(axis=2).min(0)
            np.minimum.at(best, owner[start : start + 4096], part)
    order = np.argsort(best, kind="stable")
    return [usable[i].path for i in order]


def compare_nearest(
    footage: Footage,
    ranked: list[str],
    *,
    keep_maps: bool = False,
    progress: Report | None = None,
) -> tuple[Comparison | None, list[str]]:
    """Compare `footage` with the `CANDIDATES` nearest files in turn, stopping at the first that
    shares its source. Returns the comparison (None if no candidate could be read) and the
    paths tried."""
    best: Comparison | None = None
    tried: list[str] = []
    total = min(CANDIDATES, len(ranked))
    for n, path in enumerate(ranked[:CANDIDATES]):
        try:
            original = load_original(path)
        except UnmaskError:
            continue
        tried.append(path)
        result = compare_footage(footage, original, keep_maps=keep_maps)
        if progress is not None:
            progress("comparing", n + 1, total)
        if best is None or (
            best.outcome == "no_common_source" and result.outcome != "no_common_source"
        ):
            best = result
        if result.outcome != "no_common_source":
            break
    if best is not None:
        best.candidates = tried
    return best, tried


def search_folder(
    suspect: Path,
    folder: Path,
    *,
    frames: int | None = None,
    keep_maps: bool = False,
    progress: Report | None = None,
) -> Comparison:
    """Find the original of `suspect` in `folder` and compare with it. Raises `UnmaskError` when
    the suspect cannot be read or the folder does not exist."""
    if not folder.is_dir():
        raise UnreadableFileError(f"no such folder: {folder}", "check the --originals path")
    started = time.monotonic()
    files = update_index(folder, progress=progress)
    try:
        footage = load_suspect(suspect, frames=frames)
    except UnmaskError as exc:
        raise type(exc)(f"{suspect}: {exc.message}", exc.hint) from None
    ranked = rank(footage.frames, files, exclude=suspect.resolve())
    best, tried = compare_nearest(footage, ranked, keep_maps=keep_maps, progress=progress)
    if best is None:
        best = Comparison(
            suspect=str(suspect),
            original=None,
            outcome="no_common_source",
            summary=f"No picture or video in {folder} could be compared with {suspect.name}.",
            suspect_sha256=footage.sha256,
            suspect_kind="video" if footage.is_video else "image",
        )
    unreadable = sum(1 for f in files if f.error)
    if unreadable:
        best.not_checked.append(f"{unreadable} file(s) in {folder} could not be read.")
    best.not_checked.append(
        f"{len(files)} file(s) in {folder} were searched by PDQ; the {len(tried)} nearest were "
        "compared in full."
    )
    best.elapsed_s = round(time.monotonic() - started, 3)
    return best
