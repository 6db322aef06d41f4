"""PrintBatchProvider against a local SFTP drop folder (tests/fakes/sftp.py, asyncssh).

A batch lands complete or not at all: PDFs and manifest are written under a
hidden ``.part`` folder renamed in one step; a retry of the same letters is
the same batch and is not uploaded twice.
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from tests.fakes.letters import all_text, window_lines
from tests.fakes.sftp import SftpDrop, client_key
from tidings.channels_build import letter
from tidings.channels_build.envelopes import LetterEnvelope
from tidings.domain.outcomes import Deferred, Failed, Sent
from tidings.outbox.messages import Claimed
from tidings.providers.base import Envelope
from tidings.providers.print_batch import MANIFEST_COLUMNS, PrintBatchProvider

USER = "tidings"
PRIVATE, PUBLIC = client_key()
ADDRESSES = [
    {"name": "Erika Müller", "line1": "Hauptstraße 12", "line2": "Hinterhaus, 3. OG",
     "city": "Berlin", "postal_code": "10115", "country": "DE"},
    {"name": "Mr A Jones", "line1": "10 Downing Street", "city": "London",
     "postal_code": "SW1A 2AA", "country": "GB"},
]
OPTIONS = letter.LetterOptions(page_size="A4", sender_line="Beispiel-Shop · 10119 Berlin",
                               origin_country="DE")


def claimed(key: int) -> Claimed:
    return Claimed(id=key, tenant="acme", provider="print-house", sender="shop@example.com",
                   to=[], cc=[], bcc=[], subject="Ihre Rechnung",
                   body_text="", body_html=f"<p>Rechnung RE-{key}: 129,90 €</p>", headers=[],
                   message_id_header=f"<m{key}@shop.example>", attempts=1,
                   created_at=datetime(2026, 1, 5, 9, tzinfo=UTC), expires_at=None)


@pytest.fixture(scope="module")
def letters() -> list[LetterEnvelope]:
    return [letter.build_letter(claimed(key), {"address": address}, OPTIONS)
            for key, address in enumerate(ADDRESSES, start=11)]


@pytest.fixture
def drop(tmp_path: Path) -> Iterator[SftpDrop]:
    with SftpDrop(tmp_path / "sftp", {USER: PUBLIC}) as drop:
        yield drop


def provider(drop: SftpDrop, **overrides: Any) -> PrintBatchProvider:
    settings: dict[str, Any] = {"host": "127.0.0.1", "port": drop.port, "username": USER,
                                "client_key": SecretStr(PRIVATE), "host_key": drop.host_key,
                                "remote_dir": "/outgoing", "timeout_seconds": 10.0}
    settings.update(overrides)
    (drop.root / USER / "outgoing").mkdir(parents=True, exist_ok=True)
    return PrintBatchProvider("print-house", **settings)


def folder(drop: SftpDrop) -> Path:
    return drop.root / USER / "outgoing"


def test_batch_lands_with_pdfs_and_manifest(drop: SftpDrop,
                                            letters: list[LetterEnvelope]) -> None:
    outcomes = provider(drop).send_batch(letters)
    assert all(isinstance(o, Sent) and o.code == "uploaded" for o in outcomes)
    [batch] = list(folder(drop).iterdir())
    assert batch.name.startswith("tidings-")
    assert sorted(p.name for p in batch.iterdir()) == ["00001-11.pdf", "00002-12.pdf",
                                                       "manifest.csv"]
    assert [o.provider_id for o in outcomes] == [f"{batch.name}/00001-11.pdf",
                                                 f"{batch.name}/00002-12.pdf"]
    rows = list(csv.DictReader(io.StringIO((batch / "manifest.csv").read_text("utf-8"))))
    assert tuple(rows[0]) == MANIFEST_COLUMNS
    assert [(r["file"], r["outbox_id"], r["message_id"], r["pages"], r["country"])
            for r in rows] == [("00001-11.pdf", "11", "<m11@shop.example>", "1", "DE"),
                               ("00002-12.pdf", "12", "<m12@shop.example>", "1", "GB")]
    assert rows[0]["name"] == "Erika Müller"


def test_uploaded_pdfs_are_print_ready(drop: SftpDrop, letters: list[LetterEnvelope]) -> None:
    provider(drop).send_batch(letters)
    [batch] = list(folder(drop).iterdir())
    berlin = (batch / "00001-11.pdf").read_bytes()
    assert window_lines(berlin, "A4") == ["Beispiel-Shop · 10119 Berlin", "Erika Müller",
                                          "Hauptstraße 12", "Hinterhaus, 3. OG",
                                          "10115 Berlin"]
    assert "Rechnung RE-11: 129,90 €" in all_text(berlin)
    london = (batch / "00002-12.pdf").read_bytes()
    assert window_lines(london, "A4")[-1] == "UNITED KINGDOM"


def test_failed_upload_leaves_nothing_visible_and_the_retry_completes(
        drop: SftpDrop, letters: list[LetterEnvelope]) -> None:
    drop.fail_writes_after(1)
    first = provider(drop).send_batch(letters)
    assert all(isinstance(o, Deferred) and o.failover and o.code == "sftp" for o in first)
    assert [p.name for p in folder(drop).iterdir()] == [f".{_batch_name(letters)}.part"]
    second = provider(drop).send_batch(letters)
    assert all(isinstance(o, Sent) for o in second)
    [batch] = list(folder(drop).iterdir())
    assert batch.name == _batch_name(letters)
    assert len(list(batch.iterdir())) == 3


def _batch_name(letters: list[LetterEnvelope]) -> str:
    from tidings.providers.print_batch import build_batch
    return build_batch(letters).name


def test_a_batch_already_there_is_not_uploaded_twice(drop: SftpDrop,
                                                     letters: list[LetterEnvelope]) -> None:
    provider(drop).send_batch(letters)
    [batch] = list(folder(drop).iterdir())
    (batch / "marker").write_text("print house has picked it up")
    again = provider(drop).send_batch(letters)
    assert all(isinstance(o, Sent) and "already uploaded" in o.response for o in again)
    assert (batch / "marker").exists() and len(list(folder(drop).iterdir())) == 1


def test_one_bad_letter_fails_alone(drop: SftpDrop, letters: list[LetterEnvelope]) -> None:
    broken = replace(letters[0], data=b"%PDF-1.7 truncated", key=99, message_id="<b@x>")
    plain = Envelope("<p@x>", "", ["x"], letters[1].data, 98)
    outcomes = provider(drop).send_batch([broken, letters[1], plain])
    assert [type(o) for o in outcomes] == [Failed, Sent, Failed]
    [batch] = list(folder(drop).iterdir())
    assert sorted(p.name for p in batch.iterdir()) == ["00001-12.pdf", "manifest.csv"]


@pytest.mark.parametrize(("overrides", "code"), [
    ({"username": "stranger"}, "auth"),
    ({"client_key": SecretStr(client_key()[0])}, "auth"),
    ({"host_key": client_key()[1]}, "host-key"),
    ({"port": 1}, "connect"),
])
def test_connection_faults_defer_the_whole_batch(drop: SftpDrop, letters: list[LetterEnvelope],
                                                 overrides: dict[str, Any], code: str) -> None:
    outcomes = provider(drop, **overrides).send_batch(letters)
    assert all(isinstance(o, Deferred) and o.failover and o.code == code for o in outcomes), \
        outcomes
    assert list(folder(drop).iterdir()) == []


def test_works_from_a_thread_whose_event_loop_is_running(
        drop: SftpDrop, letters: list[LetterEnvelope]) -> None:
    async def inside_a_loop() -> list[Any]:
        return provider(drop).send_batch(letters)

    outcomes = asyncio.run(inside_a_loop())
    assert all(isinstance(o, Sent) for o in outcomes)
    assert len(list(folder(drop).iterdir())) == 1
