"""``tidings sla``: rule files, party keys, one tick of timers and digests, the CSV list."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner, Result

from tests.helpers import TENANT, make_runtime
from tests.integration.sla.factories import RETAILER, SUPPLIER
from tidings.cli import cli
from tidings.sla.parties import Viewer

RULES_FILE = """
[[retailers]]
id = "acme-stores"
name = "Acme Stores"
calendar = { timezone = "America/New_York", holidays_country = "US", cutoff = "14:00" }

[[retailers.rules]]
id = "ack"
obligation = "acknowledge"
deadline = { business_days = 1 }
is_default = true

[[retailers.rules]]
id = "ship-express"
obligation = "ship"
deadline = { hours = 4 }
condition = "order.ship_method == 'express'"
priority = 10
"""


def run(project: Path, db_url: str, *args: str) -> Result:
    result = CliRunner().invoke(cli, ["--project", str(project), "--database-url", db_url,
                                      "sla", *args])
    assert result.exit_code == 0, result.output
    return result


def test_rules_keys_tick_and_exceptions(project_dir: Path, tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'cli.db'}"  # the commands do not depend on the database
    rules = tmp_path / "rules.toml"
    rules.write_text(RULES_FILE)
    loaded = run(project_dir, db_url, "rules", "load", str(rules), "--tenant", TENANT)
    assert "acme-stores/ack" in loaded.output and "acme-stores/ship-express" in loaded.output
    book = json.loads(run(project_dir, db_url, "rules", "show", RETAILER, "-t", TENANT).stdout)
    assert book["name"] == "Acme Stores" and [r["id"] for r in book["rules"]] == \
        ["ack", "ship-express"]
    assert book["calendar"]["cutoff"] == "14:00"

    key = run(project_dir, db_url, "keys", "create", "-t", TENANT, "--supplier",
              SUPPLIER).stdout.strip()
    assert key.startswith("tdp_")
    assert f"supplier:{SUPPLIER}" in run(project_dir, db_url, "keys", "list").output

    runtime = make_runtime(project_dir, db_url)
    week_ago = (datetime.now(UTC) - timedelta(days=7)).isoformat()
    runtime.sla.service.record(Viewer.operator(TENANT), [("order.submitted", {
        "order": {"id": "PO-CLI", "retailer": RETAILER, "supplier": SUPPLIER,
                  "ship_method": "express"}, "occurred_at": week_ago}, None)])
    runtime.close()
    assert run(project_dir, db_url, "tick").stdout.strip() == \
        "warnings 2, overdue 2, digests 0"
    lines = run(project_dir, db_url, "exceptions", "-t", TENANT).stdout.splitlines()
    assert lines[0].startswith("id,retailer,supplier") and len(lines) == 3
    assert {line.split(",")[5] for line in lines[1:]} == {"acknowledge", "ship"}

    bad = tmp_path / "bad.toml"
    bad.write_text('[[retailers]]\nid = "x"\n[[retailers.rules]]\nid = "y"\n'
                   'obligation = "dance"\n')
    result = CliRunner().invoke(cli, ["--project", str(project_dir), "--database-url", db_url,
                                      "sla", "rules", "load", str(bad), "-t", TENANT])
    assert result.exit_code != 0 and "obligation must be one of" in result.output
