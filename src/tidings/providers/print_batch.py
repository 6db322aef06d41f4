"""A print house's batch drop: letters as PDFs plus a manifest CSV, uploaded over SFTP.

The provider is meant to run in a nightly send window (the provider's
``interval_min``/``interval_max``) with a large bulk size: each ``send_batch``
call is one batch. :func:`build_batch` lays it out (pure, no I/O)::

    <batch>/00001-<outbox id>.pdf      one file per letter, in claim order
    <batch>/00002-<outbox id>.pdf
    <batch>/manifest.csv              one row per letter: file, outbox_id, message_id,
                                      pages, page_size, sha256, name, line1, line2,
                                      postal_code, city, region, country

The batch name is ``tidings-`` plus a hash of its letters' outbox ids and
Message-IDs, so a retry of the same letters is the same batch. The upload
writes everything into ``.<batch>.part`` under the remote folder, then renames
that folder to ``<batch>`` in one SFTP rename: the print house never sees a
half-written batch, and a leftover ``.part`` folder of a failed attempt is
removed first. A ``<batch>`` folder already there means an earlier attempt got
through before its result was lost: the letters count as sent, nothing is
uploaded twice.

Outcomes: every letter of an uploaded batch is ``Sent(provider_id="<batch>/<file>",
code="uploaded")``; an envelope that is not a letter, or whose PDF does not
open, is ``Failed`` alone (the rest still go); a connection, authentication,
host-key or SFTP failure defers the whole batch with ``failover=True``
(codes "connect", "timeout", "auth", "host-key", "sftp"). The server's host key
is pinned (``host_key``): production never connects to an unverified host.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import logging
import posixpath
from collections.abc import Callable, Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import asyncssh
from pydantic import SecretStr
from pypdf import PdfReader
from pypdf.errors import PyPdfError

from tidings.channels_build.envelopes import LetterEnvelope
from tidings.domain.outcomes import Deferred, Failed, Outcome, Sent
from tidings.providers import errors
from tidings.providers.base import Envelope

__all__ = ["MANIFEST_COLUMNS", "MANIFEST_NAME", "Batch", "PrintBatchProvider", "build_batch"]

MANIFEST_NAME = "manifest.csv"
MANIFEST_COLUMNS = ("file", "outbox_id", "message_id", "pages", "page_size", "sha256", "name",
                    "line1", "line2", "postal_code", "city", "region", "country")
DEFAULT_TIMEOUT_SECONDS = 60.0
UPLOADED = "uploaded"

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Batch:
    """One batch as it lands in the print house's folder."""

    name: str
    files: list[tuple[str, bytes]]
    """(file name, content) in upload order; the manifest comes last."""
    letters: dict[int, str]
    """Outbox id -> the letter's file name."""


def build_batch(letters: Sequence[LetterEnvelope]) -> Batch:
    """Lay out ``letters`` as PDFs plus manifest; ``ValueError`` if a PDF does not open."""
    if not letters:
        raise ValueError("a batch needs at least one letter")
    digest = hashlib.sha256()
    for letter in letters:
        digest.update(f"{letter.key}\x00{letter.message_id}\x00".encode())
    name = f"tidings-{digest.hexdigest()[:20]}"
    files: list[tuple[str, bytes]] = []
    rows: list[dict[str, str]] = []
    names: dict[int, str] = {}
    for number, letter in enumerate(letters, start=1):
        file_name = f"{number:05d}-{letter.key}.pdf"
        files.append((file_name, letter.data))
        rows.append(_manifest_row(file_name, letter))
        names[letter.key] = file_name
    files.append((MANIFEST_NAME, _csv(rows)))
    return Batch(name, files, names)


def page_count(pdf: bytes) -> int:
    """Pages of ``pdf``; ``ValueError`` when it does not open as a PDF."""
    try:
        return len(PdfReader(io.BytesIO(pdf)).pages)
    except (PyPdfError, ValueError, OSError) as exc:
        raise ValueError(f"letter PDF does not open: {type(exc).__name__}") from exc


def _manifest_row(file_name: str, letter: LetterEnvelope) -> dict[str, str]:
    address = letter.address
    return {"file": file_name, "outbox_id": str(letter.key), "message_id": letter.message_id,
            "pages": str(page_count(letter.data)), "page_size": letter.page_size,
            "sha256": hashlib.sha256(letter.data).hexdigest(), "name": address.name,
            "line1": address.line1, "line2": address.line2 or "",
            "postal_code": address.postal_code or "", "city": address.city,
            "region": address.region or "", "country": address.country.upper()}


