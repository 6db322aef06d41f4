"""Amazon SNS messages over HTTPS: verified before anything in them is believed.

A message is accepted only when all of these hold (else :class:`SnsRefused`):

1. it is JSON with the fields its ``Type`` needs (Notification,
   SubscriptionConfirmation, UnsubscribeConfirmation);
2. its ``TopicArn`` is one of the configured topics;
3. its ``SigningCertURL`` is ``https://sns.<region>.amazonaws.com/...`` (or
   ``.amazonaws.com.cn``), with no user, no other port;
4. the certificate fetched from there over verified TLS is valid now, and its
   key verifies ``Signature`` over the canonical string of the message:
   ``SignatureVersion`` 1 with RSA PKCS#1 v1.5 and SHA-1, 2 with SHA-256.

A SubscriptionConfirmation is confirmed by a GET of its ``SubscribeURL``,
which must pass the same host check. The fetcher is given (``Fetcher``): in
production :class:`HttpsFetcher` with the system's trust store; tests point
it at a local server whose certificate a local CA signed.
"""

from __future__ import annotations

import base64
import binascii
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit, urlunsplit

import orjson

if TYPE_CHECKING:
    # Imported on first use (httpx ~7 MB resident, cryptography ~10 MB): every process builds
    # a Verifier, few ever receive an SNS message.
    import httpx
    from cryptography import x509

__all__ = ["Fetcher", "HttpsFetcher", "SnsMessage", "SnsRefused", "Verifier", "check_url",
           "string_to_sign"]

MAX_BODY_BYTES = 256 * 1024  # SNS messages are at most 256 KiB
MAX_CERT_BYTES = 16 * 1024
FETCH_TIMEOUT_SECONDS = 5.0
CERT_CACHE_ENTRIES = 32
SNS_HOST = re.compile(r"^sns\.[a-z0-9-]{1,40}\.amazonaws\.com(\.cn)?$")
_FIELDS = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token",
                                 "TopicArn", "Type"),
}
_FIELDS["UnsubscribeConfirmation"] = _FIELDS["SubscriptionConfirmation"]
_HASHES = {"1": "SHA1", "2": "SHA256"}  # version 1 is SHA-1, as SNS signs it


class SnsRefused(ValueError):
    """The message is not a verified SNS message for one of our topics."""


@dataclass(frozen=True, slots=True)
class SnsMessage:
    type: str
    message_id: str
    topic_arn: str
    message: str
    timestamp: str
    subscribe_url: str | None = None


class Fetcher(Protocol):
    def get(self, url: str) -> bytes:
        """The body of a GET of ``url``; raises ``OSError`` when it cannot be had."""
        ...


