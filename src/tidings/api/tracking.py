"""Open pixel, click redirect and one-click unsubscribe: the routes recipients reach.

``GET /t/o/{token}`` answers the same 1x1 GIF for every token, valid or not.
``GET /t/c/{token}`` redirects (302) to the target sealed in a valid token
and answers one fixed 404 page otherwise: a forged, altered or unsafe token
is refused, never redirected (no open redirect). Both decide from the token
alone and record the hit after the answer is sent (a background task), so
neither the answer nor its timing tells a guessed token from a real one.

``POST /u/{token}`` is RFC 8058 one-click unsubscribe (the body
``List-Unsubscribe=One-Click`` is what mail clients send, but not required);
``GET /u/{token}`` shows a page with a button that posts the same, because
mail scanners follow links and must not unsubscribe anyone. No API key: the
token is the credential.
"""

from __future__ import annotations

import html

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tidings.api.deps import RuntimeDep
from tidings.feedback.machines import Hit
from tidings.feedback.tokens import Purpose, Sealed

__all__ = ["PIXEL_GIF", "router"]

router = APIRouter(include_in_schema=False)
PIXEL_GIF = (b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00"
             b"\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")
NO_STORE = {"Cache-Control": "no-store, no-cache, must-revalidate, private",
            "Pragma": "no-cache", "Referrer-Policy": "no-referrer"}
_BAD_LINK = ("<!doctype html><title>Link not valid</title>"
             "<p>This link is not valid.</p>")
_PAGE = ("<!doctype html><meta name=viewport content='width=device-width'>"
         "<title>{title}</title><body style='font-family:sans-serif;max-width:32em;"
         "margin:3em auto'>{body}</body>")


def _hit(request: Request, runtime: RuntimeDep) -> Hit:
    return Hit(user_agent=request.headers.get("user-agent", ""),
               ip=request.client.host if request.client else None,
               method=request.method, at=runtime.clock.now())


def _record(runtime: RuntimeDep, sealed: Sealed | None, hit: Hit,
            tasks: BackgroundTasks) -> None:
    if sealed is not None:
        tasks.add_task(run_in_threadpool, runtime.feedback.record_hit, sealed, hit)


@router.api_route("/t/o/{token}", methods=["GET", "HEAD"])
async def pixel(token: str, request: Request, runtime: RuntimeDep,
                tasks: BackgroundTasks) -> Response:
    sealed = runtime.feedback.read_token(Purpose.OPEN, token)
    _record(runtime, sealed, _hit(request, runtime), tasks)
    return Response(PIXEL_GIF, media_type="image/gif", headers=NO_STORE)


@router.api_route("/t/c/{token}", methods=["GET", "HEAD"])
async def click(token: str, request: Request, runtime: RuntimeDep,
                tasks: BackgroundTasks) -> Response:
    sealed = runtime.feedback.read_token(Purpose.CLICK, token)
    if sealed is None or not sealed.url:
        return HTMLResponse(_BAD_LINK, status_code=404, headers=NO_STORE)
    _record(runtime, sealed, _hit(request, runtime), tasks)
    return RedirectResponse(sealed.url, status_code=302, headers=NO_STORE)


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(_PAGE.format(title=html.escape(title), body=body), status_code=status,
                        headers=NO_STORE)


@router.get("/u/{token}")
async def unsubscribe_page(token: str, runtime: RuntimeDep) -> HTMLResponse:
    if not runtime.feedback.is_unsubscribe_token(token):
        return _page("Link not valid", "<p>This unsubscribe link is not valid.</p>", 404)
    action = html.escape(f"/u/{token}", quote=True)
    return _page("Unsubscribe", f"<p>Stop these messages?</p><form method='post' "
                 f"action='{action}'><input type='hidden' name='List-Unsubscribe' "
                 f"value='One-Click'><button type='submit'>Unsubscribe</button></form>")


@router.post("/u/{token}")
async def unsubscribe(token: str, runtime: RuntimeDep) -> HTMLResponse:
    done = await run_in_threadpool(runtime.feedback.unsubscribe, token, runtime.clock.now())
    if not done:
        return _page("Link not valid", "<p>This unsubscribe link is not valid.</p>", 404)
    return _page("Unsubscribed", "<p>You are unsubscribed. You will not get these messages "
                 "any more.</p>")
