"""A per-file wall-clock budget that really stops work: files are handled in a worker process.

Cooperative deadline checks (`Limits.time_budget_s` inside the decoders and detectors) give the
clearest messages, but they cannot interrupt a C decoder that never returns, a quadratic
parser holding the GIL, or a process stuck in the kernel. So each command that reads untrusted
files (`scan`, `hash`, `verify`) hands them, one at a time, to one persistent child process.
When a file passes its budget the child is killed and a fresh one is started for the next
file; the file gets an error entry naming the budget, and the batch goes on. A child that dies
(killed by the kernel for memory, or crashed in a decoder) is reported the same way.

Trade-offs: one child per run, not per file, so models load once (a restart after a kill pays
it again); calls and results cross a pipe by pickling (0.1 ms a call, BENCHMARKS.md);
the child is a fresh interpreter, not a fork, so it inherits no threads or locks from the
parent (a progress bar's refresh thread, say) and no half-initialised native library.

A task may call `report_progress` (frames decoded, faces searched): each report crosses the pipe
as its own small message and reaches `run(..., on_progress=...)` in the parent while the task
runs; the budget counts from the call, whatever is reported. `unmask.scan_pool` runs several
workers side by side.
"""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, TypeVar

from unmask.errors import TimeBudgetExceededError, UnmaskError

T = TypeVar("T")

KILL_GRACE_S = 5.0
"""The child is killed this long after the budget: the cooperative checks inside get the first
chance to stop with a precise message ("stopped after 12 of 32 frames")."""
START_TIMEOUT_S = 300.0
"""Longest wait for a child to load its models and say it is ready."""
MEMORY_SHARE = 0.75
"""The worker's address space is capped at this share of the computer's memory (at least
MIN_MEMORY_BYTES), so that a bomb no limit foresaw ends with an out-of-memory error for that
file instead of pushing the whole computer into swap. A 100-megapixel scan peaked at 1.4 GB
of address space (VmPeak) on the reference machine."""
MIN_MEMORY_BYTES = 4 * 1024**3
ONE_THREAD_ENV = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENCV_FOR_THREADS_NUM",
)
"""Set to 1 in the worker unless already set: the BLAS and OpenMP thread pools under NumPy
spin on every core for small matrices. Measured on 40 photos (`/usr/bin/time unmask scan ...
--workers 1`, 2 cores): 14.9 CPU s and 10.4 s wall with the pools, 8.1 CPU s and 8.1 s wall
without, and a second worker gets a core of its own (BENCHMARKS.md, issue 17). OpenCV's own
pool (resizes, colour conversion) likewise: 200 photos with 2 workers took 70.7 CPU s with
it on every core, 60.9 with one thread per worker (`bench/bench_workers.py`)."""


class OutOfMemoryError(UnmaskError):
    """Decoding or analysing the file ran out of memory (Python's MemoryError)."""

    code = "out_of_memory"


class WorkerCrashedError(UnmaskError):
    """The worker process died while handling a file (out of memory, or a decoder crashed)."""

    code = "worker_crashed"


class WorkerStartTimeoutError(WorkerCrashedError):
    """The worker process did not say it was ready within START_TIMEOUT_S: the computer is
    overloaded, nothing is known about the file."""


class WorkerKilledError(WorkerCrashedError):
    """The system killed the worker (SIGKILL), most likely for using too much memory."""


