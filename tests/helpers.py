"""Shared helpers for the rule, codec and parsing tests: the examples as bytes, trees and models,
edits of a model or a tree, and running the business rules on the result.

A test of a rule starts from a valid example (``examples/unsigned/<name>.xml``), applies one or
more :data:`Mutation` values and checks what :func:`broker.rules.check` reports::

    root = mutated("AssistanceNotice", setting(body__measures__0__amount__value=Decimal("0")))
    assert codes(rule_problems(root)) == {"RULE_AMOUNT_NOT_POSITIVE"}

``examples/build.py`` is importable as :data:`BUILD` for its constants and builders (the parties,
the unit codes, ``resident_id``, ``enforcement_account``, ...).
"""

from __future__ import annotations

import importlib.util
import sys
from datetime import date
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Iterable

from lxml import etree

from broker import rules
from broker.documents import codec
from broker.documents.document import Document
from broker.documents.xmlmodel import NS
from broker.errors import Problem
from broker.registry import Registry, load_registry

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES_DIR = ROOT / "examples" / "unsigned"
SIGNED_DIR = ROOT / "examples" / "signed"
REGISTRY_FILE = ROOT / "examples" / "network.yaml"
NSMAP = {"ld": NS}
LD = "{" + NS + "}"

TODAY = date(2026, 11, 23)
"""The fixed 'today' of every rule check, so the tests do not age."""

REGISTRY: Registry = load_registry(REGISTRY_FILE)


def _load_build() -> ModuleType:
    name = "examples_build"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "examples" / "build.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


BUILD = _load_build()
"""``examples/build.py`` as a module: CHEN, HENGDA, YUNFU_COURT, BANK, resident_id, ..."""


# --- examples -----------------------------------------------------------------------------------------


def example_names(*, coverage: bool = True) -> list[str]:
    """Every unsigned example by name (``AssistanceNotice``, ``coverage/QueryNotice-Tax``, ...)."""
    pattern = "**/*.xml" if coverage else "*.xml"
    return sorted(str(p.relative_to(EXAMPLES_DIR).with_suffix("")) for p in EXAMPLES_DIR.glob(pattern))


def example_bytes(name: str) -> bytes:
    return (EXAMPLES_DIR / f"{name}.xml").read_bytes()


def load_tree(name: str) -> etree._Element:
    """A fresh tree of an example (each call parses again, so tests may edit it)."""
    return etree.fromstring(example_bytes(name))


def load_doc(name: str) -> Document:
    """An example decoded into its model."""
    return codec.from_element(load_tree(name))


@cache
def registry_with_invented_units() -> Registry:
    """The example registry plus the recipients of ``examples/unsigned/coverage`` (build.py's
    INVENTED_UNITS) it does not have as members, so those examples can be checked as well."""
    data = REGISTRY.model_dump()
    members = {u["code"] for u in data["units"]}
    data["units"] += [
        {"code": code, "name": f"invented {kind}", "kind": kind, "region": "445300"}
        for kind, code in BUILD.INVENTED_UNITS.items()
        if code not in members  # the housing fund centre is a member now, with this code
    ]
    return Registry.model_validate(data)


def registry_where(code: str, **changes: Any) -> Registry:
    """A copy of the example registry with the unit ``code`` changed (e.g. ``accepts=[...]``)."""
    data = REGISTRY.model_dump()
    unit = next(u for u in data["units"] if u["code"] == code)
    unit.update(changes)
    return Registry.model_validate(data)


# --- mutations ----------------------------------------------------------------------------------------

Mutation = Callable[[Any], Any]
"""Takes a :class:`Document` or a tree and returns the changed document or tree."""


def replace(model: Any, path: list[str], value: Any) -> Any:
    """A copy of ``model`` with the field at ``path`` set to ``value``; list items by index.
    ``model_copy`` does not validate, so a test can build what the models would refuse."""
    first, rest = path[0], path[1:]
    if isinstance(model, list):
        index = int(first)
        items = list(model)
        items[index] = replace(items[index], rest, value) if rest else value
        return items
    if not hasattr(model, first):
        raise AttributeError(f"{type(model).__name__} has no field {first!r}")
    current = getattr(model, first)
    return model.model_copy(update={first: replace(current, rest, value) if rest else value})


def setting(**changes: Any) -> Mutation:
    """Set model fields; ``__`` separates the path: ``body__measures__0__amount__value``."""

    def mutate(doc: Document) -> Document:
        assert isinstance(doc, Document), "model changes must come before tree edits"
        for key, value in changes.items():
            doc = replace(doc, key.split("__"), value)
        return doc

    return mutate


def computed(key: str, value_of: Callable[[Document], Any]) -> Mutation:
    """Set the field at ``key`` (``__`` path) to a value computed from the document."""

    def mutate(doc: Document) -> Document:
        return replace(doc, key.split("__"), value_of(doc))

    return mutate


def as_tree(current: Document | etree._Element) -> etree._Element:
    return codec.to_element(current) if isinstance(current, Document) else current


def nodes(root: etree._Element, xpath: str) -> list[Any]:
    found = root.xpath(xpath, namespaces=NSMAP)
    assert found, f"{xpath} matches nothing"
    return found


def tree_text(xpath: str, text: str) -> Mutation:
    """Set the text of every element (or the value of every attribute) matched by ``xpath``."""

    def mutate(current: Any) -> etree._Element:
        root = as_tree(current)
        for node in nodes(root, xpath):
            if isinstance(node, etree._Element):
                node.text = text
            else:  # an attribute result: set it on its parent
                node.getparent().set(node.attrname, text)
        return root

    return mutate


def tree_remove(xpath: str) -> Mutation:
    """Remove every element matched by ``xpath``."""

    def mutate(current: Any) -> etree._Element:
        root = as_tree(current)
        for node in nodes(root, xpath):
            node.getparent().remove(node)
        return root

    return mutate


def tree_comment_inside(xpath: str, before: str, after: str) -> Mutation:
    """Make the text of the element at ``xpath`` ``before`` + a comment + ``after``: its XPath
    string value (what the XSD checks and exc-c14n signs) is ``before + after``."""

    def mutate(current: Any) -> etree._Element:
        root = as_tree(current)
        elem = nodes(root, xpath)[0]
        elem.text = before
        comment = etree.Comment(" - ")
        comment.tail = after
        elem.append(comment)
        return root

    return mutate


def mutated(name: str, *mutations: Mutation) -> etree._Element:
    """The example ``name`` with ``mutations`` applied in order, as a tree."""
    current: Any = load_doc(name)
    for mutation in mutations:
        current = mutation(current)
    return as_tree(current)


# --- checking ---------------------------------------------------------------------------------------


def rule_problems(root: etree._Element, registry: Registry | None = REGISTRY) -> list[Problem]:
    return rules.check(root, registry, today=TODAY)


def codes(problems: Iterable[Problem]) -> set[str]:
    return {p.code for p in problems}


def describe(problems: Iterable[Problem]) -> str:
    return "\n".join(f"{p.code} at {p.path}: {p.message_en}" for p in problems) or "(no problem)"
