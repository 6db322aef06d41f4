"""The operator's objects: read, create, change, delete, and seed them from the project.

Source of truth. ``tidings.toml`` *seeds* the database; the database is what
every process works from. At start (``Runtime.start``), on the first read of
an empty catalog and on ``tidings sync``, the project's channels, providers,
communication channels and status rows are written with origin ``project``:
missing ones are created, changed ones updated, ones removed from the file
deleted (unless still in use). Objects created or changed through the API or
the CLI get origin ``operator`` and are left alone by later syncs, so an
operator's edit survives a restart; ``tidings sync --reset`` puts the file's
version back. Every write moves the catalog version on, and each dispatcher
reloads the provider settings at its next step.

Kinds: ``channel`` (ChannelConfig), ``provider`` (ProviderConfig),
``communication`` (CommunicationChannelConfig). Errors::

    ChannelError
    ├── NotFound   (also LookupError) no object of that name
    ├── Conflict   the name or code is taken, or the object is still in use
    └── Invalid    (also ValueError) ``errors``: [(JSON pointer, detail)]
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from contextlib import AbstractContextManager
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import Engine, func, select

from tidings.channels import connection, seeds
from tidings.channels.catalog import Catalog
from tidings.channels.statuses import ACTIONS, StatusRow
from tidings.channels.statuses import seeds_for as statuses_seeds
from tidings.clock import Clock
from tidings.domain.states import State
from tidings.project.model import (
    ChannelConfig,
    CommunicationChannelConfig,
    ProjectConfig,
    ProviderConfig,
)
from tidings.storage import tables
from tidings.storage.channels_sql import Config, Editor, SqlChannels, SyncReport

__all__ = ["KINDS", "ChannelError", "ChannelService", "Conflict", "Invalid", "NotFound"]

KINDS: dict[str, type[BaseModel]] = {"channel": ChannelConfig, "provider": ProviderConfig,
                                     "communication": CommunicationChannelConfig}
LABELS = {"channel": "channel", "provider": "provider",
          "communication": "communication channel"}
_WAITING = (State.QUEUED.value, State.DEFERRED.value, State.HELD.value, State.ACTIVE.value)


class ChannelError(Exception):
    """Base of the errors of the operator's objects."""


class NotFound(ChannelError, LookupError):
    pass


class Conflict(ChannelError):
    pass


