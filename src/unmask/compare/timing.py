"""Which original frame each suspect frame shows: PDQ first, pixels after.

1. **PDQ** (`unmask.hashing`) of every frame, taken on a small copy, ranks the original frames
   for each suspect frame (the mirrored suspect frame is hashed too). The best-ranked pairs are
   what the spatial registration tries. A PDQ distance is never trusted alone: a 3-5 % crop or a
   letterbox moves PDQ past its match threshold of 31 bits, yet the right frame still ranks
   near the top.
2. **Pixels.** Once the original is laid onto the suspect, every suspect frame is compared with
   every original frame on small aligned copies, and the one that differs least is its
   counterpart. This is exact where PDQ is coarse: a trim, another frame rate (ffmpeg keeps the
   nearest source frame), a dropped frame or a cut all just change which frame wins, and a
   still grabbed from a video finds its frame.
"""

from __future__ import annotations

import cv2
import numpy as np

from unmask import hashing
from unmask.bank.index import hex_to_codes
from unmask.compare.change import warp
from unmask.compare.register import compose, resize_matrix
from unmask.media import Frame

HASH_SIDE = 128
"""Frames are hashed at this long side: PDQ reduces every picture to 64 x 64 before its DCT, so
a 128 px copy ranks frames as a 512 px one does at a quarter of the cost."""
PDQ_CANDIDATES = 3
"""Original frames, best PDQ first, tried in the spatial registration for each anchor frame."""
PICK_SIDE = 96
"""Long side of the small aligned copies on which frames are matched on pixels: enough to tell
a moving head's neighbouring frames apart, small enough to compare 32 x 1,000 pairs at once."""
PICK_CHUNK = 64
"""Original frames compared at once (bounds the memory of the comparison)."""


def frame_codes(frames: list[Frame], mirrored: bool = False) -> np.ndarray:
    """(N, 32) uint8 PDQ codes of frames (left-right mirrored first if asked)."""
    hashes = []
    for frame in frames:
        rgb = frame.rgb[:, ::-1] if mirrored else frame.rgb
        scale = min(1.0, HASH_SIDE / max(rgb.shape[:2]))
        size = (max(16, round(rgb.shape[1] * scale)), max(16, round(rgb.shape[0] * scale)))
        small = cv2.resize(np.ascontiguousarray(rgb), size, interpolation=cv2.INTER_AREA)
        hashes.append(hashing.pdq(small)[0])
    return hex_to_codes(hashes)


def distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(len(a), len(b)) Hamming distances between PDQ codes."""
    return np.bitwise_count(a[:, None, :] ^ b[None, :, :]).sum(axis=2)


def pdq_ranking(suspect: list[Frame], original: list[Frame]) -> np.ndarray:
    """(len(suspect), len(original)) PDQ distances, the smaller of plain and mirrored."""
    if len(original) == 1:
        return np.zeros((len(suspect), 1), dtype=np.int64)
    codes = frame_codes(original)
    plain = distances(frame_codes(suspect), codes)
    flipped = distances(frame_codes(suspect, mirrored=True), codes)
    return np.minimum(plain, flipped)


def thumbnails(frames: list[Frame]) -> tuple[list[np.ndarray], float]:
    """Small copies of frames (long side `2 * PICK_SIDE`), made once per file for
    `pick_by_pixels`, and their scale."""
    height, width = frames[0].rgb.shape[:2]
    factor = min(1.0, 2 * PICK_SIDE / max(height, width))
    size = (max(8, round(width * factor)), max(8, round(height * factor)))
    return [cv2.resize(f.rgb, size, interpolation=cv2.INTER_AREA) for f in frames], factor


def pick_by_pixels(
    suspect: list[Frame], original: tuple[list[np.ndarray], float], matrix: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """For every suspect frame, the original frame (from its `thumbnails`) whose aligned pixels
    differ least, and that mean absolute grey difference (0-255) on the small copies."""
    thumbs, thumb_scale = original
    height, width = suspect[0].rgb.shape[:2]
    factor = min(1.0, PICK_SIDE / max(height, width))
    size = (max(8, round(width * factor)), max(8, round(height * factor)))
    to_small = resize_matrix(size[0] / width, size[1] / height)
    small_matrix = compose(to_small, matrix, np.linalg.inv(resize_matrix(thumb_scale)))
    s = np.stack([_grey(cv2.resize(f.rgb, size, interpolation=cv2.INTER_AREA)) for f in suspect])
    ones = np.full(thumbs[0].shape[:2], 255, np.uint8)
    valid = cv2.warpAffine(ones, small_matrix, size, flags=cv2.INTER_NEAREST) > 0
    valid = cv2.erode(valid.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    if not valid.any():
        return np.zeros(len(suspect), dtype=np.int64), np.full(len(suspect), np.inf)
    s = s[:, valid]
    s -= s.mean(axis=1, keepdims=True)
    best = np.zeros(len(suspect), dtype=np.int64)
    best_cost = np.full(len(suspect), np.inf)
    rows = np.arange(len(suspect))
    for start in range(0, len(thumbs), PICK_CHUNK):
        chunk = thumbs[start : start + PICK_CHUNK]
        o = np.stack([_grey(warp(t, small_matrix, (size[1], size[0]))) for t in chunk])[:, valid]
        o -= o.mean(axis=1, keepdims=True)  # a brightness change shifts all frames alike
        cost = np.abs(s[:, None, :] - o[None, :, :]).mean(axis=2)
        j = cost.argmin(axis=1)
        better = cost[rows, j] < best_cost
        best[better] = j[better] + start
        best_cost[better] = cost[rows, j][better]
    return best, best_cost


def _grey(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
