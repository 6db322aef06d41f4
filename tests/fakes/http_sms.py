"""A local generic SMS vendor, with the two request styles such vendors use.

``POST /v1/sms``: JSON ``{"to": digits, "from", "text", "client_ref"}`` with
``Authorization: Bearer <token>``; answers ``200 {"messages": [{"id", "status":
"accepted", "to"}]}``, ``401 {"error": {"code": "unauthorized"}}`` or ``400
{"error": {"code": "invalid_number"}}``.

``POST /form/send``: form ``dest``, ``msg``, ``sender`` with HTTP basic auth;
answers ``200 {"result": "ok", "ref": id}``, or ``200 {"result": "rejected",
"reason": "blocked_content"}`` for a body containing "BLOCKED" (the vendors
that refuse inside a 200).

A scripted answer replaces the reply to the next request.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import orjson

from tests.fakes.server import Request, Response, Script, json_response

DIGITS = re.compile(r"^[1-9]\d{6,14}$")
FORM_USER = "shop"


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class FakeSmsVendor:
    token: str
    script: Script = field(default_factory=Script)
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self.handle(Request(environ))(environ, start_response)

    def handle(self, request: Request) -> Response:
        scripted = self.script.next()
        if scripted is not None:
            time.sleep(scripted.delay_seconds)
            return scripted.response()
        if request.method == "POST" and request.path == "/v1/sms":
            return self._json(request)
        if request.method == "POST" and request.path == "/form/send":
            return self._form(request)
        return json_response(404, {"error": {"code": "not_found"}})

    def _json(self, request: Request) -> Response:
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return json_response(401, {"error": {"code": "unauthorized"}})
        try:
            body = orjson.loads(request.get_data())
        except orjson.JSONDecodeError:
            return json_response(400, {"error": {"code": "malformed_json"}})
        if not DIGITS.fullmatch(str(body.get("to", ""))):
            return json_response(400, {"error": {"code": "invalid_number"}})
        if not body.get("text"):
            return json_response(400, {"error": {"code": "empty_text"}})
        self._record(request, body)
        return json_response(200, {"messages": [{"id": f"msg-{uuid.uuid4().hex[:12]}",
                                                 "status": "accepted", "to": body["to"]}]})

    def _form(self, request: Request) -> Response:
        auth = request.authorization
        if auth is None or (auth.username, auth.password) != (FORM_USER, self.token):
            return json_response(401, {"result": "error", "reason": "auth"})
        body = request.form.to_dict()
        if "BLOCKED" in body.get("msg", ""):
            return json_response(200, {"result": "rejected", "reason": "blocked_content"})
        self._record(request, body)
        return json_response(200, {"result": "ok", "ref": uuid.uuid4().hex[:10]})

    def _record(self, request: Request, body: dict[str, Any]) -> None:
        with self.lock:
            self.received.append(Received(request.path, dict(request.headers), body))
