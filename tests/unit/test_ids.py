"""Identifiers from the pooled random source: well formed, distinct, per process."""

from __future__ import annotations

import os
import re
import threading

from tidings.ids import random_hex


def test_values_are_hex_and_distinct_across_refills_and_threads() -> None:
    seen: list[str] = []
    lock = threading.Lock()

    def draw() -> None:
        mine = [random_hex() for _ in range(1000)]  # several refills of 256
        with lock:
            seen.extend(mine)

    threads = [threading.Thread(target=draw) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(seen) == len(set(seen)) == 4000
    assert all(re.fullmatch(r"[0-9a-f]{32}", v) for v in seen)


def test_a_forked_child_does_not_reuse_the_parents_pool() -> None:
    random_hex()  # the parent has a pool now
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.write(write, random_hex().encode())
        os._exit(0)
    os.waitpid(pid, 0)
    child = os.read(read, 64).decode()
    assert child != random_hex()
    os.close(read)
    os.close(write)
