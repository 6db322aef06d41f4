"""DKIM signatures for outgoing mail (RFC 6376, relaxed/relaxed, rsa-sha256).

``DkimSigner(domain, selector, private_key_pem).sign(data)`` returns the
message with a ``DKIM-Signature`` header prepended; signing is dkimpy's. A
``DkimRegistry`` holds one tenant's signers and picks the one for a From
address: its own domain first, then each parent domain (relaxed DMARC
alignment), so ``shop.example``'s key signs ``news.shop.example`` mail too.

``data`` must be the message as it goes on the wire (CRLF line ends): the
body hash is computed over exactly those bytes. Headers named in ``headers``
but absent from a message are still listed in ``h=``, which (RFC 6376 5.4)
stops anyone from adding them later. The private key never appears in a repr,
a log line or an error message.

dkimpy (and dnspython, which it imports) and cryptography are imported by the
first signer that is made: memory that a project without DKIM keys never pays.
"""

from __future__ import annotations

import base64
import email.utils
from collections.abc import Iterable, Sequence

from tidings.providers import errors

__all__ = ["DEFAULT_HEADERS", "MIN_KEY_BITS", "DkimRegistry", "DkimSigner"]

DEFAULT_HEADERS: tuple[str, ...] = (
    "From",
    "To",
    "Cc",
    "Reply-To",
    "Subject",
    "Date",
    "Message-ID",
    "MIME-Version",
    "Content-Type",
    "Content-Transfer-Encoding",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
)
MIN_KEY_BITS = 1024  # RFC 8301: verifiers must refuse shorter RSA keys
_CANONICALIZE = (b"relaxed", b"relaxed")


class DkimSigner:
    """Signs messages for one ``domain`` with one ``selector`` and RSA key."""

    __slots__ = ("_headers", "_key", "domain", "selector")

    def __init__(
        self,
        domain: str,
        selector: str,
        private_key_pem: bytes | str,
        headers: Sequence[str] = DEFAULT_HEADERS,
    ) -> None:
        self.domain = _a_label(domain)
        self.selector = selector.strip()
        if not self.selector or not self.domain:
            raise errors.DkimKeyError("DKIM needs a domain and a selector")
        if "from" not in {h.lower() for h in headers}:
            raise errors.DkimKeyError("the From header must be signed")
        pem = private_key_pem.encode() if isinstance(private_key_pem, str) else private_key_pem
        _check_key(pem)
        self._key = pem
        self._headers = [h.encode("ascii") for h in headers]

    def __repr__(self) -> str:
        return f"DkimSigner(domain={self.domain!r}, selector={self.selector!r})"

    def sign(self, data: bytes) -> bytes:
        """Return ``data`` with a DKIM-Signature header in front."""
        import dkim

        try:
            signature = dkim.sign(
                data,
                self.selector.encode("ascii"),
                self.domain.encode("ascii"),
                self._key,
                canonicalize=_CANONICALIZE,
                include_headers=self._headers,
            )
        except dkim.DKIMException as exc:
            raise errors.DkimSignError(f"cannot sign for {self.domain}: {exc}") from exc
        return bytes(signature) + data

    def dns_record(self) -> tuple[str, str]:
        """The TXT record to publish: (name, value) for this selector and key."""
        from cryptography.hazmat.primitives import serialization

        key = serialization.load_pem_private_key(self._key, password=None)
        public = key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        value = "v=DKIM1; k=rsa; p=" + base64.b64encode(public).decode("ascii")
        return f"{self.selector}._domainkey.{self.domain}", value


class DkimRegistry:
    """One tenant's signers, looked up by the domain of a From address."""

    def __init__(self, signers: Iterable[DkimSigner] = ()) -> None:
        self._by_domain: dict[str, DkimSigner] = {}
        for signer in signers:
            self.add(signer)

    def __repr__(self) -> str:
        return f"DkimRegistry(domains={sorted(self._by_domain)})"

    def add(self, signer: DkimSigner) -> None:
        """Register ``signer`` for its domain, replacing an earlier one (key rotation)."""
        self._by_domain[signer.domain] = signer

    def signer_for(self, from_address: str) -> DkimSigner | None:
        """The signer for ``from_address`` ("Shop <a@news.shop.example>"), or None."""
        domain = _domain_of(from_address)
        labels = domain.split(".")
        for start in range(len(labels) - 1):  # never a bare top-level domain
            signer = self._by_domain.get(".".join(labels[start:]))
            if signer is not None:
                return signer
        return None


def _domain_of(address: str) -> str:
    _, addr = email.utils.parseaddr(address)
    _, at, domain = addr.rpartition("@")
    if not at:
        return ""
    try:
        return _a_label(domain)
    except errors.DkimKeyError:
        return ""


def _a_label(domain: str) -> str:
    """Lower-case ASCII (IDNA) form, as DKIM's d= tag and DNS want it."""
    name = domain.strip().rstrip(".").lower()
    try:
        return name.encode("idna").decode("ascii") if name else ""
    except UnicodeError as exc:
        raise errors.DkimKeyError(f"not a domain name: {domain!r}") from exc


def _check_key(pem: bytes) -> None:
    """Refuse keys dkimpy cannot read or verifiers would reject (message names no key)."""
    import dkim.crypto
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    try:
        dkim.crypto.parse_pem_private_key(pem)
        key = serialization.load_pem_private_key(pem, password=None)
    except (dkim.crypto.UnparsableKeyError, ValueError, TypeError) as exc:
        raise errors.DkimKeyError("DKIM private key is not an unencrypted RSA PEM key") from exc
    if not isinstance(key, rsa.RSAPrivateKey) or key.key_size < MIN_KEY_BITS:
        raise errors.DkimKeyError(f"DKIM needs an RSA key of at least {MIN_KEY_BITS} bits")
