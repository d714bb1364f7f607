"""What matching rotated and mirrored copies costs: false matches on unrelated photos and the
time a picture's lookup takes, for each set of query hashes, measured in one run.

Query sets, from cheapest: the whole picture's PDQ alone (what HMA matches by default); plus
its seven rotations and mirror images (python-threatexchange's dihedral lookup); 16 crop windows
on both sides (0.1's default); windows plus the seven rotations (this version's default).

False matches: the first --banked photos of faces/real (at least 200 px) are banked with their
window hashes; the next --unrelated photos are looked up. A pair whose whole-picture hashes are
within 31 bits is counted apart, as a duplicate (the same photo published twice), not a false
match. Lookup cost: index search alone, at --index-size random banked hashes, per picture
(queries batched 64 pictures at a time), beside the plain lookup; plus hashing time per picture.

Run: .venv/bin/python bench/bench_dihedral.py --photos ../shared/data/faces/real
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from PIL import Image

from unmask.bank.index import PdqIndex, hex_to_codes
from unmask.hashing import (
    BANK_WINDOW_CUTS,
    PDQ_CONFIDENT_MATCH_THRESHOLD,
    PDQ_QUALITY_THRESHOLD,
    QUERY_WINDOW_CUTS,
    pdq,
    pdq_rotations,
    pdq_windows,
)

MODES = ("plain", "plain + dihedral", "windows", "windows + dihedral")


def load(path: Path) -> np.ndarray:
    image = Image.open(path).convert("RGB")
    image.thumbnail((1024, 1024))
    return np.asarray(image)


def false_matches(photos: list[Path], banked: int, unrelated: int) -> None:
    sized = [p for p in photos if min(Image.open(p).size) >= 200]
    bank_photos = sized[:banked]
    taken = set(bank_photos)
    others = [p for p in photos if p not in taken][:unrelated]
    codes: list[str] = []
    owner: list[int] = []
    is_whole: list[bool] = []
    whole: dict[int, str] = {}
    for i, path in enumerate(bank_photos):
        rgb = load(path)
        h, q = pdq(rgb)
        if q < PDQ_QUALITY_THRESHOLD:
            continue
        whole[i] = h
        for w, wq in [(h, q), *pdq_windows(rgb, BANK_WINDOW_CUTS)]:
            if wq >= PDQ_QUALITY_THRESHOLD and (w != h or not codes or owner[-1] != i):
                codes.append(w)
                owner.append(i)
                is_whole.append(w == h)
    with_windows = PdqIndex(hex_to_codes(codes), np.array(owner))
    keep = np.array(is_whole)
    plain = PdqIndex(hex_to_codes(codes)[keep], np.array(owner)[keep])
    print(f"banked photos: {len(whole)} ({len(codes)} hashes with windows)")
    seconds = dict.fromkeys(("whole", "windows", "rotations"), 0.0)
    false_pictures = dict.fromkeys(MODES, 0)
    false_pairs: dict[str, set[tuple[int, int]]] = {m: set() for m in MODES}
    closest = dict.fromkeys(MODES, 256)
    duplicates = 0
    for n, path in enumerate(others):
        rgb = load(path)
        t0 = time.perf_counter()
        own, quality = pdq(rgb)
        t1 = time.perf_counter()
        windows = [h for h, q in pdq_windows(rgb, QUERY_WINDOW_CUTS) if q >= PDQ_QUALITY_THRESHOLD]
        t2 = time.perf_counter()
        rotations = [h for _, h, q in pdq_rotations(rgb) if q >= PDQ_QUALITY_THRESHOLD]
        t3 = time.perf_counter()
        for key, dt in zip(seconds, (t1 - t0, t2 - t1, t3 - t2), strict=True):
            seconds[key] += dt
        if quality < PDQ_QUALITY_THRESHOLD:
            continue
        same = plain.search(hex_to_codes([own]), PDQ_CONFIDENT_MATCH_THRESHOLD)
        dup = {int(plain.ids[r]) for r in same.row}
        duplicates += len(dup)
        sets = {
            "plain": [own],
            "plain + dihedral": [own, *rotations],
            "windows": [own, *windows],
            "windows + dihedral": [own, *windows, *rotations],
        }
        for mode, hashes in sets.items():
            index = with_windows if "windows" in mode else plain
            query = hex_to_codes(list(dict.fromkeys(hashes)))
            unrelated_rows = ~np.isin(index.ids, list(dup))
            dist = np.bitwise_count(
                index.words[None, unrelated_rows, :] ^ query.view(">u8").astype(np.uint64)[:, None]
            ).sum(axis=2)
            if dist.size:
                closest[mode] = min(closest[mode], int(dist.min()))
            hits = index.search(query, PDQ_CONFIDENT_MATCH_THRESHOLD)
            banked = index.ids[hits.row]
            near = ~np.isin(banked, list(dup))
            if near.any():
                false_pictures[mode] += 1
                false_pairs[mode] |= {(n, int(i)) for i in banked[near]}
    pairs = len(others) * len(whole) - duplicates
    print(f"unrelated photos looked up: {len(others)}; pairs: {pairs:,}")
    print("| query hashes | pictures with a false match | false pairs | closest unrelated, bits |")
    print("|---|---|---|---|")
    for mode in MODES:
        print(f"| {mode} | {false_pictures[mode]} | {len(false_pairs[mode])} | {closest[mode]} |")
    print(f"left out as duplicates (whole pictures within 31 bits): {duplicates} pairs")
    ms = {k: v / max(1, len(others)) * 1000 for k, v in seconds.items()}
    print(
        f"hashing a picture: whole {ms['whole']:.1f} ms, 16 windows {ms['windows']:.1f} ms, "
        f"7 rotations {ms['rotations']:.1f} ms"
    )


def lookup_cost(index_size: int, pictures: int) -> None:
    rng = np.random.default_rng(0)
    codes = rng.integers(0, 256, (index_size, 32), dtype=np.uint8)
    index = PdqIndex(codes)
    sizes = {"plain": 1, "plain + dihedral": 8, "windows": 16, "windows + dihedral": 23}
    print(f"\nlookup cost at {index_size:,} banked hashes ({pictures} pictures a mode)")
    print("| query hashes | hashes a picture | us a picture | x plain |")
    print("|---|---|---|---|")
    base = None
    for mode, k in sizes.items():
        queries = rng.integers(0, 256, (pictures * k, 32), dtype=np.uint8)
        index.search(queries[: 64 * k], PDQ_CONFIDENT_MATCH_THRESHOLD)  # warm up
        t = time.perf_counter()
        for s in range(0, pictures, 64):
            index.search(queries[s * k : (s + 64) * k], PDQ_CONFIDENT_MATCH_THRESHOLD)
        us = (time.perf_counter() - t) / pictures * 1e6
        base = base or us
        print(f"| {mode} | {k} | {us:,.0f} | {us / base:.1f} |", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--photos", type=Path, default=Path("../shared/data/faces/real"))
    ap.add_argument("--banked", type=int, default=400)
    ap.add_argument("--unrelated", type=int, default=1000)
    ap.add_argument("--index-size", type=int, default=1_000_000)
    ap.add_argument("--pictures", type=int, default=2000)
    ap.add_argument("--lookup-only", action="store_true", help="Skip the false-match part.")
    args = ap.parse_args()
    photos = sorted(
        p for p in args.photos.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png")
    )
    if not args.lookup_only:
        false_matches(photos, args.banked, args.unrelated)
    lookup_cost(args.index_size, args.pictures)


if __name__ == "__main__":
    main()
