"""ANSI X12 decoder: 850, 855, 856 and 810 transaction sets to order events.

``decode_x12(data)`` tokenizes the whole interchange first (``x12_tokens``:
a syntax problem raises ``DecodeError`` before anything is yielded), then
walks the envelopes (``x12_envelope``: control numbers and counts) and maps
each transaction set. Each item is a ``DecodedRecord`` (``kind`` is the set
id, ``location`` e.g. ``segment 3 (ST) set 0001``; an 856 gives one per
order, located as ``segment 3 (ST) set 0001 order PO-1``) or a ``RecordError`` (``envelope`` for a
broken control, ``missing_field``/``bad_value``/``schema_violation`` for the
content, ``unknown_record`` for a set id not listed below).

Event shapes. Dates are ``datetime.date``; quantities, prices and amounts are
``Decimal``; a value the set does not carry is ``None``. Party =
``{"id", "id_qualifier", "name"}``; address = ``{"name", "address1",
"address2", "city", "state", "postal_code", "country"}``. Every event has
``"x12": {"set", "control", "group_control", "interchange_control",
"sender", "receiver", "version"}`` to identify the set (dedupe, 997 replies).

850 -> ``{"type": "order.submitted", "order": {...}, "x12": {...}}`` with order =
``{"id": BEG03, "purpose": BEG01, "order_type": BEG02, "date": BEG05,
"retailer": party (N1*BY|BT, else ISA sender), "supplier": party
(N1*SU|SE|VN|RE, else ISA receiver), "ship_to": address (N1*ST) | None,
"ship_method": TD505 or TD503, "carrier": TD503, "requested_ship_date":
DTM*010, "requested_delivery_date": DTM*002, "currency": CUR02,
"references": {REF01: REF02}, "lines": [line]}`` and line = ``{"line": 1..n,
"line_id": PO101, "sku", "ids": {qualifier: id}, "qty": PO102, "unit": PO103,
"price": PO104, "description": PID05}``; ``sku`` is the first id qualified
SK, BP, IN, VP, VN, UP, EN or UK (in that order), else the first id.

855 -> ``{"type": "order.acknowledged", "order": {"id": BAK03, "date": BAK04,
"retailer", "supplier", "ship_to", "lines": [line + {"status", "status_code":
ACK01, "acknowledged_qty": ACK02, "scheduled_date": ACK05}]},
"acknowledgement": {"purpose": BAK01, "type": BAK02, "status", "date": BAK09,
"supplier_order_id": BAK08}, "x12"}``; statuses are words
(``x12_orders.ACK_STATUS``, ``LINE_STATUS``), ``"other"`` for the rest.

856 -> per order: ``{"type": "order.shipped", "order": {"id": PRF01, "date":
PRF04, "retailer", "supplier", "ship_to", "lines": [{"line", "line_id": LIN01
or SN101, "sku", "ids", "qty": SN102, "unit": SN103, "description": PID05,
"package": SSCC of its pack | None, "tracking": its pack's tracking |
None}]}, "shipment": {"id": BSN02, "date": BSN03, "shipped_on": DTM*011,
"estimated_delivery": DTM*017, "carrier": TD503, "ship_method": TD505 or
TD504, "bill_of_lading": REF*BM, "tracking_numbers": [..], "packages": [{"id":
SSCC, "tracking"}], "ship_from": address}, "x12"}``.

810 -> ``{"type": "order.invoiced", "order": {"id": BIG04, "date": BIG03,
"retailer", "supplier", "ship_to", "lines": [{"line", "line_id": IT101, "sku",
"ids", "qty": IT102, "unit": IT103, "price": IT104, "description"}]},
"invoice": {"id": BIG02, "date": BIG01, "total": TDS01, "currency": CUR02,
"terms": ITD12, "shipped_on": DTM*011, "charges": [{"kind": "allowance" |
"charge", "code": SAC02, "amount": SAC05, "description": SAC15}]}, "x12"}``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from tidings.formats import (
    errors,
    records,
    x12_common,
    x12_envelope,
    x12_invoice,
    x12_orders,
    x12_ship_notice,
    x12_tokens,
)

__all__ = ["MAPPERS", "MAX_X12_BYTES", "decode_x12"]

MAX_X12_BYTES = 16_000_000
Mapper = Callable[[x12_envelope.TransactionSet], list[dict[str, Any]]]
MAPPERS: dict[str, Mapper] = {
    "850": x12_orders.map_850,
    "855": x12_orders.map_855,
    "856": x12_ship_notice.map_856,
    "810": x12_invoice.map_810,
}
R = errors.ReasonCode


def decode_x12(data: bytes, *, max_bytes: int = MAX_X12_BYTES) -> Iterator[records.Decoded]:
    """Yield the events of every transaction set of an interchange (see the module doc)."""
    if len(data) > max_bytes:
        raise errors.DecodeError(R.TOO_LARGE, "interchange",
                                 f"{len(data)} bytes is over the limit of {max_bytes}")
    segments = x12_tokens.tokenize(data)
    for item in x12_envelope.transaction_sets(segments):
        if isinstance(item, records.RecordError):
            yield item
        else:
            yield from _map(item)


def _map(tset: x12_envelope.TransactionSet) -> Iterator[records.Decoded]:
    mapper = MAPPERS.get(tset.code)
    if mapper is None:
        error = errors.DecodeError(
            R.UNKNOWN_RECORD, tset.location,
            f"transaction set {tset.code!r} is not one of {', '.join(MAPPERS)}")
        yield records.RecordError(error, tset.raw)
        return
    try:
        events = mapper(tset)
    except x12_common.MapProblem as problem:
        yield records.RecordError(problem.error, tset.raw)
        return
    for event in events:
        yield records.DecodedRecord(event, _location(tset, event), tset.code)


def _location(tset: x12_envelope.TransactionSet, event: dict[str, Any]) -> str:
    if tset.code == "856":
        return f"{tset.location} order {event['order']['id']}"
    return tset.location
