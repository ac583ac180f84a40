"""Fresh copies of existing documents: a new document id and the current issue time.

For the demo, the benchmarks and the tests, which send the examples of ``examples/unsigned/``
over a live network where a document must be new and recent (``SIG_TIME_SKEW``).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from uuid import UUID, uuid4

from broker.documents import codec
from broker.documents.document import Document, element_id, now
from broker.parsing.hardened import parse


def restamp(
    document: Document | bytes | Path,
    *,
    document_id: UUID | None = None,
    issued_at: datetime | None = None,
    **header: object,
) -> Document:
    """A copy of ``document`` with a new id, the current time, and any other header fields given.

    A stated deadline moves with the issue time, so the period the document gives is kept."""
    if isinstance(document, Path):
        document = document.read_bytes()
    if isinstance(document, bytes):
        document = codec.from_element(parse(document))
    doc_id = document_id or uuid4()
    issued = issued_at or now()
    fields: dict[str, object] = {"document_id": doc_id, "issued_at": issued}
    if document.header.deadline is not None:
        fields["deadline"] = document.header.deadline + (issued - document.header.issued_at)
    fields.update(header)
    return document.model_copy(update={"id": element_id(doc_id), "header": document.header.model_copy(update=fields)})
