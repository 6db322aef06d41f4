"""SNS verification with an in-memory certificate source: what passes and what is refused."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from tests.fixtures.feedback import sns_kit
from tidings.feedback.sns import SnsRefused, Verifier, check_url, string_to_sign

NOW = datetime(2026, 1, 5, 9, 5, tzinfo=UTC)


@pytest.fixture(scope="module")
def pki() -> sns_kit.Pki:
    return sns_kit.make_pki()


@pytest.fixture
def fetcher(pki: sns_kit.Pki) -> sns_kit.DictFetcher:
    return sns_kit.DictFetcher({sns_kit.cert_url(): pki.signing_pem})


def verifier(fetcher: sns_kit.DictFetcher) -> Verifier:
    return Verifier([sns_kit.TOPIC], fetcher)


@pytest.mark.parametrize("version", ["1", "2"])
def test_signed_notification_is_accepted(pki: sns_kit.Pki, fetcher: Any, version: str) -> None:
    doc = sns_kit.notification({"notificationType": "Delivery"}, pki.signing_key, version,
                               subject="hello")
    message = verifier(fetcher).verify(sns_kit.body(doc), NOW)
    assert (message.type, message.topic_arn) == ("Notification", sns_kit.TOPIC)
    assert orjson.loads(message.message) == {"notificationType": "Delivery"}


@pytest.mark.parametrize("field", ["Message", "MessageId", "Timestamp", "TopicArn", "Subject",
                                   "Type"])
def test_a_changed_field_is_refused(pki: sns_kit.Pki, fetcher: Any, field: str) -> None:
    doc = sns_kit.notification({"notificationType": "Bounce"}, pki.signing_key, "2",
                               subject="s")
    other_topic = sns_kit.TOPIC + "-2"
    doc[field] = {"TopicArn": other_topic, "Type": "UnsubscribeConfirmation"}.get(
        field, doc[field] + "x")
    check = Verifier([sns_kit.TOPIC, other_topic], fetcher)
    with pytest.raises(SnsRefused, match=r"signature|missing"):
        check.verify(sns_kit.body(doc), NOW)


@pytest.mark.parametrize("url", [
    "https://sns.us-east-1.amazonaws.com.evil.example/cert.pem",
    "https://evil.example/SimpleNotificationService.pem",
    "http://sns.us-east-1.amazonaws.com/cert.pem",
    "https://user@sns.us-east-1.amazonaws.com/cert.pem",
    "https://sns.us-east-1.amazonaws.com:8443/cert.pem",
    "https://s3.amazonaws.com/sns.us-east-1.amazonaws.com/cert.pem",
])
def test_a_certificate_from_another_host_is_refused(pki: sns_kit.Pki, fetcher: Any,
                                                    url: str) -> None:
    fetcher.pages[url] = pki.signing_pem
    doc = sns_kit.notification({"notificationType": "Bounce"}, pki.signing_key, url=url)
    with pytest.raises(SnsRefused, match="SNS host"):
        verifier(fetcher).verify(sns_kit.body(doc), NOW)
    assert fetcher.asked == []


def test_an_unknown_topic_is_refused(pki: sns_kit.Pki, fetcher: Any) -> None:
    doc = sns_kit.notification({}, pki.signing_key,
                               topic="arn:aws:sns:us-east-1:123456789012:other")
    with pytest.raises(SnsRefused, match="not configured"):
        verifier(fetcher).verify(sns_kit.body(doc), NOW)


def test_a_key_that_is_not_the_certificate_s_is_refused(pki: sns_kit.Pki, fetcher: Any) -> None:
    other = sns_kit.make_pki()
    doc = sns_kit.notification({}, other.signing_key)
    with pytest.raises(SnsRefused, match="signature"):
        verifier(fetcher).verify(sns_kit.body(doc), NOW)


def test_an_expired_certificate_is_refused(pki: sns_kit.Pki) -> None:
    fetcher = sns_kit.DictFetcher({sns_kit.cert_url(): pki.expired_signing_pem})
    doc = sns_kit.notification({}, pki.signing_key)
    with pytest.raises(SnsRefused, match="not valid now"):
        verifier(fetcher).verify(sns_kit.body(doc), NOW)


@pytest.mark.parametrize(("raw", "why"), [
    (b"not json", "not JSON"), (b"[]", "not an SNS message"),
    (b'{"Type": "Notification"}', "missing"), (b"x" * 300_000, "too large"),
])
def test_malformed_is_refused(fetcher: Any, raw: bytes, why: str) -> None:
    with pytest.raises(SnsRefused, match=why):
        verifier(fetcher).verify(raw, NOW)


def test_unknown_signature_version_and_bad_base64(pki: sns_kit.Pki, fetcher: Any) -> None:
    doc = sns_kit.notification({}, pki.signing_key)
    with pytest.raises(SnsRefused, match="SignatureVersion"):
        verifier(fetcher).verify(sns_kit.body({**doc, "SignatureVersion": "3"}), NOW)
    with pytest.raises(SnsRefused, match="signature"):
        verifier(fetcher).verify(sns_kit.body({**doc, "Signature": "%%%"}), NOW)


def test_certificate_fetched_once(pki: sns_kit.Pki, fetcher: Any) -> None:
    check = verifier(fetcher)
    for _ in range(3):
        check.verify(sns_kit.body(sns_kit.notification({}, pki.signing_key)), NOW)
    assert fetcher.asked == [sns_kit.cert_url()]


def test_subscription_is_confirmed_on_its_sns_host_only(pki: sns_kit.Pki, fetcher: Any) -> None:
    doc = sns_kit.subscription(pki.signing_key, "1")
    fetcher.pages[doc["SubscribeURL"]] = b"<ok/>"
    check = verifier(fetcher)
    check.confirm(check.verify(sns_kit.body(doc), NOW))
    assert fetcher.asked[-1] == doc["SubscribeURL"]
    evil = sns_kit.subscription(pki.signing_key, subscribe_url="https://evil.example/confirm")
    with pytest.raises(SnsRefused, match="SubscribeURL"):
        check.confirm(check.verify(sns_kit.body(evil), NOW))


def test_string_to_sign_follows_the_documented_order() -> None:
    doc = {"Type": "Notification", "MessageId": "m", "TopicArn": "t", "Message": "x",
           "Timestamp": "ts"}
    assert string_to_sign(doc) == b"Message\nx\nMessageId\nm\nTimestamp\nts\nTopicArn\nt\n" \
                                  b"Type\nNotification\n"
    assert b"Subject\ns\n" in string_to_sign({**doc, "Subject": "s"})


@pytest.mark.parametrize("url", ["https://sns.eu-west-1.amazonaws.com/x.pem",
                                 "https://sns.cn-north-1.amazonaws.com.cn/x.pem"])
def test_sns_hosts_of_every_region_pass(url: str) -> None:
    assert check_url(url, "u") == url
