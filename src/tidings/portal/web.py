"""``mount(app)``: the portal's pages, static files, error pages and security headers.

Pages live under ``/portal``; each router of ``pages/`` is included with the CSRF guard.
Error pages are HTML: signed out, a page redirects to the sign-in form (with ``next``);
another role's page or another party's object is a 404; a form without a valid CSRF token is
a 403 that says to reload the page. Every ``/portal`` answer carries a Content Security
Policy (scripts and styles from the portal itself; images only from itself or ``data:``, so a
message preview loads no tracking pixel), ``no-store`` caching and no framing by other sites.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tidings.portal import auth, views
from tidings.portal.pages import (
    channels,
    dead_letters,
    exceptions,
    keys,
    manual,
    messages,
    notifications,
    performance,
    reports,
    rules,
    signin,
    sources,
    suppressions,
    templates,
)
from tidings.runtime.core import Runtime

__all__ = ["PREFIX", "mount"]

PREFIX = "/portal"
STATIC = Path(__file__).parent / "static"
PAGES = (signin, manual, messages, templates, rules, keys, exceptions, notifications,
         performance, reports, channels, sources, dead_letters, suppressions)
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data:; font-src 'self'; connect-src 'self'; frame-src 'self'; "
       "form-action 'self'; base-uri 'none'; object-src 'none'")
HEADERS = ((b"content-security-policy", CSP.encode()), (b"x-content-type-options", b"nosniff"),
           (b"referrer-policy", b"same-origin"), (b"x-frame-options", b"SAMEORIGIN"))


def mount(app: FastAPI) -> None:
    """Add the portal to ``app`` (whose ``state.runtime`` is set)."""
    runtime: Runtime = app.state.runtime
    app.state.portal = auth.Portal.of(runtime)
    app.mount(PREFIX + "/static", StaticFiles(directory=STATIC), name="portal-static")
    guard = [Depends(auth.csrf_guard)]
    for module in PAGES:
        app.include_router(module.router, dependencies=guard, include_in_schema=False)
    app.add_api_route(PREFIX + "/{rest:path}", _unknown, methods=["GET", "POST"],
                      include_in_schema=False, dependencies=guard)
    app.add_exception_handler(auth.SignInRequired, _sign_in)
    app.add_exception_handler(auth.PageNotFound, _not_found)
    app.add_exception_handler(auth.CsrfRefused, _csrf_refused)
    app.add_middleware(SecurityHeaders)


async def _unknown(request: Request, user: auth.UserDep) -> Response:
    raise auth.PageNotFound()


async def _sign_in(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, auth.SignInRequired)
    return RedirectResponse(f"{PREFIX}/sign-in?next={quote(exc.next_url)}", status_code=303)


async def _not_found(request: Request, exc: Exception) -> Response:
    return _error(request, 404, "Page not found",
                  "There is no such page, or it is not yours to see. Check the address, "
                  "or go back to your start page.")


async def _csrf_refused(request: Request, exc: Exception) -> Response:
    return _error(request, 403, "This form has expired",
                  "The form was sent without a valid security token (it may be from an old "
                  "tab or a signed-out session). Nothing was changed. Reload the page and try "
                  "again.")


def _error(request: Request, status: int, title: str, detail: str) -> HTMLResponse:
    portal = auth.portal_of(request)
    if not hasattr(request.state, "user"):
        request.state.user = None
    return views.page(request, portal, "error.html",
                      {"title": title, "detail": detail, "status": status}, status_code=status)


class SecurityHeaders:
    """Adds the portal's security headers to answers under ``/portal`` (a plain ASGI
    middleware: the API's requests pass through untouched)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope.get("path", "")).startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        static = str(scope["path"]).startswith(PREFIX + "/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers: list[Any] = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                headers += [(k, v) for k, v in HEADERS if k not in names]
                if not static:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
