"""X12 tokenizing and envelopes beyond the golden files: separators, counts, locations."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tidings.formats import errors, records, x12, x12_envelope, x12_tokens

R = errors.ReasonCode


def _isa(element: str = "*", repetition: str = "U", version: str = "00401",
         component: str = ">", terminator: str = "~") -> str:
    parts = ["ISA", "00", " " * 10, "00", " " * 10, "ZZ", f"{'BUYER':<15}", "ZZ",
             f"{'SELLER':<15}", "260301", "1253", repetition, version, "000000001", "0", "P",
             component]
    text = element.join(parts) + terminator
    assert len(text) == x12_tokens.ISA_LENGTH
    return text


def _interchange(body: list[str], element: str = "*", terminator: str = "~\n", **isa: str,
                 ) -> bytes:
    segs = ["GS*PO*BUYER*SELLER*20260301*1253*1*X*004010", "ST*850*0001", *body]
    segs.append(f"SE*{len(segs)}*0001")
    segs += ["GE*1*1", "IEA*1*000000001"]
    text = _isa(element=element, terminator=terminator[0], **isa) + terminator[1:]
    text += "".join(s.replace("*", element) + terminator for s in segs)
    return text.encode()


PO = ["BEG*00*SA*PO-1**20260301", "PO1*1*2*EA*1.25**VP*SKU-1", "CTT*1"]


def test_separators_come_from_the_isa() -> None:
    seps = x12_tokens.read_separators(_isa(element="|", component=":", terminator="\n"))
    assert (seps.element, seps.component, seps.segment, seps.repetition) == ("|", ":", "\n",
                                                                              None)
    seps = x12_tokens.read_separators(_isa(repetition="^", version="00501"))
    assert seps.repetition == "^"


def test_other_separators_and_newline_terminators_decode_alike() -> None:
    plain = list(x12.decode_x12(_interchange(PO)))
    piped = list(x12.decode_x12(_interchange(PO, element="|", terminator="\n", component=":")))
    assert isinstance(plain[0], records.DecodedRecord)
    assert isinstance(piped[0], records.DecodedRecord)
    assert plain[0].data["order"] == piped[0].data["order"]
    assert plain[0].data["order"]["lines"][0]["qty"] == Decimal("2")


def test_components_split_on_demand() -> None:
    body = [PO[0], "PO1*1*2*EA*1.25**VP*SKU-1>RED"]
    segments = x12_tokens.tokenize(_interchange(body))
    po1 = next(s for s in segments if s.tag == "PO1")
    assert po1.get(7) == "SKU-1>RED"
    assert po1.components(7) == ["SKU-1", "RED"]
    assert po1.get(40) == ""
    assert po1.location == "segment 5 (PO1)"


@pytest.mark.parametrize(("data", "detail"), [
    (b"GS*PO~", "starts with ISA"),
    (b"ISA*00*", "needs 106 characters"),
    (_isa(component="*").encode() + b"GS*PO~", "do not have"),
    (_isa(terminator="A").encode() + b"GSA", "must differ and not be letters"),
])
def test_a_bad_isa_is_malformed(data: bytes, detail: str) -> None:
    with pytest.raises(errors.DecodeError) as refused:
        x12_tokens.tokenize(data)
    assert refused.value.reason is R.MALFORMED
    assert detail.split()[0] in refused.value.detail


def test_sets_around_a_broken_one_still_come_through() -> None:
    good = _interchange(PO).decode()
    broken = good.replace("SE*5*0001", "SE*4*0001")
    out = list(x12_envelope.transaction_sets(x12_tokens.tokenize(broken.encode())))
    assert len(out) == 1
    assert isinstance(out[0], records.RecordError) and out[0].reason is R.ENVELOPE
    assert isinstance(out[0].raw, str) and out[0].raw.startswith("ST*850*0001")


def test_control_numbers_compare_as_numbers() -> None:
    data = _interchange(PO).decode().replace("GE*1*1", "GE*001*0001").encode()
    out = list(x12.decode_x12(data))
    assert [type(i).__name__ for i in out] == ["DecodedRecord"]


def test_the_size_limit_is_checked_first() -> None:
    with pytest.raises(errors.DecodeError) as refused:
        list(x12.decode_x12(b"x" * 100, max_bytes=10))
    assert refused.value.reason is R.TOO_LARGE


def test_an_850_without_ctt_is_accepted() -> None:
    out = list(x12.decode_x12(_interchange(PO[:-1])))
    assert isinstance(out[0], records.DecodedRecord)
    assert out[0].kind == "850"
    assert out[0].data["x12"]["control"] == "0001"


def test_repetitions_split_only_from_version_00402() -> None:
    body = [PO[0], "REF*ZZ*A^B^C"]
    new = x12_tokens.tokenize(_interchange(body, repetition="^", version="00501"))
    old = x12_tokens.tokenize(_interchange(body))
    assert next(s for s in new if s.tag == "REF").repetitions(2) == ["A", "B", "C"]
    assert next(s for s in old if s.tag == "REF").repetitions(2) == ["A^B^C"]
