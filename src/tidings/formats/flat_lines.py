"""Lines of a flat file, decoded one at a time with the layout's encoding.

The flat decoders take any iterable of lines: an open binary file (bytes,
decoded here) or an open text file / list of str (taken as already decoded).
Nothing reads more than one line ahead, so memory stays flat however long
the file. A line with bytes invalid in the encoding is decoded with
replacement characters (so its record type can still be read) and carries an
``encoding`` problem naming the first bad byte.
"""

from __future__ import annotations

from tidings.formats import errors

__all__ = ["decode_line"]

Problem = tuple[errors.ReasonCode, str]


def decode_line(raw: bytes | str, encoding: str) -> tuple[str, Problem | None]:
    """Return the text of ``raw`` and the encoding problem, if any."""
    if isinstance(raw, str):
        return raw, None
    try:
        return raw.decode(encoding), None
    except UnicodeDecodeError as exc:
        detail = (f"byte {exc.start + 1} (0x{raw[exc.start]:02x}) is not valid {encoding}: "
                  f"{exc.reason}")
        return raw.decode(encoding, errors="replace"), (errors.ReasonCode.ENCODING, detail)
