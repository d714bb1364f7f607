"""Find every banked PDQ hash within a Hamming radius of a query, fast, with 100 % recall.

Multi-index hashing (Norouzi, Punjani & Fleet, "Fast Search in Hamming Space with Multi-Index
Hashing", CVPR 2012): cut the 256 bits into 11 chunks of 23 bits. If two hashes are within 31
bits, then by the pigeonhole principle at least one chunk differs in at most 2 bits
(11 chunks x 3 bits = 33 > 31). So probing, for each chunk, the 277 keys within 2 bits of the
query's chunk finds every true match; each candidate is then checked on all 256 bits. With
random hashes a query at 10 M banked hashes touches ~3,000 buckets and ~3,600 candidates
instead of 10 M hashes. Each chunk's buckets are a direct-address table (2^23 offsets into a
sorted list of row numbers), so a probe is two array reads; a batch of queries is probed with a
few NumPy gathers. Small indexes skip all this and compare against every hash.

Why not FAISS: `IndexBinaryFlat` is exact but scans every hash (~170 lookups/s at 10 M);
`IndexBinaryMultiHash` with the flips needed for exact radius-31 recall ran at ~640 lookups/s
at 1 M here; HNSW and IVF miss matches. bench/bench_hashbank.py measures all of this.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np

PDQ_BYTES = 32
CHUNKS = 11
CHUNK_BITS = 23
PROBE_RADIUS = 2
"""Exact for radius <= CHUNKS * (PROBE_RADIUS + 1) - 1 = 32 bits."""
MAX_EXACT_RADIUS = CHUNKS * (PROBE_RADIUS + 1) - 1
BRUTE_FORCE_BELOW = 50_000
"""Below this many hashes, comparing against all of them is as fast and needs no tables."""
_BATCH = 512


def hex_to_codes(hashes: list[str]) -> np.ndarray:
    """64-hex-digit PDQ hashes -> (N, 32) uint8."""
    if not hashes:
        return np.zeros((0, PDQ_BYTES), dtype=np.uint8)
    return np.frombuffer(bytes.fromhex("".join(hashes)), dtype=np.uint8).reshape(-1, PDQ_BYTES)


def _words(codes: np.ndarray) -> np.ndarray:
    """(N, 32) uint8 -> (N, 4) big-endian uint64 words (bit 0 is the hash's first bit)."""
    return np.ascontiguousarray(codes).view(">u8").astype(np.uint64)


def _chunk_keys(words: np.ndarray) -> np.ndarray:
    """(N, 4) uint64 words -> (N, CHUNKS) uint32 keys of CHUNK_BITS bits each."""
    keys = np.empty((len(words), CHUNKS), dtype=np.uint32)
    mask = np.uint64((1 << CHUNK_BITS) - 1)
    for j in range(CHUNKS):
        start = j * CHUNK_BITS
        word, offset = divmod(start, 64)
        end = offset + CHUNK_BITS
        if end <= 64:
            value = words[:, word] >> np.uint64(64 - end)
        else:
            value = (words[:, word] << np.uint64(end - 64)) | (
                words[:, word + 1] >> np.uint64(128 - end)
            )
        keys[:, j] = (value & mask).astype(np.uint32)
    return keys


def _flip_masks() -> np.ndarray:
    masks = [0]
    for r in range(1, PROBE_RADIUS + 1):
        for bits in combinations(range(CHUNK_BITS), r):
            masks.append(sum(1 << b for b in bits))
    return np.array(masks, dtype=np.uint32)


_MASKS = _flip_masks()
_TABLE_BASE = (np.arange(CHUNKS, dtype=np.uint32) * ((1 << CHUNK_BITS) + 1)).astype(np.uint32)


@dataclass(frozen=True)
class Hits:
    """Matches of a batch of queries: parallel arrays, one row per (query, hash) pair."""

    query: np.ndarray
    """Index of the query in the batch."""
    row: np.ndarray
    """Row of the matched hash in the index (map it to an entry with `PdqIndex.ids`)."""
    distance: np.ndarray


class PdqIndex:
    """An immutable index over PDQ hashes. `ids[i]` is what row i stands for (an entry id)."""

    def __init__(self, codes: np.ndarray, ids: np.ndarray | None = None) -> None:
        codes = np.ascontiguousarray(codes, dtype=np.uint8).reshape(-1, PDQ_BYTES)
        self.ids = (
            np.arange(len(codes), dtype=np.int64) if ids is None else np.asarray(ids, np.int64)
        )
        if len(self.ids) != len(codes):
            raise ValueError("ids and codes differ in length")
        self.words = _words(codes)
        self._columns = [np.ascontiguousarray(self.words[:, k]) for k in range(4)]
        self.multi_index = len(codes) >= BRUTE_FORCE_BELOW
        if self.multi_index:
            self._build_tables()

    def __len__(self) -> int:
        return len(self.words)

    @property
    def nbytes(self) -> int:
        total = 2 * self.words.nbytes + self.ids.nbytes
        if self.multi_index:
            total += self._offsets.nbytes + self._rows.nbytes
        return total

    def _build_tables(self) -> None:
        n = len(self.words)
        size = (1 << CHUNK_BITS) + 1
        self._offsets = np.empty((CHUNKS, size), dtype=np.int64 if n * CHUNKS > 2**31 else np.int32)
        self._rows = np.empty((CHUNKS, n), dtype=np.int32)
        all_keys = np.empty((n, CHUNKS), dtype=np.uint32)
        for s in range(0, n, 1 << 20):
            all_keys[s : s + (1 << 20)] = _chunk_keys(self.words[s : s + (1 << 20)])
        for j in range(CHUNKS):
            keys = np.ascontiguousarray(all_keys[:, j])
            order = np.argsort(keys, kind="stable").astype(np.int32)
            counts = np.bincount(keys, minlength=1 << CHUNK_BITS)
            self._offsets[j, 0] = j * n
            np.cumsum(counts, out=self._offsets[j, 1:])
            self._offsets[j, 1:] += j * n
            self._rows[j] = order
        self._offsets = self._offsets.reshape(-1)
        self._rows = self._rows.reshape(-1)

    def search(self, codes: np.ndarray, radius: int) -> Hits:
        """Every (query, row) pair within `radius` bits (inclusive)."""
        codes = np.ascontiguousarray(codes, dtype=np.uint8).reshape(-1, PDQ_BYTES)
        if radius > MAX_EXACT_RADIUS:
            raise ValueError(f"radius above {MAX_EXACT_RADIUS} would miss matches")
        parts = [
            self._search_batch(codes[s : s + _BATCH], radius, s)
            for s in range(0, len(codes), _BATCH)
        ]
        if not parts:
            empty = np.zeros(0, dtype=np.int64)
            return Hits(empty, empty, empty)
        return Hits(
            *(np.concatenate([getattr(p, f) for p in parts]) for f in ("query", "row", "distance"))
        )

    def _search_batch(self, codes: np.ndarray, radius: int, first: int) -> Hits:
        q = _words(codes)
        if not self.multi_index or len(self.words) == 0:
            dist = np.zeros((len(q), len(self.words)), dtype=np.int64)
            for k in range(4):
                dist += np.bitwise_count(q[:, None, k] ^ self.words[None, :, k])
            qi, rows = np.nonzero(dist <= radius)
            return Hits(qi + first, rows.astype(np.int64), dist[qi, rows])
        keys = _chunk_keys(q)  # (Q, CHUNKS)
        # Every probe key, offset into its chunk's table (fits in uint32: 11 * (2^23 + 1)).
        flat = (keys[:, :, None] ^ _MASKS[None, None, :]) + _TABLE_BASE[None, :, None]
        flat = flat.reshape(-1)
        starts = np.take(self._offsets, flat)
        counts = np.take(self._offsets, flat + 1) - starts
        nz = np.flatnonzero(counts)
        c = counts[nz].astype(np.int64)
        total = int(c.sum())
        if total == 0:
            empty = np.zeros(0, dtype=np.int64)
            return Hits(empty, empty, empty)
        ends = np.cumsum(c)
        pos = np.arange(total, dtype=np.int64) + np.repeat(starts[nz] - (ends - c), c)
        rows = np.take(self._rows, pos)
        qi = np.repeat(nz // (CHUNKS * len(_MASKS)), c)
        dist = np.zeros(total, dtype=np.int64)
        for k in range(4):
            dist += np.bitwise_count(np.take(self._columns[k], rows) ^ np.take(q[:, k], qi))
        rows = rows.astype(np.int64)
        ok = dist <= radius
        qi, rows, dist = qi[ok], rows[ok], dist[ok]
        # A pair found through several chunks is reported once.
        _, first_seen = np.unique(qi * len(self.words) + rows, return_index=True)
        return Hits(qi[first_seen] + first, rows[first_seen], dist[first_seen])
