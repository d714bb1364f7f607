"""Scan jobs behind the web pages: a bounded pool of workers and queue, and a private folder
whose files are kept no longer than configured.

Every job has its own folder (mode 0700) inside one private folder made at first use: the
upload, and the previews and maps drawn from it. `delete` removes a job's folder at once; a
background sweep removes jobs whose scan finished `retention_s` ago; `close` (server shutdown)
removes the whole private folder, and the next server removes one whose server was killed
(`unmask.server.web.folders`). Workers are daemon threads, so stopping the server never
waits for a long scan.
"""

from __future__ import annotations

import collections
import logging
import os
import secrets
import shutil
import tempfile
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
from PIL import Image

from unmask.compare.result import Comparison
from unmask.config import ScanConfig
from unmask.result import ScanError, ScanResult
from unmask.scan import IsolatedScanner, Scanner
from unmask.server.web.comparison import compare_job_isolated, keep_originals
from unmask.server.web.config import WebConfig
from unmask.server.web.folders import make_private_folder, sweep_abandoned
from unmask.server.web.images import JobImage, image_name, write_images

log = logging.getLogger(__name__)

JobState = Literal["queued", "scanning", "done", "error"]
SWEEP_INTERVAL_S = 30.0
"""Longest wait between two retention sweeps (shorter when the retention time is short)."""


class BusyError(Exception):
    """Every worker is busy and the queue is full."""


@dataclass
class Job:
    """One uploaded file and what the scan made of it."""

    id: str
    filename: str
    """The name the user's file had, for display only (never used as a path)."""
    folder: Path
    upload: Path
    created_at: float = field(default_factory=time.time)
    state: JobState = "queued"
    started_at: float | None = None
    finished_at: float | None = None
    result: ScanResult | None = None
    images: dict[str, JobImage] = field(default_factory=dict)
    map_names: list[list[str]] = field(default_factory=list)
    """Per finding of the result, the names of its maps (their pixels are in `images`)."""
    deleted: bool = False
    originals: list[Path] = field(default_factory=list)
    """Originals uploaded with the file, to compare it with (in the job's folder)."""
    comparison: Comparison | None = None
    comparison_pictures: dict[str, tuple[Path, Path]] = field(default_factory=dict)
    """The comparison's evidence pictures by name: (blurred file, sharp file)."""

    def map_arrays(self, finding_index: int) -> dict[str, np.ndarray]:
        """The maps of one finding, read back from the job's folder (sharp)."""
        if self.result is None or finding_index >= len(self.map_names):
            return {}
        finding = self.result.findings[finding_index]
        arrays = {}
        for map_name in self.map_names[finding_index]:
            image = self.images.get(image_name(finding.detector, map_name))
            path = self.folder / image.sharp_file if image else None
            if path is not None and path.exists():
                with Image.open(path) as picture:
                    arrays[map_name] = np.asarray(picture)
        return arrays

    @property
    def finished(self) -> bool:
        return self.state in ("done", "error")

    def image_path(self, name: str, sharp: bool) -> Path | None:
        image = self.images.get(name)
        if image is None or self.deleted:
            return None
        return self.folder / (image.sharp_file if sharp else image.blurred_file)


ScannerFactory = Callable[[], Scanner]


