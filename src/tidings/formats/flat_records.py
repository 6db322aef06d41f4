"""One physical record of a flat file, read against its record layout.

Both flat decoders (``delimited``, ``fixed_width``) cut their input into
``Split`` items (line number, raw text, cells, record code, and a problem
found while cutting, such as bad bytes); ``read_records`` then numbers the
records, finds each one's layout by its code and converts every field,
giving a ``ParsedRecord`` with its values by field name, or with the error
that stops it (every bad field is listed in the error's issues).

Locations: ``line 12`` (single-record layout) or ``record 3 (ORD) at line 12``
(multi-record), followed by `` field qty`` for a field's problem.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from tidings.formats import errors, fields, layout

__all__ = ["Extractor", "ParsedRecord", "RecordPlan", "Split", "build_plans", "read_records"]

Extractor = Callable[[Any], str]
Precheck = Callable[[Any], str | None]
R = errors.ReasonCode


@dataclass(slots=True)
class Split:
    """A physical record as cut by a decoder, before its fields are read."""

    line: int
    raw: str
    cells: Any
    code: str | None
    problem: tuple[errors.ReasonCode, str] | None = None


@dataclass(frozen=True, slots=True)
class ParsedRecord:
    """A physical record with its field values, or the error that stops it."""

    number: int
    line: int
    code: str | None
    values: dict[str, Any]
    raw: str
    location: str
    error: errors.DecodeError | None = None


@dataclass(frozen=True, slots=True)
class RecordPlan:
    """Everything needed to read one record type, compiled once per decode."""

    code: str | None
    spec: layout.RecordSpec
    fields: tuple[tuple[str, Extractor, fields.Converter], ...]
    precheck: Precheck | None = None


def build_plans(lay: layout.Layout, extractor: Callable[[layout.FieldSpec], Extractor],
                precheck: Callable[[layout.RecordSpec], Precheck | None] | None = None,
                ) -> dict[str | None, RecordPlan]:
    """Compile every record layout of ``lay`` with the decoder's cell extractor."""
    plans = {}
    for code, spec in lay.record_specs().items():
        compiled = tuple((f.name, extractor(f), fields.converter(f)) for f in spec.fields)
        plans[code] = RecordPlan(code, spec, compiled, precheck(spec) if precheck else None)
    return plans


def read_records(splits: Iterable[Split], plans: Mapping[str | None, RecordPlan],
                 multi_record: bool) -> Iterator[ParsedRecord]:
    """Number the splits and read each against the plan of its record code."""
    for number, split in enumerate(splits, start=1):
        location = _location(number, split, multi_record)
        plan = plans.get(split.code)
        if split.problem is not None:
            reason, detail = split.problem
            yield _failed(number, split, location, errors.DecodeError(reason, location, detail))
        elif plan is None:
            error = errors.DecodeError(R.UNKNOWN_RECORD, location,
                                       f"record type {split.code!r} is not in the layout")
            yield _failed(number, split, location, error)
        else:
            yield _read(number, split, location, plan)


def _read(number: int, split: Split, location: str, plan: RecordPlan) -> ParsedRecord:
    short = plan.precheck(split.cells) if plan.precheck else None
    if short is not None:
        return _failed(number, split, location,
                       errors.DecodeError(R.MALFORMED, location, short))
    values: dict[str, Any] = {}
    problems: list[tuple[errors.ReasonCode, errors.Issue]] = []
    cells = split.cells
    for name, extract, convert in plan.fields:
        try:
            values[name] = convert(extract(cells))
        except fields.FieldProblem as problem:
            problems.append((problem.reason,
                             errors.Issue(f"{location} field {name}", problem.message)))
    error = _field_error(problems) if problems else None
    return ParsedRecord(number, split.line, split.code, values, split.raw, location, error)


def _field_error(problems: list[tuple[errors.ReasonCode, errors.Issue]]) -> errors.DecodeError:
    reason, first = problems[0]
    detail = first.detail if len(problems) == 1 else \
        f"{first.detail} (and {len(problems) - 1} more)"
    issues = tuple(issue for _, issue in problems)
    return errors.DecodeError(reason, first.location, detail, issues)


def _failed(number: int, split: Split, location: str,
            error: errors.DecodeError) -> ParsedRecord:
    return ParsedRecord(number, split.line, split.code, {}, split.raw, location, error)


def _location(number: int, split: Split, multi_record: bool) -> str:
    if not multi_record:
        return f"line {split.line}"
    if split.code:
        return f"record {number} ({split.code}) at line {split.line}"
    return f"record {number} at line {split.line}"
