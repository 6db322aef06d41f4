"""SMTP client cost: Tidings' SmtpProvider against plain smtplib and the peers' reference.

Usage: .venv/bin/python bench/smtp_clients.py [--msgs 5000] [--runs 3] [--batch 100]
                                             [--peer-runs 1] [--peer-msgs 2000] [--no-peers]

Starts Postfix's ``smtp-sink`` on a free 127.0.0.1 port (stopped by its own PID at
the end), then, interleaved over ``--runs`` rounds, sends ``--msgs`` pre-built
~10 KB messages through

* ``smtplib sendmail``: one reused ``smtplib.SMTP`` connection, the floor for
  anything built on smtplib;
* ``SmtpProvider.send_batch``: the provider on one reused connection, in
  batches of ``--batch`` envelopes, as a dispatcher worker drives it.

It reports the median msgs/s, this process's CPU (user+sys) in us per message
and smtp-sink's CPU per message. Then, when the peers' virtual environment
exists (``$PEERS_VENV``, default ``/tmp/nvenv``; made by
``shared/peers/setup.sh``), it runs ``shared/peers/py_smtp_client.py`` in it as a
subprocess for the smtplib/aiosmtplib reference figures; otherwise it says it
skipped them. Results go to ``bench/results/smtp_clients.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

from tidings.providers.base import Envelope
from tidings.providers.smtp import SmtpProvider

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
PEERS = Path(os.environ.get("PEERS_DIR", REPO.parent / "shared" / "peers"))
PEERS_VENV = Path(os.environ.get("PEERS_VENV", "/tmp/nvenv"))
SMTP_SINK = shutil.which("smtp-sink") or "/usr/sbin/smtp-sink"
HOST = "127.0.0.1"
SENDER = "orders@example-shop.com"
RECIPIENT = "jane.doe@example.org"
TARGET_BYTES = 10_446
CLK_TCK = os.sysconf("SC_CLK_TCK")


def build_message(target: int = TARGET_BYTES) -> bytes:
    """A multipart/alternative order mail padded to ``target`` bytes, CRLF line ends."""
    rows = "".join(f"<tr><td>SKU-{i:05d}</td><td>Item {i}</td><td>{i}.90 EUR</td></tr>\n"
                   for i in range(200))
    msg = EmailMessage(policy=SMTP)
    msg["From"] = f"Example Shop <{SENDER}>"
    msg["To"] = RECIPIENT
    msg["Subject"] = "Your order EX-100001 is confirmed"
    msg["Date"] = "Mon, 23 Nov 2026 14:03:22 +0000"
    msg["Message-ID"] = "<bench-1@example-shop.com>"
    msg.set_content("Thank you for your order EX-100001.\n")
    msg.add_alternative(f"<html><body><table>{rows}</table></body></html>", subtype="html")
    data = msg.as_bytes()
    while len(data) > target and rows:
        rows = rows.rsplit("<tr>", 1)[0]
        msg.get_payload()[1].set_content(f"<html><body><table>{rows}</table></body></html>",
                                         subtype="html")
        data = msg.as_bytes()
    return data


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def cpu_seconds_of(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def self_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@contextmanager
def smtp_sink(port: int) -> Iterator[subprocess.Popen[bytes]]:
    command = [SMTP_SINK]
    if os.geteuid() == 0:
        command += ["-u", "nobody"]  # smtp-sink drops root after binding
    command += ["-m", "64", f"{HOST}:{port}", "1000"]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(port)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_for(port: int, timeout_seconds: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((HOST, port), timeout=0.5) as sock:
                sock.recv(100)
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"smtp-sink did not listen on {HOST}:{port}")


def run_smtplib(port: int, data: bytes, n: int, batch: int) -> None:
    import smtplib

    conn = smtplib.SMTP(HOST, port, local_hostname="bench.tidings.test")
    conn.ehlo()
    for _ in range(n):
        conn.sendmail(SENDER, [RECIPIENT], data)
    conn.quit()


def run_provider(port: int, data: bytes, n: int, batch: int) -> None:
    provider = SmtpProvider("bench", HOST, port, security="none",
                            local_hostname="bench.tidings.test", max_batch=batch,
                            max_messages_per_connection=n + 1)
    envelopes = [Envelope(f"<bench-{i}@example-shop.com>", SENDER, [RECIPIENT], data, i)
                 for i in range(n)]
    for start in range(0, n, batch):
        outcomes = provider.send_batch(envelopes[start:start + batch])
        if not all(type(o).__name__ == "Sent" for o in outcomes):
            raise RuntimeError(f"not all sent: {outcomes[:3]}")
    provider.close()


CONFIGS: dict[str, Callable[[int, bytes, int, int], None]] = {
    "smtplib sendmail, 1 reused connection": run_smtplib,
    "SmtpProvider.send_batch, 1 reused connection": run_provider,
}


def measure(args: argparse.Namespace, data: bytes) -> dict[str, list[dict[str, float]]]:
    port = free_port()
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in CONFIGS}
    with smtp_sink(port) as sink:
        run_smtplib(port, data, 300, args.batch)  # warm-up
        run_provider(port, data, 300, args.batch)
        for i in range(args.runs):
            for name, fn in CONFIGS.items():
                c0, s0, t0 = self_cpu_seconds(), cpu_seconds_of(sink.pid), time.perf_counter()
                fn(port, data, args.msgs, args.batch)
                wall = time.perf_counter() - t0
                time.sleep(0.05)  # let the sink finish accounting its CPU
                c1, s1 = self_cpu_seconds(), cpu_seconds_of(sink.pid)
                r = {"msgs_per_s": args.msgs / wall,
                     "client_cpu_us_per_msg": (c1 - c0) / args.msgs * 1e6,
                     "sink_cpu_us_per_msg": (s1 - s0) / args.msgs * 1e6}
                runs[name].append(r)
                print(f"run {i + 1} {name:46s} {r['msgs_per_s']:7.0f} msgs/s  client "
                      f"{r['client_cpu_us_per_msg']:6.1f} us/msg  sink "
                      f"{r['sink_cpu_us_per_msg']:6.1f} us/msg", flush=True)
                time.sleep(0.3)
    return runs


def medians(runs: dict[str, list[dict[str, float]]]) -> dict[str, dict[str, float]]:
    return {name: {k: statistics.median(r[k] for r in rs) for k in rs[0]}
            for name, rs in runs.items()}


def run_peers(args: argparse.Namespace) -> str:
    script, python = PEERS / "py_smtp_client.py", PEERS_VENV / "bin" / "python"
    if not script.exists() or not python.exists():
        return (f"skipped the peers' reference: need {script} and {python} "
                "(bash shared/peers/setup.sh makes the venv)")
    out = RESULTS / "peers"
    out.mkdir(parents=True, exist_ok=True)
    command = [str(python), str(script), "--runs", str(args.peer_runs),
               "--msgs", str(args.peer_msgs), "--port", str(free_port())]
    print("$", " ".join(command), flush=True)
    done = subprocess.run(command, cwd=PEERS, env={**os.environ, "PEERS_RESULTS": str(out)},
                          check=False)
    return f"peers' py_smtp_client.py exited {done.returncode}; results in {out}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--msgs", type=int, default=5000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--peer-runs", type=int, default=1)
    ap.add_argument("--peer-msgs", type=int, default=2000)
    ap.add_argument("--no-peers", action="store_true")
    args = ap.parse_args()
    if not Path(SMTP_SINK).exists():
        print(f"skipped: {SMTP_SINK} not found (apt-get install postfix)")
        return 0
    data = build_message()
    print(f"message: {len(data)} bytes; {args.msgs} msgs x {args.runs} runs; "
          f"batches of {args.batch}", flush=True)
    summary = medians(measure(args, data))
    print("\nmedians:")
    for name, m in summary.items():
        print(f"  {name:46s} {m['msgs_per_s']:7.0f} msgs/s  client "
              f"{m['client_cpu_us_per_msg']:6.1f} us/msg  sink {m['sink_cpu_us_per_msg']:6.1f}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / "smtp_clients.json"
    path.write_text(json.dumps({"message_bytes": len(data), "msgs": args.msgs,
                                "runs": args.runs, "batch": args.batch,
                                "ncpu": os.cpu_count(), "medians": summary}, indent=2) + "\n")
    print("wrote", path)
    print("\n" + (run_peers(args) if not args.no_peers else "peers skipped (--no-peers)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
