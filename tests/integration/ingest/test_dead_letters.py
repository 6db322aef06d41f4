"""Every reason code of the closed list: one fixture, exactly one dead letter, its location.

Files go through the directory source's lifecycle (one batch per file); the
poison fixture goes through the queue path with too many deliveries.
Replays: once, after the payload or the layout is fixed.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml
from sqlalchemy import select

from tidings.ingest.deadletters import MAX_PAYLOAD_BYTES, Reason, SqlDeadLetters
from tidings.ingest.pipeline import AlreadyReplayed, Job, Pipeline
from tidings.ingest.sources.config import DirectorySource
from tidings.ingest.sources.directory import DirectoryPoller
from tidings.runtime.core import Runtime
from tidings.storage import tables

REASONS = Path(__file__).parents[2] / "fixtures" / "ingest" / "reasons"
CASES: dict[str, dict[str, Any]] = yaml.safe_load((REASONS / "cases.yaml").read_text())


def test_every_reason_has_a_fixture() -> None:
    assert {Path(name).stem for name in CASES} == {r.value for r in Reason}


def write_input(name: str, case: dict[str, Any], inbox: Path) -> Path:
    inbox.mkdir(parents=True, exist_ok=True)
    target = inbox / name
    if case.get("generate"):
        good = (REASONS / "malformed.ndjson").read_text().splitlines()
        huge = orjson.dumps({"order": {"id": "BIG", "note": "x" * 1_100_000}}).decode()
        target.write_text("\n".join([good[0], huge, good[2]]) + "\n")
    else:
        shutil.copy(REASONS / name, target)
    return target


def directory(name: str, message_type: str, inbox: Path) -> DirectorySource:
    return DirectorySource.model_validate({
        "name": name, "type": "directory", "path": str(inbox), "message_type": message_type,
        "tenant": None if message_type == "envelope" else "acme"})


@pytest.mark.parametrize("name", sorted(CASES))
def test_reason_fixture_gives_one_dead_letter(name: str, tmp_path: Path, runtime: Runtime,
                                              pipeline: Pipeline) -> None:
    case, reason = CASES[name], Path(name).stem
    path = write_input(name, case, tmp_path / "inbox")
    if "deliveries" in case:
        job = Job("queue", case["message_type"], "acme", "queue:m-1")
        tally = pipeline.message(job, path.read_bytes(), case["deliveries"], 5)
        source = "queue"
    else:
        config = directory("drop", case["message_type"], tmp_path / "inbox")
        tally = asyncio.run(DirectoryPoller(config, pipeline, tmp_path).run_once())
        source = "drop"
        assert (tmp_path / "inbox" / "failed" / name).exists()
    (letter,) = SqlDeadLetters(runtime.engine).list()
    assert (letter.reason, letter.location, letter.source) == (reason, case["location"], source)
    assert letter.detail and letter.payload and letter.attempts == 1
    assert (tally.accepted, tally.dead_lettered) == (case["accepted"], 1)


def test_file_read_twice_imports_each_record_once(tmp_path: Path, runtime: Runtime,
                                                  pipeline: Pipeline) -> None:
    config = directory("drop", "fw-orders", tmp_path / "inbox")
    poller = DirectoryPoller(config, pipeline, tmp_path)
    write_input("bad_value.txt", {}, tmp_path / "inbox")
    first = asyncio.run(poller.run_once())
    write_input("bad_value.txt", {}, tmp_path / "inbox")  # the same file dropped again
    second = asyncio.run(poller.run_once())
    assert (first.accepted, second.accepted, second.duplicates) == (2, 0, 2)
    assert SqlDeadLetters(runtime.engine).count() == 1  # the same bad record: one row
    assert sorted(p.name for p in (tmp_path / "inbox" / "failed").iterdir()) == [
        "bad_value.txt", "bad_value.txt.1", "bad_value.txt.1.result.ndjson",
        "bad_value.txt.result.ndjson"]


def test_done_marker_and_stable_size_rules(tmp_path: Path, pipeline: Pipeline) -> None:
    inbox = tmp_path / "inbox"
    marker = DirectoryPoller(DirectorySource.model_validate({
        **directory("m", "fw-orders", inbox).model_dump(), "complete": "done_marker"}),
        pipeline, tmp_path)
    write_input("bad_value.txt", {}, inbox)
    assert asyncio.run(marker.run_once()).records == 0
    (inbox / "bad_value.txt.done").write_text("")
    assert asyncio.run(marker.run_once()).records == 3
    assert (inbox / "failed" / "bad_value.txt.done").exists()
    stable = DirectoryPoller(DirectorySource.model_validate({
        **directory("s", "fw-orders", inbox).model_dump(), "complete": "stable"}),
        pipeline, tmp_path)
    shutil.copy(REASONS / "missing_field.txt", inbox / "next.txt")
    assert asyncio.run(stable.run_once()).records == 0  # first sight
    assert asyncio.run(stable.run_once()).records == 3  # same size and time: complete


def test_replay_after_fixing_the_payload_then_never_again(tmp_path: Path, runtime: Runtime,
                                                          pipeline: Pipeline) -> None:
    config = directory("drop", "fw-orders", tmp_path / "inbox")
    write_input("bad_value.txt", {}, tmp_path / "inbox")
    asyncio.run(DirectoryPoller(config, pipeline, tmp_path).run_once())
    letters = SqlDeadLetters(runtime.engine)
    (letter,) = letters.list()
    again = pipeline.replay(letter.id)  # unchanged: fails again, counted
    assert (again.status, again.reason) == ("dead_letter", "bad_value")
    fixed = letter.payload.replace(b"ORDBV-2        Z", b"ORDBV-2        N")
    outcome = pipeline.replay(letter.id, payload=fixed)
    assert outcome.status == "accepted" and outcome.event_id is not None
    stored = letters.get(letter.id)
    assert stored is not None
    assert (stored.status, stored.attempts, stored.replayed_event_id) == (
        "replayed", 3, outcome.event_id)
    e = tables.events
    with runtime.engine.connect() as conn:
        payload = conn.execute(select(e.c.payload).where(e.c.id == outcome.event_id)).scalar()
    event = orjson.loads(payload)
    assert event["order"]["id"] == "BV-2" and event["batch"]["id"] == "0001"  # header kept
    with pytest.raises(AlreadyReplayed):
        pipeline.replay(letter.id)


def test_replay_after_fixing_the_layout(tmp_path: Path, runtime: Runtime, ingest_project: Path,
                                        pipeline: Pipeline) -> None:
    config = directory("drop", "fw-orders", tmp_path / "inbox")
    write_input("bad_value.txt", {}, tmp_path / "inbox")
    asyncio.run(DirectoryPoller(config, pipeline, tmp_path).run_once())
    (letter,) = SqlDeadLetters(runtime.engine).list()
    layout = ingest_project / "layouts" / "orders_fixed_width.yaml"
    layout.write_text(layout.read_text().replace("allowed: [N, C, X]", "allowed: [N, C, X, Z]"))
    pipeline._decoders.clear()  # a new process (or the CLI) reads the layout afresh
    assert pipeline.replay(letter.id).status == "accepted"


def test_replay_of_a_routing_failure_takes_the_decoded_record(
        tmp_path: Path, runtime: Runtime, pipeline: Pipeline) -> None:
    config = directory("drop", "order.placed", tmp_path / "inbox")
    write_input("render_error.ndjson", {}, tmp_path / "inbox")
    asyncio.run(DirectoryPoller(config, pipeline, tmp_path).run_once())
    (letter,) = SqlDeadLetters(runtime.engine).list()
    record = orjson.loads(letter.payload)
    record["order"]["customer"]["name"] = "Rn Two"
    outcome = pipeline.replay(letter.id, payload=orjson.dumps(record))
    assert outcome.status == "accepted"


def test_payload_is_capped(tmp_path: Path, runtime: Runtime, pipeline: Pipeline) -> None:
    job = Job("queue", "order.placed", "acme", "queue:big")
    body = b'{"order": ' + b" " * (MAX_PAYLOAD_BYTES + 10)
    pipeline.message(job, body)
    (letter,) = SqlDeadLetters(runtime.engine).list()
    assert letter.truncated and len(letter.payload) == MAX_PAYLOAD_BYTES
    assert letter.payload_bytes == len(body)
    with pytest.raises(ValueError, match="truncated"):
        pipeline.replay(letter.id)
