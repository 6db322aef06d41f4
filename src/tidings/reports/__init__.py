"""Reports: what reached people and what they did with it, for the business.

In: the outbox (``messages``) and the feedback stage's per-message best status
and open/click counters (``message_feedback``). Out: metrics per tenant,
business unit, message type, template, channel, provider and day (``metrics``),
a CSV of them that a spreadsheet cannot execute (``csv_export``), bar charts as
PNG drawn with Pillow (``charts``), and scheduled report emails with a summary
table, inline charts and the CSV attached, queued through the normal outbox
and fired once per cron tick across all nodes (``scheduled``).

Read-only on messages; the only rows it writes are the report emails and
their fire-once ticks.
"""
