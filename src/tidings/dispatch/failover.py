"""Failover: after a provider-level failure, the next provider of the message's channel.

A ``Deferred(failover=True)`` (timeout, 5xx, 401/403, or a status-table row
whose action is ``failover``) moves the message to the next provider of its
communication channel at once, keeping its Message-ID and its attempt count.
After the last provider it goes back to the first, but only after the
backoff a plain deferral would wait, so a channel whose every provider is
down is not hammered. When the attempts are used up, ``decide`` fails the
message as always. Everything else is ``decide``'s plain decision.

    outcome                      chain [a, b, c], on b          decision
    ---------------------------  -----------------------------  ----------------------------------
    Deferred(failover=True)      next provider c                queued on c, due now
    Deferred(failover=True)      on c, wraps to a               deferred on a, due after backoff
    Deferred(failover=True)      chain [b] (nothing else)       deferred on b (plain backoff)
    Deferred, Sent, Bounced...   -                              ``decide``'s decision
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from tidings.dispatch.policy import Policy, decide
from tidings.domain.outcomes import Deferred, Outcome
from tidings.domain.states import State
from tidings.outbox.messages import Claimed, Decision

__all__ = ["Reroute", "Route", "next_in_chain", "route"]


@dataclass(frozen=True, slots=True)
class Route:
    decision: Decision
    provider: str | None = None
    """Set: the message moves to this provider."""


@dataclass(frozen=True, slots=True)
class Reroute:
    """A leased message moving to another provider of its channel."""

    claimed: Claimed
    provider: str
    decision: Decision  # QUEUED (now) or DEFERRED (after backoff), with the reason


def next_in_chain(chain: Sequence[str], current: str) -> tuple[str, bool] | None:
    """(the provider after ``current``, whether the chain wrapped), or None if there is none."""
    if len(chain) < 2 or current not in chain:
        return None
    index = chain.index(current)
    if index + 1 < len(chain):
        return chain[index + 1], False
    return chain[0], True


def route(outcome: Outcome, attempts: int, policy: Policy, chain: Sequence[str], current: str,
          now: datetime) -> Route:
    decision = decide(outcome, attempts, policy, now)
    failover = isinstance(outcome, Deferred) and outcome.failover
    target = next_in_chain(chain, current) if failover else None
    if target is None or decision.state is not State.DEFERRED:
        return Route(decision)
    provider, wrapped = target
    if wrapped:
        return Route(Decision(State.DEFERRED, f"failover: {current} -> {provider} after backoff",
                              decision.response, decision.due_at), provider)
    return Route(Decision(State.QUEUED, f"failover: {current} -> {provider}",
                          decision.response, now), provider)
