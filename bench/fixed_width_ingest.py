"""Decode a large multi-record fixed-width file and measure speed and memory.

Writes a batch file in a temporary folder (HDR, then orders of one ORD and
three LIN records each, then TRL: ``--lines`` lines in all), decodes it with
``tidings.formats.fixed_width`` and the layout that ``tidings layout
template`` prints, streaming from the open file, and reports:

- physical records per second and events (orders) per second, by the wall
  clock and by the process's own CPU time (steadier on a shared machine);
- the resident memory sampled while decoding (it must stay flat: the file is
  read line by line and each order is dropped once yielded);
- the process's peak RSS from ``resource.getrusage``.

Usage: ``python bench/fixed_width_ingest.py [--lines 1000000] [--json]``.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tidings.formats import fixed_width, layout_templates, layout_yaml, records

LINES_PER_ORDER = 4
SAMPLES = 10
ORDER = "ORD{:<12}N{:<40}20260301{:09d}0\n"
LINE = "LIN{:03d}{:<15}{:05d}{:08d}\n"


def write_file(path: Path, lines: int) -> int:
    """Write a batch of exactly ``lines`` lines (at least 6); return the order count."""
    orders, extra = divmod(lines - 2, LINES_PER_ORDER)
    with path.open("w", encoding="ascii") as out:
        out.write("HDR0001   20260301ACME-OMS\n")
        for n in range(orders):
            out.write(ORDER.format(f"A-{n}", f"customer{n % 997}@example.com", 1497 + n % 50))
            count = LINES_PER_ORDER - 1 + (extra if n == orders - 1 else 0)
            for line in range(1, count + 1):
                out.write(LINE.format(line, f"SKU-{(n + line) % 5000}", 1 + line % 3, 499))
        out.write(f"TRL{lines:07d}\n")
    return orders


def rss_kib() -> int:
    """Current resident set size, from /proc (Linux)."""
    for row in Path("/proc/self/status").read_text().splitlines():
        if row.startswith("VmRSS:"):
            return int(row.split()[1])
    return 0


def decode(path: Path, orders: int) -> dict[str, Any]:
    lay = layout_yaml.parse_layout(layout_templates.template_text("fixed_width"))
    every = max(1, orders // SAMPLES)
    samples, ok, refused = [], 0, 0
    start, cpu_start = time.perf_counter(), time.process_time()
    with path.open("rb") as lines:
        for item in fixed_width.decode_fixed_width(lines, lay):
            if isinstance(item, records.DecodedRecord):
                ok += 1
            else:
                refused += 1
            if (ok + refused) % every == 0:
                samples.append(rss_kib())
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    return {"seconds": round(seconds, 2), "cpu_seconds": round(cpu, 2), "events_ok": ok,
            "events_refused": refused, "rss_samples_kib": samples}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "orders.txt"
        orders = write_file(path, args.lines)
        size = path.stat().st_size
        before = rss_kib()
        result = decode(path, orders)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    result.update({
        "lines": args.lines, "file_mib": round(size / 2**20, 1), "orders": orders,
        "records_per_second": round(args.lines / result["seconds"]),
        "events_per_second": round(orders / result["seconds"]),
        "records_per_cpu_second": round(args.lines / result["cpu_seconds"]),
        "rss_before_decode_kib": before, "peak_rss_kib": peak,
        "rss_growth_during_decode_kib": max(result["rss_samples_kib"], default=before) - before,
    })
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>30}: {value}")
    return 0 if result["events_refused"] == 0 and result["events_ok"] == orders else 1


if __name__ == "__main__":
    sys.exit(main())