class Invalid(ChannelError, ValueError):
    def __init__(self, errors: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{p or '/'}: {d}" for p, d in errors))
        self.errors = errors


class ChannelService:
    def __init__(self, engine: Engine, clock: Clock, project: ProjectConfig) -> None:
        self.sql = SqlChannels(engine)
        self.engine, self.clock, self.project = engine, clock, project
        self._cache: Catalog | None = None
        self._lock = threading.Lock()

    # -- reading --------------------------------------------------------------------------

    def catalog(self) -> Catalog:
        """The current snapshot: one cheap version read, a reload only after a change."""
        version = self.sql.version()
        if version is None:
            self.sync()
            version = self.sql.version()
        with self._lock:
            if self._cache is None or self._cache.version != version:
                self._cache = self.sql.load()
            return self._cache

    def objects(self, kind: str) -> list[Config]:
        return list(_objects(self.catalog(), kind).values())

    def get(self, kind: str, name: str) -> Config:
        found = _objects(self.catalog(), kind).get(name)
        if found is None:
            raise NotFound(f"no {LABELS[kind]} {name!r}")
        return found

    def statuses(self, provider: str) -> list[StatusRow]:
        catalog = self.catalog()
        if provider not in catalog.providers:
            raise NotFound(f"no provider {provider!r}")
        return catalog.statuses.rows(provider)

    # -- writing --------------------------------------------------------------------------

    def sync(self, reset: bool = False) -> SyncReport:
        return self.sql.sync(seeds.from_project(self.project), self.clock.now(), reset)

    def create(self, kind: str, data: Mapping[str, Any]) -> Config:
        config = _validate(kind, data)
        with self._editing() as edit:
            if edit.origin(kind, config.name) is not None:
                raise Conflict(f"{LABELS[kind]} {config.name!r} exists")
            _check(kind, config, edit.catalog)
            edit.save(kind, config, "operator")
            if isinstance(config, ProviderConfig):
                _seed_statuses(edit, config)
        return config

    def update(self, kind: str, name: str, patch: Mapping[str, Any]) -> Config:
        with self._editing() as edit:
            current = _objects(edit.catalog, kind).get(name)
            if current is None:
                raise NotFound(f"no {LABELS[kind]} {name!r}")
            merged = {**current.model_dump(by_alias=True), **patch, "name": name}
            config = _validate(kind, merged)
            _check(kind, config, edit.catalog)
            edit.save(kind, config, "operator")
        return config

    def delete(self, kind: str, name: str) -> None:
        with self._editing() as edit:
            if edit.origin(kind, name) is None:
                raise NotFound(f"no {LABELS[kind]} {name!r}")
            users = _users(kind, name, edit.catalog) + _waiting(edit, kind, name)
            if users:
                raise Conflict(f"{LABELS[kind]} {name!r} is in use: " + ", ".join(users))
            edit.delete(kind, name)

    def set_status(self, provider: str, code: str, action: str,
                   description: str = "") -> StatusRow:
        if action not in ACTIONS:
            raise Invalid([("/action", f"must be one of {', '.join(ACTIONS)}")])
        if not code or len(code) > 32 or code != code.strip():
            raise Invalid([("/code", "1-32 characters, no surrounding spaces")])
        row = StatusRow(code, action, description[:300])  # type: ignore[arg-type]
        with self._editing() as edit:
            if provider not in edit.catalog.providers:
                raise NotFound(f"no provider {provider!r}")
            edit.save_status(provider, row, "operator")
        return row

    def delete_status(self, provider: str, code: str) -> None:
        with self._editing() as edit:
            if not edit.delete_status(provider, code):
                raise NotFound(f"provider {provider!r} has no status {code!r}")

    def _editing(self) -> AbstractContextManager[Editor]:
        """An operator's edit starts from the seeded catalog, never from an empty one."""
        if self.sql.version() is None:
            self.sync()
        return self.sql.editing(self.clock.now())



def _waiting(edit: Editor, kind: str, name: str) -> list[str]:
    if kind != "provider":
        return []
    m = tables.messages
    count = edit.conn.execute(select(func.count()).where(
        m.c.provider == name, m.c.state.in_(_WAITING))).scalar_one()
    return [f"{count} message(s) still waiting on it"] if count else []


def _objects(catalog: Catalog, kind: str) -> Mapping[str, Config]:
    if kind not in KINDS:
        raise NotFound(f"no kind {kind!r}")
    tables: dict[str, Mapping[str, Config]] = {
        "channel": catalog.channels, "provider": catalog.providers,
        "communication": catalog.communication}
    return tables[kind]


def _validate(kind: str, data: Mapping[str, Any]) -> Config:
    try:
        return KINDS[kind].model_validate(dict(data))  # type: ignore[return-value]
    except ValidationError as exc:
        raise Invalid([("/" + "/".join(str(p) for p in e["loc"]), e["msg"])
                       for e in exc.errors()]) from exc


def _check(kind: str, config: Config, catalog: Catalog) -> None:
    problems: list[tuple[str, str]] = []
    if isinstance(config, ChannelConfig):
        taken = [c.name for c in catalog.channels.values()
                 if c.code == config.code and c.name != config.name]
        if taken:
            raise Conflict(f"channel code {config.code} is taken by {taken[0]!r}")
    elif isinstance(config, ProviderConfig):
        if config.channel not in catalog.channels:
            problems.append(("/channel", f"no channel {config.channel!r}"))
        if config.type == "smtp" and "host" not in config.settings and not config.service_url:
            problems.append(("/settings", "smtp needs settings.host or a service_url"))
        problems += [(f"/settings/{key}", f"give secrets as {key}_env = \"ENV_VAR_NAME\"")
                     for key in connection.clear_secrets(config.settings)]
    elif isinstance(config, CommunicationChannelConfig):
        problems += _chain_problems(config, catalog)
    if problems:
        raise Invalid(problems)


def _chain_problems(config: CommunicationChannelConfig,
                    catalog: Catalog) -> list[tuple[str, str]]:
    problems = []
    if config.channel not in catalog.channels:
        problems.append(("/channel", f"no channel {config.channel!r}"))
    if len(set(config.providers)) != len(config.providers):
        problems.append(("/providers", "a provider is listed twice"))
    for i, name in enumerate(config.providers):
        provider = catalog.providers.get(name)
        if provider is None:
            problems.append((f"/providers/{i}", f"no provider {name!r}"))
        elif provider.channel != config.channel:
            problems.append((f"/providers/{i}",
                             f"provider {name!r} is on channel {provider.channel!r}"))
    return problems


def _users(kind: str, name: str, catalog: Catalog) -> list[str]:
    if kind == "channel":
        return [f"provider {p.name}" for p in catalog.providers.values() if p.channel == name] + \
            [f"communication channel {c.name}" for c in catalog.communication.values()
             if c.channel == name]
    if kind == "provider":
        return [f"communication channel {c.name}" for c in catalog.communication.values()
                if name in c.providers]
    return []


def _seed_statuses(edit: Editor, config: ProviderConfig) -> None:
    existing = edit.status_origins(config.name)
    for row in statuses_seeds(config.type):
        if (config.name, row.code) not in existing:
            edit.save_status(config.name, row, "seed")
