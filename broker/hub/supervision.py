"""Supervision inside the hub (issue 5): deadlines, reminders, escalations, liveness.

The hub calls these hooks inside its own ledger transactions, so a deadline is opened in the
same commit that accepts the document it belongs to. This base implementation does nothing;
:class:`broker.hub.deadlines` provides the real one.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from broker.hub.ledger import DocumentRecord, Ledger, LedgerTx
from broker.hub.outbox import Job
from broker.registry import Registry

if TYPE_CHECKING:
    from broker.hub.notices import HubNotary


class SupervisedHub(Protocol):
    """What supervision needs of the hub (:class:`broker.hub.service.Hub` is one): its unit code,
    ledger, registry and notary, and a way to send what a scan issued. Supervision depends on this,
    not on the hub's service module, which depends on supervision."""

    code: str
    ledger: Ledger
    registry: Registry
    notary: HubNotary

    def enqueue(self, jobs: list[Job]) -> None: ...


class Supervisor:
    """Hook points; every method is called by the hub, never concurrently with itself."""

    def __init__(self, hub: SupervisedHub):
        self.hub = hub

    def start(self) -> None:
        """Called once the hub is connected (start schedulers here)."""

    def stop(self) -> None:
        """Called before the hub disconnects."""

    def accepted(self, tx: LedgerTx, document: DocumentRecord, items: list[str]) -> None:
        """A document from a unit was accepted (``items``: its measure elements and query kinds)."""

    def replied(self, tx: LedgerTx, original: DocumentRecord, reply: DocumentRecord) -> None:
        """An accepted document answers ``original`` (receipt, extension, review suggestion, ...)."""

    def delivered(self, tx: LedgerTx, document_id: str, unit: str, at: datetime) -> None:
        """``unit`` confirmed it stored ``document_id`` (picked it up)."""

    def unit_status(self, unit: str, online: bool, at: datetime) -> None:
        """A unit's retained status changed (its last will says offline)."""
