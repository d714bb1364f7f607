"""A cluster: the same scan on a Ray cluster, results in input order, nothing lost to a dead worker.

`RayScanner` has the interface of `unmask.scan_pool.ScannerPool` (`start`, `scan_in_order`,
`close`), so `unmask scan --ray ADDRESS` writes the same table, JSON Lines and `--resume` state
as a local run. Each Ray actor (`ScanActor`, one CPU) holds one `IsolatedScanner`: the same
`Scanner` with its models loaded once per actor, in a child process that the file's time budget
can kill, exactly as on one machine. So a cluster run yields the very `ScanResult`s a local run
does, apart from timings.

What the workers read: a path is sent as an absolute path, so every node must see the same
files at the same place (a shared or network file system); a URI (`s3://...`, `gs://...`,
`hdfs://...`, `file:///...`) is read by the worker itself through `pyarrow.fs`, with the user's
own credentials, and spooled to a private temporary file within the file-size limit.

Lost work: a file whose actor is lost (its process killed, its node gone) is handed by the driver
to a live actor (`RESUBMITS` times, then it gets a `worker_lost` error entry); Ray restarts the
lost actor (`MAX_RESTARTS`) where a CPU is free, and it gets files again once it answers. A
driver that is interrupted resumes from its JSON Lines file with `--resume`, as a local run does.

Nothing phones home: `RAY_USAGE_STATS_ENABLED=0` is set before Ray is imported, the driver starts
no dashboard, and the actors inherit `ORT_DISABLE_TELEMETRY=1` from `import unmask`. Clusters
started by hand need `ray start ... --disable-usage-stats --include-dashboard=false` (README).
"""

from __future__ import annotations

import contextlib
import logging
import os
import resource
import socket
import tempfile
import time
from collections import deque
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from unmask import __version__
from unmask.config import ScanConfig
from unmask.errors import LimitExceededError, UnmaskError, UnreadableFileError
from unmask.result import ScanError, ScanResult
from unmask.scan import IsolatedScanner, Progress, scan_error
from unmask.worker import START_TIMEOUT_S

INSTALL_LINE = 'pip install "unmask[ray]"'
QUIET_ENV = {"RAY_USAGE_STATS_ENABLED": "0", "RAY_DISABLE_DOCKER_CPU_WARNING": "1"}
"""Set in the driver before Ray is imported: no usage statistics are collected or sent."""
TASKS_PER_ACTOR = 2
"""Files queued on one actor at a time: the one it scans and the next, so it never waits for the
driver between files."""
AHEAD_PER_ACTOR = 4
"""Files handed out per actor beyond the oldest unfinished one (bounds results held back while a
slow file at the head of the list finishes), as `unmask.scan_pool.AHEAD_PER_WORKER`."""
MAX_RESTARTS = 4
"""Times Ray restarts an actor that died (its process killed or crashed, its node lost)."""
RESUBMITS = 3
"""Times the driver hands a file again to a live actor when the one scanning it was lost. The
driver retries, not Ray (`max_task_retries=0` for scans): Ray would keep the file for the same
actor, which may never come back (its node lost and no free CPU elsewhere)."""
SPOOL_CHUNK = 1 << 20
PROBE_TIMEOUT_S = 10.0
"""Longest wait for the head's port to accept a connection before giving up on the cluster."""
CLOSE_WAIT_S = 5.0
"""Longest wait for the actors to stop their scanner processes before they are ended by force."""

log = logging.getLogger(__name__)


class RayNotAvailableError(UnmaskError):
    """Ray is not installed, or the cluster cannot be reached or has lost every worker."""

    code = "ray_unavailable"


def _probe(address: str) -> None:
    """Fail at once, with a clear error, where no Ray head answers: `ray.init` would retry for
    minutes, printing warnings. "auto" is resolved as Ray resolves it (RAY_ADDRESS, then the
    cluster last started on this computer)."""
    unreachable = (
        "start one with `ray start --head --disable-usage-stats --include-dashboard=false`, "
        "or give --ray HOST:PORT of its head"
    )
    target = address
    if address == "auto":
        try:
            from ray._private.services import canonicalize_bootstrap_address_or_die
        except ImportError:  # Ray moved it: let ray.init find the cluster
            return
        try:
            target = canonicalize_bootstrap_address_or_die("auto")
        except ConnectionError:
            raise RayNotAvailableError(
                "no Ray cluster found on this computer", unreachable
            ) from None
    host, _, port = target.split("://", 1)[-1].rpartition(":")
    if not host or not port.isdigit():
        raise RayNotAvailableError(
            f"--ray takes HOST:PORT of the cluster's head, or 'auto', not {address!r}",
            "for example --ray 10.0.0.5:6379",
        )
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=PROBE_TIMEOUT_S).close()
    except OSError as exc:
        raise RayNotAvailableError(
            f"no Ray cluster answers at {target} ({exc.strerror or exc})", unreachable
        ) from None


