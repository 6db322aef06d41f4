"""DKIM signing: verify with a stub DNS, tampering breaks it, keys stay hidden."""

from __future__ import annotations

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

import tidings.providers.dkim
from tidings.providers import errors
from tidings.providers.dkim import DkimRegistry, DkimSigner

MESSAGE = (
    b"From: Shop <orders@shop.example>\r\n"
    b"To: jane@example.org\r\n"
    b"Subject: Your order EX-100001\r\n"
    b"Date: Mon, 23 Nov 2026 14:03:22 +0000\r\n"
    b"Message-ID: <msg-1@shop.example>\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"\r\n"
    b"Order EX-100001 has shipped.\r\n"
)


def pem(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


@pytest.fixture(scope="module")
def key_pem() -> bytes:
    return pem(rsa.generate_private_key(public_exponent=65537, key_size=2048))


@pytest.fixture(scope="module")
def signer(key_pem) -> DkimSigner:
    return DkimSigner("Shop.Example", "s2026", key_pem)


def dns_for(*signers: DkimSigner):
    records = dict(s.dns_record() for s in signers)

    def dnsfunc(name: bytes, timeout: int = 5) -> bytes | None:
        value = records.get(name.decode().rstrip("."))
        return value.encode() if value else None

    return dnsfunc


def test_signed_message_verifies(signer) -> None:
    signed = signer.sign(MESSAGE)
    assert signed.startswith(b"DKIM-Signature: ") and signed.endswith(MESSAGE)
    header = signed[: -len(MESSAGE)].decode()
    assert "d=shop.example" in header and "s=s2026" in header
    assert "c=relaxed/relaxed" in header and "a=rsa-sha256" in header
    assert dkim.verify(signed, dnsfunc=dns_for(signer))


def test_signed_headers_are_named(signer) -> None:
    header = signer.sign(MESSAGE)[: -len(MESSAGE)].decode()
    names = header.split(" h=", 1)[1].split(";", 1)[0].replace("\r\n", "").replace(" ", "")
    assert names.split(":")[:5] == ["from", "to", "cc", "reply-to", "subject"]
    assert "message-id" in names.split(":")


def test_tampered_body_fails(signer) -> None:
    signed = signer.sign(MESSAGE)
    assert not dkim.verify(signed.replace(b"has shipped", b"was cancelled"),
                           dnsfunc=dns_for(signer))


def test_tampered_subject_fails(signer) -> None:
    signed = signer.sign(MESSAGE)
    assert not dkim.verify(signed.replace(b"EX-100001\r\nDate", b"EX-999999\r\nDate"),
                           dnsfunc=dns_for(signer))


def test_relaxed_canonicalisation_survives_whitespace_changes(signer) -> None:
    signed = signer.sign(MESSAGE)
    assert dkim.verify(signed.replace(b"Subject: Your", b"Subject:   Your"),
                       dnsfunc=dns_for(signer))


def test_wrong_published_key_fails(signer) -> None:
    other = DkimSigner("shop.example", "s2026", pem(rsa.generate_private_key(65537, 2048)))
    assert not dkim.verify(signer.sign(MESSAGE), dnsfunc=dns_for(other))


def test_key_never_in_repr(signer, key_pem) -> None:
    body = key_pem.decode().splitlines()[1]
    assert body not in repr(signer) and repr(signer) == (
        "DkimSigner(domain='shop.example', selector='s2026')")
    assert body not in repr(DkimRegistry([signer]))


@pytest.mark.parametrize(
    ("key", "message"),
    [
        (b"not a key", "not an unencrypted RSA"),
        (b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "not an unencrypted"),
    ],
)
def test_unreadable_key_is_refused(key, message) -> None:
    with pytest.raises(errors.DkimKeyError, match=message):
        DkimSigner("shop.example", "s1", key)


def test_short_or_non_rsa_key_is_refused(key_pem, monkeypatch) -> None:
    # cryptography will not make a key under 1024 bits, so raise the floor instead
    monkeypatch.setattr(tidings.providers.dkim, "MIN_KEY_BITS", 4096)
    with pytest.raises(errors.DkimKeyError, match="4096 bits"):
        DkimSigner("shop.example", "s1", key_pem)
    with pytest.raises(errors.DkimKeyError):
        DkimSigner("shop.example", "s1", pem(ec.generate_private_key(ec.SECP256R1())))


def test_from_must_be_signed(key_pem) -> None:
    with pytest.raises(errors.DkimKeyError, match="From"):
        DkimSigner("shop.example", "s1", key_pem, headers=("To", "Subject"))


def test_message_without_headers_cannot_be_signed(signer) -> None:
    with pytest.raises(errors.DkimSignError):
        signer.sign(b"no header block at all")


def test_registry_picks_by_from_domain(key_pem) -> None:
    shop = DkimSigner("shop.example", "s1", key_pem)
    news = DkimSigner("news.shop.example", "s2", key_pem)
    other = DkimSigner("other.example", "s3", key_pem)
    registry = DkimRegistry([shop, news, other])
    assert registry.signer_for("orders@shop.example") is shop
    assert registry.signer_for("Shop <Orders@SHOP.example>") is shop
    assert registry.signer_for("a@news.shop.example") is news
    assert registry.signer_for("a@eu.mail.shop.example") is shop
    assert registry.signer_for("a@other.example") is other
    assert registry.signer_for("a@example") is None
    assert registry.signer_for("a@unknown.example") is None
    assert registry.signer_for("not an address") is None


def test_registry_replaces_a_rotated_key(key_pem) -> None:
    registry = DkimRegistry([DkimSigner("shop.example", "s1", key_pem)])
    registry.add(DkimSigner("shop.example", "s2", key_pem))
    assert registry.signer_for("a@shop.example").selector == "s2"


def test_idn_domain_is_signed_as_a_label(key_pem) -> None:
    signer = DkimSigner("bücher.example", "s1", key_pem)
    assert signer.domain == "xn--bcher-kva.example"
    assert DkimRegistry([signer]).signer_for("a@Bücher.example") is signer
