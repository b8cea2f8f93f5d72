"""Small inline SVG charts, generated here: no external libraries, every label escaped."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f")


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[float | None]


def _fmt_time(moment: datetime, span_s: float) -> str:
    return moment.strftime("%H:%M" if span_s <= 2 * 86400 else "%m-%d %H:%M" if span_s <= 14 * 86400 else "%Y-%m-%d")


def line_chart(
    times: Sequence[datetime],
    series: Sequence[Series],
    title: str,
    y_max: float = 100.0,
    width: int = 960,
    height: int = 260,
) -> str:
    """Lines over time; ``None`` values break the line. y from 0 to ``y_max``."""
    left, right, top, bottom = 40, 150, 24, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    n = max(len(times), 1)

    def x(i: int) -> float:
        return left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)

    def y(v: float) -> float:
        return top + plot_h * (1 - max(0.0, min(v, y_max)) / y_max)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}"><title>{escape(title)}</title>',
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="#fafafa" stroke="#ccc"/>',
    ]
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        ty = y(tick * y_max)
        parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{ty:.1f}" y2="{ty:.1f}" stroke="#e5e5e5"/>')
        parts.append(f'<text x="{left - 4}" y="{ty + 4:.1f}" text-anchor="end" font-size="10">{tick * y_max:g}</text>')
    if times:
        span = (times[-1] - times[0]).total_seconds()
        for i in sorted({0, (n - 1) // 2, n - 1}):
            parts.append(
                f'<text x="{x(i):.1f}" y="{height - 8}" text-anchor="middle" font-size="10">'
                f"{escape(_fmt_time(times[i], span))}</text>"
            )
    for index, s in enumerate(series):
        colour = PALETTE[index % len(PALETTE)]
        runs: list[list[str]] = [[]]
        for i, v in enumerate(s.values[:n]):
            if v is None:
                runs.append([])
                continue
            runs[-1].append(f"{x(i):.1f},{y(v):.1f}")
        for run in runs:
            if len(run) == 1:
                cx, cy = run[0].split(",")
                parts.append(f'<circle cx="{cx}" cy="{cy}" r="2.5" fill="{colour}"/>')
            elif run:
                parts.append(
                    f'<polyline fill="none" stroke="{colour}" stroke-width="1.8" points="{" ".join(run)}">'
                    f"<title>{escape(s.label)}</title></polyline>"
                )
        ly = top + 12 + 16 * index
        parts.append(f'<rect x="{left + plot_w + 10}" y="{ly - 8}" width="10" height="10" fill="{colour}"/>')
        parts.append(
            f'<text x="{left + plot_w + 24}" y="{ly + 1}" font-size="11">{escape(_truncate(s.label, 20))}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(labels: Sequence[str], values: Sequence[float], title: str, unit: str = "", width: int = 960) -> str:
    """Horizontal bars, one per label."""
    row_h, left, right = 20, 220, 80
    height = max(1, len(labels)) * row_h + 20
    top = max(values, default=0.0) or 1.0
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}"><title>{escape(title)}</title>'
    ]
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y0 = 10 + i * row_h
        w = (width - left - right) * max(value, 0.0) / top
        parts.append(
            f'<text x="{left - 6}" y="{y0 + 13}" text-anchor="end" font-size="11">{escape(_truncate(label, 34))}</text>'
        )
        parts.append(f'<rect x="{left}" y="{y0 + 3}" width="{w:.1f}" height="{row_h - 6}" fill="{PALETTE[0]}"/>')
        parts.append(f'<text x="{left + w + 4:.1f}" y="{y0 + 13}" font-size="11">{value:.0f}{escape(unit)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def sparkline(values: Sequence[float | None], y_max: float = 100.0, width: int = 160, height: int = 28) -> str:
    """A tiny inline trend for table cells."""
    n = len(values)
    if n == 0 or all(v is None for v in values):
        return ""
    points = []
    for i, v in enumerate(values):
        if v is None:
            continue
        px = 2 + (width - 4) * (i / (n - 1) if n > 1 else 0.5)
        py = 2 + (height - 4) * (1 - max(0.0, min(v, y_max)) / y_max)
        points.append(f"{px:.1f},{py:.1f}")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="spark" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}"><polyline fill="none" stroke="{PALETTE[0]}" stroke-width="1.5" '
        f'points="{" ".join(points)}"/></svg>'
    )


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
