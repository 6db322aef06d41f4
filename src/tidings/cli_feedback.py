"""Feedback commands: the suppression list, metrics and reports, the returns receiver."""

from __future__ import annotations

import json
import threading
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import click

from tidings.cli_options import env_option, root_context, tenant_option

__all__ = ["reports", "returns", "suppression"]

DEFAULT_DAYS = 7


# -- suppression ----------------------------------------------------------------------------

@click.group()
def suppression() -> None:
    """The suppression list: addresses that get no provider call."""


@suppression.command("list")
@tenant_option
@env_option("--reason", envvar="TIDINGS_SUPPRESSION_REASON", default=None,
            type=click.Choice(["manual", "hard_bounce", "soft_bounce", "complained",
                               "unsubscribed"]), help="Only this reason.")
@env_option("--limit", envvar="TIDINGS_LIMIT", default=100, show_default=True, type=int)
def suppression_list(tenant: str, reason: str | None, limit: int) -> None:
    """List suppressed addresses with why and since when."""
    rows = root_context().runtime().feedback.suppressions.list(tenant, reason=reason, limit=limit)
    for r in rows:
        click.echo(f"{r['address']}\t{r['reason']}\t{r['created_at']:%Y-%m-%d %H:%M:%S}Z"
                   f"\t{r['source']}\t{r['detail']}")
    if not rows:
        click.echo("no suppressed addresses")


@suppression.command("add")
@click.argument("address")
@tenant_option
@env_option("--reason", envvar="TIDINGS_SUPPRESSION_REASON", default="manual",
            show_default=True, type=click.Choice(["manual", "hard_bounce", "soft_bounce",
                                                  "complained", "unsubscribed"]))
@env_option("--detail", envvar="TIDINGS_SUPPRESSION_DETAIL", default="", help="A note.")
def suppression_add(address: str, tenant: str, reason: str, detail: str) -> None:
    """Suppress an address."""
    runtime = root_context().runtime()
    changed = runtime.feedback.suppressions.add(tenant, address, reason, detail, "cli",
                                                runtime.clock.now())
    click.echo(f"{address.strip().lower()}\t{reason}\t{'added' if changed else 'unchanged'}")


@suppression.command("remove")
@click.argument("address")
@tenant_option
def suppression_remove(address: str, tenant: str) -> None:
    """Take an address off the list."""
    if not root_context().runtime().feedback.suppressions.remove(tenant, address):
        raise click.ClickException(f"{address} is not suppressed for tenant {tenant}")
    click.echo(f"{address.strip().lower()}\tremoved")


# -- reports --------------------------------------------------------------------------------

@click.group()
def reports() -> None:
    """Delivery and engagement figures, and scheduled business reports."""


def _period_options(fn: Any) -> Any:
    fn = env_option("--start", envvar="TIDINGS_REPORT_START", default=None,
                    type=click.DateTime(["%Y-%m-%d"]),
                    help="First UTC day (default: 7 days before --end).")(fn)
    fn = env_option("--end", envvar="TIDINGS_REPORT_END", default=None,
                    type=click.DateTime(["%Y-%m-%d"]),
                    help="Day after the last (default: tomorrow, UTC).")(fn)
    fn = env_option("--group-by", envvar="TIDINGS_REPORT_GROUP_BY", default="day",
                    show_default=True, help="Comma list: business_unit, message_type, "
                    "template, channel, provider, day.")(fn)
    fn = env_option("--business-unit", envvar="TIDINGS_BUSINESS_UNIT", default=None)(fn)
    return fn


def _query(runtime: Any, tenant: str, start: datetime | None, end: datetime | None,
           group_by: str, business_unit: str | None) -> Any:
    from tidings.reports.metrics import Query
    today = runtime.clock.now().astimezone(UTC).date()
    last: date = end.date() if end else today + timedelta(days=1)
    first: date = start.date() if start else last - timedelta(days=DEFAULT_DAYS)
    try:
        return Query(datetime.combine(first, time(0), UTC), datetime.combine(last, time(0), UTC),
                     tenant, tuple(d.strip() for d in group_by.split(",") if d.strip()),
                     {"business_unit": business_unit} if business_unit else {})
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc


@reports.command("metrics")
@tenant_option
@_period_options
@env_option("--csv/--json", "as_csv", envvar="TIDINGS_REPORT_CSV", default=False,
            help="CSV (formula cells neutralised) or JSON lines.")
def reports_metrics(tenant: str, start: datetime | None, end: datetime | None, group_by: str,
                    business_unit: str | None, as_csv: bool) -> None:
    """Counts and rates per group."""
    from tidings.reports import csv_export
    from tidings.reports.metrics import COUNTS, RATES, metrics
    runtime = root_context().runtime()
    query = _query(runtime, tenant, start, end, group_by, business_unit)
    rows = metrics(runtime.engine, query)
    if as_csv:
        click.echo(csv_export.to_csv(rows, (*query.group_by, *COUNTS, *RATES)), nl=False)
        return
    for row in rows:
        click.echo(json.dumps(row, default=str))


@reports.command("failures")
@tenant_option
@_period_options
def reports_failures(tenant: str, start: datetime | None, end: datetime | None,
                     group_by: str, business_unit: str | None) -> None:
    """The commonest reasons why messages failed, bounced or were suppressed."""
    from tidings.reports.metrics import failure_reasons
    runtime = root_context().runtime()
    query = _query(runtime, tenant, start, end, "" if group_by == "day" else group_by,
                   business_unit)
    for row in failure_reasons(runtime.engine, query):
        click.echo(json.dumps(row, default=str))


@reports.command("send")
@click.argument("name")
@tenant_option
def reports_send(name: str, tenant: str) -> None:
    """Queue a configured report now, for the days before today."""
    from tidings.reports import scheduled
    runtime = root_context().runtime()
    report = next((r for r in runtime.project.config.feedback.reports
                   if r.name == name and r.tenant == tenant), None)
    if report is None:
        raise click.ClickException(f"no report {name!r} for tenant {tenant}")
    ids = scheduled.send_now(runtime.engine, runtime.outbox, runtime.project.config, report,
                             runtime.clock.now(), runtime.feedback.outgoing.return_path_header())
    click.echo(f"queued {len(ids)} message(s): {', '.join(map(str, ids))}")


@reports.command("fire-due")
def reports_fire_due() -> None:
    """Fire the scheduled reports whose slot has come (each slot fires once)."""
    runtime = root_context().runtime()
    counts = runtime.feedback.maintain(runtime.clock.now())
    click.echo(f"queued {counts['reports_queued']} report message(s)")


# -- returned mail ------------------------------------------------------------------------

@click.group()
def returns() -> None:
    """Returned mail (bounces, complaints) over SMTP."""


@returns.command("serve")
@env_option("--host", envvar="TIDINGS_RETURNS_HOST", default="127.0.0.1", show_default=True)
@env_option("--port", envvar="TIDINGS_RETURNS_PORT", default=2525, show_default=True, type=int)
def returns_serve(host: str, port: int) -> None:
    """Run the SMTP receiver for the return path (VERP) until Ctrl-C."""
    import signal

    from tidings.feedback.receiver import ReturnsHandler, ReturnsReceiver
    runtime = root_context().runtime()
    handler = ReturnsHandler(runtime.feedback.store, runtime.clock.now,
                             runtime.project.config.feedback.return_path_domain)
    stopped = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopped.set())
    with ReturnsReceiver(handler, host, port) as receiver:
        click.echo(f"returns receiver on {host}:{receiver.port}; Ctrl-C stops it")
        stopped.wait()
