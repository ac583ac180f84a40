"""The business-rule engine: rules beyond the XSD, each with a stable code and its source.

Rules run on the document tree (after a signature check, on the *verified* tree only), with
XPath compiled once, because decoding every document into models on the hub's hot path would
cost as much as the signature check itself (docs/performance.md). A rule is a function that
yields :class:`~broker.errors.Problem` values; :func:`rule` registers it with the codes it can
raise, the document types it applies to, and whether it needs the member registry.
``docs/rules.md`` is generated from this registry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Callable, Iterable, Iterator

from lxml import etree

from broker.documents.xmlmodel import NS
from broker.errors import Problem, problem
from broker.registry import Registry

NSMAP = {"ld": NS}
_Q = "{" + NS + "}"


def xpath(expression: str) -> etree.XPath:
    """Compile an XPath over the liandong namespace (prefix ``ld``)."""
    return etree.XPath(expression, namespaces=NSMAP)


_HEADER = {
    name: xpath(f"string(/ld:Document/ld:Header/ld:{name})")
    for name in ("DocumentId", "DocumentType", "Sender", "Recipient", "IssuedAt", "CaseNumber", "InReplyTo", "Deadline")
}
_BODY = xpath("/ld:Document/*[2]")


def path_of(elem: etree._Element) -> str:
    """A readable location such as ``Document/AssistanceNotice/BankFreeze[2]/Amount``."""
    parts = []
    node: etree._Element | None = elem
    while node is not None:
        name = etree.QName(node).localname
        parent = node.getparent()
        if parent is not None:
            same = [c for c in parent if c.tag == node.tag]
            if len(same) > 1:
                name += f"[{same.index(node) + 1}]"
        parts.append(name)
        node = parent
    return "/".join(reversed(parts))


def local(elem: etree._Element) -> str:
    return elem.tag[len(_Q):] if elem.tag.startswith(_Q) else etree.QName(elem).localname


def child_text(elem: etree._Element, name: str) -> str | None:
    child = elem.find(_Q + name)
    return None if child is None else (child.text or "").strip()


def as_date(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def as_datetime(text: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(text) if text else None
    except ValueError:
        return None


def as_decimal(text: str | None) -> Decimal | None:
    try:
        return Decimal(text) if text else None
    except InvalidOperation:
        return None


@dataclass
class RuleContext:
    """What a rule may look at: the tree, its header fields, the registry and today's date."""

    root: etree._Element
    registry: Registry | None
    today: date
    doc_type: str = ""
    sender: str = ""
    recipient: str = ""
    _body: etree._Element | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.doc_type = _HEADER["DocumentType"](self.root)
        self.sender = _HEADER["Sender"](self.root)
        self.recipient = _HEADER["Recipient"](self.root)
        bodies = _BODY(self.root)
        self._body = bodies[0] if bodies else None

    def header(self, name: str) -> str:
        return _HEADER[name](self.root)

    @property
    def body(self) -> etree._Element | None:
        return self._body

    def body_items(self) -> list[etree._Element]:
        return [c for c in self._body if isinstance(c.tag, str)] if self._body is not None else []


RuleFunction = Callable[[RuleContext], Iterable[Problem]]


@dataclass(frozen=True)
class Rule:
    function: RuleFunction
    codes: tuple[str, ...]
    types: frozenset[str] | None
    needs_registry: bool
    source: str

    @property
    def name(self) -> str:
        return self.function.__name__

    @property
    def description(self) -> str:
        return (self.function.__doc__ or "").strip()


RULES: list[Rule] = []


def rule(
    *codes: str, types: Iterable[str] | None = None, registry: bool = False, source: str = ""
) -> Callable[[RuleFunction], RuleFunction]:
    """Register a rule that can raise ``codes`` for documents of ``types`` (None: all)."""

    def register(function: RuleFunction) -> RuleFunction:
        RULES.append(Rule(function, codes, frozenset(types) if types else None, registry, source))
        return function

    return register


def report(code: str, elem: etree._Element | None = None, **params: object) -> Problem:
    """A problem located at ``elem``."""
    return problem(code, path=path_of(elem) if elem is not None else None, **params)


def check(
    root: etree._Element, registry: Registry | None = None, *, today: date | None = None
) -> list[Problem]:
    """Run every applicable rule on ``root``; return all problems found (empty when valid)."""
    ctx = RuleContext(root=root, registry=registry, today=today or date.today())
    found: list[Problem] = []
    for r in RULES:
        if r.types is not None and ctx.doc_type not in r.types:
            continue
        if r.needs_registry and registry is None:
            continue
        found.extend(r.function(ctx))
    return found


def iter_elements(ctx: RuleContext, expression: etree.XPath) -> Iterator[etree._Element]:
    yield from expression(ctx.root)
