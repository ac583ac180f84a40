"""Ratings and complaints of entrustments per entrusted court (003 事项委托 第十三条: 评价、投诉信息
将作为考核事项委托工作的一项指标), for the office report.

A rating (``EntrustmentRating``) counts for the court it was sent to, the entrusted court; a
complaint (``EntrustmentComplaint``) for the court it names (``EntrustedCourt``), and it counts as
explained when a ``ComplaintExplanation`` naming it arrived by ``as_of``. Documents count in the
period their time of reception falls in. Only scores and counts leave this module: no comments,
reasons or explanations (they are document content).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select

from broker.documents.xmlmodel import NS
from broker.hub.ledger.schema import documents
from broker.parsing.hardened import parse

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

TYPES = ("EntrustmentRating", "EntrustmentComplaint", "ComplaintExplanation")
_LD = "{" + NS + "}"


@dataclass(frozen=True)
class EntrustmentDoc:
    """What the statistics read of one rating, complaint or explanation."""

    document_id: str
    doc_type: str
    recipient: str
    received_at: datetime
    score: int | None = None  # ratings
    entrusted_court: str | None = None  # complaints
    complaint: str | None = None  # explanations


@dataclass
class CourtEntrustments:
    """One entrusted court's ratings and complaints."""

    court: str
    name: str | None
    scores: list[int] = field(default_factory=list)
    complaints: int = 0
    explained: int = 0

    @property
    def ratings(self) -> int:
        return len(self.scores)

    @property
    def mean_score(self) -> float | None:
        return sum(self.scores) / len(self.scores) if self.scores else None


def build(
    docs: Iterable[EntrustmentDoc],
    *,
    since: datetime,
    until: datetime,
    as_of: datetime,
    names: Mapping[str, str] | None = None,
) -> list[CourtEntrustments]:
    """Per entrusted court, by code, for documents received in ``[since, until)`` by ``as_of``."""
    names = names or {}
    docs = [d for d in docs if d.received_at <= as_of]
    explained = {d.complaint for d in docs if d.doc_type == "ComplaintExplanation"}
    courts: dict[str, CourtEntrustments] = {}

    def court(code: str) -> CourtEntrustments:
        return courts.setdefault(code, CourtEntrustments(code, names.get(code)))

    for d in docs:
        if not since <= d.received_at < until:
            continue
        if d.doc_type == "EntrustmentRating" and d.score is not None:
            court(d.recipient).scores.append(d.score)
        elif d.doc_type == "EntrustmentComplaint" and d.entrusted_court:
            c = court(d.entrusted_court)
            c.complaints += 1
            c.explained += d.document_id in explained
    return [courts[code] for code in sorted(courts)]


def load(engine: Engine, until: datetime) -> list[EntrustmentDoc]:
    """The ratings, complaints and explanations the hub accepted before ``until``."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                documents.c.document_id,
                documents.c.doc_type,
                documents.c.recipient,
                documents.c.received_at,
                documents.c.raw,
            ).where(documents.c.doc_type.in_(TYPES), documents.c.received_at < until)
        ).all()
    out = []
    for r in rows:
        body = parse(r.raw).find(f"{_LD}{r.doc_type}")
        if body is None:
            continue
        score = body.findtext(f"{_LD}Score")
        out.append(
            EntrustmentDoc(
                document_id=r.document_id,
                doc_type=r.doc_type,
                recipient=r.recipient,
                received_at=r.received_at,
                score=int(score) if score else None,
                entrusted_court=body.findtext(f"{_LD}EntrustedCourt"),
                complaint=body.findtext(f"{_LD}Complaint"),
            )
        )
    return out
