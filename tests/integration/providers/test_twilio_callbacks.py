"""Twilio status callbacks through the API: signed reports become timeline rows and states.

A message goes out through the real TwilioProvider to the local Twilio API
(tests/fakes/twilio.py), which then produces the status callback Twilio would
send, signed with X-Twilio-Signature; the API (TestClient) verifies it and
moves the message. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import update

from tests.fakes.server import LocalServer
from tests.fakes.twilio import FakeTwilio, sign
from tests.helpers import TENANT, make_runtime
from tidings.api.app import create_app
from tidings.clock import FakeClock
from tidings.domain.states import State
from tidings.outbox.messages import NewMessage
from tidings.providers.base import Envelope
from tidings.providers.twilio import TwilioProvider
from tidings.runtime.core import Runtime
from tidings.storage import tables

ACCOUNT = "AC" + "5" * 32
TOKEN = "callback-token-never-logged"
TOKEN_ENV = "TIDINGS_TEST_TWILIO_TOKEN"
PROVIDER = "twilio-test"
CALLBACK = f"https://hub.example/v1/callbacks/twilio/{PROVIDER}"
SMS_PROJECT = f"""
[[channels]]
name = "sms"
code = 2
kind = "sms"

[[providers]]
name = "{PROVIDER}"
channel = "sms"
type = "twilio"
from_address = "+15005550006"

