"""Delimited flat files (CSV, TSV, pipe): fields by column, read with the csv module.

``decode_delimited(lines, layout)`` yields one event (or its error) per
top-level record, grouped as described in ``assembly``; ``parse_delimited``
yields every physical record with its values. ``lines`` is any iterable of
lines, bytes or str (an open file); it is read one line at a time. Quoted
fields may span lines: a record's location names the line it starts on.

Columns are 1-based, or header names when the layout says ``header: true``
(the first row then names the columns and is not a record). A row with fewer
columns than its record layout needs is ``malformed``; so is a row the csv
module refuses (a stray quote), after which reading goes on with the next row.
Blank lines are skipped and not counted as records.
"""

from __future__ import annotations

import csv
import operator
from collections.abc import Callable, Iterable, Iterator

from tidings.formats import assembly, errors, flat_lines, flat_records, layout, records

__all__ = ["decode_delimited", "parse_delimited"]

R = errors.ReasonCode


def decode_delimited(lines: Iterable[bytes | str],
                     lay: layout.Layout) -> Iterator[records.Decoded]:
    """Yield one event (or RecordError) per top-level record of a delimited file."""
    _check_format(lay)
    return assembly.assemble(_Reader(lines, lay).parse(), lay)


def parse_delimited(lines: Iterable[bytes | str],
                    lay: layout.Layout) -> Iterator[flat_records.ParsedRecord]:
    """Yield every physical record of a delimited file with its field values."""
    _check_format(lay)
    return _Reader(lines, lay).parse()


def _check_format(lay: layout.Layout) -> None:
    if lay.format != "delimited":
        raise errors.DefinitionError(f"the layout is for {lay.format} files, not delimited")


class _LineSource:
    """Feeds decoded lines to csv.reader and remembers those of the current row."""

    def __init__(self, lines: Iterable[bytes | str], encoding: str) -> None:
        self._lines = iter(lines)
        self._encoding = encoding
        self._taken: list[str] = []
        self._problem: flat_lines.Problem | None = None
        self.line = 0

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        text, problem = flat_lines.decode_line(next(self._lines), self._encoding)
        self.line += 1
        self._taken.append(text)
        self._problem = self._problem or problem
        return text

    def take(self) -> tuple[str, flat_lines.Problem | None]:
        """The raw text and first problem of the lines read since the last take."""
        raw = "".join(self._taken).rstrip("\r\n")
        problem, self._taken, self._problem = self._problem, [], None
        return raw, problem


class _Reader:
    def __init__(self, lines: Iterable[bytes | str], lay: layout.Layout) -> None:
        self._lay = lay
        self._source = _LineSource(lines, lay.encoding)
        self._rows = csv.reader(self._source, delimiter=lay.delimiter,
                                quotechar=lay.quote or '"', strict=True,
                                quoting=csv.QUOTE_MINIMAL if lay.quote else csv.QUOTE_NONE)
        spec = lay.record_type
        self._code_column = spec.column - 1 if spec is not None and spec.column else None

    def parse(self) -> Iterator[flat_records.ParsedRecord]:
        """Records, lazily: even the header line is read on the first ``next``."""
        splits = self._splits()
        names = self._header(splits) if self._lay.header else None
        plans = flat_records.build_plans(self._lay, _column_getter(names),
                                         _needed_columns(names))
        yield from flat_records.read_records(splits, plans, self._lay.multi_record)

    def _header(self, splits: Iterator[flat_records.Split]) -> list[str]:
        first = next(splits, None)
        if first is None:
            return []
        if first.problem is not None:
            raise errors.DecodeError(first.problem[0], f"line {first.line}", first.problem[1])
        names = [str(cell).strip() for cell in first.cells]
        for spec in self._lay.record_specs().values():
            for field in spec.fields:
                if isinstance(field.column, str) and field.column not in names:
                    raise errors.DecodeError(
                        R.SCHEMA_VIOLATION, f"line {first.line}",
                        f"column {field.column!r} (field {field.name}) is not in the header")
        return names

    def _splits(self) -> Iterator[flat_records.Split]:
        while True:
            start = self._source.line + 1
            try:
                row = next(self._rows)
            except StopIteration:
                return
            except csv.Error as exc:
                raw, _ = self._source.take()
                yield flat_records.Split(start, raw, [], None, (R.MALFORMED, str(exc)))
                continue
            raw, problem = self._source.take()
            if not row or not raw.strip():
                continue
            yield flat_records.Split(start, raw, row, self._code(row), problem)

    def _code(self, row: list[str]) -> str | None:
        if self._code_column is None:
            return None
        return row[self._code_column].strip() if self._code_column < len(row) else ""


def _column_getter(names: list[str] | None,
                   ) -> Callable[[layout.FieldSpec], flat_records.Extractor]:
    def extractor(field: layout.FieldSpec) -> flat_records.Extractor:
        return operator.itemgetter(_index(field.column, names))

    return extractor


def _index(column: int | str | None, names: list[str] | None) -> int:
    if isinstance(column, str):
        return (names or []).index(column)
    return (column or 1) - 1


def _needed_columns(names: list[str] | None,
                    ) -> Callable[[layout.RecordSpec], Callable[[list[str]], str | None]]:
    def for_record(spec: layout.RecordSpec) -> Callable[[list[str]], str | None]:
        needed = max((_index(f.column, names) + 1 for f in spec.fields), default=0)

        def precheck(row: list[str]) -> str | None:
            if len(row) < needed:
                return f"the row has {len(row)} columns; this record needs {needed}"
            return None

        return precheck

    return for_record
