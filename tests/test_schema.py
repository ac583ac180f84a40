"""``schemas/liandong-v1.xsd`` against the document models and the examples.

The XSD is written by hand for implementers on other platforms; the pydantic models in
``broker/documents`` are the source of truth. These tests keep the two from drifting apart:

- the schema compiles in libxml2 (lxml) and in xmlschema (XSD 1.0);
- every example in ``examples/unsigned`` validates with both, and decodes and re-encodes to the
  same canonical bytes; the examples are what ``examples/build.py`` produces and use every model class;
- for every model class, the child elements (names, order, occurrence), the attributes and the
  simple types derived from the model (rules in ``broker/documents/xmlmodel.py``) match the content
  model of each XSD element that carries the class, and the complex type is named after the class;
- the schema rejects what the models cannot produce.
"""

from __future__ import annotations

import copy
import runpy
import types
import typing
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import Enum
from functools import cache
from pathlib import Path
from typing import Any, Union
from uuid import UUID

import annotated_types
import pytest
import xmlschema
from lxml import etree
from pydantic import AwareDatetime, StringConstraints
from xmlschema.validators import XsdAnyElement, XsdElement, XsdGroup

from broker.documents import codec
from broker.documents.document import Document, DocumentType
from broker.documents.xmlmodel import DS_NS, NS, XmlModel

ROOT = Path(__file__).resolve().parent.parent
XSD_PATH = ROOT / "schemas" / "liandong-v1.xsd"
EXAMPLES_DIR = ROOT / "examples" / "unsigned"
EXAMPLES = sorted(EXAMPLES_DIR.glob("**/*.xml"))
XS = "{http://www.w3.org/2001/XMLSchema}"
LD = "{" + NS + "}"
SIGNATURE_SLOT = f"{{{DS_NS}}}*"
"""The ``xs:any`` for the enveloped ds:Signature: last child of Document, not part of the model."""


@pytest.fixture(scope="module")
def lxml_schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(XSD_PATH)))


@pytest.fixture(scope="module")
def xsd() -> xmlschema.XMLSchema10:
    return xmlschema.XMLSchema10(str(XSD_PATH))


def _example_id(path: Path) -> str:
    return str(path.relative_to(EXAMPLES_DIR))


def _parse(path: Path) -> etree._Element:
    return etree.parse(str(path)).getroot()


# --- what the models say (the xmlmodel.py rules) ----------------------------------------------------


Occurs = tuple[frozenset[str], int, int | None]
"""One particle of a content model: element names (several for a choice), minOccurs, maxOccurs."""


@dataclass(frozen=True)
class FieldShape:
    """One model field as the XML mapping sees it."""

    xml_name: str
    kind: str  # "attribute", "text" or "element"
    required: bool
    is_list: bool
    min_items: int
    members: dict[str, type[XmlModel]]  # element name -> model; empty for a scalar
    scalar: Any  # the Python type of a scalar field
    is_token: bool  # a Token (xs:token) rather than free text (str)

    @property
    def particle(self) -> Occurs:
        names = frozenset(self.members) or frozenset({self.xml_name})
        if self.is_list:
            return names, self.min_items, None
        return names, int(self.required), 1


def _unwrap(tp: Any, found: list[Any]) -> tuple[Any, bool]:
    """Strip Annotated (collecting its metadata in ``found``), Optional and one list level."""
    is_list = False
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp, *meta = typing.get_args(tp)
            found.extend(meta)
        elif origin in (Union, types.UnionType):
            members = [m for m in typing.get_args(tp) if m is not type(None)]
            if len(members) > 1:
                return tp, is_list
            tp = members[0]
        elif origin is list and not is_list:
            is_list = True
            tp = typing.get_args(tp)[0]
        else:
            return tp, is_list


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, XmlModel)


@cache
def field_shapes(cls: type[XmlModel]) -> tuple[FieldShape, ...]:
    shapes = []
    for name, info in cls.model_fields.items():
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        meta = list(info.metadata)
        tp, is_list = _unwrap(info.annotation, meta)
        if typing.get_origin(tp) in (Union, types.UnionType):
            members = {m.xml_tag: m for m in (_unwrap(m, [])[0] for m in typing.get_args(tp))}
        elif _is_model(tp):
            members = {info.alias or name: tp}
        else:
            members = {}
        kind = "attribute" if extra.get("xml_attribute") else "text" if extra.get("xml_text") else "element"
        shapes.append(
            FieldShape(
                xml_name=info.alias or name,
                kind=kind,
                required=info.is_required(),
                is_list=is_list,
                min_items=max(
                    (m.min_length for m in meta if isinstance(m, annotated_types.MinLen)), default=0
                ),
                members=members,
                scalar=None if members else tp,
                is_token=any(isinstance(m, StringConstraints) for m in meta),
            )
        )
    return tuple(shapes)


