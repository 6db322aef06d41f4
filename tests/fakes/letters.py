"""What a print house checks on a letter PDF: it opens, and which text shows through the window.

``window_lines(pdf, page_size)`` reads the first page with pypdf and returns the
text runs whose left edge and cap height to baseline lie inside the envelope
window of ``render.pdf.LAYOUTS`` (what a window envelope would show).
"""

from __future__ import annotations

import io
from typing import Any

from pypdf import PdfReader

from tidings.render.pdf import LAYOUTS

PT_PER_MM = 72 / 25.4


def window_lines(pdf: bytes, page_size: str) -> list[str]:
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    height = float(page.mediabox.height)
    window = LAYOUTS[page_size]  # type: ignore[index]
    shown: list[str] = []

    def visit(text: str, cm: Any, tm: Any, font: Any, size: float) -> None:
        if not text.strip():
            return
        x = (tm[4] * cm[0] + tm[5] * cm[2] + cm[4]) / PT_PER_MM
        baseline = (height - (tm[4] * cm[1] + tm[5] * cm[3] + cm[5])) / PT_PER_MM
        cap_top = baseline - size * (abs(cm[3] * tm[3]) or 1.0) / PT_PER_MM
        if (window.window_left_mm <= x <= window.window_left_mm + window.window_width_mm
                and window.window_top_mm <= cap_top
                and baseline <= window.window_top_mm + window.window_height_mm):
            shown.append(text.strip())

    page.extract_text(visitor_text=visit)
    return shown


def all_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
