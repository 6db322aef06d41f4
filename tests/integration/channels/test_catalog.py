"""The operator's objects in the database: seeding, operator edits, sync, conflicts."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import make_runtime
from tests.integration.channels.projects import FAILOVER
from tidings.channels import service
from tidings.clock import FakeClock
from tidings.runtime.core import Runtime


def test_first_read_seeds_from_the_project(runtime: Runtime) -> None:
    catalog = runtime.channels.catalog()
    assert list(catalog.providers) == ["capture", "capture-b"]
    assert catalog.communication["mail"].providers == ["capture", "capture-b"]
    assert catalog.origin("provider", "capture") == "project"
    assert {r.code for r in catalog.statuses.rows("capture-b")} >= {"250", "bounce"}
    assert runtime.channels.catalog() is catalog          # same version: no reload


def test_operator_edit_survives_sync_until_reset(runtime: Runtime) -> None:
    before = runtime.channels.catalog().version
    runtime.channels.update("provider", "capture", {"bulk_size": 3, "rate_per_second": 5,
                                                    "interval_min": "08:00:00"})
    after = runtime.channels.catalog()
    assert after.version > before and after.origin("provider", "capture") == "operator"
    assert after.providers["capture"].bulk_size == 3
    report = runtime.channels.sync()
    assert report.kept == ["provider capture"] and not report.changed
    assert runtime.channels.get("provider", "capture").bulk_size == 3  # type: ignore[union-attr]
    report = runtime.channels.sync(reset=True)
    assert report.updated == ["provider capture"]
    assert runtime.channels.get("provider", "capture").bulk_size == 100  # type: ignore[union-attr]
    assert runtime.channels.sync().changed is False


def test_create_validate_and_delete(runtime: Runtime) -> None:
    runtime.channels.create("channel", {"name": "sms", "code": 2, "kind": "sms"})
    with pytest.raises(service.Conflict, match="code 2 is taken"):
        runtime.channels.create("channel", {"name": "fax", "code": 2, "kind": "print"})
    with pytest.raises(service.Invalid) as invalid:
        runtime.channels.create("provider", {"name": "x", "channel": "nope", "type": "capture",
                                             "bulk_size": 0})
    assert {p for p, _ in invalid.value.errors} == {"/bulk_size"}
    with pytest.raises(service.Invalid, match="no channel 'nope'"):
        runtime.channels.create("provider", {"name": "x", "channel": "nope", "type": "capture"})
    runtime.channels.create("provider", {"name": "sms-1", "channel": "sms", "type": "capture"})
    assert runtime.channels.statuses("sms-1")                      # seeded for its type
    with pytest.raises(service.Invalid, match="is on channel 'sms'"):
        runtime.channels.update("communication", "mail", {"providers": ["capture", "sms-1"]})
    with pytest.raises(service.Conflict, match="in use: provider sms-1"):
        runtime.channels.delete("channel", "sms")
    with pytest.raises(service.Conflict, match="communication channel mail"):
        runtime.channels.delete("provider", "capture-b")
    runtime.channels.delete("provider", "sms-1")
    runtime.channels.delete("channel", "sms")
    with pytest.raises(service.NotFound):
        runtime.channels.get("channel", "sms")


def test_status_rows_edit_and_sync(runtime: Runtime) -> None:
    runtime.channels.set_status("capture", "250", "fail", "sandbox")
    assert runtime.channels.catalog().statuses.action_for("capture", "250") == "fail"
    runtime.channels.sync()
    assert runtime.channels.catalog().statuses.action_for("capture", "250") == "fail"
    runtime.channels.delete_status("capture", "250")
    assert runtime.channels.catalog().statuses.action_for("capture", "250") is None
    runtime.channels.sync()                                       # the seed comes back
    assert runtime.channels.catalog().statuses.action_for("capture", "250") == "sent"
    with pytest.raises(service.Invalid):
        runtime.channels.set_status("capture", "250", "explode")
    with pytest.raises(service.NotFound):
        runtime.channels.set_status("ghost", "250", "sent")


def test_file_removal_deletes_project_objects(runtime: Runtime, project_dir: Path,
                                              db_url: str, clock: FakeClock) -> None:
    runtime.channels.catalog()
    path = project_dir / "tidings.toml"
    path.write_text(path.read_text().replace(FAILOVER, ""))
    fresh = make_runtime(project_dir, db_url, clock)
    try:
        report = fresh.channels.sync()
        assert "provider capture-b" in report.removed and "communication mail" in report.removed
        assert list(fresh.channels.catalog().providers) == ["capture"]
    finally:
        fresh.close()
