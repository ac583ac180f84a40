"""What became of a document, every document of a case, and a unit's inbox — read from the
unit's store (what was sent, and every verified answer that arrived for it)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from lxml import etree
from pydantic_core import to_jsonable_python

from broker.documents import codec
from broker.documents.xmlmodel import NS
from broker.gateway import kinds
from broker.gateway.inbox import InboxReader
from broker.gateway.problems import GatewayError
from broker.parsing.hardened import parse
from broker.transport.store import InboxEntry, SentEntry, UnitStore

if TYPE_CHECKING:
    from broker.gateway.deadlines import DeadlineView

_LD = "{" + NS + "}"
_CASE = etree.XPath("string(/ld:Document/ld:Header/ld:CaseNumber)", namespaces={"ld": NS})
_RECIPIENT = etree.XPath("string(/ld:Document/ld:Header/ld:Recipient)", namespaces={"ld": NS})
_DOCUMENT_ID = etree.XPath("string(/ld:Document/ld:Header/ld:DocumentId)", namespaces={"ld": NS})
_TYPE = etree.XPath("string(/ld:Document/ld:Header/ld:DocumentType)", namespaces={"ld": NS})
_IN_REPLY_TO = etree.XPath("string(/ld:Document/ld:Header/ld:InReplyTo)", namespaces={"ld": NS})
HUB_ANSWERS = ("ServiceReceipt", "RejectionNotice")
"""The hub's answers to what this unit sent: shown in the sent document's state, not the inbox."""


def document_json(root: etree._Element) -> Any:
    """The document as JSON (the Document model's aliases, ``Kind`` on every member of a choice:
    :mod:`broker.gateway.kinds`); an attachment's bytes in base64
    (pydantic's JSON mode would write them as UTF-8 text, which a PDF is not)."""
    document = codec.from_element(root)
    python = document.model_dump(mode="python", by_alias=True, exclude_none=True)
    python["Body"] = kinds.annotate(document.body, python["Body"])  # "Kind" on each choice's member
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


def _answer_of(
    document_id: str, doc_type: str, sender: str | None, received_at: str | None, root: etree._Element
) -> dict[str, Any]:
    """One answer to a document: a result with each item's status; an extension with its
    reason and proposed deadline; a review suggestion or a lead report with the items or the
    measure it is about (no personal data: a sighting's person is in the sealed XML only)."""
    answer: dict[str, Any] = {
        "document_id": document_id,
        "type": doc_type,
        "sender": sender,
        "received_at": received_at,
        "xml_url": xml_url(document_id),
    }
    body = root.find(_LD + doc_type)
    if doc_type == "ExecutionReceipt":
        answer["results"] = _results(root)
    elif body is not None and doc_type == "ExtensionNotice":
        answer["reason"] = body.findtext(_LD + "Reason")
        answer["proposed_deadline"] = body.findtext(_LD + "ProposedDeadline")
        answer["items"] = [e.text for e in body.iter(_LD + "ItemId")]
    elif body is not None and doc_type == "ReviewSuggestion":
        answer["items"] = [e.text for e in body.iter(_LD + "ItemId")]
    elif body is not None and doc_type == "LeadReport":
        answer["regarding"] = body.findtext(f"{_LD}Regarding/{_LD}MeasureId")
        sighting = next((e for e in body if etree.QName(e).localname.endswith("Sighting")), None)
        answer["sighting"] = etree.QName(sighting).localname if sighting is not None else None
    return answer


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


def document_status(
    store: UnitStore, document_id: str, deadlines: DeadlineView | None = None
) -> dict[str, Any]:
    """The state of a document this unit sent (published, served, answered, overdue, released,
    rejected) or received (received, answered, overdue, released); ``GW_NOT_FOUND`` for any
    other id (another unit's document). With ``deadlines``, ``deadline`` says when it falls due."""
    sent = store.get_sent(document_id)
    if sent is None:
        entry = store.get_received(document_id)
        if entry is None or entry.state == "invalid":
            raise GatewayError.of("GW_NOT_FOUND", what=document_id)
        return _received_status(store, entry, deadlines)
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
            status["answers"].append(
                _answer_of(entry.document_id, entry.doc_type, entry.sender, entry.received_at, root)
            )
    root = parse(sent.raw)
    status["releases"] = released_by(root, (parse(s.raw) for s in _served_releases(store)))
    status["deadline"] = None
    if deadlines is not None and status["service"] and status["service"]["received_at"]:
        served_at = datetime.fromisoformat(status["service"]["received_at"])
        status["deadline"] = _deadline(deadlines, sent.doc_type, root, served_at, status["answers"])
    if status["rejection"]:
        status["state"] = "rejected"
    else:
        released = _all_released(root, status["releases"])
        status["state"] = _state(status["answers"], status["deadline"], released, bool(status["service"]))
    return status


def _state(
    answers: list[dict[str, Any]], deadline: dict[str, Any] | None, released: bool, served: bool
) -> str:
    """released > answered with a result > overdue > answered otherwise > served > published."""
    if released:
        return "released"
    if any(a["type"] == "ExecutionReceipt" for a in answers):
        return "answered"
    if deadline is not None and deadline["overdue"]:
        return "overdue"
    if answers:
        return "answered"
    return "served" if served else "published"


def _deadline(
    deadlines: DeadlineView,
    doc_type: str,
    root: etree._Element,
    served_at: datetime,
    answers: list[dict[str, Any]],
) -> dict[str, Any] | None:
    """When the document falls due (moved by an extension notice that gives a reason and a new
    deadline, 002 四.7), and whether that passed with no result."""
    due = deadlines.due(doc_type, root, _RECIPIENT(root), served_at)
    if due is None:
        return None
    due_at = due.due_at
    for answer in answers:
        if answer["type"] == "ExtensionNotice" and answer.get("proposed_deadline") and answer.get("reason"):
            due_at = max(due_at, datetime.fromisoformat(answer["proposed_deadline"]))
    result = any(a["type"] == "ExecutionReceipt" for a in answers)
    return {
        "due_at": due_at.isoformat(),
        "source": due.source,
        "overdue": not result and deadlines.now() > due_at,
    }


def _received_status(store: UnitStore, entry: InboxEntry, deadlines: DeadlineView | None) -> dict[str, Any]:
    """A document this unit received: its answers are what this unit sent in reply."""
    root = parse(entry.raw)
    given = []
    for sent in store.sent():
        reply = parse(sent.raw)
        if _IN_REPLY_TO(reply) == entry.document_id:
            given.append(_answer_of(sent.document_id, sent.doc_type, None, None, reply))
    releases = released_by(
        root,
        (parse(e.raw) for e in store.inbox() if e.doc_type == "ReleaseNotice" and e.state != "invalid"),
    )
    deadline = None
    if deadlines is not None:
        received_at = datetime.fromisoformat(entry.received_at)
        deadline = _deadline(deadlines, entry.doc_type, root, received_at, given)
    state = _state(given, deadline, _all_released(root, releases), True)
    return {
        **_answer(entry),
        "direction": "in",
        "state": "received" if state == "served" else state,
        "in_reply_to": entry.in_reply_to,
        "answers": given,
        "releases": releases,
        "deadline": deadline,
    }


def _served_releases(store: UnitStore) -> list[SentEntry]:
    """Release notices this unit sent that the hub served (its answer is a service receipt)."""
    found = []
    for sent in store.sent():
        if sent.doc_type != "ReleaseNotice" or not sent.answer_id:
            continue
        answer = store.get_received(sent.answer_id)
        if answer is not None and answer.doc_type == "ServiceReceipt":
            found.append(sent)
    return found


def released_by(notice: etree._Element, releases: Iterable[etree._Element]) -> list[dict[str, str]]:
    """Each release (001 art. 21; 003 SPC–MPS 三(三)) in ``releases`` that names a measure of
    ``notice``: the release notice, its release id and the measure."""
    document_id = _DOCUMENT_ID(notice)
    found = []
    for release_notice in releases:
        for release in release_notice.iter(_LD + "Release"):
            if release.findtext(f"{_LD}Releases/{_LD}DocumentId") == document_id:
                found.append(
                    {
                        "document_id": _DOCUMENT_ID(release_notice),
                        "release": release.get("ReleaseId") or "",
                        "measure": release.findtext(f"{_LD}Releases/{_LD}MeasureId") or "",
                        "xml_url": xml_url(_DOCUMENT_ID(release_notice)),
                    }
                )
    return found


def _all_released(notice: etree._Element, releases: list[dict[str, str]]) -> bool:
    """Every measure of the notice is named by a release."""
    measures = {i["item"] for i in items_of(notice)} if _TYPE(notice) == "AssistanceNotice" else set()
    return bool(measures) and measures <= {r["measure"] for r in releases}


def case_documents(
    store: UnitStore, case_number: str, deadlines: DeadlineView | None = None
) -> list[dict[str, Any]]:
    """Every document of the case this unit sent or received, with its state."""
    ids = [s.document_id for s in store.sent() if _CASE(parse(s.raw)) == case_number]
    ids += [
        e.document_id
        for e in store.inbox()
        if e.doc_type not in HUB_ANSWERS and e.state != "invalid" and _CASE(parse(e.raw)) == case_number
    ]
    if not ids:
        raise GatewayError.of("GW_NOT_FOUND", what=case_number)
    return [document_status(store, i, deadlines) for i in ids]


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