def check_url(url: str, what: str) -> str:
    """The URL if it is an https URL of an SNS host, else refused."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise SnsRefused(f"{what} is not a URL") from exc
    host = (parts.hostname or "").lower()
    if parts.scheme != "https" or parts.username or parts.password or port not in (None, 443) \
            or not SNS_HOST.match(host):
        raise SnsRefused(f"{what} is not on an SNS host over https: {host or url[:80]!r}")
    return url


def string_to_sign(doc: Mapping[str, Any]) -> bytes:
    fields = _FIELDS[str(doc["Type"])]
    return "".join(f"{k}\n{doc[k]}\n" for k in fields if doc.get(k) is not None).encode()


def _parse(body: bytes) -> dict[str, Any]:
    if len(body) > MAX_BODY_BYTES:
        raise SnsRefused("message too large")
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise SnsRefused("not JSON") from exc
    if not isinstance(doc, dict) or doc.get("Type") not in _FIELDS:
        raise SnsRefused("not an SNS message")
    needed = [k for k in _FIELDS[doc["Type"]] if k != "Subject"] + \
        ["Signature", "SignatureVersion", "SigningCertURL"]
    missing = [k for k in needed if not isinstance(doc.get(k), str)]
    if missing:
        raise SnsRefused(f"missing {', '.join(missing)}")
    return doc


class Verifier:
    def __init__(self, topics: Iterable[str], fetcher: Fetcher) -> None:
        self.topics, self.fetcher = frozenset(topics), fetcher
        self._keys: OrderedDict[str, x509.Certificate] = OrderedDict()
        self._lock = threading.Lock()

    def verify(self, body: bytes, now: datetime) -> SnsMessage:
        """The verified message, or :class:`SnsRefused` saying why not."""
        doc = _parse(body)
        if doc["TopicArn"] not in self.topics:
            raise SnsRefused(f"topic {doc['TopicArn'][:200]!r} is not configured")
        algorithm = _HASHES.get(doc["SignatureVersion"])
        if algorithm is None:
            raise SnsRefused(f"unknown SignatureVersion {doc['SignatureVersion'][:10]!r}")
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding, rsa

        certificate = self._certificate(check_url(doc["SigningCertURL"], "SigningCertURL"), now)
        key = certificate.public_key()
        if not isinstance(key, rsa.RSAPublicKey):
            raise SnsRefused("the signing certificate has no RSA key")
        try:
            key.verify(base64.b64decode(doc["Signature"], validate=True), string_to_sign(doc),
                       padding.PKCS1v15(), getattr(hashes, algorithm)())
        except (InvalidSignature, binascii.Error, ValueError) as exc:
            raise SnsRefused("the signature does not verify") from exc
        subscribe = doc.get("SubscribeURL")
        return SnsMessage(doc["Type"], doc["MessageId"], doc["TopicArn"], doc["Message"],
                          doc["Timestamp"], subscribe if isinstance(subscribe, str) else None)

    def confirm(self, message: SnsMessage) -> None:
        """Confirm a subscription: GET its SubscribeURL (an SNS host only)."""
        if message.subscribe_url is None:
            raise SnsRefused("no SubscribeURL")
        try:
            self.fetcher.get(check_url(message.subscribe_url, "SubscribeURL"))
        except OSError as exc:
            raise SnsRefused(f"confirming the subscription failed: {exc}") from exc

    def _certificate(self, url: str, now: datetime) -> x509.Certificate:
        with self._lock:
            certificate = self._keys.get(url)
        if certificate is None:
            try:
                pem = self.fetcher.get(url)
            except OSError as exc:
                raise SnsRefused(f"cannot fetch the signing certificate: {exc}") from exc
            from cryptography import x509

            try:
                certificate = x509.load_pem_x509_certificate(pem[:MAX_CERT_BYTES])
            except ValueError as exc:
                raise SnsRefused("the signing certificate is not PEM") from exc
            with self._lock:
                self._keys[url] = certificate
                while len(self._keys) > CERT_CACHE_ENTRIES:
                    self._keys.popitem(last=False)
        if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
            raise SnsRefused("the signing certificate is not valid now")
        return certificate


class HttpsFetcher:
    """GET over TLS verified against ``ca_file`` (default: the system's trust store).

    ``connect_to`` maps a host to another ``(address, port)`` while TLS still
    checks the original host name (SNI and certificate), as curl's
    ``--connect-to`` does: tests use it to reach a local server.
    """

    def __init__(self, ca_file: str | None = None,
                 connect_to: Mapping[str, tuple[str, int]] | None = None,
                 timeout_seconds: float = FETCH_TIMEOUT_SECONDS) -> None:
        self.connect_to = dict(connect_to or {})
        self.ca_file, self.timeout_seconds = ca_file, timeout_seconds
        self._client: httpx.Client | None = None
        self._lock = threading.Lock()

    @property
    def client(self) -> httpx.Client:
        """Made on first use: loading a trust store costs time no idle runtime should pay."""
        import httpx

        with self._lock:
            if self._client is None:
                self._client = httpx.Client(verify=self.ca_file or True,
                                            timeout=self.timeout_seconds,
                                            follow_redirects=False)
            return self._client

    def get(self, url: str) -> bytes:
        """The body; any failure (connection, TLS, HTTP status) is raised as ``OSError``."""
        import httpx

        try:
            return self._get(url)
        except httpx.HTTPError as exc:
            raise OSError(str(exc)) from exc

    def _get(self, url: str) -> bytes:
        parts = urlsplit(url)
        host = parts.hostname or ""
        extensions: dict[str, Any] = {}
        headers: dict[str, str] = {}
        if host in self.connect_to:
            address, port = self.connect_to[host]
            url = urlunsplit((parts.scheme, f"{address}:{port}", parts.path, parts.query, ""))
            extensions["sni_hostname"] = host
            headers["Host"] = host
        with self.client.stream("GET", url, headers=headers, extensions=extensions) as response:
            response.raise_for_status()
            body = b""
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > MAX_CERT_BYTES * 4:
                    raise OSError("response too large")
        return body

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None
