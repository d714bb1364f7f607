"""Pictures shown to a person (in a report or on a web page): blurred unless she asks.

A report is read by the person the media hurts, so no picture of it is shown sharp unless she
asks (`--reveal`): previews and every map that shows the picture (heatmap overlays, error-level
and noise maps) are pixelated and blurred until shapes and faces are no longer recognisable.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageFilter

from unmask.map_views import map_text
from unmask.result import Finding

BLUR_CELLS = 16
"""The long side is first reduced to this many pixels: at 16 a face filling the frame is a few
blocks of colour, which keeps the overall colour (to recognise which file it is) and nothing
else."""
PREVIEW_SIDE = 480
"""Long side of a preview in the report, in pixels."""


def blurred(picture: np.ndarray | Image.Image) -> Image.Image:
    """A picture reduced to blurred blocks of colour, at preview size. No detail survives in
    the result to recover, whatever a viewer does with it."""
    image = (
        picture
        if isinstance(picture, Image.Image)
        else Image.fromarray(np.asarray(picture, dtype=np.uint8))
    )
    if image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    w, h = image.size
    scale = BLUR_CELLS / max(w, h)
    small = image.resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.Resampling.BOX)
    out_scale = min(1.0, PREVIEW_SIDE / max(w, h)) if max(w, h) > PREVIEW_SIDE else 1.0
    size = (max(1, round(w * out_scale)), max(1, round(h * out_scale)))
    return small.resize(size, Image.Resampling.BILINEAR).filter(
        ImageFilter.GaussianBlur(max(size) / 30)
    )


def sharp(rgb: np.ndarray) -> Image.Image:
    """The picture as it is, at most preview size."""
    image = Image.fromarray(np.asarray(rgb, dtype=np.uint8))
    image.thumbnail((PREVIEW_SIDE, PREVIEW_SIDE))
    return image


PREVIEW_CAPTION = {  # the picture `unmask.scan.preview` picks
    "image": "The picture.",
    "video": "The sampled frame where the face model scored a face highest (the middle sampled "
    "frame when no face was scored).",
}


def describe_map(map_name: str, finding: Finding) -> tuple[str, str]:
    """Title and caption of one of a finding's maps, in the same words on web pages, in
    reports and under saved maps (`unmask.map_views.MAP_TEXT`)."""
    if map_name.startswith("heatmap_track") and finding.track_id is not None:
        return (
            f"Face {finding.track_id}: where the model saw signs of blending",
            "The face the model scored highest, overlaid with its heatmap: red areas weighed "
            "most towards 'manipulated', blue least.",
        )
    text = map_text(map_name, finding)
    return (map_name.replace("_", " "), "") if text is None else (text.title, text.caption)
