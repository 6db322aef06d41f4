"""Attachments of hand-added email: base64 in, checked for size and type, kept in the payload.

Only content types on the allow-list are taken, and the well-known binary
ones must start with their own signature (a "PDF" that is really an
executable is refused); text types must be UTF-8. The whole set is limited
so that the base64-encoded message stays under the 10 MB most mail servers
accept (Postfix's ``message_size_limit`` default is 10,240,000 bytes).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "ALLOWED_CONTENT_TYPES", "MAX_ATTACHMENTS", "MAX_TOTAL_BYTES", "AttachmentIn",
    "AttachmentProblem", "checked",
]

MAX_ATTACHMENTS = 20
MAX_TOTAL_BYTES = 7_000_000
"""Decoded bytes of all attachments of a message: about 9.4 MB once base64-encoded."""
ALLOWED_CONTENT_TYPES = frozenset({
    "application/pdf", "image/png", "image/jpeg", "image/gif", "image/webp",
    "text/plain", "text/csv", "text/calendar", "application/json",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
})
_SIGNATURES = {
    "application/pdf": (b"%PDF-",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "image/webp": (b"RIFF",),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": (b"PK\x03\x04",),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (b"PK\x03\x04",),
}
_BAD_NAME_CHARS = set('/\\\x00"') | {chr(c) for c in range(32)} | {"\x7f"}


class AttachmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    filename: str = Field(min_length=1, max_length=255)
    content_type: str = Field(min_length=3, max_length=127)
    content: str = Field(description="the file, base64-encoded")


@dataclass(frozen=True, slots=True)
class AttachmentProblem:
    pointer: str
    detail: str


def checked(items: Sequence[AttachmentIn], at: str = "/attachments"
            ) -> tuple[list[dict[str, str]], list[AttachmentProblem]]:
    """The attachments as stored in a message's payload, and every problem found."""
    if len(items) > MAX_ATTACHMENTS:
        return [], [AttachmentProblem(at, f"at most {MAX_ATTACHMENTS} attachments")]
    stored: list[dict[str, str]] = []
    problems: list[AttachmentProblem] = []
    total = 0
    for i, item in enumerate(items):
        data, problem = _one(item)
        if problem:
            problems.append(AttachmentProblem(f"{at}/{i}", problem))
            continue
        total += len(data)
        stored.append({"filename": item.filename, "content_type": item.content_type.lower(),
                       "data": base64.b64encode(data).decode("ascii")})
    if total > MAX_TOTAL_BYTES:
        problems.append(AttachmentProblem(at, f"{total} bytes in all; the limit is "
                                              f"{MAX_TOTAL_BYTES}"))
    return stored, problems


def _one(item: AttachmentIn) -> tuple[bytes, str]:
    kind = item.content_type.lower().split(";")[0].strip()
    if kind not in ALLOWED_CONTENT_TYPES:
        return b"", f"content type {kind!r} is not allowed"
    if set(item.filename) & _BAD_NAME_CHARS:
        return b"", "the file name has a path separator, a quote or a control character"
    try:
        data = base64.b64decode(item.content, validate=True)
    except (binascii.Error, ValueError):
        return b"", "content is not base64"
    if not data:
        return b"", "the file is empty"
    signatures = _SIGNATURES.get(kind)
    if signatures and not data.startswith(signatures):
        return b"", f"the content is not {kind}"
    if kind.startswith("text/") or kind == "application/json":
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return b"", "text must be UTF-8"
    return data, ""
