"""Tidings' own SFTP server: partners upload into their own folder, key-only.

asyncssh serves ``host:port`` with the configured host key. Each partner logs
in with its name and a key from its ``authorized_keys`` file; passwords are
refused. A partner's SFTP root is ``<root>/<partner>/`` (asyncssh maps every
path into it: ``/`` is that folder, ``..`` cannot leave it), where it uploads
files and later finds them, with their result files, in ``processed/`` or
``failed/``.

On the source's schedule each partner folder is taken through the shared
lifecycle (``files``) like a local directory, with the partner's tenant (or
the source's). ``chroot`` only maps paths: symlinks something else puts on
disk inside a root are followed, so nothing but the server should write there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import asyncssh

from tidings.ingest.pipeline import Pipeline, Tally
from tidings.ingest.sources import files
from tidings.ingest.sources.config import SftpServerSource
from tidings.ingest.sources.errors import SourceError

__all__ = ["SftpServer"]


class SftpServer:
    def __init__(self, config: SftpServerSource, pipeline: Pipeline, project_root: Path) -> None:
        self.config = config
        root = Path(config.root)
        self.root = root if root.is_absolute() else project_root / root
        self.host_key = _relative(project_root, config.host_key)
        self.keys = {p.name: _relative(project_root, p.authorized_keys) for p in config.partners}
        self.folders = {p.name: files.FileSource(
            files.LocalStore(self.root / p.name), config, pipeline, config.name,
            config.message_type, p.tenant or config.tenant, config.batch_size)
            for p in config.partners}
        self.acceptor: asyncssh.SSHAcceptor | None = None

    @property
    def port(self) -> int:
        return self.acceptor.get_port() if self.acceptor is not None else 0

    async def start(self) -> None:
        for name in self.folders:
            (self.root / name).mkdir(parents=True, exist_ok=True)
        try:
            authorized = {name: asyncssh.read_authorized_keys(str(path))
                          for name, path in self.keys.items()}
            self.acceptor = await asyncssh.listen(
                self.config.host, self.config.port, server_host_keys=[str(self.host_key)],
                server_factory=lambda: _Server(authorized),
                sftp_factory=lambda chan: _PartnerRoot(chan, self.root))
        except (asyncssh.Error, OSError, ValueError) as exc:
            raise SourceError(f"SFTP server on {self.config.host}:{self.config.port}: "
                              f"{exc}") from exc

    async def run_once(self) -> Tally:
        total = Tally()
        for source in self.folders.values():
            total.add(await source.run_once())
        return total

    async def close(self) -> None:
        if self.acceptor is not None:
            self.acceptor.close()
            await self.acceptor.wait_closed()
            self.acceptor = None


class _Server(asyncssh.SSHServer):
    def __init__(self, authorized: dict[str, Any]) -> None:
        self._authorized = authorized
        self._conn: asyncssh.SSHServerConnection | None = None

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self._conn = conn

    def begin_auth(self, username: str) -> bool:
        keys = self._authorized.get(username)
        if keys is not None and self._conn is not None:
            self._conn.set_authorized_keys(keys)
        return True

    def password_auth_supported(self) -> bool:
        return False

    def public_key_auth_supported(self) -> bool:
        return True


class _PartnerRoot(asyncssh.SFTPServer):
    def __init__(self, chan: asyncssh.SSHServerChannel[Any], root: Path) -> None:
        folder = root / str(chan.get_extra_info("username"))
        folder.mkdir(parents=True, exist_ok=True)
        super().__init__(chan, chroot=str(folder).encode())


def _relative(project_root: Path, value: str) -> Path:
    path = Path(value)
    return path if path.is_absolute() else project_root / path