def is_uri(location: str) -> bool:
    """True for `scheme://...` (read by the worker through pyarrow.fs), False for a path."""
    scheme, sep, _ = location.partition("://")
    return bool(sep) and scheme.isascii() and scheme.replace("+", "").isalnum()


def import_ray() -> Any:
    """Ray, imported with usage statistics off; a clear error naming the install line if absent."""
    for name, value in QUIET_ENV.items():
        os.environ.setdefault(name, value)
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    try:
        import ray
    except ImportError:
        raise RayNotAvailableError(
            "--ray needs Ray, which is not installed", f"install it with: {INSTALL_LINE}"
        ) from None
    return ray


class ScanActor:
    """One Ray actor: an `IsolatedScanner` with its models loaded once, scanning one file at a
    time. A configuration error (unknown detector, missing model) is kept and handed to the
    driver by `ready()` rather than raised, so that Ray does not restart the actor for ever."""

    def __init__(self, config: ScanConfig) -> None:
        self._config = config
        self._scanner = IsolatedScanner(config)
        self._problem: tuple[str, str, str] | None = None
        try:
            self._scanner.start()
        except UnmaskError as exc:
            self._problem = ("unmask", exc.message, exc.hint)
        except ValueError as exc:  # an unknown detector name
            self._problem = ("value", str(exc), "")

    def ready(self) -> tuple[str, str, str] | None:
        """None once the models are loaded, else (kind, message, hint) of what went wrong."""
        return self._problem

    def scan(self, location: str, name: str) -> ScanResult:
        """Scan a path this node can read, or a URI it can fetch. Never raises for a bad input."""
        if is_uri(location):
            return _scan_uri(self._scanner, self._config, location, name)
        return self._scanner.scan(location, name)

    def close(self) -> float:
        """Stop the scanner's process (so that none outlives the run on the node); return the
        CPU seconds this actor has used, its scanner's processes included."""
        self._scanner.close()
        own, children = (
            resource.getrusage(resource.RUSAGE_SELF),
            resource.getrusage(resource.RUSAGE_CHILDREN),
        )
        return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _scan_uri(scanner: IsolatedScanner, config: ScanConfig, uri: str, name: str) -> ScanResult:
    started = datetime.now(UTC).isoformat(timespec="seconds")
    clock = time.monotonic()
    try:
        local = _spool(uri, config.limits.max_file_bytes)
    except Exception as exc:  # an unreachable store must cost this file only
        error = scan_error(exc)
        return ScanResult(
            path=name,
            tool_version=__version__,
            started_at=started,
            elapsed_s=round(time.monotonic() - clock, 3),
            error=error,
        )
    try:
        return scanner.scan(local, name)
    finally:
        local.unlink(missing_ok=True)


def _spool(uri: str, max_bytes: int) -> Path:
    """Copy what `uri` names into a private temporary file, refusing more than `max_bytes`."""
    try:
        from pyarrow import fs
    except ImportError:
        raise UnreadableFileError(
            "reading URIs needs pyarrow on the Ray workers", f"install it with: {INSTALL_LINE}"
        ) from None
    try:
        filesystem, path = fs.FileSystem.from_uri(uri)
        info = filesystem.get_file_info(path)
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError, ... by scheme
        raise UnreadableFileError(
            f"the worker could not open this URI ({exc})",
            "check the URI and that every Ray worker can reach it with its own credentials",
        ) from None
    if info.type == fs.FileType.NotFound:
        raise UnreadableFileError(
            "no file at this URI", "check the URI; it is read by the Ray workers, not this computer"
        )
    if info.type != fs.FileType.File:
        raise UnreadableFileError("this URI does not name a file", "list the files themselves")
    if info.size is not None and info.size > max_bytes:
        raise LimitExceededError(
            "the file is larger than the file-size limit", "raise it with --max-file-size"
        )
    descriptor, name = tempfile.mkstemp(prefix="unmask-uri-")
    target = Path(name)
    try:
        with os.fdopen(descriptor, "wb") as handle, filesystem.open_input_stream(path) as stream:
            copied = 0
            while chunk := stream.read(SPOOL_CHUNK):
                copied += len(chunk)
                if copied > max_bytes:
                    raise LimitExceededError(
                        "the file is larger than the file-size limit",
                        "raise it with --max-file-size",
                    )
                handle.write(chunk)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return target


