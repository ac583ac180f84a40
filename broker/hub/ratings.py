"""What the hub checks of an entrustment rating beyond the rules (003 事项委托 第十三条: 委托法院可
在人民法院执行事项委托系统中对**已经办结**的事项委托进行评价): it answers the entrusted court's
feedback that completed the entrustment (``Completed`` or ``PartlyCompleted``, not a request for
material), and names that entrustment. Only the ledger knows the feedback, so the hub checks it
where it checks every answer (``ROUTE_REPLY_*``), not a rule."""

from __future__ import annotations

from broker.documents.xmlmodel import NS
from broker.errors import Problem, problem
from broker.hub.ledger import DocumentRecord
from broker.parsing.hardened import parse

_LD = "{" + NS + "}"
_DONE = frozenset({"Completed", "PartlyCompleted"})


def rating_problem(raw: bytes, original: DocumentRecord) -> Problem | None:
    """``ROUTE_RATING_NOT_COMPLETED`` when the rating ``raw`` does not answer a completing
    feedback (``original``, the document it replies to) about the entrustment it names."""
    if original.doc_type == "EntrustmentFeedback":
        outcome = parse(original.raw).findtext(f"{_LD}EntrustmentFeedback/{_LD}Outcome")
        named = parse(raw).findtext(f"{_LD}EntrustmentRating/{_LD}Entrustment")
        if outcome in _DONE and named is not None and named.strip() == original.in_reply_to:
            return None
    return problem("ROUTE_RATING_NOT_COMPLETED", document_id=original.document_id)
