"""What a cold `unmask bank match` of one photo costs against a large bank, beside `unmask hash`
of the same photo, in one run (so the ratios hold on a shared machine).

Builds a synthetic SQLite bank of --photos pictures as `unmask bank add` stores them: one PDQ
entry with 16 crop-window hashes, one MD5 and one SHA-256 entry each (random hashes, inserted
in bulk; the photo itself is banked too, with its real hashes, so the lookup finds one match).
Then runs, each --runs times as a fresh process under /usr/bin/time, and prints medians of CPU
seconds (user + system), peak RSS, and the peaks of the anonymous (the process's own memory)
and file-backed RSS (pages of mapped files: page cache, shared, dropped under memory pressure;
sampled every 5 ms):

- `unmask hash PHOTO`
- `unmask bank match PHOTO` with no saved index (it is deleted first): the index is built from
  the database, as every lookup did before it was saved, and then saved
- `unmask bank match PHOTO` again: the saved index is opened (the cold lookup a user runs)

The page cache is warm (the files were just written or read): a first lookup after a reboot
also reads the pages it touches from disk.

Run: .venv/bin/python bench/bench_bank_index.py --photos 100000 --photo PICTURE
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from sqlalchemy import insert, update

from unmask.bank.index_files import index_folder
from unmask.bank.models import Entry, EntryWindow, IndexState
from unmask.bank.store import BankStore, entries_for_file
from unmask.hashing import BANK_WINDOW_CUTS, hash_file

WINDOWS = 16
BATCH = 10_000


def bulk_bank(store: BankStore, photos: int, seed: int = 0) -> int:
    """Insert `photos` random pictures' entries (pdq + 16 windows, md5, sha256) in bulk; returns
    the number of PDQ hashes (whole pictures and windows)."""
    rng = np.random.default_rng(seed)
    bank_id = store.create_bank("synthetic").id
    now = datetime.now(UTC)
    next_id = 1
    with store.engine.begin() as connection:
        for start in range(0, photos, BATCH):
            n = min(BATCH, photos - start)
            pdq = rng.integers(0, 256, (n, 32), dtype=np.uint8)
            windows = rng.integers(0, 256, (n, WINDOWS, 32), dtype=np.uint8)
            digests = rng.integers(0, 256, (n, 48), dtype=np.uint8)
            entries, window_rows = [], []
            for i in range(n):
                common = {
                    "bank_id": bank_id,
                    "labels": [],
                    "source": "",
                    "added_at": now,
                    "added_by": "",
                    "enabled": True,
                }
                entries.append(
                    {"id": next_id, "signal_type": "pdq", "value": pdq[i].tobytes().hex()}
                    | {"quality": 100}
                    | common
                )
                window_rows += [
                    {"entry_id": next_id, "value": w.tobytes().hex(), "quality": 90}
                    for w in windows[i]
                ]
                entries.append(
                    {"id": next_id + 1, "signal_type": "photo_md5"}
                    | {"value": digests[i, :16].tobytes().hex(), "quality": None}
                    | common
                )
                entries.append(
                    {"id": next_id + 2, "signal_type": "photo_sha256"}
                    | {"value": digests[i, 16:].tobytes().hex(), "quality": None}
                    | common
                )
                next_id += 3
            connection.execute(insert(Entry), entries)
            connection.execute(insert(EntryWindow), window_rows)
        connection.execute(
            update(IndexState).values(
                last_entry_id=next_id - 1, generation=IndexState.generation + 1
            )
        )
    return photos * (1 + WINDOWS)


CHILD = """
import atexit, sys, threading, time
rss_path = sys.argv[1]
peak = [0, 0]
def sample():
    status = dict(line.split(":", 1) for line in open("/proc/self/status"))
    anon, mapped = (int(status[k].split()[0]) for k in ("RssAnon", "RssFile"))
    peak[0], peak[1] = max(peak[0], anon), max(peak[1], mapped)
def watch():
    while True:
        sample()
        time.sleep(0.005)
def report():
    sample()
    with open(rss_path, "w") as out:
        out.write(f"{peak[0]} {peak[1]}")
