"""Stable Diffusion's invisible watermark: found where it survives, never in real photos."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from unmask.detectors.base import ScanContext
from unmask.detectors.watermark import WatermarkDetector
from unmask.media import open_media
from unmask.watermarks import decoders
from unmask.watermarks.stable_diffusion import MAX_BIT_ERRORS, StableDiffusionWatermark

# SD v1 outputs in generated/ai that carry the mark: the txt2img scripts' samples and grids.
# (samples__00000.png and the stable-diffusion repo's own assets decode to noise: they were
# saved without the mark or edited afterwards, so they are not counted.)
MARKED = [
    "Extile1-stable-diffusion__outputs__txt2img-samples__grid-0003.png",
    "Extile1-stable-diffusion__outputs__txt2img-samples__grid-0005.png",
    "johnballentine-sd-flask__outputs__txt2img-samples__samples__00001.png",
    "johnballentine-sd-flask__outputs__txt2img-samples__samples__00002.png",
    "johnballentine-sd-flask__outputs__txt2img-samples__samples__00003.png",
    "johnballentine-sd-flask__outputs__txt2img-samples__samples__00004.png",
    "johnballentine-sd-flask__outputs__txt2img-samples__samples__00005.png",
]


def _rgb(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


@pytest.mark.parametrize("name", MARKED)
def test_the_sd_watermark_is_found_in_marked_outputs(shared_data: Path, name: str) -> None:
    reading = StableDiffusionWatermark().read(_rgb(shared_data / "generated" / "ai" / name))
    assert reading.found
    assert reading.bit_errors <= 4


def test_exact_payload_is_decoded_where_no_bit_flipped(shared_data: Path) -> None:
    path = shared_data / "generated" / "ai" / MARKED[2]
    assert StableDiffusionWatermark().read(_rgb(path)).payload == "StableDiffusionV1"


@pytest.mark.slow
def test_no_real_photo_carries_the_watermark(shared_data: Path) -> None:
    decoder = StableDiffusionWatermark()
    fewest = 136
    photos = sorted((shared_data / "faces" / "real").iterdir())
    assert len(photos) > 1000
    for path in photos:
        reading = decoder.read(_rgb(path))
        assert not reading.found, path.name
        fewest = min(fewest, reading.bit_errors)
    # Measured: the closest real photo is 55 bits off, far from the tolerance of 30.
    assert fewest > MAX_BIT_ERRORS + 15


def test_jpeg_at_quality_75_removes_the_mark_and_nothing_is_claimed(shared_data: Path) -> None:
    buffer = io.BytesIO()
    Image.open(shared_data / "generated" / "ai" / MARKED[2]).convert("RGB").save(
        buffer, "JPEG", quality=75
    )
    reading = StableDiffusionWatermark().read(np.asarray(Image.open(buffer)))
    assert not reading.found


def test_the_scan_reports_the_mark_as_strong_ai_evidence(shared_data: Path) -> None:
    media = open_media(shared_data / "generated" / "ai" / MARKED[0])
    (finding,) = WatermarkDetector().analyse(ScanContext(media=media))
    assert finding.indicates == "ai_generation" and finding.strength == "strong"
    assert finding.evidence["decoder"] == "stable_diffusion_dwtdct"


def test_decoders_are_a_registry() -> None:
    assert [d.name for d in decoders()] == ["stable_diffusion_dwtdct"]


def test_a_missing_mark_makes_no_claim_and_shows_no_noise_as_payload(shared_data: Path) -> None:
    """Bits read from a picture without the mark are noise: the entry must not say "made by
    Stable Diffusion" nor print them as a (control-character) payload."""
    path = shared_data / "c2pa" / "c2pa-rs__sdk__tests__fixtures__no_manifest.jpg"
    reading = StableDiffusionWatermark().read(_rgb(path))
    assert not reading.found and reading.bit_errors > MAX_BIT_ERRORS
    assert reading.payload is None
    assert "made by" not in reading.meaning and reading.meaning.startswith("not found:")


def test_a_found_payload_is_printable_even_where_bits_flipped(shared_data: Path) -> None:
    readings = [
        StableDiffusionWatermark().read(_rgb(shared_data / "generated" / "ai" / name))
        for name in MARKED
    ]
    assert all(r.found and r.payload and r.payload.isprintable() for r in readings)
    assert any(r.bit_errors > 0 for r in readings)  # some carry flipped bits
