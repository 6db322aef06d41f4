"""A Web Push notification: title and body of a claimed message for one browser subscription.

The subscription is ``payload["subscription"]``, the JSON a browser's
``PushSubscription.toJSON()`` gives (``endpoint`` and ``keys.p256dh``,
``keys.auth``). The notification is a small JSON document the site's service
worker shows::

    {"title": <subject>, "body": <text>, "message_id": <Message-ID>,
     "url"?, "icon"?, "badge"?, "tag"?, "data"?}   (optional ones from the payload)

Limits checked here, before any provider is called: the plaintext fits one
push message (3993 bytes: 4096 on the wire less the aes128gcm header, tag and
padding delimiter, RFC 8291 section 4); the endpoint is ``https`` (``http``
only when the provider allows it, for a local push service) and, when the
provider lists hosts, on one of them: the endpoint comes from a browser, and
the provider would otherwise POST wherever it points.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import urlsplit

import orjson

from tidings.channels_build.envelopes import PushEnvelope, Subscription, Urgency
from tidings.outbox.messages import Claimed

__all__ = ["MAX_PLAINTEXT_BYTES", "PushOptions", "build_push", "parse_subscription"]

MAX_PLAINTEXT_BYTES = 3993
MAX_TTL_SECONDS = 2_419_200  # four weeks, what FCM and Mozilla autopush keep at most
P256_POINT_BYTES = 65
AUTH_SECRET_BYTES = 16
URGENCIES: frozenset[str] = frozenset({"very-low", "low", "normal", "high"})
OPTIONAL_FIELDS = ("url", "icon", "badge", "tag", "data")
_TOPIC = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


@dataclass(frozen=True, slots=True)
class PushOptions:
    """Per-provider push settings."""

    ttl_seconds: int = 86_400
    urgency: Urgency = "normal"
    allow_insecure_endpoints: bool = False
    allowed_hosts: tuple[str, ...] = ()
    """Host names or ``.suffix`` entries; empty: any host."""

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> PushOptions:
        urgency = str(settings.get("urgency", "normal"))
        if urgency not in URGENCIES:
            raise ValueError(f"urgency must be one of {sorted(URGENCIES)}")
        return cls(ttl_seconds=int(settings.get("ttl_seconds", 86_400)),
                   urgency=cast(Urgency, urgency),
                   allow_insecure_endpoints=bool(settings.get("allow_insecure_endpoints", False)),
                   allowed_hosts=tuple(settings.get("allowed_hosts", ())))


def build_push(claimed: Claimed, payload: Mapping[str, Any], options: PushOptions) -> PushEnvelope:
    """The push envelope of ``claimed``; ``ValueError`` when it can never be delivered."""
    subscription = parse_subscription(payload.get("subscription"), options)
    notification = _notification(claimed, payload)
    if len(notification) > MAX_PLAINTEXT_BYTES:
        raise ValueError(f"notification is {len(notification)} bytes, "
                         f"a push message holds {MAX_PLAINTEXT_BYTES}")
    ttl = int(payload.get("ttl_seconds", options.ttl_seconds))
    if not 0 <= ttl <= MAX_TTL_SECONDS:
        raise ValueError(f"ttl_seconds must be between 0 and {MAX_TTL_SECONDS}")
    urgency = str(payload.get("urgency", options.urgency))
    if urgency not in URGENCIES:
        raise ValueError(f"urgency must be one of {sorted(URGENCIES)}")
    topic = payload.get("topic")
    if topic is not None and not _TOPIC.fullmatch(str(topic)):
        raise ValueError("topic must be 1-32 characters of the base64url alphabet")
    return PushEnvelope(message_id=claimed.message_id_header, sender=claimed.sender,
                        recipients=[subscription.endpoint], data=notification, key=claimed.id,
                        subscription=subscription, ttl_seconds=ttl,
                        urgency=cast(Urgency, urgency), topic=topic)


def parse_subscription(value: object, options: PushOptions) -> Subscription:
    """Check a ``PushSubscription.toJSON()`` mapping and return it as a ``Subscription``."""
    if not isinstance(value, Mapping):
        raise ValueError("no push subscription: set payload.subscription")
    keys = value.get("keys")
    if not isinstance(keys, Mapping):
        raise ValueError("push subscription has no keys")
    endpoint = str(value.get("endpoint") or "")
    _check_endpoint(endpoint, options)
    p256dh, auth = str(keys.get("p256dh") or ""), str(keys.get("auth") or "")
    point = _b64url(p256dh, "p256dh")
    if len(point) != P256_POINT_BYTES or point[0] != 0x04:
        raise ValueError("push subscription p256dh is not an uncompressed P-256 point")
    if len(_b64url(auth, "auth")) != AUTH_SECRET_BYTES:
        raise ValueError(f"push subscription auth secret is not {AUTH_SECRET_BYTES} bytes")
    return Subscription(endpoint=endpoint, p256dh=p256dh, auth=auth)


def _check_endpoint(endpoint: str, options: PushOptions) -> None:
    parts = urlsplit(endpoint)
    schemes = ("https", "http") if options.allow_insecure_endpoints else ("https",)
    if parts.scheme not in schemes or not parts.hostname:
        raise ValueError(f"push endpoint must be an {' or '.join(schemes)} URL")
    if parts.username or parts.password:
        raise ValueError("push endpoint must not carry credentials")
    host = parts.hostname.lower()
    if options.allowed_hosts and not any(
            host == allowed or (allowed.startswith(".") and host.endswith(allowed))
            for allowed in options.allowed_hosts):
        raise ValueError(f"push endpoint host {host} is not an allowed push service")


def _b64url(text: str, name: str) -> bytes:
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"push subscription {name} is not base64url") from exc


def _notification(claimed: Claimed, payload: Mapping[str, Any]) -> bytes:
    document: dict[str, Any] = {"title": claimed.subject, "body": claimed.body_text.strip(),
                                "message_id": claimed.message_id_header}
    document.update({k: payload[k] for k in OPTIONAL_FIELDS if payload.get(k) is not None})
    try:
        return orjson.dumps(document)
    except TypeError as exc:
        raise ValueError(f"push payload is not JSON: {exc}") from exc
