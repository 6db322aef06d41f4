"""RFC 9457 problem details, the only shape of an error this API returns."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException

__all__ = ["MEDIA_TYPE", "Problem", "install", "problem_response"]

MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://tidings.dev/problems/"


class Problem(Exception):
    """Raise to answer with a problem document."""

    def __init__(self, status: int, slug: str, title: str, detail: str = "",
                 errors: list[dict[str, Any]] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(detail or title)
        self.status, self.slug, self.title, self.detail = status, slug, title, detail
        self.errors, self.headers = errors or [], headers or {}

    def body(self, instance: str) -> dict[str, Any]:
        doc: dict[str, Any] = {"type": TYPE_BASE + self.slug, "title": self.title,
                               "status": self.status, "instance": instance}
        if self.detail:
            doc["detail"] = self.detail
        if self.errors:
            doc["errors"] = self.errors
        return doc


def problem_response(problem: Problem, instance: str) -> Response:
    return Response(orjson.dumps(problem.body(instance)), status_code=problem.status,
                    media_type=MEDIA_TYPE, headers=problem.headers)


_HTTP_SLUGS = {401: "unauthorized", 403: "forbidden", 404: "not-found",
               405: "method-not-allowed", 409: "conflict", 413: "payload-too-large",
               415: "unsupported-media-type", 429: "too-many-requests"}


def install(app: Any) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> Response:
        return problem_response(exc, request.url.path)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Response:
        slug = _HTTP_SLUGS.get(exc.status_code, "http-error")
        return problem_response(Problem(exc.status_code, slug, str(exc.detail),
                                        headers=dict(exc.headers or {})), request.url.path)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        errors = [{"pointer": "/" + "/".join(str(p) for p in e["loc"][1:]),
                   "detail": e["msg"]} for e in exc.errors()]
        return problem_response(Problem(422, "invalid-request", "The request is not valid.",
                                        errors=errors), request.url.path)
