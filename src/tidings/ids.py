"""Random identifiers (Message-IDs, keys) drawn from the OS a batch at a time.

``uuid.uuid4()`` reads 16 bytes from ``os.urandom``, which lets go of the GIL
for the system call; a thread that wants the GIL back may then wait a whole
switch interval (5 ms) behind a busy thread of the same process. Ingesting a
batch asked for one per message, so under load most of its time went there.
Here each thread reads 4 KiB at once and hands out 128-bit values from it. The
buffer belongs to one process (a forked child reads its own) and one thread.
"""

from __future__ import annotations

import os
import threading

__all__ = ["random_hex"]

_BYTES = 16
_PER_READ = 256
_local = threading.local()


def random_hex() -> str:
    """32 hexadecimal digits from the OS's cryptographic random source."""
    pool: list[str] | None = getattr(_local, "pool", None)
    if not pool or _local.pid != os.getpid():
        data = os.urandom(_BYTES * _PER_READ).hex()
        pool = _local.pool = [data[i:i + 2 * _BYTES] for i in range(0, len(data), 2 * _BYTES)]
        _local.pid = os.getpid()
    return pool.pop()
