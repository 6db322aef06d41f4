"""The suppression check the dispatcher makes before it calls a provider.

A claimed message whose ``To`` address is on its tenant's suppression list
(hard bounce, complaint, unsubscribe, repeated soft bounces, an operator's
entry) gets no provider call: it is recorded ``suppressed``, with the reason,
under the claiming worker's lease like any other decision. One query per
claimed batch. Addresses compare lower-cased; phone numbers as given (E.164).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from datetime import datetime
from email.utils import parseaddr

from tidings.domain.states import State
from tidings.outbox.messages import Claimed, Decision
from tidings.storage.feedback_sql import SqlSuppressions
from tidings.storage.outbox_sql import SqlOutbox

__all__ = ["address_of", "filter_claimed"]


_BARE = re.compile(r"[^\s<>(),;:\"]+")


@functools.lru_cache(maxsize=8192)
def address_of(value: str) -> str:
    """``"Ada <Ada@Example.com>"`` -> ``"ada@example.com"``; a phone number stays itself.

    Bare addresses and numbers (nearly every recipient) skip the slow parser."""
    if _BARE.fullmatch(value.strip()):
        return value.strip().lower()
    addr = parseaddr(value)[1] or value
    return addr.strip().lower()


def filter_claimed(outbox: SqlOutbox, worker: str, batch: Sequence[Claimed],
                   now: datetime) -> list[Claimed]:
    """Record suppressed messages as ``suppressed``; return the ones still to send."""
    if not batch:
        return []
    found: dict[int, str] = {}
    store = SqlSuppressions(outbox.engine)
    with outbox.reader.connect() as conn:
        for tenant in {c.tenant for c in batch}:
            mine = [c for c in batch if c.tenant == tenant]
            listed = store.which(conn, tenant, [address_of(a) for c in mine for a in c.to])
            for claimed in mine:
                hits = [address_of(a) for a in claimed.to if address_of(a) in listed]
                if hits:
                    found[claimed.id] = ", ".join(f"{a} ({listed[a]})" for a in hits)
    if found:
        outbox.record(worker, [(c, Decision(State.SUPPRESSED, "recipient suppressed",
                                            found[c.id])) for c in batch if c.id in found], now)
    return [c for c in batch if c.id not in found]
