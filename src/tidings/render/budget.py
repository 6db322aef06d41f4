"""The per-render budget: deadline, iteration count and output size.

Python cannot stop a thread, so a render polices itself: the sandbox checks
the budget between output chunks, on every call, on every loop iteration and
in every size guard. The budget of the render in progress lives in a
context variable, so concurrent renders (threads, tasks) never share one.

Costs: ``range(n)`` and every ``{% for %}`` pay one unit per item, charged
when the iteration starts, so a nested loop is refused before it runs.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from tidings.render import errors

__all__ = [
    "Budget",
    "BudgetedRange",
    "Clock",
    "RenderLimits",
    "active",
    "budgeted_loop",
    "current",
    "tick",
]

Clock = Callable[[], float]


@dataclass(frozen=True, slots=True)
class RenderLimits:
    """Bounds for one render of one template part."""

    timeout_seconds: float = 1.0
    max_output_bytes: int = 2_000_000
    max_iterations: int = 100_000


class Budget:
    """What one render may still spend."""

    __slots__ = ("_clock", "deadline", "iterations_left", "limits")

    def __init__(self, limits: RenderLimits, clock: Clock = time.monotonic) -> None:
        self.limits = limits
        self._clock = clock
        self.deadline = clock() + limits.timeout_seconds
        self.iterations_left = limits.max_iterations

    def check_deadline(self) -> None:
        if self._clock() > self.deadline:
            raise errors.RenderTimeout(
                f"render exceeded {self.limits.timeout_seconds:g} s")

    def spend(self, items: int) -> None:
        """Pay for ``items`` iterations, refusing when the budget runs out."""
        if items > self.iterations_left:
            raise errors.RenderLimitExceeded(
                f"more than {self.limits.max_iterations} loop iterations")
        self.iterations_left -= items
        self.check_deadline()


_CURRENT: contextvars.ContextVar[Budget | None] = contextvars.ContextVar(
    "tidings_render_budget", default=None)
# Used when a template is rendered outside ``active`` (a direct Template.render):
# limits still hold per operation, but there is no shared deadline.
_FALLBACK_LIMITS = RenderLimits()


def current() -> Budget:
    """The budget of the render in progress, or a fresh default one."""
    budget = _CURRENT.get()
    if budget is None:
        return Budget(_FALLBACK_LIMITS)
    return budget


@contextmanager
def active(budget: Budget) -> Iterator[Budget]:
    """Make ``budget`` the current one for the duration of a render."""
    token = _CURRENT.set(budget)
    try:
        yield budget
    finally:
        _CURRENT.reset(token)


def tick() -> None:
    """Check the deadline of the current render (cheap: one clock read)."""
    budget = _CURRENT.get()
    if budget is not None:
        budget.check_deadline()


class BudgetedRange:
    """``range`` for templates: each iteration over it is paid for."""

    __slots__ = ("_range",)

    def __init__(self, *args: int) -> None:
        self._range = range(*args)
        limit = current().limits.max_iterations
        if len(self._range) > limit:
            raise errors.RenderLimitExceeded(
                f"range of {len(self._range)} items exceeds {limit} iterations")

    def __len__(self) -> int:
        return len(self._range)

    def __iter__(self) -> Iterator[int]:
        current().spend(len(self._range))
        return iter(self._range)

    def __reversed__(self) -> Iterator[int]:
        current().spend(len(self._range))
        return reversed(self._range)

    def __contains__(self, item: object) -> bool:
        return item in self._range

    def __getitem__(self, index: Any) -> Any:
        item = self._range[index]
        if isinstance(item, range):
            return BudgetedRange(item.start, item.stop, item.step)
        return item

    def __repr__(self) -> str:
        return repr(self._range)


class _SizedLoop:
    """A paid-for sized iterable; keeps ``len`` so ``loop.length`` stays cheap."""

    __slots__ = ("_items",)

    def __init__(self, items: Any) -> None:
        self._items = items

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Any]:
        return _ticking(iter(self._items))


def _ticking(items: Iterator[Any]) -> Iterator[Any]:
    budget = current()
    for item in items:
        budget.check_deadline()
        yield item


def _counting(items: Iterable[Any]) -> Iterator[Any]:
    budget = current()
    for item in items:
        budget.spend(1)
        yield item


def budgeted_loop(items: Any) -> Any:
    """Wrap the iterable of a ``{% for %}`` (and of ``loop(...)``) in the budget."""
    if isinstance(items, BudgetedRange):
        return _SizedLoop(items)  # BudgetedRange charges itself when iterated
    try:
        size = len(items)
    except TypeError:
        return _counting(items)
    current().spend(size)
    return _SizedLoop(items)
