"""A printed letter: a claimed message's HTML as a window-envelope PDF for one postal address.

The address is ``payload["address"]`` (``name``, ``line1``, ``line2``, ``city``,
``postal_code``, ``region``, ``country`` as ISO 3166-1 alpha-2); the page size
is ``payload["page_size"]`` or the provider's. The letter body is the message's
rendered HTML (its text, paragraph by paragraph, when there is no HTML).
``render.pdf.render_letter`` places the address in the envelope window and
checks it for the fields a print house needs; an address it refuses raises
``InvalidAddress`` (a ``ValueError``) and no provider is called.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from tidings.channels_build.envelopes import LetterEnvelope
from tidings.outbox.messages import Claimed
from tidings.render import pdf

__all__ = ["ADDRESS_FIELDS", "LetterOptions", "build_letter", "parse_address"]

ADDRESS_FIELDS = ("name", "line1", "line2", "city", "postal_code", "region", "country")
PAGE_SIZES: frozenset[str] = frozenset(pdf.LAYOUTS)


@dataclass(frozen=True, slots=True)
class LetterOptions:
    """Per-provider letter settings."""

    page_size: pdf.PageSize = "A4"
    sender_line: str | None = None
    """The one-line return address printed small above the recipient."""
    origin_country: str | None = None
    """Alpha-2 country the letters are posted in: its own addresses get no country line."""
    base_url: str | None = None
    """Folder or URL the letter HTML may load images and CSS from (``assets_base_url``)."""

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> LetterOptions:
        return cls(page_size=_page_size(settings.get("page_size", "A4")),
                   sender_line=settings.get("sender_line"),
                   origin_country=settings.get("origin_country"),
                   base_url=settings.get("assets_base_url"))


def build_letter(claimed: Claimed, payload: Mapping[str, Any],
                 options: LetterOptions) -> LetterEnvelope:
    """Render the letter of ``claimed``; ``ValueError`` for an address that cannot be posted."""
    address = parse_address(payload.get("address"))
    page_size = _page_size(payload.get("page_size", options.page_size))
    document = pdf.render_letter(
        claimed.body_html or _text_html(claimed.body_text), page_size=page_size,
        address=address, sender_line=options.sender_line, base_url=options.base_url,
        origin_country=options.origin_country)
    return LetterEnvelope(message_id=claimed.message_id_header, sender=claimed.sender,
                          recipients=[address.name], data=document, key=claimed.id,
                          address=address, page_size=page_size,
                          description=claimed.subject[:255])


def parse_address(value: object) -> pdf.PostalAddress:
    """A ``PostalAddress`` from its JSON form; unknown fields are refused, not ignored."""
    if not isinstance(value, Mapping):
        raise ValueError("no postal address: set payload.address")
    unknown = sorted(set(value) - set(ADDRESS_FIELDS))
    if unknown:
        raise ValueError(f"postal address has unknown fields: {', '.join(unknown)}")
    fields = {name: _text(value.get(name)) for name in ADDRESS_FIELDS}
    return pdf.PostalAddress(
        name=fields["name"] or "", line1=fields["line1"] or "", line2=fields["line2"],
        city=fields["city"] or "", postal_code=fields["postal_code"], region=fields["region"],
        country=(fields["country"] or "").upper())


def _text(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str | int):
        raise ValueError("postal address fields must be strings")
    return str(value)


def _page_size(value: object) -> pdf.PageSize:
    if value not in PAGE_SIZES:
        raise ValueError(f"page_size must be one of {sorted(PAGE_SIZES)}")
    return cast(pdf.PageSize, value)


def _text_html(text: str) -> str:
    paragraphs = [p.strip() for p in text.split("\n\n") if p.strip()]
    body = "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in paragraphs)
    return f"<!doctype html><html><body>{body}</body></html>"
