"""The EXIF preview against the picture, on real camera files from the shared data and on
copies of them doctored here (pixels changed, Exif segment kept as it was)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from unmask.detectors.exif_thumbnail import exif_thumbnail
from unmask.media import open_media

CAMERA = "c2pa/c2pa-rs__sdk__tests__fixtures__P1000827.jpg"
"""A Panasonic DMC-ZS60 photo (1024x759) whose 256x190 EXIF preview was left by the camera."""


def doctored(shared_data: Path, tmp_path: Path, edit: Callable[[Image.Image], Image.Image]) -> Path:
    """A copy of the camera file with its pixels edited and its Exif segment (with the
    camera's preview) written back unchanged, as many editors do."""
    with Image.open(shared_data / CAMERA) as original:
        exif = original.info["exif"]
        picture = edit(original.convert("RGB"))
    target = tmp_path / "edited.jpg"
    picture.save(target, quality=92, exif=exif)
    return target


def test_the_camera_preview_of_an_unedited_photo_shows_the_same_picture(shared_data: Path):
    finding = exif_thumbnail(open_media(shared_data / CAMERA))
    assert finding is not None
    assert finding.strength == "info" and finding.indicates == "none"
    assert "same picture" in finding.summary and "does not show" in finding.summary
    assert finding.evidence["pdq_distance"] <= 31
    assert finding.maps["exif_thumbnail_difference"].shape == (190, 256)


def painted_over(fraction: int) -> Callable[[Image.Image], Image.Image]:
    """A flat green square over 1/fraction of the width and height, right of the middle."""

    def paint(picture: Image.Image) -> Image.Image:
        w, h = picture.size
        box = (w // 2, h // 2, w // 2 + w // fraction, h // 2 + h // fraction)
        ImageDraw.Draw(picture).rectangle(box, fill=(40, 120, 40))
        return picture

    return paint


def test_an_area_painted_over_after_the_camera_wrote_the_preview_is_located(
    shared_data: Path, tmp_path: Path
):
    finding = exif_thumbnail(open_media(doctored(shared_data, tmp_path, painted_over(8))))
    assert finding is not None
    assert finding.indicates == "editing" and finding.strength == "weak"
    assert "differs in one area" in finding.summary
    x, y = finding.evidence["largest_block_at_fraction"]
    assert 0.45 < x < 0.7 and 0.45 < y < 0.7


def test_a_large_area_painted_over_makes_the_preview_differ_clearly(
    shared_data: Path, tmp_path: Path
):
    finding = exif_thumbnail(open_media(doctored(shared_data, tmp_path, painted_over(4))))
    assert finding is not None and finding.strength == "weak"
    assert "differs clearly from the picture" in finding.summary
    assert finding.evidence["pdq_distance"] > 31


def test_a_cropped_photo_no_longer_matches_its_preview(shared_data: Path, tmp_path: Path):
    def crop(picture: Image.Image) -> Image.Image:
        w, h = picture.size
        return picture.crop((w // 3, 0, w, h))

    finding = exif_thumbnail(open_media(doctored(shared_data, tmp_path, crop)))
    assert finding is not None and finding.strength == "weak"
    assert "differs clearly from the picture and has other proportions" in finding.summary


@pytest.mark.parametrize(
    ("turn", "words"),
    [
        (Image.Transpose.ROTATE_180, "rotated 180°"),
        (Image.Transpose.FLIP_LEFT_RIGHT, "mirrored left to right"),
    ],
)
def test_a_turned_photo_is_named_as_the_preview_turned(
    shared_data: Path, tmp_path: Path, turn: Image.Transpose, words: str
):
    finding = exif_thumbnail(
        open_media(doctored(shared_data, tmp_path, lambda p: p.transpose(turn)))
    )
    assert finding is not None and finding.strength == "weak"
    assert words in finding.summary
    assert finding.evidence["picture_is_preview"] == words


def test_a_picture_without_a_preview_says_nothing(tmp_path: Path):
    path = tmp_path / "plain.jpg"
    Image.new("RGB", (200, 150), (90, 60, 30)).save(path)
    assert exif_thumbnail(open_media(path)) is None
