"""What feedback adds to an email before it is queued: tracked links, a pixel, a return path.

``OutgoingFeedback.prepare`` is called by the ingest service for every new
message. For an email whose provider has ``click_tracking`` on, each
``http(s)`` link of the HTML part becomes ``<base>/t/c/<token>`` (the target
sealed inside the token, see ``tokens``); with ``open_tracking`` on, a 1x1
image ``<base>/t/o/<token>`` goes before ``</body>``. A link whose tag carries
``data-tidings-track="off"`` is left alone, as are ``mailto:``, ``tel:`` and
anchors. The text part is not rewritten.

With ``[feedback] return_path_domain`` set, the message also gets the header
``Return-Path: <bounces@domain>``; the envelope builder takes it out of the
message and sends with the per-message return path of ``verp``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import replace
from typing import Protocol
from urllib.parse import urlsplit

from tidings.feedback.tokens import Purpose, TokenBox
from tidings.outbox.messages import NewMessage

__all__ = ["OutgoingFeedback", "TrackingSwitches", "is_trackable"]

_A_TAG = re.compile(r"<a\b[^>]*>", re.IGNORECASE)
_HREF = re.compile(r"""(\bhref\s*=\s*)(?:"([^"]*)"|'([^']*)')""", re.IGNORECASE)
_NO_TRACK = re.compile(r"""data-tidings-track\s*=\s*["']?off""", re.IGNORECASE)
_BODY_END = re.compile(r"</body\s*>", re.IGNORECASE)
RETURN_PATH_LOCAL = "bounces"


class TrackingSwitches(Protocol):
    """The provider settings this module reads (``ProviderConfig`` or a provider row)."""

    @property
    def open_tracking(self) -> bool: ...

    @property
    def click_tracking(self) -> bool: ...


def is_trackable(url: str) -> bool:
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    return parts.scheme.lower() in {"http", "https"} and bool(parts.netloc)


class OutgoingFeedback:
    def __init__(self, box: TokenBox, base_url: str, email_channels: Iterable[str],
                 return_path_domain: str | None = None) -> None:
        self.box, self.base_url = box, base_url.rstrip("/")
        self.email_channels = frozenset(email_channels)
        self.return_path_domain = return_path_domain

    def pixel_url(self, message_id_header: str) -> str:
        return f"{self.base_url}/t/o/{self.box.seal(Purpose.OPEN, message_id_header)}"

    def click_url(self, message_id_header: str, target: str) -> str:
        return f"{self.base_url}/t/c/{self.box.seal(Purpose.CLICK, message_id_header, target)}"

    def return_path_header(self) -> list[tuple[str, str]]:
        if self.return_path_domain is None:
            return []
        return [("Return-Path", f"<{RETURN_PATH_LOCAL}@{self.return_path_domain}>")]

    def prepare(self, message: NewMessage, provider: TrackingSwitches) -> NewMessage:
        """The message with tracked links, pixel and return path, as its provider wants."""
        if message.channel not in self.email_channels:
            return message
        body = message.body_html
        if body is not None and provider.click_tracking:
            body = self.track_links(body, message.message_id_header)
        if body is not None and provider.open_tracking:
            body = self.add_pixel(body, message.message_id_header)
        headers = [*message.headers, *self.return_path_header()]
        if body == message.body_html and headers == message.headers:
            return message
        return replace(message, body_html=body, headers=headers)

    def track_links(self, body: str, message_id_header: str) -> str:
        def tag(match: re.Match[str]) -> str:
            text = match.group(0)
            if _NO_TRACK.search(text):
                return text
            return _HREF.sub(lambda m: self._href(m, message_id_header), text, count=1)
        return _A_TAG.sub(tag, body)

    def _href(self, match: re.Match[str], message_id_header: str) -> str:
        raw = match.group(2) if match.group(2) is not None else match.group(3)
        target = html.unescape(raw).strip()
        if not is_trackable(target):
            return match.group(0)
        return f'{match.group(1)}"{self.click_url(message_id_header, target)}"'

    def add_pixel(self, body: str, message_id_header: str) -> str:
        img = (f'<img src="{self.pixel_url(message_id_header)}" width="1" height="1" alt="" '
               'style="display:block;width:1px;height:1px;border:0">')
        ends = list(_BODY_END.finditer(body))
        if not ends:
            return body + img
        at = ends[-1].start()
        return body[:at] + img + body[at:]
