"""POST /feedback/ses: SNS messages signed under a local test CA, over real TLS to a local host.

The fake SNS host (``sns.us-east-1.amazonaws.com`` on 127.0.0.1) serves the signing
certificate and answers SubscribeURL; Tidings fetches both with TLS verified against
the test CA, which this test configures as trusted.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.fixtures.feedback import sns_kit
from tests.integration.feedback.conftest import welcome
from tidings.feedback.sns import HttpsFetcher
from tidings.runtime.core import Runtime
from tidings.storage import tables
from tidings.storage.tables_feedback import feedback_receipts, message_feedback, suppressions

MID = "<0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f@acme.example>"


@pytest.fixture(scope="module")
def pki() -> sns_kit.Pki:
    return sns_kit.make_pki()


@pytest.fixture(scope="module")
def fake_sns(pki: sns_kit.Pki) -> Iterator[sns_kit.FakeSns]:
    with sns_kit.FakeSns(pki) as server:
        yield server


@pytest.fixture
def feedback_toml() -> str:
    return f'sns_topics = ["{sns_kit.TOPIC}"]\n'


@pytest.fixture
def sns(runtime: Runtime, pki: sns_kit.Pki, fake_sns: sns_kit.FakeSns) -> sns_kit.FakeSns:
    runtime.feedback.verifier.fetcher = HttpsFetcher(
        ca_file=str(pki.ca_file), connect_to={sns_kit.SNS_HOST: ("127.0.0.1", fake_sns.port)})
    fake_sns.requests.clear()
    return fake_sns


def sent(client: TestClient, runtime: Runtime, email: str = "ada@example.com") -> int:
    answer = client.post("/v1/events", json=welcome(1, email=email))
    message_id = int(answer.json()["events"][0]["messages"][0])
    runtime.dispatcher().step()
    with runtime.engine.begin() as conn:  # as the SES provider records it
        conn.execute(tables.messages.update().where(tables.messages.c.id == message_id)
                     .values(provider_message_id="0100018e-ses-0001", message_id_header=MID))
    assert runtime.outbox.get("acme", message_id)["state"] == "sent"
    return message_id


def ses(kind: str, **extra: Any) -> dict[str, Any]:
    mail = {"timestamp": "2026-01-05T09:00:00.000Z", "messageId": "0100018e-ses-0001",
            "destination": ["ada@example.com"], "commonHeaders": {"messageId": MID}}
    bodies: dict[str, dict[str, Any]] = {
        "Bounce": {"bounce": {"bounceType": "Permanent", "bounceSubType": "General",
                              "bouncedRecipients": [{"emailAddress": "ada@example.com",
                                                     "status": "5.1.1"}],
                              "timestamp": "2026-01-05T09:01:00.000Z"}},
        "Complaint": {"complaint": {"complainedRecipients": [{"emailAddress": "ada@example.com"}],
                                    "complaintFeedbackType": "abuse",
                                    "timestamp": "2026-01-05T10:00:00.000Z"}},
        "Delivery": {"delivery": {"recipients": ["ada@example.com"],
                                  "timestamp": "2026-01-05T09:00:02.000Z",
                                  "smtpResponse": "250 ok"}},
        "Reject": {"reject": {"reason": "Bad content"}},
        "DeliveryDelay": {"deliveryDelay": {"delayType": "MailboxFull",
                                            "delayedRecipients": [{"emailAddress":
                                                                   "ada@example.com"}],
                                            "timestamp": "2026-01-05T09:30:00.000Z"}},
    }
    return {"notificationType": kind, "mail": mail, **bodies[kind], **extra}


def post(client: TestClient, doc: dict[str, Any]) -> Any:
    return client.post("/feedback/ses", content=sns_kit.body(doc),
                       headers={"content-type": "text/plain; charset=UTF-8",
                                "x-amz-sns-message-type": doc["Type"]})


def recorded(runtime: Runtime) -> tuple[int, int, int]:
    e = tables.message_events
    with runtime.engine.connect() as conn:
        return (conn.execute(select(func.count()).where(e.c.kind == "feedback")).scalar_one(),
                conn.execute(select(func.count()).select_from(message_feedback)).scalar_one(),
                conn.execute(select(func.count()).select_from(feedback_receipts)).scalar_one())


@pytest.mark.parametrize("version", ["1", "2"])
def test_signed_bounce_is_accepted(client: TestClient, runtime: Runtime, pki: sns_kit.Pki,
                                   sns: sns_kit.FakeSns, version: str) -> None:
    message_id = sent(client, runtime)
    answer = post(client, sns_kit.notification(ses("Bounce"), pki.signing_key, version))
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"status": "notification", "applied": ["applied"]}
    message = runtime.outbox.get("acme", message_id)
    assert message["state"] == "bounced"
    assert [t["reason"] for t in message["timeline"] if t["kind"] == "feedback"] == \
        ["hard_bounce: Permanent bounce"]
    with runtime.engine.connect() as conn:
        assert conn.execute(select(suppressions.c.address, suppressions.c.reason)).all() == \
            [("ada@example.com", "hard_bounce")]
    assert (sns_kit.SNS_HOST, sns_kit.CERT_PATH) in sns.requests


def test_subscription_is_confirmed(client: TestClient, pki: sns_kit.Pki,
                                   sns: sns_kit.FakeSns) -> None:
    doc = sns_kit.subscription(pki.signing_key, "1")
    answer = post(client, doc)
    assert (answer.status_code, answer.json()["status"]) == (200, "subscribed")
    assert any(path.startswith("/?Action=ConfirmSubscription") and doc["Token"] in path
               for _, path in sns.requests)


def test_refused_messages_record_nothing(client: TestClient, runtime: Runtime,
                                         pki: sns_kit.Pki, sns: sns_kit.FakeSns) -> None:
    message_id = sent(client, runtime)
    good = sns_kit.notification(ses("Bounce"), pki.signing_key)
    changed = {**good, "Message": good["Message"].replace("Permanent", "Transient")}
    elsewhere = sns_kit.notification(ses("Bounce"), pki.signing_key,
                                     url="https://sns.us-east-1.amazonaws.com.evil.example/c.pem")
    unknown = sns_kit.notification(ses("Bounce"), pki.signing_key,
                                   topic="arn:aws:sns:us-east-1:123456789012:other-topic")
    forged = sns_kit.notification(ses("Bounce"), sns_kit.make_pki().signing_key)
    for doc, why in ((changed, "signature"), (elsewhere, "SNS host"), (unknown, "not configured"),
                     (forged, "signature")):
        answer = post(client, doc)
        assert answer.status_code == 403, answer.text
        assert why in answer.json()["detail"]
    assert recorded(runtime) == (0, 0, 0)
    assert runtime.outbox.get("acme", message_id)["state"] == "sent"
    assert all(host == sns_kit.SNS_HOST for host, _ in sns.requests)


def test_duplicates_and_any_order_are_harmless(client: TestClient, runtime: Runtime,
                                               pki: sns_kit.Pki, sns: sns_kit.FakeSns) -> None:
    message_id = sent(client, runtime)
    docs = [sns_kit.notification(ses(kind), pki.signing_key)
            for kind in ("Delivery", "DeliveryDelay", "Bounce", "Complaint")]
    order = [*docs, *docs, *docs]
    random.Random(3).shuffle(order)
    outcomes = [post(client, doc).json()["applied"][0] for doc in order]
    assert outcomes.count("applied") == 4 and outcomes.count("duplicate") == 8
    message = runtime.outbox.get("acme", message_id)
    assert message["state"] == "bounced"  # a late delivery does not resurrect it
    with runtime.engine.connect() as conn:
        assert conn.execute(select(message_feedback.c.status)).scalar() == "complained"
        assert conn.execute(select(suppressions.c.reason)).scalar() == "complained"


def test_ses_message_id_learnt_from_the_providers_answer(client: TestClient, runtime: Runtime,
                                                         pki: sns_kit.Pki,
                                                         sns: sns_kit.FakeSns) -> None:
    answer = client.post("/v1/events", json=welcome(1, email="ada@example.com"))
    message_id = int(answer.json()["events"][0]["messages"][0])
    runtime.dispatcher().step()
    e = tables.message_events
    with runtime.engine.begin() as conn:  # what the SES provider answers: 200 MessageId <id>
        conn.execute(e.update().where(e.c.message_id == message_id, e.c.to_state == "sent")
                     .values(response="200 MessageId 0100018e-ses-0001"))
    delivered = post(client, sns_kit.notification(ses("Delivery"), pki.signing_key))
    assert delivered.json()["applied"] == ["applied"]
    message = runtime.outbox.get("acme", message_id)
    assert (message["state"], message["provider_message_id"]) == \
        ("delivered", "0100018e-ses-0001")


def test_reject_and_unknown_messages(client: TestClient, runtime: Runtime, pki: sns_kit.Pki,
                                     sns: sns_kit.FakeSns) -> None:
    message_id = sent(client, runtime)
    post(client, sns_kit.notification(ses("Reject"), pki.signing_key))
    assert runtime.outbox.get("acme", message_id)["state"] == "bounced"
    stranger = ses("Delivery")
    stranger["mail"] = {"messageId": "nobody", "commonHeaders": {"messageId": "<x@y>"}}
    answer = post(client, sns_kit.notification(stranger, pki.signing_key))
    assert answer.json()["applied"] == ["unknown_message"]
    ignored = post(client, sns_kit.notification({"eventType": "Send", "mail": {}},
                                                pki.signing_key))
    assert ignored.json() == {"status": "notification", "applied": []}
    junk = post(client, sns_kit.notification("not json at all", pki.signing_key))
    assert (junk.status_code, junk.json()["status"]) == (200, "ignored")
