"""Real local SMTP servers for the provider tests: aiosmtpd on 127.0.0.1.

``smtp_server(**kwargs)`` starts an aiosmtpd ``Controller`` on a free port with a
:class:`ScriptedHandler` whose replies each test sets; ``tls_files`` is a
self-signed certificate for 127.0.0.1/localhost made for the session.
"""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from pydantic import SecretStr

from tidings.providers.base import Envelope
from tidings.providers.smtp import SmtpProvider

QUEUED = "250 2.0.0 Ok: queued as ABC123"
USER = "mailer"
PASSWORD = "s3cret-Pa55word-never-logged"


@dataclass
class Script:
    """What the server answers; every unlisted recipient gets 250."""

    mail: str = "250 OK"
    rcpt: dict[str, str] = field(default_factory=dict)
    data: str = QUEUED
    drop_after_data: bool = False


@dataclass
class Received:
    peer: tuple[str, int]
    mail_from: str
    rcpt_tos: list[str]
    mail_options: list[str]
    content: bytes


class ScriptedHandler:
    """An aiosmtpd handler answering from ``script`` and keeping what it accepted."""

    def __init__(self, pipelining: bool = False) -> None:
        self.script = Script()
        self.received: list[Received] = []
        self.rsets = 0
        self.pipelining = pipelining

    async def handle_EHLO(self, server, session, envelope, hostname, responses) -> list[str]:
        session.host_name = hostname
        if self.pipelining:  # aiosmtpd reads pipelined commands; it just does not say so
            responses.insert(1, "250-PIPELINING")
        return responses

    async def handle_MAIL(self, server, session, envelope, address, mail_options) -> str:
        if self.script.mail.startswith("250"):
            envelope.mail_from = address
            envelope.mail_options.extend(mail_options)
        return self.script.mail

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        reply = self.script.rcpt.get(address, "250 OK")
        if reply.startswith("250"):
            envelope.rcpt_tos.append(address)
        return reply

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.script.drop_after_data:
            server.transport.close()
            return "250 never read by the client"
        if self.script.data.startswith("250"):
            self.received.append(
                Received(
                    peer=tuple(session.peer),
                    mail_from=envelope.mail_from,
                    rcpt_tos=list(envelope.rcpt_tos),
                    mail_options=list(envelope.mail_options),
                    content=envelope.original_content,
                )
            )
        return self.script.data

    async def handle_RSET(self, server, session, envelope) -> str:
        self.rsets += 1
        return "250 OK"

    @property
    def peers(self) -> set[tuple[str, int]]:
        return {r.peer for r in self.received}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def authenticator(server, session, envelope, mechanism, auth_data) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (
        auth_data.login.decode() == USER and auth_data.password.decode() == PASSWORD
    )
    return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535


@contextmanager
def _server(handler: ScriptedHandler, **kwargs: Any) -> Iterator[Controller]:
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), **kwargs)
    controller.start()
    try:
        yield controller
    finally:
        controller.stop()


ServerFactory = Callable[..., AbstractContextManager[Controller]]


@pytest.fixture(params=["classic", "pipelining"])
def handler(request: pytest.FixtureRequest) -> ScriptedHandler:
    """Every test that talks to the scripted server runs with and without PIPELINING."""
    return ScriptedHandler(pipelining=request.param == "pipelining")


@pytest.fixture
def smtp_server(handler: ScriptedHandler) -> ServerFactory:
    """``with smtp_server(**controller_kwargs) as controller:`` using ``handler``."""

    def start(**kwargs: Any) -> AbstractContextManager[Controller]:
        return _server(handler, **kwargs)

    return start


@pytest.fixture
def plain_server(smtp_server: ServerFactory) -> Iterator[Controller]:
    with smtp_server() as controller:
        yield controller


def provider_for(controller: Controller, **overrides: Any) -> SmtpProvider:
    settings: dict[str, Any] = {
        "security": "none",
        "local_hostname": "client.tidings.test",
        "timeout_seconds": 5.0,
    }
    settings.update(overrides)
    return SmtpProvider("test-smtp", controller.hostname, controller.port, **settings)


def credentials(password: str = PASSWORD) -> dict[str, Any]:
    return {"username": USER, "password": SecretStr(password)}


def message(i: int = 1, *, to: str = "jane@example.org", body: str = "") -> bytes:
    msg = EmailMessage(policy=SMTP)
    msg["From"] = "Shop <orders@shop.example>"
    msg["To"] = to
    msg["Subject"] = f"Your order EX-{100000 + i}"
    msg["Date"] = "Mon, 23 Nov 2026 14:03:22 +0000"
    msg["Message-ID"] = f"<msg-{i}@shop.example>"
    msg.set_content(body or f"Order EX-{100000 + i} has shipped.\n.\nA line with a dot above.\n")
    return msg.as_bytes()


def envelope(i: int = 1, *, recipients: list[str] | None = None, data: bytes | None = None,
             sender: str = "orders@shop.example") -> Envelope:
    rcpts = recipients if recipients is not None else ["jane@example.org"]
    return Envelope(
        message_id=f"<msg-{i}@shop.example>",
        sender=sender,
        recipients=rcpts,
        data=data if data is not None else message(i, to=rcpts[0] if rcpts else "x@example.org"),
        key=i,
    )


@dataclass(frozen=True)
class TlsFiles:
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, self.key)
        return context


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    folder = tmp_path_factory.mktemp("tls")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=7))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    files = TlsFiles(folder / "cert.pem", folder / "key.pem")
    files.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    return files


@dataclass(frozen=True)
class Kit:
    """The helpers above, handed to tests as one fixture (conftest is not importable)."""

    provider_for: Callable[..., SmtpProvider] = provider_for
    envelope: Callable[..., Envelope] = envelope
    message: Callable[..., bytes] = message
    credentials: Callable[..., dict[str, Any]] = credentials
    free_port: Callable[[], int] = free_port
    authenticator: Callable[..., AuthResult] = authenticator
    password: str = PASSWORD


@pytest.fixture
def kit() -> Kit:
    return Kit()
