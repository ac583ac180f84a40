"""What the ledger records for each checked document: the hub's ledger stage, one document at a
time (:mod:`broker.hub.service` runs it inside its transaction, and acknowledges only after the
commit).

A document that passed its checks is accepted (stored, audited, its deadline opened, its delivery
and its service receipt recorded), unless only the ledger can tell it is a duplicate (the same id
and bytes again: the original receipt goes out again), a conflict (the same id, other bytes) or a
reply to nothing known; those, and documents that failed their checks, are rejected with a sealed
notice (003 事项委托 第十三条 for ratings). Returns the deliveries to publish once committed.
"""

from __future__ import annotations

import logging

from broker.errors import Problem, problem
from broker.hub.config import Limits
from broker.hub.flood_guard import FloodEpisode, FloodGuard, flood_notice_body
from broker.hub.intake import Intake, Payload
from broker.hub.ledger import DocumentRecord, LedgerTx, RejectionRecord
from broker.hub.notices import HubNotary, IssuedNotice
from broker.hub.outbox import Job, record_delivery, record_issued
from broker.hub.pipeline_items import Batch, HubStats, Message
from broker.hub.ratings import rating_problem
from broker.hub.supervision import Supervisor
from broker.logs import event
from broker.registry import Registry
from broker.transport import topics

log = logging.getLogger("liandong.hub")


