"""Every core: several budgeted worker processes scanning a list of files, results in input order.

Each worker is an `IsolatedScanner` (one child process with its models loaded once, killed and
replaced when a file passes its time budget), driven by one thread of this process; the threads
only wait on pipes, so they cost no CPU. Results come back in the order the files were given,
as soon as every earlier file is done, so a JSON Lines file written from them reads the same as
a one-worker run and `--resume` works unchanged.

Trade-offs: a scan is CPU-bound in C code (FFmpeg, ONNX Runtime, Pillow) but 85-88 % of it ran
on one thread (issue 17), so processes, not threads, use the other cores; each worker holds its
own models (~550 MB resident each, BENCHMARKS.md), so the default count is limited by memory
as well as by cores. Memory for results is bounded too: at most `AHEAD_PER_WORKER` files per
worker are handed out beyond the oldest unfinished one, so one slow video at the head of the
list holds back at most that many finished results, never the whole batch.
"""

from __future__ import annotations

import os
import queue
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from unmask.config import ScanConfig
from unmask.result import ScanResult
from unmask.scan import IsolatedScanner, Progress

AHEAD_PER_WORKER = 4
"""Files handed out per worker beyond the oldest unfinished one (bounds results held back)."""
MEMORY_PER_WORKER = 1536 * 1024**2
"""Memory one worker may need: its models (~550 MB resident) plus the largest file the default
limits admit (a 100-megapixel photo peaked at 1.4 GB of address space, `unmask.worker`)."""


def default_workers() -> int:
    """One worker per core this process may use, but no more than the memory holds
    (MEMORY_PER_WORKER each); at least one."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    try:
        memory = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        by_memory = max(1, memory // MEMORY_PER_WORKER)
    except (ValueError, OSError, AttributeError):
        by_memory = cores
    return max(1, min(cores, by_memory))


class ScannerPool:
    """`workers` `IsolatedScanner`s. Use as a context manager; `start()` raises the scanner's
    own errors (an unknown detector, a missing model) in the caller's process, as
    `IsolatedScanner.start` does."""

    def __init__(self, config: ScanConfig | None = None, workers: int = 1) -> None:
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self.config = config or ScanConfig()
        self.workers = workers
        self._idle: queue.SimpleQueue[IsolatedScanner] = queue.SimpleQueue()
        self._all: list[IsolatedScanner] = []
        self._threads: ThreadPoolExecutor | None = None

    def __enter__(self) -> ScannerPool:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        """Start the workers: the first one alone (so that a configuration error is raised
        once, here), the others side by side."""
        if self._all:
            return
        first = IsolatedScanner(self.config)
        first.start()
        self._all.append(first)
        others = [IsolatedScanner(self.config) for _ in range(self.workers - 1)]
        self._all.extend(others)
        self._threads = ThreadPoolExecutor(self.workers, thread_name_prefix="unmask-worker")
        for started in [self._threads.submit(scanner.start) for scanner in others]:
            started.result()
        for scanner in self._all:
            self._idle.put(scanner)

    def close(self) -> None:
        """Stop every worker; files not yet handed out are not scanned. Workers still busy (on
        Ctrl+C) are ended by force, so closing never waits for a file's time budget."""
        threads, self._threads = self._threads, None
        if threads is not None:
            threads.shutdown(wait=False, cancel_futures=True)
        for scanner in self._all:
            scanner.close()
        if threads is not None:
            threads.shutdown(wait=True)
        self._all = []

    def scan(
        self,
        path: str | Path,
        display_name: str | None = None,
        on_progress: Progress | None = None,
    ) -> ScanResult:
        """Scan one file in whichever worker is free. Never raises for a bad input."""
        scanner = self._idle.get()
        try:
            return scanner.scan(path, display_name, on_progress)
        finally:
            self._idle.put(scanner)

    def scan_in_order(
        self, files: Iterable[tuple[str | Path, str]], on_progress: Progress | None = None
    ) -> Iterator[ScanResult]:
        """Scan (path, display name) pairs on every worker; yield the results in the order
        given, each as soon as it and every earlier one are done. `on_progress` hears every
        file's steps, from the threads that wait on the workers."""
        if not self._all:
            self.start()
        assert self._threads is not None
        pending: deque[Future[ScanResult]] = deque()
        ahead = self.workers * AHEAD_PER_WORKER
        for path, name in files:
            pending.append(self._threads.submit(self.scan, path, name, on_progress))
            while len(pending) >= ahead or (pending and pending[0].done()):
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
