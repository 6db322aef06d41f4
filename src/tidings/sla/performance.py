"""Supplier performance: on-time share and average delay per supplier, retailer, obligation
and week.

An obligation counts in the ISO week (retailer's zone) of its deadline, once it is decided:
met (on time iff ``met_at < due_at``) or still open past its deadline (late, delay still
running, not part of the average). Cancelled obligations and open ones not yet due do not
count. ``avg_delay_hours`` averages the delay of obligations met late.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from tidings.sla import rules as sla_rules

__all__ = ["PerformanceQuery", "PerformanceQueryError", "figures"]

WEEK = re.compile(r"[0-9]{4}-W(0[1-9]|[1-4][0-9]|5[0-3])")


class PerformanceQueryError(ValueError):
    def __init__(self, field: str, detail: str) -> None:
        super().__init__(f"{field}: {detail}")
        self.field, self.detail = field, detail


@dataclass(frozen=True)
class PerformanceQuery:
    retailer: str | None = None
    supplier: str | None = None
    obligation: str | None = None
    from_week: str | None = None
    to_week: str | None = None

    def __post_init__(self) -> None:
        for name in ("from_week", "to_week"):
            value = getattr(self, name)
            if value is not None and WEEK.fullmatch(value) is None:
                raise PerformanceQueryError(name, "an ISO week like 2026-W07")
        if self.obligation is not None and self.obligation not in {
                o.value for o in sla_rules.Obligation}:
            raise PerformanceQueryError("obligation", f"unknown obligation {self.obligation!r}")


def figures(supplier: str, retailer: str, obligation: str, week: str, decided: int,
            on_time: int, met_late: int, delay_seconds_sum: float,
            open_overdue: int) -> dict[str, Any]:
    """One row of the report from its counts."""
    return {"supplier": supplier, "retailer": retailer, "obligation": obligation,
            "week": week, "decided": decided, "on_time": on_time,
            "late": decided - on_time, "open_overdue": open_overdue,
            "on_time_pct": round(100.0 * on_time / decided, 1) if decided else None,
            "avg_delay_hours": round(delay_seconds_sum / met_late / 3600, 2)
            if met_late else None}
