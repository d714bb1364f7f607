"""Find every banked PDQ hash within a Hamming radius of a query, fast, with 100 % recall.

Multi-index hashing (Norouzi, Punjani & Fleet, "Fast Search in Hamming Space with Multi-Index
Hashing", CVPR 2012): cut the 256 bits into 11 chunks of 23 bits. If two hashes are within 31
bits, then by the pigeonhole principle at least one chunk differs in at most 2 bits
(11 chunks x 3 bits = 33 > 31). So probing, for each chunk, the 277 keys within 2 bits of the
query's chunk finds every true match; each candidate is then checked. With random hashes a
query at 10 M banked hashes probes ~3,050 buckets and meets ~3,650 candidates instead of 10 M
hashes. 23 bits is the paper's chunk size, ~log2 N: 16 chunks of 16 bits within 1 bit probe only
272 buckets but meet ~40,000 candidates; a layout mixing 24-, 23- and 20-bit chunks (~2,900
probes, ~2,600 candidates) measured no faster, its larger tables costing more per probe.

At that size the time goes to random memory reads, so the layout minimises them. Each chunk's
buckets are a direct-address table of offsets into that chunk's entries, sorted by key; a
bucket's start and end are neighbours, read together. The table is sized to the index: it is
addressed by the top b bits of the chunk, with 2^b the smallest power of two at least twice the
number of hashes (b = 23 from ~4 M hashes up), so an index of 50,000 hashes has 11 x 131,073
offsets (5.8 MB), not 11 x 2^23 (0.37 GB). A bucket then holds every key sharing those b bits;
probing the prefixes within 2 bits of the query's still finds every key within 2 bits, and the
screen below rejects the rest, so recall stays exact. At 1 M hashes, one run, single thread:
full 2^23 tables 187-229 us a query, two buckets a hash 201-213 us, one bucket a hash 228-240 us
(more candidates to screen), four 188-204 us for 30 % more memory.

An entry is 16 bytes: the row number and 96 of the hash's bits that lie outside the chunk, so a
candidate is screened with one read and only the few that pass (true matches and ~4e-4 of the
rest) are compared on all 256 bits. A batch of queries is probed with a few NumPy gathers.
Small indexes skip all this and compare against every hash.

Why not FAISS: `IndexBinaryFlat` is exact but scans every hash (~170 lookups/s at 10 M);
`IndexBinaryMultiHash` with the flips needed for exact radius-31 recall ran at ~640 lookups/s
at 1 M here; HNSW and IVF miss matches. bench/bench_hashbank.py measures all of this.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
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
MIN_TABLE_BITS = 12
_BATCH = 64
"""Queries probed together: enough to amortise NumPy's per-call cost, few enough that a batch's
probe arrays (~3,000 slots a query) stay in cache."""


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


def table_bits(n: int) -> int:
    """Bits that address a chunk's bucket table for an index of `n` hashes: two to four
    buckets a hash, never more than CHUNK_BITS."""
    return min(CHUNK_BITS, max(MIN_TABLE_BITS, (max(n, 1) - 1).bit_length() + 1))


@cache
def _flip_masks(bits: int) -> np.ndarray:
    """Every key within PROBE_RADIUS bits of 0 on `bits` bits (XOR them onto a query's)."""
    masks = [0]
    for r in range(1, PROBE_RADIUS + 1):
        for flipped in combinations(range(bits), r):
            masks.append(sum(1 << b for b in flipped))
    return np.array(masks, dtype=np.intp)


def _filter_words() -> np.ndarray:
    """For each chunk, two of the four 64-bit words that share no bit with it: its candidates
    are screened on the first word and the top half of the second (96 bits the probe has not
    already compared)."""
    pairs = []
    for j in range(CHUNKS):
        first, last = j * CHUNK_BITS // 64, (j * CHUNK_BITS + CHUNK_BITS - 1) // 64
        pairs.append([k for k in range(4) if k not in (first, last)][:2])
    return np.array(pairs, dtype=np.intp)


_FILTER_WORDS = _filter_words()
_LOW32 = np.uint64(0xFFFF_FFFF)
_HIGH32 = ~_LOW32


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
        self.multi_index = len(codes) >= BRUTE_FORCE_BELOW
        self.table_bits = table_bits(len(codes))
        if self.multi_index:
            self._build_tables()

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> PdqIndex:
        """An index from `arrays()` of one built earlier (memory-mapped files, say). Shapes and
        types are checked, and so are the table's bounds, so a damaged set raises ValueError
        instead of reading out of range."""
        words, ids = arrays["words"], arrays["ids"]
        n = len(words)
        if words.dtype != np.uint64 or words.shape != (n, 4):
            raise ValueError("words: not an (N, 4) uint64 array")
        if ids.dtype != np.int64 or ids.shape != (n,):
            raise ValueError("ids: not an int64 array as long as words")
        index = cls.__new__(cls)
        index.words, index.ids = words, ids
        index.multi_index = n >= BRUTE_FORCE_BELOW
        index.table_bits = table_bits(n)
        if index.multi_index:
            offsets, entries = arrays.get("offsets"), arrays.get("entries")
            size = (1 << index.table_bits) + 1
            if offsets is None or offsets.shape != (CHUNKS * size,):
                raise ValueError("offsets: missing or not sized to the index")
            if offsets.dtype != (np.int64 if n * CHUNKS > 2**31 else np.int32):
                raise ValueError("offsets: wrong type")
            if entries is None or entries.dtype != np.uint64 or entries.shape != (CHUNKS * n, 2):
                raise ValueError("entries: missing or not an (11 N, 2) uint64 array")
            starts = offsets[np.arange(CHUNKS) * size]
            ends = offsets[np.arange(CHUNKS) * size + size - 1]
            if not (
                np.array_equal(starts, np.arange(CHUNKS) * n)
                and np.array_equal(ends, np.arange(1, CHUNKS + 1) * n)
            ):
                raise ValueError("offsets: a chunk's table does not span its entries")
            index._offsets, index._entries = offsets, entries
        return index

    def arrays(self) -> dict[str, np.ndarray]:
        """What `from_arrays` needs to open this index again (to save it)."""
        out = {"words": self.words, "ids": self.ids}
        if self.multi_index:
            out |= {"offsets": self._offsets, "entries": self._entries}
        return out

    def codes(self) -> np.ndarray:
        """The hashes as (N, 32) uint8, as given."""
        return np.ascontiguousarray(self.words).astype(">u8").view(np.uint8).reshape(-1, PDQ_BYTES)

    def __len__(self) -> int:
        return len(self.words)

    @property
    def nbytes(self) -> int:
        total = self.words.nbytes + self.ids.nbytes
        if self.multi_index:
            total += self._offsets.nbytes + self._entries.nbytes
        return total

    def _build_tables(self) -> None:
        """Per chunk, the entries sorted by chunk key and a direct-address table of where each
        key prefix's bucket starts (see the module docstring)."""
        n = len(self.words)
        if n >= 2**32:
            raise ValueError("an index holds fewer than 2^32 hashes (rows are 32-bit)")
        shift = np.uint32(CHUNK_BITS - self.table_bits)
        size = (1 << self.table_bits) + 1
        self._offsets = np.empty((CHUNKS, size), dtype=np.int64 if n * CHUNKS > 2**31 else np.int32)
        self._entries = np.empty((CHUNKS, n, 2), dtype=np.uint64)
        all_keys = np.empty((n, CHUNKS), dtype=np.uint32)
        for s in range(0, n, 1 << 20):
            all_keys[s : s + (1 << 20)] = _chunk_keys(self.words[s : s + (1 << 20)]) >> shift
        for j in range(CHUNKS):
            keys = np.ascontiguousarray(all_keys[:, j])
            order = np.argsort(keys, kind="stable")
            counts = np.bincount(keys, minlength=size - 1)
            self._offsets[j, 0] = j * n
            np.cumsum(counts, out=self._offsets[j, 1:])
            self._offsets[j, 1:] += j * n
            a, b = _FILTER_WORDS[j]
            self._entries[j, :, 0] = np.take(self.words[:, a], order)
            self._entries[j, :, 1] = (np.take(self.words[:, b], order) & _HIGH32) | order.astype(
                np.uint64
            )
        self._offsets = self._offsets.reshape(-1)
        self._entries = self._entries.reshape(-1, 2)

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
        empty = np.zeros(0, dtype=np.int64)
        if not self.multi_index or len(self.words) == 0:
            dist = np.zeros((len(q), len(self.words)), dtype=np.int64)
            for k in range(4):
                dist += np.bitwise_count(q[:, None, k] ^ self.words[None, :, k])
            qi, rows = np.nonzero(dist <= radius)
            return Hits(qi + first, rows.astype(np.int64), dist[qi, rows])
        # Each chunk's key prefix (the bits its table is addressed by), every probe within
        # PROBE_RADIUS bits of it, offset into that chunk's table; a bucket's start and end are
        # neighbours, so both come from one read.
        keys = (_chunk_keys(q) >> np.uint32(CHUNK_BITS - self.table_bits)).astype(np.intp)
        masks = _flip_masks(self.table_bits)
        base = np.arange(CHUNKS, dtype=np.intp) * ((1 << self.table_bits) + 1)
        flat = ((keys[:, :, None] ^ masks[None, None, :]) + base[None, :, None]).reshape(-1)
        bounds = np.take(self._offsets, np.stack([flat, flat + 1], axis=1))
        counts = bounds[:, 1] - bounds[:, 0]
        nz = np.flatnonzero(counts)
        if len(nz) == 0:
            return Hits(empty, empty, empty)
        c = counts[nz]
        ends = np.cumsum(c, dtype=np.intp)
        # Which non-empty probe each candidate came from (cheaper than np.repeat for buckets
        # of one or two entries).
        seg = np.zeros(int(ends[-1]), dtype=np.intp)
        seg[ends[:-1]] = 1
        np.cumsum(seg, out=seg)
        pos = np.arange(len(seg), dtype=np.intp) + (bounds[nz, 0] - (ends - c))[seg]
        found = np.take(self._entries, pos, axis=0)
        # Screen on 96 bits that lie outside the probed chunk: a random non-match passes with
        # probability ~4e-4 (P[Binomial(96, 1/2) <= 31]); true matches always pass.
        qc = (nz // len(masks))[seg]  # query * CHUNKS + chunk of each candidate
        qa = q[:, _FILTER_WORDS[:, 0]].reshape(-1)[qc]
        qb = q[:, _FILTER_WORDS[:, 1]].reshape(-1)[qc]
        near = (
            np.bitwise_count(found[:, 0] ^ qa) + np.bitwise_count((found[:, 1] ^ qb) & _HIGH32)
            <= radius
        )
        qi = qc[near] // CHUNKS
        rows = (found[near, 1] & _LOW32).astype(np.int64)
        inside = rows < len(self.words)  # always, unless a saved table was damaged
        qi, rows = qi[inside], rows[inside]
        # A pair found through several chunks is checked and reported once.
        _, first_seen = np.unique(qi * len(self.words) + rows, return_index=True)
        qi, rows = qi[first_seen], rows[first_seen]
        dist = np.bitwise_count(np.take(self.words, rows, axis=0) ^ q[qi]).sum(axis=1)
        ok = dist <= radius
        return Hits(qi[ok] + first, rows[ok], dist[ok].astype(np.int64))
