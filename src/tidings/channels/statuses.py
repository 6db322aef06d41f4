"""Provider status tables: what a vendor's response code means for the message.

Every provider has its own table, seeded from its type's defaults and then
edited by the operator (API, CLI) or the project file. A row maps a
``code`` to an ``action``:

    action     the message...                               outcome given to ``decide``
    ---------  -------------------------------------------  ---------------------------------
    sent       was accepted                                 Sent
    delivered  was accepted and is known delivered          Sent (feedback moves it on)
    retry      is tried again later on the same provider    Deferred (Retry-After kept)
    failover   goes to the next provider of its channel     Deferred(failover=True)
    fail       fails for good                               Failed
    bounce     is refused for its recipient                 Bounced (a soft bounce stays soft)

The dispatcher looks up the outcome's ``code`` and, when a row matches,
replaces the provider's own reading; with no row the provider's reading
stands. Keys are tried from the most to the least specific: the code itself
("429", "5.7.1", "bounce"), then its class ("4xx", or "5.7.x" then "5.x.x"
for RFC 3463 enhanced codes).

SMTP outcomes that carry no ``code`` get one read from their reply text: the
enhanced code when the server gave one ("550 5.1.1" -> "5.1.1"; RFC 3463 codes
classify precisely, so a reply that has one is never read by its coarse basic
code), else the basic one. Only replies whose meaning does not depend on the
SMTP stage are read so: an acceptance, a refusal of a recipient (RCPT) and a
421. A refused sender (MAIL) concerns our account and a refusal after DATA
concerns the content, not the recipient: there the provider's reading stands.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Literal, get_args

from tidings.domain.outcomes import Bounced, Deferred, Failed, Outcome, Sent

__all__ = [
    "ACTIONS", "Action", "StatusRow", "StatusTable", "candidate_keys", "code_of", "reinterpret",
    "seeds_for",
]

Action = Literal["sent", "delivered", "retry", "failover", "fail", "bounce"]
ACTIONS: tuple[str, ...] = get_args(Action)

_BASIC = re.compile(r"^[1-5]\d\d$")
_ENHANCED = re.compile(r"^([245])\.(\d{1,3})\.(\d{1,3})$")
_SMTP_REPLY = re.compile(r"\b([245]\d\d)(?:[ -]([245]\.\d{1,3}\.\d{1,3}))?\b")
_SMTP_STAGE = re.compile(r"^(?:(?:auth|policy): )?(MAIL|RCPT|DATA)\b")
SMTP_SERVICE_CLOSING = "421"


@dataclass(frozen=True, slots=True)
class StatusRow:
    code: str
    action: Action
    description: str = ""


# Feedback codes every provider may report later (webhooks, DSNs).
_FEEDBACK = (
    StatusRow("bounce", "bounce", "Bounce: the recipient's server or the vendor refused it"),
    StatusRow("delivered", "delivered", "Delivered to the recipient"),
    StatusRow("dropped", "fail", "Dropped by the vendor (suppressed, invalid or spam)"),
)

HTTP_DEFAULTS = (
    StatusRow("200", "sent", "OK: the request is valid (some APIs do not queue on 200, e.g. "
                             "a sandbox mode: set this row to fail for those)"),
    StatusRow("201", "sent", "Created: accepted and queued"),
    StatusRow("202", "sent", "ACCEPTED: valid and queued to be delivered"),
    StatusRow("400", "fail", "BAD REQUEST: the request is malformed"),
    StatusRow("401", "failover", "UNAUTHORIZED: the credentials are missing or wrong"),
    StatusRow("403", "failover", "FORBIDDEN: the account may not do this"),
    StatusRow("404", "fail", "NOT FOUND: the resource does not exist"),
    StatusRow("405", "fail", "METHOD NOT ALLOWED"),
    StatusRow("413", "fail", "PAYLOAD TOO LARGE"),
    StatusRow("415", "fail", "UNSUPPORTED MEDIA TYPE"),
    StatusRow("429", "retry", "TOO MANY REQUESTS: the rate limit was hit; Retry-After is honoured"),
    StatusRow("500", "failover", "INTERNAL SERVER ERROR"),
    StatusRow("502", "failover", "BAD GATEWAY"),
    StatusRow("503", "failover", "SERVICE UNAVAILABLE"),
    StatusRow("504", "failover", "GATEWAY TIMEOUT"),
    StatusRow("timeout", "failover", "No answer in time: the result is unknown"),
    StatusRow("connect", "failover", "The vendor could not be reached"),
    *_FEEDBACK,
)

SMTP_DEFAULTS = (
    StatusRow("250", "sent", "Requested mail action okay, completed"),
    StatusRow("251", "sent", "User not local; will forward"),
    StatusRow("421", "failover", "Service not available, closing transmission channel"),
    StatusRow("450", "retry", "Mailbox unavailable (busy or greylisted)"),
    StatusRow("451", "retry", "Local error in processing"),
    StatusRow("452", "retry", "Insufficient system storage"),
    StatusRow("2.0.0", "sent", "Accepted"),
    StatusRow("4.2.2", "retry", "Mailbox full for now"),
    StatusRow("530", "failover", "Authentication required"),
    StatusRow("535", "failover", "Authentication credentials invalid"),
    StatusRow("5.7.8", "failover", "Authentication credentials invalid"),
    StatusRow("550", "bounce", "Mailbox unavailable"),
    StatusRow("551", "bounce", "User not local"),
    StatusRow("552", "bounce", "Exceeded storage allocation"),
    StatusRow("553", "bounce", "Mailbox name not allowed"),
    StatusRow("554", "fail", "Transaction failed"),
    StatusRow("5.1.x", "bounce", "Bad destination address"),
    StatusRow("5.2.2", "bounce", "Mailbox full"),
    *_FEEDBACK,
)

CAPTURE_DEFAULTS = (StatusRow("250", "sent", "Captured: kept in the database"), *_FEEDBACK)

_WEBPUSH_EXTRA = (
    StatusRow("404", "bounce", "The push subscription does not exist"),
    StatusRow("410", "bounce", "The push subscription expired or was cancelled"),
)

_BY_TYPE: dict[str, tuple[StatusRow, ...]] = {
    "smtp": SMTP_DEFAULTS,
    "capture": CAPTURE_DEFAULTS,
    "webpush": _WEBPUSH_EXTRA + HTTP_DEFAULTS,
}


def seeds_for(provider_type: str) -> tuple[StatusRow, ...]:
    """The seeded status table of a provider type (HTTP defaults for any HTTP vendor)."""
    table: dict[str, StatusRow] = {}
    for row in _BY_TYPE.get(provider_type, HTTP_DEFAULTS):
        table.setdefault(row.code, row)  # a type's own row comes first and wins
    return tuple(table.values())


def candidate_keys(code: str) -> Iterator[str]:
    """Keys to look up for ``code``, most specific first."""
    yield code
    enhanced = _ENHANCED.match(code)
    if enhanced:
        yield f"{enhanced.group(1)}.{enhanced.group(2)}.x"
        yield f"{enhanced.group(1)}.x.x"
    elif _BASIC.match(code):
        yield f"{code[0]}xx"


def code_of(outcome: Outcome) -> str:
    """The code to look up: the provider's own, else one read from an SMTP reply."""
    if outcome.code:
        return outcome.code
    text = outcome.response if isinstance(outcome, Sent) else outcome.reason
    match = _SMTP_REPLY.search(text)
    if match is None:
        return ""
    stage = _SMTP_STAGE.match(text)
    if (not isinstance(outcome, Sent) and stage is not None and stage.group(1) != "RCPT"
            and match.group(1) != SMTP_SERVICE_CLOSING):
        return ""  # MAIL and DATA refusals: the provider knows the stage, the code does not
    return match.group(2) or match.group(1)


