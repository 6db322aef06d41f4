"""The errors of the sources, drawn as a tree.

```
Exception
 └── SourceError      a source's server or store failed (connection refused, lost,
                      permission denied); the runner records it and retries later
```

Foreign errors (aio-pika, botocore, asyncssh, OSError) are translated once, in
the source module that meets them, with ``raise SourceError(...) from exc``.
"""

from __future__ import annotations

__all__ = ["SourceError"]


class SourceError(Exception):
    """A source could not reach or use its server or store."""
