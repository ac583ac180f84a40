"""The stateless half of the hub's pipeline, run in worker processes: check one payload and
seal the notice it will most likely get.

For every payload from a unit's ``out`` topic: size cap, hardened parse, XSD, signature,
rules (:mod:`broker.checking`), then the one routing check that needs the topic: the document's
sender is the unit that published it. The result carries a pre-signed service receipt (if the
document passed) or rejection (if not), because sealing is the other CPU-heavy step and belongs
on the workers too. The ledger stage (:mod:`broker.hub.service`) may still turn an accepted
document into a duplicate or a rejection; it seals those rare notices itself.
"""

from __future__ import annotations

import logging
import os
import signal
from dataclasses import dataclass, field
from datetime import datetime

from lxml import etree

from broker.checking import CheckedDocument, DocumentChecker, payload_digest
from broker.documents.document import Document
from broker.errors import Problem, problem
from broker.hub import heap
from broker.hub.config import HubConfig
from broker.hub.notices import Draft, HubNotary, IssuedNotice
from broker.logs import event
from broker.registry import Registry, load_registry
from broker.worker_lifetime import die_with_parent, exit_with_parent
from broker.rules.engine import local, xpath

log = logging.getLogger(__name__)


@dataclass
class Payload:
    """One message from a unit's ``out`` topic, as the hub received it."""

    seq: int
    client_unit: str
    raw: bytes
    received_at: datetime


@dataclass
class Intake:
    """What the workers found about one :class:`Payload` (picklable; no trees, no raw bytes)."""

    seq: int
    digest: str
    size: int
    problems: list[Problem] = field(default_factory=list)
    document_id: str | None = None
    doc_type: str | None = None
    sender: str | None = None
    recipient: str | None = None
    case_number: str | None = None
    in_reply_to: str | None = None
    issued_at: datetime | None = None
    deadline: datetime | None = None
    signer_fingerprint: str | None = None
    items: list[str] = field(default_factory=list)
    """Measure element names and query kinds, for the deadline policy."""
    notice: IssuedNotice | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


class IntakeChecker:
    """Everything a worker loads once: trust store, registry, checker, the hub's seal."""

    def __init__(self, config: HubConfig):
        self.config = config
        self._trust = config.trust.store()
        self.use_registry(load_registry(config.registry))
        self.notary = HubNotary(config.identity.signer())
        self.max_bytes = config.limits.max_document_bytes

    def use_registry(self, registry: Registry) -> None:
        """Check with ``registry`` from now on (the hub reloaded it: broker/hub/registry_reload.py)."""
        self.registry = registry
        limits = self.config.limits
        self.checker = DocumentChecker(
            self._trust, registry, limits=limits.parse_limits(), time_policy=limits.time_policy()
        )

    def check(self, payload: Payload) -> Intake:
        return self.check_many([payload])[0]

    def check_many(self, payloads: list[Payload]) -> list[Intake]:
        """Check a batch step by step (:meth:`DocumentChecker.check_many`), then seal its notices
        together (:meth:`HubNotary.seal`)."""
        checked = self.checker.check_many([p.raw for p in payloads], received_at=[p.received_at for p in payloads])
        intakes = [self._intake(payload, c) for payload, c in zip(payloads, checked)]
        notices = self.notary.seal([self.draft(i, p) for i, p in zip(intakes, payloads)])
        for intake, notice in zip(intakes, notices):
            intake.notice = notice
        return intakes

    def _intake(self, payload: Payload, checked: CheckedDocument) -> Intake:
        intake = Intake(seq=payload.seq, digest=checked.digest, size=len(payload.raw), problems=list(checked.problems))
        header = checked.header
        if header is not None:
            intake.document_id = str(header.document_id)
            intake.doc_type = header.document_type.value
            intake.sender = header.sender
            intake.recipient = header.recipient
            intake.case_number = header.case_number
            intake.in_reply_to = str(header.in_reply_to) if header.in_reply_to else None
            intake.issued_at = header.issued_at
            intake.deadline = header.deadline
            if header.sender != payload.client_unit:
                intake.problems.append(
                    problem("ROUTE_SENDER_MISMATCH", sender=header.sender, client_unit=payload.client_unit)
                )
        if checked.verified is not None:
            intake.signer_fingerprint = checked.verified.signer.fingerprint
        if intake.ok and checked.root is not None:
            intake.items = _items(checked.root)
        return intake

    def draft(self, intake: Intake, payload: Payload) -> Draft | Document:
        """The notice ``intake`` will most likely get: its service receipt, or its rejection."""
        if intake.ok:
            assert intake.document_id and intake.doc_type and intake.sender and intake.recipient
            return self.notary.service_receipt_draft(
                document_id=intake.document_id,
                doc_type=intake.doc_type,
                sender=intake.sender,
                recipient=intake.recipient,
                digest=intake.digest,
                received_at=payload.received_at,
                case_number=intake.case_number,
            )
        return self.notary.rejection_draft(
            client_unit=payload.client_unit,
            problems=intake.problems,
            digest=intake.digest,
            size=intake.size,
            received_at=payload.received_at,
            document_id=intake.document_id if _is_uuid(intake.document_id) else None,
        )


