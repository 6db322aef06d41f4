"""Best status wins: the order in which feedback ranks, and what it does to a message.

Sources disagree and arrive in any order (a delivery report after a bounce, a
complaint before the delivery, the same notification three times). Each
message therefore keeps the highest-ranked status it was ever told, and its
outbox state only ever moves up its own small ladder; both are maxima over
the set of notices, so any order of the same notices gives the same result.

| feedback status | rank | outbox state it asks for |
|-----------------|------|--------------------------|
| complained      | 6    | delivered                |
| hard_bounce     | 5    | bounced                  |
| rejected        | 4    | bounced                  |
| delivered       | 3    | delivered                |
| soft_bounce     | 2    | (stays)                  |
| delayed         | 1    | (stays)                  |

Outbox ladder: sent < delivered < bounced. A late delivery after a bounce
does not resurrect the message; a complaint proves delivery but does not undo
a bounce. A soft bounce is a temporary failure (a delay warning, a full
mailbox): it leaves the outbox state alone and loses to a later delivery.
``unsubscribed`` and ``unknown`` have no rank: they change no status.
"""

from __future__ import annotations

from tidings.domain.states import State, can_move
from tidings.feedback.notices import Kind

__all__ = ["RANK", "best", "outbox_target", "rank", "state_after"]

RANK: dict[Kind, int] = {
    Kind.DELAYED: 1,
    Kind.SOFT_BOUNCE: 2,
    Kind.DELIVERED: 3,
    Kind.REJECTED: 4,
    Kind.HARD_BOUNCE: 5,
    Kind.COMPLAINED: 6,
}
_TARGET: dict[Kind, State] = {
    Kind.DELIVERED: State.DELIVERED,
    Kind.COMPLAINED: State.DELIVERED,
    Kind.REJECTED: State.BOUNCED,
    Kind.HARD_BOUNCE: State.BOUNCED,
}
_LADDER: dict[State, int] = {State.SENT: 0, State.DELIVERED: 1, State.BOUNCED: 2}


def rank(kind: Kind | str | None) -> int:
    """0 for no status (or one without rank)."""
    if kind is None:
        return 0
    try:
        return RANK.get(Kind(kind), 0)
    except ValueError:
        return 0


def best(current: Kind | str | None, new: Kind) -> Kind | None:
    """The status that wins between what the message has and what arrived."""
    if rank(new) > rank(current):
        return new
    return Kind(current) if current is not None and rank(current) else None


def outbox_target(kind: Kind) -> State | None:
    return _TARGET.get(kind)


def state_after(current: State, kind: Kind) -> State | None:
    """The outbox state a notice moves a message to, or None to leave it."""
    target = _TARGET.get(kind)
    if target is None or current not in _LADDER:
        return None
    if _LADDER[target] <= _LADDER[current] or not can_move(current, target):
        return None
    return target
