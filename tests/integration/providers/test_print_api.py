"""PrintApiProvider against a local Lob-style API (tests/fakes/lob.py).

Letters are rendered by the channel builder; the fake API checks the form,
the PDF and the idempotency key, and the test checks what a print house would:
the PDF opens, its text is extractable and the address shows in the window.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import SecretStr

from tests.fakes.letters import all_text, window_lines
from tests.fakes.lob import FakeLob
from tests.fakes.server import LocalServer, Scripted
from tidings.channels_build import letter
from tidings.channels_build.envelopes import LetterEnvelope
from tidings.domain.outcomes import Bounced, Deferred, Failed, Sent
from tidings.outbox.messages import Claimed
from tidings.providers.base import Envelope
from tidings.providers.print_api import PrintApiProvider
from tidings.render.pdf import PostalAddress

API_KEY = "test_0dc8d51e0acffcb1880e0f19c79b2f5b0cc"
RETURN = PostalAddress("Outdoor Shop Inc.", "2261 Market Street", "Ste 5668", "San Francisco",
                       "94114", "CA", "US")
TO = {"name": "John Smith", "line1": "1600 Pennsylvania Ave NW", "line2": "Suite 200",
      "city": "Washington", "postal_code": "20500-0003", "region": "DC", "country": "US"}
OPTIONS = letter.LetterOptions(page_size="Letter", sender_line="Outdoor Shop · San Francisco",
                               origin_country="US")


def claimed(key: int = 1) -> Claimed:
    return Claimed(id=key, tenant="acme", provider="lob", sender="orders@shop.example", to=[],
                   cc=[], bcc=[], subject="Your statement for December",
                   body_text="", body_html="<h1>Statement</h1><p>Balance due: $129.90</p>",
                   headers=[], message_id_header=f"<m{key}@shop.example>", attempts=1,
                   created_at=datetime(2026, 1, 5, 9, tzinfo=UTC), expires_at=None)


@pytest.fixture(scope="module")
def statement() -> LetterEnvelope:
    return letter.build_letter(claimed(), {"address": TO}, OPTIONS)


@pytest.fixture
def fake() -> FakeLob:
    return FakeLob(API_KEY)


@pytest.fixture
def server(fake: FakeLob) -> Iterator[LocalServer]:
    with LocalServer(fake) as server:
        yield server


def provider(url: str, key: str = API_KEY, **kwargs: Any) -> PrintApiProvider:
    return PrintApiProvider("lob", SecretStr(key), RETURN, base_url=url,
                            timeout_seconds=kwargs.pop("timeout_seconds", 5.0), **kwargs)


def test_letter_is_created_with_pdf_addresses_and_metadata(
        fake: FakeLob, server: LocalServer, statement: LetterEnvelope) -> None:
    [outcome] = provider(server.url).send_batch([statement])
    assert isinstance(outcome, Sent) and outcome.code == "200"
    [created] = fake.letters
    assert outcome.provider_id == created.id and created.id.startswith("ltr_")
    assert created.document["to"] == {
        "name": "John Smith", "address_line1": "1600 Pennsylvania Ave NW",
        "address_line2": "Suite 200", "address_city": "Washington", "address_state": "DC",
        "address_zip": "20500-0003", "address_country": "US"}
    assert created.document["from"]["address_line1"] == "2261 Market Street"
    assert created.document["metadata"] == {"tidings_outbox_id": "1",
                                            "tidings_message_id": "<m1@shop.example>"}
    assert created.idempotency_key == "<m1@shop.example>"
    assert created.form["use_type"] == "operational"
    assert created.form["description"] == "Your statement for December"


def test_the_uploaded_pdf_is_print_ready(fake: FakeLob, server: LocalServer,
                                         statement: LetterEnvelope) -> None:
    provider(server.url).send_batch([statement])
    pdf = fake.letters[0].pdf
    assert pdf == statement.data
    assert window_lines(pdf, "Letter") == [
        "Outdoor Shop · San Francisco", "John Smith", "1600 Pennsylvania Ave NW", "Suite 200",
        "Washington DC 20500-0003"]
    assert "Balance due: $129.90" in all_text(pdf)


def test_retry_with_the_same_message_id_creates_no_second_letter(
        fake: FakeLob, server: LocalServer, statement: LetterEnvelope) -> None:
    fake.script.push(Scripted(200, {"id": "ltr_lost"}, delay_seconds=1.0))
    [first] = provider(server.url, timeout_seconds=0.3).send_batch([statement])
    assert isinstance(first, Deferred) and first.code == "timeout"
    second, third = provider(server.url).send_batch([statement, statement])
    assert isinstance(second, Sent) and isinstance(third, Sent)
    assert second.provider_id == third.provider_id
    assert len(fake.letters) == 1


def test_undeliverable_address_bounces(fake: FakeLob, server: LocalServer,
                                       statement: LetterEnvelope) -> None:
    bad = replace(statement, address=replace(statement.address, line1="1 UNDELIVERABLE Rd"),
                  message_id="<bad@x>")
    [outcome] = provider(server.url).send_batch([bad])
    assert isinstance(outcome, Bounced) and outcome.hard
    assert outcome.code == "failed_deliverability_strictness"


def test_wrong_api_key_is_a_provider_fault(server: LocalServer,
                                           statement: LetterEnvelope) -> None:
    [outcome] = provider(server.url, key="test_wrong").send_batch([statement])
    assert isinstance(outcome, Deferred) and outcome.failover and outcome.code == "401"


def lob_error(status: int, code: str, headers: dict[str, str] | None = None) -> Scripted:
    return Scripted(status, {"error": {"message": code, "status_code": status, "code": code}},
                    headers or {})


@dataclass(frozen=True)
class Row:
    answer: Scripted
    kind: type
    code: str
    failover: bool = False
    retry_after: float | None = None


TABLE: dict[str, Row] = {
    "200 letter": Row(Scripted(200, {"id": "ltr_0123456789abcdef"}), Sent, "200"),
    "422 field refused": Row(lob_error(422, "invalid"), Failed, "422"),
    "400 malformed": Row(lob_error(400, "bad_request"), Failed, "400"),
    "422 undeliverable": Row(lob_error(422, "failed_deliverability_strictness"), Bounced,
                             "failed_deliverability_strictness"),
    "404 endpoint": Row(lob_error(404, "not_found"), Deferred, "404", failover=True),
    "403 forbidden": Row(lob_error(403, "forbidden"), Deferred, "403", failover=True),
    "429 rate limited": Row(lob_error(429, "rate_limit_exceeded", {"Retry-After": "5"}),
                            Deferred, "429", retry_after=5.0),
    "500": Row(lob_error(500, "internal_server_error"), Deferred, "500", failover=True),
    "503 text": Row(Scripted(503, "Service Unavailable"), Deferred, "503", failover=True),
}


@pytest.mark.parametrize("name", list(TABLE))
def test_answer_table(name: str, fake: FakeLob, server: LocalServer,
                      statement: LetterEnvelope) -> None:
    row = TABLE[name]
    fake.script.push(row.answer)
    [outcome] = provider(server.url).send_batch([statement])
    assert type(outcome) is row.kind, outcome
    assert outcome.code == row.code
    if isinstance(outcome, Deferred):
        assert outcome.failover is row.failover
        assert outcome.retry_after_seconds == row.retry_after
    assert fake.requests == 1


def test_refused_before_any_request(fake: FakeLob, server: LocalServer,
                                    statement: LetterEnvelope) -> None:
    outcomes = provider(server.url).send_batch([
        Envelope("<m@x>", "", ["John"], statement.data, 2),
        replace(statement, data=b"<html>not a pdf</html>"),
    ])
    assert all(isinstance(o, Failed) and o.code == "invalid" for o in outcomes)
    assert fake.requests == 0
