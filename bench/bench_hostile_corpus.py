"""The hostile-media corpus through `unmask scan`, `hash`, `verify` and `report create`, and the
cost of the per-file worker process.

Builds the corpus of tests/hostile_factory.py in a temporary folder, runs each file through
each command as a subprocess (hang guard: --time-budget + 40 s), and prints one row a run and
the totals BENCHMARKS.md reports: files tried, hangs, tracebacks, exit codes, peak memory of
the process tree (the command and its worker). Then scans the same photos in-process (the
baseline) and through the worker process, to show what the isolation costs.

    .venv/bin/python bench/bench_hostile_corpus.py [--budget 20] [--part corpus|worker]
"""

from __future__ import annotations

import argparse
import json
import operator
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from hostile_factory import CORPUS  # noqa: E402
from hostile_run import run_unmask  # noqa: E402

REPORTED = ("gif_big_canvas", "png_xmp_openers", "fifo_jpg", "jpeg_scan_bomb", "markup_name")


def outcome(command: str, stdout: str, returncode: int | None) -> str:
    """What the run said, in a word: the error code, or "result"."""
    if returncode is None:
        return "HANG"
    try:
        if command == "scan":
            codes = [(json.loads(line)["error"] or {}).get("code") for line in stdout.splitlines()]
            return ",".join(code or "result" for code in codes)
        if command in ("hash", "verify"):
            document = json.loads(stdout)
            return (
                document.get("error", {}).get("code", "result")
                if "error" in document
                else ("result")
            )
    except (ValueError, KeyError, TypeError):
        return "error" if returncode else "result"
    return "error" if returncode == 2 else "result"


def corpus_runs(budget: float) -> None:
    folder = Path(tempfile.mkdtemp(prefix="unmask-hostile-"))
    try:
        files = {name: make(folder) for name, make in CORPUS.items()}
        guard = budget + 40
        rows = []
        for name, path in sorted(files.items()):
            plans = [
                ("scan", ["scan", str(path), "--jsonl", "--time-budget", str(budget)]),
                ("hash", ["hash", str(path), "--json", "--time-budget", str(budget)]),
            ]
            if path.is_dir():
                plans[1] = ("hash", ["hash", str(path / "again" / "inside.jpg"), "--json"])
            else:
                plans.append(
                    ("verify", ["verify", str(path), "--json", "--time-budget", str(budget)])
                )
            if name in REPORTED:
                out = folder / f"report-{name}"
                plans.append(
                    (
                        "report",
                        ["report", "create", str(path), "--no-ask", "--no-pdf", "-o", str(out)],
                    )
                )
            for command, args in plans:
                run = run_unmask(*args, timeout_s=guard * (2 if command == "report" else 1))
                rows.append((name, command, run, outcome(command, run.stdout, run.returncode)))
                print(
                    f"{name:24s} {command:7s} rc={run.returncode!s:4s} {run.seconds:6.1f} s "
                    f"{run.peak_rss_mb:7.0f} MB  {outcome(command, run.stdout, run.returncode)}"
                    + ("  TRACEBACK" if run.traceback else ""),
                    flush=True,
                )
        runs = [r for _, _, r, _ in rows]
        worst = max(rows, key=lambda row: row[2].peak_rss_mb)
        slowest = max(rows, key=lambda row: row[2].seconds)
        print()
        print(f"files and objects tried: {len(files)}; runs: {len(runs)}")
        print(f"hangs: {sum(r.hung for r in runs)}; tracebacks: {sum(r.traceback for r in runs)}")
        print(f"exit codes: {dict(sorted(Counter(r.returncode for r in runs).items()))}")
        print(f"peak memory: {worst[2].peak_rss_mb:.0f} MB ({worst[0]}, {worst[1]})")
        print(f"slowest run: {slowest[2].seconds:.1f} s ({slowest[0]}, {slowest[1]})")
        print(f"all runs: {sum(r.seconds for r in runs):.0f} s")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def worker_cost(photos: int, rounds: int = 5) -> None:
    """Scan the same photo in-process (baseline) and through the worker process, in
    alternating rounds so that a change in the machine's load hits both alike; the medians
    of the rounds are compared, and the worker's bare round trip is timed too."""
    import statistics

    from unmask.scan import IsolatedScanner, Scanner
    from unmask.worker import FileWorker

    example = REPO / "examples" / "astronaut.jpg"
    scanner = Scanner()
    scanner.scan(example)  # models loaded before timing
    started = time.perf_counter()
    isolated = IsolatedScanner()
    isolated.start()
    start_up = time.perf_counter() - started
    isolated.scan(example)
    first = time.perf_counter() - started
    direct: list[float] = []
    through: list[float] = []
    try:
        for _ in range(rounds):
            for scan, times in ((scanner.scan, direct), (isolated.scan, through)):
                started = time.perf_counter()
                for _ in range(photos):
                    scan(example)
                times.append((time.perf_counter() - started) / photos)
    finally:
        isolated.close()
    with FileWorker(30) as worker:
        worker.run(operator.is_not, 0)  # a trivial call: task(state=None, value)
        started = time.perf_counter()
        for i in range(200):
            worker.run(operator.is_not, i)
        round_trip = (time.perf_counter() - started) / 200
    a, b = statistics.median(direct), statistics.median(through)
    print()
    print(f"{rounds} alternating rounds of {photos} scans of a 512 px photo, models loaded:")
    print(f"  in-process Scanner (baseline): {a * 1000:.0f} ms a file (median of rounds)")
    print(f"  IsolatedScanner (worker):      {b * 1000:.0f} ms a file, ratio {b / a:.2f}")
    print(f"  bare worker round trip: {round_trip * 1000:.2f} ms")
    print(f"  worker start: {start_up:.2f} s; start + first file (models load): {first:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--budget", type=float, default=20.0, help="--time-budget per file")
    parser.add_argument("--photos", type=int, default=10, help="photos a round, worker cost")
    parser.add_argument("--part", choices=("all", "corpus", "worker"), default="all")
    args = parser.parse_args()
    if args.part in ("all", "corpus"):
        corpus_runs(args.budget)
    if args.part in ("all", "worker"):
        worker_cost(args.photos)


if __name__ == "__main__":
    main()
