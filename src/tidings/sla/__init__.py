"""SLA: suppliers held to each retailer's rules, order exceptions, and self-scheduled digests.

In: order lifecycle events (``orders.EVENT_TYPES``, from ``POST /v1/orders/events`` or any
ingest source: the API, X12 850/855/856/810...), each retailer's calendar and rules (JSON in
the database, edited through the API or ``tidings sla rules load``), supplier users' digest
subscriptions, and the clock.
Out: orders with their timelines, obligations with deadlines held as database timers,
warnings and order exceptions (listed, exported, per party), performance figures, and one
digest email per user and slot into the normal outbox.
Never: scans orders to find deadlines (timers are claimed by ``fire_at``), shows a party
anything outside its scope (``parties.Viewer``; anything else is a 404), or sends mail itself.

Pure core (``now`` is always an argument, results are UTC): ``calendar`` (business days,
holidays, cut-off), ``rules`` (rule selection, deadlines; ``met_at < due_at`` is on time),
``schedule`` (cron + zone slots, DST-safe), ``rulebook`` (documents <-> rules), ``orders``
(event parsing, lifecycle plan), ``timers`` (stages), ``exceptions``, ``performance``,
``subscriptions``, ``digests`` (digest context and composition), ``parties``.
Around it: ``store`` (the ports, implemented in ``tidings.storage.sla_*``), ``service`` (every
operation, scoped to a viewer: API, CLI and portal call it), ``scheduler`` and ``jobs``
(digest slots fired once; RabbitMQ or in-process), ``stage`` (the assembly that
``runtime.core`` builds and whose loops ``Background`` runs).
"""

from tidings.sla import calendar, rules, schedule

__all__ = ["calendar", "rules", "schedule"]
