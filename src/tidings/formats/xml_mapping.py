"""How an XML element becomes a dict: a small, fixed mapping.

| XML                                   | Python                                       |
|---------------------------------------|----------------------------------------------|
| ``<Sku>A-1</Sku>`` (no attributes)    | ``"A-1"`` (text with surrounding blanks cut)  |
| ``<Note/>``, ``<Note>  </Note>``      | ``None``                                     |
| attribute ``id="7"``                  | key ``"@id"``, value ``"7"``                 |
| child elements                        | key = the child's local name                 |
| a child name seen more than once      | a list of the values, in document order      |
| a name listed in ``always_list``      | always a list, even with one child           |
| text beside attributes or children    | key ``"#text"`` (all direct text, joined)    |

Names are local names: namespace URIs and prefixes are dropped (``o:Order``
and ``Order`` both map to ``"Order"``). Comments and processing instructions
are skipped. All values are strings; typing is the job of the XSD and of the
consumer. ``element_path`` gives the readable location of an element
(``/Orders/Order[2]``), with an index only where siblings share a name.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from lxml import etree

__all__ = ["TEXT_KEY", "element_path", "element_to_dict", "element_value", "paths_of"]

TEXT_KEY = "#text"


def element_to_dict(element: etree._Element, always_list: Collection[str] = ()) -> dict[str, Any]:
    """Map ``element`` to a dict (a bare text element gives ``{"#text": ...}``)."""
    value = element_value(element, always_list)
    return value if isinstance(value, dict) else {TEXT_KEY: value}


def element_value(element: etree._Element, always_list: Collection[str] = ()) -> Any:
    """Map ``element`` following the module's table."""
    children = [child for child in element if isinstance(child.tag, str)]
    text = _direct_text(element)
    if not children and not element.attrib:
        return text or None
    out: dict[str, Any] = {f"@{etree.QName(k).localname}": v for k, v in element.attrib.items()}
    repeated: set[str] = set()
    for child in children:
        name = etree.QName(child).localname
        value = element_value(child, always_list)
        if name in repeated:
            out[name].append(value)
        elif name in out or name in always_list:
            out[name] = [out[name], value] if name in out else [value]
            repeated.add(name)
        else:
            out[name] = value
    if text:
        out[TEXT_KEY] = text
    return out


def element_path(element: etree._Element) -> str:
    """Readable absolute path of ``element``: local names, [n] where names repeat."""
    return paths_of([element])[0]


def paths_of(elements: list[etree._Element]) -> list[str]:
    """``element_path`` of many elements, visiting each parent's children only once."""
    indexes: dict[etree._Element, str] = {}
    parents: dict[etree._Element, str] = {}
    out = []
    for element in elements:
        parent = element.getparent()
        if parent is None:
            out.append("/" + etree.QName(element).localname)
            continue
        if parent not in parents:
            parents[parent] = element_path(parent)
            indexes.update(_steps(parent))
        out.append(f"{parents[parent]}/{indexes[element]}")
    return out


def _steps(parent: etree._Element) -> dict[etree._Element, str]:
    """Step names of every child element: the local name, with [n] if it repeats."""
    children = [c for c in parent if isinstance(c.tag, str)]
    totals: dict[str, int] = {}
    for child in children:
        totals[child.tag] = totals.get(child.tag, 0) + 1
    seen: dict[str, int] = {}
    steps = {}
    for child in children:
        seen[child.tag] = seen.get(child.tag, 0) + 1
        name = etree.QName(child).localname
        steps[child] = name if totals[child.tag] == 1 else f"{name}[{seen[child.tag]}]"
    return steps


def _direct_text(element: etree._Element) -> str:
    return "".join([element.text or ""] + [node.tail or "" for node in element]).strip()
