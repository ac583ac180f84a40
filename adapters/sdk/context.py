"""What a handler gets besides its item: the :class:`Context` (its logger, a
:class:`~adapters.sdk.safe_log.SafeLogger`, cannot leak personal data)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

from adapters.sdk.safe_log import SafeLogger
from broker.documents.common import Officer
from broker.documents.document import Document
from broker.documents.xmlmodel import XmlModel

if TYPE_CHECKING:
    from adapters.sdk.runtime import Runtime


@dataclass
class Context:
    """Everything a handler needs about the document it is working on.

    - ``document``: the whole typed :class:`Document` (header, body, every item);
    - ``item_id``: the measure, query or release id (``None`` in a document handler);
    - ``idempotency_key``: ``"<document id>/<item id>"`` (``"<document id>"`` in a document
      handler) — pass it to the native system or to :meth:`IdempotentLedger.once` so that a
      handler called again after a crash returns the recorded outcome instead of acting twice;
    - ``received_at``: when the document reached this unit (stored before it was acknowledged).
      The legal time of service is when it reached the network (003 bank rules 16), recorded by
      the hub: at or before this time;
    - ``attempt``: 1 on the first call for this item, more after transient failures or
      ``NeedsMoreTime``;
    - ``log``: a :class:`SafeLogger` bound to the unit, the document and the item;
    - ``runtime``: the adapter's :class:`Runtime` (``ctx.runtime.now()``, ``ctx.runtime.data_dir``).
    """

    document: Document
    item_id: str | None
    received_at: datetime
    attempt: int
    runtime: Runtime
    log: SafeLogger
    _reviews: list[str] = field(default_factory=list, repr=False)
    _sent: int = field(default=0, repr=False)

    @property
    def document_id(self) -> str:
        return str(self.document.header.document_id)

    @property
    def doc_type(self) -> str:
        return self.document.type

    @property
    def court(self) -> str:
        """The sender's unit code: the court (or the linkage office) that issued the document."""
        return self.document.header.sender

    @property
    def case_number(self) -> str | None:
        return self.document.header.case_number

    @property
    def issued_at(self) -> datetime:
        return self.document.header.issued_at

    @property
    def deadline(self) -> datetime | None:
        return self.document.header.deadline

    @property
    def officers(self) -> list[Officer]:
        return list(self.document.header.officers)

    @property
    def idempotency_key(self) -> str:
        return f"{self.document_id}/{self.item_id}" if self.item_id else self.document_id

    def suggest_review(self, grounds: str) -> None:
        """Send the court a review suggestion (审查建议) about this item, with ``grounds``.

        The measure is still carried out (001 art. 20): the handler goes on and returns the
        result. The suggestion (``MeasureCarriedOut`` true) is sealed and sent once, when the
        result is recorded; if the item ends NotExecuted it is not sent (the receipt says why).
        """
        if not grounds or not grounds.strip():
            raise ValueError("a review suggestion needs grounds")
        self._reviews.append(grounds.strip())

    def send(
        self,
        body: XmlModel,
        *,
        recipient: str | None = None,
        in_reply_to: UUID | str | None = None,
        case_number: str | None = None,
        key: str | None = None,
    ) -> str:
        """Seal and send a document from inside a handler (a :class:`MeasureStatusNotice`, a
        :class:`LeadReport`); by default to this document's sender, in this case, answering
        this document when its type is a reply. Exactly once: the default ``key`` is derived
        from the idempotency key, so a handler called again after a crash does not send twice."""
        self._sent += 1
        from broker.documents.catalogue import REPLY_TYPES

        if in_reply_to is None and body.xml_tag in REPLY_TYPES:
            in_reply_to = self.document_id
        return self.runtime.send(
            body,
            recipient=recipient or self.court,
            in_reply_to=in_reply_to,
            case_number=case_number if case_number is not None else self.case_number,
            key=key or f"{self.idempotency_key}#{body.xml_tag}#{self._sent}",
        )
