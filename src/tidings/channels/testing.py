"""A check for provider tests: vendor responses through the status table give these outcomes.

A provider's test feeds the outcomes its parser makes of real vendor answers
(each carrying the vendor's ``code``) and says which action the dispatcher
must end up taking::

    from tidings.channels.testing import assert_status_table
    assert_status_table("twilio", [
        (from_status(201, "queued"), "sent"),
        (from_status(429, "slow down", retry_after=7), "retry"),
        (from_status(503, "down"), "failover"),
    ])

The seeded table of ``provider_type`` is used unless ``rows`` is given. Every
mismatching case is listed in one ``AssertionError``.
"""

from __future__ import annotations

from collections.abc import Sequence

from tidings.channels.statuses import StatusRow, StatusTable, seeds_for
from tidings.domain.outcomes import Bounced, Deferred, Failed, Outcome, Sent

__all__ = ["action_of", "assert_status_table"]

_PROVIDER = "provider-under-test"


def action_of(outcome: Outcome) -> str:
    """The action an outcome stands for (``delivered`` reads as ``sent``)."""
    if isinstance(outcome, Sent):
        return "sent"
    if isinstance(outcome, Deferred):
        return "failover" if outcome.failover else "retry"
    if isinstance(outcome, Bounced):
        return "bounce"
    if isinstance(outcome, Failed):
        return "fail"
    raise TypeError(f"not an outcome: {outcome!r}")


def assert_status_table(provider_type: str, cases: Sequence[tuple[Outcome, str]],
                        rows: Sequence[StatusRow] | None = None) -> None:
    """Assert that each (vendor outcome, expected action) holds after the status table."""
    if not cases:
        raise AssertionError("no cases given")
    table = StatusTable({_PROVIDER: rows if rows is not None else seeds_for(provider_type)})
    problems = [problem for i, (given, expected) in enumerate(cases)
                if (problem := _check(table, i, given, expected.replace("delivered", "sent")))]
    if problems:
        raise AssertionError(f"status table of {provider_type!r}:\n" + "\n".join(problems))


def _check(table: StatusTable, index: int, given: Outcome, expected: str) -> str:
    got = table.apply(_PROVIDER, given)
    if action_of(got) != expected:
        return (f"  case {index}: code {given.code or '-'!r} ({type(given).__name__}) "
                f"gave {action_of(got)}, expected {expected}")
    if (isinstance(given, Deferred) and isinstance(got, Deferred)
            and got.retry_after_seconds != given.retry_after_seconds):
        return f"  case {index}: Retry-After {given.retry_after_seconds} was lost"
    return ""
