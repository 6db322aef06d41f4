"""The channels stage in SQL: the operator's objects, rate buckets, failover moves.

Every write to the operator's objects runs in one transaction that first
takes the catalog lock (``pg_advisory_xact_lock`` on PostgreSQL; SQLite's
``BEGIN IMMEDIATE`` already admits one writer) and ends by bumping the
catalog version, which dispatchers poll to reload. Two processes that seed
the same project at start are therefore serialised, and the second finds
nothing left to do.

The rate bucket of a provider is one row, read ``FOR UPDATE`` (PostgreSQL) or
under ``BEGIN IMMEDIATE`` (SQLite), refilled and taken from in the same
transaction: workers in any number of processes share it exactly.

A failover move is written like a decision: only while the row is still
leased to the worker that moves it.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

import orjson
from pydantic import ValidationError
from sqlalchemy import (
    Connection,
    Engine,
    Table,
    bindparam,
    delete,
    insert,
    or_,
    select,
    text,
    update,
)

from tidings.channels.catalog import Catalog
from tidings.channels.rate_limits import Grant, refill
from tidings.channels.seeds import Desired
from tidings.channels.statuses import StatusRow, StatusTable
from tidings.dispatch.extras import MessageExtras
from tidings.dispatch.failover import Reroute
from tidings.domain.states import State
from tidings.project.model import ChannelConfig, CommunicationChannelConfig, ProviderConfig
from tidings.storage import tables, tables_channels
from tidings.storage.engine import is_sqlite, reading
from tidings.storage.outbox_sql import SqlOutbox, TransitionRow

__all__ = [
    "Editor", "SqlChannels", "SqlRateLimiter", "SyncReport", "message_extras",
    "reroute", "set_message_extras",
]

log = logging.getLogger(__name__)
CATALOG_LOCK_KEY = 0x7469_6469  # "tidi": one advisory lock for all catalog writes
T = tables_channels
M = tables.messages
Config = ChannelConfig | ProviderConfig | CommunicationChannelConfig
_TABLES: dict[str, Table] = {"channel": T.channel_configs, "provider": T.channel_providers,
                             "communication": T.communication_channels}


def _hms(value: time) -> str:
    return value.strftime("%H:%M:%S")


def _row(kind: str, config: Config) -> dict[str, Any]:
    if isinstance(config, ProviderConfig):
        return _provider_row(config)
    if isinstance(config, CommunicationChannelConfig):
        return {"name": config.name, "channel": config.channel,
                "providers": orjson.dumps(config.providers).decode(),
                "default_action": config.default_action, "entity": config.entity}
    return {"name": config.name, "code": config.code, "kind": config.kind}


def _provider_row(c: ProviderConfig) -> dict[str, Any]:
    return {"name": c.name, "channel": c.channel, "type": c.type, "service_url": c.service_url,
            "user": c.user, "secret_env": c.secret_env, "from_address": c.from_address,
            "bulk_size": c.bulk_size, "interval_min": _hms(c.interval_min),
            "interval_max": _hms(c.interval_max), "retry_max_attempts": c.retry_max_attempts,
            "retry_interval_seconds": c.retry_interval.total_seconds(),
            "retry_max_interval_seconds": c.retry_max_interval.total_seconds(),
            "max_age_seconds": c.max_age.total_seconds(), "rate_per_second": c.rate_per_second,
            "open_tracking": c.open_tracking, "click_tracking": c.click_tracking,
            "settings": orjson.dumps(c.settings).decode()}


def _config(kind: str, row: Any) -> Config:
    m = row._mapping
    if kind == "provider":
        return ProviderConfig.model_validate({
            **{k: m[k] for k in ("name", "channel", "type", "service_url", "user", "secret_env",
                                 "from_address", "bulk_size", "interval_min", "interval_max",
                                 "retry_max_attempts", "rate_per_second", "open_tracking",
                                 "click_tracking")},
            "retry_interval": timedelta(seconds=m["retry_interval_seconds"]),
            "retry_max_interval": timedelta(seconds=m["retry_max_interval_seconds"]),
            "max_age": timedelta(seconds=m["max_age_seconds"]),
            "settings": orjson.loads(m["settings"])})
    if kind == "communication":
        return CommunicationChannelConfig(
            name=m["name"], channel=m["channel"], providers=orjson.loads(m["providers"]),
            default_action=m["default_action"], entity=m["entity"])
    return ChannelConfig(name=m["name"], code=m["code"], kind=m["kind"])


@dataclass
class SyncReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    """Objects an operator edited: left as they are (``--reset`` overwrites them)."""

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.removed)


class Editor:
    """Writes of one catalog transaction; ``catalog`` is the state before them."""

    def __init__(self, conn: Connection, catalog: Catalog, origins: dict[str, dict[str, str]],
                 now: datetime) -> None:
        self.conn, self.catalog, self.origins, self.now = conn, catalog, origins, now
        self.changed = False

    def origin(self, kind: str, name: str) -> str | None:
        return self.origins[kind].get(name)

    def save(self, kind: str, config: Config, origin: str) -> None:
        table = _TABLES[kind]
        values = {**_row(kind, config), "origin": origin, "updated_at": self.now}
        if config.name in self.origins[kind]:
            self.conn.execute(update(table).where(table.c.name == config.name).values(values))
        else:
            if kind == "provider":
                values["position"] = self._next_position()
            self.conn.execute(insert(table).values(values))
        self.origins[kind][config.name] = origin
        self.changed = True

    def delete(self, kind: str, name: str) -> None:
        table = _TABLES[kind]
        self.conn.execute(delete(table).where(table.c.name == name))
        if kind == "provider":
            s = T.provider_statuses
            self.conn.execute(delete(s).where(s.c.provider == name))
            self.conn.execute(delete(T.rate_buckets).where(T.rate_buckets.c.provider == name))
        self.origins[kind].pop(name, None)
        self.changed = True

    def save_status(self, provider: str, row: StatusRow, origin: str) -> None:
        s = T.provider_statuses
        self.conn.execute(delete(s).where(s.c.provider == provider, s.c.code == row.code))
        self.conn.execute(insert(s).values(provider=provider, code=row.code, action=row.action,
                                           description=row.description, origin=origin,
                                           updated_at=self.now))
        self.changed = True

    def delete_status(self, provider: str, code: str) -> bool:
        s = T.provider_statuses
        gone = self.conn.execute(delete(s).where(s.c.provider == provider, s.c.code == code))
        self.changed = self.changed or gone.rowcount > 0
        return gone.rowcount > 0

    def status_origins(self, provider: str | None = None) -> dict[tuple[str, str], str]:
        s = T.provider_statuses
        stmt = select(s.c.provider, s.c.code, s.c.origin)
        if provider is not None:
            stmt = stmt.where(s.c.provider == provider)
        return {(r.provider, r.code): r.origin for r in self.conn.execute(stmt)}

    def set_position(self, name: str, position: int) -> None:
        p = T.channel_providers
        self.conn.execute(update(p).where(p.c.name == name).values(position=position))

    def _next_position(self) -> int:
        p = T.channel_providers
        top = self.conn.execute(select(p.c.position).order_by(p.c.position.desc())).first()
        return (top[0] + 1) if top else 0


class SqlChannels:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.reader = reading(engine)
        self._sqlite = is_sqlite(engine)

    def version(self) -> int | None:
        """The catalog version; ``None`` before the first sync."""
        with self.reader.connect() as conn:
            return conn.execute(select(T.channel_catalog.c.version)
                                .where(T.channel_catalog.c.id == 1)).scalar()

    def load(self) -> Catalog:
        with self.reader.connect() as conn:
            return _load(conn)

    @contextmanager
    def editing(self, now: datetime, synced: bool = False) -> Iterator[Editor]:
        """One locked catalog transaction; the version moves on when anything changed."""
        with self.engine.begin() as conn:
            if not self._sqlite:
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CATALOG_LOCK_KEY})
            editor = Editor(conn, _load(conn), _origins(conn), now)
            yield editor
            if editor.changed:
                _bump(conn, now, synced)
            elif synced:
                _mark_synced(conn, now)

    def sync(self, desired: Desired, now: datetime, reset: bool = False) -> SyncReport:
        """Make the database hold what the project file says (see ``channels.service``)."""
        report = SyncReport()
        with self.editing(now, synced=True) as edit:
            for kind, configs in (("channel", desired.channels), ("provider", desired.providers),
                                  ("communication", desired.communication)):
                _sync_kind(edit, kind, configs, reset, report)
            for position, provider in enumerate(desired.providers):
                edit.set_position(provider.name, position)
            _sync_statuses(edit, desired, reset, report)
            _remove_stale(edit, desired, report)
        return report


def _load(conn: Connection) -> Catalog:
    version = conn.execute(select(T.channel_catalog.c.version)).scalar() or 0
    found: dict[str, dict[str, Any]] = {}
    for kind, table in _TABLES.items():
        stmt = select(table)
        stmt = stmt.order_by(table.c.position, table.c.name) if kind == "provider" else \
            stmt.order_by(table.c.name)
        found[kind] = {}
        for row in conn.execute(stmt):
            try:
                found[kind][row.name] = _config(kind, row)
            except ValidationError as exc:  # e.g. a provider type this build does not know
                log.error("channels: %s %r is unusable and ignored: %s", kind, row.name, exc)
    s = T.provider_statuses
    statuses: dict[str, list[StatusRow]] = {}
    for r in conn.execute(select(s.c.provider, s.c.code, s.c.action, s.c.description)):
        statuses.setdefault(r.provider, []).append(StatusRow(r.code, r.action, r.description))
    return Catalog(version, found["channel"], found["provider"], found["communication"],
                   StatusTable(statuses), _origins(conn))


def _origins(conn: Connection) -> dict[str, dict[str, str]]:
    return {kind: {r.name: r.origin for r in conn.execute(select(t.c.name, t.c.origin))}
            for kind, t in _TABLES.items()}


def _bump(conn: Connection, now: datetime, synced: bool) -> None:
    c = T.channel_catalog
    values: dict[str, Any] = {"version": c.c.version + 1}
    if synced:
        values["synced_at"] = now
    if conn.execute(update(c).where(c.c.id == 1).values(values)).rowcount == 0:
        conn.execute(insert(c).values(id=1, version=1, synced_at=now if synced else None))


def _mark_synced(conn: Connection, now: datetime) -> None:
    c = T.channel_catalog
    if conn.execute(update(c).where(c.c.id == 1).values(synced_at=now)).rowcount == 0:
        conn.execute(insert(c).values(id=1, version=1, synced_at=now))


def _current(edit: Editor, kind: str, name: str) -> Config | None:
    table = {"channel": edit.catalog.channels, "provider": edit.catalog.providers,
             "communication": edit.catalog.communication}[kind]
    return table.get(name)  # type: ignore[return-value]


def _sync_kind(edit: Editor, kind: str, configs: Sequence[Config], reset: bool,
               report: SyncReport) -> None:
    for config in configs:
        origin = edit.origin(kind, config.name)
        label = f"{kind} {config.name}"
        if origin == "operator" and not reset:
            report.kept.append(label)
            continue
        if origin is not None and _current(edit, kind, config.name) == config \
                and origin == "project":
            continue
        (report.created if origin is None else report.updated).append(label)
        edit.save(kind, config, "project")


def _sync_statuses(edit: Editor, desired: Desired, reset: bool, report: SyncReport) -> None:
    existing = edit.status_origins()
    for seeded in desired.statuses:
        key = (seeded.provider, seeded.row.code)
        origin = existing.get(key)
        if origin == "operator" and not reset:
            continue
        if origin == seeded.origin and _status_equal(edit, seeded.provider, seeded.row):
            continue
        edit.save_status(seeded.provider, seeded.row, seeded.origin)
    wanted = {(s.provider, s.row.code) for s in desired.statuses}
    for (provider, code), origin in existing.items():
        if origin == "project" and (provider, code) not in wanted:
            edit.delete_status(provider, code)  # the file no longer overrides it
            report.removed.append(f"status {provider} {code}")


def _status_equal(edit: Editor, provider: str, row: StatusRow) -> bool:
    return any(r == row for r in edit.catalog.statuses.rows(provider))


def _remove_stale(edit: Editor, desired: Desired, report: SyncReport) -> None:
    wanted = {"channel": {c.name for c in desired.channels},
              "provider": {p.name for p in desired.providers},
              "communication": {c.name for c in desired.communication}}
    for kind in ("communication", "provider", "channel"):
        for name, origin in list(edit.origins[kind].items()):
            if origin != "project" or name in wanted[kind]:
                continue
            if _still_used(edit, kind, name):
                report.kept.append(f"{kind} {name} (removed from the file, still in use)")
                continue
            edit.delete(kind, name)
            report.removed.append(f"{kind} {name}")


def _still_used(edit: Editor, kind: str, name: str) -> bool:
    live = {k: set(v) for k, v in edit.origins.items()}
    cat = edit.catalog
    if kind == "channel":
        return any(p.channel == name for n, p in cat.providers.items() if n in live["provider"])
    if kind == "provider":
        return any(name in c.providers for n, c in cat.communication.items()
                   if n in live["communication"])
    return False


# -- rate limits ---------------------------------------------------------------------------


class SqlRateLimiter:
    """Token buckets in the database, shared by every worker of every process."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sqlite = is_sqlite(engine)

    def acquire(self, provider: str, rate: float, burst: float, want: int,
                now: datetime) -> Grant:
        b = T.rate_buckets
        with self.engine.begin() as conn:
            row = self._locked(conn, provider, burst, now)
            if row.blocked_until is not None and row.blocked_until > now:
                return Grant(0, (row.blocked_until - now).total_seconds())
            tokens = refill(row.tokens, row.refilled_at, rate, burst, now)
            granted = min(want, math.floor(tokens))
            conn.execute(update(b).where(b.c.provider == provider).values(
                tokens=tokens - granted, refilled_at=max(now, row.refilled_at),
                blocked_until=None))
        wait = 0.0 if granted else (1.0 - (tokens - granted)) / rate
        return Grant(granted, wait)

    def refund(self, provider: str, count: int, burst: float) -> None:
        if count <= 0:
            return
        b = T.rate_buckets
        with self.engine.begin() as conn:
            tokens = conn.execute(select(b.c.tokens).where(b.c.provider == provider)
                                  .with_for_update()).scalar()
            if tokens is not None:
                conn.execute(update(b).where(b.c.provider == provider)
                             .values(tokens=min(burst, tokens + count)))

    def block(self, provider: str, until: datetime, now: datetime) -> None:
        b = T.rate_buckets
        with self.engine.begin() as conn:
            self._locked(conn, provider, 0.0, now)
            later = or_(b.c.blocked_until.is_(None), b.c.blocked_until < until)
            conn.execute(update(b).where(b.c.provider == provider, later)
                         .values(blocked_until=until, tokens=1.0, refilled_at=until))

    def _locked(self, conn: Connection, provider: str, burst: float, now: datetime) -> Any:
        b = T.rate_buckets
        query = select(b).where(b.c.provider == provider)
        if not self._sqlite:
            query = query.with_for_update()
        row = conn.execute(query).first()
        if row is None:
            conn.execute(_insert_bucket(conn, provider, burst, now))
            row = conn.execute(query).first()
        return row


