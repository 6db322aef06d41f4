"""Factories for tests: events with overrides, runtimes on a given database."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from tidings.clock import Clock
from tidings.runtime.core import Runtime
from tidings.settings import Settings

TENANT = "acme"


def order_confirmed(order_id: str = "SO-1", email: str = "ada@example.com",
                    locale: str = "en", total: float = 129.9, **overrides: Any) -> dict[str, Any]:
    event: dict[str, Any] = {"type": "order.confirmed", "id": f"{order_id}-confirmed", "data": {
        "order": {"id": order_id, "total": total, "currency": "EUR",
                  "lines": [{"sku": "TENT-2P", "name": "Two-person tent", "qty": 1,
                             "price": total}]},
        "customer": {"name": "Ada Lovelace", "email": email, "locale": locale}}}
    return _merge(event, overrides)


def _merge(event: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(event)
    for key, value in overrides.items():
        out[key] = value
    return out


def make_runtime(project_dir: Path, db_url: str, clock: Clock | None = None,
                 **settings: Any) -> Runtime:
    return Runtime(Settings(project_dir=project_dir, database_url=db_url,
                            environment="test", secret_key="x" * 40, **settings), clock=clock)
