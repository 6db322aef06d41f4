"""Scheduled business reports: composed from the metrics, queued as ordinary email.

Each ``[[feedback.reports]]`` entry names a tenant, optionally a business
unit, recipients, a cron schedule in its own time zone and how many whole
local days before the tick it covers. ``fire_due`` looks at the latest slot of
every schedule; a slot fires once across all nodes because the row
``schedule_ticks(job="report:<name>", tick=<local wall time>)`` is inserted
first, in the same transaction as the report messages (a fold in the autumn
repeats a wall time, the key does not repeat). A slot older than
``CATCH_UP_SECONDS`` is skipped, so a node started late does not mail
yesterday's report.

The email (``compose``): an HTML summary table per message type with totals,
two charts as inline PNG images (``cid:``), the full CSV attached; the text
part carries the same summary. It goes through the outbox like any message
(one row per recipient) with ``list_unsubscribe`` set, so it gets one-click
unsubscribe headers, and the attachments in the message's payload.
"""

from __future__ import annotations

import base64
import html
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from email.utils import parseaddr
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from croniter import croniter
from sqlalchemy import Connection, Engine, select, update

from tidings.feedback.config import ReportConfig
from tidings.outbox.messages import NewMessage
from tidings.project.model import ProjectConfig
from tidings.reports import charts, csv_export
from tidings.reports.metrics import COUNTS, DIMENSIONS, RATES, Query, metrics, totals
from tidings.storage import tables
from tidings.storage.outbox_sql import SqlOutbox

__all__ = ["Attachment", "ReportEmail", "compose", "fire_due", "latest_slot", "period",
           "send_now"]

CATCH_UP_SECONDS = 6 * 3600
VOLUME_CID = "volume@tidings.report"
RATES_CID = "rates@tidings.report"
CSV_COLUMNS = (*[d for d in DIMENSIONS if d != "tenant"], *COUNTS, *RATES)
SUMMARY_COLUMNS = ("queued", "sent", "delivered", "bounced_hard", "bounced_soft", "complained",
                   "opened_human", "clicked_human", "delivery_rate", "open_rate", "click_rate")


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes
    inline_cid: str | None = None

    def as_payload(self) -> dict[str, str]:
        item = {"filename": self.filename, "content_type": self.content_type,
                "data": base64.b64encode(self.data).decode("ascii")}
        if self.inline_cid:
            item["inline_cid"] = self.inline_cid
        return item


@dataclass(frozen=True, slots=True)
class ReportEmail:
    subject: str
    html: str
    text: str
    attachments: list[Attachment]


# -- when -----------------------------------------------------------------------------------

def latest_slot(report: ReportConfig, now: datetime) -> tuple[datetime, str] | None:
    """The latest slot at or before ``now`` (UTC) and its key, if recent enough to fire."""
    zone = ZoneInfo(report.timezone)
    local_now = now.astimezone(zone)
    fire: datetime = croniter(report.cron, local_now + timedelta(seconds=1)).get_prev(datetime)
    if (now - fire).total_seconds() > CATCH_UP_SECONDS:
        return None
    return fire.astimezone(UTC), fire.replace(tzinfo=None).isoformat(timespec="minutes")


def period(report: ReportConfig, tick: datetime) -> tuple[datetime, datetime]:
    """The ``days`` whole local days before the tick's local date, in UTC."""
    zone = ZoneInfo(report.timezone)
    day = tick.astimezone(zone).date()
    end = datetime.combine(day, time(0), zone)
    start = datetime.combine(day - timedelta(days=report.days), time(0), zone)
    return start.astimezone(UTC), end.astimezone(UTC)


# -- what -----------------------------------------------------------------------------------

