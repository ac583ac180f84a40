"""Where documents are sealed and seals are checked (docs/signature-profile.md)."""

from broker.signing.keys import fingerprint, load_certificate, load_private_key, unit_code_of
from broker.signing.signer import DocumentSigner
from broker.signing.trust import TrustStore, ValidatedChain
from broker.signing.verifier import DocumentVerifier, SignerInfo, VerificationError, VerifiedDocument

__all__ = [
    "DocumentSigner",
    "DocumentVerifier",
    "SignerInfo",
    "TrustStore",
    "ValidatedChain",
    "VerificationError",
    "VerifiedDocument",
    "fingerprint",
    "load_certificate",
    "load_private_key",
    "unit_code_of",
]
