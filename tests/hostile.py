"""Builders of hostile documents that are correctly SEALED, so they reach the checker's deep
checks (issue 11, item 1): a seal certificate the example CA issued on an unsupported curve (P-384,
secp256k1, brainpool, SM2), with an EC point off the curve, with a malformed extension, with a
subject that is not UTF-8 or an unknown X.509 version; a header or body time in year 1 or 9999; an
amount of NaN or Infinity; unit codes with full-width or Arabic-Indic digits; an XML declaration
naming another encoding after leading whitespace.

Each class is a :class:`Hostile`: a name, a builder of the sealed bytes and the code it must be
refused with. :data:`CLASSES` lists them all for the checker test, the hub test and the fuzz test.
"""

from __future__ import annotations

import base64
import copy
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import cache
from pathlib import Path
from typing import Callable

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import ExtensionOID, NameOID
from lxml import etree

from broker.documents import codec
from broker.documents.xmlmodel import NS
from broker.restamp import restamp
from broker.signing import DocumentSigner
from broker.signing.profile import DOCUMENT_SIGNING_EKU

ROOT = Path(__file__).resolve().parents[1]
CERTS = ROOT / "certs-example"
UNSIGNED = ROOT / "examples" / "unsigned"
COURT = "11445300MB0000001W"
BANK = "91445300MA5100003A"
LD = "{" + NS + "}"

YEAR_9999 = "9999-12-31T23:59:59-14:00"
YEAR_1 = "0001-01-01T00:00:00+14:00"


# --- documents --------------------------------------------------------------------------------------


def unsigned(name: str = "AssistanceNotice") -> etree._Element:
    """An example document with a new id and the current time, as a tree to edit."""
    return codec.to_element(restamp(UNSIGNED / f"{name}.xml"))


def set_text(root: etree._Element, path: str, value: str) -> etree._Element:
    """Set the text of every element at ``path`` (``ld:``-prefixed XPath); at least one must exist."""
    found = root.xpath(path, namespaces={"ld": NS})
    assert found, f"nothing at {path}"
    for elem in found:
        elem.text = value
    return root


@cache
def unit_seal(unit: str = COURT) -> DocumentSigner:
    """The example seal of ``unit`` (certs-example/units/<unit>/)."""
    return DocumentSigner.for_unit(CERTS / "units" / unit)


def sealed(root: etree._Element, signer: DocumentSigner | None = None) -> bytes:
    """``root`` sealed by ``signer``, by default the example seal of its sender."""
    return (signer or unit_seal(root.findtext(f"{LD}Header/{LD}Sender") or COURT)).sign(root)


def sealed_whatever_the_sender(root: etree._Element, unit: str = COURT) -> bytes:
    """``root`` sealed with ``unit``'s example seal even when its Sender names someone else (or
    nothing sane): the checker, not the signer, must find what is wrong."""
    seal = copy.copy(unit_seal(unit))
    seal.unit_code = root.findtext(f"{LD}Header/{LD}Sender") or ""
    return seal.sign(root)


# --- certificates -----------------------------------------------------------------------------------


@cache
def _issuing_ca() -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    cert = x509.load_pem_x509_certificate((CERTS / "issuing-ca.pem").read_bytes())
    key = serialization.load_pem_private_key((CERTS / "issuing-ca.key").read_bytes(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return cert, key


def _key_usage() -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True, content_commitment=True, key_encipherment=False, data_encipherment=False,
        key_agreement=False, key_cert_sign=False, crl_sign=False, encipher_only=False, decipher_only=False,
    )  # fmt: skip


def seal_certificate(
    public_key: ec.EllipticCurvePublicKey | rsa.RSAPublicKey,
    *,
    replace: dict[x509.ObjectIdentifier, bytes] | None = None,
    unit: str = COURT,
) -> x509.Certificate:
    """A document-signing certificate for ``unit`` issued by the example issuing CA, as
    certs-example/make_pki.py makes them; ``replace`` swaps an extension's DER value for raw bytes
    (a malformed extension the CA signed all the same)."""
    ca, ca_key = _issuing_ca()
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "hostile test"),
            x509.NameAttribute(NameOID.ORGANIZATION_IDENTIFIER, unit),
            x509.NameAttribute(NameOID.COMMON_NAME, "hostile test seal"),
        ]
    )
    now = datetime.now(timezone.utc)
    extensions: list[tuple[x509.ExtensionType, bool]] = [
        (x509.BasicConstraints(ca=False, path_length=None), True),
        (_key_usage(), True),
        (x509.ExtendedKeyUsage([DOCUMENT_SIGNING_EKU]), False),
        (x509.SubjectKeyIdentifier.from_public_key(public_key), False),
        (
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(
                ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
            ),
            False,
        ),
    ]
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(ca.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365))
    )
    for value, critical in extensions:
        raw = (replace or {}).get(value.oid)
        if raw is not None:
            value = x509.UnrecognizedExtension(value.oid, raw)
        builder = builder.add_extension(value, critical=critical)
    return builder.sign(ca_key, hashes.SHA256())


