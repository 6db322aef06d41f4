"""Variable envelope return paths: ``bounces+<id>-<proof>@<domain>``, one per message.

A message whose headers carry ``Return-Path: <bounces@domain>`` (added at
ingest, see ``outgoing``) is sent with that header removed (RFC 5321 4.4: the
receiving MTA writes it) and with the envelope sender
``bounces+<id>-<proof>@domain``: ``id`` is the outbox row in base 36, ``proof``
13 base32 characters of the SHA-256 of the message's Message-ID. Mail coming
back to that address names its message without any parsing of the bounce;
a return address whose proof does not match the row's Message-ID names
nothing. (Only someone who has the message, and so its Message-ID, can make
a valid one: its own recipient.) The local part stays under 64 characters.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from email.utils import parseaddr

from tidings.feedback.notices import MessageRef
from tidings.outbox.messages import Claimed

__all__ = ["Verp", "envelope", "parse", "proof_of", "return_path"]

PROOF_CHARS = 13
_HEADER = "return-path"
_ADDRESS = re.compile(r"^(?P<local>[a-z0-9._-]+)\+(?P<id>[0-9a-z]{1,13})-(?P<proof>[a-z2-7]{13})"
                      r"@(?P<domain>[a-z0-9.-]+)$")


@dataclass(frozen=True, slots=True)
class Verp:
    message_id: int
    proof: str
    domain: str

    def ref(self) -> MessageRef:
        return MessageRef(message_id=self.message_id, proof=self.proof)


def proof_of(message_id_header: str) -> str:
    digest = hashlib.sha256(message_id_header.encode()).digest()
    return base64.b32encode(digest).decode().lower()[:PROOF_CHARS]


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
        if not number:
            return out


def return_path(base: str, message_id: int, message_id_header: str) -> str:
    """``bounces@b.example`` -> ``bounces+2n9c-<proof>@b.example`` for row 123456."""
    local, _, domain = parseaddr(base)[1].rpartition("@")
    return f"{local}+{_base36(message_id)}-{proof_of(message_id_header)}@{domain}"


def envelope(claimed: Claimed) -> tuple[list[tuple[str, str]], str | None]:
    """The headers to write, and the VERP envelope sender (None: the From address)."""
    base = next((v for k, v in claimed.headers if k.lower() == _HEADER), None)
    if base is None:
        return claimed.headers, None
    headers = [(k, v) for k, v in claimed.headers if k.lower() != _HEADER]
    return headers, return_path(base, claimed.id, claimed.message_id_header)


def parse(address: str) -> Verp | None:
    """The message a return address names, or None when it is not one of ours."""
    match = _ADDRESS.match(parseaddr(address)[1].strip().lower())
    if match is None:
        return None
    return Verp(int(match["id"], 36), match["proof"], match["domain"])
