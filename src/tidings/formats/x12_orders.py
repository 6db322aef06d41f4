"""Mapping X12 850 (purchase order) and 855 (PO acknowledgement) sets to events.

The event shapes are documented in ``x12``; this module fills them.
850 is sent by the retailer (its sender is the retailer), 855 by the
supplier. Both check CTT01 against the number of PO1 lines when a CTT is
present.
"""

from __future__ import annotations

from typing import Any

from tidings.formats import x12_common as c
from tidings.formats import x12_envelope

__all__ = ["ACK_STATUS", "LINE_STATUS", "map_850", "map_855"]

Segment = c.Segment
SUMMARY = ("CTT", "AMT", "SE")
# BAK02 acknowledgment type -> status word.
ACK_STATUS = {"AC": "accepted_with_changes", "AD": "accepted", "AK": "accepted",
              "AT": "accepted", "RD": "rejected", "RF": "rejected", "RJ": "rejected",
              "RO": "rejected"}
# ACK01 line item status -> status word.
LINE_STATUS = {"IA": "accepted", "AR": "accepted", "IB": "backordered", "IC": "changed",
               "ID": "deleted", "IP": "price_changed", "IQ": "quantity_changed",
               "IR": "rejected", "IS": "substituted", "IH": "on_hold",
               "DR": "date_rescheduled"}


def map_850(tset: x12_envelope.TransactionSet) -> list[dict[str, Any]]:
    """One ``order.submitted`` event for a purchase order."""
    header, loops, summary = c.split_loops(tset.segments[1:], "PO1", SUMMARY)
    beg = _first(header, "BEG", tset)
    c.check_count(_find(summary, "CTT"), len(loops), "lines")
    parties = c.Parties(header)
    td5 = _find(header, "TD5")
    order = {
        "id": c.required(beg, 3),
        "purpose": c.optional(beg, 1),
        "order_type": c.optional(beg, 2),
        "date": c.date(beg, 5),
        "retailer": parties.party(c.RETAILER_CODES) or c.sender(tset.envelope),
        "supplier": parties.party(c.SUPPLIER_CODES) or c.receiver(tset.envelope),
        "ship_to": parties.address("ST"),
        "ship_method": c.optional(td5, 5) or c.optional(td5, 3),
        "carrier": c.optional(td5, 3),
        "requested_ship_date": c.dtm(header, "010"),
        "requested_delivery_date": c.dtm(header, "002"),
        "currency": c.optional(_find(header, "CUR"), 2),
        "references": c.refs(header),
        "lines": [_line(n, loop) for n, loop in enumerate(loops, start=1)],
    }
    return [{"type": "order.submitted", "order": order, "x12": c.envelope_info(tset)}]


def map_855(tset: x12_envelope.TransactionSet) -> list[dict[str, Any]]:
    """One ``order.acknowledged`` event for a purchase order acknowledgement."""
    header, loops, summary = c.split_loops(tset.segments[1:], "PO1", SUMMARY)
    bak = _first(header, "BAK", tset)
    c.check_count(_find(summary, "CTT"), len(loops), "lines")
    parties = c.Parties(header)
    ack_type = c.required(bak, 2)
    order = {
        "id": c.required(bak, 3),
        "date": c.date(bak, 4),
        "retailer": parties.party(c.RETAILER_CODES) or c.receiver(tset.envelope),
        "supplier": parties.party(c.SUPPLIER_CODES) or c.sender(tset.envelope),
        "ship_to": parties.address("ST"),
        "lines": [_acknowledged_line(n, loop) for n, loop in enumerate(loops, start=1)],
    }
    acknowledgement = {
        "purpose": c.optional(bak, 1),
        "type": ack_type,
        "status": ACK_STATUS.get(ack_type, "other"),
        "date": c.date(bak, 9),
        "supplier_order_id": c.optional(bak, 8),
    }
    return [{"type": "order.acknowledged", "order": order,
             "acknowledgement": acknowledgement, "x12": c.envelope_info(tset)}]


def _line(number: int, loop: list[Segment]) -> dict[str, Any]:
    po1 = loop[0]
    ids = c.product_ids(po1, 6)
    pid = next((s for s in loop if s.tag == "PID"), None)
    return {"line": number, "line_id": c.optional(po1, 1), "sku": c.sku(ids), "ids": ids,
            "qty": c.number(po1, 2), "unit": c.optional(po1, 3),
            "price": c.number_or_none(po1, 4), "description": c.optional(pid, 5)}


def _acknowledged_line(number: int, loop: list[Segment]) -> dict[str, Any]:
    line = _line(number, loop)
    ack = next((s for s in loop if s.tag == "ACK"), None)
    code = c.optional(ack, 1)
    line.update({
        "status": LINE_STATUS.get(code, "other") if code else None,
        "status_code": code,
        "acknowledged_qty": c.number_or_none(ack, 2),
        "scheduled_date": c.date(ack, 5),
    })
    return line


def _find(segments: list[Segment], tag: str) -> Segment | None:
    return next((s for s in segments if s.tag == tag), None)


def _first(header: list[Segment], tag: str, tset: x12_envelope.TransactionSet) -> Segment:
    found = _find(header[:1], tag)
    if found is None:
        raise c.MapProblem(c.R.MISSING_FIELD, tset.segments[0].location,
                           f"a {tset.code} set starts with {tag} after ST")
    return found
