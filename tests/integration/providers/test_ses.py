"""SesProvider against moto's server mode (the real SES semantics: identities, raw
messages) and against a local SES v2 endpoint for the error answers moto never gives.
"""

from __future__ import annotations

import base64
import email
import email.policy
import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import boto3
import pytest
from pydantic import SecretStr

from tests.fakes import moto
from tests.fakes.server import LocalServer, Scripted
from tests.fakes.ses import FakeSes, ses_error
from tidings.dispatch.envelopes import build_envelope
from tidings.domain.outcomes import Deferred, Failed, Sent
from tidings.outbox.messages import Claimed
from tidings.providers.base import Envelope
from tidings.providers.ses import OUTBOX_ID_TAG, SesProvider

REGION = "eu-central-1"
KEYS = {"access_key_id": "AKIDTEST", "secret_access_key": SecretStr("test-secret")}


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    try:
        with moto.moto_server() as url:
            yield url
    except FileNotFoundError as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"moto server cannot start in CI: {exc}")
        pytest.skip(str(exc))


@pytest.fixture
def verified(moto_url: str) -> str:
    moto.reset(moto_url)
    client = boto3.client("sesv2", endpoint_url=moto_url, region_name=REGION,
                          aws_access_key_id="AKIDTEST", aws_secret_access_key="test-secret")
    client.create_email_identity(EmailIdentity="shop.example")
    client.create_configuration_set(ConfigurationSetName="transactional")
    return moto_url


def claimed(key: int = 7, sender: str = "Shop <orders@shop.example>") -> Claimed:
    return Claimed(id=key, tenant="acme", provider="ses", sender=sender,
                   to=["Ada Lovelace <ada@example.org>"], cc=[], bcc=["audit@shop.example"],
                   subject="Your order SO-1 has shipped", body_text="It is on its way.\n",
                   body_html="<p>It is on its way.</p>", headers=[],
                   message_id_header=f"<m{key}@shop.example>", attempts=1,
                   created_at=datetime(2026, 1, 5, 9, tzinfo=UTC), expires_at=None)


def ses(url: str, **overrides: object) -> SesProvider:
    settings: dict[str, object] = {"region": REGION, "endpoint_url": url,
                                   "configuration_set": "transactional",
                                   "tags": {"tenant": "acme"}, "timeout_seconds": 2.0, **KEYS}
    settings.update(overrides)
    return SesProvider("ses", **settings)  # type: ignore[arg-type]


def test_raw_message_reaches_moto_as_sent(verified: str) -> None:
    envelope = build_envelope(claimed())
    provider = ses(verified)
    [outcome] = provider.send_batch([envelope])
    provider.close()
    assert isinstance(outcome, Sent) and outcome.code == "200" and outcome.provider_id
    [raw] = moto.state(verified)["ses"]["RawMessage"]
    assert raw["id"] == outcome.provider_id
    assert raw["source"] == "orders@shop.example"
    assert {"ada@example.org", "audit@shop.example"} <= set(raw["destinations"])
    received = email.message_from_string(raw["raw_data"], policy=email.policy.default)
    assert received["Message-ID"] == "<m7@shop.example>"
    assert received["Bcc"] is None
    assert received["Subject"] == "Your order SO-1 has shipped"


def test_unverified_sender_is_rejected_and_fails(verified: str) -> None:
    envelope = build_envelope(claimed(sender="Other <news@other.example>"))
    [outcome] = ses(verified).send_batch([envelope])
    assert isinstance(outcome, Failed) and outcome.code == "400"
    assert "MessageRejected" in outcome.reason
    assert moto.state(verified)["ses"]["RawMessage"] == []


@pytest.fixture
def fake() -> FakeSes:
    return FakeSes()


@pytest.fixture
def server(fake: FakeSes) -> Iterator[LocalServer]:
    with LocalServer(fake) as server:
        yield server


