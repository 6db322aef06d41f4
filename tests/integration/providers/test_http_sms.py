"""HttpSmsProvider against a local SMS vendor (tests/fakes/http_sms.py).

Two request shapes (JSON with a bearer token, form with basic auth and a
refusal inside a 200) and a table of (vendor answer -> expected outcome).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from pydantic import SecretStr

from tests.fakes.http_sms import FORM_USER, FakeSmsVendor
from tests.fakes.server import LocalServer, Scripted
from tidings.domain.outcomes import Deferred, Failed, Sent
from tidings.providers.base import Envelope
from tidings.providers.http_sms import HttpSmsProvider, RequestShape

TOKEN = "vendor-token-never-logged"
TO = "+4915112345678"


@pytest.fixture
def vendor() -> FakeSmsVendor:
    return FakeSmsVendor(TOKEN)


@pytest.fixture
def server(vendor: FakeSmsVendor) -> Iterator[LocalServer]:
    with LocalServer(vendor) as server:
        yield server


def json_shape(base: str) -> RequestShape:
    return RequestShape.from_settings({
        "url": f"{base}/v1/sms",
        "body": {"to": "$to_digits", "from": "$from", "text": "$body",
                 "client_ref": "$message_id"},
        "headers": {"Authorization": "Bearer $secret"},
        "id_pointer": "/messages/0/id",
        "status_pointer": "/messages/0/status", "accepted_values": ["accepted", "queued"],
        "error_pointer": "/error/code"})


def form_shape(base: str) -> RequestShape:
    return RequestShape.from_settings({
        "url": f"{base}/form/send", "encoding": "form",
        "body": {"dest": "$to", "msg": "$body", "sender": "$from"},
        "basic_username": FORM_USER, "id_pointer": "/ref",
        "status_pointer": "/result", "accepted_values": ["ok"]})


def provider(shape: RequestShape, token: str = TOKEN, **kwargs: Any) -> HttpSmsProvider:
    return HttpSmsProvider("sms-generic", shape, secret=SecretStr(token), sender="Shop",
                           timeout_seconds=kwargs.pop("timeout_seconds", 2.0), **kwargs)


def sms(key: int = 1, body: str = "Your parcel is on its way.", to: str = TO) -> Envelope:
    return Envelope(f"<m{key}@shop.example>", "", [to], body.encode(), key)


def test_json_shape_sends_the_template_filled(vendor: FakeSmsVendor,
                                              server: LocalServer) -> None:
    [outcome] = provider(json_shape(server.url)).send_batch([sms(body='Say "hi" & {x} $5')])
    assert isinstance(outcome, Sent) and outcome.code == "200"
    assert outcome.provider_id and outcome.provider_id.startswith("msg-")
    [received] = vendor.received
    assert received.body == {"to": TO[1:], "from": "Shop", "text": 'Say "hi" & {x} $5',
                             "client_ref": "<m1@shop.example>"}
    assert received.headers["Content-Type"] == "application/json"


def test_form_shape_with_basic_auth(vendor: FakeSmsVendor, server: LocalServer) -> None:
    [outcome] = provider(form_shape(server.url)).send_batch([sms()])
    assert isinstance(outcome, Sent) and outcome.provider_id
    assert vendor.received[0].body == {"dest": TO, "msg": "Your parcel is on its way.",
                                       "sender": "Shop"}


def test_refusal_inside_a_200_fails_with_the_vendor_value(vendor: FakeSmsVendor,
                                                          server: LocalServer) -> None:
    [outcome] = provider(form_shape(server.url)).send_batch([sms(body="BLOCKED words")])
    assert isinstance(outcome, Failed) and outcome.code == "rejected"
    assert vendor.received == []


@dataclass(frozen=True)
class Row:
    answer: Scripted | None
    kind: type
    code: str
    failover: bool = False
    retry_after: float | None = None
    reason_has: str = ""


TABLE: dict[str, Row] = {
    "200 accepted": Row(None, Sent, "200"),
    "200 queued": Row(Scripted(200, {"messages": [{"id": "q1", "status": "queued"}]}),
                      Sent, "200"),
    "200 status failed": Row(Scripted(200, {"messages": [{"id": "f1", "status": "failed"}]}),
                             Failed, "failed"),
    "202 without a body": Row(Scripted(202, ""), Failed, "202"),
    "400 invalid number": Row(Scripted(400, {"error": {"code": "invalid_number"}}), Failed,
                              "400", reason_has="invalid_number"),
    "401": Row(Scripted(401, {"error": {"code": "unauthorized"}}), Deferred, "401",
               failover=True),
    "413": Row(Scripted(413, ""), Failed, "413"),
    "429 retry in 12 s": Row(Scripted(429, {}, {"Retry-After": "12"}), Deferred, "429",
                             retry_after=12.0),
    "500": Row(Scripted(500, "oops"), Deferred, "500", failover=True),
    "503 retry later": Row(Scripted(503, "", {"Retry-After": "30"}), Deferred, "503",
                           failover=True),
    "301 redirect": Row(Scripted(301, "", {"Location": "/elsewhere"}), Deferred, "301",
                        failover=True),
}


@pytest.mark.parametrize("name", list(TABLE))
def test_answer_table(name: str, vendor: FakeSmsVendor, server: LocalServer) -> None:
    row = TABLE[name]
    if row.answer is not None:
        vendor.script.push(row.answer)
    [outcome] = provider(json_shape(server.url)).send_batch([sms()])
    assert type(outcome) is row.kind, outcome
    assert outcome.code == row.code
    if isinstance(outcome, Deferred):
        assert outcome.failover is row.failover
        assert outcome.retry_after_seconds == row.retry_after
    assert row.reason_has in getattr(outcome, "reason", "")


def test_wrong_token_is_a_provider_fault(server: LocalServer) -> None:
    [outcome] = provider(json_shape(server.url), token="wrong").send_batch([sms()])
    assert isinstance(outcome, Deferred) and outcome.failover and outcome.code == "401"


def test_too_long_fails_before_any_request(vendor: FakeSmsVendor, server: LocalServer) -> None:
    [outcome] = provider(json_shape(server.url), max_segments=1).send_batch([sms(body="x" * 161)])
    assert isinstance(outcome, Failed) and "segments" in outcome.reason
    assert vendor.received == []


def test_timeout_defers(vendor: FakeSmsVendor, server: LocalServer) -> None:
    vendor.script.push(Scripted(200, {}, delay_seconds=1.0))
    [outcome] = provider(json_shape(server.url), timeout_seconds=0.2).send_batch([sms()])
    assert isinstance(outcome, Deferred) and outcome.code == "timeout" and outcome.failover
