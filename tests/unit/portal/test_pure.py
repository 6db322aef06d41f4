"""The portal's pure pieces: charts, sample skeletons, durations, actions, roll-ups, queries."""

from __future__ import annotations

import pytest

from tidings.domain.states import State
from tidings.portal import charts, csrf, samples, views
from tidings.portal.accounts import InvalidAccount, Role, User, check_binding, normal_login
from tidings.portal.pages import exceptions, messages, performance


@pytest.mark.parametrize(("value", "top"), [(0, 1), (0.3, 0.5), (1, 1), (7, 10), (12, 20),
                                            (23, 25), (99.5, 100), (1234, 2000)])
def test_nice_top(value: float, top: float) -> None:
    assert charts.nice_top(value) == top


def test_bars_escape_labels_and_count_axes_step_by_whole_numbers() -> None:
    svg = str(charts.bars("<b>t</b>", ["<x>", "y"], [("a&b", [1, 3])]))
    assert "<b>" not in svg and "&lt;x&gt;" in svg and "a&amp;b" in svg
    assert svg.count("<rect") == 2 and 'role="img"' in svg
    ticks = [t.split("</text>")[0].split(">")[-1] for t in svg.split('text-anchor="end">')[1:]]
    assert ticks[:5] == ["0", "1", "2", "3", "4"]


def test_lines_leave_gaps_for_missing_values() -> None:
    svg = str(charts.lines("t", ["w1", "w2", "w3"], [("s", [50.0, None, 75.0])], "%", 100))
    assert svg.count("<circle") == 2 and "100%" in svg


def test_many_long_labels_are_tilted() -> None:
    weeks = [f"2026-W{n:02d}" for n in range(1, 13)]
    assert "rotate(-35" in str(charts.bars("t", weeks, [("s", [1] * 12)]))
    assert "rotate(" not in str(charts.bars("t", ["a", "b"], [("s", [1, 2])]))


def test_skeleton_fills_required_properties() -> None:
    schema = {"type": "object", "required": ["order", "customer"], "properties": {
        "order": {"type": "object", "required": ["id", "lines"], "properties": {
            "id": {"type": "string"}, "lines": {"type": "array", "items": {
                "type": "object", "required": ["qty"],
                "properties": {"qty": {"type": "integer"}}}}}},
        "customer": {"type": "object", "properties": {"email": {"examples": ["a@b.example"]}}}}}
    assert samples.skeleton(schema) == {"order": {"id": "text", "lines": [{"qty": 1}]},
                                        "customer": {"email": "a@b.example"}}


@pytest.mark.parametrize(("seconds", "text"), [(59, "0 min"), (600, "10 min"),
                                               (3 * 3600 + 600, "3 h 10 min"),
                                               (2 * 86400 + 5 * 3600, "2 d 5 h"),
                                               (-7200, "2 h 0 min"), (None, "\u2013")])
def test_duration(seconds: float | None, text: str) -> None:
    assert views.duration(seconds) == text


@pytest.mark.parametrize(("state", "names"), [
    (State.QUEUED, ["hold", "cancel"]), (State.DEFERRED, ["hold", "requeue", "cancel"]),
    (State.HELD, ["release", "cancel"]), (State.FAILED, ["requeue"]),
    (State.SENT, []), (State.BOUNCED, [])])
def test_operator_actions_follow_the_legal_transitions(state: State, names: list[str]) -> None:
    assert [a.name for a in messages.actions_for(state)] == names


def test_rollup_weighs_rows_by_their_counts() -> None:
    rows = [{"week": "w1", "decided": 4, "on_time": 3, "late": 1, "open_overdue": 0,
             "avg_delay_hours": 2.0},
            {"week": "w1", "decided": 6, "on_time": 3, "late": 3, "open_overdue": 1,
             "avg_delay_hours": 5.0}]
    assert performance.rollup(rows, lambda r: r["week"])["w1"] == {
        "decided": 10, "on_time": 6, "late": 4, "open_overdue": 1, "on_time_pct": 60.0,
        "avg_delay_hours": 4.0}


def test_exception_filters_are_checked_and_a_party_cannot_widen_its_scope() -> None:
    supplier = User(1, "s@x.example", "", Role.SUPPLIER, "acme", "s1")
    query, errors = exceptions.query_of({"supplier": "s2", "status": "bogus", "age": "24h",
                                         "offset": "-3"}, supplier)
    assert query.supplier is None and query.status == "open" and query.min_age_hours == 24.0
    assert query.offset == 0 and [field for field, _ in errors] == ["status"]


def test_logins_and_bindings() -> None:
    assert normal_login(" Ada@Example.COM ") == "ada@example.com"
    with pytest.raises(InvalidAccount):
        normal_login("not a login")
    assert check_binding(Role.OPERATOR, " ") is None
    with pytest.raises(InvalidAccount):
        check_binding(Role.OPERATOR, "r1")
    with pytest.raises(InvalidAccount):
        check_binding(Role.SUPPLIER, None)
    with pytest.raises(ValueError, match="no SLA scope"):
        User(1, "b@x.example", "", Role.BUSINESS_UNIT, "acme", "web-shop").viewer()


def test_csrf_tokens_are_bound_to_their_session_and_secret() -> None:
    token = csrf.token_for("secret", "session-a")
    assert csrf.valid("secret", "session-a", token)
    assert not csrf.valid("secret", "session-b", token)
    assert not csrf.valid("other", "session-a", token)
    assert not csrf.valid("secret", None, token) and not csrf.valid("secret", "session-a", "")
