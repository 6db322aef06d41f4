"""Flat-file decoding beyond the golden files: streaming, inputs, locations, grouping."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tidings.formats import (
    delimited,
    errors,
    fixed_width,
    flatfile,
    layout_templates,
    layout_yaml,
    records,
)

R = errors.ReasonCode
FIXED = layout_yaml.parse_layout(layout_templates.template_text("fixed_width"))
PIPE = layout_yaml.parse_layout(layout_templates.template_text("delimited"))
ORDER = "ORD{:<12}N{:<40}20260301000000499{}"
LINE = "LIN001{:<15}0000100000499"


def _order_lines(orders: int, lines_each: int) -> Iterator[bytes]:
    yield b"HDR0001   20260301ACME-OMS\n"
    for n in range(orders):
        yield (ORDER.format(f"A-{n}", "x@example.com", "0") + "\n").encode()
        for _ in range(lines_each):
            yield (LINE.format("SKU-1") + "\n").encode()
    yield f"TRL{1 + orders * (1 + lines_each) + 1:07d}\n".encode()


def test_fixed_width_reads_only_as_far_as_the_next_order() -> None:
    pulled = 0

    def counted() -> Iterator[bytes]:
        nonlocal pulled
        for line in _order_lines(orders=10_000, lines_each=3):
            pulled += 1
            yield line

    events = fixed_width.decode_fixed_width(counted(), FIXED)
    first = next(events)
    assert isinstance(first, records.DecodedRecord)
    assert len(first.data["order"]["lines"]) == 3
    assert pulled == 6  # HDR, ORD, 3 LIN, and the next ORD that closes the first


def test_a_whole_batch_decodes_and_its_trailer_checks() -> None:
    out = list(fixed_width.decode_fixed_width(_order_lines(orders=50, lines_each=2), FIXED))
    assert len(out) == 50
    assert all(isinstance(item, records.DecodedRecord) for item in out)


def test_text_lines_are_accepted_as_already_decoded() -> None:
    lines = [line.decode() for line in _order_lines(orders=2, lines_each=1)]
    out = list(flatfile.decode_flat(lines, FIXED))
    assert [r.location for r in out] == ["record 2 (ORD) at line 2", "record 4 (ORD) at line 4"]


def test_a_layout_of_the_other_kind_is_refused() -> None:
    with pytest.raises(errors.DefinitionError):
        fixed_width.decode_fixed_width([], PIPE)
    with pytest.raises(errors.DefinitionError):
        delimited.decode_delimited([], FIXED)


def test_a_quoted_field_spanning_lines_is_located_at_its_first_line() -> None:
    lay = layout_yaml.parse_layout("""
format: delimited
fields:
  - {name: id, column: 1, required: true, target: order.id}
  - {name: note, column: 2, target: order.note}
  - {name: qty, column: 3, type: integer, target: order.qty}
""")
    rows = ['A,"one\n', 'two\n', 'three",1\n', 'B,plain,x\n']
    out = list(delimited.decode_delimited(rows, lay))
    assert isinstance(out[0], records.DecodedRecord)
    assert out[0].data == {"order": {"id": "A", "note": "one\ntwo\nthree", "qty": 1}}
    assert out[0].location == "line 1"
    assert isinstance(out[1], records.RecordError)
    assert out[1].location == "line 4 field qty"


def test_parse_gives_every_physical_record_with_its_values() -> None:
    parsed = list(flatfile.parse_flat(layout_templates.sample_lines("delimited"), PIPE))
    assert [(p.number, p.code) for p in parsed] == [
        (1, "HDR"), (2, "ORD"), (3, "LIN"), (4, "LIN"), (5, "TRL")]
    assert parsed[2].values == {"line": 1, "sku": "SKU-BLUE-S", "qty": 2,
                                "price": parsed[2].values["price"]}
    assert str(parsed[2].values["price"]) == "4.99"


def test_a_new_header_starts_a_new_batch() -> None:
    lines = layout_templates.sample_lines("delimited") * 2
    lines[5] = lines[5].replace("B-77", "B-78")
    out = list(delimited.decode_delimited(lines, PIPE))
    assert [r.data["batch"]["id"] for r in out if isinstance(r, records.DecodedRecord)] == [
        "B-77", "B-78"]


def test_an_empty_file_gives_nothing() -> None:
    assert list(fixed_width.decode_fixed_width([], FIXED)) == []
    assert list(delimited.decode_delimited([b"\n", b"  \n"], PIPE)) == []


def test_nothing_is_read_before_the_first_record_is_asked_for() -> None:
    pulled: list[bytes] = []

    def lines() -> Iterator[bytes]:
        for line in (b"order_id,state\n", b"A,new\n"):
            pulled.append(line)
            yield line

    lay = layout_yaml.parse_layout("""
format: delimited
header: true
fields: [{name: status, column: status}]
""")
    decoded = delimited.decode_delimited(lines(), lay)
    assert pulled == []
    with pytest.raises(errors.DecodeError) as refused:
        next(decoded)
    assert refused.value.reason is R.SCHEMA_VIOLATION
