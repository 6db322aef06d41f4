"""Messages DKIM-signed by DkimSigner, sent by SmtpProvider, verified as received."""

from __future__ import annotations

import dkim
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tidings.domain.outcomes import Sent
from tidings.providers.dkim import DkimRegistry, DkimSigner


def test_every_received_message_verifies(handler, plain_server, kit) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM,
                            serialization.PrivateFormat.TraditionalOpenSSL,
                            serialization.NoEncryption())
    registry = DkimRegistry([DkimSigner("shop.example", "s2026", pem)])
    signer = registry.signer_for("Shop <orders@shop.example>")
    assert signer is not None
    name, txt = signer.dns_record()

    def dnsfunc(qname: bytes, timeout: int = 5) -> bytes | None:
        return txt.encode() if qname.decode().rstrip(".") == name else None

    bodies = ["plain", ".leading dot\n..two dots\n", "ünïcödé ✓\n", "x" * 5000 + "\n"]
    envelopes = [kit.envelope(i, data=signer.sign(kit.message(i, body=b)))
                 for i, b in enumerate(bodies)]
    provider = kit.provider_for(plain_server)
    outcomes = provider.send_batch(envelopes)
    provider.close()

    assert all(isinstance(o, Sent) for o in outcomes)
    assert len(handler.received) == len(bodies)
    for sent, got in zip(envelopes, handler.received, strict=True):
        assert got.content == sent.data
        assert dkim.verify(got.content, dnsfunc=dnsfunc)
    original = handler.received[0].content
    tampered = original.removesuffix(b"plain\r\n") + b"PLAIN\r\n"  # body only
    assert tampered != original + b"PLAIN\r\n"
    assert not dkim.verify(tampered, dnsfunc=dnsfunc)
