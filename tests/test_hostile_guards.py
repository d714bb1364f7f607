"""Structure checks before decoding (`unmask.media.guards`) and sniffing: real files pass,
the hostile shapes are refused with a reason, in time linear in the file."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hostile_factory import (
    bmff_deep_boxes,
    bmff_many_boxes,
    jpeg_scan_bomb,
    png_many_chunks,
    starts_with_g,
)
from media_factory import EXAMPLE, gradient, write_video
from PIL import Image

from unmask.errors import LimitExceededError
from unmask.media.guards import (
    MAX_JPEG_SCANS,
    check_bmff_boxes,
    check_jpeg_scans,
    check_png_chunks,
    check_structure,
)
from unmask.media.sniff import sniff


def _checked(path: Path) -> None:
    with path.open("rb") as handle:
        check_structure(handle, path.stat().st_size)


def test_real_pictures_and_videos_pass_the_structure_checks(tmp_path: Path):
    progressive = tmp_path / "progressive.jpg"
    Image.fromarray(gradient()).save(progressive, progressive=True)
    scans = check_jpeg_scans(progressive.read_bytes(), 320 * 240)
    assert 2 <= scans <= 20  # libjpeg's standard progression
    assert check_jpeg_scans(EXAMPLE.read_bytes(), 512 * 512) == 1
    png = tmp_path / "picture.png"
    Image.fromarray(gradient()).save(png)
    assert check_png_chunks(io.BytesIO(png.read_bytes()), png.stat().st_size) >= 3
    video = write_video(tmp_path / "clip.mp4")
    with video.open("rb") as handle:
        assert 10 < check_bmff_boxes(handle, video.stat().st_size) < 100


def test_a_progressive_jpeg_with_thousands_of_scans_is_refused(tmp_path: Path):
    bomb = jpeg_scan_bomb(tmp_path, side=256, repeats=MAX_JPEG_SCANS)
    with pytest.raises(LimitExceededError, match="scans"):
        check_jpeg_scans(bomb.read_bytes(), 256 * 256)


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (png_many_chunks, "chunks"),
        (bmff_many_boxes, "boxes"),
        (bmff_deep_boxes, "levels deep"),
    ],
)
def test_floods_of_chunks_and_boxes_are_refused_before_any_parser(tmp_path: Path, make, words):
    with pytest.raises(LimitExceededError, match=words) as caught:
        _checked(make(tmp_path))
    assert caught.value.hint


def test_only_sync_bytes_every_188_bytes_make_a_transport_stream(tmp_path: Path):
    assert sniff(starts_with_g(tmp_path).read_bytes()[:1024]).family == "unknown"
    packets = (b"\x47" + bytes(187)) * 6
    assert sniff(packets[:1024]).format == "mpegts"
    assert sniff((bytes(4) + b"\x47" + bytes(187)) * 6).format == "mpegts"  # M2TS
