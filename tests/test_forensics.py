"""The forensics detector: error level, JPEG quantisation and double compression, noise."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from unmask.detectors.base import ScanContext, create_detector
from unmask.detectors.forensics import (
    ANNEX_K_LUMINANCE,
    DQ_THRESHOLD,
    MAP_MAX_SIDE,
    ForensicsDetector,
    error_level,
    estimate_quality,
    ijg_table,
    noise_residual,
)
from unmask.media import open_media
from unmask.result import Finding

PHOTOS = (
    "stable-diffusion__data__inpainting_examples__alex-iby-G_Pk4D9rMLs.png",
    "stable-diffusion__data__inpainting_examples__bertrand-gabioud-CpuFzIsHYJ0.png",
    "stable-diffusion__data__inpainting_examples__overture-creations-5sI6fQgYIuo.png",
)


def photo(shared_data: Path, index: int = 0) -> Image.Image:
    """A real 512 px photo stored as PNG (resized, so no JPEG grid survives in it)."""
    return Image.open(shared_data / "generated" / "real_counterparts" / PHOTOS[index]).convert(
        "RGB"
    )


def jpeg_bytes(image: Image.Image, quality: int) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def save_jpeg(image: Image.Image, path: Path, *qualities: int) -> Path:
    """Save as JPEG, re-opening and re-saving once per extra quality (double compression)."""
    for quality in qualities[:-1]:
        image = Image.open(io.BytesIO(jpeg_bytes(image, quality))).convert("RGB")
    image.save(path, "JPEG", quality=qualities[-1])
    return path


def scan(path: Path) -> list[Finding]:
    return ForensicsDetector().analyse(ScanContext(media=open_media(path)))


def only(findings: list[Finding], code: str) -> Finding:
    matching = [f for f in findings if f.code == code]
    assert len(matching) == 1, f"expected one {code}, got {[f.code for f in findings]}"
    return matching[0]


# -- JPEG quality and tables ------------------------------------------------------------------


def test_ijg_scaling_reproduces_annex_k_at_quality_50():
    assert ijg_table(ANNEX_K_LUMINANCE, 50) == list(ANNEX_K_LUMINANCE)
    assert ijg_table(ANNEX_K_LUMINANCE, 100) == [1] * 64


@pytest.mark.parametrize("quality", [30, 50, 75, 90, 95])
def test_quality_of_a_pillow_jpeg_is_estimated(shared_data: Path, tmp_path: Path, quality: int):
    path = save_jpeg(photo(shared_data), tmp_path / f"q{quality}.jpg", quality)
    finding = only(scan(path), "jpeg_quantization")
    assert abs(finding.evidence["estimated_quality"] - quality) <= 2
    assert finding.evidence["standard_ijg"] is True
    assert f"quality {quality}" in finding.summary
    json.dumps(finding.evidence)


def test_custom_tables_are_reported_as_non_standard(shared_data: Path, tmp_path: Path):
    flat = [[6] * 64, [9] * 64]
    path = tmp_path / "custom.jpg"
    photo(shared_data).save(path, "JPEG", qtables=flat)
    finding = only(scan(path), "jpeg_quantization")
    assert finding.evidence["standard_ijg"] is False
    assert "non-standard" in finding.summary
    assert finding.evidence["tables"]["0"] == [6] * 64


def test_estimate_quality_reads_natural_order_tables():
    assert estimate_quality({0: ijg_table(ANNEX_K_LUMINANCE, 75)})[:2] == (75, True)


def test_png_has_no_jpeg_finding(shared_data: Path, tmp_path: Path):
    path = tmp_path / "photo.png"
    photo(shared_data).save(path)
    assert [f.code for f in scan(path)] == ["error_level", "noise_residual"]


# -- double compression -----------------------------------------------------------------------


@pytest.mark.parametrize("index", range(len(PHOTOS)))
def test_double_compression_scores_higher_than_single(
    shared_data: Path, tmp_path: Path, index: int
):
    image = photo(shared_data, index)
    single = only(scan(save_jpeg(image, tmp_path / "single.jpg", 90)), "jpeg_quantization")
    double = only(scan(save_jpeg(image, tmp_path / "double.jpg", 60, 90)), "jpeg_quantization")
    assert single.evidence["estimated_quality"] == double.evidence["estimated_quality"] == 90
    assert single.score is not None and double.score is not None
    assert single.score < DQ_THRESHOLD < double.score
    assert double.score > 3 * single.score
    assert (single.indicates, single.strength) == ("none", "info")
    assert (double.indicates, double.strength) == ("editing", "weak")
    assert "second compression" in double.summary


@pytest.mark.parametrize("quality", [50, 75, 95])
def test_single_compression_stays_below_the_threshold(
    shared_data: Path, tmp_path: Path, quality: int
):
    finding = only(
        scan(save_jpeg(photo(shared_data, 1), tmp_path / "s.jpg", quality)), "jpeg_quantization"
    )
    assert finding.score is not None and finding.score < DQ_THRESHOLD


# -- error level and noise --------------------------------------------------------------------


def test_maps_have_the_picture_shape(shared_data: Path, tmp_path: Path):
    path = save_jpeg(photo(shared_data), tmp_path / "photo.jpg", 85)
    findings = scan(path)
    ela = only(findings, "error_level")
    noise = only(findings, "noise_residual")
    assert ela.maps["ela"].shape == (512, 512)
    assert ela.maps["ela"].dtype == np.uint8
    assert noise.maps["noise"].shape == (512, 512)
    assert noise.maps["noise_residual"].shape == (512, 512)
    assert 0.0 <= ela.score <= 1.0
    assert 0.0 <= ela.evidence["high_block_ratio"] <= 1.0
    assert "not proof" in ela.summary
    assert all(f.strength == "info" for f in (ela, noise))


def test_error_level_lights_up_a_pasted_uncompressed_region(shared_data: Path):
    original = photo(shared_data, 1)
    base = Image.open(io.BytesIO(jpeg_bytes(original, 70))).convert("RGB")
    box = (203, 157, 331, 285)  # off the 8x8 grid
    base.paste(original.crop(box), box[:2])
    ela = error_level(base).maps["ela"].astype(np.float64)
    inside = np.zeros(ela.shape, bool)
    inside[box[1] : box[3], box[0] : box[2]] = True
    assert ela[inside].mean() > 3 * ela[~inside].mean()


def test_noise_map_shows_where_noise_was_added(shared_data: Path):
    gray = np.asarray(photo(shared_data, 1).convert("L"), dtype=np.float64)
    noisy = gray.copy()
    noisy[:, 256:] += np.random.default_rng(0).normal(0, 6, (512, 256))

    def right_to_left(pixels: np.ndarray) -> float:
        image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "L")
        level = noise_residual(image).maps["noise"].astype(np.float64)
        return level[:, 256:].mean() / level[:, :256].mean()

    assert right_to_left(noisy) > 2 * right_to_left(gray)


def test_large_photos_get_shrunk_maps(shared_data: Path, tmp_path: Path):
    """Maps of a 12 MP photo are at most MAP_MAX_SIDE. Not timed here: a timing in CI measures
    the machine's load (it failed on a loaded box with the error levels alone)."""
    big = photo(shared_data).resize((4000, 3000), Image.Resampling.BICUBIC)
    pixels = np.asarray(big, dtype=np.int16) + np.random.default_rng(1).normal(
        0, 3, (3000, 4000, 3)
    )
    path = tmp_path / "12mp.jpg"
    Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(path, quality=92)
    media = open_media(path)
    detectors = [create_detector("metadata"), create_detector("forensics")]
    findings = [f for d in detectors for f in d.analyse(ScanContext(media=media))]
    for finding in findings:
        for image in finding.maps.values():
            assert max(image.shape[:2]) <= MAP_MAX_SIDE
    assert only(findings, "error_level").maps["ela"].shape == (1500, 2000)


