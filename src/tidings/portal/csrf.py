"""CSRF tokens: one per browser session, signed with the process secret.

The token is ``HMAC-SHA256(secret, "csrf:" + key)`` where ``key`` is the browser's session
token (or, before sign-in, a random pre-session cookie). An attacker's page can make the
browser send the cookie but cannot read it, so it cannot compute the token that every form
carries in its ``csrf_token`` field (or a script in the ``X-CSRF-Token`` header).
"""

from __future__ import annotations

import hashlib
import hmac

__all__ = ["FIELD", "HEADER", "token_for", "valid"]

FIELD = "csrf_token"
HEADER = "x-csrf-token"


def token_for(secret: str, key: str) -> str:
    return hmac.new(secret.encode(), b"csrf:" + key.encode(), hashlib.sha256).hexdigest()


def valid(secret: str, key: str | None, token: str | None) -> bool:
    if not key or not token:
        return False
    return hmac.compare_digest(token_for(secret, key), token)
