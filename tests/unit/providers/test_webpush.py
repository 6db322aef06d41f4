"""Web Push: answer table, VAPID key formats, and the request headers (MockTransport)."""

from __future__ import annotations

import base64

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from pydantic import SecretStr

from tidings.channels_build.envelopes import PushEnvelope, Subscription
from tidings.domain.outcomes import Bounced, Deferred, Failed, Sent
from tidings.providers import errors, webpush

KEY = ec.generate_private_key(ec.SECP256R1())
PEM = KEY.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                        serialization.NoEncryption()).decode()
RAW = base64.urlsafe_b64encode(KEY.private_numbers().private_value.to_bytes(32, "big")
                               ).rstrip(b"=").decode()


@pytest.mark.parametrize(("status", "kind", "code"), [
    (201, Sent, "201"), (404, Bounced, "404"), (410, Bounced, "410"), (413, Failed, "413"),
    (400, Failed, "400"), (429, Deferred, "429"), (401, Deferred, "401"),
    (403, Deferred, "403"), (502, Deferred, "502"),
])
def test_answer_table(status: int, kind: type, code: str) -> None:
    outcome = webpush.classify(status, "/m/1", retry_after=3.0)
    assert type(outcome) is kind and outcome.code == code
    if isinstance(outcome, Bounced):
        assert outcome.hard


@pytest.mark.parametrize("text", [PEM, RAW])
def test_vapid_key_formats(text: str) -> None:
    signer = webpush.load_vapid_key(SecretStr(text))
    assert signer.public_key.public_numbers() == KEY.public_key().public_numbers()


@pytest.mark.parametrize("text", ["", "not a key", rsa.generate_private_key(
    65537, 2048).private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                               serialization.NoEncryption()).decode()])
def test_bad_vapid_keys_are_refused(text: str) -> None:
    with pytest.raises(errors.ProviderConfigError):
        webpush.load_vapid_key(SecretStr(text))


def test_headers_on_the_request() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(201, headers={"Location": "https://push.example/m/1"})

    point = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    subscription = Subscription("https://push.example/p/1",
                                base64.urlsafe_b64encode(point).rstrip(b"=").decode(),
                                base64.urlsafe_b64encode(b"a" * 16).rstrip(b"=").decode())
    envelope = PushEnvelope("<m@x>", "", [subscription.endpoint], b'{"title":"t"}', 1,
                            subscription=subscription, ttl_seconds=30, urgency="low",
                            topic="t1")
    provider = webpush.WebPushProvider("w", SecretStr(PEM), "mailto:ops@shop.example",
                                       transport=httpx.MockTransport(answer))
    [outcome] = provider.send_batch([envelope])
    assert isinstance(outcome, Sent) and outcome.provider_id == "https://push.example/m/1"
    [request] = seen
    assert request.headers["content-encoding"] == "aes128gcm"
    assert (request.headers["ttl"], request.headers["urgency"], request.headers["topic"]) == (
        "30", "low", "t1")
    assert request.headers["authorization"].startswith("vapid t=")
    assert len(request.content) > len(envelope.data)  # encrypted, with the aes128gcm header


def test_subject_must_be_a_contact_url() -> None:
    with pytest.raises(errors.ProviderConfigError):
        webpush.WebPushProvider("w", SecretStr(PEM), "ops@shop.example")