def _resign(der: bytes, old_tbs: bytes, new_tbs: bytes) -> x509.Certificate:
    """``der`` with its to-be-signed part replaced by ``new_tbs`` (same length) and signed again
    by the issuing CA: a certificate whose content no builder would write."""
    _, ca_key = _issuing_ca()
    assert len(old_tbs) == len(new_tbs) and der.count(old_tbs) == 1
    old_sig = x509.load_der_x509_certificate(der).signature
    new_sig = ca_key.sign(new_tbs, padding.PKCS1v15(), hashes.SHA256())
    assert len(old_sig) == len(new_sig) and der.endswith(old_sig)
    patched = der.replace(old_tbs, new_tbs)[: -len(old_sig)] + new_sig
    return x509.load_der_x509_certificate(patched)


def off_curve_certificate(key: ec.EllipticCurvePrivateKey) -> x509.Certificate:
    """A P-256 certificate of the example CA whose public point is not on the curve."""
    cert = seal_certificate(key.public_key())
    der = cert.public_bytes(serialization.Encoding.DER)
    point = key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    # y + 1 is (with certainty here: the curve has one y of each parity for an x) off the curve
    bad = point[:-1] + bytes([point[-1] ^ 1])
    tbs = cert.tbs_certificate_bytes
    assert tbs.count(point) == 1
    return _resign(der, tbs, tbs.replace(point, bad))


P256_OID = bytes.fromhex("06082a8648ce3d030107")  # 1.2.840.10045.3.1.7
SM2_OID = bytes.fromhex("06082a811ccf5501822d")  # 1.2.156.10197.1.301, same length


def sm2_certificate(key: ec.EllipticCurvePrivateKey) -> x509.Certificate:
    """A certificate of the example CA whose key claims the SM2 curve (China's national curve,
    which cryptography cannot load)."""
    cert = seal_certificate(key.public_key())
    tbs = cert.tbs_certificate_bytes
    return _resign(cert.public_bytes(serialization.Encoding.DER), tbs, tbs.replace(P256_OID, SM2_OID))


def bad_subject_certificate(key: ec.EllipticCurvePrivateKey) -> x509.Certificate:
    """A certificate of the example CA whose subject common name is not valid UTF-8."""
    cert = seal_certificate(key.public_key())
    tbs = cert.tbs_certificate_bytes
    name = b"hostile test seal"
    assert tbs.count(name) == 1
    return _resign(cert.public_bytes(serialization.Encoding.DER), tbs, tbs.replace(name, name[:-2] + b"\xff\xfe"))


def duplicate_extension_certificate(key: ec.EllipticCurvePrivateKey) -> x509.Certificate:
    """A certificate of the example CA with two KeyUsage extensions (its ExtendedKeyUsage's OID
    turned into KeyUsage's, the same length): cryptography raises DuplicateExtension, no ValueError
    (found by tests/test_fuzz_checker.py)."""
    cert = seal_certificate(key.public_key())
    tbs = cert.tbs_certificate_bytes
    eku, ku = bytes.fromhex("0603551d25"), bytes.fromhex("0603551d0f")  # 2.5.29.37, 2.5.29.15
    assert tbs.count(eku) == 1 and tbs.count(ku) == 1
    return _resign(cert.public_bytes(serialization.Encoding.DER), tbs, tbs.replace(eku, ku))


def signer(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey, cert: x509.Certificate) -> DocumentSigner:
    ca, _ = _issuing_ca()
    return DocumentSigner(key, cert, [ca])


