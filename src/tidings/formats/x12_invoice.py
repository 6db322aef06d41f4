"""Mapping an X12 810 (invoice) to one ``order.invoiced`` event.

BIG gives the invoice date (BIG01) and number (BIG02), the order date
(BIG03) and purchase order number (BIG04, required); IT1 loops give the lines
(IT102 quantity invoiced, IT104 unit price); TDS01 is the total (two implied
decimals); SAC segments after TDS are allowances and charges (SAC05, two
implied decimals); ITD12 the terms. CTT01, when present, must count the IT1
lines. The event shape is in ``x12``.
"""

from __future__ import annotations

from typing import Any

from tidings.formats import x12_common as c
from tidings.formats import x12_envelope

__all__ = ["map_810"]

Segment = c.Segment
SUMMARY = ("TDS", "TXI", "CAD", "AMT", "SAC", "ISS", "CTT", "SE")
SAC_KINDS = {"A": "allowance", "C": "charge", "N": "none"}


def map_810(tset: x12_envelope.TransactionSet) -> list[dict[str, Any]]:
    """One ``order.invoiced`` event for an invoice."""
    header, loops, summary = c.split_loops(tset.segments[1:], "IT1", SUMMARY)
    big = header[0] if header and header[0].tag == "BIG" else None
    if big is None:
        raise c.MapProblem(c.R.MISSING_FIELD, tset.segments[0].location,
                           "an 810 set starts with BIG after ST")
    tds = next((s for s in summary if s.tag == "TDS"), None)
    if tds is None:
        raise c.MapProblem(c.R.MISSING_FIELD, tset.location, "the invoice has no TDS total")
    c.check_count(next((s for s in summary if s.tag == "CTT"), None), len(loops), "lines")
    parties = c.Parties(header)
    order = {
        "id": c.required(big, 4),
        "date": c.date(big, 3),
        "retailer": parties.party(c.RETAILER_CODES) or c.receiver(tset.envelope),
        "supplier": parties.party(c.SUPPLIER_CODES) or c.sender(tset.envelope),
        "ship_to": parties.address("ST"),
        "lines": [_line(n, loop) for n, loop in enumerate(loops, start=1)],
    }
    itd = next((s for s in header if s.tag == "ITD"), None)
    invoice = {
        "id": c.required(big, 2),
        "date": c.date(big, 1),
        "total": c.amount(tds, 1),
        "currency": c.optional(next((s for s in header if s.tag == "CUR"), None), 2),
        "terms": c.optional(itd, 12),
        "shipped_on": c.dtm(header, "011"),
        "charges": [_charge(s) for s in summary if s.tag == "SAC"],
    }
    return [{"type": "order.invoiced", "order": order, "invoice": invoice,
             "x12": c.envelope_info(tset)}]


def _line(number: int, loop: list[Segment]) -> dict[str, Any]:
    it1 = loop[0]
    ids = c.product_ids(it1, 6)
    pid = next((s for s in loop if s.tag == "PID"), None)
    return {"line": number, "line_id": c.optional(it1, 1), "sku": c.sku(ids), "ids": ids,
            "qty": c.number(it1, 2), "unit": c.optional(it1, 3), "price": c.number(it1, 4),
            "description": c.optional(pid, 5)}


def _charge(sac: Segment) -> dict[str, Any]:
    indicator = c.required(sac, 1)
    return {"kind": SAC_KINDS.get(indicator, "other"), "code": c.optional(sac, 2),
            "amount": c.amount(sac, 5), "description": c.optional(sac, 15)}
