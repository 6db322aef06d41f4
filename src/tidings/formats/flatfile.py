"""Flat files of either kind, chosen by the layout's ``format``.

``decode_flat(lines, layout)`` and ``parse_flat(lines, layout)`` call the
delimited or fixed-width decoder the layout names; sources that take a
layout from their configuration use these and need not know which it is.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from tidings.formats import delimited, fixed_width, flat_records, layout, records

__all__ = ["decode_flat", "parse_flat"]


def decode_flat(lines: Iterable[bytes | str], lay: layout.Layout) -> Iterator[records.Decoded]:
    """Yield one event (or RecordError) per top-level record of a flat file."""
    if lay.format == "delimited":
        return delimited.decode_delimited(lines, lay)
    return fixed_width.decode_fixed_width(lines, lay)


def parse_flat(lines: Iterable[bytes | str],
               lay: layout.Layout) -> Iterator[flat_records.ParsedRecord]:
    """Yield every physical record of a flat file with its field values."""
    if lay.format == "delimited":
        return delimited.parse_delimited(lines, lay)
    return fixed_width.parse_fixed_width(lines, lay)
