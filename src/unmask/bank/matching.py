"""Match hashes against every bank: PDQ within a radius (with crop-robust window hashes),
vPDQ by frame-match percentages, SHA-256/MD5 exactly.

The index is built from the store and kept current: `refresh()` (run at most once a second
before a lookup) loads entries added since the last load into a small side index, and folds
them into the main index when that grows. Removed and disabled entries are checked against the
store whenever they are found, so they never match, even before the next rebuild.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from unmask.bank.index import PdqIndex, hex_to_codes
from unmask.bank.store import BankStore, EntryInfo
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

_Raw = tuple[int, str, int, bool, float | None, float | None, str]
"""A hit before it is checked against the store: entry id, signal type ("" for a digest: the
entry's own), distance, via a window, vPDQ query and compared percentages, transform."""

REFRESH_EVERY_S = 1.0
"""How stale the index may be: new entries become matchable within about this long."""
SIDE_INDEX_MAX = 50_000
"""Fold the side index into the main one once it holds this many hashes."""


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


class _PdqSide:
    """Rows added since the main index was built, searched by brute force."""

    def __init__(self) -> None:
        self.hashes: list[str] = []
        self.ids: list[int] = []
        self.window: list[bool] = []


class Matcher:
    """Every enabled entry of every enabled bank, ready to match. Thread-safe."""

    def __init__(self, store: BankStore, radius: int = PDQ_CONFIDENT_MATCH_THRESHOLD) -> None:
        self.store = store
        self.radius = radius
        self._lock = threading.Lock()
        self._last_id = 0
        self._last_refresh = 0.0
        self._main = PdqIndex(hex_to_codes([]))
        self._main_window = np.zeros(0, dtype=bool)
        self._side = _PdqSide()
        self._exact: dict[tuple[str, str], list[int]] = defaultdict(list)
        self._vpdq: dict[int, list[VpdqFrame]] = {}
        self._vpdq_frames = PdqIndex(hex_to_codes([]))
        self._vpdq_dirty = False
        self.built_at: float | None = None
        self.refresh(force=True, fold=True)

    # -- loading --------------------------------------------------------------------------

    def refresh(self, force: bool = False, fold: bool = False) -> None:
        """Load entries added since the last refresh (at most once a second unless `force`).

        New PDQ hashes go to the side index, searched by brute force; they are folded into the
        main index (a rebuild: ~4 s at 1 M hashes) only when the side index is full or `fold`
        is asked, so a write that forces a refresh so it can be matched at once stays cheap."""
        now = time.monotonic()
        if not force and now - self._last_refresh < REFRESH_EVERY_S:
            return
        with self._lock:
            if not force and now - self._last_refresh < REFRESH_EVERY_S:
                return
            self._last_refresh = now
            rows = self.store.index_rows(self._last_id)
            for row in rows:
                self._last_id = max(self._last_id, row.id)
                if row.signal_type == "pdq":
                    if row.quality is not None and row.quality < PDQ_QUALITY_THRESHOLD:
                        continue
                    self._side.hashes.append(row.value)
                    self._side.ids.append(row.id)
                    self._side.window.append(False)
                    for value, quality in row.windows:
                        if quality >= PDQ_QUALITY_THRESHOLD and value != row.value:
                            self._side.hashes.append(value)
                            self._side.ids.append(row.id)
                            self._side.window.append(True)
                elif row.signal_type == "vpdq":
                    self._vpdq[row.id] = VpdqSignal.parse(row.value)
                    self._vpdq_dirty = True
                else:
                    algorithm = exact_algorithm(row.signal_type) or row.signal_type
                    self._exact[(algorithm, row.value)].append(row.id)
            if len(self._side.hashes) >= SIDE_INDEX_MAX or (fold and self._side.hashes):
                self._fold_side()
            if self._vpdq_dirty:
                frames = [
                    (i, f.pdq)
                    for i, fs in self._vpdq.items()
                    for f in fs
                    if f.quality >= PDQ_QUALITY_THRESHOLD
                ]
                self._vpdq_frames = PdqIndex(
                    hex_to_codes([h for _, h in frames]), np.array([i for i, _ in frames])
                )
                self._vpdq_dirty = False
            self.built_at = time.time()

    def _fold_side(self) -> None:
        codes = np.concatenate(
            [
                self._main.words.astype(">u8").view(np.uint8).reshape(-1, 32),
                hex_to_codes(self._side.hashes),
            ]
        )
        ids = np.concatenate([self._main.ids, np.array(self._side.ids, dtype=np.int64)])
        self._main_window = np.concatenate([self._main_window, np.array(self._side.window)])
        self._main = PdqIndex(codes, ids)
        self._side = _PdqSide()

    def status(self) -> dict[str, object]:
        """What the index holds; `refreshed_at` is when it last loaded new entries (UTC)."""
        refreshed = None if self.built_at is None else datetime.fromtimestamp(self.built_at, UTC)
        return {
            "pdq_hashes": len(self._main) + len(self._side.hashes),
            "pdq_pending": len(self._side.hashes),
            "vpdq_videos": len(self._vpdq),
            "exact_hashes": sum(len(v) for v in self._exact.values()),
            "last_entry_id": self._last_id,
            "multi_index": self._main.multi_index,
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
            self._search(query, raw)
        if not raw:
            return []
        live = self.store.get_entries(sorted({r[0] for r in raw}))
        for entry_id, kind, dist, window, q_pct, c_pct, transform in raw:
            entry = live.get(entry_id)
            if entry is None or not entry.enabled:
                continue
            if banks is not None and entry.bank not in banks:
                continue
            match = Match(entry, kind or entry.signal_type, dist, q_pct, c_pct, window, transform)
            keep(entry_id, match)
        return sorted(found.values(), key=lambda m: (m.distance, m.entry.id))

    def _search(self, query: Query, raw: list[_Raw]) -> None:
        hashes = query.pdq + [h for _, h in query.rotations]
        if hashes:
            codes = hex_to_codes(hashes)
            n_plain = len(query.pdq)

            def found(q: int, entry_id: int, dist: int, banked_window: bool) -> None:
                if q >= n_plain:  # a rotated or mirrored copy of the whole picture
                    transform = query.rotations[q - n_plain][0]
                    raw.append((entry_id, "pdq", dist, banked_window, None, None, transform))
                else:
                    raw.append((entry_id, "pdq", dist, q > 0 or banked_window, None, None, ""))

            hits = self._main.search(codes, self.radius)
            for q, row, dist in zip(hits.query, hits.row, hits.distance, strict=True):
                found(int(q), int(self._main.ids[row]), int(dist), bool(self._main_window[row]))
            if self._side.hashes:
                side = PdqIndex(hex_to_codes(self._side.hashes))
                hits = side.search(codes, self.radius)
                for q, row, dist in zip(hits.query, hits.row, hits.distance, strict=True):
                    found(int(q), self._side.ids[row], int(dist), self._side.window[row])
        for algorithm, value in query.exact:
            for entry_id in self._exact.get((algorithm, value), []):
                raw.append((entry_id, "", 0, False, None, None, ""))
        if query.vpdq:
            good = [f.pdq for f in query.vpdq if f.quality >= PDQ_QUALITY_THRESHOLD]
            hits = self._vpdq_frames.search(hex_to_codes(list(dict.fromkeys(good))), self.radius)
            for entry_id in {int(self._vpdq_frames.ids[r]) for r in hits.row}:
                q_pct, c_pct = vpdq_match_percent(query.vpdq, self._vpdq[entry_id], self.radius)
                if vpdq_is_match(q_pct, c_pct):
                    raw.append((entry_id, "vpdq", round(100 - q_pct), False, q_pct, c_pct, ""))
