"""Saved forensic maps a person can read: a legend and scale under each, an overlay on request,
names that say what each map shows, and error level at the quality asked for."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from unmask.map_views import legend_for, overlay, with_legend
from unmask.result import Finding

CLONED = "forensics/HiFi_IFDL__data_dir__Coverage__image__19t.tif"
"""A Coverage copy-move forgery (441x422): one packet of peppers copied beside the other."""


def unmask(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "unmask.cli", *args],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "COLUMNS": "250"},
    )


def test_scan_maps_carry_a_legend_and_the_overlay_is_the_map_over_the_picture(
    shared_data: Path, tmp_path: Path
):
    maps = tmp_path / "maps"
    run = unmask("scan", str(shared_data / CLONED), "--maps", str(maps), "--overlay", "-q")
    assert run.returncode in (0, 1), run.stderr
    names = sorted(p.name for p in maps.glob("*.png"))
    for part in ("error-level", "noise-level-by-block", "noise-residual-amplified"):
        assert sum(name.endswith(f"-{part}.png") for name in names) == 1, names
        assert sum(name.endswith(f"-{part}-overlay.png") for name in names) == 1, names
    assert sum(name.endswith("-copied-regions.png") for name in names) == 1, names

    picture = np.asarray(Image.open(shared_data / CLONED).convert("L").convert("RGB"))
    height, width = picture.shape[:2]
    for path in maps.glob("*.png"):
        saved = np.asarray(Image.open(path).convert("RGB"))
        # The map keeps its size and gets a white panel with dark text under it.
        assert saved.shape[0] > height + 60 and saved.shape[1] >= width, path.name
        panel = saved[height:]
        assert (panel.min(axis=2) > 240).mean() > 0.5, path.name
        assert (panel.max(axis=2) < 80).sum() > 200, path.name
    [ela_overlay] = maps.glob("*-error-level-overlay.png")
    [ela] = maps.glob("*-error-level.png")
    left = (np.asarray(Image.open(ela).convert("RGB")).shape[1] - width) // 2
    blended = np.asarray(Image.open(ela_overlay).convert("RGB"))[:height, left : left + width]
    # Where the map is dark the overlay is the picture itself (in grey).
    grey = np.asarray(Image.open(ela).convert("L"))[:height, left : left + width]
    dark = grey < 5
    assert dark.sum() > 1000
    difference = np.abs(blended.astype(int) - picture.astype(int))[dark]
    assert difference.mean() < 3


def test_ela_quality_is_what_the_finding_and_its_legend_say(shared_data: Path):
    run = unmask("scan", str(shared_data / CLONED), "--json", "--ela-quality", "75", "-q")
    assert run.returncode in (0, 1), run.stderr
    findings = json.loads(run.stdout)["results"][0]["findings"]
    [ela] = [f for f in findings if f["code"] == "error_level"]
    assert ela["evidence"]["quality"] == 75 and "quality 75" in ela["summary"]
    finding = Finding(
        detector="forensics", code="error_level", summary="", evidence=ela["evidence"]
    )
    legend = legend_for("ela", finding)
    assert legend is not None and legend.title == "Error level at JPEG quality 75"
    refused = unmask("scan", str(shared_data / CLONED), "--ela-quality", "101")
    assert refused.returncode == 64 and "--ela-quality" in refused.stderr  # usage error


def test_reports_web_pages_and_saved_maps_describe_each_map_in_the_same_words(tmp_path: Path):
    from unmask.config import ScanConfig
    from unmask.report.pictures import describe_map
    from unmask.scan import Scanner
    from unmask.server.web.images import image_name, write_images

    example = Path(__file__).parent.parent / "examples" / "astronaut.jpg"
    config = ScanConfig(detectors=("forensics",), keep_maps=True, ela_quality=75)
    result = Scanner(config).scan(example)
    shown = write_images(tmp_path, result)
    described = set()
    for finding in result.findings:
        for name in finding.maps:
            legend = legend_for(name, finding)
            assert legend is not None, name
            words = (legend.title, legend.bright_means)
            assert describe_map(name, finding) == words, name  # the report
            page = shown[image_name(finding.detector, name)]
            assert (page.title, page.caption) == words, name  # the web page
            assert "brighter means" in legend.bright_means, name
            described.add(name)
    assert described >= {"ela", "noise", "noise_residual"}
    [ela] = [f for f in result.findings if "ela" in f.maps]
    assert describe_map("ela", ela)[0] == "Error level at JPEG quality 75"
    [noise] = [f for f in result.findings if "noise_residual" in f.maps]
    assert legend_for("noise_residual", noise).high == "31+ levels of 255"  # capped at 31, x8


def test_a_narrow_map_is_centred_on_a_panel_wide_enough_to_read():
    finding = Finding(detector="forensics", code="noise_residual", summary="")
    legend = legend_for("noise_residual", finding)
    assert legend is not None
    narrow = np.full((50, 40), 200, dtype=np.uint8)
    image = with_legend(narrow, legend)
    assert image.width >= 480 and image.height > 50
    tinted = overlay(np.zeros((100, 80, 3), dtype=np.uint8), np.full((50, 40), 255, np.uint8))
    assert tinted.size == (40, 50)
    assert np.asarray(tinted)[..., 0].min() > 150  # bright map: red over the picture
    assert legend_for("heatmap_track0", finding) is None  # face heatmaps keep their caption


def test_scan_maps_into_a_folder_that_cannot_be_made_is_a_plain_error(tmp_path: Path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    example = Path(__file__).parent.parent / "examples" / "astronaut.jpg"
    run = unmask("scan", str(example), "--maps", str(blocker / "maps"), "-q")
    assert run.returncode == 2, run.stderr
    assert "cannot make the maps folder" in run.stderr
    assert "Traceback" not in run.stderr


def test_scan_overlay_without_maps_says_what_it_needs(tmp_path: Path):
    example = Path(__file__).parent.parent / "examples" / "astronaut.jpg"
    run = unmask("scan", str(example), "--overlay", "-q")
    assert run.returncode == 64  # a usage error, as for every other wrong combination
    assert "--overlay needs --maps" in run.stderr


def test_scan_of_an_unreadable_file_does_not_claim_maps_were_written(tmp_path: Path):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 not a picture")
    run = unmask("scan", str(broken), "--maps", str(tmp_path / "maps"), "-q")
    assert run.returncode == 2, run.stderr
    assert "no maps written to" in run.stdout and not any((tmp_path / "maps").iterdir())
