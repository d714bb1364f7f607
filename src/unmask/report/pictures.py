"""Pictures shown to a person (in a report or on a web page): blurred unless she asks.

A report is read by the person the media hurts, so no picture of it is shown sharp unless she
asks (`--reveal`): previews and every map that shows the picture (heatmap overlays, error-level
and noise maps) are pixelated and blurred until shapes and faces are no longer recognisable.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageFilter

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


MAP_TEXT: dict[str, tuple[str, str]] = {
    "ela": (
        "Error level (ELA)",
        "How much each area changed when the picture was saved again as JPEG (at quality 90 "
        "unless the scan chose another); "
        "brighter means more change. Edges and fine texture are always bright: look for a "
        "region that differs from similar surfaces around it, and read it as a place to look, "
        "not as proof.",
    ),
    "noise": (
        "Noise level by block",
        "The camera noise estimated in each block; brighter means noisier. Pasted or generated "
        "areas can be smoother or noisier than the rest, but focus, exposure and texture change "
        "noise too.",
    ),
    "noise_residual": (
        "Noise residual",
        "What remains after removing the picture's content: mostly sensor noise and compression. "
        "A region with a different grain can be worth a closer look.",
    ),
    "copy_move": (
        "Regions that look copied",
        "The picture in grey with both ends of each region that looks copied within it boxed, "
        "matched points joined by lines. Repeated objects and patterns match too: check each "
        "pair of boxes by eye.",
    ),
    "exif_thumbnail_difference": (
        "EXIF preview against the picture",
        "Where the small preview the camera embedded differs from the picture, at the preview's "
        "size; brighter means more different. Fine edges always differ a little.",
    ),
}
"""What each detector map shows, for a person reading it: (title, caption)."""


def describe_map(map_name: str, track_id: int | None = None) -> tuple[str, str]:
    """Title and caption of a map, in the same words on web pages and in reports."""
    if map_name.startswith("heatmap_track") and track_id is not None:
        return (
            f"Face {track_id}: where the model saw signs of blending",
            "The face the model scored highest, overlaid with its heatmap: red areas weighed "
            "most towards 'manipulated', blue least.",
        )
    return MAP_TEXT.get(map_name, (map_name.replace("_", " "), ""))
