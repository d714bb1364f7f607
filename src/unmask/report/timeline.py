"""A video's face-manipulation score per sampled frame, drawn on the server as inline SVG.

Probabilities are drawn on an absolute 0-1 scale with the model's inconclusive band and
threshold behind them, so two timelines compare by eye and a reader sees at once which frames
crossed the line. No script and no external file: the chart is part of the page.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from markupsafe import Markup

from unmask.result import ScanResult

WIDTH, HEIGHT = 640, 236
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 12, 52
TRACK_COLOURS = ("#b3261e", "#1f5fa8", "#2e7d32", "#8e44ad", "#c75b00", "#00796b")


@dataclass(frozen=True)
class Timeline:
    track_id: int
    points: list[tuple[float, float]]
    """(time in seconds, calibrated probability) per sampled frame."""


@dataclass(frozen=True)
class TimelineChart:
    timelines: list[Timeline]
    duration_s: float
    threshold: float
    inconclusive_from: float

    def svg(self) -> Markup:
        return Markup(_draw(self))


def timeline_chart(result: ScanResult) -> TimelineChart | None:
    """The chart of a video whose faces the face model scored; None otherwise."""
    if result.media is None or result.media.kind != "video":
        return None
    timelines, threshold, low = [], None, None
    for finding in result.findings:
        if finding.code != "face_manipulation" or finding.track_id is None:
            continue
        frames = finding.evidence.get("frames") or []
        if not frames:
            continue
        low, threshold = (float(v) for v in finding.evidence["inconclusive_band"])
        points = [(float(f["time_s"]), float(f["probability"])) for f in frames]
        timelines.append(Timeline(finding.track_id, points))
    if not timelines or threshold is None or low is None:
        return None
    last = max(t for line in timelines for t, _ in line.points)
    duration = max(result.media.duration_s or 0.0, last, 1e-3)
    return TimelineChart(sorted(timelines, key=lambda t: t.track_id), duration, threshold, low)


def _draw(chart: TimelineChart) -> str:
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(t: float) -> float:
        return LEFT + plot_w * t / chart.duration_s

    def y(p: float) -> float:
        return TOP + plot_h * (1 - min(1.0, max(0.0, p)))

    tracks = ", ".join(f"face {t.track_id}" for t in chart.timelines)
    parts = [
        f'<svg class="timeline" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        'aria-labelledby="timeline-title timeline-desc" xmlns="http://www.w3.org/2000/svg">',
        '<title id="timeline-title">Face-manipulation probability per sampled frame</title>',
        f'<desc id="timeline-desc">{escape(tracks)} over {chart.duration_s:.1f} seconds; '
        f"the model calls a face likely manipulated from {chart.threshold:.2f} and "
        f"inconclusive from {chart.inconclusive_from:.2f}. The table below lists the values."
        "</desc>",
        # Inconclusive band and the likely-manipulated zone above the threshold.
        _rect(
            LEFT,
            y(chart.threshold),
            plot_w,
            y(chart.inconclusive_from) - y(chart.threshold),
            "#fff4d6",
        ),
        _rect(LEFT, y(1.0), plot_w, y(chart.threshold) - y(1.0), "#fde2df"),
        f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y(chart.threshold):.1f}" '
        f'y2="{y(chart.threshold):.1f}" stroke="#b3261e" stroke-dasharray="5 4"/>',
        f'<line x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{TOP + plot_h}" stroke="#555"/>',
        f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{TOP + plot_h}" y2="{TOP + plot_h}" '
        'stroke="#555"/>',
    ]
    for p in (0.0, 0.5, 1.0):
        parts.append(_text(LEFT - 6, y(p) + 4, f"{p:.1f}", "end"))
    axis_y = TOP + plot_h + 16
    parts.append(_text(LEFT, axis_y, "0 s", "start"))
    parts.append(_text(LEFT + plot_w, axis_y, f"{chart.duration_s:.1f} s", "end"))
    parts.append(_text(LEFT + plot_w / 2, axis_y, "time in the video", "middle"))
    parts.append(
        _text(LEFT + plot_w - 4, y(chart.threshold) - 4, "likely manipulated above", "end")
    )
    for n, line in enumerate(chart.timelines):
        colour = TRACK_COLOURS[n % len(TRACK_COLOURS)]
        legend_x = LEFT + 90 * n
        parts.append(
            f'<line x1="{legend_x}" x2="{legend_x + 18}" y1="{HEIGHT - 9}" y2="{HEIGHT - 9}" '
            f'stroke="{colour}" stroke-width="3"/>'
        )
        parts.append(_text(legend_x + 24, HEIGHT - 5, f"face {line.track_id}", "start"))
        coords = " ".join(f"{x(t):.1f},{y(p):.1f}" for t, p in line.points)
        parts.append(
            f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="2"/>'
        )
        for t, p in line.points:
            parts.append(
                f'<circle cx="{x(t):.1f}" cy="{y(p):.1f}" r="3" fill="{colour}">'
                f"<title>face {line.track_id}, {t:.1f} s: {p:.2f}</title></circle>"
            )
    parts.append("</svg>")
    return "".join(parts)


def _rect(x: float, y: float, w: float, h: float, fill: str) -> str:
    height = max(0.0, h)
    return f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{height:.1f}" fill="{fill}"/>'


def _text(x: float, y: float, text: str, anchor: str) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="12" fill="#333" '
        f'text-anchor="{anchor}">{escape(text)}</text>'
    )
