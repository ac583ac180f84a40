"""Checking and sealing in batches (``DocumentChecker.check_many``, ``DocumentVerifier.problems_many``,
``DocumentSigner.sign_many``, ``HubNotary.seal``): step by step over a batch for speed
(docs/performance.md), and for each document exactly what the one-at-a-time path gives.
Also the signxml hooks of the cross-check verifier (``broker/signing/signxml_verify.py``)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from lxml import etree
from signxml import XMLVerifier
from signxml.exceptions import InvalidInput

from broker.checking import CheckedDocument, DocumentChecker
from broker.documents.document import CHINA_TZ
from broker.errors import problem
from broker.hub.notices import Draft, HubNotary
from broker.parsing.hardened import parse
from broker.registry import load_registry
from broker.signing import DocumentSigner, TrustStore
from broker.signing.signxml_verify import ParsedVerifier, clark_path

ROOT = Path(__file__).resolve().parents[1]
CERTS = ROOT / "certs-example"
UNITS = CERTS / "units"
COURT = "11445300MB0000001W"
BANK = "91445300MA5100003A"
HUB = "12100000MB0000009G"
UNSIGNED = ROOT / "examples" / "unsigned"
SIGNED = ROOT / "examples" / "signed"


@pytest.fixture(scope="module")
def checker() -> DocumentChecker:
    return DocumentChecker(
        TrustStore.from_files([CERTS / "root-ca.pem"], [CERTS / "crl.pem"]), load_registry(ROOT / "examples" / "network.yaml")
    )


def _outcome(checked: CheckedDocument) -> tuple[object, ...]:
    header = checked.header.model_dump() if checked.header is not None else None
    verified = checked.verified
    return (
        checked.digest,
        [(p.code, p.path, p.message_en) for p in checked.problems],
        header,
        None if verified is None else (verified.signer, verified.digest, etree.tostring(verified.root)),
    )


def _mixed_batch() -> list[bytes]:
    court = DocumentSigner.for_unit(UNITS / COURT)
    notice = court.sign((UNSIGNED / "AssistanceNotice.xml").read_bytes())
    expired = DocumentSigner.from_files(
        UNITS / COURT / "sign-expired.key", UNITS / COURT / "sign-expired.pem", UNITS / COURT / "chain.pem"
    )
    untrusted = DocumentSigner.from_files(CERTS / "untrusted" / "sign.key", CERTS / "untrusted" / "sign.pem")
    amount = b">500000.00</ld:Amount>"
    assert amount in notice
    tampered = notice.replace(amount, b">900000.00</ld:Amount>", 1)  # after sealing
    return [
        notice,
        tampered,
        b"\xff\xfe garbage",
        b"<a><b></a>",
        (UNSIGNED / "QueryNotice.xml").read_bytes(),  # unsigned: schema-valid, no seal
        notice.replace(b"<ld:CaseNumber>", b"<ld:CaseNumber>x", 1),  # schema-invalid and tampered
        expired.sign((UNSIGNED / "AssistanceNotice.xml").read_bytes()),
        untrusted.sign((UNSIGNED / "ExecutionReceipt.xml").read_bytes()),
        *(p.read_bytes() for p in sorted(SIGNED.glob("*.xml"))[:12]),
    ]


def test_a_batch_gets_for_each_document_what_it_gets_alone(checker: DocumentChecker) -> None:
    batch = _mixed_batch()
    base = datetime(2026, 3, 4, 9, 30, tzinfo=CHINA_TZ)
    # some reception times far from the documents' IssuedAt, so the time check has its say too
    times = [base + timedelta(days=400 * (i % 3 == 0)) if i % 2 else None for i in range(len(batch))]
    together = checker.check_many(batch, received_at=times)
    alone = [checker.check(raw, received_at=at) for raw, at in zip(batch, times)]
    assert [_outcome(c) for c in together] == [_outcome(c) for c in alone]
    # the batch really is mixed: documents that pass and each kind of failure
    codes = [set(c.codes) for c in together]
    assert set() in codes
    assert codes[1] == {"SIG_TAMPERED"}
    for expected in ("XML_NOT_UTF8", "XML_MALFORMED", "SIG_MISSING", "SCHEMA_INVALID", "CERT_EXPIRED", "CERT_UNTRUSTED", "SIG_TIME_SKEW"):
        assert any(expected in c for c in codes), expected


def test_an_empty_batch_and_a_checker_without_trust_store() -> None:
    assert DocumentChecker(None).check_many([], signed=False) == []
    with pytest.raises(ValueError, match="trust store"):
        DocumentChecker(None).check_many([b"<a/>"])


def test_sealing_a_batch_gives_the_bytes_sealing_one_by_one_gives() -> None:
    court = DocumentSigner.for_unit(UNITS / COURT)  # RSA PKCS#1 v1.5: the same input, the same seal
    drafts = [(UNSIGNED / name).read_bytes() for name in ("AssistanceNotice.xml", "QueryNotice.xml", "ReleaseNotice.xml")]
    assert court.sign_many(drafts) == [court.sign(d) for d in drafts]
    assert court.sign_many([]) == []


def test_the_hubs_notices_sealed_in_a_batch_verify_and_say_what_was_asked(checker: DocumentChecker) -> None:
    notary = HubNotary(DocumentSigner.for_unit(UNITS / HUB))
    received = datetime.now(CHINA_TZ).replace(microsecond=123000)
    drafts = [
        notary.service_receipt_draft(
            document_id=f"5e1d0a5c-3b1f-5c55-9d0e-6b2f4c1a8e7{i}",
            doc_type="AssistanceNotice",
            sender=COURT,
            recipient=BANK,
            digest="ab" * 32,
            received_at=received,
        )
        for i in range(3)
    ] + [notary.rejection_draft(client_unit=BANK, problems=[problem("XML_MALFORMED", detail="x")], digest="cd" * 32, size=10, received_at=received)]
    notices = notary.seal(drafts)
    assert [n.doc_type for n in notices] == ["ServiceReceipt"] * 3 + ["RejectionNotice"]
    assert [n.recipient for n in notices] == [COURT] * 3 + [BANK]
    assert [n.in_reply_to for n in notices[:3]] == [f"5e1d0a5c-3b1f-5c55-9d0e-6b2f4c1a8e7{i}" for i in range(3)]
    for notice, draft in zip(notices, drafts):
        assert notice.document_id == (draft.document_id if isinstance(draft, Draft) else str(draft.header.document_id))
        assert notice.issued_at >= received.replace(microsecond=0)  # never before what it attests
        checked = checker.check(notice.raw)
        assert checked.ok, checked.codes
        assert checked.digest == notice.digest


# --- the signxml hooks ------------------------------------------------------------------------


def _reference(uri: str | None) -> etree._Element:
    ref = etree.Element("{http://www.w3.org/2000/09/xmldsig#}Reference")
    if uri is not None:
        ref.set("URI", uri)
    return ref


def test_a_reference_resolves_to_the_document_root_or_not_at_all() -> None:
    root = parse(SIGNED.joinpath("AssistanceNotice.xml").read_bytes())
    child = root[0]
    child.set("Id", "header")  # an element with an Id of its own: signxml would resolve "#header" to it
    verifier = ParsedVerifier()
    assert verifier._resolve_reference(root, _reference("")) is root
    assert verifier._resolve_reference(root, _reference("#" + root.get("Id"))) is root
    for uri in ("#header", "#", "#ld-other", None, "http://example.com/x", "#xpointer(/)"):
        with pytest.raises(InvalidInput):
            verifier._resolve_reference(root, _reference(uri))


def test_signxml_lookups_in_clark_notation_and_the_fallback() -> None:
    assert clark_path("", "SignedInfo") == "{http://www.w3.org/2000/09/xmldsig#}SignedInfo"
    assert clark_path("./", "Signature") == "./{http://www.w3.org/2000/09/xmldsig#}Signature"
    assert clark_path("", "dsig11:ECKeyValue") == "{http://www.w3.org/2009/xmldsig11#}ECKeyValue"
    # anything but a single name goes to signxml's own lookup
    assert clark_path("", "KeyInfo/X509Data") is None
    assert clark_path("", "nosuchprefix:X") is None
    root = parse(SIGNED.joinpath("AssistanceNotice.xml").read_bytes())
    signature = root[-1]
    verifier, theirs = ParsedVerifier(), XMLVerifier()
    # the same answers as signxml's own lookups, for the names it asks for and for paths
    for element, query in [(signature, "SignedInfo"), (signature, "KeyInfo/X509Data"), (signature[0], "Reference"),
                           (signature, "Object"), (signature[2], "X509Data")]:
        assert verifier._find(element, query, require=False) is theirs._find(element, query, require=False)
        assert verifier._findall(element, query) == theirs._findall(element, query)
    assert verifier._find(signature, "SignedInfo") is signature[0]
    assert verifier._findall(signature[0], "Reference") == [signature[0][2]]
    with pytest.raises(InvalidInput):
        verifier._find(signature, "Object")
