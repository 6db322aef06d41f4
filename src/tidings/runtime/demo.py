"""``tidings demo``: a project in a temporary folder, served, with real order events.

It makes the example project, creates an API key, serves the API with two
dispatchers on the capture provider, posts a batch of orders over HTTP (and
one bad request, to show the error answer), waits until every message is
delivered, and prints where to look.
"""

from __future__ import annotations

import socket
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from tidings.api.app import create_app
from tidings.portal import demo as portal_demo
from tidings.project import scaffold
from tidings.runtime.core import Runtime
from tidings.settings import Settings

__all__ = ["demo_events", "run"]

DELIVERY_TIMEOUT_SECONDS = 60.0
TENANT = "acme"


def demo_events() -> list[dict[str, Any]]:
    customers = [("Ada Lovelace", "ada@example.com", "en"),
                 ("Jürgen Müller", "juergen@example.de", "de"),
                 ("Grace Hopper", "grace@example.com", "en-US")]
    events: list[dict[str, Any]] = []
    for n, (name, email, locale) in enumerate(customers, start=1):
        order_id = f"SO-{1000 + n}"
        lines: list[dict[str, Any]] = [
            {"sku": "TENT-2P", "name": "Two-person tent", "qty": 1, "price": 249.0},
            {"sku": "STOVE-01", "name": "Camping stove", "qty": n, "price": 89.5}]
        total = round(sum(float(x["qty"]) * float(x["price"]) for x in lines), 2)
        customer = {"name": name, "email": email, "locale": locale}
        events.append({"type": "order.confirmed", "id": f"{order_id}-confirmed", "data": {
            "order": {"id": order_id, "placed_at": "2026-11-23T09:30:00Z", "total": total,
                      "currency": "EUR" if locale == "de" else "USD", "lines": lines},
            "customer": customer}})
        events.append({"type": "order.shipped", "id": f"{order_id}-shipped", "data": {
            "order": {"id": order_id, "status": "shipped"}, "customer": customer,
            "shipment": {"carrier": "DHL", "tracking_number": f"00340434{n:06d}",
                         "tracking_url": f"https://track.example/{n}"}}})
    return events


def run(directory: Path | None, port: int, exit_after: bool,
        echo: Callable[[str], None] = print) -> int:
    folder = directory or Path(tempfile.mkdtemp(prefix="tidings-demo-"))
    scaffold.write(folder, force=True)
    port = port or _free_port()
    runtime = Runtime(Settings(project_dir=folder, environment="development", port=port))
    runtime.migrate()
    key = runtime.keys.create(TENANT, "demo", runtime.clock.now())
    server = uvicorn.Server(uvicorn.Config(create_app(runtime), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, name="http", daemon=True)
    thread.start()
    background = runtime.start(2)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_up(base)
        ok = _play(base, key, runtime, echo)
        _where_to_look(folder, base, key, echo)
        echo(portal_demo.describe(base, portal_demo.create_users(runtime, TENANT)))
        if ok and not exit_after:
            echo("\nServing until Ctrl-C.")
            while thread.is_alive():
                thread.join(0.5)
        return 0 if ok else 1
    except KeyboardInterrupt:
        return 0
    finally:
        server.should_exit = True
        thread.join(10)
        background.shutdown()
        runtime.close()


def _play(base: str, key: str, runtime: Runtime, echo: Callable[[str], None]) -> bool:
    headers = {"Authorization": f"Bearer {key}", "Idempotency-Key": "demo-batch-1"}
    with httpx.Client(base_url=base, timeout=30) as client:
        answer = client.post("/v1/events", json={"events": demo_events()}, headers=headers)
        echo(f"POST /v1/events (6 order events) -> {answer.status_code}")
        accepted = answer.json()["events"] if answer.status_code == 202 else []
        ids = [m for e in accepted for m in e["messages"]]
        bad = client.post("/v1/events", headers={"Authorization": f"Bearer {key}"},
                          json={"type": "order.shipped", "data": {"order": {"id": "X"}}})
        echo(f"POST /v1/events (an event missing its customer) -> {bad.status_code} "
             f"{bad.headers.get('content-type')}: {bad.json().get('errors', [])[:1]}")
    deadline = time.monotonic() + DELIVERY_TIMEOUT_SECONDS
    while runtime.outbox.pending() and time.monotonic() < deadline:
        time.sleep(0.1)
    rows = runtime.outbox.list(TENANT, limit=100)
    echo(f"\n{len(ids)} messages queued; delivered to the capture provider:")
    for row in sorted(rows, key=lambda r: r["id"]):
        echo(f"  #{row['id']:<3} {row['state']:<9} {row['recipient']:<22} {row['subject']}")
    return bool(ids) and all(r["state"] == "sent" for r in rows) and len(rows) == len(ids)


def _where_to_look(folder: Path, base: str, key: str, echo: Callable[[str], None]) -> None:
    echo(f"""
Where to look:
  project folder   {folder}   (tidings.toml, templates/, schemas/, tidings.db)
  API docs         {base}/docs
  messages         curl -H 'Authorization: Bearer {key}' {base}/v1/messages
  one message      curl -H 'Authorization: Bearer {key}' {base}/v1/messages/1
  as sent (MIME)   curl -H 'Authorization: Bearer {key}' {base}/v1/messages/1/raw
  from the CLI     tidings --project {folder} messages list --tenant {TENANT}
                   tidings --project {folder} messages show 1 --tenant {TENANT} --raw""")


def _wait_up(base: str) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.05)
    raise RuntimeError("the demo server did not start")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
