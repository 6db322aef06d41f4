"""Grouping the records of a flat file into events, one per top-level record.

Streaming rules, record by record (roles come from the layout):

- ``header``: its values (by their targets) become the batch values, copied
  into every event that follows until the next header; if the header is
  refused, so is every event of its batch (they would lack its values);
- ``event``: closes the open event and opens a new one, starting from a copy
  of the batch values; it is yielded when the next event, header or trailer
  arrives, or at the end of the input;
- ``child``: writes into the open event (``order.lines[].sku`` appends a line);
  a child with no open event of its parent's kind is a ``schema_violation``;
- ``trailer``: closes the open event; its ``count_field`` must equal the
  number of records since the previous trailer (``envelope`` otherwise).
  Trailer values are checked only, never emitted.

A bad record never loses the good events around it, but it does spoil the
event it belongs to: a bad ``LIN`` turns its whole order into one
``RecordError`` (raw = all of the order's lines, issues = every problem), so
no order goes out with a line missing. For the same reason, when the layout
has a trailer and the input ends without one, the last open event is
refused as possibly truncated. A record whose type is unknown is reported on
its own, at once (so before the event it sits in), and does not spoil it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from tidings.formats import errors, flat_records, layout, records, targets

__all__ = ["assemble"]

R = errors.ReasonCode


@dataclass(slots=True)
class _OpenEvent:
    data: dict[str, Any]
    location: str
    kind: str | None
    raws: list[str]
    codes: set[str | None]
    problems: list[errors.DecodeError] = field(default_factory=list)

    def spoil(self, error: errors.DecodeError, raw: str | None = None) -> None:
        self.problems.append(error)
        if raw is not None:
            self.raws.append(raw)

    def result(self) -> records.Decoded:
        if not self.problems:
            return records.DecodedRecord(self.data, self.location, self.kind)
        return records.RecordError(_merged(self.problems), "\n".join(self.raws))


@dataclass(frozen=True, slots=True)
class _Plan:
    code: str | None
    spec: layout.RecordSpec
    writer: targets.RecordWriter


def assemble(parsed: Iterable[flat_records.ParsedRecord],
             lay: layout.Layout) -> Iterator[records.Decoded]:
    """Yield one event (or its error) per top-level record, following the module rules."""
    plans = {code: _Plan(code, spec, targets.RecordWriter(
        {f.name: f.target_path() for f in spec.fields}))
        for code, spec in lay.record_specs().items()}
    state = _Assembler(plans)
    for record in parsed:
        yield from state.feed(record)
    yield from state.finish()


class _Assembler:
    def __init__(self, plans: Mapping[str | None, _Plan]) -> None:
        self._plans = plans
        self._trailer = next((p for p in plans.values() if p.spec.role == "trailer"), None)
        self._batch: dict[str, Any] = {}
        self._batch_error: errors.DecodeError | None = None
        self._open: _OpenEvent | None = None
        self._counted = 0
        self._since_trailer = 0

    def feed(self, record: flat_records.ParsedRecord) -> Iterator[records.Decoded]:
        self._count(record)
        plan = self._plans.get(record.code)
        if plan is None:
            yield _standalone(record)
            return
        role = plan.spec.role
        if role == "child":
            yield from self._child(record, plan)
            return
        yield from self._close()
        if role == "event":
            self._start(record, plan)
        elif role == "header":
            yield from self._header(record, plan)
        else:
            yield from self._check_trailer(record)

    def finish(self) -> Iterator[records.Decoded]:
        if self._trailer is not None and self._since_trailer:
            error = errors.DecodeError(
                R.ENVELOPE, "end of input",
                f"the input ends without a {self._trailer.code} trailer record")
            if self._open is None:
                yield records.RecordError(error, "")
                return
            self._open.spoil(error)
        yield from self._close()

    def _count(self, record: flat_records.ParsedRecord) -> None:
        self._since_trailer += 1
        counts = self._trailer.spec.counts if self._trailer is not None else "all"
        if counts == "all" or record.code in counts:
            self._counted += 1

    def _close(self) -> Iterator[records.Decoded]:
        if self._open is not None:
            yield self._open.result()
            self._open = None

    def _start(self, record: flat_records.ParsedRecord, plan: _Plan) -> None:
        batch = _copy_tree(self._batch)
        event = _OpenEvent(batch, record.location, record.code, [record.raw], {record.code})
        self._open = event
        if self._batch_error is not None:
            event.spoil(self._batch_error)
        if record.error is not None:
            event.spoil(record.error)
            return
        _write(event, record, plan)

    def _child(self, record: flat_records.ParsedRecord,
               plan: _Plan) -> Iterator[records.Decoded]:
        event = self._open
        if event is None or plan.spec.parent not in event.codes:
            error = errors.DecodeError(
                R.SCHEMA_VIOLATION, record.location,
                f"a {record.code} record must follow its parent {plan.spec.parent} record")
            yield records.RecordError(error, record.raw)
            return
        event.codes.add(record.code)
        if record.error is not None:
            event.spoil(record.error, record.raw)
            return
        event.raws.append(record.raw)
        _write(event, record, plan)

    def _header(self, record: flat_records.ParsedRecord,
                plan: _Plan) -> Iterator[records.Decoded]:
        self._batch, self._batch_error = {}, None
        if record.error is not None:
            self._batch_error = errors.DecodeError(
                record.error.reason, record.error.location,
                f"the batch header was refused: {record.error.detail}", record.error.issues)
            yield records.RecordError(record.error, record.raw)
            return
        plan.writer.write(self._batch, record.values)

    def _check_trailer(self, record: flat_records.ParsedRecord) -> Iterator[records.Decoded]:
        counted, self._counted, self._since_trailer = self._counted, 0, 0
        if record.error is not None:
            yield records.RecordError(record.error, record.raw)
            return
        name = self._trailer.spec.count_field if self._trailer is not None else None
        stated = record.values.get(name) if name is not None else None
        if stated is not None and stated != counted:
            error = errors.DecodeError(
                R.ENVELOPE, f"{record.location} field {name}",
                f"the trailer counts {stated} records but the input has {counted}")
            yield records.RecordError(error, record.raw)


def _write(event: _OpenEvent, record: flat_records.ParsedRecord,
           plan: _Plan) -> None:
    try:
        plan.writer.write(event.data, record.values)
    except targets.TargetError as exc:
        event.spoil(errors.DecodeError(R.SCHEMA_VIOLATION, record.location, str(exc)))


def _standalone(record: flat_records.ParsedRecord) -> records.RecordError:
    error = record.error or errors.DecodeError(
        R.UNKNOWN_RECORD, record.location, f"record type {record.code!r} is not in the layout")
    return records.RecordError(error, record.raw)


def _merged(problems: list[errors.DecodeError]) -> errors.DecodeError:
    first = problems[0]
    issues: list[errors.Issue] = []
    for problem in problems:
        issues.extend(problem.issues or (errors.Issue(problem.location, problem.detail),))
    if len(problems) == 1:
        return errors.DecodeError(first.reason, first.location, first.detail, first.issues)
    detail = f"{first.detail} (and {len(problems) - 1} more records with problems)"
    return errors.DecodeError(first.reason, first.location, detail, tuple(issues))


def _copy_tree(node: dict[str, Any]) -> dict[str, Any]:
    """Copy the dicts and lists of batch values; the leaves (str, date, ...) are immutable."""
    return {k: _copy_tree(v) if isinstance(v, dict)
            else [_copy_tree(i) if isinstance(i, dict) else i for i in v] if isinstance(v, list)
            else v for k, v in node.items()}
