"""A real SMTP server for tests (aiosmtpd), recording what it receives."""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    def parsed(self) -> EmailMessage:
        message = email.message_from_bytes(self.data, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        return message


@dataclass
class Recorder:
    delay_seconds: float = 0.0
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.delay_seconds:
            await asyncio.sleep(self.delay_seconds)
        with self.lock:
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos),
                                          bytes(envelope.original_content or envelope.content)))
        return "250 2.0.0 Ok: queued"

    def snapshot(self) -> list[Received]:
        with self.lock:
            return list(self.received)


class SmtpServer:
    def __init__(self, delay_seconds: float = 0.0) -> None:
        self.recorder = Recorder(delay_seconds)
        self.controller = Controller(self.recorder, hostname="127.0.0.1", port=free_port(),
                                     decode_data=False)

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()

    @property
    def port(self) -> int:
        return int(self.controller.port)


def use_smtp(project_dir: Any, port: int, bulk_size: int = 100) -> None:
    """Put an SMTP provider first on the email channel of a scaffolded project."""
    path = project_dir / "tidings.toml"
    text = path.read_text()
    smtp = (f'[[providers]]\nname = "smtp"\nchannel = "email"\ntype = "smtp"\n'
            f'from_address = "ACME Outdoor <orders@acme.example>"\nbulk_size = {bulk_size}\n'
            f'retry_interval = "00:00:01"\nretry_max_interval = "00:00:05"\n'
            f'settings = {{ host = "127.0.0.1", port = {port}, security = "none" }}\n\n')
    marker = "# The embedded default"
    assert marker in text
    path.write_text(text.replace(marker, smtp + marker, 1))