def _is_uuid(value: str | None) -> bool:
    from uuid import UUID

    try:
        return value is not None and str(UUID(value)) == value
    except ValueError:
        return False


_MEASURES = xpath("/ld:Document/ld:AssistanceNotice/*[@MeasureId]")
_QUERY_KINDS = xpath("/ld:Document/ld:QueryNotice/ld:Query/ld:Kind/text()")


def _items(root: etree._Element) -> list[str]:
    return [local(m) for m in _MEASURES(root)] + [str(q) for q in _QUERY_KINDS(root)]


# --- process-pool plumbing -------------------------------------------------------------------

_worker: IntakeChecker | None = None

#: Test-only fault injection, read from the worker's *environment* when it starts (never from a
#: configuration file): ``kill:<digest>`` makes the worker checking the payload with that SHA-256
#: die (SIGKILL), ``raise:<digest>`` makes it raise; several separated by commas. It stands for a
#: document that crashes the checker, which the tests cannot otherwise produce once the checker
#: is fixed (tests/test_hub_faults.py).
FAULT_ENV = "LIANDONG_TEST_WORKER_FAULT"
_faults: dict[str, str] = {}

def init_worker(config: HubConfig, hub_pid: int | None = None) -> None:
    """ProcessPoolExecutor initializer: load keys, certificates and schema once per process.

    ``hub_pid`` is the hub that started this worker. A hub killed before this initializer ran
    (the worker then belongs to init already) is noticed here, before any loading, and the worker
    ends; a hub killed later kills the worker through the kernel (Linux) or the watch thread."""
    global _worker
    hub = hub_pid if hub_pid is not None else os.getppid()
    die_with_parent(hub)
    _faults.update(_read_faults(os.environ.get(FAULT_ENV, "")))
    _worker = IntakeChecker(config)
    # The hub's pipeline thread is the one serial step; the workers are parallel and have room:
    # when both want a core it goes first (issue 16: flat-out rate higher in 5 of 7 paired runs).
    if config.worker_niceness and hasattr(os, "nice"):
        os.nice(config.worker_niceness)
    exit_with_parent(hub)
    heap.settle()  # keys, schema and registry are loaded for the worker's life (broker/hub/heap.py)


def _read_faults(spec: str) -> dict[str, str]:
    faults = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        action, _, digest = item.partition(":")
        if action in ("kill", "raise") and digest:
            faults[digest.lower()] = action
    return faults


def _inject_faults(payloads: list[Payload]) -> None:
    for p in payloads:
        action = _faults.get(payload_digest(p.raw))
        if action == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        elif action == "raise":
            raise RuntimeError(f"{FAULT_ENV}: injected failure")


_generation = 0
"""The generation of this worker's registry (broker/hub/registry_reload.py)."""


def check_batch(payloads: list[Payload], generation: int = 0) -> list[Intake]:
    assert _worker is not None, "init_worker was not called"
    if generation != _generation:
        _follow_registry(generation)
    if _faults:
        _inject_faults(payloads)
    return _worker.check_many(payloads)


def _follow_registry(generation: int) -> None:
    """The hub took another registry: read the file again. One that no longer loads (changed
    again since) leaves this worker's as it is, like the hub's; the next generation retries."""
    global _generation
    assert _worker is not None
    try:
        _worker.use_registry(load_registry(_worker.config.registry))
    except Exception as exc:  # noqa: BLE001 - a worker must keep checking with what it has
        # structured, the type only: a message could quote the file (the hub logs the codes)
        event(log, "registry.reload_failed", logging.WARNING, worker=os.getpid(), error=type(exc).__name__)
    _generation = generation


__all__ = ["FAULT_ENV", "Intake", "IntakeChecker", "Payload", "check_batch", "init_worker", "payload_digest"]