def reinterpret(outcome: Outcome, action: Action, description: str, code: str) -> Outcome:
    """``outcome`` as the row's ``action`` reads it; the vendor's text is kept."""
    text = outcome.response if isinstance(outcome, Sent) else outcome.reason
    why = f"{text} [{code}: {description}]" if description else text
    if action in ("sent", "delivered"):
        provider_id = outcome.provider_id if isinstance(outcome, Sent) else None
        return Sent(response=why, provider_id=provider_id, code=code)
    if action in ("retry", "failover"):
        hint = outcome.retry_after_seconds if isinstance(outcome, Deferred) else None
        return Deferred(why, retry_after_seconds=hint, failover=action == "failover", code=code)
    if action == "bounce":
        hard = outcome.hard if isinstance(outcome, Bounced) else True
        return Bounced(why, hard=hard, code=code)
    return Failed(why, code=code)


class StatusTable:
    """The status tables of every provider, read at one moment (immutable)."""

    def __init__(self, rows: Mapping[str, Iterable[StatusRow]]) -> None:
        self._rows = {provider: {row.code: row for row in table}
                      for provider, table in rows.items()}

    def rows(self, provider: str) -> list[StatusRow]:
        return sorted(self._rows.get(provider, {}).values(), key=lambda r: r.code)

    def lookup(self, provider: str, code: str) -> StatusRow | None:
        table = self._rows.get(provider)
        if not table or not code:
            return None
        return next((table[key] for key in candidate_keys(code) if key in table), None)

    def apply(self, provider: str, outcome: Outcome) -> Outcome:
        """The outcome the dispatcher decides on: the matching row's reading, or the provider's."""
        code = code_of(outcome)
        row = self.lookup(provider, code)
        if row is None:
            return outcome
        return reinterpret(outcome, row.action, row.description, code)

    def action_for(self, provider: str, code: str) -> Action | None:
        """The action for a feedback code ("delivered", "bounce"...), for the feedback stage."""
        row = self.lookup(provider, code)
        return row.action if row else None
