"""SLA: the time core of supplier obligations and digest schedules.

In: a retailer's ``calendar.BusinessCalendar``, its ``rules.SlaRule`` list, an order and a
supplier as plain mappings, the aware instant an obligation's clock was started by, and digest
subscriptions as (cron, IANA zone).
Out: the rule that applies (``rules.select_rule``), its ``(due_at, warn_at)``
(``rules.compute_deadline``), and digest slots (``schedule.next_runs``, ``schedule.due_slot``,
``schedule.slot_key``); every datetime returned is aware and in UTC.
Never: reads the clock, touches storage, sends anything, or starts a timer; ``now`` is always
an argument, and the timers and APIs built on these functions own time and I/O.
"""

from tidings.sla import calendar, rules, schedule

__all__ = ["calendar", "rules", "schedule"]
