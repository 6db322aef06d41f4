"""Returned mail, read: a bounce (hard or soft) or a complaint, and about which message.

Complaints are ARF reports (RFC 5965: ``multipart/report;
report-type=feedback-report``). Everything else is handed to flufl.bounce,
whose detectors know DSNs (RFC 3464) and the home-made formats of Postfix,
Exim, qmail, Exchange, Yahoo and others: an address it lists as a permanent
failure makes a hard bounce, one it lists only as temporary a soft bounce,
and a mail in which it finds neither is ``unknown`` (an auto-reply, say).
The DSN's own ``Status`` and ``Diagnostic-Code``, which flufl.bounce does not
return, are read with the standard library, as is the Message-ID of the
returned original (for mail that did not come back to a VERP address).
Pure: bytes in, a :class:`Return` out.
"""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass
from datetime import datetime
from email import message_from_bytes, policy
from email.message import Message
from email.parser import BytesHeaderParser, HeaderParser

from flufl.bounce import all_failures

from tidings.feedback.notices import Kind, MessageRef, Notice

__all__ = ["Return", "classify", "notice_of"]

MAX_RETURN_BYTES = 2_000_000


@dataclass(frozen=True, slots=True)
class Return:
    kind: Kind  # HARD_BOUNCE | SOFT_BOUNCE | COMPLAINED | UNKNOWN
    permanent: tuple[str, ...] = ()
    temporary: tuple[str, ...] = ()
    status: str = ""
    diagnostic: str = ""
    feedback_type: str = ""
    original_message_id: str | None = None
    original_recipient: str | None = None
    message_id: str | None = None
    """The returned mail's own Message-ID (a key against duplicates)."""

    @property
    def severity(self) -> str:
        """``hard``, ``soft``, ``complaint`` or ``unknown``."""
        return {Kind.HARD_BOUNCE: "hard", Kind.SOFT_BOUNCE: "soft",
                Kind.COMPLAINED: "complaint"}.get(self.kind, "unknown")


def _addresses(found: Set[bytes]) -> tuple[str, ...]:
    return tuple(sorted({a.decode("utf-8", "replace").strip().lower() for a in found}))


def _report_type(message: Message) -> str:
    if message.get_content_type() != "multipart/report":
        return ""
    return str(message.get_param("report-type", "") or "").lower()


def _parts(message: Message, content_type: str) -> list[Message]:
    return [p for p in message.walk() if p.get_content_type() == content_type]


def _original_headers(message: Message) -> Message | None:
    for part in message.walk():
        kind = part.get_content_type()
        if kind == "message/rfc822" and part.is_multipart():
            inner = part.get_payload(0)
            return inner if isinstance(inner, Message) else None
        if kind == "text/rfc822-headers":
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                return BytesHeaderParser().parsebytes(payload)
            return HeaderParser().parsestr(str(part.get_payload()))
    return None


def _field_blocks(message: Message, content_type: str) -> list[Message]:
    blocks: list[Message] = []
    for part in _parts(message, content_type):
        payload = part.get_payload()
        if isinstance(payload, list):
            blocks.extend(b for b in payload if isinstance(b, Message))
        elif isinstance(payload, str):
            blocks.append(HeaderParser().parsestr(payload))
    return blocks


def _first(blocks: list[Message], name: str) -> str:
    return next((str(b[name]).strip() for b in blocks if b[name]), "")


def _complaint(message: Message, original: Message | None) -> Return:
    blocks = _field_blocks(message, "message/feedback-report")
    recipient = _first(blocks, "Original-Rcpt-To") or (
        str(original["To"]) if original is not None and original["To"] else "")
    return Return(Kind.COMPLAINED, feedback_type=_first(blocks, "Feedback-Type").lower(),
                  original_recipient=recipient.strip("<> ").lower() or None,
                  diagnostic=_first(blocks, "User-Agent"))


def _bounce(message: Message) -> Return:
    temporary, permanent = all_failures(message)
    blocks = _field_blocks(message, "message/delivery-status")
    kind = Kind.HARD_BOUNCE if permanent else Kind.SOFT_BOUNCE if temporary else Kind.UNKNOWN
    return Return(kind, _addresses(permanent), _addresses(temporary - permanent),
                  status=_first(blocks, "Status").split(" ")[0],
                  diagnostic=" ".join(_first(blocks, "Diagnostic-Code").split())[:500])


def classify(raw: bytes) -> Return:
    """Read one returned mail."""
    message = message_from_bytes(raw[:MAX_RETURN_BYTES], policy=policy.compat32)
    original = _original_headers(message)
    if _report_type(message) == "feedback-report":
        found = _complaint(message, original)
    else:
        found = _bounce(message)
    original_id = str(original["Message-ID"]).strip() if original is not None and \
        original["Message-ID"] else None
    own_id = str(message["Message-ID"]).strip() if message["Message-ID"] else None
    return Return(found.kind, found.permanent, found.temporary, found.status, found.diagnostic,
                  found.feedback_type, original_id, found.original_recipient, own_id)


def notice_of(found: Return, ref: MessageRef, at: datetime, key: str | None) -> Notice:
    """The notice a return makes about the message ``ref`` names."""
    if found.kind is Kind.COMPLAINED:
        reason, code = f"complaint ({found.feedback_type or 'abuse'})", found.feedback_type
    elif found.kind is Kind.UNKNOWN:
        reason, code = "returned mail that is neither a bounce nor a complaint", ""
    else:
        reason = found.diagnostic or f"{found.severity} bounce"
        code = found.status
    return Notice(found.kind, at, "smtp-return", ref, reason=reason, code=code, key=key,
                  detail={"severity": found.severity})
