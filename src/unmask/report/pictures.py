"""The pictures of a report: blurred previews, maps, and the video timeline chart.

A report is read by the person the media hurts, so no picture of it is shown sharp unless she
asks (`--reveal`): previews and every map that shows the picture (heatmap overlays, error-level
and noise maps) are pixelated and blurred until shapes and faces are no longer recognisable.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

import numpy as np
from PIL import Image, ImageFilter

from unmask.result import ScanResult

BLUR_CELLS = 16
"""The long side is first reduced to this many pixels: at 16 a face filling the frame is a few
blocks of colour, which keeps the overall colour (to recognise which file it is) and nothing
else."""
PREVIEW_SIDE = 480
"""Long side of a preview in the report, in pixels."""


def blurred(rgb: np.ndarray) -> Image.Image:
    """A picture reduced to blurred blocks of colour, at preview size."""
    image = Image.fromarray(np.asarray(rgb, dtype=np.uint8))
    if image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    w, h = image.size
    scale = BLUR_CELLS / max(w, h)
    small = image.resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.BOX)
    out_scale = min(1.0, PREVIEW_SIDE / max(w, h)) if max(w, h) > PREVIEW_SIDE else 1.0
    size = (max(1, round(w * out_scale)), max(1, round(h * out_scale)))
    return small.resize(size, Image.BILINEAR).filter(ImageFilter.GaussianBlur(max(size) / 30))


def sharp(rgb: np.ndarray) -> Image.Image:
    """The picture as it is, at most preview size."""
    image = Image.fromarray(np.asarray(rgb, dtype=np.uint8))
    image.thumbnail((PREVIEW_SIDE, PREVIEW_SIDE))
    return image


@dataclass(frozen=True)
class TimelineSeries:
    label: str
    times: list[float]
    values: list[float]


def face_timelines(result: ScanResult) -> list[TimelineSeries]:
    """Per face track, the face model's probability at each sampled frame."""
    series = []
    for finding in result.findings:
        timeline = finding.evidence.get("frames") if finding.code == "face_manipulation" else None
        if timeline:
            series.append(
                TimelineSeries(
                    f"face {finding.track_id}",
                    [float(p["time_s"]) for p in timeline],
                    [float(p["probability"]) for p in timeline],
                )
            )
    return series


TRACK_COLOURS = ("#b2182b", "#2166ac", "#1b7837", "#762a83", "#e08214", "#35978f")


def timeline_svg(result: ScanResult, threshold: float | None) -> str | None:
    """An inline SVG chart for a video: when each face was seen, and (when a face model ran) its
    probability of manipulation at each sampled frame, with the model's threshold dashed."""
    media = result.media
    if media is None or media.kind != "video" or not media.sample_times_s:
        return None
    width, height, left, right, top = 640, 220, 48, 12, 12
    plot_h = 140
    duration = max(media.duration_s or 0.0, max(media.sample_times_s), 1e-6)

    def x(t: float) -> float:
        return left + (width - left - right) * t / duration

    def y(p: float) -> float:
        return top + plot_h * (1.0 - p)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="Timeline chart">',
        f'<rect x="{left}" y="{top}" width="{width - left - right}" height="{plot_h}" '
        'fill="#fafafa" stroke="#999"/>',
    ]
    for p in (0.0, 0.5, 1.0):
        parts.append(
            f'<text x="{left - 6}" y="{y(p) + 4:.1f}" font-size="11" text-anchor="end">{p:.1f}'
            "</text>"
        )
    series = face_timelines(result)
    if threshold is not None and series:
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y(threshold):.1f}" '
            f'y2="{y(threshold):.1f}" stroke="#444" stroke-dasharray="5,4"/>'
            f'<text x="{width - right - 4}" y="{y(threshold) - 4:.1f}" font-size="11" '
            f'text-anchor="end">threshold {threshold:.2f}</text>'
        )
    for i, line in enumerate(series):
        colour = TRACK_COLOURS[i % len(TRACK_COLOURS)]
        pairs = list(zip(line.times, line.values, strict=True))
        points = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in pairs)
        parts.append(
            f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"/>'
        )
        for t, v in pairs:
            parts.append(f'<circle cx="{x(t):.1f}" cy="{y(v):.1f}" r="3" fill="{colour}"/>')
    # Below the plot: one row per face showing the sampled frames it was found in.
    row_y = top + plot_h + 10
    for i, track in enumerate(result.faces[:4]):
        colour = TRACK_COLOURS[i % len(TRACK_COLOURS)]
        parts.append(
            f'<text x="{left - 6}" y="{row_y + 8}" font-size="10" text-anchor="end">'
            f"face {track.track_id}</text>"
        )
        for d in track.detections:
            parts.append(
                f'<rect x="{x(d.time_s) - 2:.1f}" y="{row_y}" width="4" height="9" '
                f'fill="{colour}"/>'
            )
        row_y += 11
    for t in media.sample_times_s:
        parts.append(
            f'<line x1="{x(t):.1f}" x2="{x(t):.1f}" y1="{top + plot_h}" y2="{top + plot_h + 4}" '
            'stroke="#999"/>'
        )
    parts.append(
        f'<text x="{left}" y="{height - 2}" font-size="11">0 s</text>'
        f'<text x="{width - right}" y="{height - 2}" font-size="11" text-anchor="end">'
        f"{duration:.1f} s</text>"
    )
    if not series:
        parts.append(
            f'<text x="{left + 10}" y="{top + 24}" font-size="12" fill="#555">'
            f"{escape('No face-manipulation score: no face model ran or no face was found.')}"
            "</text>"
        )
    parts.append("</svg>")
    return "".join(parts)
