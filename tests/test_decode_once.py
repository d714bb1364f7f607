"""A file is decoded once: a report hashes a video (vPDQ) in its scan's decoding pass and takes
its preview from the scan's frames; a comparison opens (and hashes) its original once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import av
import pytest
from media_factory import write_video

from unmask.compare import footage
from unmask.config import ScanConfig
from unmask.hashing import VpdqFrame, hash_file, vpdq_match_percent
from unmask.media import video
from unmask.report.package import gather
from unmask.scan import PREVIEW_MAX_SIDE, Scanner

FAST = ScanConfig(detectors=("metadata",), frames=8)
"""Finding faces in 8 frames and one cheap check: the decoding is what these tests watch."""
SWAP = "videos/fake/DeepFaceLive__doc__celebs__Dean_Wiesel__Dean_Wiesel_1__right_swap.mp4"
"""A shared 29.97 fps clip: the frame rate where a vPDQ that picks other frames than Meta's
stops matching (see unmask.video_hashing)."""


def _count_opens(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    opened: list[str] = []
    real_open = av.open

    def counting_open(file: Any, *args: Any, **kwargs: Any) -> Any:
        if not kwargs.get("mode") and "w" not in args:
            opened.append(str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(av, "open", counting_open)
    return opened


def test_a_report_decodes_a_video_once_and_hashes_it_as_meta_vpdq_does(
    shared_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = shared_data / SWAP
    opened = _count_opens(monkeypatch)
    [item] = gather([path], FAST)
    assert opened == [str(path)]  # the scan's pass: no second decode for hashes or preview
    monkeypatch.undo()

    assert item.hashes is not None and item.hash_error is None
    alone = hash_file(path)
    assert item.hashes.to_dict() == {**alone.to_dict(), "path": str(path)}
    assert len(item.hashes.vpdq) >= 5
    vpdq = pytest.importorskip("vpdq", reason="Meta's vpdq: pip install -e '.[interop]'")
    theirs = [
        VpdqFrame(f.hex, f.quality, f.timestamp)
        for f in vpdq.computeHash(str(path), seconds_per_hash=1)
    ]
    assert [f.timestamp for f in item.hashes.vpdq] == [f.timestamp for f in theirs]
    assert min(vpdq_match_percent(item.hashes.vpdq, theirs)) >= 95


def test_the_scan_in_a_report_samples_the_frames_a_plain_scan_samples(tmp_path: Path) -> None:
    clip = write_video(tmp_path / "clip.mp4", seconds=4.0, size=(640, 360))
    [item] = gather([clip], FAST)
    plain = Scanner(FAST).scan(clip)
    assert item.result.ok and item.result.media is not None and plain.media is not None
    assert item.result.media.sample_times_s == plain.media.sample_times_s
    assert item.result.to_dict()["findings"] == plain.to_dict()["findings"]
    preview = item.result.preview
    assert preview is not None and preview.shape == (360, 640, 3)
    assert "preview" not in item.result.to_dict()


def test_a_video_too_long_to_hash_in_time_is_still_scanned_and_says_why_hashes_are_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clip = write_video(tmp_path / "clip.mp4", seconds=4.0)
    monkeypatch.setattr(video, "TAP_BUDGET_SHARE", 0.0)  # hashing's time is up at once
    [item] = gather([clip], FAST)
    assert item.result.ok, item.result.error
    assert item.result.media is not None
    assert item.result.media.frames_sampled == 8
    assert item.hashes is None
    assert item.hash_error is not None and "hashing stopped" in item.hash_error


def test_a_preview_is_shrunk_and_taken_from_the_scan(tmp_path: Path) -> None:
    clip = write_video(tmp_path / "wide.mp4", seconds=1.0, size=(1280, 720))
    result = Scanner(ScanConfig(detectors=(), frames=4, keep_preview=True)).scan(clip)
    assert result.preview is not None
    assert max(result.preview.shape[:2]) == PREVIEW_MAX_SIDE
    assert Scanner(ScanConfig(detectors=(), frames=4)).scan(clip).preview is None


def test_an_original_is_opened_and_hashed_once_with_every_frame_that_fits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clip = write_video(tmp_path / "original.mp4", seconds=2.0, fps=25)
    calls: list[dict[str, Any]] = []
    opening = footage.open_media

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs)
        return opening(*args, **kwargs)

    monkeypatch.setattr(footage, "open_media", counting)
    whole = footage.load_original(clip)
    assert len(calls) == 1
    assert [f.index for f in whole.frames] == list(range(50))

    monkeypatch.setattr(footage, "ORIGINAL_MEMORY_BYTES", 10 * 320 * 240 * 3)
    spread = footage.load_original(clip)
    assert len(spread.frames) == 10
    assert spread.frames[0].index == 0 and spread.frames[-1].index == 49
    assert spread.sha256 == whole.sha256
