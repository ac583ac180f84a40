"""Case completion (结案通报, 004 art. 35) as the supervisor handles it: the court's open
deadlines in the case close at once, and the next scan tells each unit which of its measures in
the case are still in place. A part of :class:`broker.hub.deadlines.DeadlineSupervisor`."""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING
from uuid import UUID

from broker.documents import bodies
from broker.hub.ledger import DocumentRecord, LedgerTx
from broker.hub.ledger_documents import outstanding_measures
from broker.hub.outbox import Job
from broker.hub.supervision import SupervisedHub

if TYPE_CHECKING:
    from broker.hub.clock import SupervisionClock

log = logging.getLogger("liandong.hub.supervision")

COMPLETED = "case.completed:"
OUTSTANDING = "outstanding:"


class CaseCompletion:
    """The supervisor's case-completion hook and scan step."""

    hub: SupervisedHub
    clock: SupervisionClock
    client_id: str
    _issue: Callable[..., Job]
    _name: Callable[[str], str]
    request_scan: Callable[[], None]

    def _case_completed(self, tx: LedgerTx, document: DocumentRecord) -> None:
        """结案通报 (004 art. 35): the court's open deadlines in the case close; the outstanding
        measures are listed by the next scan (it signs, the pipeline does not)."""
        if not document.case_number:
            return
        at = self.clock.at(document.received_at)
        rows = tx.open_deadlines_in_case(document.case_number, document.sender)
        closed = tx.close_deadlines([r.document_id for r in rows])
        if closed:
            tx.audit(
                "deadlines.closed",
                actor="hub",
                client=self.client_id,
                document_id=document.document_id,
                detail={"closed": closed, "documents": [r.document_id for r in rows][:100]},
                at=document.received_at,
            )
        tx.add_state(COMPLETED + document.document_id, "pending", at)
        self.request_scan()

    def _completions(self, counts: Counter[str]) -> None:
        """One transaction per completed case (they are rare); one that cannot be processed is
        logged and dropped rather than retried forever."""
        while True:
            with self.hub.ledger.transaction() as tx:
                pending = tx.states(COMPLETED, value="pending", limit=1)
            if not pending:
                return
            key = pending[0].key
            try:
                with self.hub.ledger.transaction() as tx:
                    jobs = self._completion(tx, key) if tx.delete_state(key) is not None else []
            except Exception:
                log.exception("supervision.completion_failed", extra={"fields": {"key": key}})
                with self.hub.ledger.transaction() as tx:
                    tx.put_state(key, "failed", self.clock.now())
                continue
            self.hub.enqueue(jobs)
            counts["outstanding"] += len(jobs)

    def _completion(self, tx: LedgerTx, key: str) -> list[Job]:
        completion = tx.get_document(key[len(COMPLETED) :])
        if completion is None or not completion.case_number:
            return []
        case = completion.case_number
        measures = outstanding_measures(
            tx.case_documents(case, ("AssistanceNotice", "ReleaseNotice", "ExecutionReceipt", "MeasureStatusNotice"))
        )
        listed = sorted((m.document_id, m.measure_id) for m in measures)
        digest = hashlib.sha256(json.dumps(listed).encode()).hexdigest()
        told = f"{OUTSTANDING}{completion.sender}:{case}"
        last = tx.get_state(told)
        if last is not None and last.value == digest:
            return []  # the court was told this very list already (one completion notice per unit)
        tx.put_state(told, digest, self.clock.now())
        if not measures:
            return []
        body = bodies.OutstandingMeasuresNotice(
            measures=[
                bodies.OutstandingMeasure(
                    document_id=UUID(m.document_id),
                    measure_id=m.measure_id,
                    unit=m.unit,
                    measure_type=m.measure_type,
                )
                for m in measures
            ]
        )
        return [
            self._issue(tx, body, recipient, regarding=completion.document_id, case_number=case)
            for recipient in dict.fromkeys((completion.sender, self.hub.registry.office))
        ]
