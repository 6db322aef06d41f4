"""The sla service: every operation of the API, the CLI and the portal, scoped to a viewer.

The API authenticates an API key, the portal a session user; both turn it into a
``parties.Viewer`` and call these methods, which apply the viewer's scope (through the
stores) before anything is read or written. What a viewer may not see raises
``parties.NotFound``: a retailer's key asking for another retailer's rules, a supplier's for
another supplier's subscription, any party for an order that is not its own.

Rules are dynamic: after a calendar or rule is written, the retailer's open obligations are
re-evaluated (``LifecycleStore.reevaluate``) before the call returns.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tidings.clock import Clock
from tidings.sla import exceptions as sla_exceptions
from tidings.sla import orders, parties, store
from tidings.sla import performance as sla_performance
from tidings.sla.subscriptions import SubscriptionError, SubscriptionInput

__all__ = ["EventsRejected", "SlaService"]

log = logging.getLogger(__name__)
RETAILER = parties.PartyKind.RETAILER
SUPPLIER = parties.PartyKind.SUPPLIER


@dataclass(frozen=True, slots=True)
class EventProblem:
    pointer: str
    detail: str


class EventsRejected(ValueError):
    """Some order events of a batch are invalid; none was recorded."""

    def __init__(self, problems: list[EventProblem]) -> None:
        super().__init__("; ".join(f"{p.pointer}: {p.detail}" for p in problems))
        self.problems = problems


class SlaService:
    def __init__(self, lifecycle: store.LifecycleStore, books: store.RuleBookStore,
                 reads: store.ReadStore, keys: store.KeyStore, digests: store.DigestStore,
                 clock: Clock) -> None:
        self.lifecycle, self.books, self.reads = lifecycle, books, reads
        self.keys, self.digests, self.clock = keys, digests, clock

    # -- order events -------------------------------------------------------------------

    def record(self, viewer: parties.Viewer,
               events: Sequence[tuple[str, Mapping[str, Any], str | None]],
               source: str = "api") -> list[Any]:
        """Record a batch of ``(type, data, external_id)``; all or nothing."""
        parsed, problems = [], []
        for index, (kind, data, external_id) in enumerate(events):
            try:
                parsed.append(orders.parse(kind, data, external_id))
            except orders.OrderEventError as exc:
                at = "/type" if exc.pointer == "/type" else f"/data{exc.pointer}"
                problems.append(EventProblem(f"/{index}{at}", exc.detail))
        if problems:
            raise EventsRejected(problems)
        try:
            return self.lifecycle.record(viewer, parsed, self.clock.now(), source)
        except orders.OrderEventError as exc:
            raise EventsRejected([EventProblem(f"/{exc.index or 0}/data{exc.pointer}",
                                               exc.detail)]) from exc

    def observe(self, conn: Any, tenant: str, kind: str, data: Mapping[str, Any],
                external_id: str | None) -> None:
        """Record an order event that came through the normal ingest, in its transaction."""
        if kind not in orders.EVENT_TYPES:
            return
        try:
            event = orders.parse(kind, data, external_id)
            self.lifecycle.record_in(conn, parties.Viewer.operator(tenant), event,
                                     self.clock.now(), "ingest")
        except (orders.OrderEventError, parties.NotFound) as exc:
            # The project's schema accepted it (a customer notification may share the type
            # name); SLA tracking cannot place it. The event itself is kept.
            log.info("order event %s (%s) not tracked for SLA: %s", external_id, kind, exc)

    # -- orders and exceptions ----------------------------------------------------------

    def order(self, viewer: parties.Viewer, order_id: int) -> dict[str, Any]:
        return self.lifecycle.order(viewer, order_id)

    def orders(self, viewer: parties.Viewer, **filters: Any) -> list[dict[str, Any]]:
        return self.lifecycle.orders(viewer, **filters)

    def exceptions(self, viewer: parties.Viewer, query: sla_exceptions.ExceptionQuery) -> Any:
        return self.reads.exceptions(viewer, query, self.clock.now())

    def exception(self, viewer: parties.Viewer, exception_id: int) -> dict[str, Any]:
        return self.reads.exception(viewer, exception_id, self.clock.now())

    def export(self, viewer: parties.Viewer, query: sla_exceptions.ExceptionQuery) -> Iterator[str]:
        return sla_exceptions.csv_lines(self.reads.export(viewer, query, self.clock.now()))

    def performance(self, viewer: parties.Viewer,
                    query: sla_performance.PerformanceQuery) -> list[dict[str, Any]]:
        return self.reads.performance(viewer, query)

    # -- rule books (the operator, or the retailer itself) --------------------------------

    def rule_book(self, viewer: parties.Viewer, retailer: str) -> dict[str, Any]:
        _own_retailer(viewer, retailer)
        book = self.books.describe(viewer.tenant, retailer)
        if book is None:
            raise parties.NotFound(f"retailer {retailer}")
        return book

    def retailers(self, viewer: parties.Viewer) -> list[str]:
        if viewer.kind is RETAILER:
            return [r for r in self.books.retailers(viewer.tenant) if r == viewer.party]
        if viewer.kind is SUPPLIER:
            return []
        return self.books.retailers(viewer.tenant)

    def put_calendar(self, viewer: parties.Viewer, retailer: str, doc: Mapping[str, Any],
                     name: str | None = None) -> dict[str, Any]:
        _own_retailer(viewer, retailer)
        calendar = self.books.put_calendar(viewer.tenant, retailer, doc, self.clock.now(), name)
        return {"calendar": calendar, "reevaluated": self._reevaluate(viewer, retailer)}

    def put_rule(self, viewer: parties.Viewer, retailer: str, rule_id: str,
                 doc: Mapping[str, Any]) -> dict[str, Any]:
        _own_retailer(viewer, retailer)
        rule = self.books.put_rule(viewer.tenant, retailer, rule_id, doc, self.clock.now())
        return {"id": rule_id, **rule, "reevaluated": self._reevaluate(viewer, retailer)}

    def delete_rule(self, viewer: parties.Viewer, retailer: str, rule_id: str) -> dict[str, Any]:
        _own_retailer(viewer, retailer)
        if not self.books.delete_rule(viewer.tenant, retailer, rule_id, self.clock.now()):
            raise parties.NotFound(f"rule {rule_id}")
        return {"reevaluated": self._reevaluate(viewer, retailer)}

    def _reevaluate(self, viewer: parties.Viewer, retailer: str) -> dict[str, int]:
        return self.lifecycle.reevaluate(viewer.tenant, retailer, self.clock.now())

    # -- digest subscriptions (the operator, or the supplier itself) ----------------------

    def subscribe(self, viewer: parties.Viewer, doc: Mapping[str, Any],
                  supplier: str | None = None) -> dict[str, Any]:
        supplier = _own_supplier(viewer, supplier)
        sub = SubscriptionInput.parse(doc)
        return self.digests.create(viewer.tenant, supplier, sub, self.clock.now())

    def update_subscription(self, viewer: parties.Viewer, sub_id: int,
                            doc: Mapping[str, Any]) -> dict[str, Any]:
        return self.digests.update(viewer, sub_id, dict(doc), self.clock.now())

    def subscription(self, viewer: parties.Viewer, sub_id: int) -> dict[str, Any]:
        return self.digests.get(viewer, sub_id)

    def subscriptions(self, viewer: parties.Viewer,
                      supplier: str | None = None) -> list[dict[str, Any]]:
        if viewer.kind is RETAILER:
            return []
        return self.digests.list_for(viewer, supplier)

    def unsubscribe(self, viewer: parties.Viewer, sub_id: int) -> None:
        self.digests.delete(viewer, sub_id)

    def digest_runs(self, viewer: parties.Viewer, sub_id: int) -> list[dict[str, Any]]:
        return self.digests.runs(viewer, sub_id)

    # -- party keys (operators only; the API and CLI check that) --------------------------

    def create_party_key(self, tenant: str, kind: parties.PartyKind, party: str,
                         label: str = "") -> str:
        return self.keys.create(tenant, kind, party, label, self.clock.now())

    def viewer_of(self, token: str) -> parties.Viewer | None:
        return self.keys.viewer_of(token)


def _own_retailer(viewer: parties.Viewer, retailer: str) -> None:
    if viewer.kind is SUPPLIER or (viewer.kind is RETAILER and viewer.party != retailer):
        raise parties.NotFound(f"retailer {retailer}")


def _own_supplier(viewer: parties.Viewer, supplier: str | None) -> str:
    if viewer.kind is RETAILER:
        raise parties.NotFound("subscriptions")
    if viewer.kind is SUPPLIER:
        if supplier not in (None, viewer.party):
            raise parties.NotFound(f"supplier {supplier}")
        assert viewer.party is not None
        return viewer.party
    if not supplier:
        raise SubscriptionError("supplier", "required: the supplier the user works for")
    return supplier
