"""The ``tidings`` command as a user runs it (a subprocess, a real project folder)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from tidings.cli import cli
from tidings.settings import Settings


def tidings(*args: str, env: dict[str, str] | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tidings", *args], capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, **(env or {})})


def _commands(group: object, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [prefix]
    for name, command in getattr(group, "commands", {}).items():
        found += _commands(command, (*prefix, name))
    return found


def test_every_command_has_help_and_every_flag_names_its_env_var() -> None:
    runner = CliRunner()
    for path in _commands(cli):
        result = runner.invoke(cli, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        command = cli
        for name in path:
            command = command.commands[name]  # type: ignore[attr-defined]
        for param in command.params:
            if param.param_type_name == "option" and param.name not in ("help", "version"):
                assert param.envvar, (path, param.name)
                flat = " ".join(result.output.split())
                assert f"env var: {param.envvar}" in flat, (path, param.name)


def test_init_then_check(tmp_path: Path) -> None:
    folder = tmp_path / "shop"
    made = tidings("init", str(folder))
    assert made.returncode == 0, made.stderr
    assert (folder / "tidings.toml").exists() and (folder / "templates").is_dir()
    ok = tidings("--project", str(folder), "check")
    assert ok.returncode == 0 and "ok" in ok.stdout
    again = tidings("init", str(folder))
    assert again.returncode != 0 and "not empty" in again.stderr


def test_check_reports_file_and_line(tmp_path: Path) -> None:
    folder = tmp_path / "shop"
    tidings("init", str(folder))
    config = folder / "tidings.toml"
    config.write_text(config.read_text().replace('template = "order_shipped"',
                                                 'template = "order_shiped"'))
    line = next(i for i, t in enumerate(config.read_text().splitlines(), 1) if "order_shiped" in t)
    result = tidings("--project", str(folder), "check")
    assert result.returncode == 1
    assert f"tidings.toml:{line}: rule 'shipped-email': no template 'order_shiped'" in result.stdout


def test_project_dir_from_environment(tmp_path: Path) -> None:
    folder = tmp_path / "shop"
    tidings("init", str(folder))
    result = tidings("check", env={"TIDINGS_PROJECT_DIR": str(folder)})
    assert result.returncode == 0, result.stdout + result.stderr


def test_db_upgrade_matches_models(tmp_path: Path, db_url: str) -> None:
    folder = tmp_path / "shop"
    tidings("init", str(folder))
    env = {"TIDINGS_DATABASE_URL": db_url}
    assert tidings("--project", str(folder), "db", "upgrade", env=env).returncode == 0
    result = tidings("--project", str(folder), "db", "check", env=env)
    assert result.returncode == 0 and "matches" in result.stdout, result.stdout


@pytest.mark.parametrize("secret", ["", "changeme", "tidings-dev-secret", "short"])
def test_placeholder_secrets_refused_outside_development(secret: str) -> None:
    with pytest.raises(ValueError, match="TIDINGS_SECRET_KEY"):
        Settings(environment="production", secret_key=secret)
    assert Settings(environment="development", secret_key=secret)


def test_real_secret_accepted_in_production() -> None:
    assert Settings(environment="production", secret_key="k" * 48).environment == "production"


def test_serve_refuses_placeholder_secret(tmp_path: Path) -> None:
    folder = tmp_path / "shop"
    tidings("init", str(folder))
    result = tidings("--project", str(folder), "serve",
                     env={"TIDINGS_ENVIRONMENT": "production", "TIDINGS_SECRET_KEY": "changeme"})
    assert result.returncode != 0 and "TIDINGS_SECRET_KEY" in result.stderr


def test_demo_delivers_to_capture(tmp_path: Path) -> None:
    result = tidings("demo", "--exit", "--directory", str(tmp_path / "demo"), timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "-> 202" in result.stdout and "-> 422 application/problem+json" in result.stdout
    sent = [line for line in result.stdout.splitlines()
            if line.strip().startswith("#") and " sent " in line]
    assert len(sent) == 7, result.stdout   # 3 confirmations, 1 big-order alert, 3 shipments
    listed = tidings("--project", str(tmp_path / "demo"), "messages", "list", "--tenant", "acme")
    assert listed.stdout.count("\tsent\t") == 7
    raw = tidings("--project", str(tmp_path / "demo"), "messages", "show", "1", "--tenant",
                  "acme", "--raw")
    assert "Message-ID: <" in raw.stdout and "multipart/alternative" in raw.stdout
