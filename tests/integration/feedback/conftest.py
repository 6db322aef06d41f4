"""A scaffolded project with a tracked welcome email, and a runtime and API client on it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.helpers import TENANT, make_runtime
from tidings.api.app import create_app
from tidings.clock import FakeClock
from tidings.runtime.core import Runtime

WELCOME_HTML = ('<!doctype html><html><body><p>Hi {{ customer.name }}, see '
                '<a href="{{ link }}">your account</a> or '
                '<a href="mailto:help@acme.example">write to us</a>.</p></body></html>')
RULE = '''[[message_types]]
name = "account.welcome"
tenant = "acme"
schema = "schemas/account.welcome.json"

[[rules]]
name = "welcome-email"
tenant = "acme"
message_type = "account.welcome"
to = ["/customer/email"]
template = "welcome"

'''


def feedback_project(folder: Path, feedback: str = "", tracking: bool = True) -> Path:
    """Add the welcome email (a link, so something to track) and a ``[feedback]`` table."""
    path = folder / "tidings.toml"
    text = path.read_text()
    if tracking:
        text = text.replace('retry_max_interval = "01:00:00"\n',
                            'retry_max_interval = "01:00:00"\nopen_tracking = true\n'
                            'click_tracking = true\n', 1)
    text = text.replace("[[rules]]", RULE + "[[rules]]", 1)
    path.write_text(text + ("\n[feedback]\n" + feedback if feedback else ""))
    (folder / "schemas" / "account.welcome.json").write_text(
        '{"type": "object", "required": ["customer"]}')
    (folder / "templates" / "welcome").mkdir()
    (folder / "templates" / "welcome" / "subject.txt").write_text("Welcome {{ customer.name }}")
    (folder / "templates" / "welcome" / "body.html").write_text(WELCOME_HTML)
    return folder


def welcome(n: int = 1, email: str | None = None, link: str = "https://shop.example/account",
            **data: Any) -> dict[str, Any]:
    return {"type": "account.welcome", "id": f"W-{n}",
            "data": {"customer": {"email": email or f"c{n}@example.com", "name": f"C{n}"},
                     "link": link, **data}}


@pytest.fixture
def feedback_toml() -> str:
    return ""


@pytest.fixture
def runtime(project_dir: Path, db_url: str, clock: FakeClock,
            feedback_toml: str) -> Iterator[Runtime]:
    feedback_project(project_dir, feedback_toml)
    runtime = make_runtime(project_dir, db_url, clock)
    yield runtime
    runtime.close()


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime)) as test_client:
        test_client.headers["Authorization"] = \
            f"Bearer {runtime.keys.create(TENANT, 'test', runtime.clock.now())}"
        yield test_client
