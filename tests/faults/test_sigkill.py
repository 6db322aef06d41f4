"""Kill ``tidings serve`` with SIGKILL while it delivers; restart; nothing is lost.

2,000 events are accepted over HTTP, the server is killed mid-delivery, then
started again. At the SMTP server every accepted message has arrived, and any
message that arrived twice carries the same Message-ID both times.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx

from tests.helpers import TENANT, order_confirmed
from tests.smtp_sink import SmtpServer, use_smtp
from tidings.storage import engine as engines
from tidings.storage.api_keys_sql import SqlApiKeys
from tidings.storage.outbox_sql import SqlOutbox

EVENTS = 2000
BATCH = 100


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(project: Path, db_url: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "TIDINGS_DATABASE_URL": db_url, "TIDINGS_LEASE_SECONDS": "3",
           "TIDINGS_MAINTENANCE_INTERVAL_SECONDS": "0.5", "TIDINGS_LOG_LEVEL": "warning"}
    process = subprocess.Popen(
        [sys.executable, "-m", "tidings", "--project", str(project), "serve", "--port",
         str(port), "--workers", "2"], env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise AssertionError(f"serve did not start:\n{log.read_text()}")


def test_sigkill_mid_delivery_loses_nothing(project_dir: Path, db_url: str,
                                            tmp_path: Path) -> None:
    with SmtpServer(delay_seconds=0.01) as smtp:
        use_smtp(project_dir, smtp.port, bulk_size=50)
        engine = engines.create(db_url)
        from tidings.storage import migrate
        migrate.upgrade(engine)
        from tidings.clock import SystemClock
        key = SqlApiKeys(engine).create(TENANT, "fault", SystemClock().now())
        port, log = _free_port(), tmp_path / "serve.log"
        server = _serve(project_dir, db_url, port, log)
        accepted: list[int] = []
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60,
                          headers={"Authorization": f"Bearer {key}"}) as client:
            for start in range(0, EVENTS, BATCH):
                batch = [order_confirmed(f"SO-{i}", email=f"c{i}@example.com", total=10.0)
                         for i in range(start, start + BATCH)]
                answer = client.post("/v1/events", json={"events": batch})
                assert answer.status_code == 202, answer.text
                accepted += [m for e in answer.json()["events"] for m in e["messages"]]
        assert len(accepted) == EVENTS
        while len(smtp.recorder.snapshot()) < EVENTS // 10:
            time.sleep(0.02)
        server.send_signal(signal.SIGKILL)
        server.wait(10)
        at_kill = len(smtp.recorder.snapshot())
        assert at_kill < EVENTS, "delivery had finished before the kill; slow the sink down"

        server = _serve(project_dir, db_url, port, log)
        outbox = SqlOutbox(engine)
        deadline = time.monotonic() + 180
        while outbox.pending() and time.monotonic() < deadline:
            time.sleep(0.2)
        server.send_signal(signal.SIGTERM)
        server.wait(30)
        received = smtp.recorder.snapshot()

    assert outbox.pending() == 0, log.read_text()[-3000:]
    expected = {outbox.get(TENANT, i)["message_id_header"]: outbox.get(TENANT, i)["recipient"]
                for i in accepted}
    by_id = Counter(r.parsed()["Message-ID"] for r in received)
    assert set(by_id) == set(expected), "a message was lost or invented"
    # a duplicate is a second copy of the same message, never a new Message-ID
    per_recipient = Counter(r.rcpt_tos[0] for r in received)
    for message_id, count in by_id.items():
        assert per_recipient[expected[message_id]] == count
    assert outbox.counts(TENANT) == {"sent": EVENTS}
    print(f"\nkilled after {at_kill} of {EVENTS}; received {len(received)}, "
          f"duplicates {len(received) - EVENTS}")
