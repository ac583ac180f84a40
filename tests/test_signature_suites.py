"""The attacks of the signature profile on each algorithm suite (issue 15, "Must show"), and a
network's policy of accepted suites.

The builders are test_signatures.py's (tree, serialize, unsigned_root); each attack runs on an RSA
and on an SM2 document and must be refused with the same code.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from lxml import etree

from broker.checking import DocumentChecker
from broker.registry import load_registry
from broker.signing import DocumentSigner, TrustStore, sm2
from broker.signing.keys import load_certificates
from broker.signing.trust import load_crls
from tests.test_signatures import BANK, COURT, DS, LD, serialize, tree, unsigned_root

ROOT = Path(__file__).resolve().parents[1]
PKI = {"rsa": ROOT / "certs-example", "sm2": ROOT / "certs-example" / "sm2"}
REGISTRY = load_registry(ROOT / "examples" / "network.yaml")


class Suite:
    """One suite's example PKI: its checker and its units' signers."""

    def __init__(self, name: str):
        self.name = name
        self.pki = PKI[name]
        trust = TrustStore.from_files([self.pki / "root-ca.pem"], [self.pki / "crl.pem"])
        self.checker = DocumentChecker(trust, REGISTRY)

    def signer(self, unit: str, stem: str = "sign") -> DocumentSigner:
        d = self.pki / "units" / unit
        return DocumentSigner.from_files(d / f"{stem}.key", d / f"{stem}.pem", d / "chain.pem")

    def codes(self, raw: bytes) -> list[str]:
        return self.checker.check(raw).codes


@pytest.fixture(scope="module", params=["rsa", "sm2"])
def suite(request: pytest.FixtureRequest) -> Suite:
    return Suite(request.param)


@pytest.fixture(scope="module")
def notice(suite: Suite) -> bytes:
    raw = suite.signer(COURT).sign(unsigned_root())
    assert suite.checker.check(raw).ok
    return raw


def test_tampered_content(suite, notice):
    forged = notice.replace(b'<ld:Amount Currency="CNY">', b'<ld:Amount Currency="CNY">1', 1)
    assert forged != notice
    assert suite.codes(forged) == ["SIG_TAMPERED"]


def test_tampered_signed_info(suite, notice):
    root = tree(notice)
    value = root.find(f"{DS}Signature/{DS}SignedInfo/{DS}Reference/{DS}DigestValue")
    value.text = "A" + value.text[1:]
    assert suite.codes(serialize(root)) == ["SIG_INVALID"]


def test_wrapping_the_signed_document_inside_a_forged_one(suite, notice):
    original = tree(notice)
    forged = copy.deepcopy(original)
    forged.remove(forged.find(f"{DS}Signature"))
    forged.set("Id", "ld-00000000-0000-4000-8000-000000000000")
    forged.find(f"{LD}Header/{LD}DocumentId").text = "00000000-0000-4000-8000-000000000000"
    forged.append(original)
    assert "SIG_LOCATION" in suite.codes(serialize(forged))


def test_wrapping_the_original_into_an_object(suite, notice):
    original = tree(notice)
    forged = copy.deepcopy(original)
    forged.find(f"{LD}Header/{LD}CaseNumber").text = "（2026）粤53执999号"
    hidden = copy.deepcopy(original)
    hidden.remove(hidden.find(f"{DS}Signature"))
    etree.SubElement(forged.find(f"{DS}Signature"), f"{DS}Object").append(hidden)
    assert "SIG_DUPLICATE_ID" in suite.codes(serialize(forged))


def test_wrong_key(suite):
    """The court's certificate in KeyInfo, the signature by another key of the same suite."""
    genuine = suite.signer(COURT)
    other = sm2.generate_key() if suite.name == "sm2" else _other_key(genuine)
    forger = DocumentSigner(other, genuine.cert, genuine.chain)
    assert suite.codes(forger.sign(unsigned_root())) == ["SIG_INVALID"]


def _other_key(genuine: DocumentSigner) -> rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey:
    if isinstance(genuine.key, rsa.RSAPrivateKey):
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ec.generate_private_key(ec.SECP256R1())


def test_expired_certificate(suite):
    assert suite.codes(suite.signer(COURT, "sign-expired").sign(unsigned_root())) == ["CERT_EXPIRED"]


def test_revoked_certificate(suite):
    revoked = suite.signer(BANK, "sign-revoked")
    assert suite.codes(revoked.sign(unsigned_root("ExecutionReceipt"))) == ["CERT_REVOKED"]


def test_untrusted_ca(suite):
    d = suite.pki / "untrusted"
    untrusted = DocumentSigner.from_files(d / "sign.key", d / "sign.pem")
    assert suite.codes(untrusted.sign(unsigned_root("ExecutionReceipt"))) == ["CERT_UNTRUSTED"]


