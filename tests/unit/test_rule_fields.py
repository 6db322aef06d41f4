"""Conditions see only the event fields they name, and the whole event when they need it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tidings.project import loader
from tidings.rules.engine import Router, event_paths, prune

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("conditions", "expected"), [
    (["true"], {}),
    (["double(event.order.total) >= 500.0", "event . customer.vip"],
     {"order": {"total": None}, "customer": {"vip": None}}),
    (['has(event.order) && event.order.lines.exists(l, l.qty > 2)'], {"order": None}),
    (["event.order.lines.exists(l, l.qty > 2)", "event.order.id != ''"],
     {"order": {"lines": None, "id": None}}),
    (['type == "x"', 'event.order["id"] != ""'], {"order": None}),
    (["event.order.lines[0].qty > 1", "event.order.lines[1].sku == 'A'"],
     {"order": {"lines": None}}),
    (["event.a.b.c == 1", "event.a.b == {}", "event.a.b.d == 2"], {"a": {"b": None}}),
    (["event.a == {}", "event.a.b.c == 1"], {"a": None}),
    (["size(event) > 1"], None),
    (['event["order"].total > 1.0'], None),
    (["event.exists(k, k == 'order')"], None),
    (["true", "event == {}"], None),
])
def test_paths_named_by_conditions(conditions: list[str], expected: dict | None) -> None:
    assert event_paths(conditions) == expected


def test_prune_keeps_what_the_paths_name_and_nothing_more() -> None:
    payload = {"order": {"id": "SO-1", "total": 5.0, "lines": [{"qty": 1}]},
               "customer": "not an object", "note": "x"}
    paths = {"order": {"total": None, "missing": None}, "customer": {"vip": None},
             "absent": None}
    # a field that is not there stays absent (has() is false); a value that is not an
    # object is kept whole, so a condition reading a field of it fails as it would have
    assert prune(payload, paths) == {"order": {"total": 5.0}, "customer": "not an object"}
    assert prune(payload, {"order": {"lines": None}}) == {"order": {"lines": [{"qty": 1}]}}


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


NESTED = """
[[rules]]
name = "has-note"
tenant = "acme"
message_type = "order.confirmed"
when = "has(event.order.note) && event.order.note == 'gift'"
to = ["ops@acme.example"]
template = "order_confirmed"

[[rules]]
name = "size-of-order"
tenant = "acme"
message_type = "order.confirmed"
when = "size(event.order) == 5"
to = ["ops@acme.example"]
template = "order_confirmed"
"""


def test_conditions_on_nested_fields_see_the_fields_they_name(project_dir: Path) -> None:
    # "size(event.order)" needs the whole order, so it sees its five fields even though
    # another rule of the same event names only order.note
    assert _routed(project_dir, NESTED, _payload(10.0)) == ["confirmation-email"]
    order = {**_payload(10.0)["order"], "note": "gift"}
    assert _routed(project_dir, "", {**_payload(10.0), "order": order}) \
        == ["confirmation-email", "has-note", "size-of-order"]
