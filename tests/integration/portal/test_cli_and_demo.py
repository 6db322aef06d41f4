"""``tidings users add|list|remove`` and the demo's users, signed in through the form."""

from __future__ import annotations

from pathlib import Path

from argon2 import PasswordHasher, profiles
from click.testing import CliRunner
from fastapi.testclient import TestClient

from tests.helpers import TENANT
from tests.integration.portal.conftest import sign_in_client
from tidings.api.app import create_app
from tidings.cli import cli
from tidings.portal import demo
from tidings.portal.accounts import Accounts
from tidings.runtime.core import Runtime


def test_users_add_list_remove(project_dir: Path, db_url: str, runtime: Runtime) -> None:
    runner = CliRunner()
    env = {"TIDINGS_DATABASE_URL": db_url, "TIDINGS_PROJECT_DIR": str(project_dir)}
    added = runner.invoke(cli, ["users", "add", "Ada@Bright-Socks.example", "--role",
                                "supplier", "--tenant", TENANT, "--party", "bright-socks"],
                          env=env)
    assert added.exit_code == 0, added.output
    assert "added ada@bright-socks.example: supplier for bright-socks" in added.output
    password = added.output.split("password: ", 1)[1].split()[0]
    with TestClient(create_app(runtime)) as client:
        assert sign_in_client(client, "ada@bright-socks.example", password).status_code == 303
    listed = runner.invoke(cli, ["users", "list", "--tenant", TENANT], env=env)
    assert "supplier\tbright-socks\tada@bright-socks.example" in listed.output
    assert password not in listed.output
    twice = runner.invoke(cli, ["users", "add", "ada@bright-socks.example", "--role",
                                "supplier", "--tenant", TENANT, "--party", "x"], env=env)
    assert twice.exit_code == 1 and "is taken" in twice.output
    for wrong in (["--role", "operator", "--party", "x"], ["--role", "retailer"],
                  ["--role", "business_unit", "--party", "nowhere"]):
        refused = runner.invoke(cli, ["users", "add", "b@x.example", "--tenant", TENANT,
                                      "--password", "long enough pw", *wrong], env=env)
        assert refused.exit_code == 1, wrong
    removed = runner.invoke(cli, ["users", "remove", "ada@bright-socks.example"], env=env)
    assert removed.exit_code == 0
    assert runner.invoke(cli, ["users", "remove", "ada@bright-socks.example"],
                         env=env).exit_code == 1


def test_the_demo_users_sign_in_to_their_start_pages(runtime: Runtime) -> None:
    cheap = Accounts(runtime.engine, PasswordHasher.from_parameters(profiles.CHEAPEST))
    made = demo.create_users(runtime, TENANT, cheap)
    assert {c.role.value for c in made} == {"operator", "retailer", "supplier", "business_unit"}
    again = demo.create_users(runtime, TENANT, cheap)  # a second run in the same folder
    app = create_app(runtime)
    for first, second in zip(made, again, strict=True):
        with TestClient(app) as client:
            assert sign_in_client(client, first.login, first.password).status_code == 401
            answer = sign_in_client(client, second.login, second.password)
            assert answer.status_code == 303, second.login
    text = demo.describe("http://127.0.0.1:1", again)
    assert all(c.password in text and c.login in text for c in again)
