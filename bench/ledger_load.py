"""The ledger's writes for a stream of documents, as the hub makes them, without the hub: the
ledger benches (hub_scaleout's ceiling, ledger_chains) share it, so they measure the same work."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime

from broker.hub.ledger import DocumentRecord, Ledger
from broker.hub.ledger.records import sha256_hex
from broker.transport import topics

BANK, HUB = "91445300MA5100003A", "12100000MB0000009G"


def write_documents(ledger: Ledger, court: str, documents: int, batch: int) -> None:
    """``documents`` court notices to the bank, each with the hub's service receipt back to the
    court, in transactions of ``batch``: store and audit both, add the deliveries, record the
    attempt, the publication and both acknowledgements (each its own transaction, as the hub)."""
    bank, hub = BANK, HUB
    body, receipt_body = os.urandom(4400).hex().encode()[:5900], os.urandom(2500).hex().encode()[:5000]
    for first in range(0, documents, batch):
        now = datetime.now(UTC)
        ids = [(str(uuid.uuid4()), str(uuid.uuid4())) for _ in range(min(batch, documents - first))]
        deliveries: list[int] = []
        with ledger.transaction() as tx:
            tx.get_documents([d for d, _ in ids])
            for doc_id, receipt_id in ids:
                # the court's notice, and the hub's service receipt answering it (back to the court)
                for did, sender, recipient, raw, origin, reply in (
                    (doc_id, court, bank, body + doc_id.encode(), "unit", None),
                    (receipt_id, hub, court, receipt_body + receipt_id.encode(), "hub", doc_id),
                ):
                    digest = sha256_hex(raw)
                    tx.add_document(
                        DocumentRecord(
                            document_id=did, doc_type="AssistanceNotice", sender=sender, recipient=recipient,
                            in_reply_to=reply, issued_at=now, received_at=now, digest=digest, size=len(raw),
                            raw=raw, origin=origin, client_unit=court, state="accepted",
                        )
                    )
                    action = "accepted" if origin == "unit" else "issued"
                    tx.audit(action, actor="bench", client=court, document_id=did, detail={"digest": digest}, at=now)
                    deliveries.append(tx.add_delivery(did, recipient, topics.inbox(recipient)))
        with ledger.transaction() as tx:
            tx.record_attempt(deliveries, now)
        with ledger.transaction() as tx:
            tx.mark_published(deliveries, now)
        with ledger.transaction() as tx:
            for unit, which in ((bank, 0), (court, 1)):
                for did in tx.mark_acked(unit, [pair[which] for pair in ids], now):
                    tx.audit("delivered", actor=unit, client=unit, document_id=did, at=now)
