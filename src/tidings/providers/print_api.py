"""A print-and-mail HTTP API in the Lob style: one ``POST /v1/letters`` per letter.

The request is ``multipart/form-data``: the letter's PDF as ``file``, the
recipient as ``to[name]``, ``to[address_line1]``, ``to[address_line2]``,
``to[address_city]``, ``to[address_state]``, ``to[address_zip]``,
``to[address_country]``, the return address as ``from[...]`` likewise, and
``description``, ``color``, ``double_sided``, ``address_placement``,
``mail_type``, ``use_type``, ``metadata[tidings_outbox_id]``,
``metadata[tidings_message_id]``. Authentication is HTTP basic with the API key
as user name and an empty password. The ``Idempotency-Key`` header is the
message's own Message-ID, so a retry after an unknown result (a timeout) gives
back the same letter instead of printing a second one.

How answers become outcomes::

    answer                                          outcome                     code
    ----------------------------------------------  --------------------------  ------------
    200 {"id": "ltr_..."}                           Sent(provider_id=id)        "200"
    422 failed_deliverability_strictness            Bounced(hard): the address  the error code
                                                    cannot be delivered to
    400, 422 other (a field refused)                Failed                      "400"/"422"
    404 (wrong base URL), 401, 403, 5xx, timeout,   Deferred(failover=True)     "404"...
    connection refused
    429                                             Deferred(Retry-After)       "429"
    not a letter envelope, not a PDF, too big       Failed, no request made     "invalid"
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, Literal

import httpx
import orjson
from pydantic import SecretStr

from tidings.channels_build.envelopes import LetterEnvelope
from tidings.domain.outcomes import Bounced, Deferred, Failed, Outcome
from tidings.providers import errors, http_outcome
from tidings.providers.base import Envelope
from tidings.render.pdf import PostalAddress

__all__ = ["API_BASE", "PrintApiProvider", "address_fields", "classify"]

API_BASE = "https://api.lob.com"
LETTERS_PATH = "/v1/letters"
DEFAULT_TIMEOUT_SECONDS = 30.0
MAX_IDEMPOTENCY_KEY_CHARS = 256
UNDELIVERABLE_CODES = frozenset({"failed_deliverability_strictness"})
AddressPlacement = Literal["top_first_page", "insert_blank_page"]
UseType = Literal["operational", "marketing"]

log = logging.getLogger(__name__)


def classify(status: int, body: bytes, retry_after: float | None = None) -> Outcome:
    """The outcome of one answer to a letter create request (see the module table)."""
    document = _json(body)
    if 200 <= status < 300:
        letter_id = document.get("id")
        return http_outcome.from_status(status, "letter created",
                                        provider_id=str(letter_id) if letter_id else None)
    error = document.get("error")
    error = error if isinstance(error, dict) else {}
    vendor_code = str(error.get("code") or "")
    message = str(error.get("message") or "")
    detail = f"{vendor_code}: {message}" if vendor_code else message
    if vendor_code in UNDELIVERABLE_CODES:
        return Bounced(f"print API {detail}"[:http_outcome.MAX_REASON_CHARS], hard=True,
                       code=vendor_code)
    if status == 404:
        return Deferred(f"HTTP 404: letters endpoint not found: {detail}", failover=True,
                        code="404")
    return http_outcome.from_status(status, f"print API {detail}", retry_after=retry_after)


def _json(body: bytes) -> dict[str, Any]:
    try:
        value = orjson.loads(body) if body else {}
    except orjson.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def address_fields(prefix: str, address: PostalAddress) -> dict[str, str]:
    """An address as Lob's bracketed form fields (``to[address_line1]`` ...)."""
    fields = {"name": address.name, "address_line1": address.line1,
              "address_line2": address.line2 or "", "address_city": address.city,
              "address_state": address.region or "", "address_zip": address.postal_code or "",
              "address_country": address.country.upper()}
    return {f"{prefix}[{key}]": value for key, value in fields.items() if value}


class PrintApiProvider:
    """Sends letter envelopes (PDF + postal address) to a Lob-style print-and-mail API."""

    max_batch: int = 50
    max_recipients: int = 1
    max_message_bytes: int = 10_000_000

    def __init__(
        self,
        name: str,
        api_key: SecretStr,
        return_address: PostalAddress,
        *,
        base_url: str = API_BASE,
        color: bool = False,
        double_sided: bool = False,
        address_placement: AddressPlacement = "top_first_page",
        mail_type: str = "usps_first_class",
        use_type: UseType = "operational",
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        max_batch: int | None = None,
        max_message_bytes: int | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not api_key.get_secret_value():
            raise errors.ProviderConfigError("print API key is empty")
        try:
            return_address.validate()
        except ValueError as exc:
            raise errors.ProviderConfigError(f"return address: {exc}") from exc
        self.name = name
        self.max_batch = max_batch or type(self).max_batch
        self.max_message_bytes = max_message_bytes or type(self).max_message_bytes
        self._url = base_url.rstrip("/") + LETTERS_PATH
        self._fixed = {
            **address_fields("from", return_address),
            "color": _flag(color), "double_sided": _flag(double_sided),
            "address_placement": address_placement, "mail_type": mail_type,
            "use_type": use_type,
        }
        self._client = httpx.Client(auth=(api_key.get_secret_value(), ""), transport=transport,
                                    timeout=httpx.Timeout(timeout_seconds),
                                    headers={"Accept": "application/json"})

    def __repr__(self) -> str:
        return f"PrintApiProvider(name={self.name!r}, url={self._url!r})"

    def send_batch(self, envelopes: Sequence[Envelope]) -> list[Outcome]:
        return [self._send_one(envelope) for envelope in envelopes]

    def close(self) -> None:
        self._client.close()

    def _send_one(self, envelope: Envelope) -> Outcome:
        refused = self._refuse_early(envelope)
        if refused is not None:
            return refused
        assert isinstance(envelope, LetterEnvelope)
        try:
            response = self._client.post(
                self._url, data=self._form(envelope),
                files={"file": ("letter.pdf", envelope.data, "application/pdf")},
                headers={"Idempotency-Key": envelope.message_id[:MAX_IDEMPOTENCY_KEY_CHARS]})
        except httpx.TransportError as exc:
            return http_outcome.from_transport_error(exc)
        except Exception as exc:  # a bug must not lose the batch's other outcomes
            log.exception("print_api %s: unexpected error, outbox row %s deferred",
                          self.name, envelope.key)
            return Deferred(f"internal error: {type(exc).__name__}")
        return classify(response.status_code, response.content,
                        http_outcome.retry_after_seconds(response.headers))

    def _refuse_early(self, envelope: Envelope) -> Outcome | None:
        if not isinstance(envelope, LetterEnvelope):
            return Failed("not a letter envelope (no postal address)", code="invalid")
        if not envelope.data.startswith(b"%PDF-"):
            return Failed("letter is not a PDF", code="invalid")
        if len(envelope.data) > self.max_message_bytes:
            return Failed(f"letter is {len(envelope.data)} bytes, limit "
                          f"{self.max_message_bytes}", code="invalid")
        return None

    def _form(self, envelope: LetterEnvelope) -> dict[str, str]:
        return {**self._fixed, **address_fields("to", envelope.address),
                "description": envelope.description or f"Tidings letter {envelope.key}",
                "metadata[tidings_outbox_id]": str(envelope.key),
                "metadata[tidings_message_id]": envelope.message_id[:500]}


def _flag(value: bool) -> str:
    return "true" if value else "false"
