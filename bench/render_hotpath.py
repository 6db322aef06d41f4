"""Per-message CPU cost of the render hot path, in microseconds.

Run: ``.venv/bin/python bench/render_hotpath.py [--n 300]``

Uses the fixture templates (tests/fixtures/render/templates) and order
(tests/fixtures/render/order.json): a layout with a <style> block, an
extends/include chain and an order-lines table. Prints the median of five
runs of ``n`` messages each for:

* render, CSS inlined once per version (html + text): text derived from the
  HTML with inscriptis (``order_shipped``) and from a body.txt (``order_confirmed``);
* the same with CSS inlined per message, for the ratio;
* the HTML part alone, both ways;
* ``build_email`` (multipart/alternative, two recipients, List-Unsubscribe);
* the stdlib ``EmailMessage`` (policy default) and compat32 ``MIMEMultipart``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import time
from collections.abc import Callable
from email.message import EmailMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from pathlib import Path
from typing import Any

from tidings.render import mime, sandbox, templates

ROOT = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "render"


def per_message_us(fn: Callable[[], object], n: int) -> float:
    runs = []
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(n):
            fn()
        runs.append((time.perf_counter() - started) / n * 1e6)
    return statistics.median(runs)


def email_for(rendered: templates.Rendered) -> mime.OutgoingEmail:
    return mime.OutgoingEmail(
        sender="Example Shop <shop@example.com>",
        to=["Anna Smith <anna@example.org>", "bob@example.org"],
        subject=rendered.subject, message_id="<4711.shipped@tidings.example>",
        date=dt.datetime(2026, 3, 27, 9, 30, tzinfo=dt.UTC), text=rendered.text,
        html=rendered.html,
        headers=[("List-Unsubscribe", "<https://shop.example/u/abc>"),
                 ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")])


def vary(data: dict[str, Any], i: int) -> dict[str, Any]:
    order = dict(data["order"])
    order["lines"] = [dict(line, price=f"{7 + i * 0.37 + k:.2f}")
                      for k, line in enumerate(order["lines"])]
    order["total"] = f"{100 + i * 1.13:.2f}"
    return dict(data, order=order)


def stdlib_modern(msg: mime.OutgoingEmail) -> bytes:
    m = EmailMessage()
    m["From"], m["To"], m["Subject"] = msg.sender, ", ".join(msg.to), msg.subject
    m["Message-ID"], m["Date"] = msg.message_id, msg.date
    for name, value in msg.headers:
        m[name] = value
    m.set_content(msg.text)
    m.add_alternative(msg.html or "", subtype="html")
    return m.as_bytes()


def stdlib_compat32(msg: mime.OutgoingEmail) -> bytes:
    m = MIMEMultipart("alternative")
    m["From"], m["To"], m["Subject"] = msg.sender, ", ".join(msg.to), msg.subject
    m["Message-ID"] = msg.message_id
    for name, value in msg.headers:
        m[name] = value
    m.attach(MIMEText(msg.text, "plain", "utf-8"))
    m.attach(MIMEText(msg.html or "", "html", "utf-8"))
    return m.as_bytes()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300, help="messages per run")
    n = parser.parse_args().n
    data: dict[str, Any] = json.loads((ROOT / "order.json").read_text("utf-8"))
    once = templates.TemplateStore(ROOT / "templates")
    each = templates.TemplateStore(ROOT / "templates", inline_css_once=False)
    assert once.compiled("order_shipped", "de-AT").inlined_once
    limits = sandbox.RenderLimits()
    html_once = once.compiled("order_shipped", None).html
    html_raw = each.compiled("order_shipped", None).html
    assert html_once is not None and html_raw is not None
    inliner = each._inliner  # the same inliner the store uses per message
    msg = email_for(once.render("order_shipped", data, None))

    varied = [vary(data, i) for i in range(n)]  # fresh amounts: money cache misses
    cursor = iter(range(10**9))

    def shipped_varied() -> object:
        return once.render("order_shipped", varied[next(cursor) % n], None)

    rows: list[tuple[str, float]] = [
        ("render order_shipped (html + text from HTML), inlined once",
         per_message_us(lambda: once.render("order_shipped", data, None), n)),
        ("  same, every message with new amounts (money cache cold)",
         per_message_us(shipped_varied, n)),
        ("render order_shipped, inlined per message",
         per_message_us(lambda: each.render("order_shipped", data, None), n)),
        ("render order_confirmed (html + body.txt), inlined once",
         per_message_us(lambda: once.render("order_confirmed", data, None), n)),
        ("render order_confirmed, inlined per message",
         per_message_us(lambda: each.render("order_confirmed", data, None), n)),
        ("html part only, inlined once",
         per_message_us(lambda: sandbox.render(html_once, data, limits), n)),
        ("html part only, inlined per message",
         per_message_us(lambda: inliner.inline(sandbox.render(html_raw, data, limits)), n)),
        ("build_email (multipart/alternative)", per_message_us(lambda: mime.build_email(msg), n)),
        ("stdlib EmailMessage (policy default)", per_message_us(lambda: stdlib_modern(msg), n)),
        ("stdlib compat32 MIMEMultipart", per_message_us(lambda: stdlib_compat32(msg), n)),
    ]
    print(f"{'measure':62} {'us/message':>11}")
    for label, value in rows:
        print(f"{label:62} {value:11.1f}")
    print(f"\nhtml bytes {len(msg.html or '')}, text bytes {len(msg.text)}, n={n}, median of 5")


if __name__ == "__main__":
    main()
