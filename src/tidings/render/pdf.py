"""Printed letters: rendered HTML to a PDF whose address shows through an envelope window.

``render_letter(html, page_size="A4", address=..., sender_line=..., base_url=None)``
puts the recipient's address (and an optional one-line return address above
it) into the window area of a standard window envelope and flows the letter's
HTML below it, in DejaVu Sans, with WeasyPrint. A print house folds the page in
thirds and puts it in the envelope; nothing else on the first page may show
through the window.

Window areas used (offsets from the page's top-left corner)::

    page    envelope                     left      top       width     height    body starts
    ------  ---------------------------  --------  --------  --------  --------  -----------
    A4      DL/C5-6 window, DIN 680      20 mm     45 mm     85 mm     45 mm     100 mm
            (DIN 5008 form B field: 17.7 mm return-address and notes zone, then a
            27.3 mm, six-line address zone; text aligned at 25 mm)
    Letter  US #10 window (4 1/2 x 1 1/8 in,  7/8 in    2.042 in  3 1/2 in  1 1/8 in  3 3/8 in
            7/8 in from the left and 1/2 in from the bottom of a 4 1/8 x 9 1/2 in envelope)

The Letter window is where the #10 window falls on a page folded in thirds
(3.667 in panels) resting on the envelope's bottom: 3.667 - (1/2 + 1 1/8) =
2.042 in from the top. Its 3 1/2 in width is what stays inside the 4 1/2 in
window however far the 8 1/2 in sheet slides sideways in the 9 1/2 in
envelope (window 7/8 in from the sheet's left edge at one extreme, 1/8 in
left of it at the other), so the text starts at 7/8 in.

The letter HTML is an untrusted template's output: resources are fetched only
from ``data:`` URLs and from under ``base_url``; anything else is skipped.
"""

from __future__ import annotations

import html as html_text
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote

import weasyprint
from babel import Locale

from tidings.render import errors

__all__ = [
    "FONT_FAMILY",
    "LAYOUTS",
    "MAX_LINE_CHARS",
    "MAX_SENDER_CHARS",
    "InvalidAddress",
    "Layout",
    "PageSize",
    "PostalAddress",
    "render_letter",
]

PageSize = Literal["A4", "Letter"]
FONT_FAMILY = "DejaVu Sans"
MAX_LINE_CHARS = 40  # what fits the window width at the address font size
MAX_SENDER_CHARS = 60  # one line at 7 pt across the window
MM_PER_INCH = 25.4


@dataclass(frozen=True, slots=True)
class Layout:
    """A page size and its envelope window, all lengths in millimetres."""

    css_size: str
    window_left_mm: float
    window_top_mm: float
    window_width_mm: float
    window_height_mm: float
    sender_zone_mm: float  # top part of the window for the return-address line
    text_indent_mm: float  # address text starts this far inside the window
    body_top_mm: float  # first-page top margin: the letter text starts below the window
    margin_mm: tuple[float, float, float, float]  # top, right, bottom, left (later pages)
    address_pt: float
    line_mm: float


LAYOUTS: dict[PageSize, Layout] = {
    "A4": Layout("A4", 20.0, 45.0, 85.0, 45.0, 17.7, 5.0, 100.0, (20.0, 20.0, 20.0, 25.0),
                 10.0, 4.55),
    "Letter": Layout("letter", 0.875 * MM_PER_INCH, (11 / 3 - 1.625) * MM_PER_INCH,
                     3.5 * MM_PER_INCH, 1.125 * MM_PER_INCH, 3.5, 0.0, 3.375 * MM_PER_INCH,
                     (19.05, 19.05, 19.05, 0.875 * MM_PER_INCH), 9.0, 4.1),
}

_POSTAL_CODES: dict[str, tuple[str, str]] = {
    "US": (r"\d{5}(-\d{4})?", "5 digits or ZIP+4"),
    "DE": (r"\d{5}", "5 digits"),
    "FR": (r"\d{5}", "5 digits"),
    "GB": (r"GIR ?0AA|[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}", "a UK postcode like SW1A 1AA"),
    "CA": (r"[ABCEGHJ-NPRSTVXY]\d[A-Z] ?\d[A-Z]\d", "a postal code like K1A 0B1"),
    "AT": (r"\d{4}", "4 digits"),
    "CH": (r"\d{4}", "4 digits"),
    "BE": (r"\d{4}", "4 digits"),
    "NL": (r"\d{4} ?[A-Z]{2}", "4 digits and 2 letters"),
    "IT": (r"\d{5}", "5 digits"),
    "ES": (r"\d{5}", "5 digits"),
    "AU": (r"\d{4}", "4 digits"),
}


def _codes(text: str) -> frozenset[str]:
    return frozenset(text.split())


