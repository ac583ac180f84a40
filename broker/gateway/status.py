"""What became of a document, every document of a case, and a unit's inbox — read from the
unit's store (what was sent, and every verified answer that arrived for it)."""

from __future__ import annotations

from typing import Any

from lxml import etree
from pydantic_core import to_jsonable_python

from broker.documents import codec
from broker.documents.xmlmodel import NS
from broker.gateway.inbox import InboxReader
from broker.gateway.problems import GatewayError
from broker.parsing.hardened import parse
from broker.transport.store import InboxEntry, UnitStore

_LD = "{" + NS + "}"
_CASE = etree.XPath("string(/ld:Document/ld:Header/ld:CaseNumber)", namespaces={"ld": NS})
HUB_ANSWERS = ("ServiceReceipt", "RejectionNotice")
"""The hub's answers to what this unit sent: shown in the sent document's state, not the inbox."""


def document_json(root: etree._Element) -> Any:
    """The document as JSON (the Document model's aliases); an attachment's bytes in base64
    (pydantic's JSON mode would write them as UTF-8 text, which a PDF is not)."""
    python = codec.from_element(root).model_dump(mode="python", by_alias=True, exclude_none=True)
    return to_jsonable_python(python, bytes_mode="base64")


_ITEM_IDS = ("MeasureId", "QueryId", "ReleaseId", "ItemId")


def items_of(root: etree._Element) -> list[dict[str, str]]:
    """Each measure, query or release the document asks for, with its kind (``BankFreeze``,
    ``BankRotatingFreeze``, ...): in JSON, members of a choice with the same fields look alike,
    and the kind is what the unit must carry out."""
    body = root[1] if len(root) > 1 else None
    found = []
    for elem in body if body is not None else ():
        if not isinstance(elem.tag, str):
            continue
        item = next((elem.get(a) for a in _ITEM_IDS if elem.get(a) is not None), None)
        if item is not None:
            found.append({"item": item, "kind": etree.QName(elem).localname})
    return found


def xml_url(document_id: str) -> str:
    return f"/v1/documents/{document_id}/xml"


def _answer(entry: InboxEntry) -> dict[str, Any]:
    return {
        "document_id": entry.document_id,
        "type": entry.doc_type,
        "sender": entry.sender,
        "received_at": entry.received_at,
        "xml_url": xml_url(entry.document_id),
    }


def _results(root: etree._Element) -> list[dict[str, Any]]:
    """Each measure's, query's or release's status in a receipt of result (no personal data)."""
    found = []
    for tag, id_attr in (
        ("MeasureResult", "MeasureId"),
        ("QueryResult", "QueryId"),
        ("ReleaseResult", "ReleaseId"),
    ):
        for elem in root.iter(_LD + tag):
            found.append({"item": elem.get(id_attr), "kind": tag, "status": elem.findtext(_LD + "Status")})
    return found


def document_status(store: UnitStore, document_id: str) -> dict[str, Any]:
    """The state of a document this unit sent (published, served, answered, rejected) or
    received (received); ``GW_NOT_FOUND`` for any other id (another unit's document)."""
    sent = store.get_sent(document_id)
    if sent is None:
        entry = store.get_received(document_id)
        if entry is None or entry.state == "invalid":
            raise GatewayError.of("GW_NOT_FOUND", what=document_id)
        return {**_answer(entry), "direction": "in", "state": "received", "in_reply_to": entry.in_reply_to}
    status: dict[str, Any] = {
        "document_id": document_id,
        "type": sent.doc_type,
        "direction": "out",
        "state": "published",
        "xml_url": xml_url(document_id),
        "service": None,
        "rejection": None,
        "answers": [],
    }
    # the hub's answer is found by the id the transport settled the document with: a rejection
    # names the document in its body (it may not have been readable), not in InReplyTo
    hub_answer = store.get_received(sent.answer_id) if sent.answer_id else None
    replies = [e for e in store.answers_to(document_id) if e.document_id != sent.answer_id]
    for entry in ([hub_answer] if hub_answer is not None else []) + replies:
        if entry.state == "invalid":
            continue
        root = parse(entry.raw)
        if entry.doc_type == "ServiceReceipt":
            status["service"] = {
                **_answer(entry),
                "received_at": root.findtext(
                    f"{_LD}ServiceReceipt/{_LD}ReceivedAt"
                ),  # the legal time of service
            }
        elif entry.doc_type == "RejectionNotice":
            status["rejection"] = {
                **_answer(entry),
                "problems": [
                    {
                        "code": e.findtext(_LD + "Code"),
                        "message_zh": e.findtext(_LD + "MessageZh"),
                        "message_en": e.findtext(_LD + "MessageEn"),
                    }
                    for e in root.iter(_LD + "Error")
                ],
            }
        else:
            answer = _answer(entry)
            if entry.doc_type == "ExecutionReceipt":
                answer["results"] = _results(root)
            status["answers"].append(answer)
    if status["rejection"]:
        status["state"] = "rejected"
    elif status["answers"]:
        status["state"] = "answered"
    elif status["service"]:
        status["state"] = "served"
    return status


def case_documents(store: UnitStore, case_number: str) -> list[dict[str, Any]]:
    """Every document of the case this unit sent or received, with its state."""
    ids = [s.document_id for s in store.sent() if _CASE(parse(s.raw)) == case_number]
    ids += [
        e.document_id
        for e in store.inbox()
        if e.doc_type not in HUB_ANSWERS and e.state != "invalid" and _CASE(parse(e.raw)) == case_number
    ]
    if not ids:
        raise GatewayError.of("GW_NOT_FOUND", what=case_number)
    return [document_status(store, i) for i in ids]


def sealed_xml(store: UnitStore, document_id: str) -> bytes:
    """The sealed XML as sent or received, byte for byte."""
    sent = store.get_sent(document_id)
    if sent is not None:
        return sent.raw
    entry = store.get_received(document_id)
    if entry is None or entry.state == "invalid":
        raise GatewayError.of("GW_NOT_FOUND", what=document_id)
    return entry.raw


def inbox_page(reader: InboxReader, cursor: int, limit: int) -> dict[str, Any]:
    """Documents for this unit after ``cursor``, oldest first (see :mod:`broker.gateway.inbox`)."""
    entries, next_cursor = reader.page(cursor, limit)
    items = []
    for entry in entries:
        root = parse(entry.raw)
        items.append(
            {
                **_answer(entry),
                "in_reply_to": entry.in_reply_to,
                "case_number": _CASE(root) or None,
                "result_url": f"/v1/inbox/{entry.document_id}/result",
                "items": items_of(root),
                "document": document_json(root),
            }
        )
    return {"items": items, "next_cursor": str(next_cursor)}
