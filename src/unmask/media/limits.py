"""Limits that keep hostile or huge files from exhausting memory or time."""

from __future__ import annotations

from dataclasses import dataclass

# Pillow's own bomb warning starts at 89.5 MP and refuses at twice that; a 100 MP cap admits
# every current phone and DSLR photo (the largest common sensors give ~61 MP) and refuses
# decompression bombs, which are built to expand far beyond that.
DEFAULT_MAX_PIXELS = 100_000_000
DEFAULT_MAX_FILE_BYTES = 2 * 1024**3
DEFAULT_MAX_IMAGE_FILE_BYTES = 200 * 1024**2
DEFAULT_MAX_DURATION_S = 4 * 60 * 60.0
DEFAULT_MAX_FRAMES = 2_000
DEFAULT_TIME_BUDGET_S = 300.0
DEFAULT_SAMPLE_FRAMES = 32
"""Frames sampled evenly from a video unless --frames or --fps says otherwise (the DFDC/SBI
default). Here rather than in `sampling`, so that option defaults do not import NumPy."""
DEFAULT_MAX_ANIMATION_PIXELS = 4_000_000_000
"""Frames x canvas pixels decoded for one animated GIF, WebP or PNG: every frame is composited
on the whole canvas. Pillow's GIF decoder needed ~4 ns a canvas pixel on the 2-core machine
of BENCHMARKS.md, so this is ~16 s of decoding; it admits 300 frames of 4K (2.5 billion) and
refuses 3,000 frames on a 4000 x 4000 canvas (48 billion, a 69 KB file)."""


@dataclass(frozen=True)
class Limits:
    """Per-file limits. Each can be changed from the command line (see `unmask scan --help`)."""

    max_pixels: int = DEFAULT_MAX_PIXELS
    """Largest width x height decoded, for an image or a video frame."""
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    """Largest file read at all."""
    max_image_file_bytes: int = DEFAULT_MAX_IMAGE_FILE_BYTES
    """Largest image file (images are read into memory whole)."""
    max_duration_s: float = DEFAULT_MAX_DURATION_S
    """Longest video scanned."""
    max_frames: int = DEFAULT_MAX_FRAMES
    """Most frames sampled from one video (also caps --fps on long videos)."""
    time_budget_s: float = DEFAULT_TIME_BUDGET_S
    """Wall-clock seconds one file may take before it is abandoned with an error entry."""
    max_animation_pixels: int = DEFAULT_MAX_ANIMATION_PIXELS
    """Most frames x canvas pixels decoded for one animated image."""
