"""The file lifecycle shared by the directory, own-SFTP, SFTP-poller and S3 sources.

A ``FileStore`` lists an inbox, copies a file to a local path, and files it
away; ``FileSource.run_once`` does the rest, the same for every store:

1. take only complete files (``Completeness``): ``rename`` skips names still
   being written (``.tmp``, ``.part``, ``.filepart``, ``.partial``, or a leading
   dot) and expects writers to rename when done; ``done_marker`` takes ``X``
   only once ``X.done`` exists; ``stable`` takes a file whose size and
   modification time were the same at the previous poll;
2. hash the local copy (SHA-256): records are keyed ``<source>:<hash>:<n>``,
   so a file read twice (a crash before it was moved) imports each record once;
3. run the pipeline, batch by batch, writing one line per record to the
   result file (``<name>.result.ndjson``: accepted with its event id,
   duplicate, or dead_letter with reason and location; last line: totals);
4. move the file, its result and its marker to ``processed/`` (every record
   accepted or a duplicate) or ``failed/`` (any dead letter).

A definition problem (a broken layout) leaves the file where it is and is
raised, so the source's status shows it; every later poll tries again.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import hashlib
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import orjson

from tidings.ingest import pipeline as pipelines
from tidings.ingest.deadletters import MAX_PAYLOAD_BYTES
from tidings.ingest.sources.config import FileRules

__all__ = [
    "DONE_SUFFIX", "RESULT_SUFFIX", "Completeness", "Entry", "FileSource", "FileStore",
    "LocalStore", "hash_file",
]

DONE_SUFFIX = ".done"
RESULT_SUFFIX = ".result.ndjson"
PARTIAL_SUFFIXES = (".tmp", ".part", ".filepart", ".partial", ".crdownload")
HASH_CHUNK_BYTES = 1 << 20
HASH_KEY_CHARS = 32


@dataclass(frozen=True, slots=True)
class Entry:
    name: str
    size: int
    mtime: float


class FileStore(Protocol):
    """An inbox of files: local folder, SFTP folder, or S3 prefix."""

    async def entries(self) -> list[Entry]: ...

    def local(self, name: str) -> contextlib.AbstractAsyncContextManager[Path]: ...

    async def file_away(self, name: str, folder: str, result: Path,
                        marker: str | None) -> None: ...


class Completeness:
    """Which listed files are complete, by one of the three rules (module doc)."""

    def __init__(self, rules: FileRules) -> None:
        self.rules = rules
        self._last: dict[str, tuple[int, float]] = {}

    def ready(self, entries: list[Entry]) -> list[Entry]:
        names = {e.name for e in entries}
        seen, self._last = self._last, {e.name: (e.size, e.mtime) for e in entries}
        out = []
        for entry in sorted(entries, key=lambda e: (e.mtime, e.name)):
            if not self._candidate(entry.name):
                continue
            if self.rules.complete == "done_marker" and entry.name + DONE_SUFFIX not in names:
                continue
            if self.rules.complete == "stable" and seen.get(entry.name) != (entry.size,
                                                                               entry.mtime):
                continue
            out.append(entry)
        return out

    def marker(self, name: str) -> str | None:
        return name + DONE_SUFFIX if self.rules.complete == "done_marker" else None

    def _candidate(self, name: str) -> bool:
        if name.startswith(".") or name.endswith((DONE_SUFFIX, RESULT_SUFFIX)):
            return False
        if name.lower().endswith(PARTIAL_SUFFIXES):
            return False
        return fnmatch.fnmatch(name, self.rules.pattern)


class FileSource:
    """Runs the lifecycle over one store (see the module doc)."""

    def __init__(self, store: FileStore, rules: FileRules, pipeline: pipelines.Pipeline,
                 source: str, message_type: str, tenant: str | None, batch_size: int) -> None:
        self.store, self.rules, self.pipeline = store, rules, pipeline
        self.source, self.message_type, self.tenant = source, message_type, tenant
        self.batch_size = batch_size
        self.completeness = Completeness(rules)

    async def run_once(self) -> pipelines.Tally:
        total = pipelines.Tally()
        for entry in self.completeness.ready(await self.store.entries()):
            total.add(await self.take(entry.name))
        return total

    async def take(self, name: str) -> pipelines.Tally:
        with tempfile.TemporaryDirectory(prefix="tidings-result-") as folder:
            result = Path(folder) / (name + RESULT_SUFFIX)
            async with self.store.local(name) as path:
                tally = await asyncio.to_thread(self._ingest, path, name, result)
            failed = tally.dead_lettered > 0
            await self.store.file_away(name, self.rules.failed_dir if failed
                                       else self.rules.processed_dir, result,
                                       self.completeness.marker(name))
        return tally

    def _ingest(self, path: Path, name: str, result: Path) -> pipelines.Tally:
        digest = hash_file(path)
        decoder = self.pipeline.decoder(self.message_type, self.tenant)
        head = pipelines.read_head(path, MAX_PAYLOAD_BYTES)
        job = pipelines.Job(self.source, self.message_type, self.tenant,
                            f"{self.source}:{digest[:HASH_KEY_CHARS]}", self.batch_size,
                            decoder.envelope(head), lambda: head)
        with result.open("wb") as out:
            def report(outcome: pipelines.Outcome) -> None:
                out.write(orjson.dumps(outcome.as_json()) + b"\n")

            tally = self.pipeline.run(decoder.decode_file(path), job, report)
            out.write(orjson.dumps({"file": name, "sha256": digest, "records": tally.records,
                                    "accepted": tally.accepted, "duplicates": tally.duplicates,
                                    "dead_lettered": tally.dead_lettered}) + b"\n")
        return tally


def hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(HASH_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


class LocalStore:
    """A local folder as an inbox (the directory source, and the own SFTP server's roots)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def entries(self) -> list[Entry]:
        return await asyncio.to_thread(self._entries)

    def _entries(self) -> list[Entry]:
        if not self.folder.is_dir():
            return []
        found = []
        for path in self.folder.iterdir():
            with contextlib.suppress(FileNotFoundError):
                stat = path.stat()
                if path.is_file():
                    found.append(Entry(path.name, stat.st_size, stat.st_mtime))
        return found

    @contextlib.asynccontextmanager
    async def local(self, name: str) -> AsyncIterator[Path]:
        yield self.folder / name

    async def file_away(self, name: str, folder: str, result: Path,
                        marker: str | None) -> None:
        await asyncio.to_thread(self._file_away, name, folder, result, marker)

    def _file_away(self, name: str, folder: str, result: Path, marker: str | None) -> None:
        target = self.folder / folder
        target.mkdir(parents=True, exist_ok=True)
        final = unique_name(name, lambda n: (target / n).exists())
        shutil.copyfile(result, target / (final + RESULT_SUFFIX))
        (self.folder / name).replace(target / final)
        if marker is not None:
            with contextlib.suppress(FileNotFoundError):
                (self.folder / marker).replace(target / (final + DONE_SUFFIX))


def unique_name(name: str, exists: Callable[[str], bool]) -> str:
    """``name``, or ``name.1``, ``name.2``... when a file of that name was filed before."""
    candidate, n = name, 0
    while exists(candidate):
        n += 1
        candidate = f"{name}.{n}"
    return candidate
