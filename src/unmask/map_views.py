"""Forensic maps as a person reads them: with a legend and a scale, or blended over the picture.

A bare grey map says nothing to someone who has not read the detector's code: is bright good or
bad, and how bright is "a lot"? Each saved map therefore gets a panel under it with the check's
name, a scale bar from its darkest to its brightest value (with what those values are) and one
line on what bright means, in the words of `unmask.report.pictures.MAP_TEXT`. The overlay puts the
map over the picture, so that a bright area can be found in the scene.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from unmask.result import Finding

PANEL_MIN_WIDTH = 480
"""Narrower maps are centred on a canvas this wide, so the legend's text stays readable."""
FONT_SIZE = 15
BAR_HEIGHT = 14
MARGIN = 10
OVERLAY_OPACITY = 0.65
"""How much of the colour a fully bright map pixel puts over the picture; dark map pixels
leave the picture as it is."""
ONE_END_COLOUR = (255, 60, 60)
OTHER_END_COLOUR = (0, 220, 255)
"""Box colours of the copy-move map: where a region was copied from, and where it shows again."""


@dataclass(frozen=True)
class Legend:
    title: str
    """The check and its setting, e.g. "Error level at JPEG quality 90"."""
    bright_means: str
    """One line: what a bright pixel means, and that it is not proof."""
    low: str = ""
    """What the darkest value of the scale is (empty for maps that are pictures with boxes)."""
    high: str = ""
    keys: tuple[tuple[tuple[int, int, int], str], ...] = ()
    """Colour swatches and what they mark, for maps drawn in colour."""


def legend_for(map_name: str, finding: Finding) -> Legend | None:
    """The legend of one of a finding's maps, with the numbers the finding used; None for maps
    that are not forensic maps (face heatmaps are overlays with their own caption)."""
    evidence = finding.evidence
    if map_name == "ela":
        quality = evidence.get("quality", "?")
        gain = int(evidence.get("map_gain", 16))
        return Legend(
            title=f"Error level at JPEG quality {quality}",
            bright_means=(
                "brighter = changes more when saved again at that quality: edges and texture "
                "always do; an area unlike similar surfaces around it is a place to look, "
                "not proof"
            ),
            low="0: unchanged",
            high=f"{256 // gain}+ levels of 255",
        )
    if map_name == "noise":
        return Legend(
            title="Noise level by block (Immerkaer 1996)",
            bright_means=(
                "brighter = noisier block; pasted or generated areas can differ, but focus, "
                "exposure and texture change noise too"
            ),
            low="no noise",
            high="2x the picture's median noise or more",
        )
    if map_name == "noise_residual":
        from unmask.detectors.forensics import NOISE_MAP_GAIN as gain

        return Legend(
            title="Noise residual, amplified",
            bright_means=(
                "what is left after removing the picture's content: sensor noise and "
                "compression; a region with a different grain is worth a closer look"
            ),
            low="0",
            high=f"{256 // gain}+ levels of 255",
        )
    if map_name == "exif_thumbnail_difference":
        return Legend(
            title="EXIF preview against the picture, at the preview's size",
            bright_means=(
                "brighter = the camera's embedded preview differs from the picture there; "
                "small previews are compressed hard, so fine edges always differ a little"
            ),
            low="same",
            high="64+ levels of 255 apart",
        )
    if map_name == "copy_move":
        return Legend(
            title="Regions that look copied within the picture (SIFT keypoint matching)",
            bright_means=(
                "lines join matched points; repeated objects and patterns also match, "
                "so check each pair of boxes by eye"
            ),
            keys=(
                (ONE_END_COLOUR, "one end of a copied region"),
                (OTHER_END_COLOUR, "the other end"),
            ),
        )
    return None


