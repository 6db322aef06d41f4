"""A WSGI application served on 127.0.0.1 in a background thread (werkzeug)."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import orjson
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


@dataclass
class Scripted:
    """One canned answer: status, JSON (or raw) body, headers, and an optional delay."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay_seconds: float = 0.0

    def response(self) -> Response:
        if isinstance(self.body, bytes | str):
            data = self.body
        elif self.body is None:
            data = b""
        else:
            data = orjson.dumps(self.body)
        response = Response(data, status=self.status, headers=self.headers)
        if self.body is not None and not isinstance(self.body, bytes | str):
            response.content_type = "application/json"
        return response


class Script:
    """Answers queued by a test; each request takes the next one, if any."""

    def __init__(self) -> None:
        self._queue: deque[Scripted] = deque()
        self._lock = threading.Lock()

    def push(self, *answers: Scripted) -> None:
        with self._lock:
            self._queue.extend(answers)

    def next(self) -> Scripted | None:
        with self._lock:
            return self._queue.popleft() if self._queue else None


class LocalServer:
    """``with LocalServer(app) as server:`` serves ``app`` at ``server.url``."""

    def __init__(self, app: Any) -> None:
        self._server = make_server("127.0.0.1", 0, app, threaded=True,
                                   request_handler=_QuietHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.port}"

    def __enter__(self) -> LocalServer:
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


def json_response(status: int, document: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(document), status=status, headers=headers or {},
                    content_type="application/json")


__all__ = ["LocalServer", "Request", "Response", "Script", "Scripted", "json_response"]
