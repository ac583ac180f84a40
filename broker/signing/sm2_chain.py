"""Path validation for SM2 certificate chains (SM2-with-SM3 signatures, GM/T 0015).

``cryptography``'s path validator (used for RSA and ECDSA chains in :mod:`broker.signing.trust`)
cannot check an SM2 signature, so an SM2 chain is built here under the rules that validator
applies to CAs with ``webpki_defaults_ca`` (RFC 5280 6.1, as strict): each certificate's issuer
name is its issuer's subject and its SM2-with-SM3 signature verifies under that issuer's key;
every issuer (intermediates and the anchor) is a CA (basicConstraints cA, critical), may sign
certificates (keyUsage keyCertSign when keyUsage is present) and respects its pathLenConstraint;
no certificate carries a critical extension we do not understand; every one is valid at the
signing time; the chain ends at a configured anchor and is at most eight certificates long.
The leaf's own checks (key usage, EKU, names, self-signed) stay in trust.py, shared by all suites.
Every failure is ``CERT_UNTRUSTED``, like the RSA path's.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from cryptography import x509
from cryptography.x509.oid import ExtensionOID

from broker.errors import LiandongError, problem
from broker.signing import sm2

MAX_CHAIN = 8
_UNDERSTOOD = frozenset(
    {
        ExtensionOID.BASIC_CONSTRAINTS,
        ExtensionOID.KEY_USAGE,
        ExtensionOID.EXTENDED_KEY_USAGE,
        ExtensionOID.SUBJECT_KEY_IDENTIFIER,
        ExtensionOID.AUTHORITY_KEY_IDENTIFIER,
        ExtensionOID.SUBJECT_ALTERNATIVE_NAME,
        ExtensionOID.CERTIFICATE_POLICIES,
        ExtensionOID.CRL_DISTRIBUTION_POINTS,
        ExtensionOID.AUTHORITY_INFORMATION_ACCESS,
    }
)


def _untrusted(detail: str) -> LiandongError:
    return LiandongError([problem("CERT_UNTRUSTED", detail=detail)])


def _signed_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    if cert.issuer != issuer.subject:
        return False
    try:
        sm2.verify_certificate_signature(cert, issuer)
    except (sm2.InvalidSm2Signature, ValueError):
        return False
    return True


def _check_ca(ca: x509.Certificate, below: int, at: datetime) -> None:
    """``ca`` may issue a chain with ``below`` CA certificates under it (self-issued aside)."""
    try:
        extensions = ca.extensions
    except (ValueError, x509.DuplicateExtension):
        raise _untrusted("a CA certificate of the chain has a malformed extension") from None
    try:
        bc = extensions.get_extension_for_class(x509.BasicConstraints)
    except x509.ExtensionNotFound:
        raise _untrusted("an issuer is not a CA (no basicConstraints)") from None
    if not bc.value.ca or not bc.critical:
        raise _untrusted("an issuer is not a CA (basicConstraints cA false or not critical)")
    if bc.value.path_length is not None and below > bc.value.path_length:
        raise _untrusted("a CA's pathLenConstraint is exceeded")
    try:
        if not extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign:
            raise _untrusted("an issuer's keyUsage lacks keyCertSign")
    except x509.ExtensionNotFound:
        pass
    _check_critical(ca)
    if not ca.not_valid_before_utc <= at <= ca.not_valid_after_utc:
        raise _untrusted("a CA certificate of the chain is not valid at the signing time")


def _check_critical(cert: x509.Certificate) -> None:
    try:
        extensions = cert.extensions
    except (ValueError, x509.DuplicateExtension):
        raise _untrusted("a certificate of the chain has a malformed extension") from None
    for ext in extensions:
        if ext.critical and ext.oid not in _UNDERSTOOD:
            raise _untrusted(f"unknown critical extension {ext.oid.dotted_string}")


def build(
    leaf: x509.Certificate,
    intermediates: Sequence[x509.Certificate],
    anchors: Sequence[x509.Certificate],
    at: datetime,
) -> tuple[x509.Certificate, ...]:
    """The chain from ``leaf`` to one of ``anchors`` (anchor last); raise ``CERT_UNTRUSTED``."""
    _check_critical(leaf)
    chain = [leaf]
    pool = list(intermediates)
    cas_below = 0  # CA certificates between the current certificate and the leaf
    while len(chain) < MAX_CHAIN:
        current = chain[-1]
        anchor = next((a for a in anchors if _signed_by(current, a)), None)
        if anchor is not None:
            _check_ca(anchor, cas_below, at)
            return (*chain, anchor)
        issuer = next((c for c in pool if c not in chain and _signed_by(current, c)), None)
        if issuer is None:
            raise _untrusted("no trusted SM2 issuer signed the certificate")
        _check_ca(issuer, cas_below, at)
        chain.append(issuer)
        if issuer.issuer != issuer.subject:
            cas_below += 1
    raise _untrusted(f"the chain is longer than {MAX_CHAIN} certificates")
