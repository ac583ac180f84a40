"""A unit's result for a document in its inbox: the gateway builds the receipt of result
(协助执行结果回执), seals it with the unit's seal and sends it — once. Posting the same answer
again returns the same receipt; a different answer to an answered document is refused."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from broker.documents import codec
from broker.documents.bodies import ExecutionReceipt
from broker.documents.document import Document
from broker.errors import Problem
from broker.gateway.paths import with_json_paths
from broker.gateway.problems import GatewayError
from broker.gateway.runtime import GatewayRuntime
from broker.gateway.status import HUB_ANSWERS
from broker.parsing.hardened import parse

ANSWERABLE = frozenset({"AssistanceNotice", "QueryNotice", "ReleaseNotice"})
"""What a receipt of result answers (003 bank rules 8, 15, 17; 002 四)."""


@dataclass(frozen=True)
class Answered:
    receipt_id: str
    new: bool


def answer(rt: GatewayRuntime, document_id: str, receipt: ExecutionReceipt) -> Answered:
    """Build, check, seal and send the receipt answering ``document_id``; exactly once."""
    digest = hashlib.sha256(receipt.model_dump_json(by_alias=True).encode()).hexdigest()
    with rt.state.lock:
        entry = rt.store.get_received(document_id)
        if entry is None or entry.state == "invalid" or entry.doc_type in HUB_ANSWERS:
            raise GatewayError.of("GW_NOT_FOUND", what=document_id)
        if entry.doc_type not in ANSWERABLE:
            raise GatewayError.of("GW_NOT_ANSWERABLE", doc_type=entry.doc_type)
        given = rt.state.answer(document_id)
        if given is not None:
            if given.digest != digest:
                raise GatewayError.of(
                    "GW_ANSWER_CONFLICT", document_id=document_id, receipt_id=given.document_id
                )
            if rt.store.get_sent(given.document_id) is None:  # recorded, then stopped before sending
                rt.client.send(given.raw)
            return Answered(given.document_id, new=False)
        original = codec.from_element(parse(entry.raw))
        document = Document.create(
            receipt,
            sender=rt.unit,
            recipient=original.header.sender,
            case_number=original.header.case_number,
            in_reply_to=original.header.document_id,
        )
        draft = codec.to_bytes(document)
        checked = rt.checker.check(draft, signed=False)
        if not checked.ok:
            # the places as JSON paths in what was posted: the receipt's body
            found = with_json_paths(codec.to_element(document), checked.problems)
            raise GatewayError([_in_body(p) for p in found])
        sealed = rt.client.seal(draft)
        receipt_id = str(document.header.document_id)
        # recorded before it is sent: a repeated post after a crash sends this one, not a second
        rt.state.record_answer(document_id, digest, receipt_id, sealed)
        rt.client.send(sealed)
        return Answered(receipt_id, new=True)


def _in_body(found: Problem) -> Problem:
    """``$.Body.Results[0]`` is ``$.Results[0]`` of the posted receipt."""
    if found.path and found.path.startswith("$.Body"):
        return found.model_copy(update={"path": "$" + found.path[len("$.Body") :]})
    return found
