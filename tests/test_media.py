"""The media loader: every supported format opens, every broken file gets a clear error."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from media_factory import EXAMPLE, gradient, png_bomb, truncated, write_video
from PIL import Image

from unmask.errors import (
    CorruptMediaError,
    EmptyFileError,
    LimitExceededError,
    TimeBudgetExceededError,
    UnreadableFileError,
    UnsupportedFormatError,
)
from unmask.media import DEFAULT_SAMPLE_FRAMES, Limits, open_media


@pytest.mark.parametrize(
    ("fmt", "suffix", "options"),
    [
        ("JPEG", ".jpg", {"quality": 90}),
        ("PNG", ".png", {}),
        ("WEBP", ".webp", {"quality": 90}),
        ("GIF", ".gif", {}),
        ("BMP", ".bmp", {}),
        ("TIFF", ".tiff", {}),
        ("AVIF", ".avif", {"quality": 80}),
        ("HEIF", ".heic", {"quality": 80}),
    ],
)
def test_every_image_format_decodes_to_rgb(tmp_path: Path, fmt: str, suffix: str, options: dict):
    path = tmp_path / f"picture{suffix}"
    try:
        Image.fromarray(gradient(160, 120)).save(path, format=fmt, **options)
    except (KeyError, OSError) as exc:  # no encoder in this Pillow build
        pytest.skip(f"cannot write {fmt} here: {exc}")
    media = open_media(path)
    assert media.kind == "image"
    assert (media.width, media.height) == (160, 120)
    assert media.frames[0].rgb.shape == (120, 160, 3)
    assert media.frames[0].rgb.dtype == np.uint8


def test_the_bytes_decide_the_format_not_the_extension(tmp_path: Path):
    disguised = tmp_path / "holiday.jpg"
    Image.fromarray(gradient()).save(disguised, format="WEBP")
    media = open_media(disguised)
    assert media.format == "WEBP"
    assert media.frames[0].rgb.shape == (240, 320, 3)


def test_exif_orientation_is_applied_so_faces_are_upright(tmp_path: Path):
    path = tmp_path / "rotated.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    Image.fromarray(gradient(320, 240)).save(path, exif=exif)
    media = open_media(path)
    assert media.frames[0].rgb.shape == (320, 240, 3)


def test_transparent_png_is_composited_on_white(tmp_path: Path):
    path = tmp_path / "alpha.png"
    Image.new("RGBA", (10, 10), (0, 0, 0, 0)).save(path)
    assert open_media(path).frames[0].rgb.min() == 255


def test_empty_file_is_reported_as_empty(tmp_path: Path):
    path = tmp_path / "empty.jpg"
    path.write_bytes(b"")
    with pytest.raises(EmptyFileError, match="empty"):
        open_media(path)


def test_truncated_jpeg_is_reported_as_truncated(tmp_path: Path):
    path = truncated(EXAMPLE, tmp_path / "cut.jpg", keep=0.4)
    with pytest.raises(CorruptMediaError, match="truncated"):
        open_media(path)


def test_garbage_behind_a_jpeg_signature_is_reported_as_damaged(tmp_path: Path):
    path = tmp_path / "garbage.jpg"
    path.write_bytes(b"\xff\xd8\xff\xe0" + np.random.default_rng(1).bytes(5000))
    with pytest.raises((CorruptMediaError, UnsupportedFormatError)):
        open_media(path)


def test_decompression_bomb_is_refused_before_decoding(tmp_path: Path):
    path = png_bomb(tmp_path / "bomb.png")
    with pytest.raises(LimitExceededError, match="megapixels"):
        open_media(path)


def test_pixel_limit_can_be_raised_or_lowered(tmp_path: Path):
    path = tmp_path / "big.png"
    Image.fromarray(gradient(400, 300)).save(path)
    with pytest.raises(LimitExceededError):
        open_media(path, Limits(max_pixels=100_000))
    assert open_media(path, Limits(max_pixels=120_000)).width == 400


def test_unsupported_files_say_what_they_are(tmp_path: Path):
    pdf = tmp_path / "scan.jpg"
    pdf.write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n")
    with pytest.raises(UnsupportedFormatError, match="PDF"):
        open_media(pdf)
    text = tmp_path / "notes.png"
    text.write_text("just some words\n")
    with pytest.raises(UnsupportedFormatError, match="text"):
        open_media(text)


def test_missing_file_and_folder_are_clear_errors(tmp_path: Path):
    with pytest.raises(UnreadableFileError, match="no such file"):
        open_media(tmp_path / "nowhere.jpg")
    with pytest.raises(UnreadableFileError, match="folder"):
        open_media(tmp_path)


def test_video_default_samples_32_frames_spread_over_the_whole_video(tmp_path: Path):
    path = write_video(tmp_path / "clip.mp4", seconds=4.0, fps=25)
    media = open_media(path)
    assert media.kind == "video" and media.format == "mp4"
    assert len(media.frames) == DEFAULT_SAMPLE_FRAMES
    times = [f.time_s for f in media.frames]
    assert times == sorted(times)
    assert times[0] < 0.1 and times[-1] > 3.8
    assert len({f.index for f in media.frames}) == DEFAULT_SAMPLE_FRAMES
    # the frames are the ones at those times, not repeats of a keyframe
    assert not np.array_equal(media.frames[0].rgb, media.frames[-1].rgb)


def test_fps_sampling_takes_frames_at_that_rate(tmp_path: Path):
    path = write_video(tmp_path / "clip.mp4", seconds=4.0, fps=25)
    media = open_media(path, fps=2.0)
    assert len(media.frames) == 8
    assert np.allclose(np.diff([f.time_s for f in media.frames]), 0.5, atol=0.05)


def test_max_frames_caps_sampling(tmp_path: Path):
    path = write_video(tmp_path / "clip.mp4", seconds=2.0, fps=25)
    media = open_media(path, Limits(max_frames=5), fps=25.0)
    assert len(media.frames) == 5


def test_video_longer_than_the_limit_is_refused(tmp_path: Path):
    path = write_video(tmp_path / "clip.mp4", seconds=2.0)
    with pytest.raises(LimitExceededError, match="lasts"):
        open_media(path, Limits(max_duration_s=1.0))


def test_time_budget_stops_a_slow_file(tmp_path: Path):
    path = write_video(tmp_path / "clip.mp4", seconds=2.0)
    with pytest.raises(TimeBudgetExceededError):
        open_media(path, Limits(time_budget_s=0.0))


def test_truncated_video_gives_frames_with_a_warning_or_a_clear_error(tmp_path: Path):
    good = write_video(tmp_path / "clip.mp4", seconds=4.0)
    # An MP4 written by FFmpeg keeps its index (moov) at the end: cutting the tail loses it.
    cut = truncated(good, tmp_path / "cut.mp4", keep=0.6)
    with pytest.raises(CorruptMediaError):
        open_media(cut)
    # A Matroska file cut in the middle still plays up to the cut.
    mkv = tmp_path / "clip.mkv"
    _remux(good, mkv)
    media = open_media(truncated(mkv, tmp_path / "cut.mkv", keep=0.6))
    assert 0 < len(media.frames) < DEFAULT_SAMPLE_FRAMES
    assert any("truncated" in w for w in media.warnings)


def test_animated_gif_is_sampled_like_a_video(tmp_path: Path):
    path = tmp_path / "anim.gif"
    frames = [Image.new("RGB", (160, 120), (6 * i, 255 - 6 * i, 128)) for i in range(40)]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=50, loop=0)
    media = open_media(path)
    assert media.kind == "video" and media.format == "GIF"
    assert len(media.frames) == DEFAULT_SAMPLE_FRAMES
    assert media.duration_s == pytest.approx(2.0)


def test_multi_picture_tiff_is_an_image_not_an_animation(tmp_path: Path):
    path = tmp_path / "pages.tiff"
    pages = [Image.fromarray(gradient(seed=i)) for i in range(3)]
    pages[0].save(path, save_all=True, append_images=pages[1:])
    media = open_media(path)
    assert media.kind == "image" and len(media.frames) == 1


def test_c2pa_manifest_presence_is_noticed_in_video(shared_data: Path):
    with_manifest = shared_data / "c2pa" / "c2pa-rs__sdk__tests__fixtures__video1.mp4"
    without = shared_data / "c2pa" / "c2pa-rs__sdk__tests__fixtures__video1_no_manifest.mp4"
    assert open_media(with_manifest).has_c2pa_manifest
    assert not open_media(without).has_c2pa_manifest


def test_hostile_nested_boxes_fail_cleanly(shared_data: Path):
    with pytest.raises(CorruptMediaError):
        open_media(shared_data / "c2pa" / "c2pa-rs__sdk__tests__fixtures__nested_moov_1000.mp4")


def test_image_headers_are_kept_for_the_detectors(tmp_path: Path):
    path = tmp_path / "tagged.jpg"
    exif = Image.Exif()
    exif[0x0131] = "Adobe Photoshop 25.0"  # Software
    buffer = io.BytesIO()
    Image.fromarray(gradient()).save(buffer, "JPEG", quality=75, exif=exif)
    path.write_bytes(buffer.getvalue())
    media = open_media(path)
    assert media.raw == path.read_bytes()
    assert media.image_headers is not None
    assert media.image_headers.exif["Software"] == "Adobe Photoshop 25.0"
    assert set(media.image_headers.jpeg_quantization) == {0, 1}


def _remux(source: Path, target: Path) -> None:
    import av

    with av.open(str(source)) as src, av.open(str(target), "w") as dst:
        stream = dst.add_stream_from_template(src.streams.video[0])
        for packet in src.demux(src.streams.video[0]):
            if packet.dts is None:
                continue
            packet.stream = stream
            dst.mux(packet)


def test_c2pa_presence_matches_the_conformance_files(shared_data: Path):
    """Every file whose source expects a valid or invalid manifest has one embedded; every file
    expected to have none has none (text mentioning "c2pa" in XMP does not count)."""
    import csv

    rows = list(csv.DictReader((shared_data / "c2pa" / "expected.csv").open()))
    checked = 0
    for row in rows:
        if row["expected_state"] not in ("valid", "invalid", "none"):
            continue
        media = open_media(shared_data / "c2pa" / row["file"])
        assert media.has_c2pa_manifest == (row["expected_state"] != "none"), row["file"]
        checked += 1
    assert checked >= 30


def test_an_animation_whose_frames_times_canvas_exceed_the_limit_is_refused(tmp_path: Path):
    from hostile_factory import gif_frames_bomb

    bomb = gif_frames_bomb(tmp_path, 2000, 2000, 300)  # 1.2 billion canvas pixels to decode
    with pytest.raises(LimitExceededError, match="300 frames on a 2000 x 2000 canvas"):
        open_media(bomb, Limits(max_animation_pixels=1_000_000_000))
    assert open_media(bomb, Limits(max_animation_pixels=2_000_000_000)).kind == "video"


def test_sampled_animation_frames_are_scaled_like_video_frames(tmp_path: Path):
    path = tmp_path / "wide.gif"
    frames = [Image.new("RGB", (3000, 200), (40 * i, 0, 0)) for i in range(3)]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100)
    media = open_media(path)
    assert (media.width, media.height) == (3000, 200)  # the file's own size is reported
    assert all(f.rgb.shape == (128, 1920, 3) for f in media.frames)


def test_video_frames_can_go_to_a_callback_instead_of_being_kept(tmp_path: Path):
    video = write_video(tmp_path / "clip.mp4", seconds=3.0)
    received: list[float] = []
    media = open_media(video, fps=1.0, on_frame=lambda frame: received.append(frame.time_s))
    assert media.frames == []
    assert received == pytest.approx([0.0, 1.0, 2.0], abs=0.05)


def test_fifo_socket_and_device_are_refused_without_being_opened(tmp_path: Path):
    from hostile_factory import device_link, fifo_jpg, socket_jpg

    for make, kind in ((fifo_jpg, "named pipe"), (socket_jpg, "socket"), (device_link, "device")):
        with pytest.raises(UnreadableFileError, match=kind):
            open_media(make(tmp_path))  # a FIFO would block for ever if it were opened
