"""The algorithm suites of the signature profile, and the one object that holds its settings.

Electronic documents carry the force of paper with their electronic seal (003 SPC–MPS 四(三));
in Chinese courts and government that seal is SM2 with SM3 (GB/T 32918, GB/T 32905, GB/T
38540-2020), hence the third suite (issue 15, docs/signature-profile.md 4.7).

A suite is a signature method with the digest that goes with it (docs/signature-profile.md, 4.2):

========== ============================================================ ============================
suite      SignatureMethod                                              DigestMethod
========== ============================================================ ============================
rsa        http://www.w3.org/2001/04/xmldsig-more#rsa-sha256            xmlenc#sha256
ecdsa-p256 http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256          xmlenc#sha256
sm2        http://www.w3.org/2000/09/xmldsig#sm2-sm3                    http://www.w3.org/2000/09/xmldsig#sm3
========== ============================================================ ============================

No W3C or IETF URI exists for SM2/SM3 in XML-DSig. The SignatureMethod is the one China E-Port
(中国电子口岸, the customs single window) signs with, and so the one Chinese XML-DSig code in the
wild writes (its Java and Kotlin clients: ``http://www.w3.org/2000/09/xmldsig#sm2-sm3``); E-Port
pairs it with SHA-1 digests, which the profile refuses, and one client names an E-Port-specific
``http://www.chinaport.gov.cn/2022/04/xmldsig#sm3``. The profile takes the SM3 digest URI in the
same ``xmldsig#`` family as the signature method (``#sm3``), so one naming scheme covers both;
the choice is written down in the profile, and a verifier compares exact strings.

A network chooses which suites it accepts (registry ``signature_suites``; an SM2-only network
lists ``[sm2]``): :class:`SignatureSettings` is the one object that carries that choice with the
fixed security settings, as signxml's ``SignatureConfiguration`` does for its verifier.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Literal

from signxml.algorithms import DigestAlgorithm, SignatureMethod

from broker.signing.profile import ALLOWED_CURVES, EXC_C14N, MIN_RSA_BITS, REQUIRED_TRANSFORMS
from broker.signing.sm2 import SIGNER_ID

SuiteName = Literal["rsa", "ecdsa-p256", "sm2"]

SM2_SM3 = "http://www.w3.org/2000/09/xmldsig#sm2-sm3"
SM3 = "http://www.w3.org/2000/09/xmldsig#sm3"


@dataclass(frozen=True)
class Suite:
    name: SuiteName
    signature_method: str
    digest_method: str
    native: bool
    """True when signxml knows it (the tests check such seals against signxml too); every suite is
    sealed by :mod:`broker.signing.enveloped` and checked by :mod:`broker.signing.enveloped_verify`."""


SUITES: dict[str, Suite] = {
    s.name: s
    for s in (
        Suite("rsa", SignatureMethod.RSA_SHA256.value, DigestAlgorithm.SHA256.value, True),
        Suite("ecdsa-p256", SignatureMethod.ECDSA_SHA256.value, DigestAlgorithm.SHA256.value, True),
        Suite("sm2", SM2_SM3, SM3, False),
    )
}
BY_SIGNATURE_METHOD: dict[str, Suite] = {s.signature_method: s for s in SUITES.values()}
ALL_SUITES: tuple[SuiteName, ...] = ("rsa", "ecdsa-p256", "sm2")


@dataclass(frozen=True)
class SignatureSettings:
    """What a verifier accepts: the suites of the network, with the profile's fixed defaults
    (exclusive C14N, enveloped-signature then exc-c14n, RSA of at least 2048 bits, the GM/T 0009
    signer ID). Only ``suites`` is a network's to choose; the rest is the profile."""

    suites: frozenset[str] = field(default_factory=lambda: frozenset(ALL_SUITES))
    # The fixed part, read from where the code that applies it keeps it (not settable here):
    c14n: ClassVar[str] = EXC_C14N.value
    transforms: ClassVar[tuple[str, ...]] = REQUIRED_TRANSFORMS
    min_rsa_bits: ClassVar[int] = MIN_RSA_BITS
    curves: ClassVar[frozenset[str]] = ALLOWED_CURVES | {"SM2"}
    sm2_signer_id: ClassVar[bytes] = SIGNER_ID

    def allows(self, suite: Suite) -> bool:
        return suite.name in self.suites


DEFAULT_SETTINGS = SignatureSettings()
