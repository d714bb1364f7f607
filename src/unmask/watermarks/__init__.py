"""Invisible watermarks that generators embed, each read by one decoder in a registry.

A decoder takes decoded RGB pixels and says whether its mark is present, with the bit errors
it tolerated. New schemes (TrustMark, VideoSeal, ...) are one module with one `@register`
class each, where their weights can be shipped.

Adobe TrustMark (MIT; C2PA's soft binding, which leads back to stripped credentials) is not
read: checked 2026-12, the PyPI packages `trustmark` 0.9.2 (63 kB sdist) and `trustmark-hailo`
0.1.0 ship no decoder weights, and both download them from Adobe's servers on first use
(`MODEL_REMOTE_HOST` in their sources); no npm package named for TrustMark was found. unmask
does not download at run time, so TrustMark waits for a registry package that ships the decoder.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

import numpy as np


@dataclass(frozen=True)
class WatermarkReading:
    decoder: str
    found: bool
    payload: str | None
    """The payload as decoded, only where the mark was found (may hold wrong characters where
    bits flipped; characters that cannot be printed are shown as "?"). None otherwise: the bits
    read from a picture without the mark are noise, not a message."""
    bit_errors: int
    """Bits that differ from the known payload."""
    bits: int
    meaning: str
    """What the mark says, in plain words, where it was found; otherwise what was looked for
    ("not found: ..."), never the claim a missing mark would have made."""


class WatermarkDecoder(ABC):
    name: ClassVar[str]
    meaning: ClassVar[str]
    """What finding this mark means, e.g. "made by Stable Diffusion"."""
    looks_for: ClassVar[str]
    """The mark, for a reading that did not find it, e.g. "Stable Diffusion's watermark"."""

    def reading(
        self, found: bool, payload: str | None, bit_errors: int, bits: int
    ) -> WatermarkReading:
        """A reading that makes the claim only where the mark was found."""
        if not found:
            return WatermarkReading(
                self.name, False, None, bit_errors, bits, f"not found: {self.looks_for}"
            )
        shown = None if payload is None else "".join(c if c.isprintable() else "?" for c in payload)
        return WatermarkReading(self.name, True, shown, bit_errors, bits, self.meaning)

    @abstractmethod
    def read(self, rgb: np.ndarray) -> WatermarkReading:
        """Look for the mark in an HxWx3 uint8 RGB picture."""


_DECODERS: dict[str, type[WatermarkDecoder]] = {}


def register(cls: type[WatermarkDecoder]) -> type[WatermarkDecoder]:
    if cls.name in _DECODERS and _DECODERS[cls.name] is not cls:
        raise ValueError(f"two watermark decoders are named {cls.name!r}")
    _DECODERS[cls.name] = cls
    return cls


def decoders() -> list[WatermarkDecoder]:
    from unmask.watermarks import stable_diffusion  # noqa: F401  (runs @register)

    return [_DECODERS[name]() for name in sorted(_DECODERS)]


def read_all(rgb: np.ndarray) -> list[WatermarkReading]:
    """Every registered decoder's reading of one picture."""
    return [decoder.read(rgb) for decoder in decoders()]