def _curve_seal(curve: ec.EllipticCurve) -> DocumentSigner:
    key = ec.generate_private_key(curve)
    return signer(key, seal_certificate(key.public_key()))


def _malformed_extension(oid: x509.ObjectIdentifier) -> DocumentSigner:
    key = ec.generate_private_key(ec.SECP256R1())
    # an OCTET STRING where the extension's own structure belongs
    return signer(key, seal_certificate(key.public_key(), replace={oid: b"\x04\x03abc"}))


def _duplicate_extension_seal() -> bytes:
    # DocumentSigner reads the certificate's extensions, so the document is sealed with a good
    # certificate for the same key and the bad one put in its place in KeyInfo (see _bad_subject)
    key = ec.generate_private_key(ec.SECP256R1())
    raw = sealed(unsigned(), signer(key, seal_certificate(key.public_key())))
    bad = duplicate_extension_certificate(key).public_bytes(serialization.Encoding.DER)
    start = raw.index(b"<ds:X509Certificate>") + len(b"<ds:X509Certificate>")
    end = raw.index(b"</ds:X509Certificate>", start)
    return raw[:start] + base64.encodebytes(bad) + raw[end:]


def _sm2_seal() -> DocumentSigner:
    key = ec.generate_private_key(ec.SECP256R1())
    return signer(key, sm2_certificate(key))


def _bad_subject() -> bytes:
    # DocumentSigner reads the unit code from its certificate, so the document is sealed with a
    # good certificate for the same key, and the bad one put in its place in KeyInfo (outside
    # what the seal covers): the signature still verifies with the key.
    key = ec.generate_private_key(ec.SECP256R1())
    raw = sealed(unsigned(), signer(key, seal_certificate(key.public_key())))
    bad = bad_subject_certificate(key).public_bytes(serialization.Encoding.DER)
    start = raw.index(b"<ds:X509Certificate>") + len(b"<ds:X509Certificate>")
    end = raw.index(b"</ds:X509Certificate>", start)
    return raw[:start] + base64.encodebytes(bad) + raw[end:]


def _off_curve_seal() -> DocumentSigner:
    key = ec.generate_private_key(ec.SECP256R1())
    return signer(key, off_curve_certificate(key))


def _unknown_version() -> bytes:
    """A court's notice whose signer certificate in KeyInfo (outside what the seal covers) says
    X.509 version 38: cryptography refuses it with InvalidVersion, which is no ValueError."""
    raw = sealed(unsigned())
    start = raw.index(b"<ds:X509Certificate>") + len(b"<ds:X509Certificate>")
    end = raw.index(b"</ds:X509Certificate>", start)
    der = base64.b64decode(b"".join(raw[start:end].split()))
    version = bytes.fromhex("a003020102")  # [0] EXPLICIT INTEGER 2 (v3)
    assert der.find(version) < 16
    der = der.replace(version, bytes.fromhex("a003020125"), 1)
    return raw[:start] + base64.encodebytes(der) + raw[end:]


# --- the classes ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hostile:
    """One class of hostile input: ``build()`` returns sealed bytes the checker must refuse with ``code``."""

    name: str
    build: Callable[[], bytes]
    code: str

    def __str__(self) -> str:
        return self.name


def _notice_with(path: str, value: str, name: str = "AssistanceNotice") -> Callable[[], bytes]:
    return lambda: sealed(set_text(unsigned(name), path, value))


def _sealed_by(make: Callable[[], DocumentSigner]) -> Callable[[], bytes]:
    return lambda: sealed(unsigned(), make())


def _declared(encoding: str) -> Callable[[], bytes]:
    def build() -> bytes:
        raw = sealed(unsigned())
        body = raw.split(b"?>", 1)[1] if raw.startswith(b"<?xml") else raw
        return b" " * 300 + f"<?xml version='1.0' encoding='{encoding}'?>".encode() + body

    return build


FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def _foreign(code: str, digits: dict[int, str]) -> str:
    """``code`` with its six digits-only characters (3rd to 8th, GB 32100-2015) in other digits:
    the form a Unicode \\d accepts."""
    return code[:2] + code[2:8].translate(digits) + code[8:]