class FileWorker:
    """One child process that runs `task(state, *args)` calls, where `state = setup()` is built
    once in the child (models, detectors). Use as a context manager.

    `setup` and every `task` must be picklable (module-level functions, `functools.partial`).
    The child is `python -m unmask.worker` talking over two pipes, so it works the same
    whatever the parent's main module is (a console script, `python -m`, a notebook).
    """

    def __init__(
        self,
        budget_s: float,
        setup: Callable[[], Any] | None = None,
        *,
        grace_s: float = KILL_GRACE_S,
        memory_bytes: int | None = None,
    ) -> None:
        self.budget_s = budget_s
        self.grace_s = grace_s
        self.memory_bytes = memory_bytes if memory_bytes is not None else default_memory_cap()
        self._setup = setup or _no_state
        self._process: subprocess.Popen[bytes] | None = None
        self._to_child: Connection | None = None
        self._from_child: Connection | None = None
        self.restarts = 0
        """How many times a child was replaced after a kill or a crash."""

    def __enter__(self) -> FileWorker:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        """Start the child and wait until its state is built. An exception raised by `setup`
        (e.g. a missing model) is raised here, in the caller's process."""
        if self._process is not None and self._process.poll() is None:
            return
        to_child_read, to_child_write = os.pipe()
        from_child_read, from_child_write = os.pipe()
        package_root = str(Path(__file__).resolve().parents[1])
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
        for name in ONE_THREAD_ENV:
            env.setdefault(name, "1")
        try:
            self._process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "unmask.worker",
                    str(to_child_read),
                    str(from_child_write),
                    str(self.memory_bytes),
                ],
                pass_fds=(to_child_read, from_child_write),
                stdin=subprocess.DEVNULL,
                env=env,
            )
        finally:
            os.close(to_child_read)
            os.close(from_child_write)
        self._to_child = Connection(to_child_write, readable=False)
        self._from_child = Connection(from_child_read, writable=False)
        self._to_child.send(self._setup)
        if not self._from_child.poll(START_TIMEOUT_S):
            self._kill()
            raise WorkerStartTimeoutError(
                f"the worker process did not start within {START_TIMEOUT_S:.0f} s",
                "the computer may be overloaded; try again",
            )
        try:
            status, payload = self._from_child.recv()
        except (EOFError, OSError):
            code = self._kill()
            raise WorkerCrashedError(
                f"the worker process stopped while starting (exit status {code})",
                "please report this as a bug",
            ) from None
        if status != "ready":
            self._kill()
            raise _rebuild(payload)

    def run(
        self,
        task: Callable[..., T],
        *args: Any,
        on_progress: Callable[[Any], None] | None = None,
    ) -> T:
        """`task(state, *args)` in the child. Raises `TimeBudgetExceededError` when the call
        passes the budget (the child is killed), `WorkerCrashedError` when the child dies, and
        whatever `task` raised otherwise. What the task passes to `report_progress` reaches
        `on_progress` here, in the caller's process, while the task runs."""
        self.start()
        assert self._to_child is not None and self._from_child is not None
        try:
            self._to_child.send((task, args))
        except OSError:
            return self._crashed()
        ends = time.monotonic() + self.budget_s + self.grace_s
        while True:
            if not self._from_child.poll(max(0.0, ends - time.monotonic())):
                self._kill()
                self.restarts += 1
                raise TimeBudgetExceededError(
                    f"stopped after the per-file time budget of {self.budget_s:g} s: decoding "
                    "or analysis did not finish, and the work was ended by force",
                    "if you trust this file, raise the budget with --time-budget",
                )
            try:
                status, payload = self._from_child.recv()
            except (EOFError, OSError):
                return self._crashed()
            if status != "progress":
                break
            if on_progress is not None:
                on_progress(payload)
        if status == "ok":
            return payload  # type: ignore[no-any-return]
        raise _rebuild(payload)

    def close(self) -> None:
        """Stop the child (politely, then by force)."""
        if self._process is None:
            return
        try:
            if self._to_child is not None:
                self._to_child.send(None)
            self._process.wait(2.0)
        except (OSError, subprocess.TimeoutExpired):
            pass
        self._kill()

    def _crashed(self) -> Any:
        code = self._kill()
        self.restarts += 1
        if code == -signal.SIGKILL:
            raise WorkerKilledError(
                "the work on this file was killed by the system, most likely for using too "
                "much memory",
                "lower --max-pixels or sample fewer frames, or scan it on a computer with more "
                "memory",
            )
        raise WorkerCrashedError(
            f"the decoder crashed on this file (the worker process ended with status {code})",
            "the file is probably damaged or deliberately malformed",
        )

    def _kill(self) -> int | None:
        """End the child (if still running) and close the pipes; returns its exit status."""
        process, self._process = self._process, None
        for connection in (self._to_child, self._from_child):
            if connection is not None:
                connection.close()
        self._to_child = self._from_child = None
        if process is None:
            return None
        try:
            return process.wait(0.5)
        except subprocess.TimeoutExpired:
            process.kill()
            return process.wait()


