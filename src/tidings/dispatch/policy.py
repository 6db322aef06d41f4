"""A provider's delivery policy, and the pure retry decision.

Backoff doubles from the provider's retry interval and is clamped between that
interval and ``retry_max_interval`` (as Postfix clamps between its minimal and
maximal backoff). A provider's own Retry-After is honoured exactly. Only a
definite answer is terminal; ``Deferred`` after the last attempt fails the
message with the last reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from tidings.domain.outcomes import Bounced, Deferred, Failed, Outcome, Sent
from tidings.domain.states import State
from tidings.outbox.messages import Decision
from tidings.project.model import ProviderConfig

__all__ = ["Policy", "backoff", "decide", "in_window"]


@dataclass(frozen=True, slots=True)
class Policy:
    bulk_size: int = 100
    window_start: time = time(0, 0, 0)
    window_end: time = time(23, 59, 59)
    retry_max_attempts: int = 8
    retry_interval: timedelta = timedelta(minutes=1)
    retry_max_interval: timedelta = timedelta(hours=1)
    max_age: timedelta = timedelta(days=3)

    @classmethod
    def of(cls, config: ProviderConfig) -> Policy:
        return cls(bulk_size=config.bulk_size, window_start=config.interval_min,
                   window_end=config.interval_max, retry_max_attempts=config.retry_max_attempts,
                   retry_interval=config.retry_interval,
                   retry_max_interval=config.retry_max_interval, max_age=config.max_age)


def in_window(policy: Policy, now: datetime) -> bool:
    """True when ``now`` (UTC) lies in the daily send window; start > end wraps midnight."""
    moment = now.timetz().replace(tzinfo=None)
    start, end = policy.window_start, policy.window_end
    if start <= end:
        return start <= moment <= end
    return moment >= start or moment <= end


def backoff(policy: Policy, attempts: int) -> timedelta:
    """Delay before the next try after ``attempts`` tries (1-based)."""
    exponent = min(max(attempts - 1, 0), 30)
    delay: timedelta = policy.retry_interval * (2 ** exponent)
    ceiling: timedelta = min(delay, policy.retry_max_interval)
    return max(policy.retry_interval, ceiling)


def decide(outcome: Outcome, attempts: int, policy: Policy, now: datetime) -> Decision:
    match outcome:
        case Sent(response=response, provider_id=provider_id):
            return Decision(State.SENT, "accepted", response, provider_id=provider_id)
        case Bounced(reason=reason, hard=hard):
            return Decision(State.BOUNCED, ("hard" if hard else "soft") + " bounce", reason)
        case Failed(reason=reason):
            return Decision(State.FAILED, "failed", reason)
        case Deferred(reason=reason, retry_after_seconds=retry_after):
            if attempts >= policy.retry_max_attempts:
                return Decision(State.FAILED, f"retries exhausted after {attempts}", reason)
            delay = (timedelta(seconds=retry_after) if retry_after is not None
                     else backoff(policy, attempts))
            return Decision(State.DEFERRED, "deferred", reason, due_at=now + delay)
    raise TypeError(f"not an outcome: {outcome!r}")
