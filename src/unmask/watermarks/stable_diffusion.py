"""The Stable Diffusion v1/v2 invisible watermark: `invisible-watermark`'s dwtDct scheme with
the payload "StableDiffusionV1" (136 bits), embedded by the reference txt2img/img2img scripts.

The scheme (ShieldMnt/invisible-watermark, `maxDct.py`): convert to YUV; take the one-level
Haar DWT approximation band of a chroma channel; cut it into 4x4 blocks; in each block the
largest-magnitude coefficient other than the first is quantised with step 36 so that its
remainder sits at 1/4 (bit 0) or 3/4 (bit 1) of the step. Block n carries bit n mod 136; the
decoder takes the majority over all blocks carrying a bit. The reference decoder reads the U
channel only (its loop runs over channels 0-1 and channel 0 has scale 0); so do we.

The same maths is written here with NumPy and OpenCV so that the main install needs no
`invisible-watermark` (which imports torch). The mark does not survive JPEG at quality 75 or
a 0.75 resize, so a miss says nothing about how a picture was made.
"""

from __future__ import annotations

import cv2
import numpy as np

from unmask.watermarks import WatermarkDecoder, WatermarkReading, register

PAYLOAD = b"StableDiffusionV1"
PAYLOAD_BITS = np.unpackbits(np.frombuffer(PAYLOAD, dtype=np.uint8))
SCALE = 36.0
"""Quantisation step of the U channel in invisible-watermark's dwtDct (scales [0, 36, 36])."""
BLOCK = 4
MAX_BIT_ERRORS = 30
"""Most wrong bits (of 136) still counted as the mark. On a picture without it each bit is a
coin toss: errors follow Binomial(136, 1/2), mean 68, sd 5.8, so 30 or fewer happens by chance
with probability about 1e-6. Measured on the 1,486 real photos in the project's data set the
fewest errors were far above this (see tests/test_watermarks.py); SD outputs that still carry
the mark decode with 0-20 errors."""
MIN_SIDE = 64
"""Below this, too few blocks carry each bit for a majority vote to mean anything."""
STRIP_BLOCK_ROWS = 128
"""Rows of 4x4 blocks decoded at a time (1,024 picture rows), to bound memory."""


@register
class StableDiffusionWatermark(WatermarkDecoder):
    name = "stable_diffusion_dwtdct"
    meaning = "made by Stable Diffusion (its reference scripts' invisible watermark)"
    looks_for = "Stable Diffusion's invisible watermark (dwtDct)"

    def read(self, rgb: np.ndarray) -> WatermarkReading:
        bits = decode_bits(rgb)
        if bits is None:
            return self.reading(False, None, len(PAYLOAD_BITS), 0)
        errors = int(np.count_nonzero(bits != PAYLOAD_BITS))
        payload = np.packbits(bits).tobytes().decode("ascii", errors="replace")
        return self.reading(errors <= MAX_BIT_ERRORS, payload, errors, len(bits))


def decode_bits(rgb: np.ndarray, n_bits: int = len(PAYLOAD_BITS)) -> np.ndarray | None:
    """The 136 majority-vote bits of a dwtDct mark, or None for a picture too small."""
    height, width = rgb.shape[:2]
    if min(height, width) < MIN_SIDE:
        return None
    h4, w4 = height // 4 * 4, width // 4 * 4
    rows, cols = (h4 // 2) // BLOCK, (w4 // 2) // BLOCK
    ones = np.zeros(n_bits)
    counts = np.zeros(n_bits, dtype=np.int64)
    # A band of block rows at a time: the same sums as over the whole picture, without its
    # float64 copies (a 100-megapixel picture needed 1.3 GB at once).
    for first in range(0, rows, STRIP_BLOCK_ROWS):
        last = min(rows, first + STRIP_BLOCK_ROWS)
        band = rgb[first * BLOCK * 2 : last * BLOCK * 2, :w4]
        u = cv2.cvtColor(np.ascontiguousarray(band), cv2.COLOR_RGB2YUV)[:, :, 1].astype(np.float64)
        # One-level orthonormal Haar DWT, approximation band (what pywt.dwt2(..., "haar") gives).
        approx = (u[0::2, 0::2] + u[0::2, 1::2] + u[1::2, 0::2] + u[1::2, 1::2]) / 2.0
        blocks = (
            approx[:, : cols * BLOCK]
            .reshape(last - first, BLOCK, cols, BLOCK)
            .transpose(0, 2, 1, 3)
            .reshape((last - first) * cols, BLOCK * BLOCK)
        )
        # The largest coefficient after the first, in row-major order, as the reference picks it.
        position = np.argmax(np.abs(blocks[:, 1:]), axis=1) + 1
        value = np.abs(blocks[np.arange(len(blocks)), position])
        votes = (np.mod(value, SCALE) > 0.5 * SCALE).astype(np.float64)
        bit_of_block = np.arange(first * cols, last * cols) % n_bits
        ones += np.bincount(bit_of_block, weights=votes, minlength=n_bits)
        counts += np.bincount(bit_of_block, minlength=n_bits)
    return (ones / np.maximum(counts, 1) * 255 > 127).astype(np.uint8)
