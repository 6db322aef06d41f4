"""DKIM per tenant domain, end to end: every message the SMTP server receives verifies."""

from __future__ import annotations

import base64
from pathlib import Path

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient

from tests.helpers import TENANT, make_runtime, order_confirmed
from tests.smtp_sink import SmtpServer, use_smtp
from tidings.api.app import create_app
from tidings.clock import FakeClock


def _key_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM,
                             serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def test_every_received_message_verifies_and_a_tampered_body_fails(
        project_dir: Path, db_url: str, clock: FakeClock,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACME_DKIM_KEY", _key_pem())
    path = project_dir / "tidings.toml"
    path.write_text(path.read_text().replace(
        'business_units = ["web-shop", "stores"]',
        'business_units = ["web-shop", "stores"]\n'
        'dkim = [{ domain = "acme.example", selector = "s2026", '
        'private_key_env = "ACME_DKIM_KEY" }]'))
    with SmtpServer() as smtp:
        use_smtp(project_dir, smtp.port)
        runtime = make_runtime(project_dir, db_url, clock)
        key = runtime.keys.create(TENANT, "t", clock.now())
        with TestClient(create_app(runtime)) as client:
            client.headers["Authorization"] = f"Bearer {key}"
            events = [order_confirmed(f"SO-{i}", email=f"c{i}@example.com",
                                      total=900.0 if i == 0 else 20.0) for i in range(3)]
            assert client.post("/v1/events", json={"events": events}).status_code == 202
            manual = client.post("/v1/messages", json={
                "to": ["Ada <ada@example.com>"], "cc": ["carl@example.com"],
                "bcc": ["audit@example.com"], "subject": "Ihre Rechnung für März",
                "body_html": "<p>Grüße</p>", "list_unsubscribe": True,
                "attachments": [{"filename": "rechnung.pdf", "content_type": "application/pdf",
                                 "content": base64.b64encode(b"%PDF-1.4 x").decode()}]})
            assert manual.status_code == 201, manual.text
        dispatcher = runtime.dispatcher()
        while dispatcher.step():
            pass
        dispatcher.close()
        received = smtp.recorder.snapshot()
    signer = runtime.delivery().envelopes.dkim[TENANT].signer_for("orders@acme.example")
    assert signer is not None
    name, txt = signer.dns_record()

    def dnsfunc(qname: bytes, timeout: int = 5) -> bytes | None:
        return txt.encode() if qname.decode().rstrip(".") == name else None

    assert len(received) == 5                     # 3 confirmations, 1 big-order alert, 1 manual
    for message in received:
        assert message.data.startswith(b"DKIM-Signature:")
        assert dkim.verify(message.data, dnsfunc=dnsfunc), message.data[:400]
    manual_copy = next(m for m in received if b"List-Unsubscribe" in m.data)
    assert set(manual_copy.rcpt_tos) == {"ada@example.com", "carl@example.com",
                                         "audit@example.com"}
    assert b"audit@example.com" not in manual_copy.data     # bcc only in the envelope
    head, _, body = manual_copy.data.partition(b"\r\n\r\n")
    tampered = head + b"\r\n\r\n" + body.replace(b"Gr=C3=BC=C3=9Fe", b"Gr=C3=BC=C3=9Fe!", 1)
    assert tampered != manual_copy.data
    assert not dkim.verify(tampered, dnsfunc=dnsfunc)
    runtime.close()
