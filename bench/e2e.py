#!/usr/bin/env python3
"""End to end: order events over HTTP -> rules -> render -> outbox -> SMTP (smtp-sink).

One command, a fresh project per configuration, the same sink for every run:

    .venv/bin/python bench/e2e.py            # 20,000 events; SQLite and PostgreSQL; 1 and 2 workers
    .venv/bin/python bench/e2e.py --quick    # 4,000 events, SQLite only, under two minutes

Engine layout per run: one ``tidings api`` process and N ``tidings worker``
processes (2 dispatcher threads each), SMTP to Debian's ``smtp-sink`` on
127.0.0.1. The load generator (this process) posts batches of 100 events with 4
concurrent clients and is not counted as engine CPU. Reported per run:
events/s accepted, emails/s delivered (first POST to last SMTP acceptance),
p50/p99 latency from the HTTP 202 to the recorded SMTP acceptance, engine CPU
per message (api + workers; the sink and PostgreSQL server are reported apart),
peak RSS per engine process. Then: a send-only drain (outbox already rendered),
a paced run at half the measured maximum for latency, and, in the same run and on
the same sink, the references measured by ../shared/peers (django-post-office
queue-then-send, smtp-source's wire limit), which this script calls, never copies.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
PEERS = ROOT.parent / "shared" / "peers"
RESULTS = ROOT / "bench" / "results"
PY = sys.executable
TIDINGS = [PY, "-m", "tidings"]
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
SMTP_SINK = shutil.which("smtp-sink") or "/usr/sbin/smtp-sink"
BATCH = 100
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "4"))
CLK_TCK = os.sysconf("SC_CLK_TCK")
PROFILE_DIR: Path | None = None  # --profile: py-spy collapsed stacks of every engine process
SEND_ONLY_START_S = 6.0  # workers import, connect and go idle before the messages fall due


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def proc_cpu_s(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def proc_hwm_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def pg_backends_cpu_s() -> float:
    """CPU of every postgres server process (the bench's own database is the only load)."""
    total = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/comm") as f:
                if f.read().strip() != "postgres":
                    continue
            total += proc_cpu_s(int(entry))
        except OSError:
            continue
    return total


def loadavg() -> float:
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


class Sink:
    def __init__(self) -> None:
        self.port = free_port()
        self.proc = subprocess.Popen([SMTP_SINK, "-u", "nobody", "-m", "256",
                                      f"127.0.0.1:{self.port}", "1024"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("smtp-sink did not start")

    def cpu_s(self) -> float:
        return proc_cpu_s(self.proc.pid)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(5)


def make_project(folder: Path, sink_port: int) -> None:
    subprocess.run([*TIDINGS, "init", str(folder)], check=True, stdout=subprocess.DEVNULL)
    config = folder / "tidings.toml"
    smtp = ('[[providers]]\nname = "sink"\nchannel = "email"\ntype = "smtp"\n'
            'from_address = "ACME Outdoor <orders@acme.example>"\nbulk_size = 100\n'
            f'settings = {{ host = "127.0.0.1", port = {sink_port}, security = "none" }}\n\n')
    text_ = config.read_text()
    config.write_text(text_.replace("# The embedded default", smtp + "# The embedded default", 1))


def event(i: int) -> dict[str, Any]:
    lines = [{"sku": f"SKU-{i % 97}", "name": "Two-person tent", "qty": 1 + i % 3,
              "price": 49.5}, {"sku": "STOVE-01", "name": "Camping stove", "qty": 1,
                               "price": 19.9}]
    total = round(sum(x["qty"] * x["price"] for x in lines), 2)
    return {"type": "order.confirmed", "id": f"SO-{i}-confirmed", "data": {
        "order": {"id": f"SO-{i}", "total": total, "currency": "EUR", "lines": lines},
        "customer": {"name": f"Customer {i}", "email": f"c{i}@example.com",
                     "locale": random.choice(["en", "en", "de"])}}}


@dataclass
class Engine:
    folder: Path
    db_url: str
    port: int
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        return {**os.environ, "TIDINGS_DATABASE_URL": self.db_url, "TIDINGS_LOG_LEVEL": "warning",
                "TIDINGS_PROJECT_DIR": str(self.folder)}

    def start_api(self) -> None:
        log = (self.folder / "api.log").open("ab")
        self.procs.append(subprocess.Popen([*TIDINGS, "api", "--port", str(self.port)],
                                           env=self.env(), stdout=log, stderr=log))
        self.profile(self.procs[-1], "api")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/healthz").status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError((self.folder / "api.log").read_text())

    def start_workers(self, n: int, threads: int = 2) -> None:
        for i in range(n):
            log = (self.folder / f"worker{i}.log").open("ab")
            self.procs.append(subprocess.Popen([*TIDINGS, "worker", "--workers", str(threads)],
                                               env=self.env(), stdout=log, stderr=log))
            self.profile(self.procs[-1], f"worker{i}")

    def profile(self, proc: subprocess.Popen[bytes], name: str) -> None:
        """With --profile DIR: py-spy samples the process until it exits (collapsed stacks)."""
        if PROFILE_DIR is None:
            return
        PROFILE_DIR.mkdir(parents=True, exist_ok=True)
        out = PROFILE_DIR / f"{self.folder.name}-{name}.txt"
        subprocess.Popen(["py-spy", "record", "--pid", str(proc.pid), "--format", "raw",
                          "--rate", "250", "--nonblocking", "--output", str(out),
                          *(["--idle"] if os.environ.get("BENCH_PROFILE_IDLE") else []),
                          *(["--gil"] if os.environ.get("BENCH_PROFILE_GIL") else [])],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def cpu_s(self) -> float:
        return sum(self.cpu_by_process())

    def cpu_by_process(self) -> list[float]:
        return [proc_cpu_s(p.pid) for p in self.procs]

    def hwm_mb(self) -> list[float]:
        return [round(proc_hwm_mb(p.pid), 1) for p in self.procs]

    def stop(self) -> None:
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()


AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"


def add_rabbit_source(folder: Path, queue: str) -> None:
    config = folder / "tidings.toml"
    config.write_text(config.read_text() + (
        f'\n[[sources]]\nname = "oms-queue"\ntype = "rabbitmq"\ntenant = "acme"\n'
        f'message_type = "order.confirmed"\nqueue = "{queue}"\nprefetch = 500\n'
        f'batch_size = 100\n'))


def publish_all(queue: str, n: int) -> tuple[dict[str, float], float]:
    """Publish n order payloads with publisher confirms; event id -> confirm time."""
    import asyncio

    import aio_pika

    async def run() -> dict[str, float]:
        confirmed: dict[str, float] = {}
        connection = await aio_pika.connect_robust(AMQP_URL)
        async with connection:
            channel = await connection.channel(publisher_confirms=True)
            await channel.declare_queue(queue, durable=True,
                                        arguments={"x-queue-type": "quorum"})
            for start in range(0, n, BATCH):
                pending = []
                for i in range(start, min(start + BATCH, n)):
                    e = event(i)
                    body = json.dumps(e["data"]).encode()
                    pending.append((e["id"], channel.default_exchange.publish(
                        aio_pika.Message(body, message_id=e["id"], content_type="application/json",
                                         delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                        routing_key=queue)))
                await asyncio.gather(*(confirm for _, confirm in pending))
                done = time.time()
                for key, _ in pending:
                    confirmed[key] = done
        return confirmed

    t0 = time.time()
    return asyncio.run(run()), t0


def run_rabbit(db: str, workers: int, n: int, sink: Sink) -> dict[str, Any]:
    """The same pipeline fed from a RabbitMQ quorum queue instead of HTTP."""
    folder = Path(tempfile.mkdtemp(prefix="tidings-bench-"))
    make_project(folder, sink.port)
    queue = f"tidings-bench-{random.randrange(16**8):08x}"
    add_rabbit_source(folder, queue)
    db_url, drop = make_db(db, folder)
    engine = Engine(folder, db_url, free_port())
    env = engine.env()
    subprocess.run([*TIDINGS, "db", "upgrade"], env=env, check=True, stdout=subprocess.DEVNULL)
    os.environ["TIDINGS_AMQP_URL"] = AMQP_URL
    try:
        engine.start_workers(workers)
        time.sleep(3.0)
        cpu0, load = engine.cpu_s(), loadavg()
        confirmed, t0 = publish_all(queue, n)
        t_published = time.time()
        wait_sent(db_url, n, timeout=600)
        cpu = engine.cpu_s() - cpu0
        hwm = engine.hwm_mb()
    finally:
        engine.stop()
    rows = _sent_by_external(db_url)
    if drop:
        drop()
    shutil.rmtree(folder, ignore_errors=True)
    latencies = [sent - confirmed[key] for key, sent in rows.items() if key in confirmed]
    result = {
        "db": db, "workers": workers, "events": n, "messages": len(rows), "mode": "rabbitmq",
        "rate_asked": None, "loadavg_before": load,
        "events_per_s_accepted": round(n / (t_published - t0), 1),
        "emails_per_s": round(len(rows) / (max(rows.values()) - t0), 1),
        "latency_p50_ms": round(percentile(latencies, 0.5) * 1000, 1),
        "latency_p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
        "engine_cpu_us_per_msg": round(cpu / len(rows) * 1e6), "sink_cpu_us_per_msg": None,
        "postgres_cpu_us_per_msg": None, "peak_rss_mb_per_process": hwm,
    }
    print(json.dumps(result), flush=True)
    return result


def _sent_by_external(db_url: str) -> dict[str, float]:
    """Confirmed event key -> SMTP acceptance time (the key is the AMQP message id)."""
    engine = create_engine(db_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as conn:
        rows = conn.execute(text("select e.external_id, m.sent_at from messages m "
                                 "join events e on e.id = m.event_id")).all()
    engine.dispose()
    out = {}
    for external, sent_at in rows:
        value = sent_at if isinstance(sent_at, datetime) else datetime.fromisoformat(sent_at)
        key = next((part for part in external.split(":") if part.startswith("SO-")), external)
        out[key] = value.replace(tzinfo=UTC).timestamp()
    return out


def make_db(kind: str, folder: Path) -> tuple[str, Any]:
    if kind == "sqlite":
        return f"sqlite:///{folder / 'tidings.db'}", None
    name = f"tidings_bench_{random.randrange(16**8):08x}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    return f"postgresql://postgres@127.0.0.1:5432/{name}", drop


def create_key(engine: Engine) -> str:
    out = subprocess.run([*TIDINGS, "keys", "create", "--tenant", "acme"], env=engine.env(),
                         check=True, capture_output=True, text=True)
    return out.stdout.strip()


def post_all(port: int, key: str, n: int, rate: float | None = None) -> dict[int, float]:
    """Post n events in batches; returns message id -> wall time of its 202."""
    accepted: dict[int, float] = {}
    lock = threading.Lock()
    # Bodies are encoded before the clock starts: the load generator shares the two
    # cores with the engine, and encoding JSON is not the engine's work.
    batches = [orjson.dumps({"events": [event(i) for i in range(s, min(s + BATCH, n))]})
               for s in range(0, n, BATCH)]
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    start = time.monotonic()

    def send(index: int) -> None:
        if rate:
            due = start + index * BATCH / rate
            time.sleep(max(0.0, due - time.monotonic()))
        client = clients.client()
        answer = client.post(f"http://127.0.0.1:{port}/v1/events", content=batches[index],
                             headers=headers)
        done = time.time()
        if answer.status_code != 202:
            raise RuntimeError(f"{answer.status_code}: {answer.text[:300]}")
        ids = [m for e in orjson.loads(answer.content)["events"] for m in e["messages"]]
        with lock:
            for i in ids:
                accepted[i] = done

    clients = _Clients()
    try:
        with ThreadPoolExecutor(CLIENTS) as pool:
            list(pool.map(send, range(len(batches))))
    finally:
        clients.close()
    return accepted


class _Clients:
    """One keep-alive HTTP client per load-generator thread."""

    def __init__(self) -> None:
        self._local = threading.local()
        self._made: list[httpx.Client] = []

    def client(self) -> httpx.Client:
        found = getattr(self._local, "client", None)
        if found is None:
            found = self._local.client = httpx.Client(timeout=120)
            self._made.append(found)
        return found

    def close(self) -> None:
        for client in self._made:
            client.close()


def wait_sent(db_url: str, expected: int, timeout: float) -> None:
    engine = create_engine(db_url.replace("postgresql://", "postgresql+psycopg://"))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            done = conn.execute(text("select count(*) from messages where state in "
                                     "('sent','failed','bounced')")).scalar_one()
        if done >= expected:
            engine.dispose()
            return
        time.sleep(0.05)
    raise RuntimeError(f"only {done} of {expected} messages done after {timeout}s")


def hold_until(db_url: str, seconds: float) -> float:
    """Make every queued message due ``seconds`` from now; returns that time."""
    from tidings.storage import tables
    due = datetime.now(UTC).replace(microsecond=0).timestamp() + seconds
    engine = create_engine(db_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as conn:
        conn.execute(tables.messages.update().values(
            due_at=datetime.fromtimestamp(due, UTC)))
    engine.dispose()
    return due


def sent_times(db_url: str) -> dict[int, float]:
    engine = create_engine(db_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as conn:
        rows = conn.execute(text("select id, sent_at, state from messages")).all()
    engine.dispose()
    bad = [r for r in rows if r.state != "sent"]
    if bad:
        raise RuntimeError(f"{len(bad)} messages not sent, e.g. {bad[0]}")
    out = {}
    for r in rows:
        value = r.sent_at if isinstance(r.sent_at, datetime) else datetime.fromisoformat(r.sent_at)
        out[r.id] = value.replace(tzinfo=UTC).timestamp()
    return out


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run_pipeline(db: str, workers: int, n: int, sink: Sink, rate: float | None = None,
                 send_only: bool = False) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="tidings-bench-"))
    make_project(folder, sink.port)
    db_url, drop = make_db(db, folder)
    engine = Engine(folder, db_url, free_port())
    subprocess.run([*TIDINGS, "db", "upgrade"], env=engine.env(), check=True,
                   stdout=subprocess.DEVNULL)
    key = create_key(engine)
    try:
        engine.start_api()
        if not send_only:
            engine.start_workers(workers)
            time.sleep(2.0)  # let the workers import and connect before the clock starts
        cpu0, sink0, pg0, load = engine.cpu_s(), sink.cpu_s(), pg_backends_cpu_s(), loadavg()
        t0 = time.time()
        accepted = post_all(engine.port, key, n, rate)
        t_accepted = time.time()
        if send_only:
            # Every message falls due at one instant, after the workers have started and
            # gone idle, so neither their start-up nor an early start counts.
            due = hold_until(db_url, SEND_ONLY_START_S)
            engine.start_workers(workers)
            time.sleep(max(0.0, due - time.time()))
            cpu0, sink0, pg0 = engine.cpu_s(), sink.cpu_s(), pg_backends_cpu_s()
            t0 = time.time()
        wait_sent(db_url, len(accepted), timeout=600)
        cpu = engine.cpu_s() - cpu0
        by_process = engine.cpu_by_process()
        sink_cpu, pg_cpu = sink.cpu_s() - sink0, pg_backends_cpu_s() - pg0
        hwm = engine.hwm_mb()
    finally:
        engine.stop()
    sent = sent_times(db_url)
    if drop:
        drop()
    shutil.rmtree(folder, ignore_errors=True)
    latencies = [sent[i] - accepted[i] for i in accepted]
    last = max(sent.values())
    result = {
        "db": db, "workers": workers, "events": n, "messages": len(sent),
        "mode": "send-only" if send_only else ("paced" if rate else "end-to-end"),
        "rate_asked": rate, "loadavg_before": load,
        "events_per_s_accepted": round(n / (t_accepted - t0), 1) if not send_only else None,
        "emails_per_s": round(len(sent) / (last - t0), 1),
        "latency_p50_ms": None if send_only else round(percentile(latencies, 0.5) * 1000, 1),
        "latency_p99_ms": None if send_only else round(percentile(latencies, 0.99) * 1000, 1),
        "engine_cpu_us_per_msg": round(cpu / len(sent) * 1e6),
        "sink_cpu_us_per_msg": round(sink_cpu / len(sent) * 1e6),
        "postgres_cpu_us_per_msg": round(pg_cpu / len(sent) * 1e6) if db == "postgres" else None,
        "peak_rss_mb_per_process": hwm,
        "cpu_s_per_process": [round(c, 2) for c in by_process],  # api, workers (whole life)
    }
    print(json.dumps(result), flush=True)
    return result


def peers(n: int, quick: bool) -> dict[str, Any]:
    venv_py = Path(os.environ.get("VENV", "/tmp/nvenv")) / "bin" / "python"
    out: dict[str, Any] = {}
    env = {**os.environ, "PEERS_RESULTS": str(RESULTS / "peers")}
    if not venv_py.exists():
        print(f"peers: no venv at {venv_py}; run `bash {PEERS}/setup.sh` once", flush=True)
        return out
    runs = ["--runs", "1"]
    wire = subprocess.run([PY, str(PEERS / "wire_limit.py"), *runs, "--scale",
                           "0.2" if quick else "0.5", "--tag", "_tidings", "--port",
                           str(free_port())], env=env, capture_output=True, text=True)
    print(wire.stdout[-600:], flush=True)
    data = json.loads((RESULTS / "peers" / "wire_limit_tidings.json").read_text())
    out["wire_limit"] = data
    po = subprocess.run([str(venv_py), str(PEERS / "post_office_bench.py"), "--db", "sqlite",
                         "--n", str(n), *runs, "--configs", "p2b1000t10l1", "--tag", "_tidings"],
                        env=env, capture_output=True, text=True)
    print(po.stdout[-800:], flush=True)
    out["post_office"] = json.loads((RESULTS / "peers" / "post_office_sqlite_tidings.json")
                                    .read_text())
    return out


def wire_msgs_per_s(data: dict[str, Any]) -> float | None:
    for name, config in data.get("configs", {}).items():
        if "reuse" in name and "20" in name:
            runs = config.get("runs") or []
            values = [r["msgs_per_s"] for r in runs]
            return statistics.median(values) if values else None
    return None


def post_office_msgs_per_s(data: dict[str, Any]) -> float | None:
    queue = data["queue_runs"][0]
    send = next(iter(data["configs"].values()))["runs"][0]
    n = data["n"]
    return n / (n / queue["msgs_per_s"] + n / send["msgs_per_s"])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="4,000 events, SQLite, < 2 min")
    ap.add_argument("--events", type=int, default=None)
    ap.add_argument("--dbs", default=None, help="comma list: sqlite,postgres")
    ap.add_argument("--workers", default=None, help="comma list of worker process counts")
    ap.add_argument("--no-peers", action="store_true")
    ap.add_argument("--only-rabbit", action="store_true", help="just the RabbitMQ run")
    ap.add_argument("--profile", type=Path, default=None, metavar="DIR",
                    help="sample every engine process with py-spy into DIR (collapsed stacks)")
    a = ap.parse_args()
    global PROFILE_DIR
    PROFILE_DIR = a.profile
    n = a.events or (4000 if a.quick else 20000)
    dbs = (a.dbs or ("sqlite" if a.quick else "sqlite,postgres")).split(",")
    workers = [int(w) for w in (a.workers or ("2" if a.quick else "1,2")).split(",")]
    RESULTS.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {"started": datetime.now(UTC).isoformat(), "events": n,
                              "machine": {"ncpu": os.cpu_count(), "loadavg": loadavg()},
                              "runs": []}
    sink = Sink()
    if a.only_rabbit:
        try:
            report["runs"].append(run_rabbit("sqlite", max(workers), n, sink))
        finally:
            sink.stop()
        print_table(report)
        return 0
    try:
        for db in dbs:
            for w in workers:
                report["runs"].append(run_pipeline(db, w, n, sink))
        best = max(r["emails_per_s"] for r in report["runs"] if r["db"] == "sqlite")
        report["runs"].append(run_pipeline("sqlite", max(workers), n, sink, send_only=True))
        report["runs"].append(run_pipeline("sqlite", max(workers), min(n, 10000), sink,
                                           rate=best / 2))
        if not a.quick:
            report["runs"].append(run_rabbit("sqlite", max(workers), n, sink))
    finally:
        sink.stop()
    if not a.no_peers:
        report["peers"] = peers(n, a.quick)
    path = RESULTS / f"e2e-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    path.write_text(json.dumps(report, indent=2))
    print_table(report)
    print(f"\nwrote {path}")
    return 0


def print_table(report: dict[str, Any]) -> None:
    peers_ = report.get("peers", {})
    wire = wire_msgs_per_s(peers_["wire_limit"]) if "wire_limit" in peers_ else None
    po = post_office_msgs_per_s(peers_["post_office"]) if "post_office" in peers_ else None
    print("\n| run | db | worker procs | events/s accepted | emails/s | p50 ms | p99 ms "
          "| engine CPU us/msg | peak RSS MB (api, workers) | x post-office | % wire |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in report["runs"]:
        ratio_po = f"{r['emails_per_s'] / po:.1f}" if po else "-"
        ratio_w = f"{100 * r['emails_per_s'] / wire:.0f}%" if wire else "-"
        accepted = r["events_per_s_accepted"] or "-"
        print(f"| {r['mode']} | {r['db']} | {r['workers']} | {accepted} "
              f"| {r['emails_per_s']} | {r['latency_p50_ms'] or '-'} "
              f"| {r['latency_p99_ms'] or '-'} "
              f"| {r['engine_cpu_us_per_msg']} | {r['peak_rss_mb_per_process']} | {ratio_po} "
              f"| {ratio_w} |")
    if po:
        print(f"\ndjango-post-office end to end (queue then send), same sink: {po:.0f} msgs/s")
    if wire:
        print(f"wire limit (smtp-source, 20 sessions reusing connections): {wire:.0f} msgs/s")


if __name__ == "__main__":
    sys.exit(main())