_REGIONS: dict[str, frozenset[str]] = {
    "US": _codes(
        "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE "
        "NV NH NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY "
        "AS GU MP PR VI FM MH PW AA AE AP"
    ),
    "CA": _codes("AB BC MB NB NL NS NT NU ON PE QC SK YT"),
    "AU": _codes("ACT NSW NT QLD SA TAS VIC WA"),
}
_CITY_REGION_POSTAL = frozenset({"US", "CA", "AU"})
# CLDR territories that are not ISO 3166-1 countries (XK, Kosovo, is kept: posts use it).
_NOT_COUNTRIES = _codes("AC CP CQ DG EA EU EZ IC QO TA UN XA XB ZZ")
_COUNTRY_NAMES: dict[str, str] = {
    code: name
    for code, name in Locale("en").territories.items()
    if len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES
}
_BODY_TAG = re.compile(r"""<body\b(?:[^>"']|"[^"]*"|'[^']*')*>""", re.IGNORECASE)
_HEAD_END = re.compile(r"</head\s*>", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class InvalidAddress(ValueError):
    """An address a print house cannot post; ``problems`` maps each field to why."""

    def __init__(self, problems: dict[str, str]) -> None:
        self.problems = problems
        listed = "; ".join(f"{name}: {why}" for name, why in problems.items())
        super().__init__(f"address cannot be printed: {listed}")


@dataclass(frozen=True, slots=True)
class PostalAddress:
    """A recipient's postal address; ``country`` is ISO 3166-1 alpha-2 ("DE")."""

    name: str
    line1: str
    line2: str | None
    city: str
    postal_code: str | None
    region: str | None
    country: str

    def validate(self) -> None:
        """Raise ``InvalidAddress`` naming every missing or invalid field."""
        problems = {**self._missing(), **self._country_rules()}
        for field, value in self._fields().items():
            if field in problems or not value:
                continue
            if _CONTROL.search(value):
                problems[field] = "contains a line break or control character"
            elif len(value) > MAX_LINE_CHARS:
                problems[field] = f"longer than {MAX_LINE_CHARS} characters"
        if problems:
            raise InvalidAddress(problems)

    def lines(self, origin_country: str | None = None) -> list[str]:
        """The address as printed, top to bottom; the country line is left out at home."""
        country = self.country.upper()
        postal = (self.postal_code or "").strip().upper()
        city = self.city.strip()
        if country in _CITY_REGION_POSTAL:
            places = [f"{city} {(self.region or '').strip().upper()} {postal}".strip()]
        elif country == "GB":
            places = [city.upper(), postal]
        else:
            places = [f"{postal} {city}".strip()]
        lines = [self.name.strip(), self.line1.strip(), (self.line2 or "").strip(), *places]
        if origin_country is None or origin_country.upper() != country:
            lines.append(_COUNTRY_NAMES.get(country, country).upper())
        return [line for line in lines if line]

    def _fields(self) -> dict[str, str]:
        return {
            "name": self.name, "line1": self.line1, "line2": self.line2 or "",
            "city": self.city, "postal_code": self.postal_code or "",
            "region": self.region or "", "country": self.country,
        }

    def _missing(self) -> dict[str, str]:
        required = ("name", "line1", "city", "country")
        return {f: "missing" for f in required if not self._fields()[f].strip()}

    def _country_rules(self) -> dict[str, str]:
        country = self.country.strip()
        if not country:
            return {}
        if country not in _COUNTRY_NAMES:
            return {"country": f"{country!r} is not an ISO 3166-1 alpha-2 code"}
        return {**self._postal_rule(country), **self._region_rule(country)}

    def _postal_rule(self, country: str) -> dict[str, str]:
        rule = _POSTAL_CODES.get(country)
        postal = (self.postal_code or "").strip().upper()
        if rule is None:
            return {}
        if not postal:
            return {"postal_code": f"missing (required for {country})"}
        if not re.fullmatch(rule[0], postal):
            return {"postal_code": f"{postal!r} is not a {country} postal code ({rule[1]})"}
        return {}

    def _region_rule(self, country: str) -> dict[str, str]:
        regions = _REGIONS.get(country)
        region = (self.region or "").strip().upper()
        if regions is None:
            return {}
        if not region:
            return {"region": f"missing (required for {country})"}
        if region not in regions:
            return {"region": f"{region!r} is not a {country} state or province code"}
        return {}


def render_letter(
    html: str,
    *,
    page_size: PageSize,
    address: PostalAddress,
    sender_line: str | None,
    base_url: str | None,
    origin_country: str | None = None,
) -> bytes:
    """Render ``html`` as a window-envelope letter to ``address``; returns PDF bytes.

    ``sender_line`` is the one-line return address printed small above the
    recipient; ``origin_country`` (alpha-2), when given and equal to the
    recipient's, leaves the country line out. Raises ``InvalidAddress`` before
    rendering, and ``RenderError`` when WeasyPrint fails.
    """
    address.validate()
    if sender_line and len(sender_line.strip()) > MAX_SENDER_CHARS:
        raise InvalidAddress({"sender_line": f"longer than {MAX_SENDER_CHARS} characters"})
    layout = LAYOUTS[page_size]
    window = _window_html(address.lines(origin_country), sender_line)
    try:
        document = weasyprint.HTML(
            string=_with_window(html, window), base_url=base_url,
            url_fetcher=_ConfinedFetcher(base_url),
        )
        pdf = document.write_pdf(stylesheets=[weasyprint.CSS(string=_css(layout))])
    except Exception as exc:  # WeasyPrint raises many types; translated once, here
        raise errors.RenderError(f"letter PDF: {type(exc).__name__}: {exc}") from exc
    return bytes(pdf)


def _window_html(lines: list[str], sender_line: str | None) -> str:
    recipient = "".join(f"<div>{html_text.escape(line)}</div>" for line in lines)
    sender = (
        f'<div id="tidings-sender">{html_text.escape(sender_line.strip())}</div>'
        if sender_line and sender_line.strip() else ""
    )
    return f'<div id="tidings-window">{sender}<div id="tidings-recipient">{recipient}</div></div>'


def _with_window(html: str, window: str) -> str:
    """Put the window block first in the body, whatever shape the HTML has."""
    for pattern in (_BODY_TAG, _HEAD_END):
        match = pattern.search(html)
        if match:
            return html[: match.end()] + window + html[match.end():]
    return window + html


def _css(layout: Layout) -> str:
    top, right, bottom, left = layout.margin_mm
    address_zone = layout.window_height_mm - layout.sender_zone_mm
    return f"""
@page {{ size: {layout.css_size} !important;
        margin: {top}mm {right}mm {bottom}mm {left}mm; }}
@page :first {{ margin-top: {layout.body_top_mm}mm; }}
html, body {{ margin: 0; }}
html, body {{ position: static !important; transform: none !important; }}
body {{ font-family: "{FONT_FAMILY}", sans-serif; font-size: 10pt; }}
#tidings-window, #tidings-window * {{
  margin: 0 !important; padding: 0 !important; border: 0 !important;
  float: none !important; transform: none !important; visibility: visible !important;
  background: none !important; color: #000 !important; opacity: 1 !important;
  font-family: "{FONT_FAMILY}" !important; font-style: normal !important;
  font-weight: normal !important; text-transform: none !important; text-indent: 0 !important;
  letter-spacing: normal !important; word-spacing: normal !important;
  text-align: left !important; white-space: normal !important; }}
#tidings-window div {{ display: block !important; }}
#tidings-recipient div {{ position: static !important; font-size: inherit !important;
  line-height: inherit !important; }}
#tidings-window {{
  position: absolute !important; box-sizing: border-box !important;
  left: {layout.window_left_mm - left}mm !important;
  top: {layout.window_top_mm - layout.body_top_mm}mm !important;
  width: {layout.window_width_mm}mm !important; height: {layout.window_height_mm}mm !important; }}
#tidings-sender, #tidings-recipient {{
  position: absolute !important; left: {layout.text_indent_mm}mm !important;
  right: 0 !important; overflow-wrap: anywhere; }}
#tidings-sender {{ bottom: {address_zone}mm !important;
  font-size: 7pt !important; line-height: 9pt !important; }}
#tidings-recipient {{ top: {layout.sender_zone_mm}mm !important;
  font-size: {layout.address_pt}pt !important; line-height: {layout.line_mm}mm !important; }}
"""


class _ConfinedFetcher(weasyprint.URLFetcher):  # type: ignore[misc]
    """Fetches ``data:`` URLs and URLs under ``base_url`` only (templates are untrusted)."""

    def __init__(self, base_url: str | None) -> None:
        super().__init__(timeout=10, allow_redirects=False)
        self._root = _root_url(base_url)

    def fetch(self, url: str, headers: dict[str, str] | None = None) -> Any:
        inside = self._root is not None and url.startswith(self._root)
        if not (url.startswith("data:") or inside) or ".." in unquote(url):
            raise ValueError(f"letter resource outside base_url not fetched: {url[:80]}")
        return super().fetch(url, headers)


def _root_url(base_url: str | None) -> str | None:
    if not base_url:
        return None
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", base_url):
        return base_url if base_url.endswith("/") else base_url.rsplit("/", 1)[0] + "/"
    path = Path(base_url).resolve()
    folder = path if base_url.endswith("/") or path.is_dir() else path.parent
    return folder.as_uri().rstrip("/") + "/"
