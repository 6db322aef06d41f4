"""Message states of the outbox and the transitions between them.

| state       | meaning                                                             |
|-------------|---------------------------------------------------------------------|
| queued      | rendered and accepted; waits for window, start date and rate        |
| active      | claimed by one dispatcher under a lease                              |
| deferred    | temporary failure; due again at ``due_at`` (backoff)                 |
| held        | paused by an operator                                                |
| sent        | accepted by the provider                                             |
| delivered   | confirmed delivered by feedback                                      |
| bounced     | refused for the recipient                                            |
| failed      | definite failure, or retries exhausted                               |
| suppressed  | recipient on the suppression list; no provider call was made         |
| expired     | its end date passed before it could be sent                          |
| cancelled   | cancelled by an operator                                             |
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["LEGAL", "TERMINAL", "State", "can_move"]


class State(StrEnum):
    QUEUED = "queued"
    ACTIVE = "active"
    DEFERRED = "deferred"
    HELD = "held"
    SENT = "sent"
    DELIVERED = "delivered"
    BOUNCED = "bounced"
    FAILED = "failed"
    SUPPRESSED = "suppressed"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


S = State
# States a message may still leave by the dispatcher's own doing.
WAITING = frozenset({S.QUEUED, S.DEFERRED, S.HELD})
TERMINAL = frozenset({S.SENT, S.DELIVERED, S.BOUNCED, S.FAILED, S.SUPPRESSED, S.EXPIRED,
                      S.CANCELLED})

LEGAL: dict[State, frozenset[State]] = {
    S.QUEUED: frozenset({S.ACTIVE, S.HELD, S.CANCELLED, S.EXPIRED, S.SUPPRESSED}),
    S.DEFERRED: frozenset({S.ACTIVE, S.HELD, S.CANCELLED, S.EXPIRED, S.QUEUED}),
    S.HELD: frozenset({S.QUEUED, S.CANCELLED}),
    S.ACTIVE: frozenset({S.SENT, S.DEFERRED, S.BOUNCED, S.FAILED, S.SUPPRESSED, S.QUEUED,
                         S.EXPIRED}),
    # Feedback may still move a sent message (delivery report, late bounce).
    S.SENT: frozenset({S.DELIVERED, S.BOUNCED}),
    S.DELIVERED: frozenset({S.BOUNCED}),
    S.BOUNCED: frozenset(),
    S.FAILED: frozenset({S.QUEUED}),
    S.SUPPRESSED: frozenset(),
    S.EXPIRED: frozenset({S.QUEUED}),
    S.CANCELLED: frozenset({S.QUEUED}),
}


def can_move(src: State, dst: State) -> bool:
    """True when the outbox may move a message from ``src`` to ``dst``."""
    return dst in LEGAL[src]
