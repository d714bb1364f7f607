"""Several budgeted workers: the same results as one, in the order given, memory bounded."""

from __future__ import annotations

from pathlib import Path

import pytest
from media_factory import EXAMPLE, gradient, write_video
from PIL import Image

from unmask.config import ScanConfig
from unmask.media.limits import Limits
from unmask.scan_pool import AHEAD_PER_WORKER, ScannerPool, default_workers


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Path, str]]:
    """A video first (the slowest file), then photos with a face, a landscape and two broken
    files."""
    folder = tmp_path_factory.mktemp("batch")
    files = [write_video(folder / "clip.mp4", seconds=3.0, size=(640, 360))]
    for n in range(4):
        files.append(folder / f"photo{n}.jpg")
        files[-1].write_bytes(EXAMPLE.read_bytes())
    Image.fromarray(gradient(seed=3)).save(folder / "landscape.png")
    (folder / "empty.jpg").write_bytes(b"")
    (folder / "notes.txt").write_text("not a picture\n")
    files += [folder / "landscape.png", folder / "empty.jpg", folder / "notes.txt"]
    return [(path, path.name) for path in files]


def _essence(result) -> tuple:  # type: ignore[no-untyped-def]
    """What a user reads from a result, without timings."""
    return (
        result.path,
        result.sha256,
        result.error.code if result.error else None,
        result.verdict.label if result.verdict else None,
        [len(track.detections) for track in result.faces],
        [finding.code for finding in result.findings],
    )


def test_two_workers_give_the_one_worker_results_in_the_order_given(batch):
    config = ScanConfig(frames=8)
    with ScannerPool(config, workers=1) as one:
        alone = [_essence(r) for r in one.scan_in_order(batch)]
    with ScannerPool(config, workers=2) as two:
        together = [_essence(r) for r in two.scan_in_order(batch)]
    assert [row[0] for row in together] == [name for _, name in batch]
    assert together == alone
    assert alone[1][4] == [1], "the photo's face was found"
    assert [row[2] for row in alone[-2:]] == ["empty_file", "unsupported_format"]


def test_the_pool_hands_out_only_a_few_files_beyond_the_oldest_unfinished_one(batch):
    taken = 0

    def files():  # type: ignore[no-untyped-def]
        nonlocal taken
        for _ in range(50):
            taken += 1
            yield batch[1]

    with ScannerPool(ScanConfig(detectors=("metadata",)), workers=1) as pool:
        results = pool.scan_in_order(files())
        next(results)
        assert taken <= AHEAD_PER_WORKER + 1
        assert sum(1 for _ in results) == 49


def test_a_file_past_its_budget_costs_one_worker_not_the_batch(tmp_path: Path, batch):
    # Every frame of 20 s, faces looked for in each: far more than a 1 s budget.
    slow = write_video(tmp_path / "long.mp4", seconds=20.0, size=(640, 360))
    config = ScanConfig(limits=Limits(time_budget_s=1.0), fps=25.0, detectors=("metadata",))
    files = [(slow, "long.mp4"), *batch[1:4]]
    with ScannerPool(config, workers=2) as pool:
        results = list(pool.scan_in_order(files))
    assert [r.path for r in results] == [name for _, name in files]
    assert results[0].error is not None and results[0].error.code == "time_budget_exceeded"
    assert all(r.ok for r in results[1:])


def test_default_workers_is_at_least_one_and_at_most_the_cores():
    import os

    assert 1 <= default_workers() <= (os.cpu_count() or 1)


def test_a_pool_needs_a_worker():
    with pytest.raises(ValueError, match="at least 1"):
        ScannerPool(workers=0)
