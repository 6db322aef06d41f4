"""Suppliers' digest notifications: opt in or out, days, time of day, zone, retailers, obligations.

A supplier user edits its own subscription (the one with its login as email) and sees its
colleagues' ones. The page writes through ``SlaService.subscribe`` / ``update_subscription``,
which store the days and time as a cron string plus an IANA zone; the next delivery times
shown are that cron's next fires (``sla.schedule.next_runs``), in the subscription's zone.
"""

from __future__ import annotations

import zoneinfo
from datetime import datetime
from functools import lru_cache
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from tidings.portal import auth, views
from tidings.portal.accounts import Role, User
from tidings.sla import schedule
from tidings.sla.rules import Obligation
from tidings.sla.subscriptions import DAY_NAMES, SubscriptionError

__all__ = ["form_doc", "next_times", "router"]

router = APIRouter(prefix="/portal/notifications")
Supplier = Depends(auth.roles(Role.SUPPLIER))
NEXT_TIMES = 5
KNOWN_ORDERS = 500
DEFAULTS = {"enabled": True, "days": ["mon", "tue", "wed", "thu", "fri"], "time": "08:00",
            "timezone": "UTC", "retailers": None, "obligations": None, "send_empty": False}
DAY_LABELS = dict(zip(DAY_NAMES, ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
                                  "Saturday", "Sunday"), strict=True))


@lru_cache(maxsize=1)
def zones() -> list[str]:
    return sorted(z for z in zoneinfo.available_timezones() if "/" in z or z == "UTC")


def next_times(sub: dict[str, Any], now: datetime) -> list[datetime]:
    """The next digests of an enabled subscription, in its own zone."""
    if not sub.get("enabled"):
        return []
    zone = zoneinfo.ZoneInfo(sub["timezone"])
    return [t.astimezone(zone) for t in
            schedule.next_runs(sub["cron"], sub["timezone"], now, NEXT_TIMES)]


def form_doc(form: Any, user: User) -> dict[str, Any]:
    """The subscription document a submitted form asks for (the service checks it)."""
    retailers = [r.strip() for r in form.getlist("retailers") if r.strip()]
    retailers += [r.strip() for r in str(form.get("more_retailers", "")).split(",") if r.strip()]
    obligations = [o for o in form.getlist("obligations") if o]
    return {"email": user.login, "name": user.name, "enabled": form.get("enabled") != "no",
            "days": list(form.getlist("days")), "time": str(form.get("time", "")),
            "timezone": str(form.get("timezone", "")),
            "retailers": list(dict.fromkeys(retailers))
            if form.get("retailer_scope") == "some" and retailers else None,
            "obligations": obligations or None, "send_empty": form.get("send_empty") == "yes"}


def _split(subs: list[dict[str, Any]], user: User) -> tuple[dict[str, Any] | None,
                                                              list[dict[str, Any]]]:
    own = next((s for s in subs if s["email"] == user.login.lower()), None)
    return own, [s for s in subs if s is not own]


def _context(portal: auth.Portal, user: User, form: dict[str, Any] | None = None,
             errors: list[tuple[str, str]] | None = None) -> dict[str, Any]:
    service = portal.runtime.sla.service
    viewer = user.viewer()
    own, others = _split(service.subscriptions(viewer), user)
    orders = service.orders(viewer, limit=KNOWN_ORDERS)
    retailers = sorted({o["retailer"] for o in orders} | set((own or {}).get("retailers") or []))
    now = portal.runtime.clock.now()
    return {"title": "Notifications", "own": own, "others": others,
            "form": form or own or DEFAULTS, "errors": errors or [],
            "next": next_times(own, now) if own else [],
            "others_next": {s["id"]: next_times(s, now)[:1] for s in others},
            "retailers": retailers, "obligations": [o.value for o in Obligation],
            "days": DAY_LABELS, "zones": zones()}


@router.get("")
async def index(request: Request, portal: auth.PortalDep, user: User = Supplier) -> Response:
    context = await run_in_threadpool(_context, portal, user)
    return views.page(request, portal, "notifications.html", context)


@router.post("")
async def save(request: Request, portal: auth.PortalDep, user: User = Supplier) -> Response:
    doc = form_doc(await request.form(), user)
    service = portal.runtime.sla.service
    viewer = user.viewer()

    def write() -> dict[str, Any]:
        own, _ = _split(service.subscriptions(viewer), user)
        if own is None:
            return service.subscribe(viewer, doc)
        return service.update_subscription(viewer, own["id"], doc)
    try:
        saved = await run_in_threadpool(write)
    except SubscriptionError as exc:
        context = await run_in_threadpool(_context, portal, user, doc,
                                          [(exc.field, exc.detail)])
        return views.page(request, portal, "notifications.html", context, status_code=422)
    return views.flash_redirect(request, portal, "/portal/notifications",
                                _confirmation(saved, portal.runtime.clock.now()))


def _confirmation(saved: dict[str, Any], now: datetime) -> str:
    if not saved["enabled"]:
        return ("Saved: you opted out, so no digests will be sent to you. Opt in again here "
                "at any time.")
    upcoming = next_times(saved, now)
    when = upcoming[0].strftime("%A %d %B at %H:%M") if upcoming else "at the next slot"
    return f"Saved. Your next digest arrives {when} ({saved['timezone']})."
