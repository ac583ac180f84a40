"""Reading a few fields of a certificate's DER that ``cryptography`` cannot report on its own.

``cryptography`` parses a certificate's extensions and public key lazily, and when one is
malformed it raises a ``ValueError`` that names neither the extension nor the curve. A member
unit's seal certificate is untrusted input (issue 11), and the sender deserves to know which part
of it is wrong, so this module walks the DER of the to-be-signed part itself: the extensions
(OID and raw value) and the curve the public key claims. It never raises: anything it cannot
read gives an empty answer.
"""

from __future__ import annotations

from typing import Iterator, NamedTuple

from cryptography import x509
from cryptography.x509.oid import ExtensionOID

_SEQUENCE, _OID, _BOOLEAN, _OCTET_STRING, _BIT_STRING = 0x30, 0x06, 0x01, 0x04, 0x03
_EXTENSIONS_TAG = 0xA3  # [3] EXPLICIT in TBSCertificate
_EC_PUBLIC_KEY = "1.2.840.10045.2.1"

CURVE_NAMES = {
    "1.2.840.10045.3.1.7": "P-256 (secp256r1)",
    "1.3.132.0.34": "P-384 (secp384r1)",
    "1.3.132.0.35": "P-521 (secp521r1)",
    "1.3.132.0.10": "secp256k1",
    "1.3.36.3.3.2.8.1.1.7": "brainpoolP256r1",
    "1.3.36.3.3.2.8.1.1.11": "brainpoolP384r1",
    "1.3.36.3.3.2.8.1.1.13": "brainpoolP512r1",
    "1.2.156.10197.1.301": "SM2 (sm2p256v1)",
}

EXTENSION_NAMES = {
    ExtensionOID.KEY_USAGE.dotted_string: "KeyUsage",
    ExtensionOID.BASIC_CONSTRAINTS.dotted_string: "BasicConstraints",
    ExtensionOID.EXTENDED_KEY_USAGE.dotted_string: "ExtendedKeyUsage",
    ExtensionOID.SUBJECT_KEY_IDENTIFIER.dotted_string: "SubjectKeyIdentifier",
    ExtensionOID.AUTHORITY_KEY_IDENTIFIER.dotted_string: "AuthorityKeyIdentifier",
    ExtensionOID.SUBJECT_ALTERNATIVE_NAME.dotted_string: "SubjectAlternativeName",
    ExtensionOID.CERTIFICATE_POLICIES.dotted_string: "CertificatePolicies",
    ExtensionOID.CRL_DISTRIBUTION_POINTS.dotted_string: "CRLDistributionPoints",
    ExtensionOID.AUTHORITY_INFORMATION_ACCESS.dotted_string: "AuthorityInformationAccess",
}

# The outer tag each extension's value must start with (RFC 5280, 4.2.1); enough to tell which
# extension cryptography choked on.
_VALUE_TAGS = {
    ExtensionOID.KEY_USAGE.dotted_string: _BIT_STRING,
    ExtensionOID.SUBJECT_KEY_IDENTIFIER.dotted_string: _OCTET_STRING,
}


class Extension(NamedTuple):
    oid: str
    critical: bool
    value: bytes


class _Malformed(Exception):
    pass


