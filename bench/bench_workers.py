"""`unmask scan --workers N` on a folder of photos (issue 17, item 4): throughput with 1 worker
against N workers in the same run, CPU time of the whole process tree, and peak memory of the
whole tree (the sum of every process's resident memory, sampled every 0.1 s).

The photos are the first --photos files of `faces/real` (sorted by name), passed as arguments
(nothing is copied). Runs alternate (1, N, 1, N, ...) so that other work on the machine
weighs on both alike; medians are reported. On a shared machine wall time depends on the other
load, so the CPU of the command's process and of each worker is reported too:
"throughput_ratio_cpu_bound" is the ratio of the critical paths (the command's CPU plus its
busiest worker's), what the throughput ratio would be with a free core for every process.
"steal_s" is the CPU time the hypervisor gave to other guests during a run (/proc/stat): on a
shared virtual machine it slows a run that keeps both CPUs busy more than one that keeps one.

Usage:  .venv/bin/python bench/bench_workers.py [--photos 200] [--workers 2] [--rounds 2]
Needs ../shared/data (or UNMASK_DATA).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DATA = Path(os.environ.get("UNMASK_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
UNMASK = [sys.executable, "-m", "unmask.cli"]


def tree_rss_bytes(root: int, cpu: dict[int, float] | None = None) -> int:
    """Resident memory of `root` and all its descendants, from /proc. With `cpu`, also records
    each of those processes' CPU seconds so far (user + system) under its pid."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    used: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry)
        children.setdefault(int(fields[1]), []).append(pid)
        rss[pid] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        used[pid] = (int(fields[11]) + int(fields[12])) / tick
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        if cpu is not None and pid in used:
            cpu[pid] = used[pid]
        todo.extend(children.get(pid, []))
    return total


def steal_s() -> float:
    """CPU seconds the hypervisor gave to other guests while this machine's CPUs wanted to run
    (the 'steal' column of /proc/stat, summed over CPUs): time no process here could use."""
    with open("/proc/stat") as handle:
        fields = handle.readline().split()
    return int(fields[8]) / os.sysconf("SC_CLK_TCK")


def run_scan(photos: list[Path], workers: int, out: Path) -> dict[str, float]:
    stolen = steal_s()
    before = os.times()
    start = time.perf_counter()
    process = subprocess.Popen(
        [*UNMASK, "scan", *map(str, photos), "--workers", str(workers), "-q", "-o", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    peak = 0
    per_process: dict[int, float] = {}
    while process.poll() is None:
        peak = max(peak, tree_rss_bytes(process.pid, per_process))
        time.sleep(0.1)
    wall = time.perf_counter() - start
    after = os.times()
    stolen = steal_s() - stolen
    if process.returncode not in (0, 1, 2):
        sys.exit(process.stderr.read().decode() if process.stderr else "scan failed")
    lines = out.read_text().splitlines()
    # CPU of the command's own process and of each worker (sampled every 0.1 s, so the last
    # tenth of a second of each is missed): with a core for every process, the run could take
    # no less than the command's own CPU plus the busiest worker's (its critical path).
    parent = per_process.pop(process.pid, 0.0)
    workers = sorted(per_process.values(), reverse=True)
    return {
        "wall_s": wall,
        "cpu_s": (after.children_user - before.children_user)
        + (after.children_system - before.children_system),
        "peak_tree_rss_mb": peak / 1024**2,
        "files": len(lines),
        "command_cpu_s": parent,
        "busiest_worker_cpu_s": workers[0] if workers else 0.0,
        "workers_cpu_s": sum(workers),
        "critical_path_cpu_s": parent + (workers[0] if workers else 0.0),
        "steal_s": stolen,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    photos = sorted((DATA / "faces" / "real").glob("*.jpg"))[: args.photos]
    if len(photos) < args.photos:
        sys.exit(f"fewer than {args.photos} photos in {DATA / 'faces' / 'real'}; set UNMASK_DATA")
    runs: dict[int, list[dict[str, float]]] = {1: [], args.workers: []}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.rounds):
            for workers in (1, args.workers):
                runs[workers].append(run_scan(photos, workers, Path(tmp) / f"w{workers}.jsonl"))
    summary = {
        str(workers): {key: round(statistics.median(r[key] for r in rows), 2) for key in rows[0]}
        for workers, rows in runs.items()
    }
    one, many = summary["1"], summary[str(args.workers)]
    print(
        json.dumps(
            {
                "cpu_count": os.cpu_count(),
                "load_average_at_end": os.getloadavg(),
                "photos": len(photos),
                "by_workers": summary,
                "throughput_ratio": round(one["wall_s"] / many["wall_s"], 2),
                "throughput_ratio_cpu_bound": round(
                    one["critical_path_cpu_s"] / many["critical_path_cpu_s"], 2
                ),
                "cpu_ratio": round(many["cpu_s"] / one["cpu_s"], 2),
                "runs": {str(k): v for k, v in runs.items()},
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
