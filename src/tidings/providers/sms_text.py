"""How an SMS body is encoded and how many segments (billed messages) it takes.

A body that uses only the GSM 03.38 (3GPP TS 23.038) default alphabet and its
extension table goes as GSM-7: 160 septets in one message, 153 per segment of a
concatenated one (the user data header takes 7). An extension character
(``^ { } \\ [ ~ ] | €`` and form feed) is sent as ESC plus a septet, so it counts
2. Any other character makes the whole body UCS-2 (UTF-16 on the wire): 70 units
in one message, 67 per segment; a character outside the Basic Multilingual
Plane (most emoji) is a surrogate pair and counts 2.

Segments are packed greedily as handsets and SMSCs do: an escape sequence or a
surrogate pair is never split across two segments, so a body can need one
segment more than ``ceil(units / 153)`` suggests. An empty body is one segment.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from tidings.providers import errors

__all__ = [
    "GSM7_BASIC",
    "GSM7_EXTENSION",
    "Encoding",
    "SmsInfo",
    "SmsText",
]

Encoding = Literal["GSM-7", "UCS-2"]

GSM_SINGLE_SEPTETS = 160
GSM_SEGMENT_SEPTETS = 153
UCS2_SINGLE_UNITS = 70
UCS2_SEGMENT_UNITS = 67
DEFAULT_MAX_SEGMENTS = 10
_BMP_LIMIT = 0xFFFF

# 3GPP TS 23.038 section 6.2.1, positions 0x00-0x7F in order, without 0x1B (ESC).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ"  # 0x00-0x1A
    "ÆæßÉ"  # 0x1C-0x1F
    " !\"#¤%&'()*+,-./0123456789:;<=>?"  # 0x20-0x3F
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"  # 0x40-0x5F
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"  # 0x60-0x7F
)
# Section 6.2.1.1, the default extension table: form feed, ^ { } \ [ ~ ] | €.
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")


@dataclass(frozen=True, slots=True)
class SmsInfo:
    """``units`` are septets for GSM-7 and UTF-16 code units for UCS-2."""

    encoding: Encoding
    segments: int
    units: int


class SmsText:
    """Analyses SMS bodies against a segment limit (a per-provider setting)."""

    def __init__(self, max_segments: int | None = DEFAULT_MAX_SEGMENTS) -> None:
        self.max_segments = max_segments

    def analyse(self, body: str) -> SmsInfo:
        """Encoding, segments and units of ``body``; ``SmsTooLong`` over the limit."""
        info = _gsm7(body) if _is_gsm7(body) else _ucs2(body)
        if self.max_segments is not None and info.segments > self.max_segments:
            raise errors.SmsTooLong(info, self.max_segments)
        return info


def _is_gsm7(body: str) -> bool:
    return all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in body)


def _gsm7(body: str) -> SmsInfo:
    units = [2 if c in GSM7_EXTENSION else 1 for c in body]
    return SmsInfo("GSM-7", _pack(units, GSM_SINGLE_SEPTETS, GSM_SEGMENT_SEPTETS), sum(units))


def _ucs2(body: str) -> SmsInfo:
    units = [2 if ord(c) > _BMP_LIMIT else 1 for c in body]
    return SmsInfo("UCS-2", _pack(units, UCS2_SINGLE_UNITS, UCS2_SEGMENT_UNITS), sum(units))


def _pack(units: Iterable[int], single: int, per_segment: int) -> int:
    """Segments needed when no character's units may straddle two segments."""
    sizes = list(units)
    if sum(sizes) <= single:
        return 1
    segments, used = 1, 0
    for size in sizes:
        if used + size > per_segment:
            segments, used = segments + 1, 0
        used += size
    return segments
