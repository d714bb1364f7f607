"""A scan says what it is doing while a person waits: frames decoded, faces searched, checks."""

from __future__ import annotations

from pathlib import Path

from media_factory import write_video

from unmask.config import ScanConfig
from unmask.scan import IsolatedScanner, Scanner


def _steps(heard: list[tuple[str, int, int]]) -> list[str]:
    return list(dict.fromkeys(what for what, _, _ in heard))


def test_a_video_scan_reports_each_frame_decoded_and_searched_then_each_check(tmp_path: Path):
    video = write_video(tmp_path / "clip.mp4", seconds=2.0)
    heard: list[tuple[str, int, int]] = []
    config = ScanConfig(frames=8, detectors=("metadata", "forensics"))
    result = Scanner(config).scan(video, on_progress=heard.append)
    assert result.ok
    assert _steps(heard) == ["decoding frames", "finding faces", "running checks"]
    decoding = [(done, total) for what, done, total in heard if what == "decoding frames"]
    assert decoding == [(n, 8) for n in range(1, 9)]
    searched = [done for what, done, _ in heard if what == "finding faces"]
    assert searched == list(range(8))
    assert [done for what, done, _ in heard if what == "running checks"] == [0, 1]


def test_progress_crosses_from_the_budgeted_worker(tmp_path: Path):
    video = write_video(tmp_path / "clip.mp4", seconds=2.0)
    heard: list[tuple[str, int, int]] = []
    config = ScanConfig(frames=8, detectors=("metadata",))
    with IsolatedScanner(config) as scanner:
        quiet = scanner.scan(video)
        told = scanner.scan(video, on_progress=heard.append)
    assert _steps(heard) == ["decoding frames", "finding faces", "running checks"]
    assert told.verdict == quiet.verdict and told.media == quiet.media
