"""Opaque, signed tokens for tracking pixels and click redirects.

A token is ``base64url(nonce || AES-256-GCM(plaintext))`` under a key derived
from the process secret (HKDF-SHA256, its own ``info`` per purpose), with the
purpose (open, click, unsubscribe) as associated data. So a token:

- reveals nothing: the message reference and the link target are encrypted,
  and no address or other personal data is in it at all;
- cannot be forged or altered: a changed byte, a token of another purpose or
  under another secret fails authentication (about 2^-128 per guess), and
  :meth:`TokenBox.open` returns ``None`` for all of them alike;
- needs no database row: the target of a click is inside its own token,
  so it is decided before any lookup and is the same whether or not the
  message still exists.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

__all__ = ["MAX_TOKEN_CHARS", "Purpose", "Sealed", "TokenBox"]

NONCE_BYTES = 12
KEY_BYTES = 32
MAX_TOKEN_CHARS = 4096
"""Longer tokens are refused before any decoding work."""
_INFO = b"tidings/feedback/tokens/v1"
_SEP = b"\x00"


class Purpose(StrEnum):
    OPEN = "o"
    CLICK = "c"


@dataclass(frozen=True, slots=True)
class Sealed:
    """What a valid token says: which message, and for a click, where to."""

    purpose: Purpose
    message_id_header: str
    url: str | None = None


class TokenBox:
    """Seals and opens tokens; the key is derived on first use.

    ``cryptography`` (~9 MB resident) is imported then, so a process whose
    project tracks nothing never loads it.
    """

    def __init__(self, secret: str | bytes) -> None:
        self._material = secret.encode() if isinstance(secret, str) else secret
        self._aead_made: Any = None

    @property
    def _aead(self) -> Any:
        if self._aead_made is None:
            from cryptography.hazmat.primitives import hashes
            from cryptography.hazmat.primitives.ciphers.aead import AESGCM
            from cryptography.hazmat.primitives.kdf.hkdf import HKDF

            key = HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None,
                       info=_INFO).derive(self._material)
            self._aead_made = AESGCM(key)
        return self._aead_made

    def seal(self, purpose: Purpose, message_id_header: str, url: str | None = None) -> str:
        if _SEP.decode() in message_id_header:
            raise ValueError("a Message-ID cannot contain NUL")
        plain = message_id_header.encode() + _SEP + (url or "").encode()
        nonce = secrets.token_bytes(NONCE_BYTES)
        box = nonce + self._aead.encrypt(nonce, plain, purpose.value.encode())
        return base64.urlsafe_b64encode(box).rstrip(b"=").decode("ascii")

    def open(self, purpose: Purpose, token: str) -> Sealed | None:
        """The token's content, or None for anything not sealed here for ``purpose``."""
        if not token or len(token) > MAX_TOKEN_CHARS:
            return None
        from cryptography.exceptions import InvalidTag

        try:
            box = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            # base64 ignores the spare low bits of the last character: only the one
            # canonical spelling of a token is the token (a changed character is refused)
            if base64.urlsafe_b64encode(box).rstrip(b"=").decode("ascii") != token:
                return None
            plain = self._aead.decrypt(box[:NONCE_BYTES], box[NONCE_BYTES:],
                                       purpose.value.encode())
            header, _, url = plain.decode().partition(_SEP.decode())
        except (InvalidTag, ValueError, binascii.Error):
            return None
        return Sealed(purpose, header, url or None)
