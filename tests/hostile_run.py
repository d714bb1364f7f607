"""Run the `unmask` command on one hostile input as a user would, with a hang guard, and
measure the peak memory of the whole process tree (the command and its worker process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

# Runs in a small interpreter of its own: Linux counts a parent's resident high-water mark
# into a child's ru_maxrss when the child execs (so every child of a 200 MB test process
# would "use" 200 MB). This helper is small, so its child's figure is the command's own; and
# os.wait4 reports the child together with every descendant it waited for (the worker).
_MEASURE = r"""
import json, os, signal, subprocess, sys, time
result, out, err, timeout = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
command = sys.argv[5:]
with open(out, "wb") as o, open(err, "wb") as e:
    child = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=o, stderr=e,
                             start_new_session=True)
started = time.monotonic()
code = None
while True:
    pid, status, usage = os.wait4(child.pid, os.WNOHANG)
    if pid:
        code = os.waitstatus_to_exitcode(status)
        break
    if time.monotonic() - started > timeout:
        os.killpg(child.pid, signal.SIGKILL)
        _, _, usage = os.wait4(child.pid, 0)
        break
    time.sleep(0.05)
child.returncode = -9 if code is None else code
with open(result, "w") as r:
    json.dump({"returncode": code, "peak_kb": usage.ru_maxrss}, r)
"""


@dataclass
class Run:
    args: list[str]
    returncode: int | None
    """None when the run was killed by the hang guard."""
    stdout: str
    stderr: str
    peak_rss_mb: float
    """Largest resident set of the command or any process it waited for (its worker)."""
    seconds: float

    @property
    def hung(self) -> bool:
        return self.returncode is None

    @property
    def traceback(self) -> bool:
        return "Traceback (most recent call last)" in self.stdout + self.stderr


def run_unmask(*args: str, timeout_s: float, cwd: Path | None = None) -> Run:
    """`python -m unmask.cli ARGS`, killed (with its process group) after `timeout_s`."""
    command = [sys.executable, "-m", "unmask.cli", *args]
    env = {**os.environ, "COLUMNS": "200"}
    with tempfile.TemporaryDirectory(prefix="unmask-run-") as folder:
        result, out, err = (os.path.join(folder, name) for name in ("result", "out", "err"))
        started = time.monotonic()
        subprocess.run(
            [sys.executable, "-c", _MEASURE, result, out, err, str(timeout_s), *command],
            env=env,
            cwd=cwd,
            check=True,
            timeout=timeout_s + 30,
        )
        seconds = time.monotonic() - started
        with open(result) as handle:
            measured = json.load(handle)
        return Run(
            list(args),
            measured["returncode"],
            Path(out).read_bytes().decode("utf-8", errors="replace"),
            Path(err).read_bytes().decode("utf-8", errors="replace"),
            measured["peak_kb"] / 1024.0,
            seconds,
        )
