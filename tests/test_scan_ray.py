"""`unmask scan --ray`: a Ray cluster gives the local results, in order, and loses nothing to a
dead worker.

The cluster tests run against the cluster named by UNMASK_TEST_RAY_ADDRESS (CI's .ci/run starts a
head and one worker node, one CPU each); they skip without it, except under CI (CI=true), where
its absence is a failure. The rest need neither Ray nor a cluster.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from media_factory import EXAMPLE, write_video

from unmask.config import ScanConfig
from unmask.result import ScanResult
from unmask.scan_ray import (
    AHEAD_PER_ACTOR,
    INSTALL_LINE,
    RESUBMITS,
    RayNotAvailableError,
    RayScanner,
    import_ray,
    is_uri,
)

RAY_ENV = "UNMASK_TEST_RAY_ADDRESS"
TIMINGS = ("started_at", "elapsed_s")


def unmask(*args: str) -> subprocess.CompletedProcess[str]:
    run = subprocess.run(
        [sys.executable, "-m", "unmask.cli", *args],
        input=b"",
        capture_output=True,
        timeout=600,
        env={**os.environ, "COLUMNS": "250", "RAY_USAGE_STATS_ENABLED": "0"},
    )
    return subprocess.CompletedProcess(
        run.args, run.returncode, run.stdout.decode(), run.stderr.decode()
    )


def _required(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (required under CI: .ci/run installs unmask[ray] and starts it)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def cluster() -> str:
    """The address of a running Ray cluster."""
    try:
        import ray  # noqa: F401
    except ImportError:
        _required(f"Ray is not installed ({INSTALL_LINE})")
    address = os.environ.get(RAY_ENV)
    if not address:
        _required(f"no Ray cluster: set {RAY_ENV} to the address of its head")
    return str(address)


@pytest.fixture(scope="module")
def batch(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Shared media linked into one folder: photos of real and generated faces, one short video
    (4.6 s, talking head) and a file that is no picture at all."""
    folder = tmp_path_factory.mktemp("batch")
    real = sorted((shared_data / "faces" / "real").glob("*.jpg"))[:3]
    fake = sorted((shared_data / "faces" / "fake").glob("*.jpg"))[:2]
    video = shared_data / "videos" / "fake" / "V-Express__test_samples__emo__talk_emotion__gt.mp4"
    for source in [*real, *fake, video]:
        (folder / source.name).symlink_to(source)
    (folder / "notes.jpg").write_text("not a picture\n")
    return folder


def _records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _without(record: dict, *keys: str) -> str:
    return json.dumps({k: v for k, v in record.items() if k not in keys}, sort_keys=True)


