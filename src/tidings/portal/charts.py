"""Charts as inline SVG, drawn on the server: no script, no plotting library.

``bars(categories, series)`` draws grouped vertical bars (one group per category, one bar per
series); ``lines(categories, series)`` draws one polyline per series over the same axis. Both
scale to a round top value, label the y axis with ``TICKS`` steps, carry a ``<title>`` and an
``aria-label`` for screen readers (the page shows the same figures as a table), and return
``Markup`` ready for a template. A ``None`` value is a gap. Pure: same input, same SVG.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from markupsafe import Markup, escape

__all__ = ["PALETTE", "Series", "bars", "legend", "lines", "nice_top"]

PALETTE = ("#1f4fbf", "#17803d", "#c2410c", "#7c3aed", "#0e7490", "#b91c1c")
WIDTH, HEIGHT = 480, 280
LEFT, RIGHT, TOP, BOTTOM = 46, 10, 14, 64
CHAR_PX = 7.5  # average width of a label character at the chart's font size
TICKS = 4
LABEL_CHARS = 14
Series = tuple[str, Sequence[float | None]]


def nice_top(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 times a power of ten at or above ``value``."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power:
            return float(step * power)
    return float(10 * power)


def _label(value: float, unit: str) -> str:
    return f"{value:.4g}" + unit


def _short(text: str) -> str:
    return text if len(text) <= LABEL_CHARS else text[:LABEL_CHARS - 1] + "\u2026"


def _frame(title: str, top: float, unit: str, categories: Sequence[str], slot: float) -> list[str]:
    plot_h = HEIGHT - TOP - BOTTOM
    out = [f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
           f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
           f"<title>{escape(title)}</title>"]
    for i in range(TICKS + 1):
        y = TOP + plot_h - plot_h * i / TICKS
        out.append(f'<line class="grid-line" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" '
                   f'y2="{y:.1f}"/><text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
                   f"{escape(_label(top * i / TICKS, unit))}</text>")
    out.append(f'<line class="axis" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{TOP + plot_h}" '
               f'y2="{TOP + plot_h}"/>')
    labels = [_short(name) for name in categories]
    tilt = max((len(label) for label in labels), default=0) * CHAR_PX > slot
    for i, (name, label) in enumerate(zip(categories, labels, strict=True)):
        x, y = LEFT + slot * (i + 0.5), TOP + plot_h + 16
        turn = f' transform="rotate(-35 {x:.1f} {y})"' if tilt else ""
        out.append(f'<text x="{x:.1f}" y="{y}" text-anchor="{"end" if tilt else "middle"}"'
                   f"{turn}><title>{escape(name)}</title>{escape(label)}</text>")
    return out


def _top(series: Sequence[Series], fixed: float | None) -> float:
    """The axis top: ``fixed``, or round; for counts, a whole step per tick."""
    if fixed is not None:
        return fixed
    values = [v for _, vs in series for v in vs if v is not None]
    highest = max(values, default=0.0)
    if all(float(v).is_integer() for v in values):
        return max(1.0, nice_top(highest / TICKS)) * TICKS
    return nice_top(highest)


def _colour(name: str, index: int, colours: Mapping[str, str] | None) -> str:
    return (colours or {}).get(name) or PALETTE[index % len(PALETTE)]


def bars(title: str, categories: Sequence[str], series: Sequence[Series], unit: str = "",
         top: float | None = None, colours: Mapping[str, str] | None = None) -> Markup:
    scale = _top(series, top)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(categories), 1)
    bar_w = slot * 0.8 / max(len(series), 1)
    out = _frame(title, scale, unit, categories, slot)
    for s, (name, values) in enumerate(series):
        colour = _colour(name, s, colours)
        for i, value in enumerate(values):
            if value is None:
                continue
            h = plot_h * min(value, scale) / scale
            x = LEFT + slot * i + slot * 0.1 + bar_w * s
            out.append(f'<rect x="{x:.1f}" y="{TOP + plot_h - h:.1f}" width="{bar_w:.1f}" '
                       f'height="{h:.1f}" fill="{colour}"><title>{escape(name)}, '
                       f"{escape(categories[i])}: {escape(_label(value, unit))}</title></rect>")
    out.append("</svg>")
    return Markup("".join(out))  # noqa: S704 - every text above is escaped


def lines(title: str, categories: Sequence[str], series: Sequence[Series], unit: str = "",
          top: float | None = None, colours: Mapping[str, str] | None = None) -> Markup:
    scale = _top(series, top)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(categories), 1)
    out = _frame(title, scale, unit, categories, slot)
    for s, (name, values) in enumerate(series):
        colour = _colour(name, s, colours)
        points = [(LEFT + slot * (i + 0.5), TOP + plot_h - plot_h * min(v, scale) / scale, v, i)
                  for i, v in enumerate(values) if v is not None]
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _, _ in points)
            out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" '
                       f'stroke-width="2.5"/>')
        for x, y, value, i in points:
            out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{colour}"><title>'
                       f"{escape(name)}, {escape(categories[i])}: "
                       f"{escape(_label(value, unit))}</title></circle>")
    out.append("</svg>")
    return Markup("".join(out))  # noqa: S704 - every text above is escaped


def legend(names: Sequence[str], colours: Mapping[str, str] | None = None) -> Markup:
    items = "".join(f'<li><span class="swatch" style="background:{_colour(name, i, colours)}">'
                    f"</span>{escape(name)}</li>" for i, name in enumerate(names))
    return Markup(f'<ul class="legend">{items}</ul>')  # noqa: S704 - names are escaped
