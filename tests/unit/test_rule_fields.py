"""Conditions see only the event fields they name, and the whole event when they need it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tidings.project import loader
from tidings.rules.engine import Router, event_fields

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("conditions", "expected"), [
    (["true"], frozenset()),
    (["double(event.order.total) >= 500.0", "event . customer.vip"],
     frozenset({"order", "customer"})),
    (['has(event.order) && event.order.lines.exists(l, l.qty > 2)'], frozenset({"order"})),
    (['type == "x"', 'event.order["id"] != ""'], frozenset({"order"})),
    (["size(event) > 1"], None),
    (['event["order"].total > 1.0'], None),
    (["event.exists(k, k == 'order')"], None),
    (["true", "event == {}"], None),
])
def test_fields_named_by_conditions(conditions: list[str],
                                    expected: frozenset[str] | None) -> None:
    assert event_fields(conditions) == expected


RULES = """
[[rules]]
name = "whole-event"
tenant = "acme"
message_type = "order.confirmed"
when = "size(event) == 3"
to = ["ops@acme.example"]
template = "order_confirmed"
"""


def _routed(folder: Path, extra: str, payload: dict[str, object]) -> list[str]:
    path = folder / "tidings.toml"
    path.write_text(path.read_text() + extra)
    config, problems = loader.read(folder)
    assert config is not None, problems
    intents, _ = Router(config).route("acme", "order.confirmed", payload, NOW)
    return sorted({i.rule for i in intents})


def _payload(total: float, **more: object) -> dict[str, object]:
    return {"order": {"id": "SO-1", "total": total, "currency": "EUR", "lines": []},
            "customer": {"name": "Ann", "email": "ann@example.com"}, **more}


def test_a_condition_on_the_whole_event_sees_every_field(project_dir: Path) -> None:
    assert "whole-event" in _routed(project_dir, RULES, _payload(10.0, note="three fields"))


def test_a_condition_on_named_fields_still_routes(project_dir: Path) -> None:
    assert _routed(project_dir, "", _payload(900.0, note="x")) \
        == ["big-order-alert", "confirmation-email"]
    assert _routed(project_dir, "", _payload(10.0)) == ["confirmation-email"]
