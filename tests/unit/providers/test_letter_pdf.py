"""Window-envelope letters: the PDF opens, has the right pages, and the address sits in the window.

Golden files: ``fixtures/letters/<name>.html`` rendered for the address in
``LETTERS`` must give ``expected/letters/<name>.json`` (page count and size, the
lines seen through the window, the text of each page). Set
``TIDINGS_UPDATE_GOLDEN=1`` to rewrite them after a deliberate change.
"""

from __future__ import annotations

import io
import json
import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader

from tidings.render import errors
from tidings.render.pdf import (
    LAYOUTS,
    InvalidAddress,
    PostalAddress,
    render_letter,
)

HERE = Path(__file__).parent
FIXTURES = HERE / "fixtures" / "letters"
EXPECTED = HERE / "expected" / "letters"
PT_PER_MM = 72 / 25.4
PAGE_PT = {"A4": (595.28, 841.89), "Letter": (612.0, 792.0)}

BERLIN = PostalAddress("Erika Müller", "Hauptstraße 12", "Hinterhaus, 3. OG", "Berlin",
                       "10115", None, "DE")
WASHINGTON = PostalAddress("John Smith", "1600 Pennsylvania Ave NW", "Suite 200",
                           "Washington", "20500-0003", "DC", "US")
LONDON = PostalAddress("Mr A Jones", "10 Downing Street", None, "London", "sw1a 2aa", None, "GB")
SENDER = "Beispiel-Shop GmbH · Torstraße 1 · 10119 Berlin"

LETTERS = {
    "order_shipped_de": ("A4", BERLIN, "DE"),
    "statement_us": ("Letter", WASHINGTON, "US"),
}


@dataclass(frozen=True)
class Run:
    """A piece of text on a page: left edge and baseline in mm from the top-left corner."""

    page: int
    text: str
    x_mm: float
    baseline_mm: float
    size_pt: float
    font: str


def runs(pdf: bytes) -> list[Run]:
    found: list[Run] = []
    for number, page in enumerate(PdfReader(io.BytesIO(pdf)).pages):
        height = float(page.mediabox.height)

        def visit(text, cm, tm, font, size, number=number, height=height) -> None:
            if not text.strip():
                return
            x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            scale = abs(cm[3] * tm[3]) or 1.0
            found.append(Run(number, text.strip(), x / PT_PER_MM, (height - y) / PT_PER_MM,
                             size * scale, str((font or {}).get("/BaseFont", ""))))

        page.extract_text(visitor_text=visit)
    return found


def in_window(run: Run, page_size: str) -> bool:
    w = LAYOUTS[page_size]
    cap_top = run.baseline_mm - run.size_pt / PT_PER_MM
    return (run.page == 0
            and w.window_left_mm <= run.x_mm <= w.window_left_mm + w.window_width_mm
            and w.window_top_mm <= cap_top
            and run.baseline_mm <= w.window_top_mm + w.window_height_mm)


def render(html: str = "<p>Hello</p>", page_size: str = "A4", address: PostalAddress = BERLIN,
           **kw) -> bytes:
    options = {"sender_line": SENDER, "base_url": None, **kw}
    return render_letter(html, page_size=page_size, address=address, **options)


# -- golden letters -----------------------------------------------------------


def summary(pdf: bytes, page_size: str) -> dict:
    reader = PdfReader(io.BytesIO(pdf))
    box = reader.pages[0].mediabox
    return {
        "pages": len(reader.pages),
        "size_pt": [round(float(box.width), 1), round(float(box.height), 1)],
        "window": [r.text for r in runs(pdf) if in_window(r, page_size)],
        "text": [page.extract_text().splitlines() for page in reader.pages],
    }


@pytest.mark.parametrize("name", sorted(LETTERS))
def test_golden_letter(name) -> None:
    page_size, address, origin = LETTERS[name]
    html = (FIXTURES / f"{name}.html").read_text(encoding="utf-8")
    got = summary(render(html, page_size, address, origin_country=origin), page_size)
    expected_file = EXPECTED / f"{name}.json"
    if os.environ.get("TIDINGS_UPDATE_GOLDEN") == "1":
        expected_file.write_text(json.dumps(got, indent=2, ensure_ascii=False) + "\n",
                                 encoding="utf-8")
    assert got == json.loads(expected_file.read_text(encoding="utf-8"))


# -- geometry -----------------------------------------------------------------


@pytest.mark.parametrize(("page_size", "address"), [("A4", BERLIN), ("Letter", WASHINGTON),
                                                    ("A4", LONDON), ("Letter", LONDON)])
