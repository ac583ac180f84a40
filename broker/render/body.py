"""The body of a 文书 in words, from its pydantic model.

Notices, queries, releases and receipts have their own wording (each measure, query, result and
release a numbered item, as on the paper forms); every other body, and any type added later, is
rendered by :func:`generic` from the model's fields, so every type in the catalogue is readable.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from broker.documents.bodies import AssistanceNotice, ExecutionReceipt, QueryNotice, ReleaseNotice
from broker.documents.document import Document
from broker.documents.results import MeasureResult, QueryResult, ReleaseResult
from broker.documents.xmlmodel import XmlModel
from broker.render import labels
from broker.render.values import format_value, phrase
from broker.render.view import Entry, Row, Section

_NUMERALS = "一二三四五六七八九十"

# Identifiers shown in an item's title rather than as a row.
_TITLE_FIELDS = frozenset({"measure_id", "query_id", "release_id"})


def numbered(n: int) -> str:
    """一、二、… as paper documents number their items (then 11、12、…)."""
    return (_NUMERALS[n - 1] if n <= len(_NUMERALS) else str(n)) + "、"


def _present(v: Any) -> bool:
    return v is not None and v != [] and v != ""


def _is_model_list(v: Any) -> bool:
    return isinstance(v, list) and bool(v) and all(isinstance(x, XmlModel) and phrase(x) is None for x in v)


_UNIT_FIELDS = frozenset({"served_sender", "served_recipient", "unit", "undelivered_to"})
"""Fields holding a unit code: shown by the unit's name when the registry knows it."""
_TYPE_FIELDS: dict[str, Callable[[str], str]] = {"served_document_type": labels.title, "measure_type": labels.item}
"""Fields holding a document type or a measure element's name: shown in words."""


def _words(name: str, v: Any, unit_name: Callable[[str], str]) -> str:
    if isinstance(v, str) and name in _UNIT_FIELDS:
        return unit_name(v)
    if isinstance(v, str) and name in _TYPE_FIELDS:
        return _TYPE_FIELDS[name](v)
    return format_value(v)


def fill(
    entry: Entry,
    model: XmlModel,
    skip: frozenset[str] = _TITLE_FIELDS,
    label: Callable[[str], str] = labels.field,
    unit_name: Callable[[str], str] = str,
) -> Entry:
    """Add ``model``'s fields to ``entry``: rows for values, child items for lists of records;
    ``label`` names a field, ``unit_name`` a unit by its code."""
    for name in type(model).model_fields:
        v = getattr(model, name)
        if name in skip or not _present(v):
            continue
        if _is_model_list(v):
            for i, child in enumerate(v, 1):
                tag = getattr(type(child), "xml_tag", "")
                title = f"{labels.field(name)} {i}" + (f"：{labels.item(tag)}" if tag else "")
                entry.children.append(fill(Entry(title), child, unit_name=unit_name))
        else:
            entry.rows.append(Row(label(name), _words(name, v, unit_name)))
    return entry


def generic(body: XmlModel, unit_name: Callable[[str], str] = str) -> list[Section]:
    """Any body: its fields as rows, its lists of records as numbered items."""
    filled = fill(Entry(""), body, skip=frozenset(), unit_name=unit_name)
    return [Section(rows=filled.rows, entries=filled.children)]


def _item_id(model: XmlModel) -> str:
    for name in ("measure_id", "query_id", "release_id"):
        v = getattr(model, name, None)
        if v:
            return f"（编号 {v}）"
    return ""


def _remark(text: str | None) -> list[Section]:
    return [Section(heading="备注", paragraphs=[text])] if text else []


def _assistance(doc: Document, addressee: str) -> list[Section]:
    body: AssistanceNotice = doc.body  # type: ignore[assignment]
    basis = f"根据本院{format_value(body.ruling)}，" if body.ruling else ""
    intro = Section(paragraphs=[f"{addressee}：", f"{basis}请你单位协助执行下列事项："])
    items = [
        fill(Entry(f"{numbered(n)}{labels.item(m.xml_tag)}{_item_id(m)}"), m, label=partial(labels.measure_field, m.xml_tag))
        for n, m in enumerate(body.measures, 1)
    ]
    return [intro, Section(entries=items), *_remark(body.remark)]


def _query(doc: Document, addressee: str) -> list[Section]:
    body: QueryNotice = doc.body  # type: ignore[assignment]
    intro = Section(paragraphs=[f"{addressee}：", "请你单位协助查询下列事项，并将查询结果及时回复："])
    items = [
        fill(Entry(f"{numbered(n)}查询{labels.value(q.kind)}{_item_id(q)}"), q, _TITLE_FIELDS | {"kind"})
        for n, q in enumerate(body.queries, 1)
    ]
    return [intro, Section(entries=items), *_remark(body.remark)]


def _release(doc: Document, addressee: str) -> list[Section]:
    body: ReleaseNotice = doc.body  # type: ignore[assignment]
    basis = f"根据本院{format_value(body.ruling)}，" if body.ruling else ""
    intro = Section(paragraphs=[f"{addressee}：", f"{basis}请你单位解除下列措施："])
    items = [
        fill(Entry(f"{numbered(n)}{labels.value(r.kind)}{_item_id(r)}"), r, _TITLE_FIELDS | {"kind"})
        for n, r in enumerate(body.releases, 1)
    ]
    return [intro, Section(entries=items)]


def _result_title(n: int, r: XmlModel) -> str:
    if isinstance(r, MeasureResult):
        what = f"措施 {r.measure_id}"
    elif isinstance(r, QueryResult):
        what = f"查询 {r.query_id}"
    elif isinstance(r, ReleaseResult):
        what = f"解除 {r.release_id}"
    else:
        what = labels.item(getattr(type(r), "xml_tag", ""))
    status = getattr(r, "status", None)
    return f"{numbered(n)}{what}：{labels.value(status)}" if status is not None else f"{numbered(n)}{what}"


def _receipt(doc: Document, addressee: str) -> list[Section]:
    body: ExecutionReceipt = doc.body  # type: ignore[assignment]
    asked = f"第 {doc.header.in_reply_to} 号文书所列事项" if doc.header.in_reply_to else "所列事项"
    intro = Section(paragraphs=[f"{addressee}：", f"你单位{asked}，协助执行结果如下："])
    items = [fill(Entry(_result_title(n, r)), r, _TITLE_FIELDS | {"status"}) for n, r in enumerate(body.results, 1)]
    return [intro, Section(entries=items), *_remark(body.remark)]


_SPECIFIC: dict[type[XmlModel], Callable[[Document, str], list[Section]]] = {
    AssistanceNotice: _assistance,
    QueryNotice: _query,
    ReleaseNotice: _release,
    ExecutionReceipt: _receipt,
}


def sections(doc: Document, addressee: str, unit_name: Callable[[str], str] = str) -> list[Section]:
    """The body of ``doc`` as sections; ``addressee`` is the name the greeting uses, ``unit_name``
    names a unit the body mentions by its code."""
    specific = _SPECIFIC.get(type(doc.body))
    if specific is not None:
        return specific(doc, addressee)
    return [Section(paragraphs=[f"{addressee}："]), *generic(doc.body, unit_name)]