CLASSES: tuple[Hostile, ...] = (
    Hostile("curve P-384", _sealed_by(lambda: _curve_seal(ec.SECP384R1())), "CERT_CURVE_UNSUPPORTED"),
    Hostile("curve secp256k1", _sealed_by(lambda: _curve_seal(ec.SECP256K1())), "CERT_CURVE_UNSUPPORTED"),
    Hostile("curve brainpoolP256r1", _sealed_by(lambda: _curve_seal(ec.BrainpoolP256R1())), "CERT_CURVE_UNSUPPORTED"),
    # SM2 is a suite of the profile now (tongsuopy loads it): a P-256 point is not on its curve
    Hostile("curve SM2 (unknown to cryptography)", _sealed_by(_sm2_seal), "CERT_KEY_INVALID"),
    Hostile("EC point off the curve", _sealed_by(_off_curve_seal), "CERT_KEY_INVALID"),
    Hostile("malformed KeyUsage", _sealed_by(lambda: _malformed_extension(ExtensionOID.KEY_USAGE)), "CERT_EXTENSION_MALFORMED"),
    Hostile(
        "malformed BasicConstraints",
        _sealed_by(lambda: _malformed_extension(ExtensionOID.BASIC_CONSTRAINTS)),
        "CERT_EXTENSION_MALFORMED",
    ),
    Hostile(
        "malformed ExtendedKeyUsage",
        _sealed_by(lambda: _malformed_extension(ExtensionOID.EXTENDED_KEY_USAGE)),
        "CERT_EXTENSION_MALFORMED",
    ),
    Hostile("two KeyUsage extensions", _duplicate_extension_seal, "CERT_EXTENSION_MALFORMED"),
    Hostile("subject name not valid UTF-8", _bad_subject, "CERT_NAME_MALFORMED"),
    Hostile("certificate of X.509 version 38", _unknown_version, "CERT_MALFORMED"),
    Hostile("IssuedAt in year 9999", _notice_with("/ld:Document/ld:Header/ld:IssuedAt", YEAR_9999), "DOC_TIME_OUT_OF_RANGE"),
    Hostile(
        "Deadline in year 9999",
        _notice_with("/ld:Document/ld:Header/ld:Deadline", YEAR_9999, "QueryNotice-MarketRegulation"),
        "DOC_TIME_OUT_OF_RANGE",
    ),
    Hostile(
        "freeze period ending in 9999",
        _notice_with("(//ld:BankFreeze/ld:Period/ld:End)[1]", "9999-12-31"),
        "DOC_TIME_OUT_OF_RANGE",
    ),
    Hostile("IssuedAt in year 1", _notice_with("/ld:Document/ld:Header/ld:IssuedAt", YEAR_1), "DOC_TIME_OUT_OF_RANGE"),
    Hostile("amount NaN", _notice_with("//ld:BankFreeze/ld:Amount", "NaN"), "RULE_AMOUNT_NOT_FINITE"),
    Hostile("amount Infinity", _notice_with("//ld:BankFreeze/ld:Amount", "Infinity"), "RULE_AMOUNT_NOT_FINITE"),
    Hostile(
        "full-width digits in the sender",
        lambda: sealed_whatever_the_sender(
            set_text(unsigned(), "/ld:Document/ld:Header/ld:Sender", _foreign(COURT, FULLWIDTH))
        ),
        "RULE_UNIT_CODE_DIGITS",
    ),
    Hostile(
        "full-width digits in the recipient",
        _notice_with("/ld:Document/ld:Header/ld:Recipient", _foreign(BANK, FULLWIDTH)),
        "RULE_UNIT_CODE_DIGITS",
    ),
    Hostile(
        "Arabic-Indic digits in a unit code",
        _notice_with("//ld:Organisation/ld:UnitCode", _foreign("91445302MA4UH8QK2A", ARABIC_INDIC)),
        "RULE_UNIT_CODE_DIGITS",
    ),
    Hostile("GBK declared after 300 spaces", _declared("GBK"), "XML_NOT_UTF8"),
    Hostile("UTF-7 declared after 300 spaces", _declared("UTF-7"), "XML_NOT_UTF8"),
    Hostile("ISO-8859-1 declared after 300 spaces", _declared("ISO-8859-1"), "XML_NOT_UTF8"),
)
