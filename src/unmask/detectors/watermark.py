"""Invisible generator watermarks (see `unmask.watermarks`): a decoded mark is the generator's
own signature, so finding one is strong evidence of AI generation. Not finding one means
nothing: most generators embed none, and re-encoding removes the ones that exist."""

from __future__ import annotations

from unmask.detectors.base import Detector, ScanContext, register
from unmask.result import Finding
from unmask.watermarks import WatermarkReading, read_all

NAME = "watermark"


@register
class WatermarkDetector(Detector):
    name = NAME
    scope = "file"
    covers = (
        "Invisible generator watermarks (Stable Diffusion's dwtDct mark); found in the SD "
        "outputs of the project's data set that still carry it, and in none of its 1,486 unaltered "
        "photos. Most generators embed none and re-encoding removes it."
    )

    def analyse(self, context: ScanContext) -> list[Finding]:
        if context.media.kind != "image" or not context.media.frames:
            return []
        readings = read_all(context.media.frames[0].rgb)
        return [finding_for(r) for r in readings if r.found]


def finding_for(reading: WatermarkReading) -> Finding:
    return Finding(
        detector=NAME,
        code="generator_watermark",
        summary=(
            f"An invisible watermark says the picture was {reading.meaning} "
            f"({reading.bits - reading.bit_errors} of {reading.bits} bits match)."
        ),
        indicates="ai_generation",
        strength="strong",
        score=1.0 - reading.bit_errors / reading.bits,
        evidence={
            "decoder": reading.decoder,
            "payload": reading.payload,
            "bit_errors": reading.bit_errors,
            "bits": reading.bits,
        },
    )
