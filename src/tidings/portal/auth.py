"""Who is signed in, which pages admit them, and the CSRF check of every form.

Every portal request resolves its user from the session cookie (``SESSION_COOKIE``). A page
declares the roles it admits with ``Depends(roles(...))``: signed out, the browser is sent to
the sign-in page (``SignInRequired``); signed in with another role, the page does not exist
(``PageNotFound``, a 404), the same answer as for an object of another party.

Unsafe methods (POST and the like) pass ``csrf_guard`` first: the form's ``csrf_token`` field
or the ``X-CSRF-Token`` header must match the token derived from the browser's session cookie
(before sign-in: from the pre-session cookie ``PRE_COOKIE``); otherwise ``CsrfRefused`` (403).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request, Response
from fastapi.concurrency import run_in_threadpool

from tidings.portal import csrf
from tidings.portal.accounts import Accounts, Role, User
from tidings.portal.sessions import MAX_SECONDS, Sessions
from tidings.runtime.core import Runtime

__all__ = [
    "PRE_COOKIE",
    "SESSION_COOKIE",
    "CsrfRefused",
    "OptionalUserDep",
    "PageNotFound",
    "Portal",
    "PortalDep",
    "SignInRequired",
    "UserDep",
    "clear_cookie",
    "csrf_guard",
    "csrf_key",
    "portal_of",
    "roles",
    "set_cookie",
    "set_pre_session",
]

SESSION_COOKIE = "tidings_session"
PRE_COOKIE = "tidings_pre"
PRE_COOKIE_SECONDS = 3600
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class SignInRequired(Exception):
    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


class PageNotFound(Exception):
    """No such page or object for this user (also: another role's page or party's object)."""

    def __init__(self, detail: str = "") -> None:
        super().__init__(detail)
        self.detail = detail


class CsrfRefused(Exception):
    pass


@dataclass
class Portal:
    """What the portal's pages share: the runtime, accounts, sessions and the signing secret."""

    runtime: Runtime
    accounts: Accounts
    sessions: Sessions
    secret: str
    secure_cookies: bool = False  # also when the request itself is https

    @classmethod
    def of(cls, runtime: Runtime) -> Portal:
        public = runtime.settings.public_url or ""
        return cls(runtime, Accounts(runtime.engine), Sessions(runtime.engine),
                   runtime.settings.secret_key.get_secret_value(),
                   secure_cookies=public.startswith("https://"))


def portal_of(request: Request) -> Portal:
    portal: Portal = request.app.state.portal
    return portal


PortalDep = Annotated[Portal, Depends(portal_of)]


async def current_user(request: Request, portal: PortalDep) -> User | None:
    """The signed-in user, or ``None``; resolved once per request."""
    if hasattr(request.state, "user"):
        user: User | None = request.state.user
        return user
    token = request.cookies.get(SESSION_COOKIE)
    user = None
    if token:
        user = await run_in_threadpool(_resolve, portal, token)
    request.state.user = user
    return user


def _resolve(portal: Portal, token: str) -> User | None:
    user_id = portal.sessions.user_of(token, portal.runtime.clock.now())
    return None if user_id is None else portal.accounts.get(user_id)


OptionalUserDep = Annotated[User | None, Depends(current_user)]


async def signed_in(request: Request, user: OptionalUserDep) -> User:
    if user is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInRequired(target)
    return user


UserDep = Annotated[User, Depends(signed_in)]


def roles(*admitted: Role) -> Callable[..., Awaitable[User]]:
    """A dependency admitting only users of ``admitted`` roles; others get a 404."""
    async def check(user: UserDep) -> User:
        if user.role not in admitted:
            raise PageNotFound()
        return user
    return check


def csrf_key(request: Request) -> str | None:
    """The secret the browser's CSRF token derives from: its session, else its pre-session."""
    return request.cookies.get(SESSION_COOKIE) or request.cookies.get(PRE_COOKIE)


async def csrf_guard(request: Request, portal: PortalDep) -> None:
    if request.method in SAFE_METHODS:
        return
    token = request.headers.get(csrf.HEADER)
    if token is None and _is_form(request):
        value = (await request.form()).get(csrf.FIELD)
        token = value if isinstance(value, str) else None
    if not csrf.valid(portal.secret, csrf_key(request), token):
        raise CsrfRefused()


def _is_form(request: Request) -> bool:
    kind = request.headers.get("content-type", "")
    return kind.startswith(("application/x-www-form-urlencoded", "multipart/form-data"))


def set_pre_session(request: Request, response: Response, portal: Portal, key: str) -> None:
    """Give a signed-out browser the pre-session cookie its CSRF token derives from."""
    set_cookie(request, response, portal, PRE_COOKIE, key, PRE_COOKIE_SECONDS)


def is_secure(request: Request, portal: Portal) -> bool:
    return portal.secure_cookies or request.url.scheme == "https"


def set_cookie(request: Request, response: Response, portal: Portal, name: str, value: str,
               max_age: int = MAX_SECONDS) -> None:
    response.set_cookie(name, value, max_age=max_age, path="/portal", httponly=True,
                        samesite="lax", secure=is_secure(request, portal))


def clear_cookie(request: Request, response: Response, portal: Portal, name: str) -> None:
    response.delete_cookie(name, path="/portal", httponly=True, samesite="lax",
                           secure=is_secure(request, portal))
