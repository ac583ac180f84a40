"""The SM2/SM3 suite (issue 15): documents, certificates and CRLs, interoperable both ways with
the OpenSSL 3 command line and libxml2's xmllint (implementations we did not write).

The SM2 example PKI is certs-example/sm2/ (certs-example/make_sm2_pki.py).
"""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from broker.checking import DocumentChecker
from broker.registry import load_registry
from broker.signing import DocumentSigner, TrustStore, sm2
from broker.signing.keys import load_certificates
from broker.signing.suites import SM2_SM3, SM3

ROOT = Path(__file__).resolve().parents[1]
SM2_CERTS = ROOT / "certs-example" / "sm2"
UNITS = SM2_CERTS / "units"
COURT = "11445300MB0000001W"
UNSIGNED = ROOT / "examples" / "unsigned"
DISTID = "distid:1234567812345678"
OPENSSL = shutil.which("openssl")
XMLLINT = shutil.which("xmllint")
needs_cli = pytest.mark.usefixtures("_cli_installed")


@pytest.fixture
def _cli_installed() -> None:
    # a failure, not a skip: a green run must not hide a missing install step
    if not (OPENSSL and XMLLINT):
        pytest.fail("openssl and xmllint (libxml2-utils) are not installed (./run installs them)")


@pytest.fixture(scope="module")
def checker() -> DocumentChecker:
    trust = TrustStore.from_files([SM2_CERTS / "root-ca.pem"], [SM2_CERTS / "crl.pem"])
    return DocumentChecker(trust, load_registry(ROOT / "examples" / "network.yaml"))


@pytest.fixture(scope="module")
def sealed() -> bytes:
    return DocumentSigner.for_unit(UNITS / COURT).sign((UNSIGNED / "AssistanceNotice.xml").read_bytes())


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sm2")


def run(*args: str | Path, input: bytes | None = None, check: bool = True) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([str(a) for a in args], input=input, capture_output=True, check=check, timeout=30)


def _text(raw: bytes, tag: str) -> str:
    return re.search(rb"<ds:%s>([^<]*)</ds:%s>" % (tag.encode(), tag.encode()), raw).group(1).decode()


def test_an_sm2_document_verifies_with_its_suite_named(checker, sealed):
    result = checker.check(sealed)
    assert result.ok, result.codes
    assert result.verified.signer.unit_code == COURT
    assert result.verified.signer.algorithm == SM2_SM3
    assert len(result.verified.signer.chain) == 3
    assert f'Algorithm="{SM3}"'.encode() in sealed


def test_the_signature_value_is_r_and_s_of_32_bytes_each(sealed):
    """docs/signature-profile.md 4.5: r || s, big-endian, 64 bytes; the same value in DER verifies."""
    value = base64.b64decode(_text(sealed, "SignatureValue"))
    assert len(value) == 64
    der = sm2.rs_to_der(value)
    assert decode_dss_signature(der) == (int.from_bytes(value[:32], "big"), int.from_bytes(value[32:], "big"))
    assert sm2.der_to_rs(der) == value
    with pytest.raises(sm2.InvalidSm2Signature):
        sm2.rs_to_der(der)  # a DER value where r || s belongs is refused, not guessed at


# --- OpenSSL 3 and xmllint check what liandong sealed -----------------------------------------------


def _signed_info(raw: bytes) -> bytes:
    """SignedInfo cut out of the document by text, with the ds namespace it inherits declared."""
    text = re.search(rb"<ds:SignedInfo>.*?</ds:SignedInfo>", raw, re.DOTALL).group(0)
    return text.replace(b"<ds:SignedInfo>", b'<ds:SignedInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#">', 1)


def _exc_c14n(xml: bytes, work: Path, name: str) -> Path:
    source, out = work / f"{name}.xml", work / f"{name}.c14n"
    source.write_bytes(xml)
    out.write_bytes(run(XMLLINT, "--exc-c14n", source).stdout)
    return out


def _public_key(cert_pem: bytes, work: Path, name: str) -> Path:
    cert, out = work / f"{name}.pem", work / f"{name}.pub"
    cert.write_bytes(cert_pem)
    out.write_bytes(run(OPENSSL, "x509", "-in", cert, "-pubkey", "-noout").stdout)
    return out