def test_address_lies_in_the_window_and_nothing_else_does(page_size, address) -> None:
    pdf = render("<h1>Order</h1>" + "<p>Body text.</p>" * 8, page_size, address)
    reader = PdfReader(io.BytesIO(pdf))
    width, height = (float(v) for v in reader.pages[0].mediabox[2:])
    assert (round(width, 2), round(height, 2)) == PAGE_PT[page_size]
    first_page = [r for r in runs(pdf) if r.page == 0]
    window = [r for r in first_page if in_window(r, page_size)]
    assert [r.text for r in window] == [SENDER, *address.lines()]
    assert all(r.font.endswith("+DejaVu-Sans") for r in window)
    sender, *recipient = window
    assert sender.size_pt == pytest.approx(7, abs=0.1)
    assert all(r.baseline_mm > sender.baseline_mm for r in recipient)
    layout = LAYOUTS[page_size]
    body = [r for r in first_page if r not in window]
    assert body and all(r.baseline_mm > layout.window_top_mm + layout.window_height_mm
                        for r in body)


def test_din_5008_zones_on_a4() -> None:
    window = [r for r in runs(render()) if in_window(r, "A4")]
    sender, first, *_ = window
    assert sender.baseline_mm < 45 + 17.7 < first.baseline_mm  # return zone, then address zone
    assert all(r.x_mm == pytest.approx(25, abs=0.2) for r in window)  # DIN 5008 text line


def test_long_letter_has_more_pages_and_the_address_only_on_the_first() -> None:
    pdf = render("".join(f"<p>Paragraph {i}</p>" for i in range(120)), "Letter", WASHINGTON)
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) >= 3
    assert all(r.page == 0 for r in runs(pdf) if r.text == "John Smith")
    later = [r for r in runs(pdf) if r.page == 1]
    assert later[0].baseline_mm < 40  # later pages start at the normal top margin


@pytest.mark.parametrize(
    "html",
    [
        "<p>Fragment only</p>",
        "<html><head><title>t</title></head><p>Fragment only</p></html>",
        '<!DOCTYPE html><html><body class="x" data-a=">"><p>Fragment only</p></body></html>',
    ],
    ids=["fragment", "head-no-body", "full-document"],
)
def test_any_html_shape_gets_the_window(html) -> None:
    found = runs(render(html))
    assert [r.text for r in found if in_window(r, "A4")][1] == "Erika Müller"
    assert any(r.text == "Fragment only" for r in found)


def test_template_css_cannot_move_the_window() -> None:
    html = ("<style>div { position: static; margin: 50mm; font-family: serif; }"
            "body { position: relative; padding: 30mm; } @page { size: A5; }</style>"
            "<div>Body</div>")
    pdf = render(html)
    assert [r.text for r in runs(pdf) if in_window(r, "A4")][1:] == BERLIN.lines()
    box = PdfReader(io.BytesIO(pdf)).pages[0].mediabox
    assert round(float(box.width), 2) == PAGE_PT["A4"][0]


def test_no_sender_line() -> None:
    window = [r.text for r in runs(render(sender_line=None)) if in_window(r, "A4")]
    assert window == BERLIN.lines()


def test_sender_line_too_long_is_refused() -> None:
    with pytest.raises(InvalidAddress) as caught:
        render(sender_line="x" * 61)
    assert "sender_line" in caught.value.problems


def test_address_text_is_escaped() -> None:
    address = PostalAddress("<b>Jane</b> & Co", "Main St 1", None, "Berlin", "10115", None, "DE")
    assert "<b>Jane</b> & Co" in [r.text for r in runs(render(address=address))]


# -- resources ----------------------------------------------------------------


def png(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (8, 8), (200, 0, 0)).save(path)


def images(pdf: bytes) -> int:
    return sum(len(page.images) for page in PdfReader(io.BytesIO(pdf)).pages)


def test_images_under_base_url_are_used_and_others_are_not(tmp_path) -> None:
    png(tmp_path / "assets" / "logo.png")
    png(tmp_path / "secret.png")
    base = str(tmp_path / "assets") + "/"
    assert images(render('<img src="logo.png">', base_url=base)) == 1
    assert images(render('<img src="../secret.png">', base_url=base)) == 0
    assert images(render(f'<img src="{(tmp_path / "secret.png").as_uri()}">', base_url=base)) == 0
    assert images(render('<img src="%2e%2e/secret.png">', base_url=base)) == 0
    assert images(render(f'<img src="{(tmp_path / "secret.png").as_uri()}">')) == 0


