"""Open files safely: images (Pillow), video (PyAV); limits; frame sampling.

The names below are imported on first use (PEP 562), so that `unmask.media.limits` and the
command line's option defaults do not load Pillow, PyAV and NumPy."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from unmask.media.limits import DEFAULT_SAMPLE_FRAMES, Limits
    from unmask.media.loader import open_media
    from unmask.media.types import Frame, FrameTap, ImageHeaders, Media, VideoContainer

_WHERE = {
    "DEFAULT_SAMPLE_FRAMES": "unmask.media.limits",
    "Frame": "unmask.media.types",
    "FrameTap": "unmask.media.types",
    "ImageHeaders": "unmask.media.types",
    "Limits": "unmask.media.limits",
    "Media": "unmask.media.types",
    "VideoContainer": "unmask.media.types",
    "open_media": "unmask.media.loader",
}

__all__ = [
    "DEFAULT_SAMPLE_FRAMES",
    "Frame",
    "FrameTap",
    "ImageHeaders",
    "Limits",
    "Media",
    "VideoContainer",
    "open_media",
]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'unmask.media' has no attribute {name!r}")
    value = getattr(importlib.import_module(_WHERE[name]), name)
    globals()[name] = value
    return value
