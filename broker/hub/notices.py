"""Documents the hub issues under its own seal: service receipts, rejections and its notices.

Every hub notice is an ordinary liandong document, signed like any other, so a unit verifies a
service receipt with the same code that verifies a court's notice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from lxml import etree

from broker.checking import payload_digest
from broker.documents import bodies, codec
from broker.documents.document import CHINA_TZ, Document, now
from broker.documents.xmlmodel import XmlModel
from broker.errors import Problem
from broker.hub.receipt_template import ReceiptTemplate
from broker.signing.signer import DocumentSigner


@dataclass(frozen=True)
class IssuedNotice:
    document_id: str
    doc_type: str
    recipient: str
    in_reply_to: str | None
    raw: bytes
    issued_at: datetime
    digest: str
    """SHA-256 of ``raw`` (computed where it was sealed)."""


@dataclass(frozen=True)
class Draft:
    """An unsealed hub document as an element, with the header facts its notice repeats."""

    root: etree._Element
    document_id: str
    doc_type: str
    recipient: str
    in_reply_to: str | None
    issued_at: datetime

    @classmethod
    def of(cls, doc: Document) -> "Draft":
        """A model's draft (encoded by the codec)."""
        header = doc.header
        return cls(
            root=codec.to_element(doc),
            document_id=str(header.document_id),
            doc_type=header.document_type.value,
            recipient=header.recipient,
            in_reply_to=str(header.in_reply_to) if header.in_reply_to else None,
            issued_at=header.issued_at,
        )


class HubNotary:
    """Builds and seals the hub's documents; one per process (the key is loaded once)."""

    def __init__(self, signer: DocumentSigner):
        self.signer = signer
        self.code = signer.unit_code
        self._receipts = ReceiptTemplate(self.code)

    def draft(
        self,
        body: XmlModel,
        recipient: str,
        *,
        in_reply_to: UUID | str | None = None,
        case_number: str | None = None,
        not_before: datetime | None = None,
    ) -> Document:
        """An unsealed notice of the hub for ``recipient`` (:meth:`seal` seals it). ``not_before``:
        a time the notice attests (a reception time, to the millisecond); IssuedAt (to the second)
        is never earlier than it."""
        return Document.create(
            body,
            sender=self.code,
            recipient=recipient,
            in_reply_to=UUID(str(in_reply_to)) if in_reply_to else None,
            case_number=case_number,
            issued_at=_issued_at(not_before),
        )

    def seal(self, drafts: list[Document | Draft]) -> list[IssuedNotice]:
        """Seal drafts (:meth:`DocumentSigner.sign_many`: step by step over all of them)."""
        built = [d if isinstance(d, Draft) else Draft.of(d) for d in drafts]
        return [
            IssuedNotice(
                document_id=d.document_id,
                doc_type=d.doc_type,
                recipient=d.recipient,
                in_reply_to=d.in_reply_to,
                raw=raw,
                issued_at=d.issued_at,
                digest=payload_digest(raw),
            )
            for d, raw in zip(built, self.signer.sign_many([d.root for d in built], owned=True))
        ]

    def seal_one(self, draft: Document | Draft) -> IssuedNotice:
        """Seal one draft."""
        return self.seal([draft])[0]

    def service_receipt_draft(
        self,
        *,
        document_id: str,
        doc_type: str,
        sender: str,
        recipient: str,
        digest: str,
        received_at: datetime,
        case_number: str | None = None,
    ) -> Draft:
        """送达回证: the document reached the network at ``received_at`` (003 bank rules 16).
        Built from a template (:mod:`broker.hub.receipt_template`): one per accepted document."""
        issued_at = _issued_at(received_at)
        receipt_id, root = self._receipts.build(
            document_id=document_id,
            doc_type=doc_type,
            sender=sender,
            recipient=recipient,
            digest=digest,
            received_at=received_at,
            issued_at=issued_at,
            case_number=case_number,
        )
        return Draft(root, receipt_id, "ServiceReceipt", sender, str(UUID(document_id)), issued_at)

    def rejection_draft(
        self,
        *,
        client_unit: str,
        problems: list[Problem],
        digest: str,
        size: int,
        received_at: datetime,
        document_id: str | None = None,
    ) -> Document:
        """拒收通知 to the publishing unit, listing every problem found."""
        body = bodies.RejectionNotice(
            rejected_document_id=UUID(document_id) if document_id else None,
            payload_digest=digest,
            payload_size=size,
            received_at=received_at,
            errors=[
                bodies.RejectionError(code=p.code, message_zh=p.message_zh, message_en=p.message_en, location=p.path)
                for p in problems
            ],
        )
        return self.draft(body, client_unit, in_reply_to=document_id, not_before=received_at)


def _issued_at(not_before: datetime | None) -> datetime:
    """IssuedAt of a hub notice: now, to the second, and never before ``not_before``."""
    issued_at = now()
    if not_before is not None:
        ceiling = not_before.replace(microsecond=0) + timedelta(seconds=1 if not_before.microsecond else 0)
        issued_at = max(issued_at, ceiling.astimezone(CHINA_TZ))
    return issued_at


def received_now() -> datetime:
    """The reception timestamp: when the data reached the network (CST, to the millisecond, so
    that two courts' notices about one asset are told apart, 001 art. 12)."""
    t = datetime.now(CHINA_TZ)
    return t.replace(microsecond=t.microsecond // 1000 * 1000)
