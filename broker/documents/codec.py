"""XML ⇄ model codec for :class:`~broker.documents.xmlmodel.XmlModel` (rules in that module).

Why not pydantic-xml: on a 5 KB notice it parsed about 160 documents a second here, because it
tries every member of a choice in turn; the hub must check over a thousand a second. This codec
builds a plan per model class once, walks the lxml tree once, and lets pydantic's compiled
validators convert the values; see docs/performance.md for the numbers.

The codec does no security checking: trees come from :mod:`broker.parsing.hardened`, and after a
signature check only from the tree that :mod:`broker.signing` returns as verified.
"""

from __future__ import annotations

import base64
import types
import typing
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from functools import cache
from typing import Any, TypeVar, Union
from uuid import UUID

from lxml import etree
from pydantic import ValidationError

from broker.documents.document import Document
from broker.documents.xmlmodel import DS_NS, NS, XmlModel
from broker.errors import LiandongError, problem

_Q = "{" + NS + "}"
_DS_SIGNATURE = "{" + DS_NS + "}Signature"

M = TypeVar("M", bound=XmlModel)


class DecodeError(LiandongError):
    """The tree does not fit the models (code ``DOC_DECODE``)."""


@dataclass(frozen=True)
class _FieldPlan:
    name: str
    xml_name: str
    is_attr: bool
    is_text: bool
    is_list: bool
    model: type[XmlModel] | None
    choices: dict[str, type[XmlModel]] | None
    strip: bool
    base64: bool


@dataclass(frozen=True)
class _ClassPlan:
    fields: tuple[_FieldPlan, ...]
    attrs: dict[str, _FieldPlan]
    children: dict[str, tuple[_FieldPlan, type[XmlModel] | None]]
    text: _FieldPlan | None


def _strip_wrappers(tp: Any) -> tuple[Any, bool]:
    """Remove Annotated, Optional and one list level; report whether it was a list."""
    is_list = False
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (Union, types.UnionType):
            members = [m for m in typing.get_args(tp) if m is not type(None)]
            if len(members) == 1:
                tp = members[0]
            else:
                return tp, is_list
        elif origin is list and not is_list:
            is_list = True
            tp = typing.get_args(tp)[0]
        else:
            return tp, is_list


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, XmlModel)


@cache
def _plan(cls: type[XmlModel]) -> _ClassPlan:
    fields: list[_FieldPlan] = []
    for name, info in cls.model_fields.items():
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        tp, is_list = _strip_wrappers(info.annotation)
        choices = None
        model = None
        if typing.get_origin(tp) in (Union, types.UnionType):
            members = [_strip_wrappers(m)[0] for m in typing.get_args(tp) if m is not type(None)]
            if not all(_is_model(m) for m in members):
                raise TypeError(f"{cls.__name__}.{name}: unions must be of XmlModel classes")
            choices = {m.xml_tag: m for m in members}
        elif _is_model(tp):
            model = tp
        fields.append(
            _FieldPlan(
                name=name,
                xml_name=info.alias or name,
                is_attr=bool(extra.get("xml_attribute")),
                is_text=bool(extra.get("xml_text")),
                is_list=is_list,
                model=model,
                choices=choices,
                strip=tp is not str,
                base64=bool(extra.get("xml_base64")),
            )
        )
    children: dict[str, tuple[_FieldPlan, type[XmlModel] | None]] = {}
    for f in fields:
        if f.is_attr or f.is_text:
            continue
        if f.choices:
            for tag, member in f.choices.items():
                children[_Q + tag] = (f, member)
        else:
            children[_Q + f.xml_name] = (f, f.model)
    text = next((f for f in fields if f.is_text), None)
    return _ClassPlan(
        fields=tuple(fields),
        attrs={f.xml_name: f for f in fields if f.is_attr},
        children=children,
        text=text,
    )


# --- decoding -------------------------------------------------------------------------------------


