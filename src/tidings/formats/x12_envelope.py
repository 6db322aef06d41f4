"""X12 envelopes: interchanges (ISA/IEA), groups (GS/GE), transaction sets (ST/SE).

``transaction_sets(segments)`` walks the segments once and yields each
complete transaction set (with the envelope data around it) or a
``RecordError`` with reason ``envelope`` for each broken control:

- SE01 must count the set's segments, ST and SE included; SE02 must equal ST02;
- GE01 must count the group's sets; GE02 must equal GS06;
- IEA01 must count the interchange's groups; IEA02 must equal ISA13;
- every ST, GS and ISA must be closed, and nothing may stand outside them.

A set with a bad SE is refused alone; the sets around it still come
through. A bad GE or IEA is reported as its own error after the sets it
encloses, which have been yielded already (this walk is streaming).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from tidings.formats import errors, records, x12_tokens

__all__ = ["Envelope", "TransactionSet", "transaction_sets"]

R = errors.ReasonCode
Segment = x12_tokens.Segment


@dataclass(frozen=True, slots=True)
class Envelope:
    """What the ISA and GS around a transaction set say."""

    sender_qualifier: str
    sender: str
    receiver_qualifier: str
    receiver: str
    interchange_control: str
    functional_id: str
    group_control: str
    version: str


@dataclass(frozen=True, slots=True)
class TransactionSet:
    """One ST..SE set, its segments in order, and its envelope."""

    code: str
    control: str
    segments: tuple[Segment, ...]
    envelope: Envelope

    @property
    def location(self) -> str:
        return f"{self.segments[0].location} set {self.control}"

    @property
    def raw(self) -> str:
        return "\n".join(s.text for s in self.segments)


def transaction_sets(segments: Iterable[Segment]) -> Iterator[TransactionSet | records.RecordError]:
    """Yield each complete transaction set, or an envelope error, in input order."""
    walk = _Walk()
    for segment in segments:
        yield from walk.feed(segment)
    yield from walk.finish()


def _error(segment: Segment, detail: str, raw: str | None = None) -> records.RecordError:
    error = errors.DecodeError(R.ENVELOPE, segment.location, detail)
    return records.RecordError(error, raw if raw is not None else segment.text)


class _Walk:
    def __init__(self) -> None:
        self._isa: Segment | None = None
        self._gs: Segment | None = None
        self._set: list[Segment] | None = None
        self._groups = 0
        self._sets = 0

    def feed(self, segment: Segment) -> Iterator[TransactionSet | records.RecordError]:
        if self._set is not None and segment.tag not in ("SE", "ST", "GE", "IEA", "GS", "ISA"):
            self._set.append(segment)
            return
        handler = {"ISA": self._open_isa, "GS": self._open_gs, "ST": self._open_st,
                   "SE": self._close_st, "GE": self._close_gs, "IEA": self._close_isa}.get(
                       segment.tag, self._stray)
        yield from handler(segment)

    def finish(self) -> Iterator[records.RecordError]:
        if self._set is not None:
            yield _error(self._set[0], "the set has no SE: truncated?", _raw(self._set))
        if self._gs is not None:
            yield _error(self._gs, f"group {self._gs.get(6)} has no GE")
        if self._isa is not None:
            yield _error(self._isa, f"interchange {self._isa.get(13)} has no IEA")

    def _stray(self, segment: Segment) -> Iterator[records.RecordError]:
        yield _error(segment, "segment outside a transaction set")

    def _open_isa(self, segment: Segment) -> Iterator[records.RecordError]:
        yield from self.finish()
        self._isa, self._gs, self._set, self._groups = segment, None, None, 0

    def _open_gs(self, segment: Segment) -> Iterator[records.RecordError]:
        if self._isa is None:
            yield _error(segment, "GS outside an interchange (no ISA)")
            return
        if self._set is not None or self._gs is not None:
            yield from self._unclosed(segment)
        self._gs, self._set, self._sets = segment, None, 0
        self._groups += 1

    def _open_st(self, segment: Segment) -> Iterator[records.RecordError]:
        if self._gs is None:
            yield _error(segment, "ST outside a functional group (no GS)")
            return
        if self._set is not None:
            yield _error(self._set[0], "the set has no SE before the next ST", _raw(self._set))
        self._set = [segment]
        self._sets += 1

    def _close_st(self, segment: Segment) -> Iterator[TransactionSet | records.RecordError]:
        if self._set is None:
            yield _error(segment, "SE without its ST")
            return
        body, self._set = [*self._set, segment], None
        st = body[0]
        if segment.get(2) != st.get(2):
            yield _error(segment, f"SE02 {segment.get(2)!r} is not ST02 {st.get(2)!r}", _raw(body))
        elif not _same_number(segment.get(1), len(body)):
            yield _error(segment, f"SE01 says {segment.get(1)!r} segments; the set has "
                                  f"{len(body)}", _raw(body))
        else:
            yield TransactionSet(st.get(1), st.get(2), tuple(body), self._envelope())

    def _close_gs(self, segment: Segment) -> Iterator[records.RecordError]:
        gs, self._gs = self._gs, None
        if self._set is not None:
            yield _error(self._set[0], "the set has no SE before GE", _raw(self._set))
            self._set = None
        if gs is None:
            yield _error(segment, "GE without its GS")
        elif not _same_number(segment.get(2), gs.get(6)):
            yield _error(segment, f"GE02 {segment.get(2)!r} is not GS06 {gs.get(6)!r}")
        elif not _same_number(segment.get(1), self._sets):
            yield _error(segment, f"GE01 says {segment.get(1)!r} sets; the group has {self._sets}")

    def _close_isa(self, segment: Segment) -> Iterator[records.RecordError]:
        isa, self._isa = self._isa, None
        if self._gs is not None:
            yield from self._unclosed(segment)
        if isa is None:
            yield _error(segment, "IEA without its ISA")
        elif not _same_number(segment.get(2), isa.get(13)):
            yield _error(segment, f"IEA02 {segment.get(2)!r} is not ISA13 {isa.get(13)!r}")
        elif not _same_number(segment.get(1), self._groups):
            yield _error(segment, f"IEA01 says {segment.get(1)!r} groups; the interchange "
                                  f"has {self._groups}")

    def _unclosed(self, segment: Segment) -> Iterator[records.RecordError]:
        if self._set is not None:
            yield _error(self._set[0], "the set has no SE", _raw(self._set))
        if self._gs is not None:
            yield _error(self._gs, f"group {self._gs.get(6)} has no GE before {segment.tag}")
        self._set, self._gs = None, None

    def _envelope(self) -> Envelope:
        isa, gs = self._isa, self._gs
        assert isa is not None and gs is not None  # an ST is only opened inside both
        return Envelope(isa.get(5).strip(), isa.get(6).strip(), isa.get(7).strip(),
                        isa.get(8).strip(), isa.get(13), gs.get(1), gs.get(6), gs.get(8))


def _raw(body: list[Segment]) -> str:
    return "\n".join(s.text for s in body)


def _same_number(text: str, expected: int | str) -> bool:
    """Control numbers and counts compare as numbers ("0001" is 1)."""
    other = str(expected)
    if text.isdigit() and other.isdigit():
        return int(text) == int(other)
    return text == other
