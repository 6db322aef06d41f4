"""Rendering pages: the Jinja2 environment, the shared page context, and flash messages.

Templates are autoescaped. Every page gets ``user``, ``nav`` (the links its role may follow),
``csrf_token`` (for its forms) and ``flash`` (a confirmation or error left by the previous
request). A flash message travels in a short-lived signed cookie across the redirect that
follows a form (post, redirect, get), so reloading the page does not repeat the action.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlencode

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from itsdangerous import BadSignature, URLSafeSerializer

from tidings.portal import csrf, nav
from tidings.portal.auth import Portal, clear_cookie, csrf_key, set_cookie, set_pre_session

__all__ = ["FLASH_COOKIE", "cursor", "duration", "environment", "flash_redirect", "page",
           "query_with"]

TEMPLATES = Path(__file__).parent / "templates"
FLASH_COOKIE = "tidings_flash"
FLASH_SECONDS = 60
PRE_SESSION_BYTES = 32
Kind = Literal["ok", "error", "info"]


NONE = "\u2013"  # an en dash stands for "no value" in tables


def _when(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return NONE
    return value.astimezone(UTC).strftime(fmt) + (" UTC" if "%H" in fmt else "")


def _number(value: float | int | None, digits: int = 0) -> str:
    if value is None:
        return NONE
    return f"{value:,.{digits}f}"


def duration(seconds: float | None) -> str:
    """A span as people say it: "2 d 5 h", "3 h 10 min", "12 min"."""
    if seconds is None:
        return NONE
    minutes = int(abs(seconds) // 60)
    days, hours, mins = minutes // 1440, minutes % 1440 // 60, minutes % 60
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {mins} min"
    return f"{mins} min"


def cursor(value: str | None) -> int | None:
    """A paging cursor from the address; anything but a positive number means "from the top"
    (an edited address gets the first page, not an error)."""
    try:
        number = int(value or "")
    except ValueError:
        return None
    return number if number > 0 else None


def environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True,
                             lstrip_blocks=True)
    env.filters["when"] = _when
    env.filters["number"] = _number
    env.filters["duration"] = duration
    env.globals["query_with"] = query_with
    return env


def query_with(request: Request, **changes: Any) -> str:
    """The current query string with ``changes`` applied (``None`` removes a parameter)."""
    params = dict(request.query_params)
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = str(value)
    return "?" + urlencode(params) if params else "?"


_ENV = environment()


def _serializer(portal: Portal) -> URLSafeSerializer:
    return URLSafeSerializer(portal.secret, salt="tidings-portal-flash")


def _read_flash(request: Request, portal: Portal) -> dict[str, str] | None:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return None
    try:
        kind, text = _serializer(portal).loads(raw)
    except (BadSignature, ValueError, TypeError):
        return None
    return {"kind": str(kind), "text": str(text)}


def page(request: Request, portal: Portal, template: str, context: Mapping[str, Any],
         status_code: int = 200) -> HTMLResponse:
    """Render ``template`` with the shared context; a flash message is shown once."""
    user = getattr(request.state, "user", None)
    key = csrf_key(request)
    new_key = None if key else secrets.token_urlsafe(PRE_SESSION_BYTES)
    flash = _read_flash(request, portal)
    shared = {"request": request, "user": user, "flash": flash, "csrf_field": csrf.FIELD,
              "csrf_token": csrf.token_for(portal.secret, key or str(new_key)),
              "nav": nav.items(user, request.url.path) if user else []}
    html = _ENV.get_template(template).render({**shared, **context})
    response = HTMLResponse(html, status_code=status_code)
    if new_key:
        set_pre_session(request, response, portal, new_key)
    if flash is not None:
        clear_cookie(request, response, portal, FLASH_COOKIE)
    return response


def flash_redirect(request: Request, portal: Portal, url: str, text: str,
                   kind: Kind = "ok") -> RedirectResponse:
    """Redirect (303, so the browser GETs) and show ``text`` on the page it lands on."""
    response = RedirectResponse(url, status_code=303)
    set_cookie(request, response, portal, FLASH_COOKIE, _serializer(portal).dumps([kind, text]),
               FLASH_SECONDS)
    return response