def compose(engine: Engine, report: ReportConfig, tenant_name: str, start: datetime,
            end: datetime) -> ReportEmail:
    filters = {"business_unit": report.business_unit} if report.business_unit else {}
    by_day = metrics(engine, Query(start, end, report.tenant, ("day",), filters))
    by_type = metrics(engine, Query(start, end, report.tenant, ("message_type",), filters))
    detail = metrics(engine, Query(start, end, report.tenant,
                                   tuple(d for d in DIMENSIONS if d != "tenant"), filters))
    scope = report.business_unit or "all business units"
    last_day = (end - timedelta(seconds=1)).astimezone(ZoneInfo(report.timezone)).date()
    first_day = start.astimezone(ZoneInfo(report.timezone)).date()
    subject = f"{tenant_name}, {scope}: messages {first_day} to {last_day}"
    volume = charts.bar_chart("Messages per day", [r["day"] for r in by_day], {
        "sent": [r["sent"] for r in by_day], "delivered": [r["delivered"] for r in by_day],
        "bounced": [r["bounced_hard"] + r["bounced_soft"] for r in by_day],
        "complained": [r["complained"] for r in by_day]})
    engagement = charts.bar_chart("Rates per message type (%)",
                                  [str(r["message_type"] or "-") for r in by_type], {
        name: [100 * (r[name] or 0.0) for r in by_type]
        for name in ("delivery_rate", "open_rate", "click_rate", "bounce_rate")})
    csv_text = csv_export.to_csv(detail, CSV_COLUMNS)
    total = totals(by_type)
    filename = f"{report.name}-{first_day}-{last_day}.csv"
    return ReportEmail(subject, _html(subject, by_type, total), _text(subject, by_type, total), [
        Attachment("volume.png", "image/png", volume, VOLUME_CID),
        Attachment("rates.png", "image/png", engagement, RATES_CID),
        Attachment(filename, "text/csv", csv_text.encode())])


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{100 * value:.1f}%"
    return "-" if value is None else html.escape(str(value))


def _html(subject: str, rows: Sequence[dict[str, Any]], total: dict[str, Any]) -> str:
    head = "".join(f"<th style=\"text-align:right;padding:4px 8px\">{c.replace('_', ' ')}</th>"
                   for c in SUMMARY_COLUMNS)
    body = "".join(
        f"<tr><td style=\"padding:4px 8px\">{_cell(r['message_type'])}</td>"
        + "".join(f"<td style=\"text-align:right;padding:4px 8px\">{_cell(r[c])}</td>"
                  for c in SUMMARY_COLUMNS) + "</tr>" for r in rows)
    foot = "<tr style=\"font-weight:bold\"><td style=\"padding:4px 8px\">all</td>" + "".join(
        f"<td style=\"text-align:right;padding:4px 8px\">{_cell(total[c])}</td>"
        for c in SUMMARY_COLUMNS) + "</tr>"
    return (f"<!doctype html><html><body style=\"font-family:sans-serif\">"
            f"<h1 style=\"font-size:18px\">{html.escape(subject)}</h1>"
            f"<table style=\"border-collapse:collapse\"><thead><tr><th>message type</th>{head}"
            f"</tr></thead><tbody>{body}{foot}</tbody></table>"
            f"<p><img src=\"cid:{VOLUME_CID}\" alt=\"Messages per day\" width=\"720\"></p>"
            f"<p><img src=\"cid:{RATES_CID}\" alt=\"Rates per message type\" width=\"720\"></p>"
            f"<p>The attached CSV has every figure per day, business unit, message type, "
            f"template, channel and provider.</p></body></html>")


def _text(subject: str, rows: Sequence[dict[str, Any]], total: dict[str, Any]) -> str:
    lines = [subject, ""]
    for row in [*rows, {**total, "message_type": "all"}]:
        figures = ", ".join(f"{c.replace('_', ' ')} {_plain(row[c])}" for c in SUMMARY_COLUMNS)
        lines.append(f"{row['message_type'] or '-'}: {figures}")
    return "\n".join(lines) + "\n"


def _plain(value: Any) -> str:
    return f"{100 * value:.1f}%" if isinstance(value, float) else "-" if value is None \
        else str(value)


# -- sending ------------------------------------------------------------------------------

