"""CPU time of short `unmask` commands against the floor of starting Python (issue 17, "CLI
start-up"; issue 16, `bank list`).

Each command runs --runs times, round-robin (so that other work on a shared machine weighs on
every command alike); a run's CPU time is user + system of the process and everything it waited
for (`resource.getrusage(RUSAGE_CHILDREN)` before and after). Medians are printed with their
ratio to `python -c "import click"` measured in the same run, and wall-clock medians beside
them. The bank is a temporary SQLite file with --entries hash strings in two banks; the photo
is examples/astronaut.jpg unless --photo says otherwise.

Two rows show what the changes saved, in the same run: the same `bank list` with the
SQLAlchemy-free reader switched off (through BankStore, as before), and, with --before SRC (a
`src` folder of an older commit: `git archive COMMIT src | tar -x -C DIR`), `unmask --help`
and `unmask hash` of that code.

Usage:  .venv/bin/python bench/bench_startup.py [--runs 15] [--entries 1000] [--photo FILE]
                                                [--before DIR/src]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

STORE_LIST = (
    "import sys\n"
    "import unmask.bank.listing\n"
    "unmask.bank.listing.open_reader = lambda url=None: None  # always BankStore\n"
    "from unmask.cli import main\n"
    "sys.argv = ['unmask', 'bank', 'list']\n"
    "main()\n"
)


def run_once(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of one run of `command`; it must succeed."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall


def make_bank(url: str, entries: int) -> None:
    """Two banks holding `entries` MD5 and PDQ hash strings between them."""
    from unmask.bank.store import BankStore, NewEntry

    store = BankStore(url)
    store.create_bank("ncii", "bench")
    store.create_bank("partner")
    half = entries // 2
    store.add_entries("ncii", [NewEntry("md5", f"{i:032x}") for i in range(half)])
    store.add_entries(
        "partner",
        [NewEntry("pdq", f"{i * 7919:064x}", 100) for i in range(entries - half)],
    )
    store.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--entries", type=int, default=1000)
    ap.add_argument("--photo", type=Path, default=REPO / "examples" / "astronaut.jpg")
    ap.add_argument("--before", type=Path, help="src folder of an older commit to compare")
    args = ap.parse_args()
    python = sys.executable
    unmask = str(Path(python).parent / "unmask")
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bank.sqlite3"
        make_bank(url, args.entries)
        env = {**os.environ, "UNMASK_BANK_URL": url}
        commands = {
            "`python -c pass` (floor)": [python, "-c", "pass"],
            '`python -c "import click"`': [python, "-c", "import click"],
            "`unmask --help`": [unmask, "--help"],
            "`unmask bank list`": [unmask, "bank", "list"],
            "`unmask bank list ncii` (100 entries shown)": [unmask, "bank", "list", "ncii"],
            f"`unmask hash {args.photo.name}`": [unmask, "hash", str(args.photo)],
            "`unmask bank list` through BankStore (SQLAlchemy ORM, as before)": [
                python,
                "-c",
                STORE_LIST,
            ],
        }
        if args.before is not None:
            # The console script's code (`from unmask.cli import main`) on the older tree.
            before = [
                python,
                "-c",
                f"import sys; sys.path.insert(0, {str(args.before)!r}); "
                "from unmask.cli import main; sys.argv[0] = 'unmask'; main()",
            ]
            commands["`unmask --help`, --before tree"] = [*before, "--help"]
            commands[f"`unmask hash {args.photo.name}`, --before tree"] = [
                *before,
                "hash",
                str(args.photo),
            ]
        cpu: dict[str, list[float]] = {name: [] for name in commands}
        wall: dict[str, list[float]] = {name: [] for name in commands}
        for command in commands.values():  # one warm-up run each (page cache)
            run_once(command, env)
        for _ in range(args.runs):
            for name, command in commands.items():
                c, w = run_once(command, env)
                cpu[name].append(c)
                wall[name].append(w)
    base = statistics.median(cpu['`python -c "import click"`'])
    load = os.getloadavg()
    print(
        f"{args.runs} runs each, round-robin; bank of {args.entries} entries; "
        f"load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1 / 5 / 15 min)\n"
    )
    print("| command | median CPU s | x `import click` | median wall s |")
    print("|---|---|---|---|")
    for name in commands:
        c = statistics.median(cpu[name])
        print(f"| {name} | {c:.3f} | {c / base:.2f} | {statistics.median(wall[name]):.3f} |")


if __name__ == "__main__":
    main()
