"""Issuing SM2 certificates and CRLs (SM2-with-SM3, GM/T 0015) with cryptography's builders.

``cryptography`` builds every field of a certificate but signs only with its own key types. So
the certificate is built as usual around a throw-away P-256 key, and its to-be-signed DER then
gets the SM2 public key and the SM2-with-SM3 algorithm identifier in place of the placeholder's,
and an SM2 signature over the result (:mod:`broker.signing.sm2`). The same for a CRL. The output
is checked by ``openssl verify`` in the tests (tests/test_sm2.py). The profiles (subject, key
usage, EKU, validity) are those of :mod:`broker.signing.issuing`: one way to issue, two suites.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from broker.signing import sm2
from broker.signing.certificate_der import _children, _tlv
from broker.signing.issuing import (
    DEFAULT_VALIDITY_DAYS,
    ID_KP_DOCUMENT_SIGNING,
    SEAL_KEY_USAGE,
    key_usage,
    unit_subject,
)

_SEQUENCE = 0x30
# AlgorithmIdentifier { sm2-with-SM3 } without parameters, as OpenSSL and GM/T 0015 write it
_SM2_SM3_ALGORITHM = b"\x30\x0a\x06\x08\x2a\x81\x1c\xcf\x55\x01\x83\x75"
_PLACEHOLDER = ec.generate_private_key(ec.SECP256R1())


def _length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def _tlv_bytes(tag: int, content: bytes) -> bytes:
    return bytes([tag]) + _length(len(content)) + content


def _elements(der: bytes) -> list[bytes]:
    """The raw TLVs inside the SEQUENCE ``der``."""
    tag, start, end = _tlv(der, 0)
    assert tag == _SEQUENCE
    out = []
    for _, s, e in _children(der, start, end):
        header_start = s - len(_length(e - s)) - 1
        out.append(der[header_start:e])
    return out


def _signed(tbs_fields: list[bytes], key: sm2.Sm2PrivateKey) -> bytes:
    """SEQUENCE { tbs, sm2-with-SM3, BIT STRING signature } (certificate and CRL alike)."""
    tbs = _tlv_bytes(_SEQUENCE, b"".join(tbs_fields))
    signature = sm2.sign_der(key, tbs)
    return _tlv_bytes(_SEQUENCE, tbs + _SM2_SM3_ALGORITHM + _tlv_bytes(0x03, b"\x00" + signature))


def key_identifier(key: sm2.Sm2PublicKey) -> x509.SubjectKeyIdentifier:
    """SHA-1 of the public key's bit string (RFC 5280 4.2.1.2, method 1)."""
    return x509.SubjectKeyIdentifier(hashlib.sha1(sm2.public_key_point(key)).digest())


def sign_certificate(
    builder: x509.CertificateBuilder, public_key: sm2.Sm2PublicKey, issuer_key: sm2.Sm2PrivateKey
) -> x509.Certificate:
    """``builder`` (everything but its public key, which must not be set) for ``public_key``,
    signed by ``issuer_key`` with SM2-with-SM3."""
    placeholder = builder.public_key(_PLACEHOLDER.public_key()).sign(_PLACEHOLDER, hashes.SHA256())
    fields = _elements(placeholder.tbs_certificate_bytes)
    offset = 1 if fields[0][0] == 0xA0 else 0  # version [0]
    fields[offset + 1] = _SM2_SM3_ALGORITHM  # signature
    fields[offset + 5] = sm2.public_key_der(public_key)  # subjectPublicKeyInfo
    return x509.load_der_x509_certificate(_signed(fields, issuer_key))


def sign_crl(builder: x509.CertificateRevocationListBuilder, issuer_key: sm2.Sm2PrivateKey) -> x509.CertificateRevocationList:
    placeholder = builder.sign(_PLACEHOLDER, hashes.SHA256())
    fields = _elements(placeholder.tbs_certlist_bytes)
    offset = 1 if fields[0][0] == 0x02 else 0  # version INTEGER
    fields[offset] = _SM2_SM3_ALGORITHM
    return x509.load_der_x509_crl(_signed(fields, issuer_key))


