"""Loading keys and certificates, once.

Parsing a PEM RSA key costs about 40 ms here, against under 1 ms for a signature with a loaded
key (docs/contributing.md), so every long-lived component loads its material at start and reuses it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Union

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from broker.errors import LiandongError
from broker.signing import sm2
from broker.signing.profile import ORGANIZATION_IDENTIFIER

PrivateKey = Union[rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey, sm2.Sm2PrivateKey]


def load_private_key(path: str | Path) -> PrivateKey:
    """An RSA or P-256 key (cryptography) or an SM2 key (tongsuopy, which cryptography refuses)."""
    data = Path(path).read_bytes()
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except UnsupportedAlgorithm:
        sm2_key = sm2.load_private_key_pem(data)
        if sm2_key is None:
            raise LiandongError.of("SIG_KEY_UNSUPPORTED", detail=f"an unsupported key in {path}") from None
        return sm2_key
    if not isinstance(key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)):
        raise LiandongError.of("SIG_KEY_UNSUPPORTED", detail=f"{type(key).__name__} in {path}")
    return key


def load_certificates(path: str | Path) -> list[x509.Certificate]:
    """Every certificate of a PEM file, in file order."""
    return x509.load_pem_x509_certificates(Path(path).read_bytes())


def load_certificate(path: str | Path) -> x509.Certificate:
    return load_certificates(path)[0]


def unit_code_of(cert: x509.Certificate) -> str | None:
    """The unit code a signing certificate names (subject organizationIdentifier), if any."""
    attrs = cert.subject.get_attributes_for_oid(ORGANIZATION_IDENTIFIER)
    return str(attrs[0].value) if attrs else None


def fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 over the DER encoding, lowercase hex (as registry pins are written)."""
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()
