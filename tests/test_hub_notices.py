"""The hub's own documents (broker/hub/notices.py): a service receipt or rejection is never
dated before the reception it attests (DOMAIN.md: the reception time is the legal time of service)."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import pytest

from lxml import etree

from broker.checking import DocumentChecker
from broker.documents import bodies, codec
from broker.documents.document import Document, now
from broker.errors import problem
from broker.hub.notices import HubNotary
from broker.hub.receipt_template import ReceiptTemplate
from broker.parsing.hardened import parse
from broker.registry import load_registry
from broker.sandbox import EXAMPLE_CERTS, EXAMPLE_REGISTRY
from broker.signing import DocumentSigner, TrustStore

HUB = "12100000MB0000009G"
COURT = "11445300MB0000001W"
BANK = "91445300MA5100003A"


@pytest.fixture(scope="module")
def notary() -> HubNotary:
    return HubNotary(DocumentSigner.for_unit(EXAMPLE_CERTS / "units" / HUB))


def _checker() -> DocumentChecker:
    trust = TrustStore.from_files([EXAMPLE_CERTS / "root-ca.pem"], [EXAMPLE_CERTS / "crl.pem"])
    return DocumentChecker(trust, load_registry(EXAMPLE_REGISTRY))


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


@pytest.mark.parametrize("case_number", ["（2026）粤5301执123号", None])
@pytest.mark.parametrize("received_ms", [0, 123])
def test_a_receipt_from_the_template_is_the_models_receipt_byte_for_byte(case_number, received_ms):
    # The receipt is built from a template element on the hub's workers; the models are the
    # contract: the same values must give the same element, or receipts would drift from the XSD.
    served, own = uuid4(), uuid4()
    received = now().replace(microsecond=received_ms * 1000)
    issued = now() + timedelta(seconds=1)
    kw = dict(doc_type="AssistanceNotice", sender=COURT, recipient=BANK, digest="ab" * 32, received_at=received)
    _, built = ReceiptTemplate(HUB).build(
        document_id=str(served), issued_at=issued, case_number=case_number, receipt_id=own, **kw
    )
    body = bodies.ServiceReceipt(
        served_document_id=served, served_document_type="AssistanceNotice", served_sender=COURT,
        served_recipient=BANK, payload_digest="ab" * 32, received_at=received,
    )
    model = Document.create(
        body, sender=HUB, recipient=COURT, in_reply_to=served, case_number=case_number, document_id=own,
        issued_at=issued,
    )
    assert etree.tostring(built) == etree.tostring(codec.to_element(model))


def test_a_sealed_receipt_from_the_template_passes_the_checker(notary):
    notice = notary.seal_one(notary.service_receipt_draft(
        document_id=str(uuid4()), doc_type="AssistanceNotice", sender=COURT, recipient=BANK,
        digest="0" * 64, received_at=now(), case_number="（2026）粤5301执123号",
    ))
    checked = _checker().check(notice.raw)
    assert checked.problems == [] and str(checked.header.document_id) == notice.document_id
    assert notice.doc_type == "ServiceReceipt" and notice.recipient == COURT
