"""Reading a JSON request body with the media-type and size checks every route needs."""

from __future__ import annotations

from fastapi import Request

from tidings.api.problems import Problem

__all__ = ["read_json"]


async def read_json(request: Request, limit: int) -> bytes:
    """The request body: 415 unless JSON, 413 past ``limit`` (declared or streamed)."""
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media != "application/json" and not (media.startswith("application/")
                                            and media.endswith("+json")):
        raise Problem(415, "unsupported-media-type", "Send JSON.",
                      f"Content-Type must be application/json, not {media or 'missing'!r}.")
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise Problem(413, "payload-too-large", "The body is too large.",
                      f"At most {limit} bytes are accepted.")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Problem(413, "payload-too-large", "The body is too large.",
                          f"At most {limit} bytes are accepted.")
        chunks.append(chunk)
    return b"".join(chunks)
