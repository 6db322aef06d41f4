"""The Lob-style print API: answer table and the address form fields (pure)."""

from __future__ import annotations

import orjson
import pytest

from tidings.domain.outcomes import Bounced, Deferred, Failed, Sent
from tidings.providers import print_api
from tidings.render.pdf import PostalAddress


def lob_error(status: int, code: str) -> bytes:
    return orjson.dumps({"error": {"message": "m", "status_code": status, "code": code}})


@pytest.mark.parametrize(("status", "body", "kind", "code", "failover"), [
    (200, orjson.dumps({"id": "ltr_1"}), Sent, "200", False),
    (422, lob_error(422, "failed_deliverability_strictness"), Bounced,
     "failed_deliverability_strictness", False),
    (422, lob_error(422, "invalid"), Failed, "422", False),
    (400, b"<html>", Failed, "400", False),
    (404, lob_error(404, "not_found"), Deferred, "404", True),
    (401, lob_error(401, "unauthorized"), Deferred, "401", True),
    (429, lob_error(429, "rate_limit_exceeded"), Deferred, "429", False),
    (500, b"", Deferred, "500", True),
])
def test_answer_table(status: int, body: bytes, kind: type, code: str, failover: bool) -> None:
    outcome = print_api.classify(status, body)
    assert type(outcome) is kind and outcome.code == code
    if isinstance(outcome, Deferred):
        assert outcome.failover is failover
    if isinstance(outcome, Sent):
        assert outcome.provider_id == "ltr_1"


def test_address_fields_leave_out_empty_ones() -> None:
    address = PostalAddress("Erika Müller", "Hauptstraße 12", None, "Berlin", "10115", None,
                            "de")
    assert print_api.address_fields("to", address) == {
        "to[name]": "Erika Müller", "to[address_line1]": "Hauptstraße 12",
        "to[address_city]": "Berlin", "to[address_zip]": "10115", "to[address_country]": "DE"}