def test_videos_get_noise_of_the_first_frame_only(shared_data: Path):
    path = sorted((shared_data / "videos" / "real").glob("*.mp4"))[0]
    media = open_media(path, n_frames=2)
    findings = ForensicsDetector().analyse(ScanContext(media=media))
    assert [f.code for f in findings] == ["noise_residual"]
    assert findings[0].evidence["first_frame_of_video"] is True
    assert findings[0].maps["noise"].shape[:2] == media.frames[0].rgb.shape[:2]


def test_registered_under_its_name():
    assert isinstance(create_detector("forensics"), ForensicsDetector)


def test_error_level_says_when_resaving_changed_almost_nothing(shared_data: Path):
    """Re-saving at the quality a picture was last saved at changes hardly a pixel: the finding
    must say so (and that another quality may show more), not '1% of pixels by 0 levels'."""
    face = (
        shared_data / "faces" / "real" / "Deep3DFaceRecon_pytorch__datasets__examples__000002.jpg"
    )
    if not face.exists():
        pytest.skip(f"{face.name} is not in the shared data")
    saved = Image.open(io.BytesIO(jpeg_bytes(Image.open(face).convert("RGB"), 70)))
    same = error_level(saved, quality=70).summary
    assert "by 0 levels" not in same
    assert "leaves at least 99% of pixels unchanged" in same and "another quality" in same
    other = error_level(saved, quality=95).summary
    assert "changes 1% of pixels by" in other and "unchanged" not in other
