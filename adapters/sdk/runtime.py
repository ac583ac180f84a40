"""The adapter's view of the network: its unit, the registry, the clock, and sending documents.

:meth:`Runtime.send` is how a unit originates documents — a lead report when a person or a
vehicle is found (002 四.7(2)), a measure-status notice when a rotating freeze takes effect
(003 bank rules 10) — from a handler (prefer :meth:`Context.send`) or from any thread of the
adapter (an API the agency's staff call). Every document is sealed with the unit's key,
checked with the same pipeline the hub runs (so a document the hub would reject fails here,
in the caller), stored in the adapter's store under an idempotency key, and handed to the
transport, which sends it again until the hub answers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Protocol
from uuid import UUID

from adapters.sdk.ledger import IdempotentLedger
from adapters.sdk.safe_log import SafeLogger
from adapters.sdk.store import AdapterStore, Outbound
from broker.checking import DocumentChecker
from broker.documents.catalogue import UnitKind
from broker.documents.document import CHINA_TZ, Document
from broker.documents.xmlmodel import XmlModel
from broker.errors import LiandongError
from broker.registry import Registry
from broker.signing import DocumentSigner

log = logging.getLogger("liandong.adapter")

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(CHINA_TZ)


class Transport(Protocol):
    """Where sealed documents go: :class:`broker.transport.unit.UnitClient` in production (it
    keeps them and resends until the hub answers), a collector in :mod:`adapters.sdk.testing`."""

    def send(self, raw: bytes) -> str: ...


class Runtime:
    """Shared by the SDK and the adapter; one per running adapter."""

    def __init__(
        self,
        *,
        unit: str,
        registry: Registry,
        signer: DocumentSigner,
        checker: DocumentChecker,
        store: AdapterStore,
        transport: Transport,
        data_dir: Path,
        clock: Clock = system_clock,
        adapter_name: str = "adapter",
    ):
        kind = registry.kind_of(unit)
        if kind is None:
            raise ValueError(f"unit {unit} is not in the registry")
        if signer.unit_code != unit:
            raise LiandongError.of("CERT_UNIT_MISMATCH", cert_unit=signer.unit_code, sender=unit)
        self.unit = unit
        self.unit_kind: UnitKind = kind
        self.registry = registry
        self.signer = signer
        self.checker = checker
        self.store = store
        self.transport = transport
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.clock = clock
        self.log = SafeLogger(log, unit=unit, adapter=adapter_name)

    def now(self) -> datetime:
        """The current time (China Standard Time); a test harness may move it."""
        return self.clock()

    def ledger(self, name: str = "native") -> IdempotentLedger:
        """An :class:`IdempotentLedger` in ``data_dir/<name>.db``."""
        return IdempotentLedger(self.data_dir / f"{name}.db")

    # --- sending ---------------------------------------------------------------------------------

    def send(
        self,
        body: XmlModel,
        *,
        recipient: str,
        case_number: str | None = None,
        in_reply_to: UUID | str | None = None,
        deadline: datetime | None = None,
        key: str | None = None,
    ) -> str:
        """Seal ``body`` in a document from this unit to ``recipient``, check it, store it and send it.

        ``key`` makes the call idempotent: with a key already used, nothing new is sealed and
        the document stored under it is sent (again); its id is returned. Without a key every
        call sends a new document. Raises :class:`LiandongError` (with the hub's codes) when the
        document would be rejected. Returns the document id.
        """
        if key is not None:
            known = self.store.get_outbound(key)
            if known is not None:
                self.hand(known)
                return known.document_id
        out = self.prepare(
            body, recipient=recipient, case_number=case_number, in_reply_to=in_reply_to, deadline=deadline, key=key
        )
        stored = self.store.add_outbound(out)
        self.hand(stored)
        return stored.document_id

    def prepare(
        self,
        body: XmlModel,
        *,
        recipient: str,
        case_number: str | None = None,
        in_reply_to: UUID | str | None = None,
        deadline: datetime | None = None,
        key: str | None = None,
        regarding: str | None = None,
    ) -> Outbound:
        """Seal and check a document without storing or sending it (the SDK stores it in the
        same transaction as the state change it belongs to)."""
        now = self.now().astimezone(CHINA_TZ).replace(microsecond=0)
        reply = UUID(str(in_reply_to)) if in_reply_to is not None else None
        document = Document.create(
            body,
            sender=self.unit,
            recipient=recipient,
            case_number=case_number,
            in_reply_to=reply,
            deadline=deadline,
            issued_at=now,
        )
        raw = self.signer.sign(document)
        checked = self.checker.check(raw)
        if not checked.ok:
            raise LiandongError(checked.problems)
        document_id = str(document.header.document_id)
        return Outbound(
            key=key or f"doc/{document_id}",
            document_id=document_id,
            doc_type=body.xml_tag,
            regarding=regarding if regarding is not None else (str(reply) if reply else None),
            raw=raw,
            created_at=now.isoformat(),
        )

    def hand(self, out: Outbound) -> None:
        """Give a stored document to the transport (again); errors leave it for the next try."""
        try:
            self.transport.send(out.raw)
        except Exception as exc:
            self.log.warning("adapter.hand_failed", document_id=out.document_id, doc_type=out.doc_type, error=type(exc).__name__)
            return
        self.store.mark_handed(out.key, self.now())
        self.log.info("adapter.sent", document_id=out.document_id, doc_type=out.doc_type, regarding=out.regarding)

    def hand_unhanded(self) -> int:
        """Hand over what was stored but not yet given to the transport (after a crash)."""
        pending = self.store.outbound(unhanded=True)
        for out in pending:
            self.hand(out)
        return len(pending)
