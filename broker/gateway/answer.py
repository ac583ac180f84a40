"""A unit's answers to a document in its inbox: the gateway builds the answer, checks it as the
hub will, seals it with the unit's seal and sends it — once per document and kind. Posting the
same answer again returns the same document; a different answer of a kind already given is
refused (``GW_ANSWER_CONFLICT``, 409).

The kinds, and what each may answer (DOMAIN.md "Documents"; :mod:`broker.documents.catalogue`
says who may send them: the executing units, to a court):

- the receipt of result (协助执行结果回执, 003 bank rules 8, 15, 17; 002 四);
- an extension notice (延期说明): the unit cannot finish in time and says why
  (002 四.7, 四.13, 四.14, 四.17) — any notice with a deadline;
- a review suggestion (审查建议): an objection that never stops the measure or query
  (001 art. 20);
- a lead report (线索通报): a person or vehicle found, told to the court within 24 hours
  (002 四.7(2)) — answers an assistance notice (to locate, seize or restrict).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Union

from lxml import etree

from broker.documents import codec
from broker.documents.bodies import ExecutionReceipt, ExtensionNotice, LeadReport, ReviewSuggestion
from broker.documents.document import Document
from broker.errors import Problem, problem
from broker.gateway.paths import with_json_paths
from broker.gateway.problems import GatewayError
from broker.gateway.runtime import GatewayRuntime
from broker.gateway.status import HUB_ANSWERS, items_of
from broker.parsing.hardened import parse

Answer = Union[ExecutionReceipt, ExtensionNotice, ReviewSuggestion, LeadReport]

ANSWERS_TO: dict[str, frozenset[str]] = {
    # 003 bank rules 8, 15, 17; 002 四
    "ExecutionReceipt": frozenset({"AssistanceNotice", "QueryNotice", "ReleaseNotice"}),
    # 002 四.7, 四.13, 四.14, 四.17: whatever has a deadline the unit cannot meet
    "ExtensionNotice": frozenset({"AssistanceNotice", "QueryNotice", "ReleaseNotice"}),
    # 001 art. 20: an objection to what the court asks the unit to assist with
    "ReviewSuggestion": frozenset({"AssistanceNotice", "QueryNotice"}),
    # 002 四.7(2): found while carrying out a notice to locate, seize or restrict
    "LeadReport": frozenset({"AssistanceNotice"}),
}
"""What each kind of answer may answer."""

PATHS = {
    "ExecutionReceipt": "result",
    "ExtensionNotice": "extension",
    "ReviewSuggestion": "review",
    "LeadReport": "lead",
}
"""Each kind's endpoint under ``/v1/inbox/{document_id}/`` (:mod:`broker.gateway.routes.answers`)."""


def answer_urls(document_id: str, doc_type: str) -> dict[str, str]:
    """Where a document of ``doc_type`` in the inbox can be answered, by endpoint name."""
    allowed = [path for kind, path in PATHS.items() if doc_type in ANSWERS_TO[kind]]
    return {path: f"/v1/inbox/{document_id}/{path}" for path in allowed}


ANSWERABLE = ANSWERS_TO["ExecutionReceipt"]
"""What a receipt of result answers (kept for the callers that ask about results only)."""

NAMES = {
    "ExecutionReceipt": ("执行结果", "a result"),
    "ExtensionNotice": ("延期说明", "an extension notice"),
    "ReviewSuggestion": ("审查建议", "a review suggestion"),
    "LeadReport": ("线索通报", "a lead report"),
}


@dataclass(frozen=True)
class Answered:
    receipt_id: str
    new: bool


def answer(rt: GatewayRuntime, document_id: str, body: Answer) -> Answered:
    """Build, check, seal and send ``body`` answering ``document_id``; once per kind."""
    kind = body.xml_tag
    digest = hashlib.sha256(body.model_dump_json(by_alias=True).encode()).hexdigest()
    with rt.state.lock:
        entry = rt.store.get_received(document_id)
        if entry is None or entry.state == "invalid" or entry.doc_type in HUB_ANSWERS:
            raise GatewayError.of("GW_NOT_FOUND", what=document_id)
        if entry.doc_type not in ANSWERS_TO[kind]:
            if kind == "ExecutionReceipt":
                raise GatewayError.of("GW_NOT_ANSWERABLE", doc_type=entry.doc_type)
            zh, en = NAMES[kind]
            raise GatewayError.of("GW_ANSWER_NOT_FOR", doc_type=entry.doc_type, answer_zh=zh, answer_en=en)
        given = rt.state.answer(document_id, kind)
        if given is not None:
            if given.digest != digest:
                raise GatewayError.of(
                    "GW_ANSWER_CONFLICT", document_id=document_id, receipt_id=given.document_id
                )
            if rt.store.get_sent(given.document_id) is None:  # recorded, then stopped before sending
                rt.client.send(given.raw)
            return Answered(given.document_id, new=False)
        root = parse(entry.raw)
        _items_exist(root, document_id, body)
        original = codec.from_element(root)
        document = Document.create(
            body,
            sender=rt.unit,
            recipient=original.header.sender,
            case_number=original.header.case_number,
            # a lead report is not a reply type, but answering the notice routes it to the court
            # that asked and keeps the two together (as the police adapter sends it)
            in_reply_to=original.header.document_id,
        )
        draft = codec.to_bytes(document)
        checked = rt.checker.check(draft, signed=False)
        if not checked.ok:
            # the places as JSON paths in what was posted: the answer's body
            found = with_json_paths(codec.to_element(document), checked.problems)
            raise GatewayError([_in_body(p) for p in found])
        sealed = rt.client.seal(draft)
        receipt_id = str(document.header.document_id)
        # recorded before it is sent: a repeated post after a crash sends this one, not a second
        rt.state.record_answer(document_id, digest, receipt_id, sealed, kind)
        rt.client.send(sealed)
        return Answered(receipt_id, new=True)


def _items_exist(root: etree._Element, document_id: str, body: Answer) -> None:
    """An extension or review names items of the document it answers (``GW_ITEM_UNKNOWN``):
    the court must know which measure or query is late or objected to."""
    named = getattr(body, "items", None) if not isinstance(body, ExecutionReceipt) else None
    if not named:
        return
    known = {found["item"] for found in items_of(root)}
    unknown = [
        problem("GW_ITEM_UNKNOWN", path=f"$.ItemId[{n}]", document_id=document_id, item=item)
        for n, item in enumerate(named)
        if item not in known
    ]
    if unknown:
        raise GatewayError(unknown)


def _in_body(found: Problem) -> Problem:
    """``$.Body.Results[0]`` is ``$.Results[0]`` of the posted answer."""
    if found.path and found.path.startswith("$.Body"):
        return found.model_copy(update={"path": "$" + found.path[len("$.Body") :]})
    return found
