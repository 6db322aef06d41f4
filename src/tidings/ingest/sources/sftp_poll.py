"""The SFTP poller: visits a partner's SFTP server on the source's schedule.

Each run connects (password or private key from the environment variables the
configuration names), lists ``remote_dir``, and takes the complete files
through the shared lifecycle (``files``): download to a temporary file,
ingest, then rename on the server into ``processed/`` or ``failed/`` with the
result file uploaded beside it. The ``stable`` rule remembers sizes between
runs, so a file still growing at one visit is taken at a later one.

asyncssh errors become ``SourceError`` here. Without ``known_hosts`` any host
key is accepted: pin the partner's key in production.
"""

from __future__ import annotations

import contextlib
import posixpath
import tempfile
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import asyncssh

from tidings.ingest.pipeline import Pipeline, Tally
from tidings.ingest.sources import files
from tidings.ingest.sources.config import SftpPollSource
from tidings.ingest.sources.errors import SourceError

__all__ = ["SftpPoller", "SftpStore"]

SSH_ERRORS = (asyncssh.Error, OSError)


class SftpStore:
    """A folder on an SFTP server; ``sftp`` is set for the length of one visit."""

    def __init__(self, remote_dir: str) -> None:
        self.remote_dir = remote_dir
        self.sftp: asyncssh.SFTPClient | None = None

    def _client(self) -> asyncssh.SFTPClient:
        if self.sftp is None:
            raise SourceError("not connected")
        return self.sftp

    def _path(self, *parts: str) -> str:
        return posixpath.join(self.remote_dir, *parts)

    async def entries(self) -> list[files.Entry]:
        found = []
        for item in await self._client().readdir(self.remote_dir):
            attrs = item.attrs
            if attrs.type == asyncssh.FILEXFER_TYPE_REGULAR:
                found.append(files.Entry(str(item.filename), int(attrs.size or 0),
                                         float(attrs.mtime or 0)))
        return found

    @contextlib.asynccontextmanager
    async def local(self, name: str) -> AsyncIterator[Path]:
        with tempfile.TemporaryDirectory(prefix="tidings-sftp-") as folder:
            path = Path(folder) / "download"
            await self._client().get(self._path(name), str(path))
            yield path

    async def file_away(self, name: str, folder: str, result: Path,
                        marker: str | None) -> None:
        sftp = self._client()
        target = self._path(folder)
        if not await sftp.isdir(target):
            await sftp.mkdir(target)
        final = name
        n = 0
        while await sftp.exists(posixpath.join(target, final)):
            n += 1
            final = f"{name}.{n}"
        await sftp.put(str(result), posixpath.join(target, final + files.RESULT_SUFFIX))
        await sftp.rename(self._path(name), posixpath.join(target, final))
        if marker is not None and await sftp.exists(self._path(marker)):
            await sftp.rename(self._path(marker),
                              posixpath.join(target, final + files.DONE_SUFFIX))


class SftpPoller:
    def __init__(self, config: SftpPollSource, pipeline: Pipeline,
                 environ: Mapping[str, str]) -> None:
        self.config = config
        self.secrets = _secrets(config, environ)
        self.store = SftpStore(config.remote_dir)
        self.files = files.FileSource(self.store, config, pipeline, config.name,
                                      config.message_type, config.tenant, config.batch_size)

    async def run_once(self) -> Tally:
        cfg = self.config
        try:
            async with asyncssh.connect(
                    cfg.host, cfg.port, username=cfg.username,
                    known_hosts=cfg.known_hosts, connect_timeout=cfg.connect_timeout_seconds,
                    **self.secrets) as conn, conn.start_sftp_client() as sftp:
                self.store.sftp = sftp
                try:
                    return await self.files.run_once()
                finally:
                    self.store.sftp = None
        except SSH_ERRORS as exc:
            raise SourceError(f"SFTP {cfg.host}:{cfg.port}: {exc}") from exc


def _secrets(config: SftpPollSource, environ: Mapping[str, str]) -> dict[str, Any]:
    if config.private_key_env is not None:
        text = environ.get(config.private_key_env)
        if not text:
            raise SourceError(f"environment variable {config.private_key_env} is not set")
        try:
            key = asyncssh.import_private_key(text)
        except (asyncssh.KeyImportError, ValueError) as exc:
            raise SourceError(f"{config.private_key_env}: not a private key: {exc}") from exc
        return {"client_keys": [key], "password": None}
    assert config.password_env is not None
    password = environ.get(config.password_env)
    if password is None:
        raise SourceError(f"environment variable {config.password_env} is not set")
    return {"password": password, "client_keys": None}
