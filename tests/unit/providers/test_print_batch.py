"""A print batch's layout (pure): file names, the manifest (golden), the batch name.

Golden file: ``fixtures/print_batch/letters.json`` -> ``expected/print_batch/manifest.csv``
(sha256 values are checked against the files, then written as ``<sha256>`` so a
WeasyPrint upgrade that changes PDF bytes does not break the golden). Set
``TIDINGS_UPDATE_GOLDEN=1`` to rewrite it after a deliberate change.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from tidings.channels_build.envelopes import LetterEnvelope
from tidings.channels_build.letter import parse_address
from tidings.providers import print_batch
from tidings.render.pdf import render_letter

HERE = Path(__file__).parent
FIXTURE = HERE / "fixtures" / "print_batch" / "letters.json"
EXPECTED = HERE / "expected" / "print_batch" / "manifest.csv"


def load_letters() -> list[LetterEnvelope]:
    letters = []
    for item in json.loads(FIXTURE.read_text(encoding="utf-8")):
        address = parse_address(item["address"])
        pdf = render_letter(item["html"], page_size=item["page_size"], address=address,
                            sender_line=None, base_url=None)
        letters.append(LetterEnvelope(item["message_id"], "", [address.name], pdf, item["key"],
                                      address=address, page_size=item["page_size"]))
    return letters


@pytest.fixture(scope="module")
def letters() -> list[LetterEnvelope]:
    return load_letters()


def manifest(batch: print_batch.Batch) -> str:
    files = dict(batch.files)
    text = files[print_batch.MANIFEST_NAME].decode("utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    for row in rows:
        assert row["sha256"] == hashlib.sha256(files[row["file"]]).hexdigest()
        row["sha256"] = "<sha256>"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=print_batch.MANIFEST_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def test_golden_manifest(letters: list[LetterEnvelope]) -> None:
    got = manifest(print_batch.build_batch(letters))
    if os.environ.get("TIDINGS_UPDATE_GOLDEN") == "1":
        EXPECTED.write_bytes(got.encode("utf-8"))
    assert got == EXPECTED.read_bytes().decode("utf-8")


def test_files_in_claim_order_manifest_last(letters: list[LetterEnvelope]) -> None:
    batch = print_batch.build_batch(letters)
    assert [name for name, _ in batch.files] == ["00001-101.pdf", "00002-102.pdf",
                                                 "manifest.csv"]
    assert batch.letters == {101: "00001-101.pdf", 102: "00002-102.pdf"}
    assert dict(batch.files)["00002-102.pdf"] == letters[1].data


def test_batch_name_follows_the_letters(letters: list[LetterEnvelope]) -> None:
    names: set[Any] = {
        print_batch.build_batch(letters).name,
        print_batch.build_batch(list(reversed(letters))).name,
        print_batch.build_batch(letters[:1]).name,
        print_batch.build_batch([replace(letters[0], message_id="<other@x>"), letters[1]]).name,
    }
    assert len(names) == 4
    assert print_batch.build_batch(letters).name == print_batch.build_batch(load_letters()).name


@pytest.mark.parametrize("data", [b"", b"%PDF-1.7\n", b"<html></html>"])
def test_a_pdf_that_does_not_open_is_refused(letters: list[LetterEnvelope], data: bytes) -> None:
    with pytest.raises(ValueError, match="does not open"):
        print_batch.build_batch([replace(letters[0], data=data)])


def test_an_empty_batch_is_refused() -> None:
    with pytest.raises(ValueError):
        print_batch.build_batch([])