def ca_certificate(
    name: x509.Name,
    key: sm2.Sm2PrivateKey,
    issuer: tuple[x509.Certificate, sm2.Sm2PrivateKey] | None,
    path_length: int,
    validity: tuple[datetime, datetime],
) -> x509.Certificate:
    """An SM2 CA certificate (self-signed when ``issuer`` is None): the RSA CAs' profile."""
    builder = _base(name, key.public_key(), issuer[0] if issuer else None, validity)
    builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
    builder = builder.add_extension(key_usage(frozenset({"key_cert_sign", "crl_sign"})), critical=True)
    return sign_certificate(builder, key.public_key(), issuer[1] if issuer else key)


def seal_certificate(
    code: str,
    name: str,
    public_key: sm2.Sm2PublicKey,
    issuer: tuple[x509.Certificate, sm2.Sm2PrivateKey],
    *,
    validity: tuple[datetime, datetime] | None = None,
    days: int = DEFAULT_VALIDITY_DAYS,
    now: datetime | None = None,
) -> x509.Certificate:
    """A unit's SM2 seal certificate (电子印章), the profile of ``issuing.issue(..., "seal")``."""
    if validity is None:
        now = now or datetime.now(UTC)
        validity = (now - timedelta(minutes=5), min(now + timedelta(days=days), issuer[0].not_valid_after_utc))
    builder = _base(unit_subject(code, name, "seal"), public_key, issuer[0], validity)
    builder = (
        builder.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(key_usage(SEAL_KEY_USAGE), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ID_KP_DOCUMENT_SIGNING]), critical=False)
    )
    return sign_certificate(builder, public_key, issuer[1])


def crl(
    issuer: tuple[x509.Certificate, sm2.Sm2PrivateKey],
    revoked: list[tuple[x509.Certificate, datetime, x509.ReasonFlags]],
    last_update: datetime,
    next_update: datetime,
) -> x509.CertificateRevocationList:
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer[0].subject)
        .last_update(last_update)
        .next_update(next_update)
    )
    for cert, when, reason in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(cert.serial_number)
            .revocation_date(when)
            .add_extension(x509.CRLReason(reason), critical=False)
            .build()
        )
    return sign_crl(builder, issuer[1])


def _base(
    name: x509.Name, public_key: sm2.Sm2PublicKey, issuer: x509.Certificate | None, validity: tuple[datetime, datetime]
) -> x509.CertificateBuilder:
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer.subject if issuer is not None else name)
        .serial_number(x509.random_serial_number())
        .not_valid_before(validity[0])
        .not_valid_after(validity[1])
        .add_extension(key_identifier(public_key), critical=False)
    )
    if issuer is not None:
        ski = issuer.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        builder = builder.add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
    return builder


def make_request(key: sm2.Sm2PrivateKey, code: str, name: str) -> x509.CertificateSigningRequest:
    """A seal certificate request for an SM2 key (``issuing.make_request``'s subject), signed by
    the key with SM2-with-SM3. Only seals are SM2: the MQTT link stays TLS with P-256 or RSA."""
    placeholder = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(unit_subject(code, name, "seal"))
        .sign(_PLACEHOLDER, hashes.SHA256())
    )
    fields = _elements(placeholder.tbs_certrequest_bytes)
    fields[2] = sm2.public_key_der(key.public_key())  # version, subject, subjectPKInfo, attributes
    return x509.load_der_x509_csr(_signed(fields, key))


def is_sm2_request(csr: x509.CertificateSigningRequest) -> bool:
    return csr.signature_algorithm_oid == sm2.SM2_WITH_SM3_OID


def request_public_key(csr: x509.CertificateSigningRequest) -> sm2.Sm2PublicKey:
    """The SM2 key of a request (ValueError when it is not one)."""
    try:
        spki = _elements(csr.tbs_certrequest_bytes)[2]
        return sm2._public_key_of_spki(spki)
    except Exception:  # noqa: BLE001 - any fault of an untrusted request's key is this one error
        raise ValueError("the request's key is not a valid SM2 public key") from None


def request_signature_valid(csr: x509.CertificateSigningRequest) -> bool:
    """The request's SM2-with-SM3 self-signature holds."""
    try:
        sm2.verify_der(request_public_key(csr), csr.signature, csr.tbs_certrequest_bytes)
    except (sm2.InvalidSm2Signature, ValueError):
        return False
    return True
