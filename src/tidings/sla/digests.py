"""Digest emails: one per user and slot, a section per retailer, through the outbox.

``context`` turns a user's open exceptions (already grouped per retailer by the store) into
the template's data: per retailer the counts per obligation (overdue and at risk), the most
overdue orders with how late they are, and a link to the portal filtered on that retailer;
times are shown in the user's zone. ``DigestComposer.compose`` renders the project's
``sla_digest`` template and returns the outbox row (``None`` for an empty digest the user
did not ask for). ``DigestWorker.handle`` is the job: the store runs it in one transaction
with the run row, so a digest is queued at most once per (subscription, slot) and tracking,
bounces and suppression apply to it as to every message.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from email.utils import parseaddr
from typing import Any, Protocol
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from tidings.clock import Clock
from tidings.outbox.messages import NewMessage
from tidings.project.compiled import CompiledProject
from tidings.sla.scheduler import RunKey

__all__ = ["TEMPLATE", "DigestComposer", "DigestStore", "DigestWorker", "context"]

log = logging.getLogger(__name__)
TEMPLATE = "sla_digest"
MESSAGE_TYPE = "sla.digest"
TOP_ORDERS = 5
OBLIGATION_LABELS = {"acknowledge": "Acknowledge", "ship": "Ship", "invoice": "Invoice",
                     "answer_cancel": "Answer cancellation", "answer_return": "Answer return"}


class Section(Protocol):
    @property
    def retailer(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def counts(self) -> dict[str, dict[str, int]]: ...

    @property
    def most_overdue(self) -> list[dict[str, Any]]: ...


class Compose(Protocol):
    def __call__(self, subscription: Mapping[str, Any], sections: Sequence[Section],
                 slot: str, slot_at: datetime, now: datetime) -> NewMessage | None: ...


class DigestStore(Protocol):
    def deliver(self, key: RunKey, compose: Compose, now: datetime, top: int) -> str: ...

    def fail(self, key: RunKey, detail: str, now: datetime) -> None: ...


def context(subscription: Mapping[str, Any], sections: Sequence[Section], slot_at: datetime,
            now: datetime, portal_url: str) -> dict[str, Any]:
    zone = ZoneInfo(subscription["timezone"])
    out = []
    for section in sections:
        overdue = sum(c.get("overdue", 0) for c in section.counts.values())
        at_risk = sum(c.get("warning", 0) for c in section.counts.values())
        out.append({
            "retailer": section.retailer,
            "retailer_name": section.name or section.retailer,
            "overdue": overdue, "at_risk": at_risk,
            "counts": [{"obligation": name, "label": OBLIGATION_LABELS.get(name, name),
                        "overdue": c.get("overdue", 0), "at_risk": c.get("warning", 0)}
                       for name, c in sorted(section.counts.items())],
            "orders": [{"order_ref": o["order_ref"], "obligation": o["obligation"],
                        "label": OBLIGATION_LABELS.get(o["obligation"], o["obligation"]),
                        "due": o["due_at"].astimezone(zone).strftime("%a %d %b %H:%M"),
                        "late": _late(now - o["due_at"])} for o in section.most_overdue],
            "link": f"{portal_url.rstrip('/')}/portal/exceptions?"
                    + urlencode({"retailer": section.retailer, "status": "open"}),
        })
    return {"user": {"name": subscription["name"] or subscription["email"],
                     "email": subscription["email"]},
            "supplier": subscription["supplier"],
            "slot": slot_at.astimezone(zone).strftime("%A %d %B %Y, %H:%M"),
            "timezone": subscription["timezone"],
            "sections": out, "empty": not out,
            "overdue": sum(s["overdue"] for s in out), "at_risk": sum(s["at_risk"] for s in out),
            "portal_url": portal_url.rstrip("/") + "/portal/exceptions"}


class DigestComposer:
    """Renders a digest with the project's template and provider for email."""

    def __init__(self, project: CompiledProject, portal_url: str) -> None:
        self.project, self.portal_url = project, portal_url

    def compose(self, subscription: Mapping[str, Any], sections: Sequence[Section],
                slot: str, slot_at: datetime, now: datetime) -> NewMessage | None:
        if not sections and not subscription["send_empty"]:
            return None
        data = context(subscription, sections, slot_at, now, self.portal_url)
        data["tidings"] = {"type": MESSAGE_TYPE, "tenant": subscription["tenant"],
                           "locale": subscription["locale"], "event_id": None}
        rendered = self.project.templates.render(TEMPLATE, data, subscription["locale"])
        provider = self._provider()
        sender = provider.from_address or f"no-reply@{subscription['tenant']}.invalid"
        return NewMessage(
            dedupe_key=f"sla-digest|{subscription['id']}|{slot}",
            channel=provider.channel, provider=provider.name,
            recipient=subscription["email"], to=[subscription["email"]], sender=sender,
            subject=rendered.subject, body_text=rendered.text, body_html=rendered.html,
            message_id_header=f"<{uuid.uuid4().hex}@{_domain(sender)}>", due_at=now,
            expires_at=now + provider.max_age, rule="sla-digest", message_type=MESSAGE_TYPE,
            template=TEMPLATE, template_version=rendered.version, locale=rendered.locale)

    def _provider(self) -> Any:
        config = self.project.config
        for channel in config.channels:
            if channel.kind == "email" and config.providers_of(channel.name):
                return config.providers_of(channel.name)[0]
        raise LookupError("the project has no email provider for digests")


class DigestWorker:
    def __init__(self, store: DigestStore, composer: DigestComposer, clock: Clock,
                 top: int = TOP_ORDERS) -> None:
        self.store, self.composer, self.clock, self.top = store, composer, clock, top

    def handle(self, key: RunKey) -> str:
        """Deliver one digest run; returns its final state (sent, empty, failed, done)."""
        now = self.clock.now()
        try:
            return self.store.deliver(key, self.composer.compose, now, self.top)
        except Exception as exc:
            log.exception("digest %s failed", key)
            self.store.fail(key, f"{type(exc).__name__}: {exc}", now)
            return "failed"


def _late(delta: timedelta) -> str:
    hours = int(delta.total_seconds() // 3600)
    days, hours = divmod(max(hours, 0), 24)
    return f"{days} d {hours} h" if days else f"{hours} h"


def _domain(sender: str) -> str:
    return parseaddr(sender)[1].rpartition("@")[2] or "tidings.invalid"
