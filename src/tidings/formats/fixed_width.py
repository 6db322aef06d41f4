"""Fixed-width flat files: one record per line, fields by position and width.

``decode_fixed_width(lines, layout)`` yields one event (or its error) per
top-level record, grouped as described in ``assembly``; ``parse_fixed_width``
yields every physical record with its values (what ``tidings layout check``
shows). ``lines`` is any iterable of lines, bytes or str (an open file):
it is read one line at a time, never whole.

Positions are 1-based. A line shorter than a field reads as blanks for that
field (editors trim trailing blanks); the line ending (``\\n``, ``\\r\\n``) is
never part of a field. Blank lines are skipped and not counted as records.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Iterator

from tidings.formats import assembly, errors, flat_lines, flat_records, layout, records

__all__ = ["decode_fixed_width", "parse_fixed_width"]


def decode_fixed_width(lines: Iterable[bytes | str],
                       lay: layout.Layout) -> Iterator[records.Decoded]:
    """Yield one event (or RecordError) per top-level record of a fixed-width file."""
    return assembly.assemble(_parse(lines, lay, _plans(lay)), lay)


def parse_fixed_width(lines: Iterable[bytes | str],
                      lay: layout.Layout) -> Iterator[flat_records.ParsedRecord]:
    """Yield every physical record of a fixed-width file with its field values."""
    return _parse(lines, lay, _plans(lay))


def _plans(lay: layout.Layout) -> dict[str | None, flat_records.RecordPlan]:
    if lay.format != "fixed_width":
        raise errors.DefinitionError(f"the layout is for {lay.format} files, not fixed_width")
    return flat_records.build_plans(lay, _slicer)


def _parse(lines: Iterable[bytes | str], lay: layout.Layout,
           plans: dict[str | None, flat_records.RecordPlan],
           ) -> Iterator[flat_records.ParsedRecord]:
    spec = lay.record_type
    code_at = None
    if spec is not None and spec.position is not None and spec.width is not None:
        code_at = slice(spec.position - 1, spec.position - 1 + spec.width)
    return flat_records.read_records(_splits(lines, lay.encoding, code_at), plans,
                                     lay.multi_record)


def _splits(lines: Iterable[bytes | str], encoding: str,
            code_at: slice | None) -> Iterator[flat_records.Split]:
    for number, raw in enumerate(lines, start=1):
        text, problem = flat_lines.decode_line(raw, encoding)
        text = text.rstrip("\r\n")
        if not text.strip():
            continue
        code = text[code_at].strip() if code_at is not None else None
        yield flat_records.Split(number, text, text, code, problem)


def _slicer(field: layout.FieldSpec) -> flat_records.Extractor:
    start = (field.position or 1) - 1
    return operator.itemgetter(slice(start, start + (field.width or 0)))