def test_configuration_set_and_tags_on_the_wire(fake: FakeSes, server: LocalServer) -> None:
    envelope = build_envelope(claimed(key=42))
    [outcome] = ses(server.url).send_batch([envelope])
    assert isinstance(outcome, Sent) and outcome.provider_id
    [request] = fake.requests
    assert request["ConfigurationSetName"] == "transactional"
    assert request["EmailTags"] == [{"Name": "tenant", "Value": "acme"},
                                    {"Name": OUTBOX_ID_TAG, "Value": "42"}]
    assert base64.b64decode(request["Content"]["Raw"]["Data"]) == envelope.data
    assert request["Destination"] == {"ToAddresses": envelope.recipients}


@dataclass(frozen=True)
class Row:
    answer: Scripted
    kind: type
    code: str
    failover: bool = False


TABLE: dict[str, Row] = {
    "MessageRejected": Row(ses_error(400, "MessageRejected", "Email address is not verified."),
                           Failed, "400"),
    "BadRequest": Row(ses_error(400, "BadRequestException"), Failed, "400"),
    "TooManyRequests": Row(ses_error(429, "TooManyRequestsException"), Deferred, "429"),
    "LimitExceeded (quota)": Row(ses_error(400, "LimitExceededException"), Deferred,
                                 "LimitExceededException", failover=True),
    "AccountSuspended": Row(ses_error(400, "AccountSuspendedException"), Deferred,
                            "AccountSuspendedException", failover=True),
    "SendingPaused": Row(ses_error(400, "SendingPausedException"), Deferred,
                         "SendingPausedException", failover=True),
    "MailFromDomainNotVerified": Row(ses_error(400, "MailFromDomainNotVerifiedException"),
                                     Deferred, "MailFromDomainNotVerifiedException",
                                     failover=True),
    "NotFound (configuration set)": Row(ses_error(404, "NotFoundException"), Deferred,
                                        "NotFoundException", failover=True),
    "403 bad credentials": Row(ses_error(403, "UnrecognizedClientException"), Deferred, "403",
                               failover=True),
    "500 InternalFailure": Row(ses_error(500, "InternalFailure"), Deferred, "500",
                               failover=True),
    "503 ServiceUnavailable": Row(ses_error(503, "ServiceUnavailable"), Deferred, "503",
                                  failover=True),
}


@pytest.mark.parametrize("name", list(TABLE))
def test_answer_table(name: str, fake: FakeSes, server: LocalServer) -> None:
    row = TABLE[name]
    fake.script.push(row.answer)
    [outcome] = ses(server.url).send_batch([build_envelope(claimed())])
    assert type(outcome) is row.kind, outcome
    assert outcome.code == row.code
    if isinstance(outcome, Deferred):
        assert outcome.failover is row.failover
    assert len(fake.requests) == 1  # botocore's own retries are off


def test_timeout_defers_with_failover(fake: FakeSes, server: LocalServer) -> None:
    fake.script.push(Scripted(200, {"MessageId": "late"}, delay_seconds=1.5))
    [outcome] = ses(server.url, timeout_seconds=0.3).send_batch([build_envelope(claimed())])
    assert isinstance(outcome, Deferred) and outcome.failover and outcome.code == "timeout"


def test_connection_refused_defers_with_failover() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    [outcome] = ses(f"http://127.0.0.1:{port}").send_batch([build_envelope(claimed())])
    assert isinstance(outcome, Deferred) and outcome.failover and outcome.code == "connect"


def test_refused_before_any_request(fake: FakeSes, server: LocalServer) -> None:
    provider = ses(server.url)
    outcomes = provider.send_batch([
        Envelope("<a@x>", "orders@shop.example", [], b"Subject: x\r\n\r\nx", 1),
        Envelope("<b@x>", "orders@shop.example", [f"r{i}@example.org" for i in range(51)],
                 b"Subject: x\r\n\r\nx", 2),
        Envelope("<c@x>", "orders@shop.example", ["a@example.org"],
                 b"x" * (provider.max_message_bytes + 1), 3),
    ])
    assert all(isinstance(o, Failed) and o.code == "invalid" for o in outcomes)
    assert fake.requests == []
