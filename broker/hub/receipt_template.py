"""The service receipt built from a template element instead of through the models.

The hub seals one service receipt per accepted document, on its workers, and building it through
pydantic and the codec (:meth:`HubNotary.draft` and :func:`broker.documents.codec.to_element`)
cost about as much as sealing it (issue 16). Every receipt has the same elements; only ten texts
differ. So the codec encodes one receipt of placeholder values once per process, and each receipt
is a copy of that element with its texts set. The values come from a document the checker has
already accepted (valid tokens and UUIDs), and are formatted as the codec formats them (UUIDs as
``str``, times by ``isoformat``), so that a receipt built here is byte for byte the one the models
give (``tests/test_hub_notices.py`` compares them).
"""

from __future__ import annotations

import copy
from datetime import datetime
from uuid import UUID, uuid4

from lxml import etree

from broker.documents import bodies, codec
from broker.documents.document import Document, element_id

_PLACEHOLDER = UUID(int=0)
_FIELDS = (
    # (field, path of local names below the root)
    ("document_id", ("Header", "DocumentId")),
    ("recipient", ("Header", "Recipient")),
    ("issued_at", ("Header", "IssuedAt")),
    ("case_number", ("Header", "CaseNumber")),
    ("in_reply_to", ("Header", "InReplyTo")),
    ("served_document_id", ("ServiceReceipt", "ServedDocumentId")),
    ("served_document_type", ("ServiceReceipt", "ServedDocumentType")),
    ("served_sender", ("ServiceReceipt", "ServedSender")),
    ("served_recipient", ("ServiceReceipt", "ServedRecipient")),
    ("payload_digest", ("ServiceReceipt", "PayloadDigest")),
    ("received_at", ("ServiceReceipt", "ReceivedAt")),
)


class ReceiptTemplate:
    """Service receipts of one hub (its code is the sender), as unsealed ``Document`` elements."""

    def __init__(self, hub_code: str):
        self.hub_code = hub_code
        # CaseNumber is optional in the header: one template with it, one without
        self._templates = {with_case: self._template(with_case) for with_case in (True, False)}

    def _template(self, with_case: bool) -> tuple[etree._Element, dict[str, tuple[int, ...]]]:
        at = datetime.fromisoformat("2000-01-01T00:00:00+08:00")
        body = bodies.ServiceReceipt(
            served_document_id=_PLACEHOLDER,
            served_document_type="X",
            served_sender="X",
            served_recipient="X",
            payload_digest="X",
            received_at=at,
        )
        sample = Document.create(
            body,
            sender=self.hub_code,
            recipient="X",
            in_reply_to=_PLACEHOLDER,
            case_number="X" if with_case else None,
            document_id=_PLACEHOLDER,
            issued_at=at,
        )
        root = codec.to_element(sample)
        paths: dict[str, tuple[int, ...]] = {}
        for name, names in _FIELDS:
            element: etree._Element | None = root
            indices = []
            for local in names:
                assert element is not None
                child = next((c for c in element if etree.QName(c).localname == local), None)
                if child is None:
                    break  # CaseNumber in the template without it
                indices.append(element.index(child))
                element = child
            else:
                paths[name] = tuple(indices)
        return root, paths

    def build(
        self,
        *,
        document_id: str,
        doc_type: str,
        sender: str,
        recipient: str,
        digest: str,
        received_at: datetime,
        issued_at: datetime,
        case_number: str | None = None,
        receipt_id: UUID | None = None,
    ) -> tuple[str, etree._Element]:
        """``(receipt id, unsealed receipt element)`` for the document ``document_id`` that
        ``sender`` sent to ``recipient`` (the receipt goes back to ``sender``)."""
        template, paths = self._templates[case_number is not None]
        own_id = receipt_id or uuid4()
        served = str(UUID(document_id))
        texts = {
            "document_id": str(own_id),
            "recipient": sender,
            "issued_at": issued_at.isoformat(),
            "case_number": case_number,
            "in_reply_to": served,
            "served_document_id": served,
            "served_document_type": doc_type,
            "served_sender": sender,
            "served_recipient": recipient,
            "payload_digest": digest,
            "received_at": received_at.isoformat(),
        }
        root = copy.deepcopy(template)
        root.set("Id", element_id(own_id))
        for name, path in paths.items():
            element = root
            for i in path:
                element = element[i]
            element.text = texts[name]
        return str(own_id), root
