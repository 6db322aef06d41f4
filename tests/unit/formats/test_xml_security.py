"""The XML defences hold one by one, and no attack reads a file.

The golden fixtures show every attack refused with ``unsafe_xml``. These
tests go further: they bypass the DOCTYPE refusal and hand the payloads to
the hardened parser itself, to prove that even then no entity expands and no
file is read. "Not read" is shown twice: the secret never appears in the
tree, and the canary file's access time does not move (checked against a
control read that does move it, when the file system records access times).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from lxml import etree

from tidings.formats import errors, xml_format, xml_guard

SECRET = "canary-7d1c9e-secret"
R = errors.ReasonCode


@pytest.fixture()
def canary(tmp_path: Path) -> Path:
    path = tmp_path / "canary.txt"
    path.write_text(SECRET)
    _age_access_time(path)
    return path


def _age_access_time(path: Path) -> None:
    """Put atime well before mtime, so that any read updates it even under relatime."""
    mtime = path.stat().st_mtime
    os.utime(path, (mtime - 86_400, mtime))


def _atime_moves_on_read(tmp_path: Path) -> bool:
    control = tmp_path / "control.txt"
    control.write_text("x")
    _age_access_time(control)
    before = control.stat().st_atime
    control.read_text()
    return control.stat().st_atime != before


def _xxe(uri: str) -> bytes:
    return (f'<?xml version="1.0"?>\n<!DOCTYPE Orders [<!ENTITY s SYSTEM "{uri}">]>\n'
            f'<Orders><Order id="1"><Note>&s;</Note></Order></Orders>').encode()


def test_xxe_file_is_refused_and_the_file_is_never_read(canary: Path, tmp_path: Path) -> None:
    before = canary.stat().st_atime
    payload = _xxe(canary.as_uri())
    with pytest.raises(errors.DecodeError) as refused:
        list(xml_format.decode_xml(payload, "/Orders/Order"))
    assert refused.value.reason is R.UNSAFE_XML
    tree = xml_guard.parse_hardened(payload)  # the parser alone, without the DOCTYPE refusal
    assert SECRET not in etree.tostring(tree, encoding="unicode")
    assert tree.getroot().find("Order/Note")[0].tag is etree.Entity  # left unexpanded
    time.sleep(0.01)
    if _atime_moves_on_read(tmp_path):
        assert canary.stat().st_atime == before


def test_external_dtd_is_never_loaded(canary: Path, tmp_path: Path) -> None:
    dtd = tmp_path / "evil.dtd"
    dtd.write_text(f'<!ENTITY s SYSTEM "{canary.as_uri()}">')
    _age_access_time(dtd)
    before = dtd.stat().st_atime
    payload = (f'<?xml version="1.0"?>\n<!DOCTYPE Orders SYSTEM "{dtd.as_uri()}">\n'
               f'<Orders><Order id="1"><Note>&s;</Note></Order></Orders>').encode()
    try:
        text = etree.tostring(xml_guard.parse_hardened(payload), encoding="unicode")
    except errors.DecodeError as exc:  # an undefined entity is also a fine outcome
        text = exc.detail
    assert SECRET not in text
    if _atime_moves_on_read(tmp_path):
        assert dtd.stat().st_atime == before
        assert canary.stat().st_atime <= canary.stat().st_mtime


def test_entities_do_not_expand_even_past_the_byte_scan() -> None:
    laughs = Path(__file__).resolve().parents[2] / "fixtures" / "formats" / "xml" \
        / "billion_laughs.xml"
    data = laughs.read_bytes()
    try:
        tree = xml_guard.parse_hardened(data)
    except errors.DecodeError as exc:
        assert exc.reason is R.UNSAFE_XML
        return
    assert len(etree.tostring(tree)) < 4 * len(data)


def test_size_is_checked_before_the_parser_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(*args: object, **kwargs: object) -> None:
        raise AssertionError("the parser ran on an oversized document")

    monkeypatch.setattr(etree, "fromstring", explode)
    with pytest.raises(errors.DecodeError) as refused:
        xml_guard.parse_untrusted(b"<a>" + b"x" * 100 + b"</a>", max_bytes=50)
    assert refused.value.reason is R.TOO_LARGE


@pytest.mark.parametrize("declaration", [b"<!DOCTYPE a>", b"<!ENTITY x 'y'>", b"<! DOCTYPE a>"])
def test_any_declaration_is_refused_before_parsing(declaration: bytes) -> None:
    with pytest.raises(errors.DecodeError) as refused:
        xml_guard.parse_untrusted(b'<?xml version="1.0"?>\n' + declaration + b"<a/>")
    assert refused.value.reason is R.UNSAFE_XML
    assert refused.value.location == "line 2"


def test_invalid_xsd_and_xpath_are_definition_errors() -> None:
    with pytest.raises(errors.DefinitionError):
        xml_format.compile_xsd(b"<xs:schema xmlns:xs='http://www.w3.org/2001/XMLSchema'>"
                               b"<xs:element/></xs:schema>")
    with pytest.raises(errors.DefinitionError):
        list(xml_format.decode_xml(b"<a/>", "/a[["))
    with pytest.raises(errors.DefinitionError):
        list(xml_format.decode_xml(b"<a/>", "count(/a)"))
