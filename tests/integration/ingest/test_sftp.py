"""SFTP both ways: partners upload to Tidings' own server, and Tidings polls a partner's.

Real round trips over 127.0.0.1 with asyncssh on both ends: key-only login to
our server (passwords and unknown keys refused), atomic-rename uploads, the
``.done`` marker rule, result files the partner can download, and the poller
logging in with a key or a password taken from an environment variable.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path
from typing import Any

import asyncssh
import orjson
import pytest
from sqlalchemy import select

from tidings.ingest.pipeline import Pipeline
from tidings.ingest.sources.config import SftpPollSource, SftpServerSource
from tidings.ingest.sources.errors import SourceError
from tidings.ingest.sources.sftp_poll import SftpPoller
from tidings.ingest.sources.sftp_server import SftpServer
from tidings.runtime.core import Runtime
from tidings.storage import tables

FIXTURES = Path(__file__).parents[2] / "fixtures" / "ingest"
BATCH = FIXTURES / "reasons" / "bad_value.txt"


@pytest.fixture
def keys(tmp_path: Path) -> dict[str, Any]:
    folder = tmp_path / "keys"
    folder.mkdir()
    host = asyncssh.generate_private_key("ssh-ed25519")
    partner = asyncssh.generate_private_key("ssh-ed25519")
    stranger = asyncssh.generate_private_key("ssh-ed25519")
    host.write_private_key(str(folder / "host_key"))
    partner.write_public_key(str(folder / "partner.pub"))
    return {"host": folder / "host_key", "authorized": folder / "partner.pub",
            "partner": partner, "stranger": stranger}


def server_config(tmp_path: Path, keys: dict[str, Any], **overrides: Any) -> SftpServerSource:
    return SftpServerSource.model_validate({
        "name": "partner-drop", "type": "sftp_server", "message_type": "fw-orders",
        "host": "127.0.0.1", "port": 0, "host_key": str(keys["host"]),
        "root": str(tmp_path / "sftp"), "partners": [
            {"name": "oms", "authorized_keys": str(keys["authorized"]), "tenant": "acme"}],
        **overrides})


def events(runtime: Runtime, source: str) -> list[str]:
    e = tables.events
    with runtime.engine.connect() as conn:
        return list(conn.execute(select(e.c.external_id).where(e.c.source == source)).scalars())


def test_partner_uploads_to_our_server_and_reads_the_result(
        tmp_path: Path, keys: dict[str, Any], runtime: Runtime, pipeline: Pipeline) -> None:
    server = SftpServer(server_config(tmp_path, keys), pipeline, tmp_path)

    async def scenario() -> dict[str, Any]:
        await server.start()
        try:
            async with asyncssh.connect("127.0.0.1", server.port, username="oms",
                                        client_keys=[keys["partner"]], known_hosts=None) as c, \
                    c.start_sftp_client() as sftp:
                await sftp.put(str(BATCH), "/batch.txt.part")
                assert (await server.run_once()).records == 0  # still being written
                await sftp.rename("/batch.txt.part", "/batch.txt")
                tally = await server.run_once()
                listed = sorted(await sftp.listdir("/failed"))
                assert listed == [".", "..", "batch.txt", "batch.txt.result.ndjson"]
                async with sftp.open("/failed/batch.txt.result.ndjson", "rb") as handle:
                    result = await handle.read()
                return {"tally": tally, "result": result}
        finally:
            await server.close()

    out = asyncio.run(scenario())
    assert (out["tally"].accepted, out["tally"].dead_lettered) == (2, 1)
    lines = [orjson.loads(line) for line in out["result"].splitlines()]
    assert [line.get("status") for line in lines[:-1]] == ["accepted", "dead_letter", "accepted"]
    assert lines[1]["location"] == "record 4 (ORD) at line 4 field status"
    assert len(events(runtime, "partner-drop")) == 2
    assert not (tmp_path / "sftp" / "oms" / "batch.txt").exists()


@pytest.mark.parametrize("login", [
    {"username": "oms", "password": "guess", "client_keys": None},
    {"username": "oms", "stranger": True},
    {"username": "intruder", "partner": True},
])
def test_our_server_takes_only_the_partners_key(tmp_path: Path, keys: dict[str, Any],
                                                pipeline: Pipeline, login: dict[str, Any]) -> None:
    server = SftpServer(server_config(tmp_path, keys), pipeline, tmp_path)
    options = dict(login)
    if options.pop("stranger", False):
        options["client_keys"] = [keys["stranger"]]
    if options.pop("partner", False):
        options["client_keys"] = [keys["partner"]]

    async def scenario() -> None:
        await server.start()
        try:
            with pytest.raises(asyncssh.PermissionDenied):
                async with asyncssh.connect("127.0.0.1", server.port, known_hosts=None,
                                            **options):
                    pass
        finally:
            await server.close()

    asyncio.run(scenario())


def test_a_partner_cannot_leave_its_folder(tmp_path: Path, keys: dict[str, Any],
                                           pipeline: Pipeline) -> None:
    server = SftpServer(server_config(tmp_path, keys), pipeline, tmp_path)
    (tmp_path / "sftp" / "secret.txt").parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / "sftp" / "secret.txt").write_text("other partner's data")

    async def scenario() -> list[str]:
        await server.start()
        try:
            async with asyncssh.connect("127.0.0.1", server.port, username="oms",
                                        client_keys=[keys["partner"]], known_hosts=None) as c, \
                    c.start_sftp_client() as sftp:
                assert await sftp.realpath("..") == "/"
                return sorted(await sftp.listdir("/.."))
        finally:
            await server.close()

    assert "secret.txt" not in asyncio.run(scenario())


class _PasswordServer(asyncssh.SSHServer):
    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        return (username, password) == ("tidings", "s3cret-pass")


@pytest.mark.parametrize("secret", ["key", "password"])
def test_poller_takes_complete_files_from_a_partner_server(
        tmp_path: Path, keys: dict[str, Any], runtime: Runtime, pipeline: Pipeline,
        monkeypatch: pytest.MonkeyPatch, secret: str) -> None:
    """The partner's server is asyncssh too: key-only (ours) or password-only."""
    partner_root = tmp_path / "partner"
    outbound = partner_root / ("oms" if secret == "key" else "") / "outbound"
    outbound.mkdir(parents=True)
    shutil.copy(BATCH, outbound / "batch.txt")
    shutil.copy(BATCH, outbound / "later.txt")  # no .done marker yet
    (outbound / "batch.txt.done").write_text("")
    base: dict[str, Any] = {"name": "partner-poll", "type": "sftp_poll", "tenant": "acme",
                            "message_type": "fw-orders", "host": "127.0.0.1",
                            "remote_dir": "/outbound", "complete": "done_marker"}
    if secret == "key":
        monkeypatch.setenv("PARTNER_KEY", keys["partner"].export_private_key().decode())
        base.update(username="oms", private_key_env="PARTNER_KEY")
    else:
        monkeypatch.setenv("PARTNER_PASSWORD", "s3cret-pass")
        base.update(username="tidings", password_env="PARTNER_PASSWORD")

    async def scenario() -> tuple[int, int]:
        if secret == "key":
            server: Any = SftpServer(server_config(tmp_path, keys, root=str(partner_root)),
                                     pipeline, tmp_path)
            await server.start()
            port, closer = server.port, server.close
        else:
            acceptor = await asyncssh.listen(
                "127.0.0.1", 0, server_host_keys=[str(keys["host"])],
                server_factory=_PasswordServer,
                sftp_factory=lambda chan: asyncssh.SFTPServer(chan, chroot=str(partner_root)))
            port = acceptor.get_port()

            async def closer() -> None:
                acceptor.close()
                await acceptor.wait_closed()
        try:
            poller = SftpPoller(SftpPollSource.model_validate({**base, "port": port}),
                                pipeline, dict(os.environ))
            first = await poller.run_once()
            second = await poller.run_once()
            return first.records, second.records
        finally:
            await closer()

    assert asyncio.run(scenario()) == (3, 0)
    assert sorted(p.name for p in (outbound / "failed").iterdir()) == [
        "batch.txt", "batch.txt.done", "batch.txt.result.ndjson"]
    assert (outbound / "later.txt").exists()
    assert len(events(runtime, "partner-poll")) == 2


def test_poller_reports_a_refused_login(tmp_path: Path, keys: dict[str, Any],
                                        pipeline: Pipeline,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARTNER_KEY", keys["stranger"].export_private_key().decode())
    server = SftpServer(server_config(tmp_path, keys), pipeline, tmp_path)

    async def scenario() -> None:
        await server.start()
        try:
            poller = SftpPoller(SftpPollSource.model_validate({
                "name": "partner-poll", "type": "sftp_poll", "tenant": "acme",
                "message_type": "fw-orders", "host": "127.0.0.1", "port": server.port,
                "username": "oms", "private_key_env": "PARTNER_KEY"}), pipeline,
                {"PARTNER_KEY": keys["stranger"].export_private_key().decode()})
            with pytest.raises(SourceError, match=r"SFTP 127\.0\.0\.1"):
                await poller.run_once()
        finally:
            await server.close()

    asyncio.run(scenario())
