"""Run the `unmask` command on one hostile input as a user would, with a hang guard, and
measure the peak memory of the whole process tree (the command and its worker process)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


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
    """`python -m unmask.cli ARGS`, killed (with its process group) after `timeout_s`.

    Output goes to files, not pipes, so that the child can be reaped with `os.wait4`, whose
    resource usage covers the child and every descendant it waited for (Linux, ru_maxrss in
    KiB): the worker process is included."""
    command = [sys.executable, "-m", "unmask.cli", *args]
    env = {**os.environ, "COLUMNS": "200"}
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.monotonic()
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )
        returncode: int | None = None
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                returncode = os.waitstatus_to_exitcode(status)
                break
            if time.monotonic() - started > timeout_s:
                os.killpg(process.pid, signal.SIGKILL)
                _, _, usage = os.wait4(process.pid, 0)
                break
            time.sleep(0.05)
        process.returncode = returncode if returncode is not None else -9  # reaped above
        seconds = time.monotonic() - started
        out.seek(0)
        err.seek(0)
        return Run(
            command[3:],
            returncode,
            out.read().decode("utf-8", errors="replace"),
            err.read().decode("utf-8", errors="replace"),
            usage.ru_maxrss / 1024.0,
            seconds,
        )
