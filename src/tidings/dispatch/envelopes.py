"""A claimed message becomes an envelope: MIME bytes for email, a channel builder's otherwise.

Email: the MIME of ``render.mime`` with the message's cc (bcc only in the
SMTP envelope), its attachments (``payload["attachments"]``, base64, checked
when the message was added), the one-click unsubscribe headers when the
recipient subscribed, and a DKIM signature when the tenant has a key for the
From domain (signing is the last step, over the exact wire bytes).

SMS, push and print: ``tidings.channels_build.builders`` (the vendor stage)
builds the envelope from the message and its channel payload, with options
read from the provider's settings.

Every builder raises ``ValueError`` for a message that can never be sent;
the dispatcher fails it without calling a provider.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tidings.channels.unsubscribe import HEADER as UNSUBSCRIBE_HEADER
from tidings.channels.unsubscribe import UnsubscribeLinks
from tidings.dispatch.extras import NO_EXTRAS, MessageExtras
from tidings.feedback import verp
from tidings.outbox.messages import Claimed
from tidings.providers.base import Envelope
from tidings.providers.dkim import DkimRegistry, DkimSigner
from tidings.render import headers, mime

__all__ = [
    "DEFAULT_OPTIONS", "EnvelopeOptions", "attachments_of", "build_envelope", "build_other",
    "builder_options",
]


@dataclass(frozen=True)
class EnvelopeOptions:
    dkim: Mapping[str, DkimRegistry] = field(default_factory=dict)
    """Per tenant."""
    unsubscribe: UnsubscribeLinks | None = None
    subscribed_rules: frozenset[tuple[str, str]] = frozenset()
    """(tenant, rule) pairs whose recipients subscribed (``list_unsubscribe = true``)."""


DEFAULT_OPTIONS = EnvelopeOptions()


def build_envelope(claimed: Claimed, extras: MessageExtras = NO_EXTRAS,
                   options: EnvelopeOptions = DEFAULT_OPTIONS) -> Envelope:
    """Raises ``ValueError`` (header injection, bad address) for a message that cannot be built."""
    own_headers, return_path = verp.envelope(claimed)  # per-message return path, if set
    data = mime.build_email(mime.OutgoingEmail(
        sender=claimed.sender, to=claimed.to, cc=claimed.cc, bcc=claimed.bcc, reply_to=None,
        subject=claimed.subject, message_id=claimed.message_id_header,
        date=claimed.created_at, text=claimed.body_text, html=claimed.body_html,
        headers=own_headers + _unsubscribe(claimed, extras, options),
        attachments=attachments_of(extras.payload)))
    signer = _registry(claimed, options)
    if signer is not None:
        data = signer.sign(data)
    # parse_address has a fast path for bare addresses and caches named ones
    recipients = [headers.parse_address(a).addr for a in (*claimed.to, *claimed.cc, *claimed.bcc)]
    return Envelope(message_id=claimed.message_id_header,
                    sender=return_path or headers.parse_address(claimed.sender).addr,
                    recipients=recipients, data=data, key=claimed.id)


def build_other(kind: str, claimed: Claimed, extras: MessageExtras,
                options: Any) -> Envelope:
    """The envelope of an SMS, push or print message (the vendor stage's builders)."""
    try:
        from tidings.channels_build import builders
    except ImportError as exc:  # a build without the channel builders
        raise ValueError(f"no envelope builder for channel kind {kind!r}") from exc
    return builders.build(kind, claimed, extras.payload, options)


def builder_options(kind: str, settings: Mapping[str, Any]) -> Any:
    try:
        from tidings.channels_build import builders
    except ImportError as exc:
        raise ValueError(f"no envelope builder for channel kind {kind!r}") from exc
    return builders.options_for(kind, settings)


def attachments_of(payload: Mapping[str, Any]) -> list[mime.Attachment]:
    """The attachments stored with a message (base64 in ``payload["attachments"]``)."""
    found = []
    for item in payload.get("attachments") or []:
        try:
            data = base64.b64decode(item["data"], validate=True)
        except (KeyError, TypeError, binascii.Error) as exc:
            raise ValueError(f"attachment {item.get('filename')!r} is not base64") from exc
        found.append(mime.Attachment(str(item["filename"]), str(item["content_type"]), data,
                                     item.get("inline_cid")))
    return found


def _unsubscribe(claimed: Claimed, extras: MessageExtras,
                 options: EnvelopeOptions) -> list[tuple[str, str]]:
    if options.unsubscribe is None:
        return []
    if any(name.lower() == UNSUBSCRIBE_HEADER.lower() for name, _ in claimed.headers):
        return []
    subscribed = extras.list_unsubscribe or (
        extras.rule is not None and (claimed.tenant, extras.rule) in options.subscribed_rules)
    return options.unsubscribe.headers(claimed.tenant, claimed.id) if subscribed else []


def _registry(claimed: Claimed, options: EnvelopeOptions) -> DkimSigner | None:
    registry = options.dkim.get(claimed.tenant)
    return registry.signer_for(claimed.sender) if registry is not None else None
