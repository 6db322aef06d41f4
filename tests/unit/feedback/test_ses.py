"""SES notifications (both shapes) as notices: golden files per event type."""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tidings.feedback import ses
from tidings.feedback.notices import Kind, Notice

HERE = Path(__file__).parents[2] / "fixtures" / "feedback" / "ses"
RECEIVED = datetime(2026, 1, 5, 9, 5, tzinfo=UTC)
UPDATE = os.environ.get("TIDINGS_UPDATE_GOLDEN") == "1"


def _plain(found: list[Notice]) -> list[dict[str, object]]:
    out = []
    for notice in found:
        row = asdict(notice)
        row["kind"], row["at"] = notice.kind.value, notice.at.isoformat()
        row["recipients"] = list(notice.recipients)
        out.append(row)
    return out


@pytest.mark.parametrize("name", sorted(p.stem for p in HERE.glob("*.json")))
def test_golden(name: str) -> None:
    got = _plain(ses.notices((HERE / f"{name}.json").read_text(), "sns-1", RECEIVED))
    expected = HERE / "expected" / f"{name}.json"
    if UPDATE:
        expected.write_text(json.dumps(got, indent=1, sort_keys=True) + "\n")
    assert got == json.loads(expected.read_text())


@pytest.mark.parametrize(("name", "kind"), [
    ("bounce_permanent", Kind.HARD_BOUNCE), ("bounce_transient", Kind.SOFT_BOUNCE),
    ("complaint", Kind.COMPLAINED), ("delivery", Kind.DELIVERED), ("reject", Kind.REJECTED),
    ("delivery_delay", Kind.DELAYED),
])
def test_kinds_and_references(name: str, kind: Kind) -> None:
    (notice,) = ses.notices((HERE / f"{name}.json").read_text(), "sns-1", RECEIVED)
    assert notice.kind is kind and notice.source == "ses" and notice.key == "sns-1"
    assert notice.ref.provider_message_id == "0100018e-ses-0001"
    assert notice.ref.message_id_header == "<0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f@acme.example>"
    assert notice.at.tzinfo is not None


@pytest.mark.parametrize("name", ["send", "open"])
def test_events_without_feedback(name: str) -> None:
    assert ses.notices((HERE / f"{name}.json").read_text(), "k", RECEIVED) == []


@pytest.mark.parametrize("raw", ["nope", "[]", '{"notificationType": "Bounce"}'])
def test_not_ses(raw: str) -> None:
    with pytest.raises(ses.SesError):
        ses.notices(raw, "k", RECEIVED)
