"""Match hashes against every bank: PDQ within a radius (with crop-robust window hashes),
vPDQ by frame-match percentages, SHA-256/MD5 exactly.

The index is built from the store once, saved beside it (`unmask.bank.index_files`) and kept
current: `refresh()` (run at most once a second before a lookup) loads entries added since the
last load into a small delta, and folds them into the main index when that grows. Removed and
disabled entries are checked against the store whenever they are found, so they never match,
even before the next rebuild.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from unmask.bank.index import PdqIndex, hex_to_codes
from unmask.bank.index_files import (
    FileEntry,
    checked_state,
    files_intact,
    index_folder,
    load,
    read_manifest,
    tail_agrees,
    write_manifest,
    write_segment,
    writing,
)
from unmask.hashing import (
    PDQ_CONFIDENT_MATCH_THRESHOLD,
    PDQ_QUALITY_THRESHOLD,
    FileHashes,
    VpdqFrame,
    VpdqSignal,
    exact_algorithm,
    signal_type,
    vpdq_is_match,
    vpdq_match_percent,
)

if TYPE_CHECKING:  # a lookup never needs SQLAlchemy's ORM (half a CPU second to import)
    from collections.abc import Sequence

    from unmask.bank.records import EntryInfo, IndexRow, IndexVersion


class EntrySource(Protocol):
    """What the matcher reads: `BankStore`, or a plain read-only connection to it."""

    url: str

    def index_version(self) -> IndexVersion: ...

    def index_tail(self, through_id: int) -> list[tuple[int, str]]: ...

    def index_rows(self, after_id: int = 0, through_id: int | None = None) -> list[IndexRow]: ...

    def find_exact(self, digests: Sequence[tuple[str, str]]) -> list[tuple[str, str, int]]: ...

    def get_entries(self, ids: Sequence[int]) -> dict[int, EntryInfo]: ...


_Raw = tuple[int, str, int, bool, float | None, float | None, str]
"""A hit before it is checked against the store: entry id, signal type ("" for a digest: the
entry's own), distance, via a window, vPDQ query and compared percentages, transform."""

REFRESH_EVERY_S = 1.0
"""How stale the index may be: new entries become matchable within about this long."""
SIDE_INDEX_MAX = 50_000
"""Fold the delta into the main index once it holds this many hashes."""
REBUILD_FRACTION = 0.25
"""Rebuild from the database once more than this share of the indexed entries were removed
since the last rebuild: their hashes stay in the index until then (found, checked against the
database, dropped)."""


MATCH_CAUTIONS = {
    "pdq": "PDQ compares how pictures look, not who is in them: a different picture that "
    "looks alike can match, so a person must review it. A match says nothing about whether "
    "either picture was manipulated.",
    "vpdq": "vPDQ compares whole frames, so a deepfake matches the video it was made from, and "
    "that unmanipulated source video matches a banked deepfake made from it: banking a "
    "deepfake can block the original footage too. Review before acting; a match says nothing "
    "about which of the two was manipulated.",
    "exact": "An exact match says the file is identical to a banked one; it says nothing about "
    "whether either was manipulated.",
}
"""What each kind of match does not prove, told to reviewers with every match."""


@dataclass
class Match:
    """One banked entry a query matched, with what a reviewer needs to judge it."""

    entry: EntryInfo
    signal_type: str
    distance: int
    """Hamming distance for PDQ (smallest over the windows compared); 0 for exact hashes;
    100 minus the query's frame-match percentage for vPDQ."""
    query_match_percent: float | None = None
    compared_match_percent: float | None = None
    via_window: bool = False
    """True if only a sub-window hash matched (a cropped copy), not the whole picture."""
    transform: str = ""
    """How the query relates to the banked picture when only a rotated or mirrored hash
    matched (`unmask.hashing.PDQ_DIHEDRAL_TRANSFORMS`); empty otherwise."""

    @property
    def meaning(self) -> str:
        """What the match means, in a reviewer's words."""
        if self.signal_type == "pdq":
            bits = f"{self.distance} of 256 bits differ"
            if self.transform:
                return (
                    f"this picture is the banked picture {self.transform}, otherwise visually "
                    f"near-identical ({bits})"
                )
            if self.via_window:
                return f"a cropped copy of a banked picture, visually near-identical ({bits})"
            return f"visually near-identical picture ({bits})"
        if self.signal_type == "vpdq":
            return (
                f"same frames as a banked video: {self.query_match_percent or 0:.0f} % of this "
                f"video's frames match (and {self.compared_match_percent or 0:.0f} % of the "
                "banked video's)"
            )
        return "exact file: byte for byte the same file as a banked one"

    @property
    def caution(self) -> str:
        """What the match does not prove (see `MATCH_CAUTIONS`)."""
        kind = self.signal_type if self.signal_type in ("pdq", "vpdq") else "exact"
        return MATCH_CAUTIONS[kind]

    def to_dict(self) -> dict[str, object]:
        data: dict[str, object] = {
            "bank": self.entry.bank,
            "entry_id": self.entry.id,
            "signal_type": self.signal_type,
            "distance": self.distance,
            "labels": self.entry.labels,
            "meaning": self.meaning,
            "caution": self.caution,
            "source": self.entry.source,
            "added_at": self.entry.added_at.isoformat(),
        }
        if self.signal_type == "pdq":
            data["via_window"] = self.via_window
            data["transform"] = self.transform or None
        if self.query_match_percent is not None:
            data["query_match_percent"] = round(self.query_match_percent, 1)
            data["compared_match_percent"] = round(self.compared_match_percent or 0.0, 1)
        return data


@dataclass
class Query:
    """Hashes of one thing to look up. Build it from a file's hashes or from hash strings."""

    pdq: list[str] = field(default_factory=list)
    """The whole-picture PDQ first, then any window hashes."""
    rotations: list[tuple[str, str]] = field(default_factory=list)
    """(transform, PDQ) of the picture's rotations and mirror images."""
    vpdq: list[VpdqFrame] = field(default_factory=list)
    exact: list[tuple[str, str]] = field(default_factory=list)
    """(algorithm, hash) for file digests: ("md5", ...) or ("sha256", ...)."""
    low_quality: bool = False

    @classmethod
    def from_file(cls, hashes: FileHashes) -> Query:
        query = cls(exact=[("sha256", hashes.sha256), ("md5", hashes.md5)], vpdq=hashes.vpdq)
        if hashes.pdq is not None:
            if (hashes.pdq_quality or 0) < PDQ_QUALITY_THRESHOLD:
                query.low_quality = True
            else:
                query.pdq = [hashes.pdq] + [
                    h
                    for h, q in hashes.pdq_windows
                    if q >= PDQ_QUALITY_THRESHOLD and h != hashes.pdq
                ]
                seen = set(query.pdq)
                for name, h, q in hashes.pdq_rotations:
                    if q >= PDQ_QUALITY_THRESHOLD and h not in seen:  # symmetric pictures
                        query.rotations.append((name, h))
                        seen.add(h)
        return query

    @classmethod
    def from_hash(cls, kind: str, value: str) -> Query:
        sig = signal_type(kind)
        value = sig.validate(value)
        if sig.name == "pdq":
            return cls(pdq=[value])
        if sig.name == "vpdq":
            return cls(vpdq=VpdqSignal.parse(value))
        return cls(exact=[(exact_algorithm(sig.name) or sig.name, value)])


class _Layer:
    """PDQ hashes of one kind (pictures with their windows, or video frames): a main index and
    a delta of rows added since it was built, searched by brute force until it is folded in."""

    def __init__(self, main: PdqIndex | None = None, main_window: np.ndarray | None = None) -> None:
        self.main = PdqIndex(hex_to_codes([])) if main is None else main
        self.main_window = np.zeros(0, bool) if main_window is None else main_window
        self.delta = PdqIndex(hex_to_codes([]))
        self.delta_window = np.zeros(0, bool)

    @classmethod
    def from_arrays(cls, main: dict[str, np.ndarray], delta: dict[str, np.ndarray]) -> _Layer:
        layer = cls(PdqIndex.from_arrays(main), main["window"])
        layer.delta, layer.delta_window = PdqIndex.from_arrays(delta), delta["window"]
        for index, window in ((layer.main, layer.main_window), (layer.delta, layer.delta_window)):
            if window.dtype != np.bool_ or window.shape != index.ids.shape:
                raise ValueError("window: not a bool array as long as the index")
        return layer

    def arrays(self, part: str) -> dict[str, np.ndarray]:
        index, window = (
            (self.main, self.main_window) if part == "main" else (self.delta, self.delta_window)
        )
        return index.arrays() | {"window": window}

    def add(self, hashes: list[str], ids: list[int], window: list[bool]) -> None:
        if hashes:
            self.delta = PdqIndex(
                np.concatenate([self.delta.codes(), hex_to_codes(hashes)]),
                np.concatenate([self.delta.ids, np.array(ids, dtype=np.int64)]),
            )
            self.delta_window = np.concatenate([self.delta_window, np.array(window, bool)])

    def fold(self) -> None:
        """Rebuild the main index with the delta in it (~4 s at 1 M hashes)."""
        self.main = PdqIndex(
            np.concatenate([self.main.codes(), self.delta.codes()]),
            np.concatenate([self.main.ids, self.delta.ids]),
        )
        self.main_window = np.concatenate([self.main_window, self.delta_window])
        self.delta, self.delta_window = PdqIndex(hex_to_codes([])), np.zeros(0, bool)

    def search(self, codes: np.ndarray, radius: int) -> Iterator[tuple[int, int, int, bool]]:
        """(query, entry id, distance, banked window) of every hash within `radius`."""
        for index, window in ((self.main, self.main_window), (self.delta, self.delta_window)):
            if len(index):
                hits = index.search(codes, radius)
                for q, row, dist in zip(hits.query, hits.row, hits.distance, strict=True):
                    yield int(q), int(index.ids[row]), int(dist), bool(window[row])


_SEGMENTS = ("pdq-main", "pdq-delta", "vpdq-main", "vpdq-delta")


class Matcher:
    """Every enabled entry of every enabled bank, ready to match. Thread-safe.

    The index is saved beside the bank (`unmask.bank.index_files`) and opened from there when
    it agrees with the database's index state and newest entries; entries added since are
    loaded into the delta (and saved with it), and only a saved index of another database, of
    a newer state or other newest entries than the database's (a restored backup, written to
    since or not), or holding many removed entries is rebuilt from the database. Digests (MD5,
    SHA-256) are looked up in the database, which indexes them."""

    def __init__(
        self,
        store: EntrySource,
        radius: int = PDQ_CONFIDENT_MATCH_THRESHOLD,
        *,
        save: bool = True,
    ) -> None:
        self.store = store
        self.radius = radius
        self.folder = index_folder(store.url) if save else None
        self._lock = threading.Lock()
        self._last_refresh = 0.0
        self._pdq = _Layer()
        self._vpdq = _Layer()
        self._state: dict[str, Any] = {}
        """What the index holds: the index-state token and generation it agrees with, the last
        entry id loaded, removals at the last rebuild, counts of entries by kind."""
        self._files: dict[str, dict[str, FileEntry]] = {}
        self._dirty: set[str] = set()
        self.rebuilds = 0
        """Times the index was built from every entry in the database (not from saved files)."""
        self.saved_at: float | None = None
        self.built_at: float | None = None
        with self._lock:
            self._open_saved()
        self.refresh(force=True, fold=not self._files)

    # -- loading --------------------------------------------------------------------------

    def _open_saved(self) -> None:
        if self.folder is None:
            return
        saved = load(self.folder)
        if saved is None:
            return
        manifest, segments = saved
        try:
            self._pdq = _Layer.from_arrays(segments["pdq-main"], segments["pdq-delta"])
            self._vpdq = _Layer.from_arrays(segments["vpdq-main"], segments["vpdq-delta"])
            self._state = checked_state(manifest["state"])
        except (KeyError, ValueError, TypeError, AttributeError):
            self._pdq, self._vpdq, self._state = _Layer(), _Layer(), {}
            return
        self._files = manifest["segments"]

    def _rebuild(self, version: IndexVersion) -> None:
        """Build the index from every entry in the database (what a saved index spares)."""
        self._pdq, self._vpdq = _Layer(), _Layer()
        self._state = {
            "token": version.token,
            "generation": version.generation,
            "last_entry_id": 0,
            "removed_at_build": version.removed,
            "entries": 0,
            "exact": 0,
            "vpdq_videos": 0,
            "tail": [],
        }
        self._files = {}
        self._dirty = set(_SEGMENTS)
        self.rebuilds += 1
        self._load_rows(version)
        self._pdq.fold()
        self._vpdq.fold()

    def _load_rows(self, version: IndexVersion) -> None:
        rows = self.store.index_rows(self._state["last_entry_id"], version.last_entry_id)
        pdq: tuple[list[str], list[int], list[bool]] = ([], [], [])
        vpdq: tuple[list[str], list[int], list[bool]] = ([], [], [])

        def put(into: tuple[list[str], list[int], list[bool]], h: str, i: int, w: bool) -> None:
            into[0].append(h)
            into[1].append(i)
            into[2].append(w)

        for row in rows:
            if row.signal_type == "pdq":
                if row.quality is not None and row.quality < PDQ_QUALITY_THRESHOLD:
                    continue
                put(pdq, row.value, row.id, False)
                for value, quality in row.windows:
                    if quality >= PDQ_QUALITY_THRESHOLD and value != row.value:
                        put(pdq, value, row.id, True)
            elif row.signal_type == "vpdq":
                self._state["vpdq_videos"] += 1
                for frame in VpdqSignal.parse(row.value):
                    if frame.quality >= PDQ_QUALITY_THRESHOLD:
                        put(vpdq, frame.pdq, row.id, False)
            else:
                self._state["exact"] += 1
        self._state["entries"] += len(rows)
        self._state["last_entry_id"] = version.last_entry_id
        for layer, name, new in ((self._pdq, "pdq", pdq), (self._vpdq, "vpdq", vpdq)):
            if new[0]:
                layer.add(*new)
                self._dirty.add(f"{name}-delta")

    def refresh(self, force: bool = False, fold: bool = False) -> None:
        """Catch up with the database (at most once a second unless `force`): the index state
        and the newest entries' fingerprints read when nothing changed.

        New hashes go to the delta, searched by brute force; they are folded into the main
        index (a rebuild of its tables: ~4 s at 1 M hashes) only when the delta is full or
        `fold` is asked, so a write that forces a refresh so it can be matched at once stays
        cheap. The index is then saved, where this process may write it."""
        now = time.monotonic()
        if not force and now - self._last_refresh < REFRESH_EVERY_S:
            return
        with self._lock:
            if not force and now - self._last_refresh < REFRESH_EVERY_S:
                return
            self._last_refresh = now
            version = self.store.index_version()
            state = self._state
            garbage = version.removed - state.get("removed_at_build", version.removed)
            stale = (
                state.get("token") != version.token
                or state["generation"] > version.generation
                or state["last_entry_id"] > version.last_entry_id
                or garbage > state["entries"] * REBUILD_FRACTION
            )
            # A restored database can match all of the above and hold other newest entries.
            tail = None if stale else self.store.index_tail(state["last_entry_id"])
            if tail is None or not tail_agrees(state["tail"], tail):
                self._rebuild(version)
                tail = None
            elif version.last_entry_id > state["last_entry_id"]:
                self._load_rows(version)
                tail = None
            state = self._state
            if tail is None:  # the index holds newer entries now: fingerprint those
                tail = self.store.index_tail(state["last_entry_id"])
            newest = [list(entry) for entry in tail]
            changed = state["generation"] != version.generation or state["tail"] != newest
            state["generation"], state["tail"] = version.generation, newest
            for name, layer in (("pdq", self._pdq), ("vpdq", self._vpdq)):
                if len(layer.delta) >= SIDE_INDEX_MAX or (fold and len(layer.delta)):
                    layer.fold()
                    self._dirty |= {f"{name}-main", f"{name}-delta"}
            if self._dirty or changed:
                self._save()
            self.built_at = time.time()

    def _save(self) -> None:
        """Write what changed and a new manifest, if this process may (see `index_files`)."""
        if self.folder is None:
            return
        with writing(self.folder) as allowed:
            if not allowed:
                return
            on_disk = read_manifest(self.folder)
            try:
                theirs = checked_state(on_disk["state"]) if on_disk is not None else None
            except (KeyError, ValueError, TypeError, AttributeError):
                theirs = None  # unusable: overwritten below
            if (
                theirs is not None
                and theirs["token"] == self._state["token"]
                and theirs["generation"] > self._state["generation"]
            ):
                return  # another process saved a newer state: keep it
            layers = {"pdq": self._pdq, "vpdq": self._vpdq}
            files = {}
            try:
                for name in _SEGMENTS:
                    kind, part = name.split("-")
                    kept = self._files.get(name)
                    if name in self._dirty or kept is None or not files_intact(self.folder, kept):
                        kept = write_segment(self.folder, name, layers[kind].arrays(part))
                    files[name] = kept
                write_manifest(self.folder, {"state": self._state, "segments": files})
            except OSError:
                return  # a full or read-only disk: the index stays in memory, as before
            self._files, self._dirty = files, set()
            self.saved_at = time.time()

    def status(self) -> dict[str, object]:
        """What the index holds; `refreshed_at` is when it last loaded new entries (UTC)."""
        refreshed = None if self.built_at is None else datetime.fromtimestamp(self.built_at, UTC)
        return {
            "pdq_hashes": len(self._pdq.main) + len(self._pdq.delta),
            "pdq_pending": len(self._pdq.delta),
            "vpdq_videos": self._state.get("vpdq_videos", 0),
            "exact_hashes": self._state.get("exact", 0),
            "last_entry_id": self._state.get("last_entry_id", 0),
            "multi_index": self._pdq.main.multi_index,
            "radius": self.radius,
            "refreshed_at": refreshed,
        }

    # -- matching -------------------------------------------------------------------------

    def match(self, query: Query, banks: set[str] | None = None) -> list[Match]:
        """Matches of one query, best first; only enabled entries of enabled banks (and of
        `banks`, if given)."""
        self.refresh()
        found: dict[int, Match] = {}

        def rank(match: Match) -> tuple[bool, int]:
            return (match.via_window or bool(match.transform), match.distance)

        def keep(entry_id: int, match: Match) -> None:
            old = found.get(entry_id)
            if old is None or rank(match) < rank(old):
                found[entry_id] = match

        raw: list[_Raw] = []
        with self._lock:
            videos = self._search(query, raw)
        for _, _, entry_id in self.store.find_exact(query.exact):
            raw.append((entry_id, "", 0, False, None, None, ""))
        if not raw and not videos:
            return []
        live = self.store.get_entries(sorted({r[0] for r in raw} | videos))
        for entry_id in sorted(videos):
            entry = live.get(entry_id)
            if entry is None:
                continue
            banked = VpdqSignal.parse(entry.value)
            q_pct, c_pct = vpdq_match_percent(query.vpdq, banked, self.radius)
            if vpdq_is_match(q_pct, c_pct):
                raw.append((entry_id, "vpdq", round(100 - q_pct), False, q_pct, c_pct, ""))
        for entry_id, kind, dist, window, q_pct, c_pct, transform in raw:
            entry = live.get(entry_id)
            if entry is None or not entry.enabled:
                continue
            if banks is not None and entry.bank not in banks:
                continue
            match = Match(entry, kind or entry.signal_type, dist, q_pct, c_pct, window, transform)
            keep(entry_id, match)
        return sorted(found.values(), key=lambda m: (m.distance, m.entry.id))

    def _search(self, query: Query, raw: list[_Raw]) -> set[int]:
        """Add PDQ hits to `raw`; returns the ids of videos with a frame near a query frame
        (their percentages need their whole hash, read from the database)."""
        hashes = query.pdq + [h for _, h in query.rotations]
        if hashes:
            n_plain = len(query.pdq)
            for q, entry_id, dist, banked_window in self._pdq.search(
                hex_to_codes(hashes), self.radius
            ):
                if q >= n_plain:  # a rotated or mirrored copy of the whole picture
                    transform = query.rotations[q - n_plain][0]
                    raw.append((entry_id, "pdq", dist, banked_window, None, None, transform))
                else:
                    raw.append((entry_id, "pdq", dist, q > 0 or banked_window, None, None, ""))
        if not query.vpdq:
            return set()
        good = [f.pdq for f in query.vpdq if f.quality >= PDQ_QUALITY_THRESHOLD]
        codes = hex_to_codes(list(dict.fromkeys(good)))
        return {entry_id for _, entry_id, _, _ in self._vpdq.search(codes, self.radius)}
