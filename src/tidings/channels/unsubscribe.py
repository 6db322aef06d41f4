"""One-click unsubscribe links (RFC 8058) for messages a recipient subscribed to.

A message of a subscribed rule (``list_unsubscribe = true``: digests,
reports) or a hand-added message with ``list_unsubscribe`` carries::

    List-Unsubscribe: <https://host/u/TOKEN>
    List-Unsubscribe-Post: List-Unsubscribe=One-Click

The token is signed (itsdangerous, salted with this purpose) and holds only
the tenant and the message id, no address. The endpoint ``POST /u/{token}``
belongs to the feedback stage: it calls ``UnsubscribeLinks.read(token)`` to
learn which message (hence which recipient) asked, and adds the recipient to
the suppression list. Both headers are covered by the DKIM signature, as
RFC 8058 section 4 requires.
"""

from __future__ import annotations

from itsdangerous import BadSignature, URLSafeSerializer

__all__ = ["HEADER", "PATH", "POST_HEADER", "POST_VALUE", "UnsubscribeLinks"]

HEADER = "List-Unsubscribe"
POST_HEADER = "List-Unsubscribe-Post"
POST_VALUE = "List-Unsubscribe=One-Click"
PATH = "/u/"
_SALT = "tidings.list-unsubscribe"


class UnsubscribeLinks:
    def __init__(self, secret: str, base_url: str) -> None:
        self._serializer = URLSafeSerializer(secret, salt=_SALT)
        self._base = base_url.rstrip("/")

    def __repr__(self) -> str:
        return f"UnsubscribeLinks(base_url={self._base!r})"

    def token(self, tenant: str, message_id: int) -> str:
        return str(self._serializer.dumps([tenant, message_id]))

    def url(self, tenant: str, message_id: int) -> str:
        return f"{self._base}{PATH}{self.token(tenant, message_id)}"

    def headers(self, tenant: str, message_id: int) -> list[tuple[str, str]]:
        return [(HEADER, f"<{self.url(tenant, message_id)}>"), (POST_HEADER, POST_VALUE)]

    def read(self, token: str) -> tuple[str, int] | None:
        """(tenant, message id) of a genuine token; ``None`` for a forged or broken one."""
        try:
            value = self._serializer.loads(token)
        except BadSignature:
            return None
        match value:
            case [str() as tenant, int() as message_id]:
                return tenant, message_id
        return None
