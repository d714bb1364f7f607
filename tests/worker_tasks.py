"""Tasks for `unmask.worker.FileWorker` tests. They run in the worker's own interpreter, so
they live in an importable module (the tests put this folder on the worker's PYTHONPATH)."""

from __future__ import annotations

import os
import signal
import time

from unmask.errors import CorruptMediaError


def echo(_state: object, value: object) -> object:
    return value


def state_of(state: object) -> object:
    return state


def sleep_for(_state: object, seconds: float) -> None:
    time.sleep(seconds)  # a C call that no cooperative check can interrupt


def spin_in_c(_state: object) -> None:
    """Hold the interpreter in one C call that does not return for minutes (a backtracking
    regular expression, as an XMP parser of 0.1 did on hostile packets)."""
    import re

    re.match(r"(a+)+$", "a" * 40 + "b")


def run_out_of_memory(_state: object) -> None:
    raise MemoryError


def crash(_state: object) -> None:
    os.kill(os.getpid(), signal.SIGSEGV)


def refuse(_state: object) -> None:
    raise CorruptMediaError("the picture is damaged", "download it again")


def make_state() -> dict[str, int]:
    return {"loaded": os.getpid()}


def fail_to_start() -> None:
    raise ValueError("unknown detector 'crystal-ball'")


def allocate(_state: object, megabytes: int) -> int:
    return len(bytearray(megabytes * 1024 * 1024))


def chatty(_state: object, seconds: float) -> int:
    """Report progress every 10 ms for `seconds`, then return how many reports were sent."""
    from unmask.worker import report_progress

    sent, ends = 0, time.monotonic() + seconds
    while time.monotonic() < ends:
        report_progress(("working", sent, None))
        sent += 1
        time.sleep(0.01)
    return sent


def environment(_state: object, name: str) -> str | None:
    return os.environ.get(name)


def opencv_threads(_state: object) -> int:
    import cv2

    return int(cv2.getNumThreads())


def hash_or_hang(state: object, path: str, *args: object) -> object:
    """`hash_in_worker`, but a file named `*.jpeg` leaves a mark beside it (`*.hashing`) and
    then hangs in one C call, as a decoder stuck on a hostile video would."""
    from pathlib import Path

    from unmask.hashing import hash_in_worker

    if path.endswith(".jpeg"):
        Path(path).with_suffix(".hashing").touch()
        time.sleep(600)
    return hash_in_worker(state, path, *args)  # type: ignore[arg-type]


def crash_hashing(_state: object, *_args: object) -> None:
    os.kill(os.getpid(), signal.SIGSEGV)


def refuse_naming_the_path(_state: object, path: str, *_args: object) -> None:
    """A decoder refusing the upload with the server's path in its message, as an OSError's
    text or FFmpeg's does."""
    raise CorruptMediaError(
        f"[Errno 5] Input/output error: '{path}'; could not read {path}", "download it again"
    )
