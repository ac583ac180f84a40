"""The business-rule engine: rules beyond the XSD, each with a stable code and its source.

Rules run on the document tree (after a signature check, on the *verified* tree only). The
elements rules look at anywhere in a document are collected in one pass (:func:`indexed` names
them, :meth:`RuleContext.named` returns them), and everything else is found by anchored paths:
the checks run on every document the hub receives, beside a signature check they must not
dwarf (docs/performance.md). A rule is a function that
yields :class:`~broker.errors.Problem` values; :func:`rule` registers it with the codes it can
raise, the document types it applies to, and whether it needs the member registry.
``docs/rules.md`` is generated from this registry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Callable, Iterable

from lxml import etree

from broker.documents.xmlmodel import NS
from broker.errors import Problem, problem
from broker.parsing.times import parse_date, parse_datetime
from broker.registry import Registry

NSMAP = {"ld": NS}
_Q = "{" + NS + "}"


def xpath(expression: str) -> etree.XPath:
    """Compile an XPath over the liandong namespace (prefix ``ld``)."""
    return etree.XPath(expression, namespaces=NSMAP)


_INDEXED: set[str] = set()


def indexed(*names: str) -> tuple[str, ...]:
    """Declare element names a rule needs from anywhere in the document; returns their tags."""
    tags = tuple(_Q + n for n in names)
    _INDEXED.update(tags)
    return tags


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
    """A date within the years rules can compute with (:mod:`broker.parsing.times`), else None."""
    return parse_date(text)


def as_datetime(text: str | None) -> datetime | None:
    """A date-time within the years rules can compute with (:mod:`broker.parsing.times`), else None."""
    return parse_datetime(text)


def as_decimal(text: str | None) -> Decimal | None:
    """A finite decimal, else None: NaN raises on comparison and Infinity has no arithmetic
    (``RULE_AMOUNT_NOT_FINITE`` reports them)."""
    try:
        value = Decimal(text) if text else None
    except InvalidOperation:
        return None
    return value if value is not None and value.is_finite() else None


def is_non_finite(text: str | None) -> bool:
    """Whether ``text`` reads as a decimal that is not finite (NaN, sNaN, Infinity)."""
    try:
        return bool(text) and not Decimal(text).is_finite()  # type: ignore[arg-type]
    except InvalidOperation:
        return False


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
    _header: dict[str, etree._Element] = field(default_factory=dict, repr=False)
    _index: dict[str, list[etree._Element]] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        children = [c for c in self.root if isinstance(c.tag, str)]
        if children and children[0].tag == _Q + "Header":
            for c in children[0]:
                if isinstance(c.tag, str):
                    self._header.setdefault(c.tag[len(_Q):], c)
        self._body = children[1] if len(children) > 1 else None
        self.doc_type = self.header("DocumentType")
        self.sender = self.header("Sender")
        self.recipient = self.header("Recipient")

    def header(self, name: str) -> str:
        """The text of a header field ("" when absent)."""
        elem = self._header.get(name)
        return (elem.text or "").strip() if elem is not None else ""

    def header_element(self, name: str) -> etree._Element | None:
        return self._header.get(name)

    def named(self, *tags: str) -> list[etree._Element]:
        """Elements with these tags (from :func:`indexed`) anywhere in the document, in order."""
        if self._index is None:
            index: dict[str, list[etree._Element]] = {}
            for elem in self.root.iter(*_INDEXED):
                index.setdefault(elem.tag, []).append(elem)
            self._index = index
        if len(tags) == 1:
            return self._index.get(tags[0], [])
        found = [e for t in tags for e in self._index.get(t, [])]
        return found

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
        _APPLICABLE.clear()
        return function

    return register


def report(code: str, elem: etree._Element | None = None, **params: object) -> Problem:
    """A problem located at ``elem``."""
    return problem(code, path=path_of(elem) if elem is not None else None, **params)


_APPLICABLE: dict[tuple[str, bool], tuple[RuleFunction, ...]] = {}


def _applicable(doc_type: str, with_registry: bool) -> tuple[RuleFunction, ...]:
    key = (doc_type, with_registry)
    found = _APPLICABLE.get(key)
    if found is None:
        found = _APPLICABLE[key] = tuple(
            r.function
            for r in RULES
            if (r.types is None or doc_type in r.types) and (with_registry or not r.needs_registry)
        )
    return found


def check(
    root: etree._Element, registry: Registry | None = None, *, today: date | None = None
) -> list[Problem]:
    """Run every applicable rule on ``root``; return all problems found (empty when valid)."""
    ctx = RuleContext(root=root, registry=registry, today=today or date.today())
    found: list[Problem] = []
    for function in _applicable(ctx.doc_type, registry is not None):
        found.extend(function(ctx))
    return found
