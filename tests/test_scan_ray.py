"""`unmask scan --ray`: a Ray cluster gives the local results, in order, and loses nothing to a
dead worker.

The cluster tests run against the cluster named by UNMASK_TEST_RAY_ADDRESS (CI's .ci/run starts a
head and one worker node, one CPU each); they skip without it, except under CI (CI=true), where
its absence is a failure. The rest need neither Ray nor a cluster.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from media_factory import EXAMPLE

from unmask.config import ScanConfig
from unmask.scan_ray import INSTALL_LINE, RayNotAvailableError, import_ray, is_uri

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


def test_a_cluster_scan_writes_the_local_json_lines_apart_from_timings(
    cluster: str, batch: Path, tmp_path: Path
):
    local, remote, table = tmp_path / "local.jsonl", tmp_path / "ray.jsonl", tmp_path / "t.parquet"
    # The video once more through a list: by path here, by URI (read by the worker) on the cluster.
    video = next(batch.glob("*.mp4")).resolve()
    (tmp_path / "by-path.txt").write_text(f"{video}\n")
    (tmp_path / "by-uri.txt").write_text(f"# read by the workers\n{video.as_uri()}\n")
    common = ["scan", str(batch), "--frames", "8", "-q", "--files-from"]
    here = unmask(*common, str(tmp_path / "by-path.txt"), "-o", str(local), "--workers", "1")
    there = unmask(
        *common, str(tmp_path / "by-uri.txt"), "-o", str(remote), "--ray", cluster,
        "--parquet", str(table),
    )  # fmt: skip
    assert here.returncode == there.returncode, there.stderr
    mine, theirs = _records(local), _records(remote)
    assert len(mine) == len(theirs) == 8
    assert [_without(r, *TIMINGS) for r in theirs[:7]] == [_without(r, *TIMINGS) for r in mine[:7]]
    assert theirs[7]["path"] == video.as_uri() and mine[7]["path"] == str(video)
    assert _without(theirs[7], *TIMINGS, "path") == _without(mine[7], *TIMINGS, "path")
    assert theirs[7]["media"]["kind"] == "video" and theirs[7]["faces"], "a face in the video"
    assert theirs[-2]["error"]["code"] == "unsupported_format"

    import pyarrow.parquet as pq

    rows = pq.read_table(table).to_pylist()
    assert [row["path"] for row in rows] == [r["path"] for r in theirs]
    assert [json.loads(row["result_json"]) for row in rows] == theirs
    assert rows[-1]["kind"] == "video" and rows[-2]["error_code"] == "unsupported_format"


def test_a_killed_worker_loses_no_file_and_changes_no_result(cluster: str, tmp_path: Path):
    import ray

    from unmask.scan_ray import RayScanner

    photos = []
    for n in range(12):
        photos.append(tmp_path / f"photo{n:02}.jpg")
        photos[-1].write_bytes(EXAMPLE.read_bytes())
    files = [(path, path.name) for path in photos]
    config = ScanConfig(detectors=("metadata",))
    with RayScanner(config, cluster, workers=2) as scanner:
        results = []
        for result in scanner.scan_in_order(files):
            if not results:  # mid-run: the other files are queued or running on the actors
                for actor in scanner._actors:
                    ray.kill(actor, no_restart=False)
            results.append(result)
    assert [r.path for r in results] == [name for _, name in files], "each file once, in order"
    assert all(r.ok for r in results), [r.error for r in results if r.error]
    assert len({r.sha256 for r in results}) == 1
    assert {len(r.faces) for r in results} == {1}, "the same face found in every copy"


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
