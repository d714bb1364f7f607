"""Hash-bank index benchmark: our multi-index PDQ index beside threatexchange's PDQ index and a
NumPy brute force, on random PDQ hashes. Measures build time and memory, query latency
(p50/p99, one query at a time), lookups/s at radius 31 (batches, 2 threads) and recall against
brute force. Run: .venv/bin/python bench/bench_hashbank.py --sizes 1000000 10000000
(the threatexchange baseline needs `pip install faiss-cpu` and
`pip install --no-deps threatexchange`)."""

from __future__ import annotations

import argparse
import gc
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from unmask.bank.index import PdqIndex

RADIUS = 31


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    return 0.0


def queries(codes: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Half near-duplicates of banked hashes (0-31 bits flipped), half unrelated."""
    q = codes[rng.integers(0, len(codes), n)].copy()
    for i in range(n // 2):
        for b in rng.choice(256, int(rng.integers(0, 32)), replace=False):
            q[i, b // 8] ^= np.uint8(1 << (b % 8))
    q[n // 2 :] = rng.integers(0, 256, (n - n // 2, 32), dtype=np.uint8)
    return q


def brute(codes: np.ndarray, q: np.ndarray) -> set[tuple[int, int]]:
    words = codes.view(">u8").astype(np.uint64)
    out = set()
    for i, row in enumerate(q.view(">u8").astype(np.uint64)):
        d = sum(np.bitwise_count(words[:, k] ^ row[k]) for k in range(4))
        out |= {(i, int(r)) for r in np.flatnonzero(d <= RADIUS)}
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    ap.add_argument("--queries", type=int, default=20_000)
    ap.add_argument("--brute-queries", type=int, default=20)
    ap.add_argument("--no-threatexchange", action="store_true")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    print("| index | hashes | build s | memory MB | p50 ms | p99 ms | lookups/s | recall |")
    print("|---|---|---|---|---|---|---|---|")
    for n in args.sizes:
        codes = rng.integers(0, 256, (n, 32), dtype=np.uint8)
        q = queries(codes, args.queries, rng)
        sample = q[: args.brute_queries // 2].tolist() + q[-(args.brute_queries // 2) :].tolist()
        sample = np.array(sample, dtype=np.uint8)
        t = time.perf_counter()
        truth = brute(codes, sample)
        brute_ms = (time.perf_counter() - t) * 1000 / len(sample)
        print(
            f"| NumPy brute force | {n:,} | 0 | {codes.nbytes / 2**20:.0f} | {brute_ms:.1f} | "
            f"- | {1000 / brute_ms:.0f} | 1.000 |",
            flush=True,
        )

        gc.collect()
        before = rss_mb()
        t = time.perf_counter()
        index = PdqIndex(codes)
        build = time.perf_counter() - t
        mem = rss_mb() - before
        lat = []
        for row in q[:1000]:
            t0 = time.perf_counter()
            index.search(row[None], RADIUS)
            lat.append((time.perf_counter() - t0) * 1000)
        halves = np.array_split(q, 2)
        t = time.perf_counter()
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(lambda part, ix=index: ix.search(part, RADIUS), halves))
        rate = len(q) / (time.perf_counter() - t)
        hits = index.search(sample, RADIUS)
        got = set(zip(hits.query.tolist(), hits.row.tolist(), strict=True))
        recall = len(got & truth) / max(1, len(truth))
        print(
            f"| unmask multi-index (11x23 bits) | {n:,} | {build:.1f} | {mem:.0f} | "
            f"{np.percentile(lat, 50):.2f} | {np.percentile(lat, 99):.2f} | {rate:,.0f} | "
            f"{recall:.3f} |",
            flush=True,
        )
        del index
        gc.collect()

        if not args.no_threatexchange:
            from threatexchange.signal_type.pdq.pdq_index2 import PDQIndex2

            before = rss_mb()
            t = time.perf_counter()
            te = PDQIndex2(entries=[(h.tobytes().hex(), i) for i, h in enumerate(codes)])
            build = time.perf_counter() - t
            mem = rss_mb() - before
            lat = []
            found = set()
            for i, row in enumerate(sample):
                for r in te.query(row.tobytes().hex()):
                    found.add((i, int(r.metadata)))
            for row in q[:50]:
                t0 = time.perf_counter()
                te.query(row.tobytes().hex())
                lat.append((time.perf_counter() - t0) * 1000)
            recall = len(found & truth) / max(1, len(truth))
            print(
                f"| threatexchange PDQIndex2 | {n:,} | {build:.1f} | {mem:.0f} | "
                f"{np.percentile(lat, 50):.2f} | {np.percentile(lat, 99):.2f} | "
                f"{1000 / np.mean(lat):,.0f} | {recall:.3f} |",
                flush=True,
            )
            del te
            gc.collect()
        del codes


if __name__ == "__main__":
    main()
