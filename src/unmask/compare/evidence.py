"""Pictures a platform or the police can check: the suspect beside the aligned original, the
difference heatmap with the changed regions boxed, and for video a timeline of where each face
differs.

Blurred by default, like every picture unmask shows (`unmask.report.pictures.blurred`): the
person reading may be the one the material hurts. Boxes, heat and timeline are drawn on top of
the blurred picture, so they stay readable; `reveal=True` writes them over the sharp picture.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw

from unmask.compare.change import coverage_of, warp
from unmask.compare.result import Comparison
from unmask.report.pictures import PREVIEW_SIDE, blurred

KEY_FRAMES = 3
"""Video frames drawn (those where the suspect differs most)."""
BOX_COLOUR = (255, 220, 0)
GAP = 8
"""White pixels between the suspect and the original in the side-by-side picture."""
TIMELINE_WIDTH = 720
ROW_HEIGHT = 28


def write_evidence(comparison: Comparison, folder: Path, reveal: bool = False) -> list[str]:
    """Write the pictures into `folder` and return their paths (also added to
    `comparison.evidence`). Needs a comparison made with `keep_maps=True`; writes nothing for
    `no_common_source`."""
    maps = comparison.maps
    if maps is None or not maps.pairs:
        return []
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    boxes_work = [[v * maps.suspect.scale for v in region.box] for region in comparison.regions]
    ranked = sorted(maps.pairs, key=lambda p: -p.change.changed_share)
    for n, pair in enumerate(ranked[: KEY_FRAMES if maps.suspect.is_video else 1]):
        frame = maps.suspect.frames[pair.suspect_pos]
        suffix = f"_frame{frame.index}" if maps.suspect.is_video else ""
        suspect_rgb = frame.rgb
        original_rgb = maps.original.frames[pair.original_pos].rgb
        matrix = maps.registration.matrix
        aligned = warp(original_rgb, matrix, suspect_rgb.shape[:2])
        # Where the original does not reach (bars, margins, a crop's outside) stays black.
        aligned[~coverage_of(original_rgb.shape[:2], matrix, suspect_rgb.shape[:2], margin=0)] = 0
        in_frame = [
            b
            for b, region in zip(boxes_work, comparison.regions, strict=True)
            if not region.frames or frame.index in region.frames
        ]
        left, right = _picture(suspect_rgb, reveal), _picture(aligned, reveal)
        scale = left.width / suspect_rgb.shape[1]
        _boxes(left, in_frame, scale)
        _boxes(right, in_frame, scale)
        side = Image.new("RGB", (left.width * 2 + GAP, left.height), "white")
        side.paste(left, (0, 0))
        side.paste(right.resize(left.size), (left.width + GAP, 0))
        written.append(_save(side, folder / f"side_by_side{suffix}.png"))
        heat = _heatmap(suspect_rgb, pair.change.score, reveal)
        _boxes(heat, in_frame, heat.width / suspect_rgb.shape[1])
        written.append(_save(heat, folder / f"heatmap{suffix}.png"))
        if n == 0 and not maps.suspect.is_video:
            break
    if maps.suspect.is_video:
        written.append(_save(_timeline(comparison), folder / "timeline.png"))
    comparison.evidence = [str(p) for p in written]
    return comparison.evidence


def _picture(rgb: np.ndarray, reveal: bool) -> Image.Image:
    if not reveal:
        return blurred(rgb).convert("RGB")
    image = Image.fromarray(rgb)
    image.thumbnail((PREVIEW_SIDE, PREVIEW_SIDE))
    return image


def _heatmap(rgb: np.ndarray, score: np.ndarray, reveal: bool) -> Image.Image:
    """The picture, darkened, with the score as heat: transparent below half the threshold,
    yellow at the threshold, red at twice it."""
    base = np.asarray(_picture(rgb, reveal).resize((rgb.shape[1], rgb.shape[0]))).astype(np.float32)
    base *= 0.5
    level = np.clip(score / 2.0, 0.0, 1.0)
    heat = cv2.applyColorMap((level * 255).astype(np.uint8), cv2.COLORMAP_INFERNO)[..., ::-1]
    alpha = np.clip((score - 0.5) / 0.5, 0.0, 1.0)[..., None] * 0.8
    out = base * (1 - alpha) + heat.astype(np.float32) * alpha
    image = Image.fromarray(out.clip(0, 255).astype(np.uint8))
    image.thumbnail((PREVIEW_SIDE, PREVIEW_SIDE))
    return image


def _boxes(image: Image.Image, boxes: list[list[float]], scale: float) -> None:
    draw = ImageDraw.Draw(image)
    width = max(2, round(max(image.size) / 240))
    for x0, y0, x1, y1 in boxes:
        draw.rectangle(
            [x0 * scale, y0 * scale, x1 * scale, y1 * scale], outline=BOX_COLOUR, width=width
        )


def _timeline(comparison: Comparison) -> Image.Image:
    """One row per region: the sampled frames as ticks, filled where that region differs."""
    maps = comparison.maps
    times = [maps.suspect.frames[p.suspect_pos].time_s for p in maps.pairs]
    end = max(times[-1], 1e-3)
    rows = comparison.regions or []
    height = ROW_HEIGHT * (len(rows) + 1) + 10
    image = Image.new("RGB", (TIMELINE_WIDTH, height), "white")
    draw = ImageDraw.Draw(image)
    left = 120
    span = TIMELINE_WIDTH - left - 10

    def x(t: float) -> float:
        return left + span * t / end

    draw.text((4, 6), "sampled", fill="black")
    for t in times:
        draw.line([x(t), 8, x(t), ROW_HEIGHT - 4], fill=(120, 120, 120))
    for r, region in enumerate(rows, start=1):
        top = r * ROW_HEIGHT + 4
        label = f"face {region.track_id}" if region.kind == "face" else f"area {r}"
        draw.text((4, top + 4), label, fill="black")
        draw.rectangle([left, top, left + span, top + ROW_HEIGHT - 8], outline=(180, 180, 180))
        differing = set(region.frames)
        for pair in maps.pairs:
            frame = maps.suspect.frames[pair.suspect_pos]
            if frame.index in differing:
                draw.rectangle(
                    [x(frame.time_s) - 3, top + 1, x(frame.time_s) + 3, top + ROW_HEIGHT - 9],
                    fill=(220, 40, 30),
                )
    draw.text((left, height - 12), f"0 s - {end:.1f} s", fill="black")
    return image


def _save(image: Image.Image, path: Path) -> Path:
    image.save(path)
    return path