def test_wrong_unit(suite):
    """The bank's genuine seal on a notice that claims to come from the court (DocumentSigner
    refuses to make it, so its unit check is bypassed as an attacker's tool would)."""
    bank = copy.copy(suite.signer(BANK))
    bank.unit_code = COURT
    assert suite.codes(bank.sign(unsigned_root())) == ["CERT_UNIT_MISMATCH"]


# --- the network's suites (registry signature_suites) ---------------------------------------------


@pytest.fixture(scope="module")
def both_roots() -> TrustStore:
    """Both example roots trusted, so a refusal below is the policy's and not the chain's."""
    anchors = [c for name in PKI for c in load_certificates(PKI[name] / "root-ca.pem")]
    return TrustStore(anchors, [c for name in PKI for c in load_crls(PKI[name] / "crl.pem")])


def _network(*suites: str):
    return REGISTRY.model_copy(update={"signature_suites": list(suites)})


def test_an_rsa_seal_on_an_sm2_only_network(both_roots, suite):
    checker = DocumentChecker(both_roots, _network("sm2"))
    raw = suite.signer(COURT).sign(unsigned_root())
    expected = [] if suite.name == "sm2" else ["SIG_SUITE_NOT_ALLOWED"]
    assert checker.check(raw).codes == expected


def test_an_sm2_seal_on_a_network_without_sm2(both_roots):
    checker = DocumentChecker(both_roots, _network("rsa", "ecdsa-p256"))
    raw = Suite("sm2").signer(COURT).sign(unsigned_root())
    problems = checker.check(raw).problems
    assert [p.code for p in problems] == ["SIG_SUITE_NOT_ALLOWED"]
    assert "sm2" in problems[0].message_en and "ecdsa-p256, rsa" in problems[0].message_en


def test_the_registry_file_names_its_suites(tmp_path):
    text = (ROOT / "examples" / "network.yaml").read_text(encoding="utf-8") + "\nsignature_suites: [sm2]\n"
    (tmp_path / "network.yaml").write_text(text, encoding="utf-8")
    assert load_registry(tmp_path / "network.yaml").signature_suites == ["sm2"]
    (tmp_path / "bad.yaml").write_text(text.replace("[sm2]", "[sm2, dsa]"), encoding="utf-8")
    with pytest.raises(Exception) as info:
        load_registry(tmp_path / "bad.yaml")
    assert "signature_suites" in str(info.value)


def test_the_hubs_checker_on_an_sm2_only_network(tmp_path):
    """The hub's intake (what its workers run) with an SM2 seal of its own and an SM2-only
    registry: an SM2 notice passes, the court's RSA seal is refused with SIG_SUITE_NOT_ALLOWED."""
    from datetime import datetime

    from broker.hub.intake import IntakeChecker, Payload
    from broker.sandbox import EXAMPLE_SM2_CERTS, hub_config, registry_with_suites

    config = hub_config(
        REGISTRY.hub.code, port=1, var=tmp_path, registry=registry_with_suites(tmp_path, ["sm2"]), seals=EXAMPLE_SM2_CERTS
    )
    intake = IntakeChecker(config)
    assert intake.registry.signature_suites == ["sm2"]
    received = datetime.fromisoformat(tree(Suite("rsa").signer(COURT).sign(unsigned_root())).findtext(f"{LD}Header/{LD}IssuedAt"))
    for name, expected in (("sm2", []), ("rsa", ["SIG_SUITE_NOT_ALLOWED"])):
        raw = Suite(name).signer(COURT).sign(unsigned_root())
        checked = intake.check(Payload(seq=1, client_unit=COURT, raw=raw, received_at=received))
        assert [p.code for p in checked.problems] == expected, name


@pytest.mark.parametrize(
    ("signed_with", "method", "digest"),
    [
        ("sm2", "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256", "http://www.w3.org/2001/04/xmlenc#sha256"),
        ("rsa", "http://www.w3.org/2000/09/xmldsig#sm2-sm3", "http://www.w3.org/2000/09/xmldsig#sm3"),
    ],
)
def test_a_key_under_another_suites_method_is_refused_with_a_code(both_roots, signed_with, method, digest):
    """An SM2 certificate under RSA-SHA256 (which signxml would hand to cryptography, which cannot
    load the key) and an RSA one under SM2-SM3: SIG_INVALID, never a traceback."""
    root = tree(Suite(signed_with).signer(COURT).sign(unsigned_root()))
    info = root.find(f"{DS}Signature/{DS}SignedInfo")
    info.find(f"{DS}SignatureMethod").set("Algorithm", method)
    info.find(f"{DS}Reference/{DS}DigestMethod").set("Algorithm", digest)
    assert DocumentChecker(both_roots, REGISTRY).check(serialize(root)).codes == ["SIG_INVALID"]
