"""The signature profile under attack, and interoperability with xmlsec1 (issue 2, "Must show").

Every attack is built from a genuinely signed example and must be refused with its own code.
"""

from __future__ import annotations

import copy
import shutil
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from lxml import etree
from signxml import XMLSigner, methods
from signxml.algorithms import CanonicalizationMethod, DigestAlgorithm, SignatureMethod

from broker.checking import DocumentChecker
from broker.documents.xmlmodel import DS_NS, NS
from broker.parsing.hardened import parse
from broker.registry import load_registry
from broker.signing import DocumentSigner, DocumentVerifier, TrustStore, load_private_key
from broker.signing.keys import load_certificates

ROOT = Path(__file__).resolve().parents[1]
CERTS = ROOT / "certs-example"
UNITS = CERTS / "units"
COURT = "11445300MB0000001W"
BANK = "91445300MA5100003A"
UNSIGNED = ROOT / "examples" / "unsigned"
LD = "{" + NS + "}"
DS = "{" + DS_NS + "}"


@pytest.fixture(scope="module")
def registry():
    return load_registry(ROOT / "examples" / "network.yaml")


@pytest.fixture(scope="module")
def trust() -> TrustStore:
    return TrustStore.from_files([CERTS / "root-ca.pem"], [CERTS / "crl.pem"])


@pytest.fixture(scope="module")
def checker(trust, registry) -> DocumentChecker:
    return DocumentChecker(trust, registry)


@pytest.fixture(scope="module")
def court() -> DocumentSigner:
    return DocumentSigner.for_unit(UNITS / COURT)


@pytest.fixture(scope="module")
def notice(court) -> bytes:
    """A genuinely signed bank notice from the court."""
    return court.sign((UNSIGNED / "AssistanceNotice.xml").read_bytes())


def codes(checker: DocumentChecker, raw: bytes) -> list[str]:
    return checker.check(raw).codes


def tree(raw: bytes) -> etree._Element:
    return etree.fromstring(raw)


