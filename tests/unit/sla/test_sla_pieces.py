"""The small pure pieces of the sla stage: rule-book documents, timer stages, subscription
input, exception queries and CSV, digest context, scheduler decisions, viewers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest

from tidings.sla import exceptions, parties, rulebook, scheduler, subscriptions, timers
from tidings.sla.digests import context

T = datetime(2026, 7, 6, 12, 0, tzinfo=UTC)


# -- rule books ---------------------------------------------------------------------------

def test_calendar_documents_round_trip() -> None:
    doc = {"timezone": "Europe/Berlin", "working_days": [0, 1, 2, 3, 4, 5],
           "holidays_country": "DE", "holidays_subdiv": "BY",
           "extra_holidays": ["2026-12-24"], "cutoff": "14:00", "day_start": "08:00",
           "day_end": "18:00"}
    cal = rulebook.calendar_from_json(doc)
    assert cal.cutoff == time(14) and cal.working_days == frozenset(range(6))
    assert rulebook.calendar_to_json(cal) == doc


@pytest.mark.parametrize(("doc", "message"), [
    ({"timezone": "Mars/Olympus"}, "unknown time zone"),
    ({"working_days": [7]}, "working days"),
    ({"working_days": "mon"}, "working_days must be a list"),
    ({"cutoff": "2pm"}, "cutoff must be a time"),
    ({"extra_holidays": ["24.12.2026"]}, "extra_holidays"),
    ({"holidays_country": "XX"}, "no holiday table"),
    ({"colour": "red"}, "unknown keys colour"),
])
def test_bad_calendars_say_what_is_wrong(doc: dict[str, Any], message: str) -> None:
    with pytest.raises(rulebook.RuleBookError, match=message):
        rulebook.calendar_from_json(doc)


def test_rule_documents_default_their_events() -> None:
    rule = rulebook.rule_from_json("r", "inv", {"obligation": "invoice",
                                                "deadline": {"hours": 24}})
    assert (rule.starts_on, rule.met_by) == ("order.shipped", "order.invoiced")
    assert rulebook.rule_to_json(rule)["deadline"] == {"hours": 24.0,
                                                       "business_hours_only": False}


@pytest.mark.parametrize(("doc", "message"), [
    ({"obligation": "dance", "deadline": {"hours": 1}}, "obligation must be one of"),
    ({"obligation": "ship"}, "deadline must be an object"),
    ({"obligation": "ship", "deadline": {"hours": 1, "business_days": 1}}, "exactly one"),
    ({"obligation": "ship", "deadline": {"weeks": 1}}, "unknown keys weeks"),
    ({"obligation": "ship", "deadline": {"hours": 1}, "condition": "order.("}, "compile"),
    ({"obligation": "ship", "deadline": {"hours": 1}, "warn_at_fraction": 2}, "warn_at"),
    ({"obligation": "ship", "deadline": {"hours": 1}, "starts_on": 5}, "starts_on must be"),
])
def test_bad_rules_say_what_is_wrong(doc: dict[str, Any], message: str) -> None:
    with pytest.raises(rulebook.RuleBookError, match=message):
        rulebook.rule_from_json("r", "x", doc)


# -- timer stages -------------------------------------------------------------------------

WARN, DUE = T + timedelta(hours=8), T + timedelta(hours=10)
S = timers.Stage


@pytest.mark.parametrize(("now", "stage"), [
    (T, S.PENDING), (WARN - timedelta(microseconds=1), S.PENDING), (WARN, S.WARNED),
    (DUE - timedelta(microseconds=1), S.WARNED), (DUE, S.OVERDUE)])
def test_stage_at_uses_exclusive_deadlines(now: datetime, stage: timers.Stage) -> None:
    assert timers.stage_at(now, WARN, DUE) is stage


@pytest.mark.parametrize(("current", "desired", "result"), [
    (S.OVERDUE, S.PENDING, S.PENDING), (S.OVERDUE, S.WARNED, S.WARNED),
    (S.PENDING, S.OVERDUE, S.PENDING), (S.WARNED, S.WARNED, S.WARNED)])
def test_rewind_only_goes_back(current: timers.Stage, desired: timers.Stage,
                               result: timers.Stage) -> None:
    assert timers.rewind(current, desired) is result


def test_next_timer_per_stage() -> None:
    assert timers.next_timer(S.PENDING, WARN, DUE) == ("warn", WARN)
    assert timers.next_timer(S.PENDING, DUE + timedelta(1), DUE) == ("warn", DUE)
    assert timers.next_timer(S.WARNED, WARN, DUE) == ("due", DUE)
    assert timers.next_timer(S.OVERDUE, WARN, DUE) is None


@dataclass
class FakeTimers:
    batches: list[timers.Fired] = field(default_factory=list)

    def fire_due(self, now: datetime, limit: int) -> timers.Fired:
        return self.batches.pop(0) if self.batches else timers.Fired()


def test_drain_runs_until_a_batch_fires_nothing() -> None:
    store = FakeTimers([timers.Fired(2, 0), timers.Fired(0, 2), timers.Fired()])
    loop = timers.TimerLoop(store, type("C", (), {"now": staticmethod(lambda: T)})(),
                            batch_size=500)
    assert loop.drain() == timers.Fired(2, 2)


# -- subscriptions ------------------------------------------------------------------------

def test_subscriptions_are_edited_as_days_and_time() -> None:
    sub = subscriptions.SubscriptionInput.parse({
        "email": "Ops <OPS@Socks.example>", "days": ["Mon", "wednesday", "fri"],
        "time": "07:30", "timezone": "Europe/Berlin", "obligations": ["ship", "ship"]})
    assert sub.email == "ops@socks.example" and sub.cron == "30 7 * * 1,3,5"
    assert sub.obligations == ("ship",) and sub.retailers is None and not sub.send_empty
    view = subscriptions.describe(sub.patched({"days": ["sun"], "enabled": False}))
    assert (view["days"], view["cron"], view["enabled"]) == (["sun"], "30 7 * * 0", False)


@pytest.mark.parametrize(("doc", "field_name"), [
    ({"days": ["mon"], "time": "08:00", "timezone": "UTC"}, "email"),
    ({"email": "a@b.c", "days": [], "time": "08:00", "timezone": "UTC"}, "days"),
    ({"email": "a@b.c", "days": ["someday"], "time": "08:00", "timezone": "UTC"}, "days"),
    ({"email": "a@b.c", "days": ["mon"], "time": "08:00:30", "timezone": "UTC"}, "time"),
    ({"email": "a@b.c", "days": ["mon"], "time": "08:00", "timezone": "CEST"}, "timezone"),
    ({"email": "a@b\r\nBcc: x@y", "days": ["mon"], "time": "08:00", "timezone": "UTC"},
     "email"),
    ({"email": "a@b.c", "days": ["mon"], "time": "08:00", "timezone": "UTC",
      "obligations": ["dance"]}, "obligations"),
    ({"email": "a@b.c", "days": ["mon"], "time": "08:00", "timezone": "UTC",
      "retailers": []}, "retailers"),
    ({"email": "a@b.c", "days": ["mon"], "time": "08:00", "timezone": "UTC",
      "send_empty": "yes"}, "send_empty"),
    ({"email": "a@b.c", "days": ["mon"], "time": "08:00", "timezone": "UTC", "cron": "*"},
     "cron"),
])
def test_bad_subscriptions_name_the_field(doc: dict[str, Any], field_name: str) -> None:
    with pytest.raises(subscriptions.SubscriptionError) as info:
        subscriptions.SubscriptionInput.parse(doc)
    assert info.value.field == field_name


# -- exception queries and CSV ------------------------------------------------------------

def test_query_checks_and_age_bounds() -> None:
    with pytest.raises(exceptions.QueryError, match="status"):
        exceptions.ExceptionQuery(status="closed")
    query = exceptions.ExceptionQuery(min_age_hours=2, max_age_hours=5)
    assert query.due_bounds(T) == (T - timedelta(hours=5), T - timedelta(hours=2))


def test_csv_quotes_formulas_and_commas() -> None:
    row = {"id": 1, "retailer": "r", "supplier": "s, inc.", "order_id": 7, "order_ref": "=1+1",
           "obligation": "ship", "kind": "overdue", "status": "open", "due_at": T,
           "opened_at": T, "closed_at": None, "met_at": None, "lateness_seconds": 5400.0}
    lines = list(exceptions.csv_lines([row]))
    assert lines[0] == ",".join(exceptions.CSV_COLUMNS) + "\r\n"
    assert lines[1] == ('1,r,"s, inc.",7,\'=1+1,ship,overdue,open,2026-07-06T12:00:00+00:00,'
                        '2026-07-06T12:00:00+00:00,,,1.50\r\n')


# -- digest context -----------------------------------------------------------------------

@dataclass(frozen=True)
class Section:
    retailer: str
    name: str
    counts: dict[str, dict[str, int]]
    most_overdue: list[dict[str, Any]]


def test_digest_context_per_retailer_in_the_users_zone() -> None:
    sub = {"timezone": "America/New_York", "name": "", "email": "ops@s.example",
           "supplier": "s1"}
    sections = [Section("r1", "Acme", {"ship": {"overdue": 2, "warning": 1}, "acknowledge": {
        "overdue": 1, "warning": 0}}, [{"order_ref": "PO-1", "obligation": "ship",
                                         "due_at": T - timedelta(days=1, hours=3)}]),
                Section("r 2", "", {"invoice": {"overdue": 0, "warning": 4}}, [])]
    data = context(sub, sections, T, T, "https://tidings.example/")
    assert (data["overdue"], data["at_risk"], data["empty"]) == (3, 5, False)
    first, second = data["sections"]
    assert [c["obligation"] for c in first["counts"]] == ["acknowledge", "ship"]
    assert first["orders"] == [{"order_ref": "PO-1", "obligation": "ship", "label": "Ship",
                                "due": "Sun 05 Jul 05:00", "late": "1 d 3 h"}]
    assert second["retailer_name"] == "r 2"
    assert second["link"] == ("https://tidings.example/portal/exceptions?retailer=r+2"
                              "&status=open")
    assert data["slot"] == "Monday 06 July 2026, 08:00" and data["user"]["name"] == \
        "ops@s.example"


# -- scheduler decisions ------------------------------------------------------------------

def test_decide_fires_the_latest_missed_slot_once() -> None:
    cron, zone = "0 9 * * *", "UTC"
    created = datetime(2026, 10, 19, 0, 0, tzinfo=UTC)
    assert scheduler.decide(cron, zone, created, created) == \
        (None, datetime(2026, 10, 19, 9, 0, tzinfo=UTC))
    later = datetime(2026, 10, 22, 12, 0, tzinfo=UTC)
    slot, next_run = scheduler.decide(cron, zone, created, later)
    assert slot == datetime(2026, 10, 22, 9, 0, tzinfo=UTC)
    assert next_run == datetime(2026, 10, 23, 9, 0, tzinfo=UTC)
    assert scheduler.decide(cron, zone, slot, later)[0] is None


# -- viewers ------------------------------------------------------------------------------

def test_viewers_see_their_own() -> None:
    assert parties.Viewer.operator("t").sees("t", "r", "s")
    assert not parties.Viewer.operator("t").sees("u", "r", "s")
    assert parties.Viewer.retailer("t", "r").sees("t", "r", "s")
    assert not parties.Viewer.retailer("t", "r").sees("t", "q", "s")
    assert parties.Viewer.supplier("t", "s").sees("t", "q", "s")
    assert not parties.Viewer.supplier("t", "s").sees("t", "r", "z")
    with pytest.raises(ValueError):
        parties.Viewer("t", parties.PartyKind.SUPPLIER)
