"""Returned mail: flufl.bounce's own samples classified as its own test table says (golden)."""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tidings.feedback import returns
from tidings.feedback.notices import Kind, MessageRef

HERE = Path(__file__).parents[2] / "fixtures" / "feedback" / "returns"
TABLE: dict[str, dict[str, list[str]]] = json.loads((HERE / "flufl_table.json").read_text())
OWN = ["arf_abuse.eml", "dsn_verp.eml"]
UPDATE = os.environ.get("TIDINGS_UPDATE_GOLDEN") == "1"


def _golden(path: Path) -> dict[str, object]:
    found = returns.classify(path.read_bytes())
    out = asdict(found) | {"kind": found.kind.value, "severity": found.severity}
    out["permanent"], out["temporary"] = list(found.permanent), list(found.temporary)
    return out


@pytest.mark.parametrize("name", [f"flufl/{n}" for n in sorted(TABLE)] + OWN)
def test_classification_matches_golden(name: str) -> None:
    source = HERE / name
    expected = HERE / "expected" / (Path(name).stem + ".json")
    got = _golden(source)
    if UPDATE:
        expected.write_text(json.dumps(got, indent=1, sort_keys=True) + "\n")
    assert got == json.loads(expected.read_text())


@pytest.mark.parametrize("name", sorted(TABLE))
def test_hard_and_soft_as_the_library_says(name: str) -> None:
    said = TABLE[name]
    found = returns.classify((HERE / "flufl" / name).read_bytes())
    assert set(said["permanent"]) <= set(found.permanent)
    assert set(said["temporary"]) <= set(found.temporary) | set(found.permanent)
    if said["permanent"]:
        assert found.kind is Kind.HARD_BOUNCE
    elif said["temporary"]:
        assert found.kind is Kind.SOFT_BOUNCE
    else:
        assert found.kind in (Kind.UNKNOWN, Kind.HARD_BOUNCE, Kind.SOFT_BOUNCE)


def test_the_table_has_both_kinds() -> None:
    hard = [n for n, s in TABLE.items() if s["permanent"]]
    soft = [n for n, s in TABLE.items() if s["temporary"] and not s["permanent"]]
    assert len(hard) > 80 and len(soft) >= 10


def test_arf_is_a_complaint_about_the_original_message() -> None:
    found = returns.classify((HERE / "arf_abuse.eml").read_bytes())
    assert found.kind is Kind.COMPLAINED and found.feedback_type == "abuse"
    assert found.original_recipient == "ada@example.com"
    assert found.original_message_id == "<8f2c1e7d5a4b4f0e9d3c2b1a09f8e7d6@acme.example>"


def test_dsn_status_and_diagnostic_are_read() -> None:
    found = returns.classify((HERE / "dsn_verp.eml").read_bytes())
    assert (found.kind, found.status) == (Kind.HARD_BOUNCE, "5.1.1")
    assert "User unknown" in found.diagnostic
    assert found.original_message_id == "<0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f@acme.example>"


def test_an_auto_reply_is_unknown() -> None:
    raw = (b"From: ada@example.com\r\nTo: bounces+1-aaaaaaaaaaaaa@b.example\r\n"
           b"Subject: Out of office\r\n\r\nI am away until Monday.\r\n")
    found = returns.classify(raw)
    assert found.kind is Kind.UNKNOWN and not found.permanent and not found.temporary


@pytest.mark.parametrize(("name", "kind", "code"), [
    ("dsn_verp.eml", Kind.HARD_BOUNCE, "5.1.1"),
    ("arf_abuse.eml", Kind.COMPLAINED, "abuse"),
    ("flufl/dsn_05.txt", Kind.SOFT_BOUNCE, "4.4.1"),
])
def test_notice_of_a_return(name: str, kind: Kind, code: str) -> None:
    at = datetime(2026, 1, 5, tzinfo=UTC)
    notice = returns.notice_of(returns.classify((HERE / name).read_bytes()), MessageRef(7), at,
                               "k")
    assert (notice.kind, notice.code, notice.source, notice.key) == (kind, code, "smtp-return", "k")
    assert notice.ref.message_id == 7 and notice.recipients == ()
