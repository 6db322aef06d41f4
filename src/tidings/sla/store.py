"""The ports of the sla stage: what the service needs from storage.

``tidings.storage`` implements them for SQLite and PostgreSQL (``sla_sql.SqlLifecycle``,
``sla_rules_sql.SqlRuleBooks``, ``sla_reads_sql.SqlSlaReads``, ``sla_keys_sql.SqlPartyKeys``,
``sla_digests_sql.SqlDigests``). Every method that reads or writes a party's data takes the
``Viewer`` and applies its scope itself; what the viewer may not see raises ``NotFound``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from tidings.sla import exceptions as sla_exceptions
from tidings.sla import orders, parties, timers
from tidings.sla import performance as sla_performance
from tidings.sla.subscriptions import SubscriptionInput

__all__ = ["DigestStore", "KeyStore", "LifecycleStore", "ReadStore", "RuleBookStore"]


class LifecycleStore(Protocol):
    def record(self, viewer: parties.Viewer, events: Sequence[orders.OrderEvent],
               now: datetime, source: str) -> list[Any]: ...

    def record_in(self, conn: Any, viewer: parties.Viewer, event: orders.OrderEvent,
                  now: datetime, source: str) -> Any: ...

    def fire_due(self, now: datetime, limit: int) -> timers.Fired: ...

    def reevaluate(self, tenant: str, retailer: str, now: datetime) -> dict[str, int]: ...

    def order(self, viewer: parties.Viewer, order_id: int) -> dict[str, Any]: ...

    def orders(self, viewer: parties.Viewer, *, retailer: str | None = None,
               supplier: str | None = None, status: str | None = None,
               order_ref: str | None = None, before_id: int | None = None,
               limit: int = 50) -> list[dict[str, Any]]: ...


class RuleBookStore(Protocol):
    def describe(self, tenant: str, retailer: str) -> dict[str, Any] | None: ...

    def retailers(self, tenant: str) -> list[str]: ...

    def put_calendar(self, tenant: str, retailer: str, doc: Mapping[str, Any], now: datetime,
                     name: str | None = None) -> dict[str, Any]: ...

    def put_rule(self, tenant: str, retailer: str, rule_id: str, doc: Mapping[str, Any],
                 now: datetime) -> dict[str, Any]: ...

    def delete_rule(self, tenant: str, retailer: str, rule_id: str, now: datetime) -> bool: ...


class ReadStore(Protocol):
    def exceptions(self, viewer: parties.Viewer, query: sla_exceptions.ExceptionQuery,
                   now: datetime) -> Any: ...

    def exception(self, viewer: parties.Viewer, exception_id: int,
                  now: datetime) -> dict[str, Any]: ...

    def export(self, viewer: parties.Viewer, query: sla_exceptions.ExceptionQuery,
               now: datetime) -> Iterator[dict[str, Any]]: ...

    def performance(self, viewer: parties.Viewer,
                    query: sla_performance.PerformanceQuery) -> list[dict[str, Any]]: ...


class KeyStore(Protocol):
    def create(self, tenant: str, kind: parties.PartyKind, party: str, label: str,
               now: datetime) -> str: ...

    def viewer_of(self, token: str) -> parties.Viewer | None: ...

    def revoke(self, prefix: str, now: datetime) -> bool: ...

    def list(self, tenant: str | None = None) -> list[dict[str, Any]]: ...


class DigestStore(Protocol):
    def create(self, tenant: str, supplier: str, sub: SubscriptionInput,
               now: datetime) -> dict[str, Any]: ...

    def update(self, viewer: parties.Viewer, sub_id: int, doc: dict[str, Any],
               now: datetime) -> dict[str, Any]: ...

    def get(self, viewer: parties.Viewer, sub_id: int) -> dict[str, Any]: ...

    def list_for(self, viewer: parties.Viewer,
                 supplier: str | None = None) -> list[dict[str, Any]]: ...

    def delete(self, viewer: parties.Viewer, sub_id: int) -> None: ...

    def runs(self, viewer: parties.Viewer, sub_id: int,
             limit: int = 100) -> list[dict[str, Any]]: ...
