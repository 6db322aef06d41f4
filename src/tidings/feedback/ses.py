"""Amazon SES notifications (the ``Message`` of a verified SNS notification) as notices.

Both shapes are read: identity notifications (``notificationType``) and
configuration-set event publishing (``eventType``)::

    Bounce         Permanent -> hard_bounce; Transient, Undetermined -> soft_bounce
    Complaint      complained (feedback type kept as the code)
    Delivery       delivered
    Reject         rejected (SES refused to send it: a virus, say)
    DeliveryDelay  delayed (delay type kept as the code)

Other event types (Send, Open, Click, Rendering Failure, Subscription) give no
notice: Tidings tracks opens and clicks itself. The message is found by the
SES message id (``mail.messageId``, kept as the provider's id when sending)
or else by our Message-ID (``mail.commonHeaders.messageId``). Pure.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import orjson

from tidings.feedback.notices import Kind, MessageRef, Notice

__all__ = ["SesError", "notices"]


class SesError(ValueError):
    """The message is not an SES notification this module can read."""


def _when(value: Any, fallback: datetime) -> datetime:
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return fallback
        return parsed if parsed.tzinfo else fallback
    return fallback


def _emails(items: Any, key: str = "emailAddress") -> tuple[str, ...]:
    if not isinstance(items, list):
        return ()
    found = [i.get(key) if isinstance(i, dict) else i for i in items]
    return tuple(str(a).strip().lower() for a in found if isinstance(a, str) and a.strip())


def _bounce(body: Mapping[str, Any]) -> tuple[Kind, tuple[str, ...], str, str, Any]:
    kind = Kind.HARD_BOUNCE if body.get("bounceType") == "Permanent" else Kind.SOFT_BOUNCE
    recipients = body.get("bouncedRecipients") or []
    first = recipients[0] if recipients and isinstance(recipients[0], dict) else {}
    reason = str(first.get("diagnosticCode") or f"{body.get('bounceType')} bounce")
    code = str(first.get("status") or f"{body.get('bounceType')}/{body.get('bounceSubType')}")
    return kind, _emails(recipients), reason, code, body.get("timestamp")


def _complaint(body: Mapping[str, Any]) -> tuple[Kind, tuple[str, ...], str, str, Any]:
    feedback = str(body.get("complaintFeedbackType") or "abuse")
    return (Kind.COMPLAINED, _emails(body.get("complainedRecipients")),
            f"complaint ({feedback})", feedback, body.get("timestamp"))


def _delivery(body: Mapping[str, Any]) -> tuple[Kind, tuple[str, ...], str, str, Any]:
    return (Kind.DELIVERED, _emails(body.get("recipients"), key=""),
            str(body.get("smtpResponse") or "delivered"), "", body.get("timestamp"))


def _reject(body: Mapping[str, Any]) -> tuple[Kind, tuple[str, ...], str, str, Any]:
    return Kind.REJECTED, (), str(body.get("reason") or "rejected"), "reject", None


def _delay(body: Mapping[str, Any]) -> tuple[Kind, tuple[str, ...], str, str, Any]:
    delay = str(body.get("delayType") or "")
    return (Kind.DELAYED, _emails(body.get("delayedRecipients")), f"delivery delayed ({delay})",
            delay, body.get("timestamp"))


_READERS: dict[str, tuple[str, Callable[[Mapping[str, Any]],
                                        tuple[Kind, tuple[str, ...], str, str, Any]]]] = {
    "Bounce": ("bounce", _bounce),
    "Complaint": ("complaint", _complaint),
    "Delivery": ("delivery", _delivery),
    "Reject": ("reject", _reject),
    "DeliveryDelay": ("deliveryDelay", _delay),
}


def notices(message: str, key: str, received_at: datetime) -> list[Notice]:
    """The notices of one SES notification; [] for event types that carry none."""
    try:
        doc = orjson.loads(message)
    except orjson.JSONDecodeError as exc:
        raise SesError("the SNS Message is not JSON") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("mail"), dict):
        raise SesError("not an SES notification (no mail object)")
    event = str(doc.get("notificationType") or doc.get("eventType") or "")
    if event not in _READERS:
        return []
    field, read = _READERS[event]
    body = doc.get(field)
    kind, recipients, reason, code, at = read(body if isinstance(body, dict) else {})
    mail = doc["mail"]
    headers = mail.get("commonHeaders") if isinstance(mail.get("commonHeaders"), dict) else {}
    ref = MessageRef(provider_message_id=_text(mail.get("messageId")),
                     message_id_header=_text(headers.get("messageId")))
    return [Notice(kind, _when(at or mail.get("timestamp"), received_at), "ses", ref,
                   recipients, reason[:2000], code[:64], key, {"event": event})]


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None
