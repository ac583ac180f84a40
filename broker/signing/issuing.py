"""Issuing a member unit's certificates from the network's CA: the one way to do it.

A unit makes its own P-256 key and a certificate request (CSR) naming it; the network CA signs
the request with a fixed profile. Two profiles:

- ``seal`` (电子印章): subject C=CN, O=<name>, organizationIdentifier=<unit code>,
  CN="<name> 电子印章"; keyUsage digitalSignature + nonRepudiation (critical), EKU
  id-kp-documentSigning; what :mod:`broker.signing.verifier` looks up the unit by;
- ``tls``: subject C=CN, O=<name>, CN=<unit code>; keyUsage digitalSignature (critical), EKU
  clientAuth; the broker takes the CN as the MQTT username (broker/mosquitto/config.py).

Whatever the request asks for beyond its subject and key is ignored: the profile decides the
extensions, the CA the validity. A request whose unit code is not a valid unified social credit
code, or not the one expected, is refused. ``certs-example/make_pki.py`` and the harness's
throw-away units (adapters/sdk/throwaway_unit.py) use the same profile constants.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from broker.documents.identifiers import uscc_is_valid
from broker.errors import LiandongError
from broker.signing import sm2

Usage = Literal["seal", "tls"]
CaKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

#: id-kp-documentSigning (RFC 9336): the EKU of a seal certificate.
ID_KP_DOCUMENT_SIGNING = x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36")
#: KeyUsage flags of a seal certificate (critical).
SEAL_KEY_USAGE = frozenset({"digital_signature", "content_commitment"})
#: KeyUsage flags of a P-256 TLS client certificate (no key encipherment: ECDHE).
TLS_KEY_USAGE = frozenset({"digital_signature"})
#: Default validity of an issued certificate, cut to the CA's own end.
DEFAULT_VALIDITY_DAYS = 3 * 365
SEAL_SUFFIX = " 电子印章"

_KEY_USAGE_FLAGS = (
    "digital_signature", "content_commitment", "key_encipherment", "data_encipherment",
    "key_agreement", "key_cert_sign", "crl_sign", "encipher_only", "decipher_only",
)  # fmt: skip


def key_usage(enabled: frozenset[str]) -> x509.KeyUsage:
    """A KeyUsage extension with exactly the ``enabled`` flags set."""
    unknown = set(enabled) - set(_KEY_USAGE_FLAGS)
    if unknown:
        raise ValueError(f"unknown key usage {sorted(unknown)}")
    return x509.KeyUsage(**{flag: flag in enabled for flag in _KEY_USAGE_FLAGS})


@dataclass(frozen=True)
class CertificateAuthority:
    """The network's issuing CA (its certificate and key)."""

    cert: x509.Certificate
    key: CaKey

    @classmethod
    def load(cls, certs: str | Path) -> CertificateAuthority:
        """``issuing-ca.pem`` and ``issuing-ca.key`` of a PKI folder laid out like certs-example/."""
        certs = Path(certs)
        pem, key_path = certs / "issuing-ca.pem", certs / "issuing-ca.key"
        missing = [str(p) for p in (pem, key_path) if not p.is_file()]
        if missing:
            raise LiandongError.of("PKI_CA_MISSING", files=", ".join(missing))
        cert = x509.load_pem_x509_certificate(pem.read_bytes())
        try:
            key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        except UnsupportedAlgorithm:  # an SM2 CA (certs-example/sm2): tongsuopy loads its key
            key = sm2.load_private_key(key_path)
            if key is not None:
                return cls(cert, key)  # type: ignore[arg-type]
            raise LiandongError.of("PKI_CA_MISSING", files=f"{key_path} (not an RSA, EC or SM2 key)") from None
        if not isinstance(key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)):
            raise LiandongError.of("PKI_CA_MISSING", files=f"{key_path} (not an RSA or EC key)")
        return cls(cert, key)


def unit_subject(code: str, name: str, usage: Usage) -> x509.Name:
    """The subject a unit's request carries for ``usage`` (see the module docstring)."""
    attrs = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, name),
    ]
    if usage == "seal":
        attrs += [
            x509.NameAttribute(NameOID.ORGANIZATION_IDENTIFIER, code),
            x509.NameAttribute(NameOID.COMMON_NAME, f"{name}{SEAL_SUFFIX}"),
        ]
    else:
        attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, code))
    return x509.Name(attrs)


def new_key() -> ec.EllipticCurvePrivateKey:
    """A P-256 key (the curve the signature profile allows besides RSA)."""
    return ec.generate_private_key(ec.SECP256R1())


def make_request(
    key: ec.EllipticCurvePrivateKey, code: str, name: str, usage: Usage
) -> x509.CertificateSigningRequest:
    """A CSR for ``key`` naming unit ``code``; refuses a code that is not a valid USCC."""
    _check_code(code)
    return (
        x509.CertificateSigningRequestBuilder()
        .subject_name(unit_subject(code, name, usage))
        .sign(key, hashes.SHA256())
    )


