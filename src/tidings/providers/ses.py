"""Amazon SES v2: each envelope's wire bytes sent as a raw MIME message.

One ``sesv2`` boto3 client per provider instance (so one connection pool per
worker thread) calls ``SendEmail`` with ``Content.Raw.Data`` = the envelope's
bytes (already DKIM-signed when the tenant signs its own mail),
``Destination`` = the envelope recipients (bcc included: SES takes them as the
SMTP envelope and leaves the headers alone), the provider's configuration set,
and message tags: the provider's own plus ``tidings_outbox_id`` so SES event
publishing (bounces, complaints, deliveries) can be joined back to the
outbox row as well as by the returned ``MessageId``.

botocore's own retries are switched off (one attempt): the dispatcher owns
backoff. How answers become outcomes (``code`` is the HTTP status where SES's
error reads as that status does, else SES's error code)::

    answer                                        outcome                      code
    --------------------------------------------  ---------------------------  ------------
    200 {"MessageId": ...}                        Sent(provider_id=MessageId)  "200"
    MessageRejected, BadRequestException          Failed                       "400"
    (content or address refused), request that
    fails botocore's parameter validation
    TooManyRequestsException, Throttling          Deferred                     "429"/code
    AccountSuspended, SendingPaused,              Deferred(failover=True)      the error code
    MailFromDomainNotVerified, NotFound (no such
    configuration set), LimitExceeded (quota)
    403 (credentials, signature), 5xx             Deferred(failover=True)      "403"/"500"...
    timeout, connection refused                   Deferred(failover=True)      "timeout"/"connect"
    over 40 MB, no or over 50 recipients          Failed, no request made      "invalid"

Secrets: the access key secret is a ``SecretStr``; without one, boto3's
default chain (environment, instance role) applies.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any

import boto3
import botocore.exceptions as boto_errors
from botocore.config import Config
from pydantic import SecretStr

from tidings.domain.outcomes import Deferred, Failed, Outcome, Sent
from tidings.providers import errors, http_outcome
from tidings.providers.base import Envelope

__all__ = ["OUTBOX_ID_TAG", "SesProvider", "classify_error"]

OUTBOX_ID_TAG = "tidings_outbox_id"
DEFAULT_TIMEOUT_SECONDS = 10.0
MAX_RAW_BYTES = 40 * 1024 * 1024  # SES v2 raw message limit, attachments included
MAX_RECIPIENTS = 50
_TAG = re.compile(r"^[A-Za-z0-9_-]{1,256}$")

FAILED_ERRORS = frozenset({"MessageRejected", "BadRequestException", "InvalidParameterValue"})
THROTTLED_ERRORS = frozenset({"TooManyRequestsException", "ThrottlingException", "Throttling"})
FAILOVER_ERRORS = frozenset({
    "AccountSuspendedException", "SendingPausedException",
    "MailFromDomainNotVerifiedException", "NotFoundException", "LimitExceededException",
})

log = logging.getLogger(__name__)


def classify_error(error_code: str, status: int, message: str) -> Outcome:
    """The outcome of an SES error answer (see the module table)."""
    reason = f"SES {error_code}: {message}"[:http_outcome.MAX_REASON_CHARS]
    if error_code in FAILED_ERRORS:
        return Failed(reason, code=str(status))
    if error_code in THROTTLED_ERRORS:
        return Deferred(reason, code="429" if status == 429 else error_code)
    if error_code in FAILOVER_ERRORS:
        return Deferred(reason, failover=True, code=error_code)
    return http_outcome.from_status(status, f"SES {error_code}: {message}")


class SesProvider:
    """Sends envelopes as raw MIME through Amazon SES v2 ``SendEmail``."""

    max_batch: int = 50
    max_recipients: int = MAX_RECIPIENTS
    max_message_bytes: int = MAX_RAW_BYTES

    def __init__(
        self,
        name: str,
        *,
        region: str,
        configuration_set: str | None = None,
        tags: Mapping[str, str] | None = None,
        endpoint_url: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: SecretStr | None = None,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        max_batch: int | None = None,
    ) -> None:
        self.name = name
        self.max_batch = max_batch or type(self).max_batch
        self._configuration_set = configuration_set
        self._tags = _check_tags(dict(tags or {}))
        if (access_key_id is None) != (secret_access_key is None):
            raise errors.ProviderConfigError("SES access key id and secret go together")
        config = Config(connect_timeout=timeout_seconds, read_timeout=timeout_seconds,
                        retries={"total_max_attempts": 1, "mode": "standard"})
        self._client: Any = boto3.session.Session().client(
            "sesv2", region_name=region, endpoint_url=endpoint_url, config=config,
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key.get_secret_value()
            if secret_access_key else None)

    def __repr__(self) -> str:
        return (f"SesProvider(name={self.name!r}, region={self._client.meta.region_name!r}, "
                f"configuration_set={self._configuration_set!r})")

    def send_batch(self, envelopes: Sequence[Envelope]) -> list[Outcome]:
        return [self._send_one(envelope) for envelope in envelopes]

    def close(self) -> None:
        self._client.close()

    def _send_one(self, envelope: Envelope) -> Outcome:
        refused = self._refuse_early(envelope)
        if refused is not None:
            return refused
        try:
            answer = self._client.send_email(**self._request(envelope))
        except boto_errors.ClientError as exc:
            error = exc.response.get("Error", {})
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            return classify_error(str(error.get("Code", "Unknown")), int(status),
                                  str(error.get("Message", "")))
        except boto_errors.ParamValidationError as exc:
            return Failed(f"SES request invalid: {exc}"[:300], code="invalid")
        except (boto_errors.ConnectTimeoutError, boto_errors.ReadTimeoutError) as exc:
            return Deferred(f"timeout: {type(exc).__name__}, result unknown", failover=True,
                            code="timeout")
        except boto_errors.BotoCoreError as exc:  # no connection, no credentials
            return Deferred(f"connect: {type(exc).__name__}: {exc}"[:300], failover=True,
                            code="connect")
        except Exception as exc:  # a bug must not lose the batch's other outcomes
            log.exception("ses %s: unexpected error, outbox row %s deferred",
                          self.name, envelope.key)
            return Deferred(f"internal error: {type(exc).__name__}")
        status = answer.get("ResponseMetadata", {}).get("HTTPStatusCode", 200)
        return Sent(response=f"{status} MessageId {answer['MessageId']}",
                    provider_id=answer["MessageId"], code=str(status))

    def _refuse_early(self, envelope: Envelope) -> Outcome | None:
        if len(envelope.data) > self.max_message_bytes:
            return Failed(f"message is {len(envelope.data)} bytes, SES takes "
                          f"{self.max_message_bytes}", code="invalid")
        if not envelope.recipients:
            return Failed("no recipients", code="invalid")
        if len(envelope.recipients) > self.max_recipients:
            return Failed(f"{len(envelope.recipients)} recipients, SES takes "
                          f"{self.max_recipients}", code="invalid")
        return None

    def _request(self, envelope: Envelope) -> dict[str, Any]:
        tags = {**self._tags, OUTBOX_ID_TAG: str(envelope.key)}
        request: dict[str, Any] = {
            "FromEmailAddress": envelope.sender,
            "Destination": {"ToAddresses": list(envelope.recipients)},
            "Content": {"Raw": {"Data": envelope.data}},
            "EmailTags": [{"Name": k, "Value": v} for k, v in tags.items()],
        }
        if self._configuration_set:
            request["ConfigurationSetName"] = self._configuration_set
        return request


def _check_tags(tags: dict[str, str]) -> dict[str, str]:
    for name, value in tags.items():
        if not (_TAG.fullmatch(name) and _TAG.fullmatch(str(value))):
            raise errors.ProviderConfigError(
                f"SES tag {name!r}: names and values are 1-256 of A-Z a-z 0-9 _ -")
        if name == OUTBOX_ID_TAG:
            raise errors.ProviderConfigError(f"SES tag {OUTBOX_ID_TAG} is set by Tidings")
    return {name: str(value) for name, value in tags.items()}
