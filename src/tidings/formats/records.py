"""What every decoder yields: a decoded record, or the error of one record.

A decoder is a generator of ``Decoded`` items, one per record of the input, in
input order. A bad record becomes a ``RecordError`` carrying the raw text of
that record, so the good records around it are never lost; only a failure of
the whole input (unparseable XML, unreadable X12 ISA) is raised as
``DecodeError``.

Values inside ``DecodedRecord.data`` are plain Python: ``str``, ``int``,
``float`` (JSON only), ``bool``, ``None``, ``decimal.Decimal`` (decimal layout
fields, X12 quantities and amounts), ``datetime.date`` (date fields), ``dict``
and ``list``. ``jsonable`` turns them into JSON-ready values (Decimal and date
become strings) for anything that stores or sends them as JSON.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tidings.formats import errors

__all__ = ["Decoded", "DecodedRecord", "RecordError", "jsonable"]


@dataclass(frozen=True, slots=True)
class DecodedRecord:
    """One record of the input, as a dict.

    ``location`` names its place ("line 12", "record 3 (ORD) at line 12",
    "/orders/0", "segment 3 (ST) set 0001", "/Orders/Order[2]"); ``kind`` is
    the record type when the format has one ("ORD", "850"), else ``None``.
    """

    data: dict[str, Any]
    location: str
    kind: str | None = None


@dataclass(frozen=True, slots=True)
class RecordError:
    """One record that could not be decoded, with its raw text for a dead letter."""

    error: errors.DecodeError
    raw: str | bytes

    @property
    def reason(self) -> errors.ReasonCode:
        return self.error.reason

    @property
    def location(self) -> str:
        return self.error.location


Decoded = DecodedRecord | RecordError


def jsonable(value: Any) -> Any:
    """Return ``value`` with Decimal and date turned into strings, recursively."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value