def _csv(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=MANIFEST_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def _run(make: Callable[[], Coroutine[Any, Any, str]]) -> str:
    """Run a coroutine to its end from sync code, even in a thread whose loop is running."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make())
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="print-batch") as pool:
        return pool.submit(lambda: asyncio.run(make())).result()


class _UploadFailed(Exception):
    def __init__(self, outcome: Deferred) -> None:
        super().__init__(outcome.reason)
        self.outcome = outcome


class PrintBatchProvider:
    """Uploads each ``send_batch`` call as one complete batch to an SFTP folder."""

    max_batch: int = 5000
    max_recipients: int = 1
    max_message_bytes: int = 20_000_000

    def __init__(
        self,
        name: str,
        *,
        host: str,
        port: int = 22,
        username: str,
        client_key: SecretStr,
        host_key: str,
        remote_dir: str = ".",
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        max_batch: int | None = None,
    ) -> None:
        try:
            self._client_key = asyncssh.import_private_key(client_key.get_secret_value())
            self._host_key = asyncssh.import_public_key(host_key)
        except (asyncssh.KeyImportError, ValueError) as exc:
            raise errors.ProviderConfigError(f"print_batch SSH key unreadable: {exc}") from exc
        self.name = name
        self.max_batch = max_batch or type(self).max_batch
        self._host, self._port, self._username = host, port, username
        self._remote_dir = remote_dir.rstrip("/") or "/"
        self._timeout_seconds = timeout_seconds

    def __repr__(self) -> str:
        return (f"PrintBatchProvider(name={self.name!r}, host={self._host!r}, "
                f"port={self._port}, username={self._username!r}, dir={self._remote_dir!r})")

    def send_batch(self, envelopes: Sequence[Envelope]) -> list[Outcome]:
        outcomes: dict[int, Outcome] = {}
        letters: list[LetterEnvelope] = []
        for envelope in envelopes:
            refused = self._refuse_early(envelope)
            if refused is None:
                letters.append(envelope)  # type: ignore[arg-type]  # checked just above
            else:
                outcomes[id(envelope)] = refused
        if letters:
            outcomes.update(self._deliver(letters))
        return [outcomes[id(envelope)] for envelope in envelopes]

    def close(self) -> None:
        return None  # one connection per batch, closed when the batch is done

    def _refuse_early(self, envelope: Envelope) -> Outcome | None:
        if not isinstance(envelope, LetterEnvelope):
            return Failed("not a letter envelope (no postal address)", code="invalid")
        if len(envelope.data) > self.max_message_bytes:
            return Failed(f"letter is {len(envelope.data)} bytes, limit "
                          f"{self.max_message_bytes}", code="invalid")
        try:
            page_count(envelope.data)
        except ValueError as exc:
            return Failed(str(exc), code="invalid")
        return None

    def _deliver(self, letters: list[LetterEnvelope]) -> dict[int, Outcome]:
        batch = build_batch(letters)
        try:
            note = _run(lambda: asyncio.wait_for(self._upload(batch), self._timeout_seconds))
        except _UploadFailed as exc:
            return {id(letter): exc.outcome for letter in letters}
        except TimeoutError:
            deferred = Deferred(f"timeout: batch {batch.name} not confirmed within "
                                f"{self._timeout_seconds} s", failover=True, code="timeout")
            return {id(letter): deferred for letter in letters}
        return {id(letter): Sent(response=f"{note} {batch.name}",
                                 provider_id=f"{batch.name}/{batch.letters[letter.key]}",
                                 code=UPLOADED)
                for letter in letters}

    async def _upload(self, batch: Batch) -> str:
        final = posixpath.join(self._remote_dir, batch.name)
        partial = posixpath.join(self._remote_dir, f".{batch.name}.part")
        try:
            async with asyncssh.connect(
                    self._host, self._port, username=self._username,
                    client_keys=[self._client_key], known_hosts=([self._host_key], [], []),
                    connect_timeout=self._timeout_seconds) as conn, \
                    conn.start_sftp_client() as sftp:
                if await sftp.exists(final):
                    return "already uploaded as"
                if await sftp.exists(partial):
                    await sftp.rmtree(partial)
                await sftp.mkdir(partial)
                for file_name, content in batch.files:
                    async with sftp.open(posixpath.join(partial, file_name), "wb") as remote:
                        await remote.write(content)
                await sftp.rename(partial, final)
        except asyncssh.PermissionDenied as exc:
            raise _UploadFailed(Deferred(f"auth: {exc.reason}", failover=True,
                                         code="auth")) from exc
        except asyncssh.HostKeyNotVerifiable as exc:
            raise _UploadFailed(Deferred(f"host-key: {exc.reason}", failover=True,
                                         code="host-key")) from exc
        except asyncssh.SFTPError as exc:
            raise _UploadFailed(Deferred(f"sftp: {exc.reason}", failover=True,
                                         code="sftp")) from exc
        except (OSError, asyncssh.Error) as exc:
            raise _UploadFailed(Deferred(f"connect: {type(exc).__name__}: {exc}"[:300],
                                         failover=True, code="connect")) from exc
        return "uploaded as"
