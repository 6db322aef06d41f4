"""moto's server mode as a subprocess on a free 127.0.0.1 port (STACK-NOTES section 3)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson

START_SECONDS = 20.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _command(port: int) -> list[str]:
    script = Path(sys.executable).with_name("moto_server")
    found = str(script) if script.exists() else shutil.which("moto_server")
    if found is None:
        raise FileNotFoundError("moto_server is not installed (pip install 'moto[server]')")
    return [found, "-H", "127.0.0.1", "-p", str(port)]


@contextmanager
def moto_server() -> Iterator[str]:
    """Start ``moto_server``, yield its URL once it answers, stop it by its pid."""
    port = _free_port()
    process = subprocess.Popen(_command(port), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait(url, process)
        yield url
    finally:
        process.terminate()
        process.wait(10)


def _wait(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"moto_server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/moto-api/data.json", timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"moto_server did not answer within {START_SECONDS} s")


def state(url: str) -> dict[str, Any]:
    """moto's whole state (``GET /moto-api/data.json``)."""
    with urllib.request.urlopen(f"{url}/moto-api/data.json", timeout=5) as response:
        data: dict[str, Any] = orjson.loads(response.read())
    return data


def reset(url: str) -> None:
    request = urllib.request.Request(f"{url}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=5):
        pass