def default_memory_cap() -> int:
    """MEMORY_SHARE of the computer's memory, at least MIN_MEMORY_BYTES; 0 (no cap) where the
    size cannot be read. `UNMASK_WORKER_MEMORY_MB` overrides it (0: no cap), e.g. on a
    computer with many cores and little memory, where thread arenas reserve much address
    space that is never used."""
    override = os.environ.get("UNMASK_WORKER_MEMORY_MB", "").strip()
    if override.isdigit():
        return int(override) * 1024**2
    try:
        physical = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 0
    return max(MIN_MEMORY_BYTES, int(physical * MEMORY_SHARE))


def _cap_memory(limit: int) -> None:
    """Lower the address-space limit (never raise it); ignored where the system refuses."""
    if limit <= 0:
        return
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if soft == resource.RLIM_INFINITY or soft > limit:
            allowed = limit if hard == resource.RLIM_INFINITY else min(limit, hard)
            resource.setrlimit(resource.RLIMIT_AS, (allowed, hard))
    except (ImportError, ValueError, OSError):
        pass


def _no_state() -> None:
    return None


_progress_pipe: Connection | None = None


def report_progress(payload: Any) -> None:
    """From a task running in a worker: send `payload` (small and picklable, e.g. a tuple of
    words and counts) to the parent's `on_progress`. Does nothing outside a worker."""
    if _progress_pipe is not None:
        _progress_pipe.send(("progress", payload))


def _serve(to_parent: Connection, from_parent: Connection) -> None:
    """The child's loop: build the state, then answer one call at a time until told to stop."""
    global _progress_pipe
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C is the parent's to handle
    _progress_pipe = to_parent
    try:
        setup = from_parent.recv()
        state = setup()
    except BaseException as exc:
        to_parent.send(("error", _portable(exc)))
        return
    to_parent.send(("ready", None))
    while True:
        try:
            message = from_parent.recv()
        except (EOFError, OSError):
            return  # the parent went away
        except Exception as exc:  # a task this interpreter cannot import
            to_parent.send(("error", _portable(RuntimeError(f"unreadable task: {exc}"))))
            continue
        if message is None:
            return
        task, args = message
        try:
            reply = ("ok", task(state, *args))
        except MemoryError:
            error = OutOfMemoryError(
                "the file needed more memory than this computer allows",
                "lower --max-pixels or sample fewer frames",
            )
            reply = ("error", _portable(error))
        except BaseException as exc:
            reply = ("error", _portable(exc))
        try:
            to_parent.send(reply)
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            to_parent.send(("error", _portable(RuntimeError(f"unsendable result: {exc}"))))


def _portable(exc: BaseException) -> tuple[Any, ...]:
    """An exception as something that survives pickling (an `UnmaskError` keeps its hint)."""
    if isinstance(exc, UnmaskError):
        return ("unmask", type(exc), exc.message, exc.hint)
    try:
        pickle.dumps(exc)
        return ("plain", exc)
    except Exception:
        return ("plain", RuntimeError(f"{type(exc).__name__}: {exc}"))


def _rebuild(payload: tuple[Any, ...]) -> BaseException:
    if payload[0] == "unmask":
        _, kind, message, hint = payload
        error = kind.__new__(kind)
        UnmaskError.__init__(error, message, hint)
        return error  # type: ignore[no-any-return]
    return payload[1]  # type: ignore[no-any-return]


def _child_main(arguments: list[str]) -> None:
    from_parent = Connection(int(arguments[0]), writable=False)
    to_parent = Connection(int(arguments[1]), readable=False)
    _cap_memory(int(arguments[2]))
    _serve(to_parent, from_parent)


if __name__ == "__main__":
    # Run the imported module's copy, so that what is pickled names `unmask.worker`, not
    # `__main__`, and the parent can read it.
    from unmask.worker import _child_main as child_main

    child_main(sys.argv[1:])

__all__ = [
    "KILL_GRACE_S",
    "FileWorker",
    "OutOfMemoryError",
    "WorkerCrashedError",
    "report_progress",
]