@pytest.fixture(scope="module")
def both_runs(cluster: str, batch: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The batch scanned here (`--workers 1`) and on the cluster (`--ray`, with `--parquet`); the
    video once more at the end through `--files-from`: by path here, by URI (read by the worker)
    on the cluster."""
    folder = tmp_path_factory.mktemp("runs")
    video = next(batch.glob("*.mp4")).resolve()
    (folder / "by-path.txt").write_text(f"{video}\n")
    (folder / "by-uri.txt").write_text(f"# read by the workers\n{video.as_uri()}\n")
    local, remote = folder / "local.jsonl", folder / "ray.jsonl"
    common = ["scan", str(batch), "--frames", "8", "-q"]
    on_cluster = [*common, "--files-from", str(folder / "by-uri.txt"), "--ray", cluster]
    here = unmask(*common, "--files-from", str(folder / "by-path.txt"), "-o", str(local))
    there = unmask(*on_cluster, "-o", str(remote), "--parquet", str(folder / "t.parquet"))
    return {"here": here, "there": there, "local": local, "remote": remote, "video": video,
            "table": folder / "t.parquet", "arguments": on_cluster}  # fmt: skip


def test_a_cluster_scan_writes_the_local_json_lines_apart_from_timings(both_runs: dict):
    assert both_runs["here"].returncode == both_runs["there"].returncode, both_runs["there"].stderr
    mine, theirs = _records(both_runs["local"]), _records(both_runs["remote"])
    assert len(mine) == len(theirs) == 8
    assert [_without(r, *TIMINGS) for r in theirs[:7]] == [_without(r, *TIMINGS) for r in mine[:7]]
    video = both_runs["video"]
    assert theirs[7]["path"] == video.as_uri() and mine[7]["path"] == str(video)
    assert _without(theirs[7], *TIMINGS, "path") == _without(mine[7], *TIMINGS, "path")
    assert theirs[7]["media"]["kind"] == "video" and theirs[7]["faces"], "a face in the video"
    assert theirs[-2]["error"]["code"] == "unsupported_format"


def test_the_parquet_table_holds_one_row_per_result_in_order(both_runs: dict):
    import pyarrow.parquet as pq

    theirs = _records(both_runs["remote"])
    rows = pq.read_table(both_runs["table"]).to_pylist()
    assert [row["path"] for row in rows] == [r["path"] for r in theirs]
    assert [json.loads(row["result_json"]) for row in rows] == theirs
    assert rows[-1]["kind"] == "video" and rows[-1]["faces"] >= 1
    assert rows[-2]["error_code"] == "unsupported_format" and rows[-2]["verdict"] is None


def test_an_interrupted_cluster_run_resumes_from_its_json_lines(both_runs: dict, tmp_path: Path):
    cut = tmp_path / "cut.jsonl"
    lines = both_runs["remote"].read_text(encoding="utf-8").splitlines(keepends=True)
    cut.write_text("".join(lines[:5]) + lines[5][:40], encoding="utf-8")  # stopped mid-write
    resumed = unmask(*both_runs["arguments"], "-o", str(cut), "--resume", "--workers", "1")
    assert resumed.returncode == both_runs["there"].returncode, resumed.stderr
    again, first = _records(cut), _records(both_runs["remote"])
    assert again[:5] == first[:5], "the results already written are kept as they were"
    assert [_without(r, *TIMINGS) for r in again] == [_without(r, *TIMINGS) for r in first]


@pytest.fixture
def scanner(cluster: str) -> Iterator[RayScanner]:
    """Two actors (every frame of a video searched for faces), closed after each test so that
    the cluster's CPUs are free for the next."""
    with RayScanner(ScanConfig(fps=25.0, detectors=("metadata",)), cluster, workers=2) as pool:
        yield pool


def _copies(folder: Path, count: int) -> list[tuple[Path, str]]:
    files = []
    for n in range(count):
        files.append((folder / f"photo{n:02}.jpg", f"photo{n:02}.jpg"))
        files[-1][0].write_bytes(EXAMPLE.read_bytes())
    return files


def test_a_slow_first_file_holds_back_a_few_results_and_loses_none(scanner, tmp_path: Path):
    # Every frame of 4 s searched for faces: the photos behind it finish long before it does.
    slow = write_video(tmp_path / "clip.mp4", seconds=4.0, size=(640, 360))
    files = [(slow, "clip.mp4"), *_copies(tmp_path, 6 * AHEAD_PER_ACTOR)]
    results = list(scanner.scan_in_order(files))
    assert [r.path for r in results] == [name for _, name in files]
    assert all(r.ok for r in results), [r.error for r in results if r.error]
    assert results[0].media is not None and results[0].media.frames_sampled > 90


def test_a_killed_worker_loses_no_file_and_changes_no_result(scanner, tmp_path: Path):
    import ray

    files = _copies(tmp_path, 12)
    results = []
    for result in scanner.scan_in_order(files):
        if not results:  # mid-run: the other files are queued or running on the actors
            for actor in scanner._actors:
                ray.kill(actor, no_restart=False)
        results.append(result)
    assert [r.path for r in results] == [name for _, name in files], "each file once, in order"
    _only_killed_work_failed(results)
    scanned = [r for r in results if r.ok]
    assert len({r.sha256 for r in scanned}) == 1
    assert {len(r.faces) for r in scanned} == {1}, "the same face found in every copy"


def _raylets() -> set[int]:
    """Process ids of the Ray nodes (raylets) running on this computer."""
    found = set()
    for entry in os.listdir("/proc"):
        try:
            if entry.isdigit() and b"raylet/raylet" in Path(f"/proc/{entry}/cmdline").read_bytes():
                found.add(int(entry))
        except OSError:
            continue
    return found


def _hosts_a_scan_actor(raylet: int) -> bool:
    """Whether a worker process that the node `raylet` started holds a ScanActor (Ray names
    its worker processes after the actor they hold)."""
    for entry in os.listdir("/proc"):
        try:
            if not entry.isdigit():
                continue
            parent = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
            if parent == raylet and b"ScanActor" in Path(f"/proc/{entry}/cmdline").read_bytes():
                return True
        except (OSError, ValueError, IndexError):
            continue
    return False


def _gone(pid: int) -> bool:
    """Whether the process has ended (a zombie not yet reaped counts as ended)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return True


def _wait_for(condition, what: str, seconds: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.5)


def test_losing_a_worker_node_mid_run_loses_no_file(cluster: str, tmp_path: Path):
    import ray

    before = _raylets()
    if not before:
        pytest.skip("the test cluster's nodes do not run on this computer")
    if not ray.is_initialized():
        ray.init(address=cluster, include_dashboard=False, log_to_driver=False)
    cpus = ray.cluster_resources().get("CPU", 0)
    # The actors of earlier tests are gone (Ray ends them asynchronously once unreferenced).
    _wait_for(lambda: ray.available_resources().get("CPU", 0) >= cpus, "CPUs still held")
    # A third node of one CPU, for this test alone: one of the three actors lands on it.
    subprocess.run(
        [str(Path(sys.executable).with_name("ray")), "start", f"--address={cluster}",
         "--num-cpus=1", "--disable-usage-stats", "--object-store-memory=100000000"],
        check=True, capture_output=True, timeout=300,
        env={**os.environ, "RAY_USAGE_STATS_ENABLED": "0"},
    )  # fmt: skip
    node = (_raylets() - before).pop()
    # `ray start` returns before the head counts the new CPU: one actor per CPU needs it.
    _wait_for(lambda: ray.cluster_resources().get("CPU", 0) >= cpus + 1, "the node never joined")
    files = _copies(tmp_path, 16)
    with RayScanner(ScanConfig(detectors=("metadata",)), cluster) as scanner:
        ray.get([actor.ready.remote() for actor in scanner._actors], timeout=120)
        assert len(scanner._actors) == cpus + 1
        _wait_for(lambda: _hosts_a_scan_actor(node), "no actor on the new node", 30)
        results = []
        for result in scanner.scan_in_order(files):
            if not results:  # every actor has files running or queued
                os.kill(node, signal.SIGKILL)
            results.append(result)
    assert _gone(node), "the node was killed mid-run"
    assert [r.path for r in results] == [name for _, name in files], "each file once, in order"
    _only_killed_work_failed(results)


def _only_killed_work_failed(results: list[ScanResult]) -> None:
    """Losing nothing means one result per file. A file whose scan was running in a process
    the test killed may end as an error entry that says so (`worker_crashed`, or
    `worker_lost` after its retries), never as another error, and most files get through."""
    failed = [r.error for r in results if not r.ok]
    killed = {"worker_crashed", "worker_lost"}
    assert all(e is not None and e.code in killed for e in failed), failed
    assert len(failed) <= len(results) // 2, failed


class FakeRay:
    """Just enough of Ray for `RayScanner`'s scheduling, in this process: a task's result is
    made when it is submitted, and `wait` finishes the tasks in the order `pick` chooses, so a
    test decides which file is slow. `deaths[name]` is how many times the actor scanning that
    file dies (`ActorDiedError`) before it gets through; `losses[name]` the same with a result
    lost in transit (a plain `RayError`)."""

    class exceptions:
        class RayError(Exception):
            pass

        class ActorDiedError(RayError):
            pass

    def __init__(self, slow: str = "") -> None:
        self.slow = slow
        self.deaths: dict[str, int] = {}
        self.losses: dict[str, int] = {}
        self.scans: list[str] = []

    def is_initialized(self) -> bool:
        return True

    def cluster_resources(self) -> dict[str, float]:
        return {"CPU": 2.0}

    def remote(self, **options: object):  # type: ignore[no-untyped-def]
        return lambda cls: FakeActorClass(self)

    def wait(self, refs: list, num_returns: int = 1, timeout: float | None = None):  # type: ignore[no-untyped-def]
        if not refs:
            return [], []
        fast = [ref for ref in refs if ref.name != self.slow]
        chosen = (fast or refs)[0]
        return [chosen], [ref for ref in refs if ref is not chosen]

    def get(self, ref):  # type: ignore[no-untyped-def]
        if isinstance(ref.value, Exception):
            raise ref.value
        return ref.value

    def kill(self, actor: object, no_restart: bool = True) -> None:
        pass

    def shutdown(self) -> None:
        pass


class FakeRef:
    def __init__(self, value: object, name: str = "") -> None:
        self.value, self.name = value, name


class FakeActorClass:
    def __init__(self, fake: FakeRay) -> None:
        self.fake = fake

    def remote(self, config: ScanConfig) -> FakeActor:
        return FakeActor(self.fake)


class FakeActor:
    def __init__(self, fake: FakeRay) -> None:
        self.ready = FakeMethod(lambda: None)
        self.close = FakeMethod(lambda: 0.0)

        def scan(location: str, name: str) -> object:
            fake.scans.append(name)
            for counts, error in ((fake.deaths, fake.exceptions.ActorDiedError),
                                  (fake.losses, fake.exceptions.RayError)):  # fmt: skip
                if counts.get(name, 0) > 0:
                    counts[name] -= 1
                    return error(f"lost while scanning {name}")
            return ScanResult(path=name, tool_version="test", started_at="", elapsed_s=0.0)

        self.scan = FakeMethod(scan, named=True)


class FakeMethod:
    def __init__(self, call, named: bool = False) -> None:  # type: ignore[no-untyped-def]
        self.call, self.named = call, named

    def options(self, **options: object) -> FakeMethod:
        return self

    def remote(self, *args: str) -> FakeRef:
        return FakeRef(self.call(*args), args[1] if self.named else "")


@pytest.fixture
def fake_ray(monkeypatch: pytest.MonkeyPatch) -> FakeRay:
    import unmask.scan_ray

    fake = FakeRay(slow="f00")
    monkeypatch.setattr(unmask.scan_ray, "import_ray", lambda: fake)
    return fake


def _names(count: int) -> list[tuple[str, str]]:
    return [(f"/data/f{n:02}.jpg", f"f{n:02}") for n in range(count)]


def test_results_come_in_the_order_given_when_the_first_file_finishes_last(fake_ray):
    taken = 0

    def files():  # type: ignore[no-untyped-def]
        nonlocal taken
        for item in _names(40):
            taken += 1
            yield item

    with RayScanner(ScanConfig(), "auto", workers=2) as scanner:
        results = scanner.scan_in_order(files())
        first = next(results)
        assert taken <= 2 * AHEAD_PER_ACTOR, "files handed out beyond the slow one are bounded"
        rest = list(results)
    assert [r.path for r in [first, *rest]] == [name for _, name in _names(40)]
    assert sorted(fake_ray.scans) == sorted(name for _, name in _names(40)), "each scanned once"


def test_a_file_whose_worker_died_is_scanned_again_and_reported_once(fake_ray):
    fake_ray.deaths["f03"] = 1  # its actor dies for good: the file goes to the other actor
    with RayScanner(ScanConfig(), "auto", workers=2) as scanner:
        results = list(scanner.scan_in_order(_names(10)))
        assert len(scanner._ready) == 1, "the dead actor gets no more files"
    assert [r.path for r in results] == [name for _, name in _names(10)]
    assert all(r.ok for r in results)
    assert fake_ray.scans.count("f03") == 2


def test_a_file_lost_in_transit_is_scanned_again_on_an_actor_that_answers(fake_ray):
    fake_ray.losses["f01"] = 1  # not a death: the actor is asked whether it is back
    with RayScanner(ScanConfig(), "auto", workers=2) as scanner:
        results = list(scanner.scan_in_order(_names(10)))
        assert len(scanner._ready) == 2, "the actor answered again and kept scanning"
    assert [r.path for r in results] == [name for _, name in _names(10)]
    assert all(r.ok for r in results)
    assert fake_ray.scans.count("f01") == 2


def test_a_file_lost_every_time_gets_an_error_entry_and_the_batch_goes_on(fake_ray):
    fake_ray.losses["f02"] = 99
    with RayScanner(ScanConfig(), "auto", workers=2) as scanner:
        results = list(scanner.scan_in_order(_names(6)))
    assert [r.path for r in results] == [name for _, name in _names(6)]
    assert results[2].error is not None and results[2].error.code == "worker_lost"
    assert fake_ray.scans.count("f02") == 1 + RESUBMITS
    assert all(r.ok for n, r in enumerate(results) if n != 2)


def test_ray_missing_is_named_with_its_install_line(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    with pytest.raises(RayNotAvailableError) as caught:
        import_ray()
    assert INSTALL_LINE in caught.value.hint
    assert os.environ["RAY_USAGE_STATS_ENABLED"] == "0"


def test_scan_without_ray_says_what_to_install(tmp_path: Path):
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(EXAMPLE.read_bytes())
    blocker = tmp_path / "no-ray"
    blocker.mkdir()
    (blocker / "ray.py").write_text("raise ImportError('Ray is not installed here')\n")
    run = subprocess.run(
        [sys.executable, "-m", "unmask.cli", "scan", str(photo), "--ray", "auto", "-q"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(blocker), "COLUMNS": "250"},
    )
    assert run.returncode == 2
    assert 'pip install "unmask[ray]"' in run.stderr
    assert "Traceback" not in run.stderr


def test_an_address_where_no_cluster_answers_fails_at_once_and_clearly(tmp_path: Path):
    pytest.importorskip("ray", reason=INSTALL_LINE)
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(EXAMPLE.read_bytes())
    run = unmask("scan", str(photo), "--ray", "127.0.0.1:1", "-q")
    assert run.returncode == 2
    assert "no Ray cluster answers at 127.0.0.1:1" in run.stderr
    assert "Traceback" not in run.stderr


def test_uris_without_a_cluster_are_a_usage_error(tmp_path: Path):
    listed = tmp_path / "list.txt"
    listed.write_text("s3://bucket/photo.jpg\n")
    run = unmask("scan", "--files-from", str(listed), "-q")
    assert run.returncode == 64
    assert "--ray" in run.stderr


def test_a_scan_needs_a_path_or_a_list():
    run = unmask("scan")
    assert run.returncode == 64 and "--files-from" in run.stderr


def test_what_counts_as_a_uri():
    assert is_uri("s3://bucket/key.jpg") and is_uri("file:///tmp/a.jpg")
    assert not is_uri("/tmp/a.jpg") and not is_uri("photos/a://b.jpg") and not is_uri("a.jpg")
