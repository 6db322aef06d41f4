"""A local print-and-mail API in Lob's style: ``POST /v1/letters``.

Checks, as Lob documents them: HTTP basic auth with the API key as user name
(else 401); a multipart form with ``to[...]`` and ``from[...]`` addresses
(``name``, ``address_line1``, ``address_city``, ``address_zip`` and, for US
addresses, ``address_state``), ``use_type`` (operational or marketing) and a
``file`` that is a PDF which opens (else 422 ``{"error": {"message",
"status_code", "code"}}``). An ``Idempotency-Key`` seen before returns the
letter created the first time, and creates nothing. An ``address_line1``
containing "UNDELIVERABLE" is refused as Lob's strictness setting would
(422 ``failed_deliverability_strictness``). Success is ``200`` with the letter
(``id`` "ltr_" + 16 hex, ``to``, ``from``, ``metadata``...).
"""

from __future__ import annotations

import io
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from pypdf import PdfReader

from tests.fakes.server import Request, Response, Script, json_response

ADDRESS_KEYS = ("name", "address_line1", "address_line2", "address_city", "address_state",
                "address_zip", "address_country")


@dataclass
class Letter:
    id: str
    form: dict[str, str]
    pdf: bytes
    idempotency_key: str | None
    document: dict[str, Any]


def lob_error(status: int, message: str, code: str) -> Response:
    return json_response(status, {"error": {"message": message, "status_code": status,
                                            "code": code}})


@dataclass
class FakeLob:
    api_key: str
    script: Script = field(default_factory=Script)
    letters: list[Letter] = field(default_factory=list)
    requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self.handle(Request(environ))(environ, start_response)

    def handle(self, request: Request) -> Response:
        with self.lock:
            self.requests += 1
        if request.method != "POST" or request.path != "/v1/letters":
            return lob_error(404, "The requested resource does not exist.", "not_found")
        auth = request.authorization
        if auth is None or auth.username != self.api_key:
            return lob_error(401, "Your API key is not valid. Please sign up on lob.com to get "
                                  "a valid api key.", "unauthorized")
        scripted = self.script.next()
        if scripted is not None:
            time.sleep(scripted.delay_seconds)
            return scripted.response()
        key = request.headers.get("Idempotency-Key")
        with self.lock:
            earlier = next((x for x in self.letters if key and x.idempotency_key == key), None)
        if earlier is not None:
            return json_response(200, earlier.document)
        return self._create(request, key)

    def _create(self, request: Request, key: str | None) -> Response:
        form = request.form.to_dict()
        upload = request.files.get("file")
        pdf = upload.read() if upload is not None else b""
        refused = _refusal(form, pdf)
        if refused is not None:
            return refused
        letter_id = "ltr_" + uuid.uuid4().hex[:16]
        document = {"id": letter_id, "object": "letter", "description": form.get("description"),
                    "to": _address(form, "to"), "from": _address(form, "from"),
                    "color": form.get("color") == "true", "use_type": form["use_type"],
                    "metadata": {k[9:-1]: v for k, v in form.items() if k.startswith("metadata[")},
                    "expected_delivery_date": time.strftime("%Y-%m-%d"),
                    "url": f"https://lob-assets.example/letters/{letter_id}.pdf"}
        with self.lock:
            self.letters.append(Letter(letter_id, form, pdf, key, document))
        return json_response(200, document)


def _address(form: dict[str, str], prefix: str) -> dict[str, str]:
    return {k: form[f"{prefix}[{k}]"] for k in ADDRESS_KEYS if f"{prefix}[{k}]" in form}


def _refusal(form: dict[str, str], pdf: bytes) -> Response | None:
    for prefix in ("to", "from"):
        address = _address(form, prefix)
        required = ["name", "address_line1", "address_city", "address_zip"]
        if address.get("address_country", "US") == "US":
            required.append("address_state")
        missing = [k for k in required if not address.get(k)]
        if missing:
            return lob_error(422, f"{prefix}.{missing[0]} is required", "invalid")
    if form.get("use_type") not in ("operational", "marketing"):
        return lob_error(422, "use_type must be one of [marketing, operational]", "invalid")
    if "UNDELIVERABLE" in form.get("to[address_line1]", ""):
        return lob_error(422, "address is undeliverable", "failed_deliverability_strictness")
    try:
        PdfReader(io.BytesIO(pdf)).pages[0]
    except Exception:
        return lob_error(422, "file is not a valid PDF", "invalid_file")
    return None
