"""The S3 source: objects under a bucket prefix, polled, then moved or tagged.

Objects are complete once listed (S3 writes are atomic), so the shared file
lifecycle (``files``) runs with the ``rename`` rule: only names still marked
as partial (``.tmp``, ``.part``...) are skipped. Each object is downloaded to
a temporary file, ingested (records keyed by the object's SHA-256 and record
number), and then, per ``when_done``:

- ``move``: copied to ``processed_prefix`` or ``failed_prefix`` and deleted;
- ``tag``: tagged ``tidings-status=processed|failed`` and left in place (a
  tagged object is never taken again).

The result file goes beside it (``<prefix><name>.result.ndjson``). botocore
errors become ``SourceError`` here.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import botocore.exceptions

from tidings.ingest.pipeline import Pipeline, Tally
from tidings.ingest.sources import files
from tidings.ingest.sources.config import FileRules, S3Source
from tidings.ingest.sources.errors import SourceError
from tidings.ingest.sources.sqs import client_for

__all__ = ["STATUS_TAG", "S3Poller", "S3Store"]

STATUS_TAG = "tidings-status"
BOTO_ERRORS = (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError)


class S3Store:
    def __init__(self, config: S3Source, client: Any) -> None:
        self.config, self.client = config, client

    async def entries(self) -> list[files.Entry]:
        found: list[files.Entry] = await self._call(self._entries)
        return found

    def _entries(self) -> list[files.Entry]:
        prefix, found = self.config.prefix, []
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.config.bucket, Prefix=prefix)
        for page in pages:
            for item in page.get("Contents", []):
                name = item["Key"][len(prefix):]
                if not name or "/" in name or self._tagged(item["Key"]):
                    continue
                found.append(files.Entry(name, int(item["Size"]),
                                         item["LastModified"].timestamp()))
        return found

    def _tagged(self, key: str) -> bool:
        if self.config.when_done != "tag":
            return False
        tags = self.client.get_object_tagging(Bucket=self.config.bucket, Key=key)["TagSet"]
        return any(tag["Key"] == STATUS_TAG for tag in tags)

    @contextlib.asynccontextmanager
    async def local(self, name: str) -> AsyncIterator[Path]:
        with tempfile.TemporaryDirectory(prefix="tidings-s3-") as folder:
            path = Path(folder) / "object"
            await self._call(self.client.download_file, self.config.bucket,
                             self.config.prefix + name, str(path))
            yield path

    async def file_away(self, name: str, folder: str, result: Path,
                        marker: str | None) -> None:
        await self._call(self._file_away, name, folder, result)

    def _file_away(self, name: str, folder: str, result: Path) -> None:
        bucket, key = self.config.bucket, self.config.prefix + name
        target = self.config.failed_prefix if folder == "failed" \
            else self.config.processed_prefix
        self.client.upload_file(str(result), bucket, target + name + files.RESULT_SUFFIX)
        if self.config.when_done == "tag":
            self.client.put_object_tagging(Bucket=bucket, Key=key, Tagging={"TagSet": [
                {"Key": STATUS_TAG, "Value": folder}]})
            return
        self.client.copy_object(Bucket=bucket, Key=target + name,
                                CopySource={"Bucket": bucket, "Key": key})
        self.client.delete_object(Bucket=bucket, Key=key)

    async def _call(self, method: Callable[..., Any], *args: Any) -> Any:
        try:
            return await asyncio.to_thread(method, *args)
        except BOTO_ERRORS as exc:
            raise SourceError(f"S3: {exc}") from exc


class S3Poller:
    def __init__(self, config: S3Source, pipeline: Pipeline, client: Any = None) -> None:
        self.store = S3Store(config, client or client_for("s3", config.region,
                                                          config.endpoint_url))
        rules = FileRules(complete="rename", processed_dir="processed", failed_dir="failed")
        self.files = files.FileSource(self.store, rules, pipeline, config.name,
                                      config.message_type, config.tenant, config.batch_size)

    async def run_once(self) -> Tally:
        return await self.files.run_once()
