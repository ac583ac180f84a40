"""The enveloped signature written directly (broker/signing/enveloped.py) is signxml's signature.

RSA PKCS#1 v1.5 is deterministic: for every unsigned example, the seal written directly must be
byte for byte what signxml writes with the profile's settings. ECDSA signatures are randomized:
an ECDSA seal must equal signxml's everywhere but in its SignatureValue, and verify.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from lxml import etree
from signxml import XMLSigner, methods
from signxml.algorithms import DigestAlgorithm, SignatureMethod

from broker.checking import DocumentChecker
from broker.documents import codec
from broker.documents.xmlmodel import DS_NS, NS
from broker.registry import load_registry
from broker.signing import DocumentSigner, TrustStore
from broker.signing.profile import EXC_C14N, NSMAP

ROOT = Path(__file__).resolve().parents[1]
CERTS = ROOT / "certs-example"
UNITS = CERTS / "units"
UNSIGNED = ROOT / "examples" / "unsigned"
MARKET = "11445300MB0000006C"  # an ECDSA P-256 seal
VALUE = "{" + DS_NS + "}SignatureValue"


def _signxml(signer: DocumentSigner, root: etree._Element) -> bytes:
    """What signxml writes for ``root`` with ``signer``'s key and the profile's settings."""
    xml_signer = XMLSigner(
        method=methods.enveloped,
        signature_algorithm=SignatureMethod(signer._sealer.algorithms.signature_uri),
        digest_algorithm=DigestAlgorithm.SHA256,
        c14n_algorithm=EXC_C14N,
    )
    xml_signer.namespaces = dict(NSMAP)
    key_info = copy.deepcopy(signer._key_info)
    return codec.to_bytes(xml_signer.sign(root, key=signer.key, key_info=key_info, always_add_key_value=False))


def _sender(root: etree._Element) -> str:
    return root.findtext(f"{{{NS}}}Header/{{{NS}}}Sender")


@pytest.fixture(scope="module")
def checker() -> DocumentChecker:
    trust = TrustStore.from_files([CERTS / "root-ca.pem"], [CERTS / "crl.pem"])
    return DocumentChecker(trust, load_registry(ROOT / "examples" / "network.yaml"))


def test_rsa_seals_are_signxmls_byte_for_byte():
    signers: dict[str, DocumentSigner] = {}
    compared = 0
    for path in sorted(UNSIGNED.glob("*.xml")):
        root = etree.fromstring(path.read_bytes())
        sender = _sender(root)
        signer = signers.get(sender) or signers.setdefault(sender, DocumentSigner.for_unit(UNITS / sender))
        if signer._sealer.algorithms.signature_uri.endswith("ecdsa-sha256"):
            continue
        assert signer.sign(path.read_bytes()) == _signxml(signer, root), path.name
        compared += 1
    assert compared >= 20


def test_ecdsa_seals_differ_from_signxmls_only_in_the_signature_value_and_verify(checker):
    signer = DocumentSigner.for_unit(UNITS / MARKET)
    raw = (UNSIGNED / "ExecutionReceipt-MarketRegulation.xml").read_bytes()
    ours, theirs = signer.sign(raw), _signxml(signer, etree.fromstring(raw))
    assert ours != theirs  # (randomized: two seals of one document differ)
    blank = []
    for sealed in (ours, theirs):
        root = etree.fromstring(sealed)
        value = root.find(f".//{VALUE}")
        assert len(value.text) == 88  # base64 of r and s, 32 bytes each (not DER)
        value.text = ""
        blank.append(etree.tostring(root))
    assert blank[0] == blank[1]
    result = checker.check(ours)
    assert result.ok, result.codes
    assert result.verified.signer.algorithm.endswith("ecdsa-sha256")


def test_signing_an_element_leaves_it_unsigned():
    signer = DocumentSigner.for_unit(UNITS / MARKET)
    root = etree.fromstring((UNSIGNED / "ExecutionReceipt-MarketRegulation.xml").read_bytes())
    before = etree.tostring(root)
    signed = signer.sign_element(root)
    assert etree.tostring(root) == before
    assert signed.find(f".//{VALUE}") is not None
