"""`unmask scan --ray` against `--workers 1` and `--workers N` on the same photos (issue 17, 5).

The cluster is one you started (for the figures in BENCHMARKS.md: `.ci/ray.sh start`, a head and
one worker node on this machine, one CPU each). Every run builds its scanner afresh (models load
in each run, as in a command) and scans the first --photos files of `faces/real`, sorted by name,
in place (nothing is copied). Rounds alternate (workers 1, workers N, Ray) so that other load on
the machine weighs on all three alike; medians are reported, and ratios come from the same run.

CPU seconds count everything a run makes work:
- local: this process and its worker processes (reaped at close, so RUSAGE_CHILDREN holds them);
- Ray: this process (the driver), the actors with their scanner processes (each actor reports
  its own and its children's CPU when closed), and the Ray daemons (raylet, GCS, agents) over the
  run; the daemons' figure is also given for the local runs, where the idle cluster still ticks.
Every run's results are checked against the first local run's (apart from timings).

Usage:  .ci/ray.sh start
        .venv/bin/python bench/bench_scan_ray.py --ray 127.0.0.1:6390 [--photos 100] [--rounds 1]
        .ci/ray.sh stop
Needs ../shared/data (or UNMASK_DATA) and `pip install -e ".[ray]"`.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import time
from pathlib import Path

from unmask.config import ScanConfig
from unmask.scan_pool import ScannerPool
from unmask.scan_ray import RayScanner

DATA = Path(os.environ.get("UNMASK_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
TICKS = os.sysconf("SC_CLK_TCK")
RAY_DAEMONS = ("raylet", "gcs_server", "dashboard", "runtime_env", "log_monitor", "monitor.py")


def own_cpu_s() -> float:
    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def daemon_cpu_s() -> dict[int, float]:
    """CPU seconds so far of every Ray daemon of this machine (not its reaped children: the
    actors are counted by themselves), by process id."""
    found: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            command = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if any(name in command for name in RAY_DAEMONS) and "ray::" not in command:
            found[int(entry)] = (int(fields[11]) + int(fields[12])) / TICKS
    return found


def essence(result) -> str:  # type: ignore[no-untyped-def]
    record = result.to_dict()
    record.pop("started_at")
    record.pop("elapsed_s")
    return json.dumps(record, sort_keys=True)


def differences(reference: list[str], rows: list[dict]) -> dict[str, object]:
    """How many results of these runs differ from the reference, and in which fields."""
    differing, fields = 0, set()
    for row in rows:
        for mine, theirs in zip(reference, row["results"], strict=True):
            if mine != theirs:
                differing += 1
                a, b = json.loads(mine), json.loads(theirs)
                fields |= {key for key in a if a[key] != b.get(key)}
    return {"results_differing": differing, "fields": sorted(fields)}


def run(kind: str, files: list[tuple[Path, str]], workers: int, address: str) -> dict:
    config = ScanConfig()
    daemons_before = daemon_cpu_s()
    cpu_before = own_cpu_s()
    start = time.perf_counter()
    scanner: ScannerPool | RayScanner
    if kind == "ray":
        scanner = RayScanner(config, address, workers)
    else:
        scanner = ScannerPool(config, workers)
    with scanner:
        results = [essence(r) for r in scanner.scan_in_order(files)]
    wall = time.perf_counter() - start
    cpu = own_cpu_s() - cpu_before
    actors = scanner.worker_cpu_s if isinstance(scanner, RayScanner) else 0.0
    time.sleep(1.0)  # let the daemons account for the actors' exit
    daemons_after = daemon_cpu_s()
    daemons = sum(v - daemons_before.get(pid, 0.0) for pid, v in daemons_after.items())
    return {
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu + actors + (daemons if kind == "ray" else 0.0), 2),
        "driver_cpu_s": round(cpu, 2),
        "actors_cpu_s": round(actors, 2),
        "ray_daemons_cpu_s": round(daemons, 2),
        "photos_per_s": round(len(results) / wall, 2),
        "results": results,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ray", required=True, help="address of the cluster's head")
    parser.add_argument("--photos", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2, help="local workers and Ray actors")
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    photos = sorted((DATA / "faces" / "real").glob("*.jpg"))[: args.photos]
    if len(photos) < args.photos:
        sys.exit(f"fewer than {args.photos} photos in {DATA / 'faces' / 'real'}; set UNMASK_DATA")
    files = [(path, str(path)) for path in photos]
    kinds = {"workers_1": ("local", 1), f"workers_{args.workers}": ("local", args.workers)}
    kinds[f"ray_{args.workers}_actors"] = ("ray", args.workers)
    runs: dict[str, list[dict]] = {name: [] for name in kinds}
    for _ in range(args.rounds):
        for name, (kind, workers) in kinds.items():
            runs[name].append(run(kind, files, workers, args.ray))
    reference = runs["workers_1"][0]["results"]
    same = {name: differences(reference, rows) for name, rows in runs.items()}
    summary = {
        name: {
            key: round(statistics.median(r[key] for r in rows), 2)
            for key in rows[0]
            if key != "results"
        }
        for name, rows in runs.items()
    }
    one, many, ray = (summary[name] for name in kinds)
    print(
        json.dumps(
            {
                "cpu_count": os.cpu_count(),
                "load_average_at_end": os.getloadavg(),
                "photos": len(photos),
                "rounds": args.rounds,
                "results_against_first_workers_1_run": same,
                "by_run": summary,
                "throughput_vs_workers_1": {
                    name: round(one["wall_s"] / row["wall_s"], 2) for name, row in summary.items()
                },
                "cpu_vs_workers_1": {
                    name: round(row["cpu_s"] / one["cpu_s"], 2) for name, row in summary.items()
                },
                "ray_vs_local_workers": {
                    "throughput": round(many["wall_s"] / ray["wall_s"], 2),
                    "cpu": round(ray["cpu_s"] / many["cpu_s"], 2),
                },
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