def _provider(project: ProjectConfig, report: ReportConfig) -> Any:
    if report.provider:
        return project.provider(report.provider)
    email = {c.name for c in project.channels if c.kind == "email"}
    found = next((p for p in project.providers if p.channel in email), None)
    if found is None:
        raise ValueError(f"report {report.name!r}: no email provider to send it")
    return found


def enqueue(conn: Connection, outbox: SqlOutbox, project: ProjectConfig, report: ReportConfig,
            mail: ReportEmail, key: str, now: datetime,
            extra_headers: Sequence[tuple[str, str]] = ()) -> list[int]:
    """Queue one message per recipient (inside the caller's transaction)."""
    provider = _provider(project, report)
    sender = provider.from_address or f"no-reply@{report.tenant}.invalid"
    domain = parseaddr(sender)[1].rpartition("@")[2] or "tidings.invalid"
    new = [NewMessage(
        dedupe_key=f"report|{report.name}|{key}|{to.lower()}", channel=provider.channel,
        provider=provider.name, recipient=to, to=[to], sender=sender, subject=mail.subject,
        body_text=mail.text, body_html=mail.html,
        message_id_header=f"<{uuid.uuid4().hex}@{domain}>", due_at=now,
        expires_at=now + provider.max_age, headers=list(extra_headers),
        rule=f"report:{report.name}", message_type="report", template=None)
        for to in report.recipients]
    ids = [i for i in outbox.insert(conn, report.tenant, None, new, now) if i is not None]
    payload = orjson.dumps({"attachments": [a.as_payload() for a in mail.attachments],
                            "list_unsubscribe": True}).decode()
    if ids:
        conn.execute(update(tables.messages).where(tables.messages.c.id.in_(ids)).values(
            payload=payload, business_unit=report.business_unit))
    return ids


def _claim_tick(conn: Connection, job: str, tick: str, now: datetime) -> bool:
    t = tables.schedule_ticks
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    stmt = insert(t).values(job=job, tick=tick, fired_at=now, done=False).on_conflict_do_nothing()
    return conn.execute(stmt.returning(t.c.tick)).first() is not None


def fire_due(engine: Engine, outbox: SqlOutbox, project: ProjectConfig, now: datetime,
             extra_headers: Sequence[tuple[str, str]] = ()) -> list[int]:
    """Fire every report whose latest slot has not fired yet; returns the queued ids."""
    queued: list[int] = []
    for report in project.feedback.reports:
        slot = latest_slot(report, now)
        if slot is None:
            continue
        tick, key = slot
        queued += _fire(engine, outbox, project, report, tick, key, now, extra_headers)
    return queued


def _fire(engine: Engine, outbox: SqlOutbox, project: ProjectConfig, report: ReportConfig,
          tick: datetime, key: str, now: datetime,
          extra_headers: Sequence[tuple[str, str]]) -> list[int]:
    job = f"report:{report.name}"
    t = tables.schedule_ticks
    with engine.connect() as conn:  # composing is the slow part: skip it for a fired tick
        if conn.execute(select(t.c.job).where(t.c.job == job, t.c.tick == key)).first():
            return []
    start, end = period(report, tick)
    mail = compose(engine, report, _tenant_name(project, report.tenant), start, end)
    with engine.begin() as conn:
        if not _claim_tick(conn, job, key, now):
            return []
        ids = enqueue(conn, outbox, project, report, mail, key, now, extra_headers)
        conn.execute(update(t).where(t.c.job == job, t.c.tick == key).values(done=True))
    return ids


def send_now(engine: Engine, outbox: SqlOutbox, project: ProjectConfig, report: ReportConfig,
             now: datetime, extra_headers: Sequence[tuple[str, str]] = ()) -> list[int]:
    """Queue the report now for the days before today (an operator's request)."""
    start, end = period(report, now)
    mail = compose(engine, report, _tenant_name(project, report.tenant), start, end)
    with engine.begin() as conn:
        return enqueue(conn, outbox, project, report, mail, f"now-{now.isoformat()}", now,
                       extra_headers)


def _tenant_name(project: ProjectConfig, tenant: str) -> str:
    return next((t.name for t in project.tenants if t.id == tenant), tenant)
