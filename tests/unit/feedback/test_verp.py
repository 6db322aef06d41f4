"""VERP: a return address per message that names it, and nothing else."""

from __future__ import annotations

from datetime import UTC, datetime

from tidings.feedback import verp
from tidings.outbox.messages import Claimed

MID = "<0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f@acme.example>"


def claimed(headers: list[tuple[str, str]], message_id: int = 123456) -> Claimed:
    return Claimed(id=message_id, tenant="acme", provider="smtp",
                   sender="ACME <orders@acme.example>", to=["ada@example.com"], cc=[], bcc=[],
                   subject="s", body_text="t", body_html=None, headers=headers,
                   message_id_header=MID, attempts=1,
                   created_at=datetime(2026, 1, 5, tzinfo=UTC), expires_at=None)


def test_round_trip_and_length() -> None:
    address = verp.return_path("bounces@bounces.acme.example", 123456, MID)
    assert address.startswith("bounces+2n9c-") and address.endswith("@bounces.acme.example")
    assert len(address.split("@")[0]) <= 64
    parsed = verp.parse(address.upper())
    assert parsed is not None and parsed.message_id == 123456
    assert parsed.proof == verp.proof_of(MID) and parsed.ref().proof == parsed.proof
    big = verp.return_path("bounces@b.example", 2**63 - 1, MID)
    assert len(big.split("@")[0]) <= 64 and verp.parse(big).message_id == 2**63 - 1  # type: ignore[union-attr]


def test_envelope_takes_the_header_out() -> None:
    headers, sender = verp.envelope(claimed([("Return-Path", "<bounces@b.example>"),
                                             ("X-Campaign", "spring")]))
    assert headers == [("X-Campaign", "spring")]
    assert sender == f"bounces+2n9c-{verp.proof_of(MID)}@b.example"


def test_without_the_header_nothing_changes() -> None:
    original = [("X-Campaign", "spring")]
    assert verp.envelope(claimed(original)) == (original, None)


def test_not_ours() -> None:
    for address in ("bounces@b.example", "ada@example.com", "bounces+zz@b.example",
                    "bounces+1-ABC@b.example", "bounces+1-" + "a" * 14 + "@b.example", ""):
        assert verp.parse(address) is None, address
