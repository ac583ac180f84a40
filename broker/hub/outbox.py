"""Recording what the hub sends: hub-issued documents and deliveries, in the ledger's outbox.

Shared by the pipeline (service receipts, rejections) and the supervisor (reminders,
escalations, non-delivery and anomaly notices), so every document the hub sends is stored,
chained in the audit log and delivered the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

from broker.hub.ledger import DocumentRecord, LedgerTx
from broker.hub.notices import IssuedNotice
from broker.transport import topics


@dataclass
class Job:
    """A delivery waiting to be published (``raw`` None: read it from the ledger)."""

    delivery_id: int
    document_id: str
    topic: str
    raw: bytes | None = None
    sent_at: float = 0.0


def record_delivery(tx: LedgerTx, document_id: str, recipient: str, raw: bytes | None) -> Job:
    topic = topics.inbox(recipient)
    return Job(tx.add_delivery(document_id, recipient, topic), document_id, topic, raw)


def record_issued(tx: LedgerTx, notice: IssuedNotice, *, hub_code: str, client: str, case_number: str | None = None) -> Job:
    """Store a document the hub issued, record it in the chain, and queue its delivery."""
    digest = notice.digest
    tx.add_document(
        DocumentRecord(
            document_id=notice.document_id,
            doc_type=notice.doc_type,
            sender=hub_code,
            recipient=notice.recipient,
            case_number=case_number,
            in_reply_to=notice.in_reply_to,
            issued_at=notice.issued_at,
            received_at=notice.issued_at,
            raw=notice.raw,
            digest=digest,
            origin="hub",
            client_unit=hub_code,
            state="issued",
        ),
        digest_computed=True,  # by the notary, from notice.raw
    )
    tx.audit(
        "issued",
        actor="hub",
        client=client,
        document_id=notice.document_id,
        detail={"digest": digest, "type": notice.doc_type, "in_reply_to": notice.in_reply_to, "recipient": notice.recipient},
        at=notice.issued_at,
    )
    return record_delivery(tx, notice.document_id, notice.recipient, notice.raw)