def with_legend(
    picture: np.ndarray | Image.Image, legend: Legend, heat: bool = False
) -> Image.Image:
    """The map with the legend panel under it (RGB); `heat`: the scale bar in the overlay's
    colours rather than grey."""
    image = _rgb(picture)
    font = ImageFont.load_default(size=FONT_SIZE)
    width = max(PANEL_MIN_WIDTH, image.width)
    line_height = FONT_SIZE + 5
    chars = max(20, int((width - 2 * MARGIN) / (FONT_SIZE * 0.52)))
    meaning = legend.bright_means.replace("brighter", "redder", 1) if heat else legend.bright_means
    lines = textwrap.wrap(meaning, chars)
    title_lines = textwrap.wrap(legend.title, chars)
    scale_rows = 2 if legend.low or legend.high else 0
    key_rows = 1 if legend.keys else 0
    panel = MARGIN * 2 + line_height * (len(title_lines) + len(lines) + key_rows)
    panel += (BAR_HEIGHT + line_height + 4) if scale_rows else 0
    canvas = Image.new("RGB", (width, image.height + panel), (255, 255, 255))
    canvas.paste(image, ((width - image.width) // 2, 0))
    draw = ImageDraw.Draw(canvas)
    y = image.height + MARGIN
    for line in title_lines:
        draw.text((MARGIN, y), line, fill=(0, 0, 0), font=font, stroke_width=0)
        y += line_height
    if scale_rows:
        bar_width = width - 2 * MARGIN
        ramp = np.repeat(np.linspace(0, 255, bar_width).astype(np.uint8)[None], BAR_HEIGHT, 0)
        if heat:
            bar = overlay(np.full((*ramp.shape, 3), 128, dtype=np.uint8), ramp)
        else:
            bar = Image.fromarray(ramp, "L").convert("RGB")
        canvas.paste(bar, (MARGIN, y))
        draw.rectangle((MARGIN, y, MARGIN + bar_width - 1, y + BAR_HEIGHT - 1), outline=(0, 0, 0))
        y += BAR_HEIGHT + 2
        draw.text((MARGIN, y), legend.low, fill=(0, 0, 0), font=font)
        right = draw.textlength(legend.high, font=font)
        draw.text((width - MARGIN - right, y), legend.high, fill=(0, 0, 0), font=font)
        y += line_height + 2
    if legend.keys:
        x = MARGIN
        for colour, words in legend.keys:
            draw.rectangle((x, y + 3, x + 12, y + 15), fill=colour, outline=(0, 0, 0))
            draw.text((x + 18, y), words, fill=(0, 0, 0), font=font)
            x += 30 + int(draw.textlength(words, font=font))
        y += line_height
    for line in lines:
        draw.text((MARGIN, y), line, fill=(60, 60, 60), font=font)
        y += line_height
    return canvas


def overlay(picture: np.ndarray, grey_map: np.ndarray) -> Image.Image:
    """A grey map blended over the picture in grey: bright map areas tinted from yellow to red,
    dark ones leaving the picture as it is. The picture is resized to the map's size and shown
    in grey, so that the tint is not lost in the picture's own colours."""
    level = np.asarray(grey_map, dtype=np.float32) / 255.0
    height, width = level.shape
    photo = _rgb(picture).resize((width, height), Image.Resampling.BOX).convert("L").convert("RGB")
    base = np.asarray(photo, dtype=np.float32)
    # Red at full level, through orange to yellow at lower levels (a readable heat scale).
    tint = np.stack([np.full_like(level, 255.0), 255.0 * (1.0 - level), np.zeros_like(level)], -1)
    weight = (OVERLAY_OPACITY * level)[..., None]
    blended = base * (1.0 - weight) + tint * weight
    return Image.fromarray(np.clip(blended, 0, 255).astype(np.uint8), "RGB")


def _rgb(picture: np.ndarray | Image.Image) -> Image.Image:
    image = (
        picture
        if isinstance(picture, Image.Image)
        else Image.fromarray(np.asarray(picture, dtype=np.uint8))
    )
    return image if image.mode == "RGB" else image.convert("RGB")
