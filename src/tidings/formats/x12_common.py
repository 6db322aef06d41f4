"""Pieces every X12 mapper shares: typed elements, parties, product ids, the event's header.

Element readers raise ``MapProblem`` (``missing_field`` or ``bad_value``,
located at the segment and element, e.g. ``segment 4 (BEG) element BEG03``);
the mapper lets it escape and ``x12`` turns it into the set's RecordError.

Party (``retailer``, ``supplier``): ``{"id", "id_qualifier", "name"}`` from
the N1 loop with the first matching entity code, else from the interchange
sender or receiver (ISA qualifier and id, name ``None``).
Address (``ship_to``, ``ship_from``): ``{"name", "address1", "address2",
"city", "state", "postal_code", "country"}`` from an N1 loop with N3/N4.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from tidings.formats import errors, x12_envelope, x12_tokens

__all__ = [
    "RETAILER_CODES",
    "SKU_QUALIFIERS",
    "SUPPLIER_CODES",
    "MapProblem",
    "Parties",
    "amount",
    "check_count",
    "date",
    "dtm",
    "envelope_info",
    "number",
    "number_or_none",
    "optional",
    "product_ids",
    "receiver",
    "refs",
    "required",
    "sender",
    "sku",
    "split_loops",
]

Segment = x12_tokens.Segment
R = errors.ReasonCode
RETAILER_CODES = ("BY", "BT")
SUPPLIER_CODES = ("SU", "SE", "VN", "RE")
# Which product id is "the sku": buyer's ids first, since the retailer notifies its customers.
SKU_QUALIFIERS = ("SK", "BP", "IN", "VP", "VN", "UP", "EN", "UK")
N1_LOOP = ("N2", "N3", "N4", "PER", "REF")


class MapProblem(Exception):
    """A transaction set whose content cannot be mapped."""

    def __init__(self, reason: errors.ReasonCode, location: str, detail: str) -> None:
        super().__init__(detail)
        self.error = errors.DecodeError(reason, location, detail)


def _where(segment: Segment, position: int) -> str:
    return f"{segment.location} element {segment.tag}{position:02d}"


def required(segment: Segment, position: int) -> str:
    value = segment.get(position).strip()
    if not value:
        raise MapProblem(R.MISSING_FIELD, _where(segment, position), "is required but empty")
    return value


def optional(segment: Segment | None, position: int) -> str | None:
    if segment is None:
        return None
    return segment.get(position).strip() or None


def number(segment: Segment, position: int) -> Decimal:
    """A required numeric element (R or N0 type) as a Decimal."""
    text = required(segment, position)
    try:
        value = Decimal(text)
    except InvalidOperation as exc:
        raise MapProblem(R.BAD_VALUE, _where(segment, position),
                         f"{text!r} is not a number") from exc
    if not value.is_finite():
        raise MapProblem(R.BAD_VALUE, _where(segment, position), f"{text!r} is not a number")
    return value


def number_or_none(segment: Segment | None, position: int) -> Decimal | None:
    if segment is None or not segment.get(position).strip():
        return None
    return number(segment, position)


def amount(segment: Segment, position: int) -> Decimal:
    """An N2 amount (two implied decimals: ``12999`` is ``129.99``)."""
    value = number(segment, position)
    return value if "." in segment.get(position) else value.scaleb(-2)


def date(segment: Segment | None, position: int) -> dt.date | None:
    """A CCYYMMDD (or YYMMDD) date element; None when empty."""
    text = optional(segment, position)
    if text is None or segment is None:
        return None
    fmt = "%Y%m%d" if len(text) == 8 else "%y%m%d"
    try:
        return dt.datetime.strptime(text, fmt).date()
    except ValueError as exc:
        raise MapProblem(R.BAD_VALUE, _where(segment, position),
                         f"{text!r} is not a CCYYMMDD date") from exc


def product_ids(segment: Segment, first: int) -> dict[str, str]:
    """Qualifier -> id from the pairs starting at element ``first`` (PO106/PO107, ...)."""
    ids: dict[str, str] = {}
    for position in range(first, len(segment.elements) + 1, 2):
        qualifier, value = segment.get(position).strip(), segment.get(position + 1).strip()
        if qualifier and value:
            ids.setdefault(qualifier, value)
    return ids


def sku(ids: dict[str, str]) -> str | None:
    return next((ids[q] for q in SKU_QUALIFIERS if q in ids), next(iter(ids.values()), None))


def dtm(segments: Iterable[Segment], qualifier: str) -> dt.date | None:
    """The date of the first DTM with ``qualifier`` (DTM01) among ``segments``."""
    for segment in segments:
        if segment.tag == "DTM" and segment.get(1) == qualifier:
            return date(segment, 2)
    return None


def refs(segments: Iterable[Segment]) -> dict[str, str]:
    """REF01 -> REF02 of the REF segments among ``segments`` (first one wins)."""
    found: dict[str, str] = {}
    for segment in segments:
        if segment.tag == "REF" and segment.get(1) and segment.get(2):
            found.setdefault(segment.get(1), segment.get(2))
    return found


class Parties:
    """The N1 loops of one part of a set, by entity identifier code (N101)."""

    def __init__(self, segments: Sequence[Segment]) -> None:
        self._loops: dict[str, list[Segment]] = {}
        current: list[Segment] | None = None
        for segment in segments:
            if segment.tag == "N1":
                current = [segment] if segment.get(1) not in self._loops else []
                self._loops.setdefault(segment.get(1), current)
            elif current is not None and segment.tag in N1_LOOP:
                current.append(segment)
            else:
                current = None

    def party(self, codes: Sequence[str]) -> dict[str, Any] | None:
        for code in codes:
            if code in self._loops:
                n1 = self._loops[code][0]
                return {"id": optional(n1, 4), "id_qualifier": optional(n1, 3),
                        "name": optional(n1, 2)}
        return None

    def address(self, code: str) -> dict[str, Any] | None:
        loop = self._loops.get(code)
        if loop is None:
            return None
        n3 = next((s for s in loop if s.tag == "N3"), None)
        n4 = next((s for s in loop if s.tag == "N4"), None)
        return {"name": optional(loop[0], 2), "address1": optional(n3, 1),
                "address2": optional(n3, 2), "city": optional(n4, 1),
                "state": optional(n4, 2), "postal_code": optional(n4, 3),
                "country": optional(n4, 4)}


def sender(envelope: x12_envelope.Envelope) -> dict[str, Any]:
    return {"id": envelope.sender, "id_qualifier": envelope.sender_qualifier, "name": None}


def receiver(envelope: x12_envelope.Envelope) -> dict[str, Any]:
    return {"id": envelope.receiver, "id_qualifier": envelope.receiver_qualifier, "name": None}


def envelope_info(tset: x12_envelope.TransactionSet) -> dict[str, Any]:
    """The ``x12`` part of every event: what identifies the set for dedupe and replies."""
    env = tset.envelope
    return {"set": tset.code, "control": tset.control, "group_control": env.group_control,
            "interchange_control": env.interchange_control, "sender": env.sender,
            "receiver": env.receiver, "version": env.version}


def check_count(ctt: Segment | None, counted: int, what: str) -> None:
    """CTT01 must equal ``counted`` when a CTT is present (``envelope`` otherwise)."""
    if ctt is None:
        return
    stated = ctt.get(1).strip()
    if not stated.isdigit() or int(stated) != counted:
        raise MapProblem(R.ENVELOPE, _where(ctt, 1),
                         f"CTT01 says {stated!r} {what}; the set has {counted}")


def split_loops(segments: Sequence[Segment], start: str, summary: Sequence[str],
                ) -> tuple[list[Segment], list[list[Segment]], list[Segment]]:
    """Cut a set body into header, one list per ``start`` loop, and summary segments."""
    header: list[Segment] = []
    loops: list[list[Segment]] = []
    tail: list[Segment] = []
    for segment in segments:
        if tail or segment.tag in summary:
            tail.append(segment)
        elif segment.tag == start:
            loops.append([segment])
        elif loops:
            loops[-1].append(segment)
        else:
            header.append(segment)
    return header, loops, tail
