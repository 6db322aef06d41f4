"""Pure parts of the sources: schedules, file completeness, configs, reasons, replay envelopes."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pydantic
import pytest

from tidings.formats import records
from tidings.formats.errors import ReasonCode
from tidings.ingest.deadletters import Reason
from tidings.ingest.sources import schedule
from tidings.ingest.sources.config import (
    DirectorySource,
    FileRules,
    RabbitMqSource,
    SftpPollSource,
)
from tidings.ingest.sources.decoding import Decoder
from tidings.ingest.sources.files import Completeness, Entry, unique_name
from tidings.project.model import MessageTypeConfig

FORMATS = Path(__file__).parents[2] / "fixtures" / "formats"


def directory(**overrides: object) -> DirectorySource:
    return DirectorySource.model_validate({"name": "d", "type": "directory", "path": "in",
                                           "message_type": "m", **overrides})


@pytest.mark.parametrize(("config", "after", "expected"), [
    ({"every": "00:05:00"}, "2026-03-27T09:30:00+00:00", "2026-03-27T09:35:00+00:00"),
    ({}, "2026-03-27T09:30:00+00:00", "2026-03-27T09:31:00+00:00"),
    # Friday 09:30 Berlin -> Monday 09:00 Berlin, after the spring DST change (UTC+2)
    ({"cron": "0 9 * * 1-5", "timezone": "Europe/Berlin"}, "2026-03-27T08:30:00+00:00",
     "2026-03-30T07:00:00+00:00"),
    ({"cron": "0 2 * * *"}, "2026-03-27T02:00:00+00:00", "2026-03-28T02:00:00+00:00"),
])
def test_next_run(config: dict[str, str], after: str, expected: str) -> None:
    got = schedule.next_run(directory(**config), datetime.fromisoformat(after))
    assert got == datetime.fromisoformat(expected)
    assert got.tzinfo is not None


def test_schedule_checks() -> None:
    assert schedule.check(directory(cron="61 * * * *")) is not None
    assert schedule.check(directory(timezone="Mars/Olympus")) is not None
    assert schedule.check(directory(cron="*/5 * * * *")) is None
    with pytest.raises(pydantic.ValidationError, match="either every or cron"):
        directory(every="00:01:00", cron="* * * * *")


def test_configs_refuse_what_is_missing() -> None:
    with pytest.raises(pydantic.ValidationError, match="password_env or private_key_env"):
        SftpPollSource.model_validate({"name": "p", "type": "sftp_poll", "host": "h",
                                       "username": "u", "message_type": "m"})
    with pytest.raises(pydantic.ValidationError):
        RabbitMqSource.model_validate({"name": "r", "type": "rabbitmq", "queue": "q",
                                       "message_type": "m", "prefetch": 0})
    with pytest.raises(pydantic.ValidationError):
        directory(password="in the clear")


def entries(*names: str, size: int = 10) -> list[Entry]:
    return [Entry(n, size, 100.0) for n in names]


@pytest.mark.parametrize(("rule", "names", "ready"), [
    ("rename", ["a.txt", "b.txt.part", ".c.txt", "d.tmp", "a.txt.result.ndjson", "e.filepart"],
     ["a.txt"]),
    ("done_marker", ["a.txt", "a.txt.done", "b.txt"], ["a.txt"]),
])
def test_completeness(rule: str, names: list[str], ready: list[str]) -> None:
    check = Completeness(FileRules(complete=rule))  # type: ignore[arg-type]
    assert [e.name for e in check.ready(entries(*names))] == ready


def test_stable_size_needs_two_equal_polls() -> None:
    check = Completeness(FileRules(complete="stable"))
    assert check.ready(entries("a.txt", size=10)) == []
    assert check.ready(entries("a.txt", size=20)) == []  # still growing
    assert [e.name for e in check.ready(entries("a.txt", size=20))] == ["a.txt"]


def test_pattern_and_unique_names() -> None:
    check = Completeness(FileRules(pattern="*.txt"))
    assert [e.name for e in check.ready(entries("a.txt", "b.csv"))] == ["a.txt"]
    taken = {"x.txt", "x.txt.1"}
    assert unique_name("x.txt", taken.__contains__) == "x.txt.2"


def test_reason_list_extends_the_decoder_list() -> None:
    assert {c.value for c in ReasonCode} < {r.value for r in Reason}
    assert {r.name for r in Reason if r.value in {c.value for c in ReasonCode}} == \
        {c.name for c in ReasonCode}


def test_x12_record_replays_inside_its_original_envelope() -> None:
    data = (FORMATS / "x12" / "850_purchase_order.edi").read_bytes()
    decoder = Decoder(MessageTypeConfig(name="edi", format="x12"), None, None, None)
    (first, *_) = list(decoder.decode_bytes(data))
    assert isinstance(first, records.DecodedRecord)
    raw = "\n".join(line for line in data.decode().replace("\n", "").split("~")
                    if line and not line.startswith(("ISA", "GS", "GE", "IEA")))
    context = decoder.envelope(data)
    assert context is not None and context["x12_head"].startswith("ISA")
    (again,) = list(decoder.decode_replay(raw.encode(), context))
    assert isinstance(again, records.DecodedRecord)
    assert again.data["order"] == first.data["order"]


def test_xml_record_replays_inside_its_root() -> None:
    data = (FORMATS / "xml" / "orders_namespaced.xml").read_bytes()
    mtype = MessageTypeConfig(name="x", format="xml", records_at="/o:Orders/o:Order",
                              namespaces={"o": "urn:example:orders"})
    decoder = Decoder(mtype, None, None, None)
    first = next(iter(decoder.decode_bytes(data)))
    assert isinstance(first, records.DecodedRecord)
    context = decoder.envelope(data)
    assert context is not None
    start = data.index(b"<o:Order ") if b"<o:Order " in data else data.index(b"<Order")
    end = data.index(b"</", start)
    element = data[start:data.index(b">", data.index(b"Order>", end)) + 1]
    (again,) = list(decoder.decode_replay(element, context))
    assert isinstance(again, records.DecodedRecord)
    assert again.data == first.data
