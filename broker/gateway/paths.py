"""A problem's place in the XML, said as the JSON path of the same field (for a court that sent
JSON: ``$.Body.Measures[0].Subject.IdNumber`` rather than
``/ld:Document/ld:AssistanceNotice/ld:BankFreeze[1]/ld:NaturalPerson/ld:IdNumber``).

The walk follows the codec's own plan of each model (which field each child element belongs to,
including the members of a choice), so the JSON names are the models' aliases.
"""

from __future__ import annotations

from itertools import pairwise

from lxml import etree

from broker.documents.codec import _plan  # the codec's field plan: the one mapping of XML to fields
from broker.documents.document import Document
from broker.documents.xmlmodel import NS
from broker.errors import Problem


def _xpath(location: str) -> str:
    """A rule's location (``Document/AssistanceNotice/BankFreeze[2]/Amount``, broker.rules.engine
    ``path_of``) as an XPath; an XPath is kept as it is."""
    if location.startswith("/"):
        return location
    return "".join("/" + (step if step.startswith("@") else "ld:" + step) for step in location.split("/"))


def json_path(root: etree._Element, xml_path: str) -> str | None:
    """The JSON path of the element ``xml_path`` selects in ``root``; None when it selects
    nothing, or something the models do not describe."""
    try:
        found = root.xpath(_xpath(xml_path), namespaces={"ld": NS})
    except (etree.XPathError, TypeError):
        return None
    if not isinstance(found, list) or not found or not isinstance(found[0], etree._Element):
        return None
    chain = [found[0], *found[0].iterancestors()][::-1]
    if chain[0] is not root:
        return None
    path, cls = "$", Document
    for parent, child in pairwise(chain):
        children = _plan(cls).children
        entry = children.get(child.tag)
        if entry is None:
            return None
        field, model = entry
        path += "." + field.xml_name
        if field.is_list:
            siblings = [
                s for s in parent if isinstance(s.tag, str) and children.get(s.tag, (None,))[0] is field
            ]
            path += f"[{siblings.index(child)}]"
        if model is None:
            break
        cls = model
    return path


def with_json_paths(root: etree._Element | None, problems: list[Problem]) -> list[Problem]:
    """``problems`` with each XML path replaced by its JSON path where there is one."""
    if root is None:
        return problems
    out = []
    for p in problems:
        found = json_path(root, p.path) if p.path else None
        out.append(p.model_copy(update={"path": found}) if found else p)
    return out


__all__ = ["json_path", "with_json_paths"]
