"""Deadline timers: how far an obligation's clock has run, and what happens next.

An open obligation has a *stage* (``pending`` -> ``warned`` -> ``overdue``) and exactly one
timer row while it has a next stage: ``warn`` at its early-warning point, then ``due`` at its
deadline. Firing a ``warn`` timer raises a warning and re-arms the row for ``due``; firing a
``due`` timer opens the order exception and removes the row. Meeting or cancelling the
obligation removes the row. Timers live in the database, indexed on ``fire_at`` and claimed
like the outbox, so firing them never reads orders that are not due.

The pure part (``stage_at``, ``next_timer``, ``rewind``) also serves re-evaluation when a rule
changes: a deadline that moved later rewinds the stage (its exceptions are cancelled), one
that moved earlier leaves the stage and lets the timer fire at once.

``TimerLoop`` runs ``fire_due`` in a thread until stopped; every tick drains what is due.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from tidings.clock import Clock

__all__ = ["Fired", "Stage", "TimerLoop", "TimerStore", "next_timer", "rewind", "stage_at"]

log = logging.getLogger(__name__)
BATCH_SIZE = 500
TICK_SECONDS = 1.0


class Stage(StrEnum):
    PENDING = "pending"
    WARNED = "warned"
    OVERDUE = "overdue"


_RANK = {Stage.PENDING: 0, Stage.WARNED: 1, Stage.OVERDUE: 2}


@dataclass(frozen=True, slots=True)
class Fired:
    warnings: int = 0
    overdue: int = 0

    def __add__(self, other: Fired) -> Fired:
        return Fired(self.warnings + other.warnings, self.overdue + other.overdue)

    @property
    def total(self) -> int:
        return self.warnings + self.overdue


class TimerStore(Protocol):
    def fire_due(self, now: datetime, limit: int) -> Fired: ...


def stage_at(now: datetime, warn_at: datetime, due_at: datetime) -> Stage:
    """The stage a clock with these points has reached at ``now`` (deadlines are exclusive)."""
    if now >= due_at:
        return Stage.OVERDUE
    if now >= warn_at:
        return Stage.WARNED
    return Stage.PENDING


def rewind(current: Stage, desired: Stage) -> Stage:
    """A stage never advances here (timers do that); it only goes back when time was given."""
    return desired if _RANK[desired] < _RANK[current] else current


def next_timer(stage: Stage, warn_at: datetime, due_at: datetime) -> tuple[str, datetime] | None:
    """The timer row an open obligation at ``stage`` keeps: ``(kind, fire_at)`` or none."""
    if stage is Stage.PENDING:
        return "warn", min(warn_at, due_at)
    if stage is Stage.WARNED:
        return "due", due_at
    return None


class TimerLoop:
    """Fire due timers every ``tick_seconds`` until ``stop`` is set."""

    def __init__(self, store: TimerStore, clock: Clock, batch_size: int = BATCH_SIZE,
                 tick_seconds: float = TICK_SECONDS) -> None:
        self.store, self.clock = store, clock
        self.batch_size, self.tick_seconds = batch_size, tick_seconds

    def drain(self) -> Fired:
        """Fire everything due now, batch after batch (a warning re-arms its timer for the
        deadline, which may be due already: the next batch fires it)."""
        total = Fired()
        while True:
            fired = self.store.fire_due(self.clock.now(), self.batch_size)
            total += fired
            if fired.total == 0:
                return total

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                fired = self.drain()
                if fired.total:
                    log.info("sla timers fired: %s warnings, %s overdue",
                             fired.warnings, fired.overdue)
            except Exception:
                log.exception("sla timers failed")
            stop.wait(self.tick_seconds)
