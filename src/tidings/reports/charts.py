"""Bar charts as PNG bytes, drawn with Pillow (no plotting library needed).

``bar_chart(title, categories, series)`` draws grouped vertical bars: one
group per category (a day, a message type), one bar per series (sent,
delivered, bounced...), a y axis with round ticks, a legend. Text uses DejaVu
Sans when the system has it, else Pillow's own scalable font. Pure: the same
input gives the same bytes.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # Pillow is imported when a chart is drawn (~3 MB resident otherwise idle)
    from PIL import ImageDraw, ImageFont

    Font = ImageFont.FreeTypeFont | ImageFont.ImageFont

__all__ = ["PALETTE", "bar_chart"]

WIDTH_PX, HEIGHT_PX = 720, 360
MARGIN_LEFT_PX, MARGIN_RIGHT_PX, MARGIN_TOP_PX, MARGIN_BOTTOM_PX = 64, 16, 48, 72
FONT_PX, TITLE_PX = 12, 16
TICKS = 5
PALETTE = ("#2563eb", "#16a34a", "#dc2626", "#f59e0b", "#7c3aed", "#0891b2")
_FONT_FILES = ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
               "/usr/share/fonts/dejavu/DejaVuSans.ttf")


@lru_cache(maxsize=8)
def _font(size: int) -> Font:
    from PIL import ImageFont

    for path in _FONT_FILES:
        if Path(path).exists():
            return ImageFont.truetype(path, size)
    return ImageFont.load_default(size=size)


def _nice_top(value: float) -> float:
    """The smallest 1, 2 or 5 times a power of ten at or above ``value``."""
    if value <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    return float(next(step * power for step in (1, 2, 5, 10) if step * power >= value))


def _label(value: float) -> str:
    return f"{value:.0f}" if value >= 10 or value == int(value) else f"{value:.2f}"


def bar_chart(title: str, categories: Sequence[str],
              series: Mapping[str, Sequence[float]]) -> bytes:
    """A grouped bar chart as PNG bytes."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (WIDTH_PX, HEIGHT_PX), "white")
    draw = ImageDraw.Draw(image)
    draw.text((MARGIN_LEFT_PX, 12), title, fill="#111827", font=_font(TITLE_PX))
    top = _nice_top(max((v for values in series.values() for v in values), default=0.0))
    plot = (MARGIN_LEFT_PX, MARGIN_TOP_PX, WIDTH_PX - MARGIN_RIGHT_PX,
            HEIGHT_PX - MARGIN_BOTTOM_PX)
    _axes(draw, plot, top)
    _bars(draw, plot, top, categories, series)
    _legend(draw, list(series))
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _axes(draw: ImageDraw.ImageDraw, plot: tuple[int, int, int, int], top: float) -> None:
    left, upper, right, lower = plot
    for i in range(TICKS + 1):
        y = lower - (lower - upper) * i / TICKS
        draw.line((left, y, right, y), fill="#e5e7eb")
        text = _label(top * i / TICKS)
        width = draw.textlength(text, font=_font(FONT_PX))
        draw.text((left - 6 - width, y - FONT_PX / 2 - 1), text, fill="#374151",
                  font=_font(FONT_PX))
    draw.line((left, upper, left, lower), fill="#6b7280")
    draw.line((left, lower, right, lower), fill="#6b7280")


def _bars(draw: ImageDraw.ImageDraw, plot: tuple[int, int, int, int], top: float,
          categories: Sequence[str], series: Mapping[str, Sequence[float]]) -> None:
    left, upper, right, lower = plot
    if not categories:
        return
    group = (right - left) / len(categories)
    bar = max(1.0, group * 0.8 / max(len(series), 1))
    every = max(1, math.ceil(len(categories) * 60 / (right - left)))  # labels 60 px apart
    for i, category in enumerate(categories):
        start = left + group * i + group * 0.1
        for j, values in enumerate(series.values()):
            value = values[i] if i < len(values) else 0.0
            height = (lower - upper) * value / top
            x0 = start + bar * j
            draw.rectangle((x0, lower - height, x0 + bar - 1, lower),
                           fill=PALETTE[j % len(PALETTE)])
        if i % every == 0:
            text = str(category)[:12]
            width = draw.textlength(text, font=_font(FONT_PX))
            draw.text((start + group * 0.4 - width / 2, lower + 6), text, fill="#374151",
                      font=_font(FONT_PX))


def _legend(draw: ImageDraw.ImageDraw, names: Sequence[str]) -> None:
    x = MARGIN_LEFT_PX
    y = HEIGHT_PX - MARGIN_BOTTOM_PX + 30
    for j, name in enumerate(names):
        draw.rectangle((x, y + 2, x + 10, y + 12), fill=PALETTE[j % len(PALETTE)])
        draw.text((x + 14, y), name, fill="#111827", font=_font(FONT_PX))
        x += 24 + int(draw.textlength(name, font=_font(FONT_PX)))
