"""A print house's SFTP drop (asyncssh, STACK-NOTES section 5): key-only, one root per user.

``SftpDrop(root, {"user": public_key_line})`` serves on 127.0.0.1 in a thread of
its own event loop; ``host_key`` is its public host key line to pin. Each user
sees ``root/<user>`` as ``/``. ``fail_writes_after(n)`` makes the n+1-th file
opened for writing fail with "disk full" (SSH_FX_FAILURE), once.
"""

from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path
from types import TracebackType
from typing import Any

import asyncssh


class _Server(asyncssh.SSHServer):
    def __init__(self, users: dict[str, str]) -> None:
        self._users = users
        self._conn: asyncssh.SSHServerConnection | None = None

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self._conn = conn

    def begin_auth(self, username: str) -> bool:
        if username in self._users and self._conn is not None:
            self._conn.set_authorized_keys(asyncssh.import_authorized_keys(self._users[username]))
        return True

    def password_auth_supported(self) -> bool:
        return False


class SftpDrop:
    def __init__(self, root: Path, users: dict[str, str]) -> None:
        self.root = root
        self.users = users
        self.host_private = asyncssh.generate_private_key("ssh-ed25519")
        self.host_key = self.host_private.export_public_key().decode().strip()
        self.port = 0
        self._writes_left: int | None = None
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._listener: Any = None

    def fail_writes_after(self, files: int) -> None:
        with self._lock:
            self._writes_left = files

    def _may_write(self) -> bool:
        with self._lock:
            if self._writes_left is None:
                return True
            if self._writes_left == 0:
                self._writes_left = None
                return False
            self._writes_left -= 1
            return True

    def __enter__(self) -> SftpDrop:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._listen(), self._loop)
        self._listener = future.result(10)
        self.port = self._listener.sockets[0].getsockname()[1]
        return self

    async def _listen(self) -> Any:
        drop = self

        class UserRoot(asyncssh.SFTPServer):
            def __init__(self, chan: asyncssh.SSHServerChannel[bytes]) -> None:
                folder = drop.root / chan.get_extra_info("username")
                folder.mkdir(parents=True, exist_ok=True)
                super().__init__(chan, chroot=os.fsencode(folder))

            def open(self, path: bytes, pflags: int, attrs: asyncssh.SFTPAttrs) -> object:
                if pflags & asyncssh.FXF_WRITE and not drop._may_write():
                    raise asyncssh.SFTPFailure("disk full")
                return super().open(path, pflags, attrs)

        return await asyncssh.listen("127.0.0.1", 0, server_host_keys=[self.host_private],
                                     server_factory=lambda: _Server(self.users),
                                     sftp_factory=UserRoot)

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        async def stop() -> None:
            self._listener.close()
            await self._listener.wait_closed()

        asyncio.run_coroutine_threadsafe(stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()


def client_key() -> tuple[str, str]:
    """(private key in OpenSSH PEM, public key line) of a new ed25519 client key."""
    key = asyncssh.generate_private_key("ssh-ed25519")
    return key.export_private_key().decode(), key.export_public_key().decode().strip()