def model_particles(cls: type[XmlModel]) -> list[Occurs]:
    particles = [f.particle for f in field_shapes(cls) if f.kind == "element"]
    if cls is Document:
        particles.append((frozenset({SIGNATURE_SLOT}), 0, 1))
    return particles


def model_attributes(cls: type[XmlModel]) -> dict[str, bool]:
    return {f.xml_name: f.required for f in field_shapes(cls) if f.kind == "attribute"}


@cache
def reachable_classes() -> tuple[type[XmlModel], ...]:
    """Every model class that can occur in a document, in walking order."""
    found: dict[type[XmlModel], None] = {}

    def walk(cls: type[XmlModel]) -> None:
        if cls not in found:
            found[cls] = None
            for shape in field_shapes(cls):
                for member in shape.members.values():
                    walk(member)

    walk(Document)
    return tuple(found)


def declaring_class(cls: type[XmlModel]) -> type[XmlModel]:
    """The class whose complex type an element of ``cls`` uses: ``cls`` itself, or the ancestor it
    only renames (BankRotatingFreeze -> BankFreeze, HousingFundFreeze -> FundFreeze)."""
    parent = cls.__base__
    while parent is not XmlModel and list(parent.model_fields) == list(cls.model_fields):
        cls, parent = parent, parent.__base__
    return cls


def type_name(cls: type[XmlModel]) -> str:
    return f"{declaring_class(cls).__name__}Type"


# --- what the XSD says ------------------------------------------------------------------------------


def _choice_names(group: XsdGroup) -> set[str]:
    names: set[str] = set()
    for item in group:
        assert (item.min_occurs, item.max_occurs) == (1, 1), f"occurrence inside a choice: {item}"
        names |= _choice_names(item) if isinstance(item, XsdGroup) else {item.local_name}
    return names


def xsd_particles(group: XsdGroup) -> list[Occurs]:
    """Flatten a content model into particles: nested 1..1 sequences (extension, group refs) are
    inlined, a choice becomes one particle naming all its elements."""
    particles: list[Occurs] = []
    for item in group:
        if isinstance(item, XsdAnyElement):
            particles += [
                (frozenset(f"{{{ns}}}*" for ns in item.namespace), item.min_occurs, item.max_occurs)
            ]
        elif isinstance(item, XsdElement):
            particles += [(frozenset({item.local_name}), item.min_occurs, item.max_occurs)]
        elif item.model == "choice":
            particles += [(frozenset(_choice_names(item)), item.min_occurs, item.max_occurs)]
        else:
            assert (item.min_occurs, item.max_occurs) == (1, 1), f"repeated sequence: {item}"
            particles += xsd_particles(item)
    return particles


def child_elements(group: XsdGroup) -> Iterator[XsdElement]:
    for item in group:
        if isinstance(item, XsdGroup):
            yield from child_elements(item)
        elif isinstance(item, XsdElement):
            yield item


Carriers = dict[type[XmlModel], list[tuple[str, XsdElement]]]


@pytest.fixture(scope="module")
def carriers(xsd: xmlschema.XMLSchema10) -> Carriers:
    """For each model class, the XSD elements (with their paths) that carry it, found by walking
    the models and the XSD in parallel from ``Document``."""
    found: Carriers = defaultdict(list)
    visited: set[tuple[type[XmlModel], int]] = set()

    def walk(cls: type[XmlModel], elem: XsdElement, path: str) -> None:
        if (cls, id(elem.type)) in visited:
            return
        visited.add((cls, id(elem.type)))
        found[cls].append((path, elem))
        if elem.type.has_simple_content():
            return
        children = {e.local_name: e for e in child_elements(elem.type.content)}
        for shape in field_shapes(cls):
            for tag, member in shape.members.items():
                if tag in children:
                    walk(member, children[tag], f"{path}/{tag}")

    walk(Document, xsd.elements["Document"], "/Document")
    return found


def _occurs(particle: Occurs | None) -> str:
    if particle is None:
        return "(nothing)"
    names, lo, hi = particle
    return f"{'|'.join(sorted(names))} [{lo}..{'*' if hi is None else hi}]"


def particle_difference(
    cls: type[XmlModel], path: str, expected: list[Occurs], actual: list[Occurs]
) -> str | None:
    """The first child where the model and the XSD differ, described for a person; None when equal."""
    for i in range(max(len(expected), len(actual))):
        want = expected[i] if i < len(expected) else None
        got = actual[i] if i < len(actual) else None
        if want == got:
            continue
        where = f"{cls.__name__} at {path}, child {i + 1}"
        if want and got and len(want[0] | got[0]) > 2 and want[0] != got[0]:
            only_model, only_xsd = sorted(want[0] - got[0]), sorted(got[0] - want[0])
            return f"{where}: choice differs, only in model {only_model}, only in XSD {only_xsd}"
        return f"{where}: model has {_occurs(want)}, XSD has {_occurs(got)}"
    return None