def load_request(data: bytes, source: str = "CSR") -> x509.CertificateSigningRequest:
    """A PEM CSR whose self-signature holds; else ``PKI_CSR_INVALID``."""
    from broker.signing import sm2_issuing  # (it builds on this module)

    try:
        csr = x509.load_pem_x509_csr(data)
        valid = sm2_issuing.request_signature_valid(csr) if sm2_issuing.is_sm2_request(csr) else csr.is_signature_valid
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise LiandongError.of(
            "PKI_CSR_INVALID", source=source, detail=str(exc) or type(exc).__name__
        ) from None
    if not valid:
        raise LiandongError.of("PKI_CSR_INVALID", source=source, detail="its signature does not verify")
    return csr


def request_code(csr: x509.CertificateSigningRequest, usage: Usage) -> str | None:
    """The unit code a request names: organizationIdentifier (seal) or CN (tls)."""
    oid = NameOID.ORGANIZATION_IDENTIFIER if usage == "seal" else NameOID.COMMON_NAME
    values = csr.subject.get_attributes_for_oid(oid)
    return str(values[0].value) if len(values) == 1 else None


def issue(
    csr: x509.CertificateSigningRequest,
    ca: CertificateAuthority,
    usage: Usage,
    *,
    expect_code: str | None = None,
    days: int = DEFAULT_VALIDITY_DAYS,
    now: datetime | None = None,
) -> x509.Certificate:
    """Sign ``csr`` with the ``usage`` profile. Refused (``LiandongError``) when the request's
    unit code is missing, not a valid USCC, or not ``expect_code``; or its key is not P-256/RSA."""
    code = request_code(csr, usage)
    if code is None:
        field = "organizationIdentifier" if usage == "seal" else "CN"
        raise LiandongError.of("PKI_CSR_NO_CODE", field=field)
    _check_code(code)
    if expect_code is not None and code != expect_code:
        raise LiandongError.of("PKI_CSR_CODE_MISMATCH", unit_code=code, expected=expect_code)
    from broker.signing import sm2_issuing  # (it builds on this module)

    if sm2_issuing.is_sm2_request(csr) or sm2.is_sm2_private_key(ca.key):
        # the SM2 suite: an SM2 CA issues SM2 seals; the MQTT link stays TLS with P-256 or RSA
        if not (sm2_issuing.is_sm2_request(csr) and sm2.is_sm2_private_key(ca.key) and usage == "seal"):
            raise LiandongError.of("PKI_CSR_KEY", detail="an SM2 CA issues seal certificates for SM2 requests only")
        try:
            public_sm2 = sm2_issuing.request_public_key(csr)
        except ValueError as exc:
            raise LiandongError.of("PKI_CSR_KEY", detail=str(exc)) from None
        return sm2_issuing.seal_certificate(code, _org(csr), public_sm2, (ca.cert, ca.key), days=days, now=now)  # type: ignore[arg-type]
    public = csr.public_key()
    if not (
        isinstance(public, rsa.RSAPublicKey)
        or (isinstance(public, ec.EllipticCurvePublicKey) and isinstance(public.curve, ec.SECP256R1))
    ):
        raise LiandongError.of("PKI_CSR_KEY", detail=type(public).__name__)
    now = now or datetime.now(UTC)
    # a few minutes back: clocks of the unit and the CA differ; never past the CA's own end
    not_before = now - timedelta(minutes=5)
    not_after = min(now + timedelta(days=days), ca.cert.not_valid_after_utc)
    eku = ID_KP_DOCUMENT_SIGNING if usage == "seal" else ExtendedKeyUsageOID.CLIENT_AUTH
    ski = ca.cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    builder = (
        x509.CertificateBuilder()
        .subject_name(unit_subject(code, _org(csr), usage))  # the profile's subject, not the request's extras
        .issuer_name(ca.cert.subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(key_usage(SEAL_KEY_USAGE if usage == "seal" else TLS_KEY_USAGE), critical=True)
        .add_extension(x509.ExtendedKeyUsage([eku]), critical=False)
    )
    return builder.sign(ca.key, hashes.SHA256())


def make_unit_certificate(
    ca: CertificateAuthority, code: str, name: str, usage: Usage
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """Key, request and certificate in one go (the harness's throw-away units, ``enrol``)."""
    key = new_key()
    return key, issue(make_request(key, code, name, usage), ca, usage, expect_code=code)


def pem_key(key: ec.EllipticCurvePrivateKey | CaKey) -> bytes:
    """Unencrypted PKCS#8 PEM (the file's mode protects it; see docs/deployment.md)."""
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def pem(obj: x509.Certificate | x509.CertificateSigningRequest) -> bytes:
    return obj.public_bytes(serialization.Encoding.PEM)


def _org(csr: x509.CertificateSigningRequest) -> str:
    values = csr.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    if len(values) != 1 or not str(values[0].value).strip():
        raise LiandongError.of("PKI_CSR_NO_CODE", field="O (the unit's name)")
    return str(values[0].value)


def _check_code(code: str) -> None:
    if not uscc_is_valid(code):
        raise LiandongError.of("PKI_CODE_INVALID", unit_code=code)


__all__ = [
    "DEFAULT_VALIDITY_DAYS",
    "ID_KP_DOCUMENT_SIGNING",
    "SEAL_KEY_USAGE",
    "TLS_KEY_USAGE",
    "CertificateAuthority",
    "issue",
    "key_usage",
    "load_request",
    "make_request",
    "make_unit_certificate",
    "new_key",
    "pem",
    "pem_key",
    "request_code",
    "unit_subject",
]  # fmt: skip
