"""Order exceptions as a list: filters, sort orders, pages and the CSV export.

An exception is a warning (``kind="warning"``, raised at the early-warning point) or an
overdue obligation (``kind="overdue"``, opened when the deadline passed without its event).
Its status is ``open`` until the obligation is met (``resolved``, with ``met_at`` and
``late_seconds`` kept), cancelled (``cancelled``: order cancelled or the rule changed), or,
for warnings, overtaken by the overdue exception (``escalated``).

*Lateness* is how far past its deadline an exception is: ``now - due_at`` while open,
``met_at - due_at`` once met. *Age* filters read the same measure in hours. Sorting by
lateness with ``status=open`` is sorting by ``due_at`` (the index does it).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tidings.sla import rules as sla_rules

__all__ = [
    "CSV_COLUMNS",
    "KINDS",
    "MAX_PAGE",
    "SORTS",
    "STATUSES",
    "ExceptionQuery",
    "QueryError",
    "csv_lines",
    "lateness_seconds",
]

KINDS = frozenset({"warning", "overdue", "all"})
STATUSES = frozenset({"open", "resolved", "escalated", "cancelled", "all"})
SORTS = frozenset({"lateness", "-lateness", "due_at", "-due_at", "opened_at", "-opened_at"})
MAX_PAGE = 500
MAX_EXPORT_ROWS = 100_000
CSV_COLUMNS = ("id", "retailer", "supplier", "order_id", "order_ref", "obligation", "kind",
               "status", "due_at", "opened_at", "closed_at", "met_at", "lateness_hours")


class QueryError(ValueError):
    """A filter or sort the list does not offer; ``field`` names the parameter."""

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(f"{field}: {detail}")
        self.field, self.detail = field, detail


@dataclass(frozen=True)
class ExceptionQuery:
    retailer: str | None = None
    supplier: str | None = None
    obligation: str | None = None
    kind: str = "overdue"
    status: str = "open"
    min_age_hours: float | None = None
    max_age_hours: float | None = None
    order_ref: str | None = None
    sort: str = "lateness"
    limit: int = 50
    offset: int = 0

    def __post_init__(self) -> None:
        _one_of("kind", self.kind, KINDS)
        _one_of("status", self.status, STATUSES)
        _one_of("sort", self.sort, SORTS)
        if self.obligation is not None:
            _one_of("obligation", self.obligation, frozenset(o.value for o in
                                                               sla_rules.Obligation))
        if not 1 <= self.limit <= MAX_EXPORT_ROWS:
            raise QueryError("limit", f"must be 1..{MAX_PAGE} (export: {MAX_EXPORT_ROWS})")
        if self.offset < 0:
            raise QueryError("offset", "must not be negative")
        for name in ("min_age_hours", "max_age_hours"):
            value = getattr(self, name)
            if value is not None and not value >= 0:
                raise QueryError(name, "must be a non-negative number of hours")

    def due_bounds(self, now: datetime) -> tuple[datetime | None, datetime | None]:
        """Age as bounds on ``due_at`` (only exact for open exceptions, whose age runs):
        older than ``min`` hours means due at or before ``now - min``."""
        latest = None if self.min_age_hours is None else now - timedelta(
            hours=self.min_age_hours)
        earliest = None if self.max_age_hours is None else now - timedelta(
            hours=self.max_age_hours)
        return earliest, latest


def lateness_seconds(row: Mapping[str, Any], now: datetime) -> float:
    end = row.get("met_at") or now
    return float((end - row["due_at"]).total_seconds())


def csv_lines(rows: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    """The export, header first, one CSV line per exception (RFC 4180, CRLF)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    yield _drain(buffer)
    for row in rows:
        writer.writerow([_cell(row, column) for column in CSV_COLUMNS])
        yield _drain(buffer)


def _cell(row: Mapping[str, Any], column: str) -> str:
    if column == "lateness_hours":
        return f"{row['lateness_seconds'] / 3600:.2f}"
    value = row.get(column)
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    text = str(value)
    # A cell that a spreadsheet would run as a formula is quoted as text (CSV injection).
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def _one_of(field: str, value: str, allowed: frozenset[str]) -> None:
    if value not in allowed:
        raise QueryError(field, f"must be one of {', '.join(sorted(allowed))}")
