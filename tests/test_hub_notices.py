"""The hub's own documents (broker/hub/notices.py): a service receipt or rejection is never
dated before the reception it attests (DOMAIN.md: the reception time is the legal time of service)."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import pytest

from broker.documents import codec
from broker.documents.document import now
from broker.errors import problem
from broker.hub.notices import HubNotary
from broker.parsing.hardened import parse
from broker.sandbox import EXAMPLE_CERTS
from broker.signing import DocumentSigner

HUB = "12100000MB0000009G"
COURT = "11445300MB0000001W"
BANK = "91445300MA5100003A"


@pytest.fixture(scope="module")
def notary() -> HubNotary:
    return HubNotary(DocumentSigner.for_unit(EXAMPLE_CERTS / "units" / HUB))


def _issued_and_received(raw: bytes):
    doc = codec.from_element(parse(raw))
    return doc.header.issued_at, doc.body.received_at


@pytest.mark.parametrize("ahead", [timedelta(milliseconds=999), timedelta(seconds=1, milliseconds=1)])
def test_a_service_receipt_is_not_dated_before_the_reception(notary, ahead):
    # A reception late in a second (or just ahead of the hub's clock, from a worker's stamp):
    # IssuedAt has whole seconds and must not fall before it.
    received = now() + ahead
    notice = notary.seal_one(notary.service_receipt_draft(
        document_id=str(uuid4()), doc_type="AssistanceNotice", sender=COURT, recipient=BANK,
        digest="0" * 64, received_at=received,
    ))
    issued, attested = _issued_and_received(notice.raw)
    assert attested == received and issued >= received and issued - received < timedelta(seconds=1)


def test_a_rejection_is_not_dated_before_the_reception(notary):
    received = now() + timedelta(milliseconds=500)
    notice = notary.seal_one(notary.rejection_draft(
        client_unit=COURT, problems=[problem("XML_MALFORMED", detail="x")], digest="0" * 64, size=3,
        received_at=received,
    ))
    issued, attested = _issued_and_received(notice.raw)
    assert issued >= attested == received
