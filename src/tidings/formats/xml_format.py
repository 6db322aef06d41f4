"""XML decoder: hardened parse, optional XSD, one dict per element a record XPath selects.

``decode_xml(data, record_xpath="/Orders/Order", xsd=schema)``:

1. parses ``data`` with ``xml_guard.parse_untrusted`` (size limit, no DOCTYPE,
   no entities, no network): a failure there raises ``DecodeError``;
2. validates the whole document against the XSD, when one is given; each
   error (with its line and XPath) is charged to the record element it lies
   in, so only those records become ``RecordError``; an error outside every
   record (the root element is wrong) raises ``schema_violation``;
3. yields one ``DecodedRecord`` per selected element, mapped as described in
   ``xml_mapping``, with ``location`` its readable path (``/Orders/Order[2]``)
   and ``kind`` its local name.

Namespaced documents: pass ``namespaces={"o": "urn:orders"}`` and write the
XPath with those prefixes (``/o:Orders/o:Order``).
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Iterator, Mapping

from lxml import etree

from tidings.formats import errors, records, xml_guard, xml_mapping

__all__ = ["XSD_CACHE_SIZE", "compile_xsd", "decode_xml"]

XSD_CACHE_SIZE = 32
R = errors.ReasonCode


def decode_xml(data: bytes, record_xpath: str, *, xsd: bytes | None = None,
               namespaces: Mapping[str, str] | None = None,
               always_list: Collection[str] = (),
               max_bytes: int = xml_guard.MAX_XML_BYTES) -> Iterator[records.Decoded]:
    """Yield one item per element selected by ``record_xpath`` (see the module doc)."""
    tree = xml_guard.parse_untrusted(data, max_bytes)
    elements = _select(tree, record_xpath, namespaces)
    problems = _validate(tree, elements, xsd) if xsd is not None else {}
    for element, location in zip(elements, xml_mapping.paths_of(elements), strict=True):
        kind = etree.QName(element).localname
        issues = problems.get(element)
        if issues:
            yield records.RecordError(_schema_error(location, issues),
                                      etree.tostring(element, with_tail=False))
        else:
            yield records.DecodedRecord(
                xml_mapping.element_to_dict(element, always_list), location, kind)


def compile_xsd(xsd: bytes) -> etree.XMLSchema:
    """Return the compiled (cached) XML Schema; DefinitionError if it is invalid."""
    return _compiled_xsd(xsd)


@functools.lru_cache(maxsize=XSD_CACHE_SIZE)
def _compiled_xsd(xsd: bytes) -> etree.XMLSchema:
    try:
        return etree.XMLSchema(etree.fromstring(xsd, xml_guard.hardened_parser()))
    except (etree.XMLSyntaxError, etree.XMLSchemaParseError) as exc:
        raise errors.DefinitionError(f"invalid XSD: {exc}") from exc


def _select(tree: etree._ElementTree, xpath: str,
            namespaces: Mapping[str, str] | None) -> list[etree._Element]:
    try:
        found = tree.xpath(xpath, namespaces=dict(namespaces or {}))
    except etree.XPathError as exc:
        raise errors.DefinitionError(f"invalid record XPath {xpath!r}: {exc}") from exc
    if not isinstance(found, list):
        raise errors.DefinitionError(f"record XPath {xpath!r} must select elements")
    return [node for node in found if isinstance(node, etree._Element)]


def _validate(tree: etree._ElementTree, elements: list[etree._Element],
              xsd: bytes) -> dict[etree._Element, list[errors.Issue]]:
    schema = compile_xsd(xsd)
    if schema.validate(tree):
        return {}
    owners = {tree.getpath(element): element for element in elements}
    charged: dict[etree._Element, list[errors.Issue]] = {}
    for entry in schema.error_log:
        issue = errors.Issue(f"line {entry.line} {entry.path}", entry.message)
        owner = _owner(entry.path, owners)
        if owner is None:
            raise errors.DecodeError(R.SCHEMA_VIOLATION, issue.location, issue.detail)
        charged.setdefault(owner, []).append(issue)
    return charged


def _owner(path: str, owners: Mapping[str, etree._Element]) -> etree._Element | None:
    """The record element whose subtree holds ``path`` (an XPath from libxml2)."""
    probe = path
    while probe:
        if probe in owners:
            return owners[probe]
        probe = probe.rpartition("/")[0]
    return None


def _schema_error(location: str, issues: list[errors.Issue]) -> errors.DecodeError:
    first = issues[0]
    detail = f"{first.location}: {first.detail}"
    if len(issues) > 1:
        detail += f" (and {len(issues) - 1} more)"
    return errors.DecodeError(R.SCHEMA_VIOLATION, location, detail, tuple(issues))
