"""Sign-in, sign-out, and the start page of each role.

A successful sign-in opens a new session (a fresh token, so a token planted before sign-in is
worth nothing) and goes to ``next`` when that is a portal address, else to the role's start
page. A failed one says only that the login or password is wrong, and never which.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from tidings.portal import auth, nav, views
from tidings.portal.accounts import Locked, User

__all__ = ["router"]

router = APIRouter()


def _safe_next(target: str | None, user: User) -> str:
    if target and target.startswith("/portal") and not target.startswith("//") \
            and "\\" not in target and target.rstrip("/") != "/portal/sign-in":
        return target
    return nav.HOME[user.role]


@router.get("/portal")
@router.get("/portal/")
async def home(user: auth.UserDep) -> Response:
    return RedirectResponse(nav.HOME[user.role], status_code=303)


@router.get("/portal/sign-in")
async def sign_in_form(request: Request, portal: auth.PortalDep,
                       user: auth.OptionalUserDep, next: str | None = None) -> Response:
    if user is not None:
        return RedirectResponse(_safe_next(next, user), status_code=303)
    return views.page(request, portal, "sign_in.html",
                      {"title": "Sign in", "next": next or "", "login": "", "error": None})


@router.post("/portal/sign-in")
async def sign_in(request: Request, portal: auth.PortalDep, login: str = Form(""),
                  password: str = Form(""), next: str = Form("")) -> Response:
    now = portal.runtime.clock.now()
    outcome = await run_in_threadpool(portal.accounts.authenticate, login, password, now)
    if not isinstance(outcome, User):
        error = "The login or the password is wrong. Check both and try again."
        if isinstance(outcome, Locked):
            minutes = max(1, round((outcome.until - now).total_seconds() / 60))
            error = (f"Too many failed sign-ins for this login. Wait {minutes} minute(s), "
                     "then try again, or ask an operator to reset your password.")
        request.state.user = None
        return views.page(request, portal, "sign_in.html",
                          {"title": "Sign in", "next": next, "login": login, "error": error},
                          status_code=401)
    old = request.cookies.get(auth.SESSION_COOKIE)
    token = await run_in_threadpool(_switch_session, portal, old, outcome.id, now)
    response = RedirectResponse(_safe_next(next, outcome), status_code=303)
    auth.set_cookie(request, response, portal, auth.SESSION_COOKIE, token)
    auth.clear_cookie(request, response, portal, auth.PRE_COOKIE)
    return response


def _switch_session(portal: auth.Portal, old: str | None, user_id: int, now: datetime) -> str:
    """A fresh session (the old one, if any, ends); ended sessions of anyone are swept."""
    if old:
        portal.sessions.close(old)
    portal.sessions.purge(now)
    return portal.sessions.open(user_id, now)


@router.post("/portal/sign-out")
async def sign_out(request: Request, portal: auth.PortalDep) -> Response:
    token = request.cookies.get(auth.SESSION_COOKIE)
    if token:
        await run_in_threadpool(portal.sessions.close, token)
    response = views.flash_redirect(request, portal, "/portal/sign-in",
                                    "You are signed out. Sign in again to continue.", "info")
    auth.clear_cookie(request, response, portal, auth.SESSION_COOKIE)
    return response
