"""Bar charts as geometry for server-rendered inline SVG.

The page needs no JavaScript or chart library: this module turns a series into
rectangles, axis ticks and labels in SVG user units, and a Jinja macro draws
them. Kept pure so the layout is testable without a browser.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

WIDTH, HEIGHT = 720, 220
LEFT, RIGHT, TOP, BOTTOM = 48, 24, 10, 28
CHAR_WIDTH = 7.5  # of a tick label's digit at the chart's font size, in SVG units


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: int
    title: str


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    bars: list[Bar]
    ticks: list[Tick]
    labels: list[tuple[float, str]]  # (x of the label's centre, text) on the x axis
    baseline: float
    left: float
    right: float = RIGHT


def nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 2.5, 5 x 10^k that is at least ``value`` (axis maximum)."""
    if value <= 0:
        return 1
    scale = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if step * scale >= value:
            return max(1, math.ceil(step * scale))
    return 10 * scale  # pragma: no cover - the loop always returns


def bar_chart(points: list[tuple[str, int]], *, tooltip: list[str] | None = None,
              format_value=str, label_every: int | None = None) -> BarChart:  # noqa: ANN001
    """Lay out one bar per point, a y axis with 0, ½ and the maximum, every n-th x label.

    The plot starts right of the widest y-axis label, so "10.000.000" is never cut.
    """
    top = nice_ceiling(max((v for _, v in points), default=0))
    tick_values = [(f, v) for f, v in ((0.0, 0), (0.5, top / 2), (1.0, top)) if v == int(v)]
    tick_labels = [format_value(int(v)) for _, v in tick_values]
    left = max(LEFT, 12 + CHAR_WIDTH * max(len(t) for t in tick_labels))
    plot_w, plot_h = WIDTH - left - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(points), 1)
    gap = min(4.0, slot * 0.2)
    every = label_every or max(1, math.ceil(len(points) / 8))
    bars, labels = [], []
    for i, (label, value) in enumerate(points):
        h = plot_h * value / top
        x = left + i * slot + gap / 2
        title = tooltip[i] if tooltip else f"{label}: {format_value(value)}"
        bars.append(Bar(round(x, 2), round(TOP + plot_h - h, 2), round(slot - gap, 2),
                        round(h, 2), label, value, title))
        if (len(points) - 1 - i) % every == 0:  # always label the newest day
            labels.append((round(x + (slot - gap) / 2, 2), label))
    ticks = [Tick(round(TOP + plot_h * (1 - f), 2), text)
             for (f, _), text in zip(tick_values, tick_labels, strict=True)]
    return BarChart(WIDTH, HEIGHT, bars, ticks, labels, TOP + plot_h, left)