def test_data_urls_are_allowed() -> None:
    data = ("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4"
            "nGP4z8DwHwAFAAH/iZk9HQAAAABJRU5ErkJggg==")
    assert images(render(f'<img src="{data}">')) == 1


def test_weasyprint_failure_is_a_render_error(monkeypatch) -> None:
    def broken(*args, **kwargs):
        raise RuntimeError("pango missing")

    monkeypatch.setattr("weasyprint.HTML.write_pdf", broken)
    with pytest.raises(errors.RenderError, match="pango missing"):
        render()


# -- the address ----------------------------------------------------------------


LINES = [
    (BERLIN, None, ["Erika Müller", "Hauptstraße 12", "Hinterhaus, 3. OG", "10115 Berlin",
                    "GERMANY"]),
    (BERLIN, "DE", ["Erika Müller", "Hauptstraße 12", "Hinterhaus, 3. OG", "10115 Berlin"]),
    (WASHINGTON, "US", ["John Smith", "1600 Pennsylvania Ave NW", "Suite 200",
                        "Washington DC 20500-0003"]),
    (LONDON, "DE", ["Mr A Jones", "10 Downing Street", "LONDON", "SW1A 2AA", "UNITED KINGDOM"]),
    (PostalAddress("Marie Curie", "12 rue des Écoles", None, "Paris", "75005", None, "FR"), "DE",
     ["Marie Curie", "12 rue des Écoles", "75005 Paris", "FRANCE"]),
    (PostalAddress("Ana Silva", "Rua Augusta 1", None, "Lisboa", None, None, "PT"), "PT",
     ["Ana Silva", "Rua Augusta 1", "Lisboa"]),
]


@pytest.mark.parametrize(("address", "origin", "expected"), LINES)
def test_lines(address, origin, expected) -> None:
    address.validate()
    assert address.lines(origin) == expected


def address(**changes) -> PostalAddress:
    fields = {"name": "Jane Doe", "line1": "Main St 1", "line2": None, "city": "Springfield",
              "postal_code": "62701", "region": "IL", "country": "US", **changes}
    return PostalAddress(**fields)


INVALID = [
    ({"name": " "}, {"name": "missing"}),
    ({"line1": "", "city": ""}, {"line1": "missing", "city": "missing"}),
    ({"country": ""}, {"country": "missing"}),
    ({"country": "USA"}, {"country": "'USA' is not an ISO 3166-1 alpha-2 code"}),
    ({"country": "us"}, {"country": "'us' is not an ISO 3166-1 alpha-2 code"}),
    ({"country": "EU"}, {"country": "'EU' is not an ISO 3166-1 alpha-2 code"}),
    ({"postal_code": None}, {"postal_code": "missing (required for US)"}),
    ({"postal_code": "6270"},
     {"postal_code": "'6270' is not a US postal code (5 digits or ZIP+4)"}),
    ({"region": None}, {"region": "missing (required for US)"}),
    ({"region": "XX"}, {"region": "'XX' is not a US state or province code"}),
    ({"country": "DE", "region": None, "postal_code": "1011"},
     {"postal_code": "'1011' is not a DE postal code (5 digits)"}),
    ({"country": "FR", "region": None, "postal_code": "7500A"},
     {"postal_code": "'7500A' is not a FR postal code (5 digits)"}),
    ({"country": "GB", "region": None, "postal_code": "12345"},
     {"postal_code": "'12345' is not a GB postal code (a UK postcode like SW1A 1AA)"}),
    ({"line1": "x" * 41}, {"line1": "longer than 40 characters"}),
    ({"line2": "Apt 1\nFloor 2"}, {"line2": "contains a line break or control character"}),
]


@pytest.mark.parametrize(("changes", "problems"), INVALID)
def test_invalid_addresses_list_every_problem(changes, problems) -> None:
    with pytest.raises(InvalidAddress) as caught:
        address(**changes).validate()
    assert caught.value.problems == problems
    assert all(field in str(caught.value) for field in problems)


@pytest.mark.parametrize(
    "changes",
    [{}, {"postal_code": "62701-1234"},
     {"country": "GB", "region": None, "postal_code": "EC1A 1BB"},
     {"country": "GB", "region": None, "postal_code": "m11ae"},
     {"country": "DE", "region": None, "postal_code": "01067"},
     {"country": "CA", "region": "on", "postal_code": "K1A 0B1"},
     {"country": "JP", "region": None, "postal_code": None},
     {"country": "XK", "region": None, "postal_code": "10000"}],
)
def test_valid_addresses(changes) -> None:
    address(**changes).validate()


def test_invalid_address_stops_rendering() -> None:
    with pytest.raises(InvalidAddress):
        render(address=address(city=""))