# --- the schema compiles, examples validate and round-trip -------------------------------------------


def test_schema_compiles_with_both_processors(
    lxml_schema: etree.XMLSchema, xsd: xmlschema.XMLSchema10
) -> None:
    assert xsd.target_namespace == NS
    assert list(xsd.elements) == ["Document"], "only Document may be a global element (a root)"


@pytest.mark.parametrize("path", EXAMPLES, ids=_example_id)
def test_example_validates_and_round_trips(
    path: Path, lxml_schema: etree.XMLSchema, xsd: xmlschema.XMLSchema10
) -> None:
    root = _parse(path)
    assert lxml_schema.validate(root), f"lxml: {lxml_schema.error_log}"
    xsd.validate(str(path))  # raises with the reason
    decoded = codec.from_element(root)
    assert etree.tostring(codec.to_element(decoded), method="c14n") == etree.tostring(root, method="c14n")


def test_examples_cover_every_document_type() -> None:
    by_type = defaultdict(list)
    for path in EXAMPLES:
        by_type[codec.from_element(_parse(path)).type].append(path)
    main = {path.stem for path in EXAMPLES if path.parent == EXAMPLES_DIR}
    assert {t.value for t in DocumentType} <= main, "every type needs unsigned/<Type>.xml"
    for doc_type, paths in by_type.items():
        assert all(p.stem.split("-")[0] == doc_type for p in paths), f"{doc_type} in {paths}"


def _instance_classes(value: Any, found: set[type]) -> None:
    if isinstance(value, XmlModel):
        found.add(type(value))
        for name in type(value).model_fields:
            _instance_classes(getattr(value, name), found)
    elif isinstance(value, list):
        for item in value:
            _instance_classes(item, found)


def test_examples_use_every_model_class() -> None:
    used: set[type] = set()
    for path in EXAMPLES:
        _instance_classes(codec.from_element(_parse(path)), used)
    missing = [cls.__name__ for cls in reachable_classes() if cls not in used]
    assert not missing, f"no example uses {missing}; add them to examples/build.py"


def test_examples_are_what_build_py_writes() -> None:
    docs = runpy.run_path(str(ROOT / "examples" / "build.py"), run_name="examples_build")["build"]().docs
    assert sorted(f"{name}.xml" for name in docs) == sorted(_example_id(p) for p in EXAMPLES)
    for name, doc in docs.items():
        assert (EXAMPLES_DIR / f"{name}.xml").read_bytes() == codec.to_bytes(doc), (
            f"rerun examples/build.py ({name})"
        )


# --- the XSD and the models agree ----------------------------------------------------------------------


CLASSES = reachable_classes()


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_content_model_matches_model(cls: type[XmlModel], carriers: Carriers) -> None:
    assert carriers[cls], f"no XSD element carries {cls.__name__}"
    expected = model_particles(cls)
    expected_attributes = model_attributes(cls)
    has_text = any(f.kind == "text" for f in field_shapes(cls))
    for path, elem in carriers[cls]:
        where = f"{cls.__name__} at {path}"
        assert elem.type.has_simple_content() == has_text, f"{where}: simple content differs"
        actual = [] if has_text else xsd_particles(elem.type.content)
        difference = particle_difference(cls, path, expected, actual)
        assert difference is None, difference
        attributes = {name: attr.use == "required" for name, attr in elem.type.attributes.items()}
        assert attributes == expected_attributes, (
            f"{where}: attributes (name: required) model {expected_attributes}, XSD {attributes}"
        )


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_complex_type_is_named_after_class(cls: type[XmlModel], carriers: Carriers) -> None:
    own = declaring_class(cls)
    parent = own.__base__
    for path, elem in carriers[cls]:
        xsd_type = elem.type
        assert xsd_type.local_name == type_name(cls), f"{cls.__name__} at {path}: type {xsd_type.local_name}"
        if parent is not XmlModel:
            base = xsd_type.base_type.local_name if xsd_type.base_type else None
            wanted = type_name(parent)
            assert (xsd_type.derivation, base) == ("extension", wanted), (
                f"{xsd_type.local_name} must extend {wanted} ({own.__name__} extends {parent.__name__})"
            )


def _named(name: str) -> Callable[[Any, xmlschema.XMLSchema10], bool]:
    return lambda xsd_type, xsd: xsd_type.local_name == name


def _derived_from(builtin: str) -> Callable[[Any, xmlschema.XMLSchema10], bool]:
    return lambda xsd_type, xsd: xsd_type.is_derived(xsd.maps.types[XS + builtin])


