"""Mapping an X12 856 (advance ship notice) to one ``order.shipped`` event per order.

An 856 is a tree of HL loops (HL01 id, HL02 parent id, HL03 level): shipment
``S`` above order ``O``, above optional tare ``T`` and pack ``P``, above item
``I``. Both the standard pack (S-O-P-I) and pick-and-pack (S-O-I) orders are
read, by walking the tree rather than assuming a sequence.

- shipment (S): TD5 carrier (TD503) and routing (TD505), REF*BM bill of
  lading, DTM*011 ship date, DTM*017 estimated delivery, N1 ST/SF;
- order (O): PRF01 purchase order number (required), PRF04 order date;
- pack (P): MAN*GM serial shipping container code (SSCC), tracking;
- item (I): LIN product ids, SN1 quantity shipped (required) and unit, PID*F.

Tracking numbers come from REF*CN, REF*2I and MAN*CP at any level; an
order's ``tracking_numbers`` are those of its shipment and of its packages.
CTT01, when present, must count the HL segments. The event shape is in ``x12``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from tidings.formats import x12_common as c
from tidings.formats import x12_envelope

__all__ = ["map_856"]

Segment = c.Segment
SUMMARY = ("CTT", "SE")
TRACKING_REFS = ("CN", "2I")
SHIPPER_CODES = (*c.SUPPLIER_CODES, "SF")


@dataclass(slots=True)
class _Node:
    hl: Segment
    level: str
    parent: _Node | None
    segments: list[Segment]
    children: list[_Node] = field(default_factory=list)

    def find(self, tag: str, qualifier: str | None = None) -> Segment | None:
        return next((s for s in self.segments if s.tag == tag
                     and (qualifier is None or s.get(1) == qualifier)), None)

    def walk(self) -> Iterator[_Node]:
        yield self
        for child in self.children:
            yield from child.walk()

    def above(self, level: str) -> _Node | None:
        node = self.parent
        while node is not None and node.level != level:
            node = node.parent
        return node

    def tracking(self) -> list[str]:
        found = [s.get(2) for s in self.segments
                 if (s.tag == "REF" and s.get(1) in TRACKING_REFS)
                 or (s.tag == "MAN" and s.get(1) == "CP")]
        return [t.strip() for t in found if t.strip()]


def map_856(tset: x12_envelope.TransactionSet) -> list[dict[str, Any]]:
    """One ``order.shipped`` event per order (O) level of the ship notice."""
    header, loops, summary = c.split_loops(tset.segments[1:], "HL", SUMMARY)
    bsn = header[0] if header and header[0].tag == "BSN" else None
    if bsn is None:
        raise c.MapProblem(c.R.MISSING_FIELD, tset.segments[0].location,
                           "an 856 set starts with BSN after ST")
    c.check_count(next((s for s in summary if s.tag == "CTT"), None), len(loops), "HL segments")
    nodes = _tree(loops)
    orders = [n for n in nodes if n.level == "O"]
    if not orders:
        raise c.MapProblem(c.R.SCHEMA_VIOLATION, tset.location, "the 856 has no order (O) level")
    return [_event(tset, bsn, order) for order in orders]


def _tree(loops: list[list[Segment]]) -> list[_Node]:
    by_id: dict[str, _Node] = {}
    nodes = []
    for loop in loops:
        hl = loop[0]
        hl_id, parent_id, level = c.required(hl, 1), hl.get(2).strip(), c.required(hl, 3)
        parent = by_id.get(parent_id) if parent_id else None
        if hl_id in by_id or (parent_id and parent is None):
            raise c.MapProblem(c.R.SCHEMA_VIOLATION, hl.location,
                               f"HL {hl_id!r} repeats an id or names an unknown parent")
        node = _Node(hl, level, parent, loop[1:])
        if parent is not None:
            parent.children.append(node)
        by_id[hl_id] = node
        nodes.append(node)
    return nodes


def _event(tset: x12_envelope.TransactionSet, bsn: Segment, order: _Node) -> dict[str, Any]:
    ship = order.above("S")
    if ship is None:
        raise c.MapProblem(c.R.SCHEMA_VIOLATION, order.hl.location,
                           "the order (O) level has no shipment (S) above it")
    prf = order.find("PRF")
    if prf is None:
        raise c.MapProblem(c.R.MISSING_FIELD, order.hl.location, "the order level has no PRF")
    packs = [n for n in order.walk() if n.level == "P"]
    shipment = _shipment(bsn, ship, packs)
    ship_parties, order_parties = c.Parties(ship.segments), c.Parties(order.segments)
    body = {
        "id": c.required(prf, 1),
        "date": c.date(prf, 4),
        "retailer": order_parties.party(c.RETAILER_CODES)
        or ship_parties.party(c.RETAILER_CODES) or c.receiver(tset.envelope),
        "supplier": ship_parties.party(SHIPPER_CODES) or c.sender(tset.envelope),
        "ship_to": order_parties.address("ST") or ship_parties.address("ST"),
        "lines": [_item(n, item) for n, item in
                  enumerate((i for i in order.walk() if i.level == "I"), start=1)],
    }
    return {"type": "order.shipped", "order": body, "shipment": shipment,
            "x12": c.envelope_info(tset)}


def _shipment(bsn: Segment, ship: _Node, packs: list[_Node]) -> dict[str, Any]:
    td5 = ship.find("TD5")
    tracking = ship.tracking() + [t for p in packs for t in p.tracking()]
    return {
        "id": c.required(bsn, 2),
        "date": c.date(bsn, 3),
        "shipped_on": c.dtm(ship.segments, "011"),
        "estimated_delivery": c.dtm(ship.segments, "017"),
        "carrier": c.optional(td5, 3),
        "ship_method": c.optional(td5, 5) or c.optional(td5, 4),
        "bill_of_lading": c.refs(ship.segments).get("BM"),
        "tracking_numbers": list(dict.fromkeys(tracking)),
        "packages": [_package(p) for p in packs],
        "ship_from": c.Parties(ship.segments).address("SF"),
    }


def _package(pack: _Node) -> dict[str, Any]:
    man = pack.find("MAN", "GM") or pack.find("MAN")
    tracking = pack.tracking()
    return {"id": c.optional(man, 2), "tracking": tracking[0] if tracking else None}


def _item(number: int, item: _Node) -> dict[str, Any]:
    lin, sn1 = item.find("LIN"), item.find("SN1")
    if sn1 is None:
        raise c.MapProblem(c.R.MISSING_FIELD, item.hl.location, "the item level has no SN1")
    ids = c.product_ids(lin, 2) if lin is not None else {}
    pack = item.above("P")
    pack_tracking = pack.tracking() if pack is not None else []
    return {"line": number, "line_id": c.optional(lin, 1) or c.optional(sn1, 1),
            "sku": c.sku(ids), "ids": ids, "qty": c.number(sn1, 2), "unit": c.optional(sn1, 3),
            "description": c.optional(item.find("PID"), 5),
            "package": _package(pack)["id"] if pack is not None else None,
            "tracking": pack_tracking[0] if pack_tracking else None}
