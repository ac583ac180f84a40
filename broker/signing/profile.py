"""The liandong XML signature profile (docs/signature-profile.md), as constants.

Enveloped XML-DSig over the whole ``Document`` root; exclusive C14N for SignedInfo and the one
reference; SHA-256 digests with RSA (2048 bits and up) or ECDSA P-256, or SM3 with SM2 (the
national suite, :mod:`broker.signing.suites`; every suite is sealed by :mod:`broker.signing.enveloped`
and checked by :mod:`broker.signing.enveloped_verify`; the constants below are what signxml is given
for the other two where the tests cross-check with it). Anything else is refused: SHA-1, MD5, HMAC, inclusive C14N (what Java writes by default with a
default-namespace ``Signature``, which signxml cannot verify), several references, several
signatures, a signature anywhere but as a child of the root.
"""

from __future__ import annotations

from cryptography import x509
from signxml.algorithms import CanonicalizationMethod, DigestAlgorithm, SignatureMethod

from broker.documents.xmlmodel import DS_NS

EXC_C14N = CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0
ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
ALLOWED_SIGNATURE_METHODS = frozenset({SignatureMethod.RSA_SHA256, SignatureMethod.ECDSA_SHA256})
ALLOWED_DIGESTS = frozenset({DigestAlgorithm.SHA256})
REQUIRED_TRANSFORMS = (ENVELOPED, EXC_C14N.value)
MIN_RSA_BITS = 2048
ALLOWED_CURVES = frozenset({"secp256r1"})

DOCUMENT_SIGNING_EKU = x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36")
"""id-kp-documentSigning (RFC 9336); a signing certificate with an EKU must include it, so a
TLS client certificate (EKU clientAuth) can never seal a document."""

ORGANIZATION_IDENTIFIER = x509.NameOID.ORGANIZATION_IDENTIFIER
"""Subject attribute 2.5.4.97 that carries the unit's unified social credit code."""

NSMAP = {"ds": DS_NS}
