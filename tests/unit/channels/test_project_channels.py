"""The channels sections of tidings.toml: seeds, checks with lines, rule fallbacks, envelopes."""

from __future__ import annotations

import base64
import email
import email.policy
from datetime import UTC, datetime
from pathlib import Path

import dkim
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tidings.channels import seeds
from tidings.channels.dkim_keys import registries
from tidings.channels.unsubscribe import UnsubscribeLinks
from tidings.dispatch.envelopes import EnvelopeOptions, build_envelope
from tidings.dispatch.extras import MessageExtras
from tidings.outbox.messages import Claimed
from tidings.project import loader
from tidings.project.compiled import check
from tidings.project.model import ProjectConfig, TenantConfig
from tidings.rules.engine import Router

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)

EXTRA = """
[[channels]]
name = "sms"
code = 2
kind = "sms"

[[providers]]
name = "sms-capture"
channel = "sms"
type = "capture"

[[providers]]
name = "capture-b"
channel = "email"
type = "capture"

[[communication_channels]]
name = "mail"
channel = "email"
providers = ["capture", "capture-b"]
entity = "order"

[[provider_statuses]]
provider = "capture"
code = "250"
action = "fail"
description = "sandbox"

[[rules]]
name = "shipped-sms"
tenant = "acme"
message_type = "order.shipped"
to = ["/customer/email"]
template = "order_shipped"
fallback = [{ channel = "sms", to = ["/customer/phone"] }]
list_unsubscribe = true
"""


def project(folder: Path, extra: str = EXTRA) -> ProjectConfig:
    path = folder / "tidings.toml"
    path.write_text(path.read_text() + extra)
    config, problems = loader.read(folder)
    assert config is not None, problems
    return config


def test_seeds_follow_the_file(project_dir: Path) -> None:
    desired = seeds.from_project(project(project_dir))
    comm = {c.name: c.providers for c in desired.communication}
    assert comm == {"mail": ["capture", "capture-b"], "sms": ["sms-capture"]}  # sms: implicit
    rows = {(s.provider, s.row.code): (s.row.action, s.origin) for s in desired.statuses}
    assert rows[("capture", "250")] == ("fail", "project")
    assert rows[("capture-b", "250")] == ("sent", "seed")


def test_checks_name_the_line(project_dir: Path) -> None:
    bad = EXTRA.replace('providers = ["capture", "capture-b"]', 'providers = ["capture", "nope"]')
    bad = bad.replace('provider = "capture"\ncode', 'provider = "ghost"\ncode')
    bad = bad.replace('channel = "sms", to', 'channel = "fax", to')
    project(project_dir, bad)
    text = (project_dir / "tidings.toml").read_text().splitlines()
    found = {p.message: p.line for p in check(project_dir)}
    messages = " | ".join(found)
    assert "unknown provider 'nope'" in messages
    assert "unknown provider 'ghost'" in messages
    assert "unknown channel 'fax'" in messages
    for message, line in found.items():
        assert line is not None, message
        if "'nope'" in message:
            assert "nope" in text[line - 1]


def test_a_secret_in_clear_is_a_problem(project_dir: Path) -> None:
    project(project_dir, '[[providers]]\nname = "sms-http"\nchannel = "email"\n'
                         'type = "capture"\nsettings = { auth_token = "abc123" }\n')
    found = [p for p in check(project_dir) if "auth_token" in p.message]
    assert found and found[0].line is not None
    assert "auth_token_env" in found[0].message


def test_dkim_key_needs_exactly_one_source(project_dir: Path) -> None:
    path = project_dir / "tidings.toml"
    path.write_text(path.read_text().replace(
        'business_units = ["web-shop", "stores"]',
        'business_units = ["web-shop", "stores"]\n'
        'dkim = [{ domain = "acme.example", selector = "s1" }]'))
    assert any("exactly one of private_key_env" in p.message for p in check(project_dir))


def test_rule_falls_back_to_sms_without_an_address(project_dir: Path) -> None:
    router = Router(project(project_dir))
    payload = {"order": {"id": "SO-1", "status": "shipped"},
               "customer": {"phone": "+49 30 1234567", "name": "Ada"}}
    intents, skipped = router.route("acme", "order.shipped", payload, NOW)
    sms = [i for i in intents if i.rule == "shipped-sms"]
    assert [(i.channel, i.provider, i.recipient) for i in sms] == [
        ("sms", "sms-capture", "+49 30 1234567")]
    payload["customer"]["email"] = "ada@example.com"
    intents, _ = router.route("acme", "order.shipped", payload, NOW)
    assert [(i.channel, i.recipient) for i in intents if i.rule == "shipped-sms"] == [
        ("email", "ada@example.com")]
    del payload["customer"]["email"], payload["customer"]["phone"]
    _, skipped = router.route("acme", "order.shipped", payload, NOW)
    assert any(s.rule == "shipped-sms" for s in skipped)


def claimed(**overrides: object) -> Claimed:
    values: dict[str, object] = dict(
        id=7, tenant="acme", provider="p", sender="Shop <orders@acme.example>",
        to=["ada@example.com"], cc=["carl@example.com"], bcc=["boss@example.com"],
        subject="Your invoice", body_text="Hi", body_html="<p>Hi</p>", headers=[],
        message_id_header="<m7@acme.example>", attempts=1, created_at=NOW, expires_at=None)
    values.update(overrides)
    return Claimed(**values)  # type: ignore[arg-type]


def test_email_envelope_with_attachments_cc_bcc_unsubscribe_and_dkim(tmp_path: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM,
                            serialization.PrivateFormat.TraditionalOpenSSL,
                            serialization.NoEncryption())
    tenant = TenantConfig.model_validate({"id": "acme", "name": "ACME", "dkim": [
        {"domain": "acme.example", "selector": "s1", "private_key_env": "ACME_DKIM"}]})
    regs = registries([tenant], tmp_path,
                      {"ACME_DKIM": pem.decode().replace("\n", "\\n")})
    options = EnvelopeOptions(dkim=regs, unsubscribe=UnsubscribeLinks("k" * 40, "https://t.x"))
    pdf = base64.b64encode(b"%PDF-1.4 x").decode()
    extras = MessageExtras(payload={"list_unsubscribe": True, "attachments": [
        {"filename": "invoice.pdf", "content_type": "application/pdf", "data": pdf}]})
    envelope = build_envelope(claimed(), extras, options)
    assert envelope.recipients == ["ada@example.com", "carl@example.com", "boss@example.com"]
    parsed = email.message_from_bytes(envelope.data, policy=email.policy.default)
    assert parsed["Cc"] == "carl@example.com" and parsed["Bcc"] is None
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert parsed["List-Unsubscribe"].startswith("<https://t.x/u/")
    (attachment,) = list(parsed.iter_attachments())
    assert attachment.get_filename() == "invoice.pdf"
    assert attachment.get_content() == b"%PDF-1.4 x"
    name, txt = regs["acme"].signer_for("orders@acme.example").dns_record()  # type: ignore[union-attr]

    def dns(qname: bytes, timeout: int = 5) -> bytes | None:
        return txt.encode() if qname.decode().rstrip(".") == name else None

    assert dkim.verify(envelope.data, dnsfunc=dns)
    signature = parsed["DKIM-Signature"]
    assert "list-unsubscribe" in signature.lower() and "list-unsubscribe-post" in \
        signature.lower()
    plain = build_envelope(claimed(sender="x@other.example"), MessageExtras(), options)
    assert b"DKIM-Signature" not in plain.data and b"List-Unsubscribe" not in plain.data
