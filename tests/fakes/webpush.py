"""A local Web Push service (RFC 8030) that checks VAPID (RFC 8292) and decrypts (RFC 8291).

``subscribe(base_url)`` plays the browser: it makes a P-256 key pair and an
auth secret and returns the ``PushSubscription.toJSON()`` document whose
endpoint is ``{base_url}/push/{id}``. ``POST /push/{id}`` then:

- 404 for an unknown subscription, 410 for one the user dropped (``unsubscribe``);
- 401 unless ``Authorization: vapid t=<JWT>, k=<key>`` carries an ES256 JWT
  signed by ``k`` with ``aud`` = this origin, ``exp`` in the next 24 hours and a
  ``sub`` that is a mailto: or https: URL; 403 when the subscription was made
  for another application server key;
- 400 without a ``TTL`` header or with a content coding other than aes128gcm;
- 413 over 4096 bytes of body;
- else decrypts the body with the subscription's private key, records the
  plaintext and headers, and answers 201 with ``Location: /message/{id}``.

A scripted answer replaces the reply to the next request.
"""

from __future__ import annotations

import base64
import json
import os
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from tests.fakes.server import Request, Response, Script

MAX_BODY_BYTES = 4096
MAX_EXP_SECONDS = 86_400


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def public_point(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.X962,
                                         serialization.PublicFormat.UncompressedPoint)


@dataclass
class Subscriber:
    id: str
    private_key: ec.EllipticCurvePrivateKey
    auth: bytes
    application_server_key: bytes | None = None
    gone: bool = False


@dataclass
class Delivered:
    subscription: str
    plaintext: bytes
    headers: dict[str, str]
    claims: dict[str, Any]


@dataclass
class FakePushService:
    script: Script = field(default_factory=Script)
    subscribers: dict[str, Subscriber] = field(default_factory=dict)
    delivered: list[Delivered] = field(default_factory=list)
    requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def subscribe(self, base_url: str, application_server_key: bytes | None = None
                  ) -> dict[str, Any]:
        key = ec.generate_private_key(ec.SECP256R1())
        subscriber = Subscriber(uuid.uuid4().hex, key, os.urandom(16), application_server_key)
        self.subscribers[subscriber.id] = subscriber
        return {"endpoint": f"{base_url}/push/{subscriber.id}",
                "keys": {"p256dh": b64url(public_point(key)), "auth": b64url(subscriber.auth)}}

    def unsubscribe(self, subscription: dict[str, Any]) -> None:
        self.subscribers[subscription["endpoint"].rsplit("/", 1)[1]].gone = True

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self.handle(Request(environ))(environ, start_response)

    def handle(self, request: Request) -> Response:
        with self.lock:
            self.requests += 1
        scripted = self.script.next()
        if scripted is not None:
            time.sleep(scripted.delay_seconds)
            return scripted.response()
        parts = request.path.strip("/").split("/")
        if request.method != "POST" or len(parts) != 2 or parts[0] != "push":
            return Response("", status=404)
        subscriber = self.subscribers.get(parts[1])
        if subscriber is None:
            return Response("no such subscription", status=404)
        if subscriber.gone:
            return Response("subscription expired", status=410)
        return self._deliver(request, subscriber)

    def _deliver(self, request: Request, subscriber: Subscriber) -> Response:
        origin = request.host_url.rstrip("/")
        claims, status = _vapid(request.headers.get("Authorization", ""), origin, subscriber)
        if claims is None:
            return Response("VAPID refused", status=status)
        if "TTL" not in request.headers:
            return Response("TTL header required", status=400)
        if request.headers.get("Content-Encoding") != "aes128gcm":
            return Response("aes128gcm required", status=400)
        body = request.get_data()
        if len(body) > MAX_BODY_BYTES:
            return Response("payload too large", status=413)
        try:
            plaintext = http_ece.decrypt(body, private_key=subscriber.private_key,
                                         auth_secret=subscriber.auth, version="aes128gcm")
        except Exception:
            return Response("cannot decrypt", status=400)
        with self.lock:
            self.delivered.append(Delivered(subscriber.id, plaintext, dict(request.headers),
                                            claims))
        message = uuid.uuid4().hex
        return Response("", status=201, headers={"Location": f"/message/{message}",
                                                 "TTL": request.headers["TTL"]})


def _vapid(header: str, origin: str, subscriber: Subscriber) -> tuple[dict[str, Any] | None, int]:
    scheme, _, params = header.partition(" ")
    if scheme.lower() != "vapid":
        return None, 401
    fields = dict(p.strip().split("=", 1) for p in params.split(",") if "=" in p)
    token, key = fields.get("t", ""), fields.get("k", "")
    try:
        point = unb64url(key)
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
        signing_input, _, signature = token.rpartition(".")
        raw = unb64url(signature)
        der = encode_dss_signature(int.from_bytes(raw[:32], "big"),
                                   int.from_bytes(raw[32:], "big"))
        public.verify(der, signing_input.encode(), ec.ECDSA(hashes.SHA256()))
        head, payload = (json.loads(unb64url(p)) for p in signing_input.split("."))
    except (ValueError, InvalidSignature):
        return None, 401
    now = time.time()
    if head.get("alg") != "ES256" or payload.get("aud") != origin:
        return None, 401
    if not now < int(payload.get("exp", 0)) <= now + MAX_EXP_SECONDS:
        return None, 401
    if not str(payload.get("sub", "")).startswith(("mailto:", "https:")):
        return None, 401
    if subscriber.application_server_key not in (None, point):
        return None, 403
    return payload, 201
