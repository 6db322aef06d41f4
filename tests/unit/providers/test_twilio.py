"""Twilio's pure parts: the signature (Twilio's documented vectors), the answer and
callback tables, and the request the provider builds (httpx.MockTransport, no socket).
"""

from __future__ import annotations

from urllib.parse import parse_qsl

import httpx
import orjson
import pytest
from pydantic import SecretStr

from tidings.domain.outcomes import Bounced, Deferred, Failed, Sent
from tidings.domain.states import State
from tidings.providers import errors, twilio
from tidings.providers.base import Envelope

DOC_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
ACCOUNT = "AC" + "f" * 32


def doc_params(caller: str) -> dict[str, str]:
    return {"CallSid": "CA1234567890ABCDE", "Caller": caller, "Digits": "1234", "From": caller,
            "To": "+18005551212"}


@pytest.mark.parametrize(("caller", "expected"), [
    ("+14158675310", "GvWf1cFY/Q7PnoempGyD5oXAezc="),
    ("+14158675309", "RSOYDt4T1cUTdK1PDd93/VVr8B8="),
])
def test_signature_matches_twilios_documented_vectors(caller: str, expected: str) -> None:
    params = doc_params(caller)
    assert twilio.signature(DOC_URL, params.items(), "12345") == expected
    assert twilio.signature_valid(DOC_URL, params.items(), "12345", expected)


def test_signature_refuses_tampering() -> None:
    params = doc_params("+14158675310")
    good = "GvWf1cFY/Q7PnoempGyD5oXAezc="
    assert not twilio.signature_valid(DOC_URL, {**params, "Digits": "9"}.items(), "12345", good)
    assert not twilio.signature_valid(DOC_URL, params.items(), "54321", good)
    assert not twilio.signature_valid(DOC_URL + "&x=1", params.items(), "12345", good)
    assert not twilio.signature_valid(DOC_URL, params.items(), "12345", "")


def test_signature_with_or_without_the_default_port() -> None:
    params = [("MessageSid", "SM1"), ("MessageStatus", "delivered")]
    signed = twilio.signature("https://hub.example:443/cb", params, "tok")
    assert twilio.signature_valid("https://hub.example/cb", params, "tok", signed)
    signed = twilio.signature("https://hub.example/cb", params, "tok")
    assert twilio.signature_valid("https://hub.example:443/cb", params, "tok", signed)
    assert not twilio.signature_valid("https://hub.example:8443/cb", params, "tok", signed)


def error(status: int, code: int) -> bytes:
    return orjson.dumps({"code": code, "message": "m", "status": status})


@pytest.mark.parametrize(("status", "body", "kind", "code"), [
    (201, orjson.dumps({"sid": "SM1", "status": "queued"}), Sent, "201"),
    (201, b"", Sent, "201"),
    (400, error(400, 21211), Bounced, "21211"),
    (400, error(400, 21610), Bounced, "21610"),
    (400, error(400, 21408), Deferred, "21408"),
    (400, error(400, 21602), Failed, "400"),
    (400, b"not json", Failed, "400"),
    (401, error(401, 20003), Deferred, "401"),
    (429, error(429, 20429), Deferred, "429"),
    (500, b"", Deferred, "500"),
])
def test_answer_table(status: int, body: bytes, kind: type, code: str) -> None:
    outcome = twilio.classify(status, body)
    assert type(outcome) is kind and outcome.code == code


@pytest.mark.parametrize(("status", "error_code", "state", "reason_has"), [
    ("queued", None, None, "queued"),
    ("sending", None, None, "sending"),
    ("sent", None, None, "carrier"),
    ("delivered", None, State.DELIVERED, "delivered"),
    ("read", None, State.DELIVERED, "read"),
    ("undelivered", "30005", State.BOUNCED, "hard bounce"),
    ("undelivered", "30003", State.BOUNCED, "hard bounce"),
    ("undelivered", "30007", State.BOUNCED, "soft bounce"),
    ("failed", None, State.BOUNCED, "soft bounce"),
    ("DELIVERED", None, State.DELIVERED, "delivered"),
])
def test_callback_table(status: str, error_code: str | None, state: State | None,
                        reason_has: str) -> None:
    reading = twilio.read_callback(status, error_code)
    assert reading is not None and reading.state is state
    assert reason_has in reading.reason
    if error_code:
        assert error_code in reading.reason


def test_unknown_callback_status_is_not_read() -> None:
    assert twilio.read_callback("teleported", None) is None


def test_request_uses_the_messaging_service_when_set() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(201, json={"sid": "SM9", "status": "accepted"})

    provider = twilio.TwilioProvider("t", ACCOUNT, SecretStr("tok"), messaging_service_sid="MG1",
                                     transport=httpx.MockTransport(answer))
    [outcome] = provider.send_batch([Envelope("<m@x>", "+15005550006", ["+4915112345678"],
                                              b"Hi", 1)])
    assert isinstance(outcome, Sent) and outcome.provider_id == "SM9"
    [request] = seen
    assert request.url.path == f"/2010-04-01/Accounts/{ACCOUNT}/Messages.json"
    assert dict(parse_qsl(request.content.decode())) == {
        "To": "+4915112345678", "Body": "Hi", "MessagingServiceSid": "MG1"}
    assert request.headers["authorization"].startswith("Basic ")


@pytest.mark.parametrize(("sid", "token"), [("AC123", "tok"), (ACCOUNT, "")])
def test_refuses_unusable_settings(sid: str, token: str) -> None:
    with pytest.raises(errors.ProviderConfigError):
        twilio.TwilioProvider("t", sid, SecretStr(token))


def test_token_stays_out_of_repr() -> None:
    provider = twilio.TwilioProvider("t", ACCOUNT, SecretStr("very-secret-token"))
    assert "very-secret-token" not in repr(provider)
