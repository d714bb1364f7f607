"""Copy-move detection on real shared pictures: copied regions boxed where the masks say,
nothing raised on photos of people."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from unmask.detectors.copy_move import copy_move, find_copied_regions
from unmask.media import open_media

COVERAGE = "forensics/HiFi_IFDL__data_dir__Coverage__{kind}__{name}.tif"


def coverage(shared_data: Path, number: int) -> tuple[np.ndarray, np.ndarray]:
    """A Coverage forgery and the mask of both its copied and its pasted region."""
    picture = open_media(shared_data / COVERAGE.format(kind="image", name=f"{number}t"))
    truth = np.zeros(picture.frames[0].rgb.shape[:2], dtype=bool)
    for part in ("copy", "paste"):
        mask = Image.open(shared_data / COVERAGE.format(kind="mask", name=f"{number}{part}"))
        truth |= np.asarray(mask.convert("L")) > 127
    return picture.frames[0].rgb, truth


def boxed(box: tuple[int, int, int, int], shape: tuple[int, ...]) -> np.ndarray:
    x0, y0, x1, y1 = box
    mask = np.zeros(shape[:2], dtype=bool)
    mask[y0:y1, x0:x1] = True
    return mask


@pytest.mark.parametrize("number", [11, 19])
def test_both_ends_of_a_coverage_clone_are_boxed_on_its_masks(shared_data: Path, number: int):
    rgb, truth = coverage(shared_data, number)
    regions = find_copied_regions(rgb)
    assert regions, "the copied object was not found"
    strongest = regions[0]
    one, other = boxed(strongest.one_end, rgb.shape), boxed(strongest.other_end, rgb.shape)
    # Each box lies mostly on the copied or the pasted object, and together they cover most
    # of both.
    assert (one & truth).sum() / one.sum() > 0.4
    assert (other & truth).sum() / other.sum() > 0.4
    assert ((one | other) & truth).sum() / truth.sum() > 0.8


def test_no_region_looks_copied_in_photos_of_people(shared_data: Path):
    # Every 100th photo of faces/real: 15 photos of many sources and sizes.
    folder = shared_data / "faces" / "real"
    photos = sorted(p for p in folder.iterdir() if p.is_file())[::100]
    assert len(photos) >= 10
    flagged = [p.name for p in photos if copy_move(open_media(p).frames[0].rgb) is not None]
    assert flagged == []


def test_a_patch_copied_within_a_camera_picture_is_found_and_said_with_care(shared_data: Path):
    path = (
        shared_data
        / "forensics"
        / "HiFi_IFDL__data_dir__columbia__4cam_splc__canong3_canonxt_sub_02.tif"
    )
    rgb = open_media(path).frames[0].rgb
    assert copy_move(rgb) is None  # as published: a splice, nothing copied within it
    h, w = rgb.shape[:2]
    side = min(h, w) // 4
    forged = rgb.copy()
    forged[h - side - 10 : h - 10, w - side - 10 : w - 10] = rgb[20 : 20 + side, 20 : 20 + side]
    finding = copy_move(forged)
    assert finding is not None
    assert finding.indicates == "editing" and finding.strength == "weak"
    assert "looks copied" in finding.summary and "flagged" in finding.summary
    # The measured false-alarm rate travels with the finding, named without calling a photo real.
    assert 0 < finding.evidence["false_alarm_rate_on_photos_of_people"] < 0.02
    assert not any("real" in key for key in finding.evidence)
    region = finding.evidence["regions"][0]
    boxes = [region["one_end_box"], region["other_end_box"]]
    corners = sorted((box[0] < w / 2, box[1] < h / 2) for box in boxes)
    assert corners == [(False, False), (True, True)]  # top left and bottom right
    shift = np.hypot(*region["shift_px"])
    assert abs(shift - np.hypot(w - side - 30, h - side - 30)) < 5
    picture = finding.maps["copy_move"]
    assert picture.shape == (h, w, 3) and picture.dtype == np.uint8
