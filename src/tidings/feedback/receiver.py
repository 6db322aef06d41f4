"""A small SMTP server (aiosmtpd) that takes returned mail and turns it into notices.

It accepts recipients at the return-path domain only (any, when none is
configured), reads each mail with ``returns.classify`` and applies the notice
to the message its VERP address names, or else the message whose Message-ID
the returned original carries. The SMTP answer comes after the notice is
committed: ``250`` once it is stored (or known to concern no message of
ours), ``451`` when the database failed, so the sending MTA tries again.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from aiosmtpd.controller import Controller

from tidings.feedback import returns, verp
from tidings.feedback.notices import MessageRef
from tidings.storage.feedback_sql import Applied, SqlFeedback

__all__ = ["ReturnsHandler", "ReturnsReceiver", "accept_return"]

log = logging.getLogger(__name__)
MAX_RETURN_BYTES = returns.MAX_RETURN_BYTES


def accept_return(store: SqlFeedback, recipient: str, raw: bytes, now: datetime) -> Applied:
    """Classify one returned mail sent to ``recipient`` and apply it."""
    found = returns.classify(raw)
    address = verp.parse(recipient)
    ref = address.ref() if address else MessageRef(message_id_header=found.original_message_id)
    if not ref:
        return Applied("unknown_message")
    key = found.message_id or hashlib.sha256(raw).hexdigest()
    return store.apply(returns.notice_of(found, ref, now, f"{recipient.lower()} {key}"[:255]),
                       now)


class ReturnsHandler:
    """aiosmtpd handler: RCPT checks the domain, DATA applies each recipient's copy."""

    def __init__(self, store: SqlFeedback, now: Callable[[], datetime],
                 domain: str | None = None) -> None:
        self.store, self.now, self.domain = store, now, domain.lower() if domain else None

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if self.domain and not address.lower().endswith("@" + self.domain):
            return "550 5.1.1 not a return address here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = bytes(envelope.original_content or envelope.content)
        if len(raw) > MAX_RETURN_BYTES:
            return "552 5.3.4 returned mail too large"
        try:
            for recipient in envelope.rcpt_tos:
                applied = await asyncio.to_thread(accept_return, self.store, recipient, raw,
                                                  self.now())
                log.info("feedback.return", extra={"recipient_domain": recipient.split("@")[-1],
                                                   "outcome": applied.outcome,
                                                   "message_id": applied.message_id})
        except Exception:  # the database: let the sender try again later
            log.exception("feedback.return failed")
            return "451 4.3.0 cannot store it now, try again later"
        return "250 2.0.0 return accepted"


class ReturnsReceiver:
    """The handler behind an SMTP listener; ``start`` and ``stop`` it, or use ``with``."""

    def __init__(self, handler: ReturnsHandler, host: str = "127.0.0.1", port: int = 2525) -> None:
        self.controller = Controller(handler, hostname=host, port=port, decode_data=False,
                                     data_size_limit=MAX_RETURN_BYTES)

    @property
    def port(self) -> int:
        return int(self.controller.port)

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()

    def __enter__(self) -> ReturnsReceiver:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
