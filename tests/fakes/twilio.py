"""A local Twilio Messages API: ``POST /2010-04-01/Accounts/{Sid}/Messages.json``.

It checks HTTP basic auth (AccountSid:AuthToken; else 401 code 20003), the
form as Twilio documents it (To in E.164 else 21211; From or
MessagingServiceSid else 21603; Body else 21602; at most 1600 characters else
21617), answers ``201`` with a message resource (``sid`` "SM" + 32 hex,
``status`` "queued"), and records each accepted message. A scripted answer
replaces the reply to the next request (after authentication).
``status_callback(sid, status)`` gives the form and ``X-Twilio-Signature``
Twilio would POST to the message's ``StatusCallback`` URL.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.server import Request, Response, Script, json_response

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
DOCS = "https://www.twilio.com/docs/errors/"


@dataclass
class Message:
    sid: str
    form: dict[str, str]
    headers: dict[str, str]


def error(status: int, code: int, message: str) -> Response:
    return json_response(status, {"code": code, "message": message,
                                  "more_info": f"{DOCS}{code}", "status": status})


@dataclass
class FakeTwilio:
    account_sid: str
    auth_token: str
    script: Script = field(default_factory=Script)
    messages: list[Message] = field(default_factory=list)
    requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def path(self) -> str:
        return f"/2010-04-01/Accounts/{self.account_sid}/Messages.json"

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self.handle(Request(environ))(environ, start_response)

    def handle(self, request: Request) -> Response:
        with self.lock:
            self.requests += 1
        if request.path != self.path or request.method != "POST":
            return error(404, 20404, f"The requested resource {request.path} was not found")
        auth = request.authorization
        if auth is None or (auth.username, auth.password) != (self.account_sid, self.auth_token):
            response = error(401, 20003, "Authenticate")
            response.headers["WWW-Authenticate"] = 'Basic realm="Twilio API"'
            return response
        scripted = self.script.next()
        if scripted is not None:
            time.sleep(scripted.delay_seconds)
            return scripted.response()
        return self._create(request)

    def _create(self, request: Request) -> Response:
        form = request.form.to_dict()
        refused = _refusal(form)
        if refused is not None:
            return refused
        sid = "SM" + uuid.uuid4().hex
        with self.lock:
            self.messages.append(Message(sid, form, dict(request.headers)))
        now = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime())
        return json_response(201, {
            "account_sid": self.account_sid, "api_version": "2010-04-01",
            "body": form["Body"], "date_created": now, "date_sent": None, "date_updated": now,
            "direction": "outbound-api", "error_code": None, "error_message": None,
            "from": form.get("From"), "messaging_service_sid": form.get("MessagingServiceSid"),
            "num_media": "0", "num_segments": "1", "price": None, "price_unit": "USD",
            "sid": sid, "status": "queued", "to": form["To"],
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json"})

    def status_callback(self, sid: str, status: str,
                        error_code: str | None = None) -> tuple[str, dict[str, str], str]:
        """(URL, form, X-Twilio-Signature) of the callback Twilio sends for ``sid``."""
        message = next(m for m in self.messages if m.sid == sid)
        url = message.form["StatusCallback"]
        form = {"AccountSid": self.account_sid, "ApiVersion": "2010-04-01",
                "From": message.form.get("From", ""), "MessageSid": sid,
                "MessageStatus": status, "SmsSid": sid, "SmsStatus": status,
                "To": message.form["To"]}
        if error_code is not None:
            form["ErrorCode"] = error_code
        return url, form, sign(url, form, self.auth_token)


def sign(url: str, form: dict[str, str], token: str) -> str:
    """Twilio's documented algorithm: URL + sorted name/value pairs, HMAC-SHA1, base64."""
    data = url + "".join(f"{k}{form[k]}" for k in sorted(form))
    return base64.b64encode(hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()).decode()


def _refusal(form: dict[str, str]) -> Response | None:
    to = form.get("To", "")
    if not to:
        return error(400, 21604, "A 'To' phone number is required.")
    if not E164.fullmatch(to):
        return error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
    if not form.get("From") and not form.get("MessagingServiceSid"):
        return error(400, 21603, "A 'From' phone number is required.")
    body = form.get("Body", "")
    if not body:
        return error(400, 21602, "Message body is required.")
    if len(body) > 1600:
        return error(400, 21617, "The concatenated message body exceeds the 1600 character "
                                 "limit.")
    return None