@needs_cli
def test_openssl_verifies_a_document_liandong_sealed(sealed, work):
    # the digest: the document without its signature, canonicalised by xmllint, SM3 by openssl
    unsigned = re.sub(rb"<ds:Signature .*</ds:Signature>", b"", sealed, flags=re.DOTALL)
    content = _exc_c14n(unsigned, work, "content")
    digest = run(OPENSSL, "dgst", "-sm3", "-binary", content).stdout
    assert base64.b64encode(digest).decode() == _text(sealed, "DigestValue")
    # the signature: over xmllint's canonical SignedInfo, with the GM/T 0009 ID
    info = _exc_c14n(_signed_info(sealed), work, "signed-info")
    value = base64.b64decode(_text(sealed, "SignatureValue"))
    sig = work / "sig.der"
    sig.write_bytes(encode_dss_signature(int.from_bytes(value[:32], "big"), int.from_bytes(value[32:], "big")))
    pub = _public_key((UNITS / COURT / "sign.pem").read_bytes(), work, "court")
    verify = [OPENSSL, "pkeyutl", "-verify", "-rawin", "-digest", "sm3", "-pubin", "-inkey", pub, "-in", info, "-sigfile", sig]
    assert b"Signature Verified Successfully" in run(*verify, "-pkeyopt", DISTID).stdout
    # without the ID OpenSSL 3 computes another Z value: the ID is part of the profile
    assert run(*verify, check=False).returncode != 0


def _openssl_sign(sealed: bytes, work: Path, key: Path, *opts: str) -> bytes:
    """The document with its SignatureValue replaced by OpenSSL's signature of its SignedInfo."""
    info = _exc_c14n(_signed_info(sealed), work, "to-sign")
    der = run(OPENSSL, "pkeyutl", "-sign", "-rawin", "-digest", "sm3", "-inkey", key, "-in", info, *opts).stdout
    r, s = decode_dss_signature(der)
    value = base64.b64encode(r.to_bytes(32, "big") + s.to_bytes(32, "big"))
    return re.sub(rb"<ds:SignatureValue>[^<]*<", b"<ds:SignatureValue>" + value + b"<", sealed)


@needs_cli
def test_a_signed_info_signed_by_openssl_verifies_in_liandong(checker, sealed, work):
    key = UNITS / COURT / "sign.key"
    by_openssl = _openssl_sign(sealed, work, key, "-pkeyopt", DISTID)
    assert by_openssl != sealed
    assert checker.check(by_openssl).ok, checker.check(by_openssl).codes
    assert checker.check(_openssl_sign(sealed, work, key)).codes == ["SIG_INVALID"]  # no ID given


def _tbs_and_signature(cert: x509.Certificate | x509.CertificateRevocationList, work: Path, name: str) -> tuple[Path, Path]:
    tbs = cert.tbs_certificate_bytes if isinstance(cert, x509.Certificate) else cert.tbs_certlist_bytes
    (work / f"{name}.tbs").write_bytes(tbs)
    (work / f"{name}.sig").write_bytes(cert.signature)
    return work / f"{name}.tbs", work / f"{name}.sig"


@needs_cli
def test_openssl_checks_the_signatures_of_liandongs_sm2_certificates_and_crl(work):
    """Every link of the example chain and the CRL, by ``openssl pkeyutl`` with the issuer's key.

    (``openssl verify`` of Debian's OpenSSL 3.0 fails on any SM2 chain, also one it issued
    itself, with "ASN1_item_verify_ctx:EVP lib": docs/signature-profile.md 4.5.)"""
    root, issuing = load_certificates(SM2_CERTS / "root-ca.pem")[0], load_certificates(SM2_CERTS / "issuing-ca.pem")[0]
    crl = x509.load_pem_x509_crl((SM2_CERTS / "crl.pem").read_bytes())
    links = [
        ("issuing", issuing, root),
        ("seal", load_certificates(UNITS / COURT / "sign.pem")[0], issuing),
        ("crl", crl, issuing),
    ]
    for name, signed, issuer in links:
        tbs, sig = _tbs_and_signature(signed, work, name)
        pub = _public_key(issuer.public_bytes(serialization.Encoding.PEM), work, f"{name}-issuer")
        out = run(OPENSSL, "pkeyutl", "-verify", "-rawin", "-digest", "sm3", "-pkeyopt", DISTID,
                  "-pubin", "-inkey", pub, "-in", tbs, "-sigfile", sig).stdout  # fmt: skip
        assert b"Signature Verified Successfully" in out, name