def serialize(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


class LegacySigner(XMLSigner):
    """signxml refuses to create SHA-1 signatures; an attacker's tool would not."""

    def check_deprecated_methods(self) -> None:
        pass


def raw_sign(root: etree._Element, key_dir: Path, *, key_name="sign", reference_uri=None, **signer_kw) -> bytes:
    """Sign with signxml directly (bypassing DocumentSigner's own guards)."""
    key = load_private_key(key_dir / f"{key_name}.key")
    certs = load_certificates(key_dir / f"{key_name}.pem")
    chain = load_certificates(CERTS / "issuing-ca.pem") if (key_dir / "chain.pem").exists() else []
    pems = [c.public_bytes(serialization.Encoding.PEM).decode() for c in certs + chain]
    params = dict(
        method=methods.enveloped,
        signature_algorithm=SignatureMethod.RSA_SHA256,
        digest_algorithm=DigestAlgorithm.SHA256,
        c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0,
    )
    params.update(signer_kw)
    signer = LegacySigner(**params)
    signed = signer.sign(root, key=key, cert=pems, reference_uri=reference_uri)
    return serialize(signed)


def unsigned_root(name: str = "AssistanceNotice") -> etree._Element:
    return etree.fromstring((UNSIGNED / f"{name}.xml").read_bytes())


# --- the genuine article -------------------------------------------------------------------------


def test_signed_notice_verifies_and_names_its_signer(checker, notice):
    result = checker.check(notice)
    assert result.ok, result.codes
    signer = result.verified.signer
    assert signer.unit_code == COURT
    assert signer.algorithm.endswith("rsa-sha256")
    assert len(signer.chain) == 3  # signer, issuing CA, root


def test_every_signed_example_verifies(checker, registry):
    signed = sorted((ROOT / "examples" / "signed").glob("*.xml"))
    assert len(signed) >= 27
    for path in signed:
        assert checker.check(path.read_bytes()).ok, path.name


def test_ecdsa_p256_signatures_verify(checker):
    market = DocumentSigner.for_unit(UNITS / "11445300MB0000006C")
    raw = market.sign((UNSIGNED / "ExecutionReceipt-MarketRegulation.xml").read_bytes())
    result = checker.check(raw)
    assert result.ok, result.codes
    assert result.verified.signer.algorithm.endswith("ecdsa-sha256")


# --- tampering ------------------------------------------------------------------------------------


def test_tampered_content_is_refused(checker, notice):
    forged = notice.replace(b"<ld:Amount Currency=\"CNY\">", b"<ld:Amount Currency=\"CNY\">1", 1)
    assert forged != notice
    assert codes(checker, forged) == ["SIG_TAMPERED"]


def test_tampered_signed_info_is_refused(checker, notice):
    root = tree(notice)
    method = root.find(f"{DS}Signature/{DS}SignedInfo/{DS}Reference/{DS}DigestValue")
    method.text = "A" + method.text[1:]
    assert codes(checker, serialize(root)) == ["SIG_INVALID"]


# --- signature wrapping (XSW) ------------------------------------------------------------------------


def test_moved_signed_element_is_refused(checker, notice):
    """The signed document hidden inside a forged one: the signature is no longer the root's child."""
    original = tree(notice)
    forged = copy.deepcopy(original)
    forged.remove(forged.find(f"{DS}Signature"))
    forged.set("Id", "ld-00000000-0000-4000-8000-000000000000")
    forged.find(f"{LD}Header/{LD}DocumentId").text = "00000000-0000-4000-8000-000000000000"
    forged.append(original)
    assert "SIG_LOCATION" in codes(checker, serialize(forged))


def test_duplicated_signed_element_is_refused(checker, notice):
    """The forged root takes the signed root's Id and signature; the original hides in ds:Object."""
    original = tree(notice)
    forged = copy.deepcopy(original)
    forged.find(f"{LD}Header/{LD}CaseNumber").text = "（2026）粤53执999号"
    signature = forged.find(f"{DS}Signature")
    hidden = copy.deepcopy(original)
    hidden.remove(hidden.find(f"{DS}Signature"))
    obj = etree.SubElement(signature, f"{DS}Object")
    obj.append(hidden)
    assert "SIG_DUPLICATE_ID" in codes(checker, serialize(forged))


def test_duplicate_id_is_refused(checker, notice):
    root = tree(notice)
    root.find(f"{LD}Header").set("Id", root.get("Id"))
    assert "SIG_DUPLICATE_ID" in codes(checker, serialize(root))


def test_reference_to_a_child_only_is_refused(checker):
    """A signature that covers only the Header leaves the body unsigned."""
    root = unsigned_root()
    root.find(f"{LD}Header").set("Id", "hdr")
    raw = raw_sign(root, UNITS / COURT, reference_uri="#hdr")
    assert "SIG_REFERENCE_URI" in codes(checker, raw)


def test_comment_injection_does_not_change_what_is_read(checker, notice):
    """exc-c14n ignores comments, so a comment keeps the seal intact; the verified tree has the
    signed text, while the input tree would have been cut at the comment."""
    name = "陈国强".encode()
    injected = notice.replace(name, "陈国".encode() + b"<!-- -->" + "强".encode(), 1)
    result = checker.check(injected)
    assert result.ok, result.codes
    verified_names = [e.text for e in result.root.iter(f"{LD}Name")]
    input_names = [e.text for e in tree(injected).iter(f"{LD}Name")]
    assert "陈国强" in verified_names
    assert "陈国" in input_names  # what code reading the input tree would have seen


# --- hostile XML ------------------------------------------------------------------------------------------


def _with_doctype(raw: bytes, doctype: bytes, entity_use: bytes = b"") -> bytes:
    body = raw.split(b"?>", 1)[1]
    if entity_use:
        body = body.replace(b"<ld:Remark>", b"<ld:Remark>" + entity_use, 1)
    return b"<?xml version='1.0' encoding='UTF-8'?>\n" + doctype + body


def test_dtd_is_refused(checker, notice):
    assert codes(checker, _with_doctype(notice, b"<!DOCTYPE Document>")) == ["XML_DTD_FORBIDDEN"]


def test_external_entity_is_refused(checker, notice):
    raw = _with_doctype(notice, b'<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>', b"&x;")
    assert codes(checker, raw) == ["XML_EXTERNAL_ENTITY"]


def test_entity_expansion_bomb_is_refused(checker, notice):
    lol = b'<!ENTITY l0 "lol">' + b"".join(
        b'<!ENTITY l%d "%s">' % (i, b"&l%d;" % (i - 1) * 10) for i in range(1, 10)
    )
    raw = _with_doctype(notice, b"<!DOCTYPE d [" + lol + b"]>", b"&l9;")
    assert codes(checker, raw) == ["XML_ENTITY_DECLARATION"]


def test_oversize_is_refused(checker, notice):
    raw = notice + b" " * (5 * 1024 * 1024)
    assert codes(checker, raw) == ["XML_TOO_LARGE"]


# --- algorithms -------------------------------------------------------------------------------------------


def test_sha1_signature_is_refused(checker):
    raw = raw_sign(
        unsigned_root(), UNITS / COURT, signature_algorithm=SignatureMethod.RSA_SHA1, digest_algorithm=DigestAlgorithm.SHA1
    )
    assert "SIG_ALGORITHM" in codes(checker, raw)


def test_sha1_digest_is_refused(checker):
    raw = raw_sign(unsigned_root(), UNITS / COURT, digest_algorithm=DigestAlgorithm.SHA1)
    assert "SIG_DIGEST_ALGORITHM" in codes(checker, raw)


def test_inclusive_c14n_as_java_writes_it_is_refused(checker):
    """Java's default: inclusive C14N and a Signature in the default namespace."""
    raw = raw_sign(
        unsigned_root(), UNITS / COURT, c14n_algorithm=CanonicalizationMethod.CANONICAL_XML_1_0
    )
    root = tree(raw)
    # rewrite ds: to the default namespace inside Signature, as Java does
    default_ns = etree.tostring(root).replace(b"ds:", b"").replace(b"xmlns:ds=", b"xmlns=")
    assert "SIG_C14N" in codes(checker, default_ns)
    assert "SIG_C14N" in codes(checker, raw)


def test_hmac_is_refused(checker):
    root = unsigned_root()
    signer = XMLSigner(
        method=methods.enveloped,
        signature_algorithm=SignatureMethod.HMAC_SHA256,
        digest_algorithm=DigestAlgorithm.SHA256,
        c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0,
    )
    raw = serialize(signer.sign(root, key=b"shared secret"))
    assert "SIG_ALGORITHM" in codes(checker, raw)


# --- signature structure ------------------------------------------------------------------------------


def test_unsigned_document_is_refused(checker):
    assert codes(checker, (UNSIGNED / "AssistanceNotice.xml").read_bytes()) == ["SIG_MISSING"]


def test_two_signatures_are_refused(checker, notice):
    root = tree(notice)
    root.append(copy.deepcopy(root.find(f"{DS}Signature")))
    assert "SIG_MULTIPLE" in codes(checker, serialize(root))


def test_key_value_in_key_info_is_refused(checker, notice):
    root = tree(notice)
    key_info = root.find(f"{DS}Signature/{DS}KeyInfo")
    etree.SubElement(key_info, f"{DS}KeyValue")
    assert "SIG_KEYINFO" in codes(checker, serialize(root))


def test_a_certificate_element_holding_elements_is_refused(checker, notice):
    # KeyInfo is not signed: anyone on the way could add to it without breaking the seal
    root = tree(notice)
    first = root.find(f"{DS}Signature/{DS}KeyInfo/{DS}X509Data/{DS}X509Certificate")
    etree.SubElement(first, f"{DS}KeyName").text = "x"
    assert codes(checker, serialize(root)) == ["SIG_INVALID"]


def test_no_certificate_is_refused(checker, notice):
    root = tree(notice)
    sig = root.find(f"{DS}Signature")
    sig.remove(sig.find(f"{DS}KeyInfo"))
    assert "CERT_MISSING" in codes(checker, serialize(root))


# --- certificates --------------------------------------------------------------------------------------


def test_untrusted_ca_is_refused(checker):
    untrusted = DocumentSigner.from_files(CERTS / "untrusted" / "sign.key", CERTS / "untrusted" / "sign.pem")
    root = unsigned_root("ExecutionReceipt")  # sent by the bank, as the untrusted cert claims
    assert untrusted.unit_code == BANK
    assert codes(checker, untrusted.sign(root)) == ["CERT_UNTRUSTED"]


def test_expired_certificate_is_refused(checker):
    d = UNITS / COURT
    expired = DocumentSigner.from_files(d / "sign-expired.key", d / "sign-expired.pem", d / "chain.pem")
    assert codes(checker, expired.sign(unsigned_root())) == ["CERT_EXPIRED"]


def test_revoked_certificate_is_refused(checker):
    d = UNITS / BANK
    revoked = DocumentSigner.from_files(d / "sign-revoked.key", d / "sign-revoked.pem", d / "chain.pem")
    assert codes(checker, revoked.sign(unsigned_root("ExecutionReceipt"))) == ["CERT_REVOKED"]


def test_valid_signature_by_the_wrong_unit_is_refused(checker):
    """The bank's genuine seal on a notice that claims to come from the court."""
    raw = raw_sign(unsigned_root(), UNITS / BANK)
    assert codes(checker, raw) == ["CERT_UNIT_MISMATCH"]


def test_document_signer_refuses_to_seal_for_another_unit():
    bank = DocumentSigner.for_unit(UNITS / BANK)
    with pytest.raises(Exception) as info:
        bank.sign(unsigned_root())
    assert "CERT_UNIT_MISMATCH" in str(info.value)


def test_tls_certificate_cannot_seal_documents(checker):
    """A TLS client certificate (EKU clientAuth, no documentSigning) is not an electronic seal."""
    raw = raw_sign(unsigned_root(), UNITS / COURT, key_name="tls")
    assert "CERT_KEY_USAGE" in codes(checker, raw)


def test_stale_crl_is_refused(registry, notice):
    later = datetime(2049, 6, 1, tzinfo=timezone.utc)
    trust = TrustStore.from_files([CERTS / "root-ca.pem"], [CERTS / "crl.pem"], clock=lambda: later)
    assert codes(DocumentChecker(trust, registry), notice) == ["CRL_STALE"]


def test_registry_pins_are_enforced(trust, registry, notice):
    court = registry.unit(COURT)
    pinned = registry.model_copy(deep=True)
    unit = pinned.unit(COURT)
    unit.certificate_fingerprints = ["0" * 64]
    assert court.certificate_fingerprints == []
    assert codes(DocumentChecker(trust, pinned), notice) == ["CERT_NOT_REGISTERED"]


def test_validity_is_judged_at_the_signing_time(trust, court):
    """A document sealed before the CRL's revocation date with a later-revoked (not compromised)
    certificate would stay valid; the signing time is Header/IssuedAt, read from the signed tree."""
    verifier = DocumentVerifier(trust)
    raw = court.sign(unsigned_root())
    verified = verifier.verify(raw, parse(raw))
    assert verified.signed_at == datetime.fromisoformat(tree(raw).findtext(f"{LD}Header/{LD}IssuedAt"))


# --- interoperability with xmlsec1 (an implementation we did not write) ---------------------------------

XMLSEC = shutil.which("xmlsec1")
needs_xmlsec = pytest.mark.skipif(XMLSEC is None, reason="xmlsec1 is not installed (apt-get install xmlsec1)")


def xmlsec_verify(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            XMLSEC,
            "--verify",
            "--enabled-key-data",
            "x509",
            "--id-attr:Id",
            f"{NS}:Document",
            "--trusted-pem",
            str(CERTS / "root-ca.pem"),
            "--untrusted-pem",
            str(CERTS / "issuing-ca.pem"),
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )


@needs_xmlsec
def test_xmlsec1_verifies_our_signatures(tmp_path, notice):
    good = tmp_path / "good.xml"
    good.write_bytes(notice)
    assert xmlsec_verify(good).returncode == 0
    bad = tmp_path / "bad.xml"
    bad.write_bytes(notice.replace(b"<ld:Amount Currency=\"CNY\">", b"<ld:Amount Currency=\"CNY\">1", 1))
    assert xmlsec_verify(bad).returncode != 0


TEMPLATE = f"""<ds:Signature xmlns:ds="{DS_NS}">
  <ds:SignedInfo>
    <ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>
    <ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>
    <ds:Reference URI="">
      <ds:Transforms>
        <ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>
        <ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>
      </ds:Transforms>
      <ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>
      <ds:DigestValue/>
    </ds:Reference>
  </ds:SignedInfo>
  <ds:SignatureValue/>
  <ds:KeyInfo><ds:X509Data/></ds:KeyInfo>
</ds:Signature>"""


@needs_xmlsec
def test_a_document_signed_by_xmlsec1_verifies_with_liandong(tmp_path, checker):
    root = unsigned_root()
    root.append(etree.fromstring(TEMPLATE))
    template = tmp_path / "template.xml"
    template.write_bytes(serialize(root))
    out = tmp_path / "signed.xml"
    d = UNITS / COURT
    proc = subprocess.run(
        [XMLSEC, "--sign", "--privkey-pem", f"{d / 'sign.key'},{d / 'sign.pem'},{CERTS / 'issuing-ca.pem'}",
         "--output", str(out), str(template)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    result = checker.check(out.read_bytes())
    assert result.ok, result.codes
    assert result.verified.signer.unit_code == COURT
    # and the CLI agrees
    cli = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "liandong"), "verify", str(out), "--trust", str(CERTS / "root-ca.pem"),
         "--crl", str(CERTS / "crl.pem")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert cli.returncode == 0, cli.stdout + cli.stderr



def test_the_hubs_seal_can_be_pinned_too(trust, registry):
    """The registry pins the hub's seal certificate like a unit's: a hub seal from another
    certificate of a trusted CA is refused (service receipts are the legal proof of service)."""
    rejection = (ROOT / "examples" / "signed" / "RejectionNotice.xml").read_bytes()
    checker = DocumentChecker(trust, registry)
    checked = checker.check(rejection)
    assert checked.ok, checked.codes
    pinned = registry.model_copy(deep=True)
    pinned.hub.certificate_fingerprints = ["0" * 64]
    assert codes(DocumentChecker(trust, pinned), rejection) == ["CERT_NOT_REGISTERED"]
    pinned.hub.certificate_fingerprints = [checked.verified.signer.fingerprint]
    assert codes(DocumentChecker(trust, pinned), rejection) == []


# --- revocation policy and CRL reloading (broker/signing/trust.py) -----------------------------


def _crl(issuer_cert, issuer_key, revoked=(), *, days: int = 30) -> bytes:
    """A PEM CRL of ``issuer_cert`` revoking the serials in ``revoked`` (key compromise)."""
    from datetime import timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    now = datetime.now(timezone.utc)
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer_cert.subject)
        .last_update(now - timedelta(days=1))
        .next_update(now + timedelta(days=days))
    )
    for serial in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(serial)
            .revocation_date(now - timedelta(days=1))
            .add_extension(x509.CRLReason(x509.ReasonFlags.key_compromise), critical=False)
            .build()
        )
    return builder.sign(issuer_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def _other_ca():
    """A CA of its own (not in the example PKI), with its key."""
    from datetime import timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "another CA")])
    now = datetime.now(timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(1).not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return cert, key


def _issuing_ca():
    return load_certificates(CERTS / "issuing-ca.pem")[0], load_private_key(CERTS / "issuing-ca.key")


def _replace(path: Path, data: bytes) -> None:
    """Replace a file the way docs/security.md 5.6 says: write beside it, rename over it."""
    tmp = path.with_suffix(".new")
    tmp.write_bytes(data)
    tmp.replace(path)


def test_a_replaced_crl_file_is_used_without_a_restart(tmp_path, registry, notice):
    """A revocation reaches a running process: the CRL file is re-read when it changes."""
    crl_file = tmp_path / "crl.pem"
    shutil.copy(CERTS / "crl.pem", crl_file)
    trust = TrustStore.from_files([CERTS / "root-ca.pem"], [crl_file], crl_recheck_seconds=0)
    checker = DocumentChecker(trust, registry)
    assert codes(checker, notice) == []
    court_cert = load_certificates(UNITS / COURT / "sign.pem")[0]
    ca_cert, ca_key = _issuing_ca()
    _replace(crl_file, _crl(ca_cert, ca_key, [court_cert.serial_number]))
    assert codes(checker, notice) == ["CERT_REVOKED"]
    # A broken update must not switch revocation off: the CRLs in force stay.
    _replace(crl_file, b"-----BEGIN X509 CRL-----\ngarbage\n-----END X509 CRL-----\n")
    assert codes(checker, notice) == ["CERT_REVOKED"]
    _replace(crl_file, b"")
    assert codes(checker, notice) == ["CERT_REVOKED"]


def test_without_a_recheck_interval_elapsed_the_crls_in_force_stay(tmp_path, registry, notice):
    crl_file = tmp_path / "crl.pem"
    shutil.copy(CERTS / "crl.pem", crl_file)
    trust = TrustStore.from_files([CERTS / "root-ca.pem"], [crl_file], crl_recheck_seconds=3600)
    court_cert = load_certificates(UNITS / COURT / "sign.pem")[0]
    _replace(crl_file, _crl(*_issuing_ca(), [court_cert.serial_number]))
    assert codes(DocumentChecker(trust, registry), notice) == []
    assert trust.refresh_crls(force=True)
    assert codes(DocumentChecker(trust, registry), notice) == ["CERT_REVOKED"]


def test_an_issuing_ca_without_a_crl_is_refused_once_crls_are_configured(tmp_path, registry, notice):
    """As Mosquitto refuses a TLS client whose CA has no CRL: with revocation on, a seal whose
    issuer publishes no CRL we know could be revoked unseen (CRL_MISSING)."""
    other, other_key = _other_ca()
    only_other = tmp_path / "other.pem"
    only_other.write_bytes(_crl(other, other_key))
    trust = TrustStore.from_files([CERTS / "root-ca.pem"], [only_other])
    assert codes(DocumentChecker(trust, registry), notice) == ["CRL_MISSING"]
    # One file may hold the CRLs of several CAs (as the broker's crl.pem does): all are read.
    both = tmp_path / "both.pem"
    both.write_bytes(_crl(other, other_key) + (CERTS / "crl.pem").read_bytes())
    trust = TrustStore.from_files([CERTS / "root-ca.pem"], [both])
    assert codes(DocumentChecker(trust, registry), notice) == []


def test_no_crl_at_all_checks_no_revocation_and_says_so(caplog, registry, notice):
    import logging

    with caplog.at_level(logging.WARNING, logger="broker.signing.trust"):
        trust = TrustStore.from_files([CERTS / "root-ca.pem"])
    assert "trust.revocation_unchecked" in caplog.messages
    assert codes(DocumentChecker(trust, registry), notice) == []
