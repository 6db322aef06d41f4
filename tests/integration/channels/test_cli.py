"""The operator's commands: sync, channels, providers, statuses, communication channels,
messages add."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tidings.cli import cli


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """SQLite only: the service under these commands runs on both databases elsewhere."""
    return f"sqlite:///{tmp_path / 'cli.db'}"


def run(project: Path, db_url: str, *args: str, env: dict[str, str] | None = None) -> Result:
    result = CliRunner().invoke(cli, ["--project", str(project), "--database-url", db_url,
                                      *args], env=env, catch_exceptions=False)
    return result


def test_operator_commands(project_dir: Path, db_url: str, tmp_path: Path) -> None:
    synced = run(project_dir, db_url, "sync")
    assert synced.exit_code == 0 and "created\tprovider capture" in synced.output
    assert "already matches" in run(project_dir, db_url, "sync").output
    assert run(project_dir, db_url, "channels", "add", "sms", "--code", "2",
               "--kind", "sms").exit_code == 0
    taken = run(project_dir, db_url, "channels", "add", "fax", "--code", "2", "--kind", "print")
    assert taken.exit_code != 0 and "taken" in taken.output
    made = run(project_dir, db_url, "providers", "add", "sms-1", "--channel", "sms",
               "--type", "capture", "--interval-min", "08:00:00", "--interval-max", "20:00:00",
               "--secret-env", "SMS_TOKEN", "--setting", "default_region=DE",
               "--setting", "max_segments=3")
    assert made.exit_code == 0, made.output
    shown = json.loads(made.stdout)
    assert shown["settings"] == {"default_region": "DE", "max_segments": 3}
    assert shown["secret_env"] == "SMS_TOKEN" and shown["origin"] == "operator"
    changed = run(project_dir, db_url, "providers", "set", "capture", "--bulk-size", "7",
                  "--open-tracking", env={"TIDINGS_PROVIDER_RATE_PER_SECOND": "12.5"})
    assert changed.exit_code == 0, changed.output
    config = json.loads(changed.stdout)
    assert (config["bulk_size"], config["open_tracking"], config["rate_per_second"]) == (
        7, True, 12.5)
    assert "capture\temail\tcapture\tbulk 7\t12.5/s" in run(project_dir, db_url, "providers",
                                                            "list").output
    status = run(project_dir, db_url, "providers", "status-set", "capture", "250", "fail",
                 "--description", "sandbox")
    assert status.stdout.strip() == "capture\t250\tfail\tsandbox"
    assert "250\tfail\tsandbox" in run(project_dir, db_url, "providers", "statuses",
                                       "capture").output
    comm = run(project_dir, db_url, "communication-channels", "add", "texts", "--channel", "sms",
               "--provider", "sms-1", "--entity", "customer")
    assert comm.exit_code == 0, comm.output
    assert "texts\tsms\tsms-1\tcustomer" in run(project_dir, db_url, "communication-channels",
                                               "list").output
    in_use = run(project_dir, db_url, "providers", "remove", "sms-1")
    assert in_use.exit_code != 0 and "communication channel texts" in in_use.output
    kept = run(project_dir, db_url, "sync")
    assert "kept\tprovider capture" in kept.output


def test_messages_add(project_dir: Path, db_url: str, tmp_path: Path) -> None:
    invoice = tmp_path / "invoice.pdf"
    invoice.write_bytes(b"%PDF-1.4\n%x\n")
    added = run(project_dir, db_url, "messages", "add", "--tenant", "acme",
                "--to", "ada@example.com", "--cc", "carl@example.com", "--subject", "Invoice",
                "--text", "Attached.", "--attach", str(invoice),
                "--start", "2030-01-01T08:00:00+00:00", "--interval-min", "08:00:00",
                "--interval-max", "18:00:00", "--idempotency-key", "inv-1")
    assert added.exit_code == 0, added.output
    message_id, status, provider, due = added.stdout.strip().split("\t")
    assert (status, provider, due) == ("queued", "capture", "due 2030-01-01T08:00:00+00:00")
    again = run(project_dir, db_url, "messages", "add", "--tenant", "acme", "--to",
                "ada@example.com", "--text", "Attached.", "--idempotency-key", "inv-1")
    assert again.stdout.split("\t")[:2] == [message_id, "exists"]
    shown = json.loads(run(project_dir, db_url, "messages", "show", message_id, "--tenant",
                           "acme").stdout)
    assert shown["state"] == "queued" and shown["window_start"] == "08:00:00"
    assert shown["cc_addrs"] == ["carl@example.com"]
    refused = run(project_dir, db_url, "messages", "add", "--tenant", "acme", "--to", "nobody",
                  "--text", "x")
    assert refused.exit_code != 0 and "/to/0" in refused.output
