"""A local SES v2 ``SendEmail`` endpoint for the answers moto does not give.

``POST /v2/email/outbound-emails`` records the JSON request (so a test sees the
configuration set and message tags exactly as they went on the wire) and
answers ``200 {"MessageId": ...}``, or the next scripted error in SES v2's
REST-JSON form: the status, an ``x-amzn-ErrorType`` header and
``{"message": ...}``.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import orjson

from tests.fakes.server import Request, Response, Script, Scripted, json_response

SEND_PATH = "/v2/email/outbound-emails"


def ses_error(status: int, error_type: str, message: str = "refused") -> Scripted:
    return Scripted(status, {"message": message},
                    {"x-amzn-ErrorType": error_type, "x-amzn-RequestId": uuid.uuid4().hex})


@dataclass
class FakeSes:
    script: Script = field(default_factory=Script)
    requests: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self.handle(Request(environ))(environ, start_response)

    def handle(self, request: Request) -> Response:
        if request.method != "POST" or request.path != SEND_PATH:
            return json_response(404, {"message": "unknown operation"},
                                 {"x-amzn-ErrorType": "UnknownOperationException"})
        with self.lock:
            self.requests.append(orjson.loads(request.get_data()))
        scripted = self.script.next()
        if scripted is not None:
            time.sleep(scripted.delay_seconds)
            return scripted.response()
        return json_response(200, {"MessageId": f"0100{uuid.uuid4().hex}-000000"})