class RayScanner:
    """`ScannerPool`'s interface over a Ray cluster. `address` is what `ray.init` takes:
    "auto" (the cluster this computer belongs to, or RAY_ADDRESS), or "HOST:PORT" of the head.
    `workers` actors are started (default: one per CPU of the cluster), at most `files` (the
    number of files to scan, where known)."""

    def __init__(
        self,
        config: ScanConfig | None = None,
        address: str = "auto",
        workers: int | None = None,
        files: int | None = None,
    ) -> None:
        if workers is not None and workers < 1:
            raise ValueError("workers must be at least 1")
        self.config = config or ScanConfig()
        self.address = address
        self.workers = workers
        self.files = files
        self._ray: Any = None
        self._connected_here = False
        self._actors: list[Any] = []
        self._ready: list[Any] = []
        self._starting: dict[Any, Any] = {}
        self.worker_cpu_s = 0.0
        """CPU seconds the actors reported when they were closed (their scanners included)."""

    def __enter__(self) -> RayScanner:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        """Connect and start the actors; returns once one has its models loaded. Raises
        `RayNotAvailableError` (no Ray, no cluster), `ValueError` (an unknown detector) or the
        scanner's `UnmaskError` (a missing model) here, in the driver."""
        if self._actors:
            return
        ray = self._ray = import_ray()
        if not ray.is_initialized():
            _probe(self.address)
            try:
                ray.init(
                    address=self.address,
                    include_dashboard=False,
                    log_to_driver=False,
                    logging_level=logging.WARNING,
                )
            except (ConnectionError, ValueError, RuntimeError) as exc:
                raise RayNotAvailableError(
                    f"could not connect to the Ray cluster at {self.address!r} ({exc})",
                    "start one with `ray start --head --disable-usage-stats "
                    "--include-dashboard=false`, or give --ray HOST:PORT of its head",
                ) from None
            self._connected_here = True
        cpus = int(ray.cluster_resources().get("CPU", 0))
        count = self.workers or max(1, cpus)
        if self.files is not None:
            count = max(1, min(count, self.files))
        # -1: `ready` and `close` wait for an actor that is restarting; scans are not retried.
        actor_class = ray.remote(num_cpus=1, max_restarts=MAX_RESTARTS, max_task_retries=-1)(
            ScanActor
        )
        self._actors = [actor_class.remote(self.config) for _ in range(count)]
        self._starting = {actor.ready.remote(): actor for actor in self._actors}
        done, _ = ray.wait(list(self._starting), num_returns=1, timeout=START_TIMEOUT_S)
        if not done:
            self.close()
            raise RayNotAvailableError(
                f"no Ray worker started within {START_TIMEOUT_S:.0f} s",
                f"the cluster has {cpus} CPU(s); each worker needs one that is free",
            )
        self._take_ready(done)

    def _take_ready(self, refs: list[Any]) -> None:
        """Move actors whose `ready()` answered into the pool; raise their configuration error."""
        for ref in refs:
            actor = self._starting.pop(ref)
            try:
                problem = self._ray.get(ref)
            except self._ray.exceptions.RayError as exc:
                log.debug("a Ray worker did not start: %s", exc)
                continue
            if problem is None:
                self._ready.append(actor)
                continue
            kind, message, hint = problem
            self.close()
            if kind == "value":
                raise ValueError(message)
            raise UnmaskError(message, hint)

    def close(self) -> None:
        """Stop the actors (files not yet handed out are not scanned) and disconnect. Actors
        that answer within `CLOSE_WAIT_S` stop their scanner processes first and report their
        CPU time (`worker_cpu_s`); the others are ended by force."""
        ray = self._ray
        if ray is None:
            return
        if self._ready:
            closing = [actor.close.remote() for actor in self._ready]
            done, _ = ray.wait(closing, num_returns=len(closing), timeout=CLOSE_WAIT_S)
            for ref in done:
                with contextlib.suppress(ray.exceptions.RayError):
                    self.worker_cpu_s += ray.get(ref)
        for actor in self._actors:
            with contextlib.suppress(Exception):  # already gone with its node
                ray.kill(actor, no_restart=True)
        self._actors, self._ready, self._starting = [], [], {}
        if self._connected_here and ray.is_initialized():
            ray.shutdown()
        self._connected_here = False

    def scan_in_order(
        self, files: Iterable[tuple[str | Path, str]], on_progress: Progress | None = None
    ) -> Iterator[ScanResult]:
        """Scan (path or URI, display name) pairs on the cluster; yield the results in the
        order given, each as soon as it and every earlier one are done. `on_progress` is not
        called: a file's steps stay on its worker."""
        if not self._actors:
            self.start()
        ray = self._ray
        todo = iter(files)
        exhausted = False
        next_index = 0  # the next file to hand out
        oldest = 0  # the next result to yield
        names: dict[int, str] = {}
        locations: dict[int, str] = {}
        tries: dict[int, int] = {}
        finished: dict[int, ScanResult] = {}
        running: dict[Any, tuple[int, Any]] = {}
        load: dict[Any, int] = {}
        retry: deque[int] = deque()

        def submit(index: int) -> None:
            actor = min(self._ready, key=lambda a: load.get(a, 0))
            load[actor] = load.get(actor, 0) + 1
            scan = actor.scan.options(max_task_retries=0)
            running[scan.remote(locations[index], names[index])] = (index, actor)

        while True:
            # Yield first, so that the files handed out next see how far the results have got.
            while oldest in finished:
                names.pop(oldest, None)
                locations.pop(oldest, None)
                yield finished.pop(oldest)
                oldest += 1
            capacity = len(self._ready) * TASKS_PER_ACTOR - len(running)
            ahead = max(1, len(self._actors)) * AHEAD_PER_ACTOR
            while capacity > 0 and retry:
                submit(retry.popleft())
                capacity -= 1
            while capacity > 0 and not exhausted and next_index < oldest + ahead:
                try:
                    path, name = next(todo)
                except StopIteration:
                    exhausted = True
                    break
                names[next_index] = name
                # A URI survives only in the name (a Path folds its "//").
                locations[next_index] = name if is_uri(name) else os.path.abspath(path)
                submit(next_index)
                next_index += 1
                capacity -= 1
            if exhausted and not running and not retry and oldest == next_index:
                return
            if not self._ready and not self._starting:
                raise RayNotAvailableError(
                    "every Ray worker was lost",
                    "check the cluster (`ray status`), then run again with -o FILE.jsonl --resume",
                )
            # Not empty: every file handed out and not yet yielded is running or waits in
            # `retry`, and a file waits there only while no actor is ready but some are starting.
            waiting = list(running) + list(self._starting)
            done, _ = ray.wait(waiting, num_returns=1, timeout=self._stall_s())
            if not done:
                raise RayNotAvailableError(
                    f"the Ray cluster finished no file in {self._stall_s():.0f} s",
                    "check the cluster (`ray status`), then run again with -o FILE.jsonl --resume",
                )
            for ref in done:
                if ref in self._starting:
                    self._take_ready([ref])
                    continue
                index, actor = running.pop(ref)
                load[actor] -= 1
                try:
                    finished[index] = ray.get(ref)
                except ray.exceptions.RayError as exc:
                    self._lost(actor, exc)
                    tries[index] = tries.get(index, 0) + 1
                    if tries[index] <= RESUBMITS and (self._ready or self._starting):
                        retry.append(index)
                    else:
                        finished[index] = _lost_result(names[index], exc)

    def _lost(self, actor: Any, exc: BaseException) -> None:
        """Give an actor that lost a file no more files until it answers again: Ray restarts it
        (its `ready` call waits for that), unless it has died for good or can never be placed
        again (then it is waited for no longer than any other)."""
        log.debug("a Ray worker was lost: %s", exc)
        if actor not in self._ready:
            return
        self._ready.remove(actor)
        if not isinstance(exc, self._ray.exceptions.ActorDiedError):
            self._starting[actor.ready.remote()] = actor

    def _stall_s(self) -> float:
        """Longest wait for any file: its budget, a worker restart and a margin for queueing."""
        return TASKS_PER_ACTOR * self.config.limits.time_budget_s + START_TIMEOUT_S + 60.0


def _lost_result(name: str, exc: BaseException) -> ScanResult:
    return ScanResult.not_scanned(
        name,
        error=ScanError(
            "worker_lost",
            f"the Ray workers scanning this file were lost {1 + RESUBMITS} times "
            f"({type(exc).__name__})",
            "scan this file again on its own; if it fails again, report it as a bug",
        ),
    )