class DocumentRecorder:
    """Records checked documents in a ledger transaction (see the module docstring). Counts in
    ``stats``; a flooding sender's refusals are left to ``flood`` (:mod:`broker.hub.flood_guard`)."""

    def __init__(
        self,
        *,
        registry: Registry,
        notary: HubNotary,
        supervisor: Supervisor,
        flood: FloodGuard,
        stats: HubStats,
        limits: Limits,
        instance: str,
    ):
        self.registry = registry
        self.notary = notary
        self.supervisor = supervisor
        self.flood = flood
        self.stats = stats
        self.limits = limits
        self.instance = instance

    def use_registry(self, registry: Registry) -> None:
        """Route with ``registry`` from now on (the hub reloaded it)."""
        self.registry = registry

    def batch(self, tx: LedgerTx, batch: Batch) -> list[Job]:
        """Record a checked batch, in arrival order; the deliveries to publish after the commit."""
        assert batch.results is not None
        jobs: list[Job] = []
        seen: dict[str, Intake] = {}
        # One query for every document the batch names (itself, or the one it answers).
        known = tx.get_documents([i for r in batch.results if r.ok for i in (r.document_id, r.in_reply_to) if i])
        for message, payload, result in zip(batch.messages, batch.payloads, batch.results):
            jobs.extend(self._one(tx, message, payload, result, seen, known))
        return jobs

    def _one(
        self,
        tx: LedgerTx,
        message: Message,
        payload: Payload,
        result: Intake,
        seen: dict[str, Intake],
        known: dict[str, DocumentRecord],
    ) -> list[Job]:
        if not result.ok:
            assert result.notice is not None
            return self.reject(tx, message, result, result.notice)
        assert result.document_id and result.sender and result.recipient and result.doc_type
        existing = known.get(result.document_id)
        if existing is not None or result.document_id in seen:
            same = (existing.digest if existing else seen[result.document_id].digest) == result.digest
            if same and (existing is None or existing.client_unit == message.unit):
                return self.duplicate(tx, message, result, existing)
            return self.reject_late(
                tx, message, result, [problem("HUB_DUPLICATE_CONFLICT", document_id=result.document_id)]
            )
        original = None
        if result.in_reply_to:
            original = known.get(result.in_reply_to)
            if original is None or original.recipient != result.sender or original.origin != "unit":
                return self.reject_late(
                    tx, message, result, [problem("ROUTE_REPLY_UNKNOWN", document_id=result.in_reply_to)]
                )
            if result.recipient != original.sender:
                return self.reject_late(
                    tx, message, result, [problem("ROUTE_REPLY_WRONG_RECIPIENT", expected=original.sender)]
                )
            if result.doc_type == "EntrustmentRating" and (wrong := rating_problem(payload.raw, original)):
                return self.reject_late(tx, message, result, [wrong])  # 003 事项委托 第十三条
        seen[result.document_id] = result
        return self.accept(tx, message, payload, result, original)

    def accept(
        self, tx: LedgerTx, message: Message, payload: Payload, result: Intake, original: DocumentRecord | None
    ) -> list[Job]:
        receipt = result.notice
        assert receipt is not None and result.document_id and result.recipient and result.sender
        record = DocumentRecord(
            document_id=result.document_id,
            doc_type=result.doc_type or "",
            sender=result.sender,
            recipient=result.recipient,
            case_number=result.case_number,
            in_reply_to=result.in_reply_to,
            issued_at=result.issued_at or message.received_at,
            received_at=message.received_at,
            deadline=result.deadline,
            digest=result.digest,
            size=result.size,
            raw=payload.raw,
            origin="unit",
            client_unit=message.unit,
            signer_fingerprint=result.signer_fingerprint,
            state="accepted",
            service_receipt_id=receipt.document_id,
            )
        tx.add_document(record, digest_computed=True)  # by the worker, from payload.raw
        tx.audit(
            "accepted",
            actor=result.signer_fingerprint or message.unit,
            client=message.unit,
            document_id=result.document_id,
            detail={
                "digest": result.digest,
                "type": result.doc_type,
                "sender": result.sender,
                "recipient": result.recipient,
                "received_at": message.received_at.isoformat(),
                "service_receipt": receipt.document_id,
                "hub": self.instance,
            },
            at=message.received_at,
        )
        self.supervisor.accepted(tx, record, result.items)
        if original is not None:
            self.supervisor.replied(tx, original, record)
            if result.doc_type == "ExecutionReceipt":
                tx.set_document_state(original.document_id, "answered")
            tx.audit(
                "answered" if result.doc_type == "ExecutionReceipt" else "replied",
                actor=result.signer_fingerprint or message.unit,
                client=message.unit,
                document_id=original.document_id,
                detail={"by": result.document_id, "type": result.doc_type},
                at=message.received_at,
            )
        jobs = [record_delivery(tx, result.document_id, result.recipient, payload.raw)]
        jobs.append(self.issue(tx, receipt, message.unit))
        self.stats.accepted += 1
        sender = self.registry.unit(result.sender)
        key = (result.doc_type or "", sender.kind.value if sender else "unknown")
        self.stats.accepted_by[key] = self.stats.accepted_by.get(key, 0) + 1
        event(
            log,
            "document.accepted",
            document_id=result.document_id,
            type=result.doc_type,
            sender=result.sender,
            recipient=result.recipient,
        )
        return jobs

    def issue(self, tx: LedgerTx, notice: IssuedNotice, client: str) -> Job:
        return record_issued(tx, notice, hub_code=self.registry.hub.code, client=client)

    def flood_notice(self, tx: LedgerTx, episode: FloodEpisode) -> Job:
        """One AnomalyNotice to the office per flood episode (003 SPC–MPS 四(五))."""
        unit = self.registry.unit(episode.unit)
        body = flood_notice_body(episode, self.limits, unit.name if unit else None)
        notice = self.notary.seal_one(self.notary.draft(body, self.registry.office))
        self.stats.flood_episodes += 1
        return self.issue(tx, notice, self.instance)

    def reject(self, tx: LedgerTx, message: Message, result: Intake, notice: IssuedNotice) -> list[Job]:
        for p in result.problems:
            self.stats.rejected_by[p.code] = self.stats.rejected_by.get(p.code, 0) + 1
        if self.flood.refused(message.unit, result, message.received_at):
            self.stats.rejected += 1
            return []  # garbage beyond this minute's samples: counted (rejection_counts), no notice
        tx.add_rejection(
            RejectionRecord(
                received_at=message.received_at,
                client_unit=message.unit,
                document_id=result.document_id,
                codes=[p.code for p in result.problems],
                raw=message.payload,
                notice_id=notice.document_id,
            ),
            max_raw=self.limits.max_document_bytes,
        )
        self.stats.rejected += 1
        event(
            log,
            "document.rejected",
            logging.WARNING,
            client=message.unit,
            document_id=result.document_id,
            codes=[p.code for p in result.problems],
            digest=result.digest,
        )
        job = self.issue(tx, notice, message.unit)
        tx.audit(
            "rejected",
            actor="hub",
            client=message.unit,
            document_id=notice.document_id,
            detail={
                "payload_digest": result.digest,
                "size": result.size,
                "codes": [p.code for p in result.problems],
                "rejected_document_id": result.document_id,
                "hub": self.instance,
            },
            at=message.received_at,
        )
        return [job]

    def reject_late(self, tx: LedgerTx, message: Message, result: Intake, problems: list[Problem]) -> list[Job]:
        """Reject for a reason only the ledger knows; the pre-sealed receipt is discarded."""
        result.problems = problems
        notice = result.notice = self.notary.seal_one(
            self.notary.rejection_draft(
                client_unit=message.unit,
                problems=problems,
                digest=result.digest,
                size=result.size,
                received_at=message.received_at,
                document_id=result.document_id,
            )
        )
        return self.reject(tx, message, result, notice)

    def duplicate(self, tx: LedgerTx, message: Message, result: Intake, existing: DocumentRecord | None) -> list[Job]:
        """Same id, same bytes: the sender gets the original service receipt again (idempotent)."""
        self.stats.duplicates += 1
        tx.audit(
            "duplicate",
            actor=result.signer_fingerprint or message.unit,
            client=message.unit,
            document_id=result.document_id,
            detail={"digest": result.digest, "received_at": message.received_at.isoformat(), "hub": self.instance},
            at=message.received_at,
        )
        receipt_id = existing.service_receipt_id if existing else None
        if receipt_id is None:
            return []  # the original is in this very batch; its receipt is on its way
        delivery_id = tx.rearm_delivery(receipt_id, message.unit)
        return [Job(delivery_id, receipt_id, topics.inbox(message.unit))] if delivery_id else []


__all__ = ["DocumentRecorder"]
