"""Email header lines: injection checks, addresses, RFC 2047 words, folding.

Every header value that reaches :mod:`tidings.render.mime` passes
:func:`check_header_value`: no CR, LF or NUL, neither raw nor hidden in an
RFC 2047 encoded word (``=?utf-8?q?a=0D=0ABcc:x@evil?=``). Python 3.11's own
email package does not refuse these, so the check is ours.

Lines are built by hand (the stdlib ``EmailMessage`` costs milliseconds per
message): ASCII values are folded at spaces to 78 characters with CRLF;
non-ASCII values become base64 encoded words of at most 75 characters.
"""

from __future__ import annotations

import base64
import codecs
import functools
import re
from dataclasses import dataclass
from email import errors as email_errors
from email import header as email_header
from email import utils as email_utils

__all__ = [
    "CRLF",
    "MAX_LINE_CHARS",
    "Address",
    "HeaderInjection",
    "address_list",
    "check_header_name",
    "check_header_value",
    "encoded_words",
    "header_line",
    "parse_address",
]

CRLF = "\r\n"
MAX_LINE_CHARS = 78
_MAX_WORD_CHARS = 75  # RFC 2047 section 2
_WORD_OVERHEAD_CHARS = len("=?utf-8?b??=")
_MAX_ASCII_WORD_CHARS = 900  # below RFC 5322's 998-octet line limit, with the name
_FORBIDDEN = ("\r", "\n", "\0")
_NAME = re.compile(r"[!-9;-~]+")  # printable ASCII except ':' (RFC 5322 ftext)
_LOCAL = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+"
_DOMAIN = r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)*[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_ADDR = re.compile(rf"{_LOCAL}@(?:{_DOMAIN}|\[[0-9A-Fa-f:.]+\])")


class HeaderInjection(ValueError):
    """A header name or value would break out of its line."""

    def __init__(self, header: str, reason: str) -> None:
        self.header = header
        super().__init__(f"header {header!r}: {reason}")


@dataclass(frozen=True, slots=True)
class Address:
    """A checked mailbox: display name (may be empty) and ASCII ``addr``."""

    name: str
    addr: str


def check_header_name(name: str) -> None:
    """Refuse a header name that is not printable ASCII without ':'."""
    if not _NAME.fullmatch(name):
        raise HeaderInjection(name, "invalid header name")


def _refuse_controls(name: str, text: str, where: str) -> None:
    for char in _FORBIDDEN:
        if char in text:
            raise HeaderInjection(name, f"{char!r} {where}")


def check_header_value(name: str, value: str) -> None:
    """Refuse CR, LF or NUL in ``value``, also inside RFC 2047 encoded words."""
    _refuse_controls(name, value, "in value")
    if "=?" not in value:
        return
    try:
        chunks = email_header.decode_header(value)
    except (email_errors.HeaderParseError, ValueError) as exc:
        raise HeaderInjection(name, "undecodable encoded word") from exc
    for chunk, charset in chunks:
        if isinstance(chunk, bytes):
            # Raw bytes too: a CR or LF in any byte of any charset is refused.
            _refuse_controls(name, chunk.decode("latin-1"), "in encoded word bytes")
            chunk = chunk.decode(_codec(charset), errors="replace")
        _refuse_controls(name, chunk, "in decoded encoded word")


def _codec(charset: str | None) -> str:
    try:
        return codecs.lookup(charset or "ascii").name
    except LookupError:
        return "latin-1"  # unknown charset: look at the raw bytes


def parse_address(value: str, header: str = "address") -> Address:
    """Check ``addr@host`` or ``Name <addr@host>``; raises HeaderInjection or ValueError.

    The value must round-trip through ``email.utils.parseaddr`` unchanged:
    exactly one mailbox, nothing left over, an ASCII address with one ``@``.
    A bare address matching the strict dot-atom pattern needs no parser.
    """
    check_header_value(header, value)
    stripped = value.strip()
    if _ADDR.fullmatch(stripped):
        return Address("", stripped)
    return _parse_named(value, header)


@functools.lru_cache(maxsize=4096)
def _parse_named(value: str, header: str) -> Address:
    name, addr = email_utils.parseaddr(value)
    stripped = value.strip()
    if not _ADDR.fullmatch(addr) or addr.count("@") != 1:
        raise ValueError(f"{header}: not a mailbox address: {value!r}")
    if stripped != addr and not stripped.endswith(f"<{addr}>"):
        raise ValueError(f"{header}: ambiguous address: {value!r}")
    if name.isascii() and email_utils.parseaddr(
            email_utils.formataddr((name, addr))) != (name, addr):
        raise ValueError(f"{header}: address does not round-trip: {value!r}")
    check_header_value(header, name)
    return Address(name, addr)


def encoded_words(text: str, first_room: int) -> list[str]:
    """``text`` as base64 UTF-8 encoded words; the first fits in ``first_room`` chars.

    Words are cut only between characters (never inside a UTF-8 sequence).
    """
    data = text.encode("utf-8")
    words: list[str] = []
    room = max(first_room, _WORD_OVERHEAD_CHARS + 4)
    start = 0
    while start < len(data) or not words:
        cut = min(len(data), start + max((room - _WORD_OVERHEAD_CHARS) // 4 * 3, 3))
        while start < cut < len(data) and data[cut] & 0xC0 == 0x80:
            cut -= 1  # back off a continuation byte
        words.append(_word(data[start:cut]))
        start, room = cut, _MAX_WORD_CHARS
    return words


def _b64_chars(size: int) -> int:
    return (size + 2) // 3 * 4


def _word(data: bytes) -> str:
    return f"=?utf-8?b?{base64.b64encode(data).decode('ascii')}?="


def _needs_encoding(value: str) -> bool:
    # Encoded words also carry text that could be misread as one, and words too long
    # for a 998-octet line.
    return (not value.isascii() or "=?" in value
            or any(len(w) > _MAX_ASCII_WORD_CHARS for w in value.split(" ")))


def _fold(first: str, parts: list[str]) -> str:
    """Join ``parts`` with spaces after ``first``, folding before a part at 78 chars."""
    lines: list[str] = []
    line = first
    for part in parts:
        if len(line) + 1 + len(part) > MAX_LINE_CHARS and line != first and part:
            lines.append(line)
            line = " " + part
        else:
            line = f"{line} {part}"
    lines.append(line)
    return CRLF.join(lines)


def header_line(name: str, value: str) -> str:
    """One unstructured header, checked, encoded when needed, folded, without final CRLF."""
    check_header_name(name)
    check_header_value(name, value)
    if _needs_encoding(value):
        room = MAX_LINE_CHARS - len(name) - 2
        return _fold(f"{name}:", encoded_words(value, room))
    return _fold(f"{name}:", value.split(" "))


@functools.lru_cache(maxsize=4096)
def _display_name(name: str) -> tuple[str, ...]:
    """Words of a display name; cached: senders repeat on every message."""
    if not name:
        return ()
    if _needs_encoding(name):
        return tuple(encoded_words(name, _MAX_WORD_CHARS))
    return tuple(email_utils.formataddr((name, "x@x"))[: -len(" <x@x>")].split(" "))


def address_list(name: str, addresses: list[Address]) -> str:
    """An address header (From, To, Cc, Reply-To), encoded and folded."""
    check_header_name(name)
    parts: list[str] = []
    for index, address in enumerate(addresses):
        tail = "," if index < len(addresses) - 1 else ""
        words = _display_name(address.name)
        mailbox = f"<{address.addr}>" if words else address.addr
        parts.extend([*words, mailbox + tail])
    return _fold(f"{name}:", parts)
