"""A claimed email message becomes wire bytes and an SMTP envelope."""

from __future__ import annotations

from email.utils import parseaddr

from tidings.outbox.messages import Claimed
from tidings.providers.base import Envelope
from tidings.render import mime

__all__ = ["build_envelope"]


def build_envelope(claimed: Claimed) -> Envelope:
    """Raises ``ValueError`` (header injection, bad address) for a message that cannot be built."""
    data = mime.build_email(mime.OutgoingEmail(
        sender=claimed.sender, to=claimed.to, cc=claimed.cc, bcc=claimed.bcc, reply_to=None,
        subject=claimed.subject, message_id=claimed.message_id_header,
        date=claimed.created_at, text=claimed.body_text, html=claimed.body_html,
        headers=claimed.headers, attachments=[]))
    recipients = [parseaddr(a)[1] for a in (*claimed.to, *claimed.cc, *claimed.bcc)]
    return Envelope(message_id=claimed.message_id_header, sender=parseaddr(claimed.sender)[1],
                    recipients=recipients, data=data, key=claimed.id)
