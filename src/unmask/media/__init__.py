"""Open files safely: images (Pillow), video (PyAV); limits; frame sampling."""

from unmask.media.limits import Limits
from unmask.media.loader import open_media
from unmask.media.sampling import DEFAULT_SAMPLE_FRAMES
from unmask.media.types import Frame, ImageHeaders, Media, VideoContainer

__all__ = [
    "DEFAULT_SAMPLE_FRAMES",
    "Frame",
    "ImageHeaders",
    "Limits",
    "Media",
    "VideoContainer",
    "open_media",
]