threading.Thread(target=watch, daemon=True).start()
atexit.register(report)
sys.argv = ["unmask", *sys.argv[2:]]
from unmask.cli import main
main()
"""
"""`unmask ARGS` in a fresh interpreter, as the `unmask` script runs it, that samples its
anonymous and file-backed RSS every 5 ms and writes their peaks (kB) to a file at exit."""


def measure(args: list[str], env: dict[str, str]) -> tuple[float, float, float, float]:
    """One run of `unmask ARGS`: CPU seconds (user + system) and peak RSS (MB) from
    /usr/bin/time, and the peaks of its anonymous and file-backed RSS (MB, sampled)."""
    with (
        tempfile.NamedTemporaryFile("r", suffix=".time") as report,
        tempfile.NamedTemporaryFile("r", suffix=".rss") as rss,
    ):
        timed = ("/usr/bin/time", "-f", "%U %S %M", "-o", report.name)
        subprocess.run(
            [*timed, sys.executable, "-c", CHILD, rss.name, *args],
            env=env,
            stdout=subprocess.DEVNULL,
            check=False,
        )
        user, system, peak_kb = report.read().split()[-3:]
        anon_kb, file_kb = rss.read().split()
    cpu = float(user) + float(system)
    return cpu, int(peak_kb) / 1024, int(anon_kb) / 1024, int(file_kb) / 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--photos", type=int, default=100_000)
    ap.add_argument("--photo", type=Path, required=True, help="The picture looked up.")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--keep", type=Path, help="Keep the bank in this folder (default: delete).")
    args = ap.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-bank-index-")) if args.keep is None else args.keep
    folder.mkdir(parents=True, exist_ok=True)
    try:
        url = f"sqlite:///{folder}/bank-{secrets.token_hex(4)}.sqlite3"
        store = BankStore(url)
        t = time.perf_counter()
        hashes = bulk_bank(store, args.photos)
        own = entries_for_file(hash_file(args.photo, window_cuts=BANK_WINDOW_CUTS), [], "")
        store.add_entries("synthetic", own)
        print(
            f"bank: {args.photos:,} photos + the looked-up photo, {hashes:,} PDQ hashes with "
            f"windows, {store.count_entries():,} entries; built in "
            f"{time.perf_counter() - t:.0f} s",
            flush=True,
        )
        saved = index_folder(url)
        assert saved is not None
        env = {**os.environ, "UNMASK_BANK_URL": url}
        photo = str(args.photo)
        hash_cmd = ["hash", photo]
        match_cmd = ["bank", "match", photo]
        rows: dict[str, list[tuple[float, float, float, float]]] = {
            "hash": [],
            "rebuild": [],
            "saved": [],
        }
        for _ in range(args.runs):
            rows["hash"].append(measure(hash_cmd, env))
            shutil.rmtree(saved, ignore_errors=True)
            rows["rebuild"].append(measure(match_cmd, env))
            rows["saved"].append(measure(match_cmd, env))
        files = sum(p.stat().st_size for p in saved.iterdir()) / 2**20
        base_cpu = statistics.median(r[0] for r in rows["hash"])
        db_file = url.removeprefix("sqlite:///")
        database = (
            sum(  # WAL mode: committed pages may still be in the -wal file
                Path(db_file + end).stat().st_size
                for end in ("", "-wal")
                if Path(db_file + end).exists()
            )
            / 2**20
        )
        print(
            f"\nmedian of {args.runs} runs; on disk: database {database:,.0f} MB, saved index "
            f"{files:,.0f} MB\n"
        )
        print(
            "| command | CPU s | x hash | peak RSS MB | peak anonymous MB | peak file-backed MB |"
        )
        print("|---|---|---|---|---|---|")
        names = {
            "hash": "`unmask hash PHOTO`",
            "rebuild": "`unmask bank match PHOTO`, no saved index (build + save)",
            "saved": "`unmask bank match PHOTO`, saved index",
        }
        for key, name in names.items():
            cpu, peak, anon, mapped = (statistics.median(r[i] for r in rows[key]) for i in range(4))
            print(
                f"| {name} | {cpu:.2f} | {cpu / base_cpu:.2f} | {peak:,.0f} | {anon:,.0f} | "
                f"{mapped:,.0f} |"
            )
        print("\nCPU s of every run:", {k: [round(r[0], 2) for r in v] for k, v in rows.items()})
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
