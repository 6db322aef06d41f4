"""SLA rule selection (CEL over order and supplier) and deadlines computed from a rule.

Deadline expectations were written from a printed 2026 calendar: Labor Day Mon 7 Sep,
Independence Day observed Fri 3 Jul, New York DST from Sun 8 Mar, Berlin DST from Sun 29 Mar.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time
from decimal import Decimal
from typing import Any

import cel
import pytest

from tidings.sla import calendar, rules

Ob = rules.Obligation


def rule(rule_id: str, obligation: Ob = Ob.SHIP, **overrides: Any) -> rules.SlaRule:
    fields: dict[str, Any] = {
        "id": rule_id,
        "retailer": "acme",
        "obligation": obligation,
        "starts_on": "order.created",
        "met_by": "shipment.created",
        "deadline": rules.Deadline(business_days=2),
    }
    return rules.SlaRule(**(fields | overrides))


RULES = [
    rule("ship-default", is_default=True, priority=0),  # default goes last despite priority 0
    rule("ship-vip", condition="order.total > 500.0", priority=10),
    rule("ship-gross", condition="order.net * 1.19 > 1000.0", priority=12),
    rule("ship-express", condition='order.shipping == "express"', priority=20),
    rule("ship-gift", condition='"gift" in order.tags', priority=30),
    rule("ship-bronze", condition='supplier.tier == "bronze"', priority=15),
    rule("ship-bulky", condition="order.lines.exists(l, l.qty > 10.0)", priority=25),
    rule("ship-eu", condition='order.customs.region == "EU"', priority=5),
    rule("ack-default", Ob.ACKNOWLEDGE, deadline=rules.Deadline(hours=24), is_default=True),
    rule("ack-night", Ob.ACKNOWLEDGE, condition="order.hour >= 22.0", priority=1),
]


@pytest.mark.parametrize(
    ("obligation", "order", "supplier", "expected", "why"),
    [
        (Ob.SHIP, {"total": 129, "shipping": "standard"}, {}, "ship-default",
         "no condition holds (tags, lines, customs missing do not match): the default"),
        (Ob.SHIP, {"total": 600}, {}, "ship-vip", "an int total is compared as a double"),
        (Ob.SHIP, {"total": Decimal("600.00")}, {}, "ship-vip", "a Decimal too"),
        (Ob.SHIP, {"net": 900}, {}, "ship-gross",
         "int * double is a CEL type error; normalised to 900.0 it is 1071.0 > 1000.0"),
        (Ob.SHIP, {"total": 600, "shipping": "express"}, {}, "ship-vip",
         "both hold: priority 10 beats 20"),
        (Ob.SHIP, {"total": 50, "shipping": "express"}, {}, "ship-express", "express only"),
        (Ob.SHIP, {"total": 50, "tags": ["gift", "b2c"]}, {}, "ship-gift", "list membership"),
        (Ob.SHIP, {"total": 50}, {"tier": "bronze"}, "ship-bronze", "supplier condition"),
        (Ob.SHIP, {"total": 600}, {"tier": "bronze"}, "ship-vip", "priority 10 beats 15"),
        (Ob.SHIP, {"lines": [{"qty": 2}, {"qty": 12}]}, {}, "ship-bulky",
         "ints nested in a list of maps are normalised too"),
        (Ob.SHIP, {"total": 600, "customs": {"region": "EU"}}, {}, "ship-eu",
         "a nested key present: priority 5 wins"),
        (Ob.SHIP, {"total": True}, {}, "ship-default",
         "bools stay bools: true > 500.0 is a type error, so no match"),
        (Ob.ACKNOWLEDGE, {"hour": 23}, {}, "ack-night", "other obligation, own rules"),
        (Ob.ACKNOWLEDGE, {}, {}, "ack-default", "missing key falls through to the default"),
        (Ob.INVOICE, {"total": 600}, {}, None, "no rule for the obligation"),
    ],
)  # fmt: skip
def test_select_rule(
    obligation: Ob, order: dict[str, Any], supplier: dict[str, Any], expected: str | None, why: str
) -> None:
    chosen = rules.select_rule(RULES, obligation, order, supplier)
    assert (None if chosen is None else chosen.id) == expected, why


def test_ties_keep_the_given_order() -> None:
    first, second = rule("first", priority=7), rule("second", priority=7)
    assert rules.select_rule([first, second], Ob.SHIP, {}, {}) is first
    assert rules.select_rule([second, first], Ob.SHIP, {}, {}) is second


def test_a_default_rule_is_used_only_when_nothing_else_matches() -> None:
    default = rule("default", is_default=True, priority=-100)
    fallback = rule("catch-all", priority=1000)
    assert rules.select_rule([default, fallback], Ob.SHIP, {}, {}) is fallback


def test_conditions_are_compiled_once(monkeypatch: pytest.MonkeyPatch) -> None:
    built = [rule("vip", condition="order.total > 500.0")]

    def refuse(source: str) -> None:
        raise AssertionError(f"compiled again: {source}")

    monkeypatch.setattr(cel, "compile", refuse)
    for total in range(490, 510):
        chosen = rules.select_rule(built, Ob.SHIP, {"total": total}, {})
        assert (chosen is not None) == (total > 500)


def test_evaluate_reports_what_select_rule_skips() -> None:
    eu = rule("eu", condition='order.customs.region == "EU"')
    with pytest.raises(rules.RuleError, match="condition failed"):
        rules.evaluate(eu, {"total": 1}, {})
    number = rule("number", condition="order.total + 1.0")
    with pytest.raises(rules.RuleError, match="not a boolean"):
        rules.evaluate(number, {"total": 1}, {})
    assert rules.select_rule([number], Ob.SHIP, {"total": 1}, {}) is None
    guarded = rule("guarded", condition='has(order.customs) && order.customs.region == "EU"')
    assert rules.evaluate(guarded, {"total": 1}, {}) is False
    assert rules.evaluate(guarded, {"customs": {"region": "EU"}}, {}) is True


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"condition": "order.total >"}, "does not compile"),
        ({"obligation": "dance"}, "unknown obligation"),
        ({"warn_at_fraction": 0.0}, "warn_at_fraction"),
        ({"warn_at_fraction": 1.5}, "warn_at_fraction"),
    ],
)
def test_invalid_rules_are_refused(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(rules.RuleError, match=message):
        rule("bad", **overrides)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "exactly one"),
        ({"hours": 4, "business_days": 1}, "exactly one"),
        ({"hours": -1}, "finite"),
        ({"hours": float("inf")}, "finite"),
        ({"business_days": -1}, ">= 0"),
        ({"business_days": 1, "business_hours_only": True}, "hours deadline only"),
    ],
)
def test_invalid_deadlines_are_refused(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(rules.RuleError, match=message):
        rules.Deadline(**kwargs)


def test_strings_and_blanks_are_normalised() -> None:
    built = rule("plain", obligation="answer_return", condition="   ")  # type: ignore[arg-type]
    assert built.obligation is Ob.ANSWER_RETURN
    assert built.condition is None
    assert rules.select_rule([built], Ob.ANSWER_RETURN, {}, {}) is built
    assert [o.value for o in Ob] == [
        "acknowledge", "ship", "invoice", "answer_cancel", "answer_return",
    ]  # fmt: skip


NY = calendar.BusinessCalendar("America/New_York", holidays_country="US", cutoff=time(14))
NY_OFFICE = calendar.BusinessCalendar(
    "America/New_York",
    holidays_country="US",
    cutoff=time(14),
    day_start=time(9),
    day_end=time(17),
)
BERLIN = calendar.BusinessCalendar("Europe/Berlin", holidays_country="DE", cutoff=time(14))
BERLIN_ALWAYS = calendar.BusinessCalendar("Europe/Berlin", working_days=frozenset(range(7)))


@pytest.mark.parametrize(
    ("deadline", "fraction", "cal", "started", "due", "warn", "why"),
    [
        (rules.Deadline(business_days=2), 0.8, NY, "2026-09-04 15:00",
         "2026-09-10T14:00:00-04:00", "2026-09-10T01:36:00-04:00",
         "Fri after cut-off, Labor Day: clock Tue 8 Sep 00:00; whole-day business time "
         "Tue 24 h + Wed 24 h + Thu 14 h = 62 h, 80 % = 49.6 h -> Thu 01:36"),
        (rules.Deadline(business_days=2), 0.8, NY_OFFICE, "2026-09-04 15:00",
         "2026-09-10T14:00:00-04:00", "2026-09-10T09:48:00-04:00",
         "office 9-17: clock Tue 09:00; Tue 8 + Wed 8 + Thu 5 = 21 h, 80 % = 16.8 h -> Thu 09:48"),
        (rules.Deadline(hours=24), 0.8, NY, "2026-03-07 10:00",
         "2026-03-10T00:00:00-04:00", "2026-03-09T19:12:00-04:00",
         "real 24 h counted from the clock start (Sat -> Mon 9 Mar 00:00 EDT); warn at 19.2 h"),
        (rules.Deadline(hours=24), 0.5, BERLIN_ALWAYS, "2026-03-28 12:00",
         "2026-03-29T13:00:00+02:00", "2026-03-29T00:00:00+01:00",
         "7-day calendar: 24 real hours over the spring change; half-way is Sun 00:00 CET"),
        (rules.Deadline(hours=8, business_hours_only=True), 0.8, NY_OFFICE, "2026-07-02 11:00",
         "2026-07-06T11:00:00-04:00", "2026-07-06T09:24:00-04:00",
         "8 office hours: Thu 11-17 (6 h), Fri observed holiday, Mon 9-11; 6.4 h -> Mon 09:24"),
        (rules.Deadline(business_days=0), 0.8, BERLIN, "2026-06-08 13:00",
         "2026-06-08T14:00:00+02:00", "2026-06-08T13:48:00+02:00",
         "same day: one hour to the cut-off, warn after 48 minutes"),
        (rules.Deadline(business_days=1), 1.0, BERLIN, "2026-06-08 14:00",
         "2026-06-10T14:00:00+02:00", "2026-06-10T14:00:00+02:00",
         "at the cut-off: clock Tue, due Wed 14:00; a fraction of 1 warns at the deadline"),
    ],
)  # fmt: skip
def test_compute_deadline(
    deadline: rules.Deadline,
    fraction: float,
    cal: calendar.BusinessCalendar,
    started: str,
    due: str,
    warn: str,
    why: str,
) -> None:
    sla = replace(rule("r"), deadline=deadline, warn_at_fraction=fraction)
    start = datetime.fromisoformat(started).replace(tzinfo=cal.zone)
    due_at, warn_at = rules.compute_deadline(sla, cal, start)
    assert due_at.tzinfo is UTC and warn_at.tzinfo is UTC
    assert due_at.astimezone(cal.zone).isoformat() == due, why
    assert warn_at.astimezone(cal.zone).isoformat() == warn, why
