"""Best status wins: any order of the same notices gives the same status and state."""

from __future__ import annotations

import itertools

import pytest

from tidings.domain.states import State
from tidings.feedback import precedence
from tidings.feedback.notices import Kind

RANKED = [Kind.DELAYED, Kind.SOFT_BOUNCE, Kind.DELIVERED, Kind.REJECTED, Kind.HARD_BOUNCE,
          Kind.COMPLAINED]


def fold(kinds: list[Kind], start: State = State.SENT) -> tuple[Kind | None, State]:
    status: Kind | None = None
    state = start
    for kind in kinds:
        status = precedence.best(status, kind)
        state = precedence.state_after(state, kind) or state
    return status, state


@pytest.mark.parametrize(("kinds", "status", "state"), [
    ([Kind.DELIVERED], Kind.DELIVERED, State.DELIVERED),
    ([Kind.HARD_BOUNCE, Kind.DELIVERED], Kind.HARD_BOUNCE, State.BOUNCED),  # no resurrection
    ([Kind.DELIVERED, Kind.COMPLAINED], Kind.COMPLAINED, State.DELIVERED),
    ([Kind.HARD_BOUNCE, Kind.COMPLAINED], Kind.COMPLAINED, State.BOUNCED),
    ([Kind.SOFT_BOUNCE, Kind.DELIVERED], Kind.DELIVERED, State.DELIVERED),
    ([Kind.DELAYED], Kind.DELAYED, State.SENT),
    ([Kind.SOFT_BOUNCE], Kind.SOFT_BOUNCE, State.SENT),
    ([Kind.REJECTED, Kind.DELIVERED], Kind.REJECTED, State.BOUNCED),
    ([Kind.UNSUBSCRIBED, Kind.UNKNOWN], None, State.SENT),
])
def test_table(kinds: list[Kind], status: Kind | None, state: State) -> None:
    for order in itertools.permutations(kinds):
        assert fold(list(order)) == (status, state), order


def test_every_order_of_every_status_agrees() -> None:
    results = {fold(list(order)) for order in itertools.permutations(RANKED)}
    assert results == {(Kind.COMPLAINED, State.BOUNCED)}


def test_ranks_are_a_total_order() -> None:
    assert [precedence.rank(k) for k in RANKED] == sorted({precedence.rank(k) for k in RANKED})
    assert precedence.rank(None) == precedence.rank("nonsense") == 0


@pytest.mark.parametrize("start", [State.QUEUED, State.ACTIVE, State.FAILED, State.SUPPRESSED])
def test_messages_not_yet_sent_are_not_moved(start: State) -> None:
    assert precedence.state_after(start, Kind.DELIVERED) is None
