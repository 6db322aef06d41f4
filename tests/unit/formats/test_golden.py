"""Every fixture of tests/fixtures/formats against its golden expected output."""

from __future__ import annotations

from pathlib import Path

import pytest

from tidings.formats import errors

from . import golden

CASES = golden.fixtures()


@pytest.mark.parametrize(("fmt", "path"), CASES, ids=[f"{f}/{p.name}" for f, p in CASES])
def test_fixture_matches_golden(fmt: str, path: Path) -> None:
    actual, expected = golden.compare_or_update(fmt, path)
    assert actual == expected


def test_every_format_has_fixtures_and_goldens() -> None:
    for fmt in golden.EXTENSIONS:
        paths = [p for f, p in CASES if f == fmt]
        assert len(paths) >= 3, fmt
        assert all(golden.expected_path(p).exists() for p in paths), fmt


def test_every_reason_code_is_produced_by_some_fixture() -> None:
    produced: set[str] = set()
    for fmt, path in CASES:
        actual, _ = golden.compare_or_update(fmt, path)
        produced.update(item["error"]["reason"] for item in actual["items"] if "error" in item)
        if actual["raised"]:
            produced.add(actual["raised"]["reason"])
    assert produced == {reason.value for reason in errors.ReasonCode}


def test_no_expected_file_is_left_without_its_fixture() -> None:
    stems = {(p.parent, p.stem) for _, p in CASES}
    for fmt in golden.EXTENSIONS:
        for expected in (golden.FIXTURES / fmt / "expected").glob("*.json"):
            assert (expected.parent.parent, expected.stem) in stems, expected
