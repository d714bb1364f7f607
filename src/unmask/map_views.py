"""Forensic maps as a person reads them: with a legend and a scale, or blended over the picture.

A bare grey map says nothing to someone who has not read the detector's code: is bright good or
bad, and how bright is "a lot"? Each saved map therefore gets a panel under it with the check's
name, a scale bar from its darkest to its brightest value (with what those values are) and one
lines on what bright means, in the words of `MAP_TEXT`, which the report and the web page show
too. The overlay puts the map over the picture, so that a bright area can be found in the scene.
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
    """What the map shows and what a bright pixel means, and that it is not proof."""
    low: str = ""
    """What the darkest value of the scale is (empty for maps that are pictures with boxes)."""
    high: str = ""
    keys: tuple[tuple[tuple[int, int, int], str], ...] = ()
    """Colour swatches and what they mark, for maps drawn in colour."""


@dataclass(frozen=True)
class MapText:
    """What one kind of forensic map shows, in the words of every place that shows it: the
    report, the web page, and the legend under a map saved with `--maps`. `{quality}` and
    `{white}` are filled in from the finding (`map_text`)."""

    title: str
    caption: str
    """What the map shows, what bright means, and what else makes it bright (not proof)."""
    low: str = ""
    high: str = ""


MAP_TEXT: dict[str, MapText] = {
    "ela": MapText(
        "Error level at JPEG quality {quality}",
        "How much each area changed when the picture was saved again as JPEG at that quality; "
        "brighter means more change. Edges and fine texture always change: an area unlike "
        "similar surfaces around it is a place to look, not proof.",
        "0: unchanged",
        "{white}+ levels of 255",
    ),
    "noise": MapText(
        "Noise level by block (Immerkaer 1996)",
        "The camera noise estimated in each block; brighter means noisier. Pasted or generated "
        "areas can be smoother or noisier than the rest, but focus, exposure and texture "
        "change noise too.",
        "no noise",
        "2x the picture's median noise or more",
    ),
    "noise_residual": MapText(
        "Noise residual, amplified",
        "What is left after removing the picture's content: mostly sensor noise and "
        "compression; brighter means a larger residual. A region with a different grain is "
        "worth a closer look, not proof.",
        "0",
        "{white}+ levels of 255",
    ),
    "exif_thumbnail_difference": MapText(
        "EXIF preview against the picture, at the preview's size",
        "Where the small preview stored in the file's EXIF differs from the picture; brighter "
        "means more different. Small previews are compressed hard, so fine edges always "
        "differ a little.",
        "same",
        "64+ levels of 255 apart",  # the difference x 4 (`exif_thumbnail._difference_map`)
    ),
    "copy_move": MapText(
        "Regions that look copied within the picture (SIFT keypoint matching)",
        "The picture in grey with both ends of each region that looks copied within it boxed, "
        "matched points joined by lines. Repeated objects and patterns match too: check each "
        "pair of boxes by eye.",
    ),
}
"""One table for every view of the forensic maps, so that their words cannot drift apart."""


def map_text(map_name: str, finding: Finding) -> MapText | None:
    """The words for one of a finding's maps, with the numbers the finding used; None for maps
    that are not forensic maps (face heatmaps are overlays with their own caption)."""
    text = MAP_TEXT.get(map_name)
    if text is None:
        return None
    numbers: dict[str, object] = {"quality": finding.evidence.get("quality", "?")}
    if map_name == "ela":
        numbers["white"] = 256 // int(finding.evidence.get("map_gain", 16))  # x gain, capped
    elif map_name == "noise_residual":
        from unmask.detectors.forensics import NOISE_MAP_GAIN

        numbers["white"] = 255 // NOISE_MAP_GAIN  # the residual is capped here, then x gain
    return MapText(
        *(part.format(**numbers) for part in (text.title, text.caption, text.low, text.high))
    )


def legend_for(map_name: str, finding: Finding) -> Legend | None:
    """The legend of one of a finding's maps (`map_text`), with the copy-move map's colours."""
    text = map_text(map_name, finding)
    if text is None:
        return None
    keys = (
        ((ONE_END_COLOUR, "one end of a copied region"), (OTHER_END_COLOUR, "the other end"))
        if map_name == "copy_move"
        else ()
    )
    return Legend(text.title, text.caption, text.low, text.high, keys)


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