SCALAR_RULES: dict[Any, tuple[Callable[[Any, xmlschema.XMLSchema10], bool], str]] = {
    AwareDatetime: (_named("DateTimeWithOffset"), "DateTimeWithOffset"),
    date: (_derived_from("date"), "xs:date"),
    UUID: (_named("Uuid"), "Uuid"),
    bool: (_derived_from("boolean"), "xs:boolean"),
    int: (_derived_from("integer"), "an xs:integer type"),
    Decimal: (_derived_from("decimal"), "an xs:decimal type"),
    bytes: (_derived_from("base64Binary"), "xs:base64Binary"),
    "Token": (_derived_from("token"), "an xs:token type"),
    str: (_named("LongText"), "LongText"),
}
"""Python type of a scalar field -> the XSD simple types that can hold it ("Token": a Token field)."""


def scalar_mismatch(shape: FieldShape, xsd_type: Any, xsd: xmlschema.XMLSchema10) -> str | None:
    """Why ``xsd_type`` cannot hold what the model writes for ``shape``; None when it fits."""
    tp = shape.scalar
    if isinstance(tp, type) and issubclass(tp, Enum):
        values = sorted(e.value for e in tp)
        return None if sorted(xsd_type.enumeration or ()) == values else f"enumeration must be {values}"
    if xsd_type.enumeration:
        return f"has an enumeration {xsd_type.enumeration} for a non-enum field"
    rule = SCALAR_RULES.get("Token" if shape.is_token else tp)
    if rule is None:
        return f"has no rule for Python type {tp!r}"
    fits, wanted = rule
    return None if fits(xsd_type, xsd) else f"must be {wanted}"


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_simple_types_match_model(
    cls: type[XmlModel], carriers: Carriers, xsd: xmlschema.XMLSchema10
) -> None:
    for path, elem in carriers[cls]:
        children = (
            {}
            if elem.type.has_simple_content()
            else {e.local_name: e for e in child_elements(elem.type.content)}
        )
        for shape in field_shapes(cls):
            if shape.members:
                continue
            if shape.kind == "attribute":
                xsd_type, where = elem.type.attributes[shape.xml_name].type, f"@{shape.xml_name}"
            elif shape.kind == "text":
                xsd_type, where = elem.type.content, "text()"
            else:
                xsd_type, where = children[shape.xml_name].type, shape.xml_name
            problem = scalar_mismatch(shape, xsd_type, xsd)
            assert problem is None, (
                f"{cls.__name__} at {path}/{where}: XSD type {xsd_type.local_name} {problem}"
            )


# --- the XSD rejects what the models cannot produce ------------------------------------------------


def _first(root: etree._Element, xpath: str) -> etree._Element:
    return root.xpath(xpath, namespaces={"ld": NS})[0]


def _add_unknown_element(root: etree._Element) -> etree._Element:
    etree.SubElement(_first(root, "ld:Header"), LD + "Priority").text = "high"
    return root


def _drop_sender(root: etree._Element) -> etree._Element:
    sender = _first(root, "ld:Header/ld:Sender")
    sender.getparent().remove(sender)
    return root


def _second_body(root: etree._Element) -> etree._Element:
    root.append(copy.deepcopy(root[1]))
    return root


def _three_decimals(root: etree._Element) -> etree._Element:
    _first(root, "//ld:Amount").text = "500000.125"
    return root


def _issued_without_offset(root: etree._Element) -> etree._Element:
    _first(root, "ld:Header/ld:IssuedAt").text = "2026-03-04T09:30:00"
    return root


def _body_as_root(root: etree._Element) -> etree._Element:
    return copy.deepcopy(root[1])


def _missing_id(root: etree._Element) -> etree._Element:
    del root.attrib["Id"]
    return root


def _bad_unit_code(root: etree._Element) -> etree._Element:
    _first(root, "ld:Header/ld:Recipient").text = "91445300MA51000O3A"  # letter O is not in the alphabet
    return root


INVALID = {
    "unknown element": _add_unknown_element,
    "missing required element": _drop_sender,
    "second body element": _second_body,
    "money with three decimals": _three_decimals,
    "issued-at without offset": _issued_without_offset,
    "root is not Document": _body_as_root,
    "root without Id": _missing_id,
    "malformed unit code": _bad_unit_code,
}


@pytest.mark.parametrize("mutate", INVALID.values(), ids=INVALID.keys())
def test_schema_rejects(
    mutate: Callable[[etree._Element], etree._Element],
    lxml_schema: etree.XMLSchema,
    xsd: xmlschema.XMLSchema10,
) -> None:
    original = _parse(EXAMPLES_DIR / "AssistanceNotice.xml")
    assert lxml_schema.validate(original) and xsd.is_valid(original)
    broken = mutate(copy.deepcopy(original))
    assert not lxml_schema.validate(broken), "lxml accepted it"
    assert not xsd.is_valid(broken), "xmlschema accepted it"
