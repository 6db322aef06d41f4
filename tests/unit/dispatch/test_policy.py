from datetime import UTC, datetime, time, timedelta

import pytest

from tidings.dispatch.policy import Policy, backoff, decide, in_window
from tidings.domain.outcomes import Bounced, Deferred, Failed, Sent
from tidings.domain.states import State

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("start", "end", "at", "expected"), [
    (time(8), time(18), time(8), True),
    (time(8), time(18), time(7, 59, 59), False),
    (time(8), time(18), time(18), True),
    (time(8), time(18), time(18, 0, 1), False),
    (time(22), time(6), time(23, 30), True),   # wraps midnight
    (time(22), time(6), time(5, 59), True),
    (time(22), time(6), time(12), False),
    (time(0), time(23, 59, 59), time(23, 59, 59), True),
])
def test_send_window(start: time, end: time, at: time, expected: bool) -> None:
    policy = Policy(window_start=start, window_end=end)
    assert in_window(policy, datetime.combine(NOW.date(), at, UTC)) is expected


def test_backoff_doubles_from_interval_and_is_clamped() -> None:
    policy = Policy(retry_interval=timedelta(minutes=1), retry_max_interval=timedelta(minutes=10))
    assert [backoff(policy, n) for n in range(1, 7)] == [
        timedelta(minutes=m) for m in (1, 2, 4, 8, 10, 10)]


def test_decisions_table() -> None:
    policy = Policy(retry_max_attempts=3, retry_interval=timedelta(seconds=30))
    assert decide(Sent("250 ok"), 1, policy, NOW).state is State.SENT
    assert decide(Bounced("550 no such user"), 1, policy, NOW).state is State.BOUNCED
    assert decide(Failed("554 rejected"), 1, policy, NOW).state is State.FAILED
    deferred = decide(Deferred("451 try later"), 1, policy, NOW)
    assert (deferred.state, deferred.due_at) == (State.DEFERRED, NOW + timedelta(seconds=30))
    assert decide(Deferred("451"), 2, policy, NOW).due_at == NOW + timedelta(seconds=60)
    exhausted = decide(Deferred("451 try later"), 3, policy, NOW)
    assert exhausted.state is State.FAILED and "retries exhausted" in exhausted.reason


def test_retry_after_is_honoured_exactly() -> None:
    decision = decide(Deferred("429", retry_after_seconds=17), 1, Policy(), NOW)
    assert decision.due_at == NOW + timedelta(seconds=17)
