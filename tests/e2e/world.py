"""The world the end-to-end tests look at: a served portal with users, orders and messages.

``World.start`` scaffolds a project whose order confirmations go to a local SMTP server that
refuses ``gone@`` recipients (a real 550 bounce through the real dispatcher), serves the API
and portal with uvicorn on a free port, runs the dispatcher and SLA loops in the background,
creates one user of each role (plus a second supplier), records orders of two suppliers at
two retailers over the last weeks (late, on time, overdue), and posts order events.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from aiosmtpd.controller import Controller
from argon2 import PasswordHasher, profiles
from sqlalchemy import update

from tidings.api.app import create_app
from tidings.project import scaffold
from tidings.runtime.core import Runtime
from tidings.runtime.demo import demo_events
from tidings.settings import Settings
from tidings.sla.parties import Viewer
from tidings.storage import tables

TENANT = "acme"
RETAILERS = ("acme-stores", "globex")
SUPPLIERS = ("bright-socks", "cosy-feet")
BOUNCING = "gone@example.com"
BOUNCE_REPLY = "5.1.1 <gone@example.com>: Recipient address rejected: User unknown"
PASSWORD = "correct-horse-battery"
USERS = {  # role key -> (login, role, party)
    "operator": ("ops@acme.example", "operator", None),
    "retailer": ("buyer@acme-stores.example", "retailer", "acme-stores"),
    "supplier": ("cs@bright-socks.example", "supplier", "bright-socks"),
    "supplier2": ("cs@cosy-feet.example", "supplier", "cosy-feet"),
    "business_unit": ("lead@web-shop.example", "business_unit", "web-shop"),
}
RULES = {"ack": {"obligation": "acknowledge", "deadline": {"hours": 24}, "is_default": True},
         "ship": {"obligation": "ship", "deadline": {"hours": 72}, "is_default": True}}
ORDERS_PER_PAIR = 8
DELIVERY_TIMEOUT_SECONDS = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Refusing:
    """An SMTP handler that bounces ``gone@`` at RCPT (550) and accepts everyone else."""

    def __init__(self) -> None:
        self.received: list[bytes] = []

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          options: list[str]) -> str:
        if address.lower().startswith("gone@"):
            return f"550 {BOUNCE_REPLY}"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append(bytes(envelope.original_content or envelope.content))
        return "250 2.0.0 Ok: queued"


def write_project(folder: Path, smtp_port: int) -> None:
    scaffold.write(folder)
    path = folder / "tidings.toml"
    text = path.read_text()
    smtp = (f'[[providers]]\nname = "smtp"\nchannel = "email"\ntype = "smtp"\n'
            f'from_address = "ACME Outdoor <orders@acme.example>"\n'
            f'retry_interval = "00:00:01"\nretry_max_interval = "00:00:05"\n'
            f'settings = {{ host = "127.0.0.1", port = {smtp_port}, security = "none" }}\n\n')
    first_rule = text.index("[[rules]]")
    text = text[:first_rule] + smtp + text[first_rule:]
    text = text.replace('name = "confirmation-email"\n',
                        'name = "confirmation-email"\nprovider = "smtp"\n', 1)
    path.write_text(text)


@dataclass
class World:
    base: str
    runtime: Runtime
    smtp: Refusing
    logins: dict[str, str] = field(default_factory=dict)
    orders: dict[str, list[int]] = field(default_factory=dict)  # supplier -> order ids
    stop: list[Any] = field(default_factory=list)

    @classmethod
    def start(cls, folder: Path) -> World:
        handler = Refusing()
        smtp = Controller(handler, hostname="127.0.0.1", port=free_port())
        smtp.start()
        write_project(folder, smtp.port)
        port = free_port()
        settings = Settings(project_dir=folder, environment="test", secret_key="e2e-" * 10,
                            port=port, public_url=f"http://127.0.0.1:{port}",
                            database_url=f"sqlite:///{folder / 'tidings.db'}")
        runtime = Runtime(settings)
        runtime.migrate()
        app = create_app(runtime)
        app.state.portal.accounts.hasher = PasswordHasher.from_parameters(profiles.CHEAPEST)
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                               log_level="warning"))
        thread = threading.Thread(target=server.run, name="e2e-http", daemon=True)
        thread.start()
        background = runtime.start(1)
        world = cls(f"http://127.0.0.1:{port}", runtime, handler)
        world.stop = [smtp, server, thread, background]
        world._wait_up()
        world._users(app)
        world._orders()
        world._messages()
        return world

    def close(self) -> None:
        smtp, server, thread, background = self.stop
        server.should_exit = True
        thread.join(10)
        background.shutdown(10)
        smtp.stop()
        self.runtime.close()

    def _wait_up(self) -> None:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.base + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError("the portal did not start")

    def _users(self, app: Any) -> None:
        from tidings.portal.accounts import Role
        accounts = app.state.portal.accounts
        for key, (login, role, party) in USERS.items():
            accounts.add(login, PASSWORD, Role(role), TENANT, party, self.runtime.clock.now(),
                         name=key.replace("_", " ").title())
            self.logins[key] = login

    # -- orders: late, on time and overdue, over the last weeks -----------------------------

    def _orders(self) -> None:
        service, operator = self.runtime.sla.service, Viewer.operator(TENANT)
        for retailer in RETAILERS:
            for rule_id, rule in RULES.items():
                service.put_rule(operator, retailer, rule_id, rule)
        now = self.runtime.clock.now()
        for supplier in SUPPLIERS:
            events = [e for n, retailer in enumerate(RETAILERS)
                      for i in range(ORDERS_PER_PAIR)
                      for e in _order_events(supplier, retailer, n * 100 + i, now)]
            recorded = service.record(operator, events, "e2e")
            self.orders[supplier] = sorted({r.order_id for r in recorded})
        self.runtime.sla.timers.drain()

    # -- messages: order events over HTTP, one of them to an address that bounces ------------

    def _messages(self) -> None:
        key = self.runtime.keys.create(TENANT, "e2e", self.runtime.clock.now())
        events = demo_events()
        bounce = dict(events[0], id="SO-1999-confirmed")
        bounce["data"] = {**events[0]["data"], "customer": {
            "name": "Gone Away", "email": BOUNCING, "locale": "en"}}
        bounce["data"]["order"] = {**events[0]["data"]["order"], "id": "SO-1999"}
        answer = httpx.post(self.base + "/v1/events", json={"events": [*events, bounce]},
                            headers={"Authorization": f"Bearer {key}"}, timeout=30)
        assert answer.status_code == 202, answer.text
        self.wait_settled()
        with self.runtime.engine.begin() as conn:  # nothing in the pipeline sets it yet
            conn.execute(update(tables.messages).values(business_unit="web-shop"))

    def wait_settled(self) -> None:
        deadline = time.monotonic() + DELIVERY_TIMEOUT_SECONDS
        while self.runtime.outbox.pending() and time.monotonic() < deadline:
            time.sleep(0.05)

    def message_id(self, recipient: str) -> int:
        rows = self.runtime.outbox.list(TENANT, recipient=recipient, limit=1)
        return int(rows[0]["id"])


def _order_events(supplier: str, retailer: str, n: int, now: datetime
                  ) -> Iterator[tuple[str, dict[str, Any], str | None]]:
    """One order and its answers: ``n % 4`` picks acknowledged late, on time, never (overdue),
    or acknowledged and shipped; older orders first, about two days apart."""
    ref = f"PO-{supplier[:2].upper()}-{retailer[:2].upper()}-{1000 + n}"
    submitted = now - timedelta(days=1.2 + 2.1 * (n % 100))
    order = {"id": ref, "retailer": {"id": retailer, "name": retailer.title()},
             "supplier": {"id": supplier, "name": supplier.title()},
             "lines": [{"sku": "SOCK-1", "qty": 12}]}
    yield "order.submitted", {"order": order, "occurred_at": _iso(submitted)}, f"{ref}-sub"
    # Late: past any 24-hour deadline, weekends included.
    ack_after = {0: timedelta(hours=100), 1: timedelta(hours=5), 3: timedelta(hours=2)}
    after = ack_after.get(n % 4)
    if after is not None and submitted + after < now:
        yield ("order.acknowledged", {"order": {"id": ref, "supplier": supplier},
                                      "occurred_at": _iso(submitted + after)}, f"{ref}-ack")
    if n % 4 == 3 and submitted + timedelta(hours=50) < now:
        yield ("order.shipped", {"order": {"id": ref, "supplier": supplier},
                                 "shipment": {"id": f"{ref}-S1", "carrier": "DHL",
                                              "tracking_numbers": [f"00340{n:08d}"],
                                              "complete": True},
                                 "occurred_at": _iso(submitted + timedelta(hours=50))},
               f"{ref}-ship")


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat()