def _fail(elem: etree._Element, detail: str) -> DecodeError:
    # Paths are computed only on failure: building them for every element costs more than
    # the rest of the walk.
    path = elem.getroottree().getpath(elem)
    return DecodeError([problem("DOC_DECODE", path=path, detail=f"{detail} at {path}")])


def _scalar_text(elem: etree._Element, f: _FieldPlan) -> Any:
    text = elem.text or ""
    if len(elem):
        # Only comments may sit inside a value (the XSD allows them, exc-c14n does not sign them).
        if any(isinstance(c.tag, str) for c in elem):
            raise _fail(elem, "unexpected child elements")
        text += "".join(c.tail or "" for c in elem)
    if f.base64:
        try:
            return base64.b64decode("".join(text.split()), validate=True)
        except ValueError:
            raise _fail(elem, "invalid base64") from None
    return text.strip() if f.strip else text


def _decode(elem: etree._Element, cls: type[M]) -> M:
    plan = _plan(cls)
    data: dict[str, Any] = {}
    for key, value in elem.attrib.items():
        f = plan.attrs.get(key)
        if f is None:
            raise _fail(elem, f"unexpected attribute {key}")
        data[f.name] = value.strip() if f.strip else value
    if plan.text is not None:
        data[plan.text.name] = _scalar_text(elem, plan.text)
    else:
        children = plan.children
        for child in elem:
            tag = child.tag
            if not isinstance(tag, str):
                continue  # comments are not signed under exc-c14n and carry nothing
            entry = children.get(tag)
            if entry is None:
                if tag == _DS_SIGNATURE and cls is Document:
                    continue
                raise _fail(child, "unexpected element")
            f, member = entry
            value = _decode(child, member) if member is not None else _scalar_text(child, f)
            if f.is_list:
                data.setdefault(f.name, []).append(value)
            elif f.name in data:
                raise _fail(child, "element repeated")
            else:
                data[f.name] = value
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = "/".join(str(p) for p in first["loc"])
        raise _fail(elem, f"{first['msg']} ({where})" if where else first["msg"]) from None


def decode(elem: etree._Element, cls: type[M]) -> M:
    """Decode ``elem`` as ``cls``; raises :class:`DecodeError` with the path of the problem."""
    return _decode(elem, cls)


def from_element(root: etree._Element) -> Document:
    """Decode a ``Document`` root element (signature, if any, is skipped)."""
    if root.tag != _Q + "Document":
        raise _fail(root, f"root element is {etree.QName(root).localname}, not Document")
    return _decode(root, Document)


# --- encoding -------------------------------------------------------------------------------------


def _format(value: Any, f: _FieldPlan) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii") if f.base64 else value.decode("utf-8")
    if isinstance(value, UUID):
        return str(value)
    return str(value)


def _encode(parent: etree._Element | None, model: XmlModel, tag: str) -> etree._Element:
    if parent is None:
        elem = etree.Element(_Q + tag, nsmap={"ld": NS})
    else:
        elem = etree.SubElement(parent, _Q + tag)
    for f in _plan(type(model)).fields:
        value = getattr(model, f.name)
        if value is None or (f.is_list and not value):
            continue
        if f.is_attr:
            elem.set(f.xml_name, _format(value, f))
        elif f.is_text:
            elem.text = _format(value, f)
        else:
            for item in value if f.is_list else (value,):
                if f.choices is not None:
                    _encode(elem, item, item.xml_tag)
                elif f.model is not None:
                    _encode(elem, item, f.xml_name)
                else:
                    etree.SubElement(elem, _Q + f.xml_name).text = _format(item, f)
    return elem


def encode(model: XmlModel, tag: str | None = None) -> etree._Element:
    """Encode any model as a root element named ``tag`` (default: its ``xml_tag``)."""
    return _encode(None, model, tag or model.xml_tag)


def to_element(doc: Document) -> etree._Element:
    return _encode(None, doc, "Document")


def to_bytes(doc: Document | etree._Element) -> bytes:
    """UTF-8 bytes with an XML declaration, the form documents travel in."""
    root = to_element(doc) if isinstance(doc, Document) else doc
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
