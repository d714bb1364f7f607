"""How long `unmask bank list` takes on an existing bank, and where the time goes.

Runs each step --runs times and prints medians (wall seconds), in one run so the ratios hold
on a shared machine: the whole command as a user types it; Python importing `unmask.cli`
(every subcommand's module); importing the bank store (SQLAlchemy's ORM); opening an existing
bank with the one-query schema check; opening it with Alembic's upgrade check, as 0.1 did on
every open. Run: .venv/bin/python bench/bench_bank_list.py
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def timed(command: list[str], env: dict[str, str], runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    python = sys.executable
    unmask = str(Path(python).parent / "unmask")
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bank.sqlite3"
        env = {**os.environ, "UNMASK_BANK_URL": url}
        subprocess.run([unmask, "bank", "create", "ncii"], env=env, check=True)
        subprocess.run(
            [unmask, "bank", "add", "ncii", "md5:" + "a" * 32],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        open_fast = (
            "import time; from unmask.bank.store import BankStore; t = time.perf_counter(); "
            f"BankStore({url!r}); print(time.perf_counter() - t)"
        )
        open_alembic = (
            "import time; from unmask.bank.store import BankStore; "
            f"s = BankStore({url!r}); t = time.perf_counter(); "
            "from alembic import command; from alembic.config import Config; "
            "import unmask.bank.store as m; from pathlib import Path; c = Config(); "
            "c.set_main_option('script_location', str(Path(m.__file__).parent / 'migrations')); "
            "conn = s.engine.connect(); c.attributes['connection'] = conn; "
            "command.upgrade(c, 'head'); conn.commit(); print(time.perf_counter() - t)"
        )

        def inner(code: str) -> float:
            out = [
                float(
                    subprocess.run(
                        [python, "-c", code], env=env, check=True, capture_output=True, text=True
                    ).stdout
                )
                for _ in range(args.runs)
            ]
            return statistics.median(out)

        rows = [
            ("`unmask bank list` (whole command)", timed([unmask, "bank", "list"], env, args.runs)),
            (
                "Python start + `import unmask.cli`",
                timed([python, "-c", "import unmask.cli"], env, args.runs),
            ),
            (
                "Python start + `import sqlalchemy.orm` alone",
                timed([python, "-c", "import sqlalchemy.orm"], env, args.runs),
            ),
            (
                "Python start + `import unmask.bank.store`",
                timed([python, "-c", "import unmask.bank.store"], env, args.runs),
            ),
            ("Python start alone", timed([python, "-c", "pass"], env, args.runs)),
            ("open an existing bank: one-query schema check", inner(open_fast)),
            ("open an existing bank: import Alembic, upgrade check (0.1)", inner(open_alembic)),
        ]
    base = rows[0][1]
    print(f"| step | median s ({args.runs} runs) | x whole command |")
    print("|---|---|---|")
    for name, seconds in rows:
        print(f"| {name} | {seconds:.3f} | {seconds / base:.2f} |")


if __name__ == "__main__":
    main()