[providers.settings]
account_sid = "{ACCOUNT}"
auth_token_env = "{TOKEN_ENV}"
status_callback = "{CALLBACK}"
default_region = "DE"
"""


@pytest.fixture
def fake() -> Iterator[tuple[FakeTwilio, str]]:
    twilio = FakeTwilio(ACCOUNT, TOKEN)
    with LocalServer(twilio) as server:
        yield twilio, server.url


@pytest.fixture
def runtime(project_dir: Path, db_url: str, clock: FakeClock,
            monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    config = project_dir / "tidings.toml"
    config.write_text(config.read_text(encoding="utf-8") + SMS_PROJECT, encoding="utf-8")
    runtime = make_runtime(project_dir, db_url, clock)
    yield runtime
    runtime.close()


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime)) as test_client:
        yield test_client


def sent_message(runtime: Runtime, fake: tuple[FakeTwilio, str]) -> tuple[int, str]:
    """An SMS sent through the provider to the fake, recorded as the dispatcher would."""
    _, url = fake
    provider = TwilioProvider(PROVIDER, ACCOUNT, SecretStr(TOKEN), sender="+15005550006",
                              status_callback=CALLBACK, base_url=url)
    [outcome] = provider.send_batch([Envelope("<s1@acme.example>", "", ["+4915112345678"],
                                              b"Your parcel is on its way.", 1)])
    assert outcome.provider_id is not None
    now = runtime.clock.now()
    with runtime.engine.begin() as conn:
        [message_id] = runtime.outbox.insert(conn, TENANT, None, [NewMessage(
            dedupe_key="sms-1", channel="sms", provider=PROVIDER, recipient="+4915112345678",
            to=["+4915112345678"], sender="+15005550006", subject="", body_text="Your parcel",
            message_id_header="<s1@acme.example>", due_at=now)], now)
        conn.execute(update(tables.messages).where(tables.messages.c.id == message_id).values(
            state=State.SENT.value, provider_message_id=outcome.provider_id))
    assert message_id is not None
    return message_id, outcome.provider_id


def post(client: TestClient, url: str, form: dict[str, str], signature: str) -> int:
    return client.post(urlsplit(url).path, data=form,
                       headers={"X-Twilio-Signature": signature}).status_code


@dataclass(frozen=True)
class Row:
    status: str
    error_code: str | None
    state: State
    reason_has: str


TABLE = {
    "delivered": Row("delivered", None, State.DELIVERED, "delivered to the handset"),
    "undelivered, unknown handset": Row("undelivered", "30005", State.BOUNCED, "hard bounce"),
    "failed, carrier filtered": Row("failed", "30007", State.BOUNCED, "soft bounce"),
    "sent to the carrier": Row("sent", None, State.SENT, "handed to the carrier"),
}


@pytest.mark.parametrize("name", list(TABLE))
def test_signed_callback_table(name: str, runtime: Runtime, client: TestClient,
                               fake: tuple[FakeTwilio, str]) -> None:
    row = TABLE[name]
    message_id, sid = sent_message(runtime, fake)
    url, form, signature = fake[0].status_callback(sid, row.status, row.error_code)
    assert url == CALLBACK
    assert post(client, url, form, signature) == 204
    message = runtime.outbox.get(TENANT, message_id)
    assert message["state"] == row.state.value
    feedback = [e for e in message["timeline"] if e["kind"] == "feedback"]
    assert len(feedback) == 1 and row.reason_has in feedback[0]["reason"]
    assert feedback[0]["actor"] == f"twilio:{PROVIDER}"
    assert f"MessageStatus={row.status}" in feedback[0]["response"]
    moves = [e for e in message["timeline"]
             if e["kind"] == "transition" and e["from_state"] == State.SENT.value]
    assert len(moves) == (0 if row.state is State.SENT else 1)


def test_a_later_report_cannot_undo_a_bounce(runtime: Runtime, client: TestClient,
                                             fake: tuple[FakeTwilio, str]) -> None:
    message_id, sid = sent_message(runtime, fake)
    assert post(client, *fake[0].status_callback(sid, "undelivered", "30003")) == 204
    runtime.clock.advance(timedelta(seconds=5))  # type: ignore[attr-defined]
    assert post(client, *fake[0].status_callback(sid, "delivered")) == 204
    message = runtime.outbox.get(TENANT, message_id)
    assert message["state"] == State.BOUNCED.value
    assert [e["to_state"] for e in message["timeline"] if e["kind"] == "feedback"] == [
        State.BOUNCED.value, State.BOUNCED.value]


def test_unsigned_or_tampered_callbacks_are_refused(runtime: Runtime, client: TestClient,
                                                    fake: tuple[FakeTwilio, str]) -> None:
    message_id, sid = sent_message(runtime, fake)
    url, form, signature = fake[0].status_callback(sid, "delivered")
    attempts = {
        # the first character carries six whole bits: changing it always changes the bytes
        # (the last one before "=" has two padding bits: "A" to "D" can decode alike)
        "wrong signature": (form, {"X-Twilio-Signature":
                                   ("B" if signature[0] != "B" else "C") + signature[1:]}),
        "tampered form": ({**form, "MessageStatus": "undelivered"},
                          {"X-Twilio-Signature": signature}),
        "no signature": (form, {}),
        "signed for another URL": (form, {"X-Twilio-Signature": sign("https://evil.example/cb",
                                                                    form, TOKEN)}),
    }
    for name, (data, headers) in attempts.items():
        response = client.post(urlsplit(url).path, data=data, headers=headers)
        assert response.status_code == 403, name
        assert response.headers["content-type"].startswith("application/problem+json")
    message = runtime.outbox.get(TENANT, message_id)
    assert message["state"] == State.SENT.value
    assert not [e for e in message["timeline"] if e["kind"] == "feedback"]


def test_unknown_message_is_acknowledged_and_ignored(runtime: Runtime, client: TestClient,
                                                     fake: tuple[FakeTwilio, str]) -> None:
    message_id, sid = sent_message(runtime, fake)
    url, form, _ = fake[0].status_callback(sid, "delivered")
    form["MessageSid"] = form["SmsSid"] = "SM" + "0" * 32
    assert post(client, url, form, sign(url, form, TOKEN)) == 204
    assert runtime.outbox.get(TENANT, message_id)["state"] == State.SENT.value


def test_only_twilio_providers_take_callbacks(client: TestClient) -> None:
    assert client.post("/v1/callbacks/twilio/capture", data={}).status_code == 404
    assert client.post("/v1/callbacks/twilio/nobody", data={}).status_code == 404