def _tlv(data: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, start of the content, end of the content) of the element at ``pos``."""
    if pos + 2 > len(data):
        raise _Malformed
    tag, first = data[pos], data[pos + 1]
    pos += 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if not 0 < count <= 4 or pos + count > len(data):
            raise _Malformed
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    if pos + length > len(data):
        raise _Malformed
    return tag, pos, pos + length


def _children(data: bytes, start: int, end: int) -> Iterator[tuple[int, int, int]]:
    pos = start
    while pos < end:
        tag, s, e = _tlv(data, pos)
        if e > end:
            raise _Malformed
        yield tag, s, e
        pos = e


def _oid(content: bytes) -> str:
    if not content:
        raise _Malformed
    parts, value = [], 0
    for byte in content:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            parts.append(value)
            value = 0
    first = min(parts[0] // 40, 2)
    return ".".join(str(p) for p in (first, parts[0] - 40 * first, *parts[1:]))


def _tbs_fields(cert: x509.Certificate) -> list[tuple[int, int, int]]:
    tbs = cert.tbs_certificate_bytes
    tag, start, end = _tlv(tbs, 0)
    if tag != _SEQUENCE:
        raise _Malformed
    return list(_children(tbs, start, end))


def extensions(cert: x509.Certificate) -> list[Extension]:
    """The certificate's extensions as written (empty when the DER cannot be read)."""
    try:
        tbs = cert.tbs_certificate_bytes
        wrapper = [f for f in _tbs_fields(cert) if f[0] == _EXTENSIONS_TAG]
        if not wrapper:
            return []
        tag, start, end = _tlv(tbs, wrapper[0][1])
        found = []
        for _, s, e in _children(tbs, start, end):
            parts = list(_children(tbs, s, e))
            oid = _oid(tbs[parts[0][1] : parts[0][2]]) if parts and parts[0][0] == _OID else ""
            critical = len(parts) == 3 and parts[1][0] == _BOOLEAN and tbs[parts[1][1] : parts[1][2]] != b"\x00"
            value = tbs[parts[-1][1] : parts[-1][2]] if parts and parts[-1][0] == _OCTET_STRING else b""
            found.append(Extension(oid, critical, value))
        return found
    except (_Malformed, IndexError, ValueError):
        return []


def extension_name(oid: str) -> str:
    return EXTENSION_NAMES.get(oid, oid)


def malformed_extension(cert: x509.Certificate) -> str:
    """The name of the first extension whose value is not even of the right ASN.1 type, else
    ``"unknown"`` (cryptography found a fault deeper inside one of them)."""
    for ext in extensions(cert):
        expected = _VALUE_TAGS.get(ext.oid, _SEQUENCE if ext.oid in EXTENSION_NAMES else None)
        if expected is None:
            continue
        try:
            tag, _, end = _tlv(ext.value, 0)
        except _Malformed:
            return extension_name(ext.oid)
        if tag != expected or end != len(ext.value):
            return extension_name(ext.oid)
    return "unknown"


def public_key_curve(cert: x509.Certificate) -> str | None:
    """The named curve of an EC public key (a readable name, or the OID), "explicit parameters"
    for a curve given by its parameters, None for a key that is not EC or cannot be read."""
    try:
        tbs = cert.tbs_certificate_bytes
        fields = _tbs_fields(cert)
        # version [0] is optional; the SubjectPublicKeyInfo is the 6th field after it
        spki = fields[6] if fields[0][0] == 0xA0 else fields[5]
        algorithm = next(_children(tbs, spki[1], spki[2]))
        parts = list(_children(tbs, algorithm[1], algorithm[2]))
        if _oid(tbs[parts[0][1] : parts[0][2]]) != _EC_PUBLIC_KEY or len(parts) < 2:
            return None
        if parts[1][0] != _OID:
            return "explicit parameters"
        oid = _oid(tbs[parts[1][1] : parts[1][2]])
        return CURVE_NAMES.get(oid, oid)
    except (_Malformed, IndexError, ValueError, StopIteration):
        return None


def subject_public_key_info(cert: x509.Certificate) -> bytes | None:
    """The DER of the certificate's SubjectPublicKeyInfo, for a library other than
    ``cryptography`` to load (an SM2 key, which ``cryptography`` refuses); None when unreadable."""
    try:
        tbs = cert.tbs_certificate_bytes
        fields = _tbs_fields(cert)
        _, start, end = fields[6] if fields[0][0] == 0xA0 else fields[5]
        # back from the content to the element's own tag: re-read the header just before it
        header = 2 if end - start < 0x80 else 2 + (end - start).bit_length() // 8 + (1 if (end - start).bit_length() % 8 else 0)
        spki = tbs[start - header : end]
        if _tlv(spki, 0) != (_SEQUENCE, header, len(spki)):
            return None
        return spki
    except (_Malformed, IndexError, ValueError):
        return None
