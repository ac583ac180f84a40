"""The document envelope: ``<Document Id=…>`` with a common ``Header`` and one body element.

Every electronic legal document in the network has this shape; the enveloped ``ds:Signature``
(the electronic seal, 电子印章) is added as the last child of ``Document`` by
:mod:`broker.signing` and is not part of the model.
"""

from __future__ import annotations

import typing
from datetime import datetime, timedelta, timezone
from enum import StrEnum
from uuid import UUID, uuid4

from pydantic import AwareDatetime, Field

from broker.documents import bodies
from broker.documents.common import Officer, Token
from broker.documents.xmlmodel import XmlModel, attribute

CHINA_TZ = timezone(timedelta(hours=8), "CST")
"""China Standard Time; documents are stamped with an explicit +08:00 offset."""

BODY_TYPES: tuple[type[XmlModel], ...] = typing.get_args(bodies.Body)

DocumentType = StrEnum("DocumentType", {cls.xml_tag: cls.xml_tag for cls in BODY_TYPES})  # type: ignore[misc]
"""Every document type, named as its body element (``AssistanceNotice``, ``ServiceReceipt``, ...)."""

BODY_BY_TYPE: dict[str, type[XmlModel]] = {cls.xml_tag: cls for cls in BODY_TYPES}


def now() -> datetime:
    """The current time in China Standard Time, to the second."""
    return datetime.now(CHINA_TZ).replace(microsecond=0)


def element_id(document_id: UUID) -> str:
    """The root's ``Id`` attribute for a document id (an xs:ID cannot start with a digit)."""
    return f"ld-{document_id}"


class Header(XmlModel):
    """The common header: who sends what to whom, when, in which case, answering what."""

    document_id: UUID
    document_type: DocumentType
    sender: Token
    recipient: Token
    issued_at: AwareDatetime
    case_number: Token | None = None
    in_reply_to: UUID | None = None
    deadline: AwareDatetime | None = None
    officers: list[Officer] = Field(default_factory=list, alias="Officer")


class Document(XmlModel):
    """A complete document: ``Document/@Id``, ``Header`` and the body (an XSD choice)."""

    xml_tag = "Document"
    id: Token = attribute()
    header: Header
    body: bodies.Body

    @classmethod
    def create(
        cls,
        body: XmlModel,
        *,
        sender: str,
        recipient: str,
        case_number: str | None = None,
        in_reply_to: UUID | None = None,
        deadline: datetime | None = None,
        officers: list[Officer] | None = None,
        document_id: UUID | None = None,
        issued_at: datetime | None = None,
    ) -> "Document":
        """Build a document around ``body`` with a fresh id and the current time."""
        doc_id = document_id or uuid4()
        header = Header(
            document_id=doc_id,
            document_type=DocumentType(body.xml_tag),
            sender=sender,
            recipient=recipient,
            issued_at=issued_at or now(),
            case_number=case_number,
            in_reply_to=in_reply_to,
            deadline=deadline,
            officers=officers or [],
        )
        return cls(id=element_id(doc_id), header=header, body=body)  # type: ignore[arg-type]

    @property
    def type(self) -> str:
        return self.header.document_type.value