_EXT = """[ca]
basicConstraints = critical, CA:true, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[seal]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, nonRepudiation
extendedKeyUsage = 1.3.6.1.5.5.7.3.36
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""


@needs_cli
def test_certificates_issued_by_openssl_validate_in_liandong(work):
    """An SM2 CA and a court's seal certificate made by the openssl command line: liandong
    validates the chain, seals with the openssl key, and the document verifies."""
    (work / "ext.cnf").write_text(_EXT)
    ca_key, seal_key = work / "ossl-ca.key", work / "ossl-seal.key"
    for key in (ca_key, seal_key):
        run(OPENSSL, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:SM2", "-out", key)
    run(OPENSSL, "req", "-new", "-x509", "-key", ca_key, "-sm3", "-sigopt", DISTID, "-days", "3650",
        "-subj", "/C=CN/O=OpenSSL SM2 CA/CN=OpenSSL SM2 Test CA", "-set_serial", "1",
        "-addext", "basicConstraints=critical,CA:true,pathlen:0",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign", "-out", work / "ossl-ca.pem")  # fmt: skip
    run(OPENSSL, "req", "-new", "-utf8", "-key", seal_key, "-sm3", "-sigopt", DISTID, "-out", work / "seal.csr",
        "-subj", f"/C=CN/O=广东省云浮市中级人民法院/organizationIdentifier={COURT}/CN=广东省云浮市中级人民法院 电子印章")  # fmt: skip
    run(OPENSSL, "x509", "-req", "-in", work / "seal.csr", "-CA", work / "ossl-ca.pem", "-CAkey", ca_key,
        "-sm3", "-sigopt", DISTID, "-vfyopt", DISTID, "-days", "3650", "-set_serial", "2",
        "-extfile", work / "ext.cnf", "-extensions", "seal", "-out", work / "ossl-seal.pem")  # fmt: skip
    seal = load_certificates(work / "ossl-seal.pem")[0]
    assert seal.signature_algorithm_oid == sm2.SM2_WITH_SM3_OID
    trust = TrustStore.from_files([work / "ossl-ca.pem"])
    chain = trust.validate(seal, [], seal.not_valid_before_utc)
    assert len(chain.chain) == 2
    signer = DocumentSigner.from_files(seal_key, work / "ossl-seal.pem")
    # OpenSSL 3.0 cannot back-date a certificate: the document is issued now, inside its validity
    now = datetime.now(UTC).replace(microsecond=0).isoformat()
    unsigned = re.sub(rb"<ld:IssuedAt>[^<]*<", f"<ld:IssuedAt>{now}<".encode(), (UNSIGNED / "AssistanceNotice.xml").read_bytes())
    raw = signer.sign(unsigned)
    result = DocumentChecker(trust).check(raw)
    assert result.ok, result.codes


def test_the_cli_makes_an_sm2_seal_and_signs_and_verifies_with_it(tmp_path):
    """``liandong pki key --suite sm2``, ``pki issue`` from the SM2 CA, ``sign`` and ``verify``:
    the same commands as for P-256, the suite chosen by the key (TLS stays P-256)."""
    from typer.testing import CliRunner

    from broker.cli.main import app

    cli = CliRunner()
    unit = tmp_path / "court"
    made = cli.invoke(app, ["pki", "key", "--code", COURT, "--name", "广东省云浮市中级人民法院", "--out", str(unit), "--suite", "sm2"])
    assert made.exit_code == 0, made.output
    assert sm2.load_private_key(unit / "sign.key") is not None and sm2.load_private_key(unit / "tls.key") is None
    issued = cli.invoke(app, ["pki", "issue", str(unit / "sign.csr"), "--ca", str(SM2_CERTS), "-o", str(unit / "sign.pem"), "--code", COURT])
    assert issued.exit_code == 0, issued.output
    refused = cli.invoke(app, ["pki", "issue", str(unit / "tls.csr"), "--ca", str(SM2_CERTS), "-o", str(unit / "tls.pem"), "--usage", "tls"])
    assert refused.exit_code != 0 and "PKI_CSR_KEY" in refused.output
    now = datetime.now(UTC).replace(microsecond=0).isoformat()
    unsigned = tmp_path / "notice.xml"
    unsigned.write_bytes(re.sub(rb"<ld:IssuedAt>[^<]*<", f"<ld:IssuedAt>{now}<".encode(), (UNSIGNED / "AssistanceNotice.xml").read_bytes()))
    signed = tmp_path / "signed.xml"
    sealed = cli.invoke(app, ["sign", str(unsigned), "--key", str(unit / "sign.key"), "--cert", str(unit / "sign.pem"),
                              "--chain", str(SM2_CERTS / "issuing-ca.pem"), "-o", str(signed)])  # fmt: skip
    assert sealed.exit_code == 0, sealed.output
    assert SM2_SM3.encode() in signed.read_bytes()
    checked = cli.invoke(app, ["verify", str(signed), "--trust", str(SM2_CERTS / "root-ca.pem"), "--crl", str(SM2_CERTS / "crl.pem")])
    assert checked.exit_code == 0, checked.output


JAVAC, JAVA = shutil.which("javac"), shutil.which("java")
BCPROV = Path("/usr/share/java/bcprov.jar")  # Debian's libbcprov-java (./run installs it where a JDK is)
_EXPORTS = [
    f"--add-exports=java.xml.crypto/com.sun.org.apache.xml.internal.security{p}=ALL-UNNAMED" for p in ("", ".c14n")
]


@pytest.mark.skipif(not (JAVAC and JAVA and BCPROV.exists()), reason="needs a JDK and Bouncy Castle (libbcprov-java)")
# (JAVAC: java runs the source file directly, which needs the compiler module of a JDK)
def test_a_java_verifier_with_bouncy_castle_accepts_our_sm2_document(sealed, work):
    """tests/java/VerifySm2.java: the JDK's exclusive C14N and Bouncy Castle's SM3withSM2 (whose
    default signer ID is GM/T 0009's) verify a document liandong sealed, and refuse it tampered."""
    (work / "java-ok.xml").write_bytes(sealed)
    (work / "java-bad.xml").write_bytes(sealed.replace(b'<ld:Amount Currency="CNY">', b'<ld:Amount Currency="CNY">1', 1))
    # one JVM: the source file is compiled in memory and checks both documents
    out = run(JAVA, *_EXPORTS, "-cp", BCPROV, ROOT / "tests" / "java" / "VerifySm2.java", work / "java-ok.xml", work / "java-bad.xml")
    lines = out.stdout.decode().splitlines()
    assert lines[0].endswith("java-ok.xml: OK " + "CN=广东省云浮市中级人民法院 电子印章,2.5.4.97=#0c1231313434353330304d423030303030303157,O=广东省云浮市中级人民法院,C=CN"), out
    assert lines[1].endswith("java-bad.xml: the SM3 digest of the document does not match"), out


def test_every_member_of_the_example_network_has_an_sm2_seal():
    """`./run demo --suite sm2` seals with certs-example/sm2: a unit enrolled in the example
    registry without its SM2 seal (make_sm2_pki.py not rerun) would break that demo."""
    registry = load_registry(ROOT / "examples" / "network.yaml")
    codes = [u.code for u in registry.units] + [registry.hub.code]
    missing = [c for c in codes if not (SM2_CERTS / "units" / c / "sign.pem").exists()]
    assert not missing, f"run certs-example/make_sm2_pki.py --force: no SM2 seal for {missing}"
    for code in codes:
        [cert] = load_certificates(SM2_CERTS / "units" / code / "sign.pem")
        assert sm2.is_sm2_certificate_key(cert), code
