"""How much two busy cores slow each other down on this machine (issue 17, item 4).

`unmask scan --workers 2` can be at most as much faster than one worker as two copies of the
same work running side by side are faster than one copy. This measures that ceiling directly:
the same fixed work runs in one process alone, then in two processes at once, and the script
reports each process's CPU seconds and the throughput ratio (2 x work / wall of the pair
against 1 x work / wall alone). Two kinds of work:

- `scan`: the scanner itself (faces, forensics, every check) on the first --photos photos of
  `faces/real`, in-process, models loaded before the clock starts;
- `loop`: a pure-Python integer loop that stays in each core's own cache, a control for the
  cores themselves (frequency, the hypervisor's scheduling) without shared caches or memory.

If `loop` reaches ~2x and `scan` less, the difference is what the two processes take from each
other in shared cache and memory bandwidth, a property of the machine, not of the pool.
Thread pools under NumPy, OpenCV and ONNX Runtime are held to one thread, as in the workers.

Usage:  .venv/bin/python bench/bench_core_scaling.py [--photos 40] [--rounds 3]
Needs ../shared/data (or UNMASK_DATA) and an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from multiprocessing import get_context
from pathlib import Path

from unmask.worker import ONE_THREAD_ENV

for _name in ONE_THREAD_ENV:  # as the scan's workers do
    os.environ.setdefault(_name, "1")

DATA = Path(os.environ.get("UNMASK_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
LOOP_STEPS = 30_000_000


def loop_work(_: object) -> None:
    total = 0
    for i in range(LOOP_STEPS):
        total += i ^ (i >> 3)


def scan_work(photos: list[Path]):
    from unmask.scan import Scanner

    scanner = Scanner()
    scanner.scan(photos[0])  # load every model before the clock starts

    def work(_: object) -> None:
        for photo in photos:
            scanner.scan(photo)

    return work


def child(kind: str, photos: list[str], start, out) -> None:
    work = loop_work if kind == "loop" else scan_work([Path(p) for p in photos])
    start.wait()
    cpu, wall = time.process_time(), time.perf_counter()
    work(None)
    out.put((time.process_time() - cpu, time.perf_counter() - wall))


def measure(kind: str, photos: list[str], processes: int) -> dict[str, float]:
    context = get_context("spawn")
    start, out = context.Event(), context.Queue()
    children = [
        context.Process(target=child, args=(kind, photos, start, out)) for _ in range(processes)
    ]
    for process in children:
        process.start()
    time.sleep(8 if kind == "scan" else 1)  # imports and model loading, off the clock
    began = time.perf_counter()
    start.set()
    results = [out.get() for _ in children]
    wall = time.perf_counter() - began
    for process in children:
        process.join()
    return {"wall_s": wall, "cpu_s_per_process": statistics.mean(cpu for cpu, _ in results)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    photos = [str(p) for p in sorted((DATA / "faces" / "real").iterdir())[: args.photos]]
    report = {"load_average_before": os.getloadavg()[0]}
    for kind in ("loop", "scan"):
        one, two = [], []
        for _ in range(args.rounds):  # alternate so that other load weighs on both alike
            one.append(measure(kind, photos, 1))
            two.append(measure(kind, photos, 2))
        wall_1 = statistics.median(r["wall_s"] for r in one)
        wall_2 = statistics.median(r["wall_s"] for r in two)
        cpu_1 = statistics.median(r["cpu_s_per_process"] for r in one)
        cpu_2 = statistics.median(r["cpu_s_per_process"] for r in two)
        report[kind] = {
            "alone": {"wall_s": round(wall_1, 2), "cpu_s": round(cpu_1, 2)},
            "two_at_once": {"wall_s": round(wall_2, 2), "cpu_s_per_process": round(cpu_2, 2)},
            "cpu_inflation": round(cpu_2 / cpu_1, 3),
            "throughput_ratio": round(2 * wall_1 / wall_2, 3),
        }
        print(kind, json.dumps(report[kind]), flush=True)
    report["load_average_after"] = os.getloadavg()[0]
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