class ScanQueue:
    """Runs scans on `config.workers` threads with at most `config.queue_size` jobs waiting."""

    def __init__(self, config: WebConfig, scanner_factory: ScannerFactory | None = None) -> None:
        self.config = config
        self.scan_config = ScanConfig(keep_maps=True, keep_preview=True, frames=config.frames)
        """What the default scanner runs with; its limits (the per-file time budget) also bound
        the other work done on an upload in a worker process (the report's hashes)."""
        self._make_scanner = scanner_factory or self._default_scanner
        self._lock = threading.Condition()
        self._jobs: dict[str, Job] = {}
        self._waiting: collections.deque[Job] = collections.deque()
        self._running = 0
        self._threads: list[threading.Thread] = []
        self._root: Path | None = None
        self._closed = False
        self._cleanup: weakref.finalize | None = None

    def _default_scanner(self) -> Scanner:
        # One long-lived worker process per scan thread (models load once in it): a decoder
        # stuck in C code is killed at the file's time budget instead of hanging the server.
        scanner = IsolatedScanner(self.scan_config)
        scanner.start()
        return scanner  # type: ignore[return-value]  # same scan() and config as a Scanner

    # -- folders -------------------------------------------------------------------------

    @property
    def root(self) -> Path:
        """The private folder (0700) holding every upload; made at first use."""
        with self._lock:
            if self._root is None:
                self._root = make_private_folder(self.config.upload_dir)
                # Removed at interpreter exit too, should the server stop without `close`.
                self._cleanup = weakref.finalize(self, shutil.rmtree, self._root, True)
            return self._root

    def sweep_abandoned(self) -> list[Path]:
        """Remove upload folders left by servers that stopped without cleaning up (SIGKILL)."""
        return sweep_abandoned(self.config.upload_dir)

    def staging_folder(self) -> Path:
        """A fresh private folder for one request's files; the caller removes it."""
        return Path(tempfile.mkdtemp(prefix="upload-", dir=self.root))

    # -- jobs ----------------------------------------------------------------------------

    def room(self) -> int:
        """How many more files may be queued now."""
        with self._lock:
            busy = len(self._waiting) + self._running
            return max(0, self.config.workers + self.config.queue_size - busy)

    def submit(
        self, files: list[tuple[str, Path]], originals: list[tuple[str, Path]] | None = None
    ) -> list[Job]:
        """Queue (display name, received file) pairs, all or none: raises `BusyError` when they
        do not all fit. Each file is moved into its job's own folder; each job gets the
        `originals` (display name, received file) to be compared with after its scan."""
        with self._lock:
            if self._closed:
                raise BusyError("the server is shutting down")
            if len(files) > self.room():
                raise BusyError(f"{len(self._waiting) + self._running} files are being scanned")
            jobs = []
            for filename, received in files:
                job_id = secrets.token_urlsafe(16)
                folder = self.root / job_id
                folder.mkdir(mode=0o700)
                upload = folder / ("upload" + _safe_suffix(filename))
                os.replace(received, upload)
                job = Job(id=job_id, filename=filename, folder=folder, upload=upload)
                job.originals = keep_originals(folder, originals or [])
                self._jobs[job_id] = job
                self._waiting.append(job)
                jobs.append(job)
            self._start_threads()
            self._lock.notify_all()
        return jobs

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            job = self._jobs.get(job_id)
            return None if job is None or job.deleted else job

    def position(self, job: Job) -> int | None:
        """1 for the next job to start; None once it has started."""
        with self._lock:
            try:
                return self._waiting.index(job) + 1
            except ValueError:
                return None

    def delete(self, job_id: str) -> bool:
        """Forget a job and remove its upload, previews and maps now. False if unknown."""
        with self._lock:
            job = self._jobs.pop(job_id, None)
            if job is None:
                return False
            job.deleted = True
            if job in self._waiting:
                self._waiting.remove(job)
            job.result = None
            job.images = {}
        shutil.rmtree(job.folder, ignore_errors=True)
        return True

    def expires_at(self, job: Job) -> float | None:
        """When the sweep deletes a finished job (seconds since the epoch)."""
        return None if job.finished_at is None else job.finished_at + self.config.retention_s

    def sweep(self, now: float | None = None) -> list[str]:
        """Delete every job whose retention time has passed; returns their ids."""
        now = time.time() if now is None else now
        with self._lock:
            due = [
                job.id
                for job in self._jobs.values()
                if (expiry := self.expires_at(job)) is not None and expiry <= now
            ]
        for job_id in due:
            self.delete(job_id)
        return due

    def close(self) -> None:
        """Stop taking jobs and remove every file (server shutdown). Running scans are left
        to their daemon threads; what they write afterwards goes nowhere."""
        with self._lock:
            self._closed = True
            for job in self._jobs.values():
                job.deleted = True
            self._jobs.clear()
            self._waiting.clear()
            self._lock.notify_all()
        if self._cleanup is not None:
            self._cleanup()

    # -- workers -------------------------------------------------------------------------

    def _start_threads(self) -> None:
        if self._threads:
            return
        for n in range(self.config.workers):
            thread = threading.Thread(target=self._work, name=f"unmask-scan-{n}", daemon=True)
            thread.start()
            self._threads.append(thread)
        sweeper = threading.Thread(target=self._sweep_forever, name="unmask-sweep", daemon=True)
        sweeper.start()
        self._threads.append(sweeper)

    def _work(self) -> None:
        scanner: Scanner | None = None
        while True:
            with self._lock:
                while not self._waiting and not self._closed:
                    self._lock.wait()
                if self._closed:
                    return
                job = self._waiting.popleft()
                job.state, job.started_at = "scanning", time.time()
                self._running += 1
            try:
                if scanner is None:
                    scanner = self._make_scanner()
                self._run(scanner, job)
            except Exception as exc:  # a failing model load must not kill the worker
                log.exception("scan of job %s failed", job.id)
                job.result = _failed(job, exc)
                job.state = "error"
            finally:
                with self._lock:
                    self._running -= 1
                    job.finished_at = time.time()

    def _run(self, scanner: Scanner, job: Job) -> None:
        result = scanner.scan(job.upload, display_name=job.filename)
        images: dict[str, JobImage] = {}
        if not job.deleted:
            try:
                images = write_images(job.folder, result)
            except Exception:  # previews are a help; the verdict stands without them
                log.exception("previews of job %s failed", job.id)
        # Maps are written to the job's folder; memory keeps only their names (for the report).
        map_names = [list(finding.maps) for finding in result.findings]
        for finding in result.findings:
            finding.maps = {}
        comparison, pictures = None, {}
        if job.originals and result.ok and not job.deleted:
            result, comparison, pictures, compare_images = compare_job_isolated(
                job.folder, job.upload, job.filename, job.originals, result, scanner.config
            )
            images.update(compare_images)
        with self._lock:
            if job.deleted:
                shutil.rmtree(job.folder, ignore_errors=True)
                return
            job.result, job.images, job.map_names = result, images, map_names
            job.comparison, job.comparison_pictures = comparison, pictures
            job.state = "error" if result.error else "done"

    def _sweep_forever(self) -> None:
        interval = max(1.0, min(SWEEP_INTERVAL_S, self.config.retention_s / 4))
        while not self._closed:
            time.sleep(interval)
            try:
                self.sweep()
            except Exception:
                log.exception("retention sweep failed")


def _failed(job: Job, exc: Exception) -> ScanResult:
    return ScanResult.not_scanned(
        job.filename,
        error=ScanError(
            "internal_error",
            f"unmask failed before it could scan this file ({type(exc).__name__}: {exc})",
            "please report this as a bug",
        ),
    )


def _safe_suffix(filename: str) -> str:
    """The file's extension if it is plain letters and digits (a hint for decoders only)."""
    suffix = Path(filename).suffix.lower()
    return suffix if 1 < len(suffix) <= 6 and suffix[1:].isalnum() else ""
