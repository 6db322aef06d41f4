"""What a provider says about one message, in one closed set of types.

A provider turns each vendor answer into exactly one of these at its boundary;
the dispatcher decides what happens next (it owns time: backoff, windows, rate
limits). Only ``Sent``, ``Bounced`` and ``Failed`` are definite; ``Deferred``
means "not known to be done" and is always safe to retry, because every retry
reuses the message's own Message-ID.

Every outcome may carry the vendor's own ``code`` ("250", "202", "429",
"bounce", "delivered", ...). The operator's provider status table maps
(provider, code) to a message status and may override the provider's
default reading; ``code`` is what it is keyed on.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Bounced", "Deferred", "Failed", "Outcome", "Sent"]


@dataclass(frozen=True, slots=True)
class Sent:
    """The provider accepted the message (SMTP 250, HTTP 2xx)."""

    response: str = ""
    provider_id: str | None = None
    code: str = ""


@dataclass(frozen=True, slots=True)
class Deferred:
    """Temporary failure or unknown result: try again later.

    ``retry_after_seconds`` is the provider's own hint (HTTP 429 Retry-After),
    which the dispatcher honours exactly; ``None`` lets backoff decide.
    ``failover`` marks a provider-level fault (timeout, 5xx, auth) after which
    the next provider of the channel may be tried.
    """

    reason: str
    retry_after_seconds: float | None = None
    failover: bool = False
    code: str = ""


@dataclass(frozen=True, slots=True)
class Bounced:
    """The recipient was refused permanently (SMTP 5xx on RCPT)."""

    reason: str
    hard: bool = True
    code: str = ""


@dataclass(frozen=True, slots=True)
class Failed:
    """A definite failure that retrying cannot mend (bad request, rejected content)."""

    reason: str
    code: str = ""


Outcome = Sent | Deferred | Bounced | Failed
