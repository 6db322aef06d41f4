"""The local directory source: a folder polled on the source's schedule.

Files go through the shared lifecycle (``files``): complete files only, each
record once, then ``processed/`` or ``failed/`` beside them with a result file.
"""

from __future__ import annotations

from pathlib import Path

from tidings.ingest.pipeline import Pipeline, Tally
from tidings.ingest.sources import files
from tidings.ingest.sources.config import DirectorySource

__all__ = ["DirectoryPoller"]


class DirectoryPoller:
    def __init__(self, config: DirectorySource, pipeline: Pipeline, project_root: Path) -> None:
        folder = Path(config.path)
        self.folder = folder if folder.is_absolute() else project_root / folder
        self.files = files.FileSource(files.LocalStore(self.folder), config, pipeline,
                                      config.name, config.message_type, config.tenant,
                                      config.batch_size)

    async def run_once(self) -> Tally:
        return await self.files.run_once()