def _insert_bucket(conn: Connection, provider: str, burst: float, now: datetime) -> Any:
    values = {"provider": provider, "tokens": burst, "refilled_at": now}
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert
        return pg_insert(T.rate_buckets).values(values).on_conflict_do_nothing()
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert
    return sqlite_insert(T.rate_buckets).values(values).on_conflict_do_nothing()


# -- messages: extras, failover moves, hand-added columns -------------------------------------


def message_extras(engine: Engine, ids: Sequence[int]) -> dict[int, MessageExtras]:
    if not ids:
        return {}
    stmt = select(M.c.id, M.c.channel, M.c.communication_channel, M.c.rule, M.c.payload) \
        .where(M.c.id.in_(list(ids)))
    with reading(engine).connect() as conn:
        return {r.id: MessageExtras(r.channel, r.communication_channel, r.rule,
                                    orjson.loads(r.payload or "{}")) for r in conn.execute(stmt)}


def reroute(outbox: SqlOutbox, worker: str, moves: Sequence[Reroute], now: datetime) -> int:
    """Write failover moves while the lease is still ours; returns rows moved."""
    if not moves:
        return 0
    stmt = (update(M).where(M.c.id == bindparam("b_id"), M.c.state == State.ACTIVE.value,
                            M.c.leased_by == worker)
            .values(provider=bindparam("b_provider"), state=bindparam("b_state"),
                    due_at=bindparam("b_due"), last_error=bindparam("b_error"),
                    provider_response=bindparam("b_response"), leased_by=None,
                    lease_until=None, updated_at=now))
    written: list[TransitionRow] = []
    with outbox.engine.begin() as conn:
        for move in moves:
            d = move.decision
            params = {"b_id": move.claimed.id, "b_provider": move.provider,
                      "b_state": d.state.value, "b_due": d.due_at or now,
                      "b_error": f"{d.reason}: {d.response}"[:2000],
                      "b_response": d.response[:2000] or None}
            if conn.execute(stmt, params).rowcount == 1:
                written.append(TransitionRow(move.claimed.id, State.ACTIVE.value, d.state.value,
                                             d.reason, d.response or None, worker))
        outbox.write_events(conn, written, now)
    return len(written)


def set_message_extras(conn: Connection, message_id: int, *, communication_channel: str | None,
                       window_start: str | None, window_end: str | None,
                       payload: dict[str, Any]) -> None:
    """The columns of a hand-added message that ``SqlOutbox.insert`` does not write."""
    conn.execute(update(M).where(M.c.id == message_id).values(
        communication_channel=communication_channel, window_start=window_start,
        window_end=window_end, payload=orjson.dumps(payload).decode()))
