"""The enveloped signature of the liandong profile written directly (docs/signature-profile.md).

What :class:`signxml.XMLSigner` writes for this profile, with the same bytes, in a third of its
time: signxml is general (any reference, transform and algorithm), and for each signature it
serializes and parses the document again, builds every element through a namespace lookup and
walks the tree several times; the hub seals a service receipt for every document it accepts,
and that took about a third of its workers' time (docs/performance.md, "Hub CPU per document").

Only the layout is written here. Canonicalization is libxml2's exclusive C14N (lxml), hashing and
signing are ``cryptography``'s (RSA, ECDSA) or Tongsuo's (SM2 with SM3, :mod:`broker.signing.sm2`,
which signxml does not know). Its counterpart, :mod:`broker.signing.enveloped_verify`, checks
such a seal the same way, after the profile checks of :mod:`broker.signing.verifier`. ``tests/test_signing_enveloped.py`` checks that an RSA seal is
byte for byte the one signxml writes (RSA PKCS#1 v1.5 is deterministic), and that an ECDSA seal
differs only in its (randomized) signature value and verifies.
"""

from __future__ import annotations

import base64
import copy
import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from lxml import etree
from signxml.algorithms import SignatureMethod

from broker.signing import sm2
from broker.signing.keys import PrivateKey
from broker.signing.profile import ENVELOPED, EXC_C14N, NSMAP
from broker.signing.suites import SM2_SM3, SM3

_DS = "{" + NSMAP["ds"] + "}"
_SHA256_URI = "http://www.w3.org/2001/04/xmlenc#sha256"


def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


DIGESTS: dict[str, Callable[[bytes], bytes]] = {_SHA256_URI: _sha256, SM3: sm2.sm3}
"""The digest function of each DigestMethod URI of the profile (docs/signature-profile.md 4.2)."""


def canonical(element: etree._Element, inclusive_prefixes: list[str] | None = None) -> bytes:
    """Exclusive C14N 1.0 without comments of ``element`` where it stands (libxml2's, the one
    signxml uses): only the namespaces its subtree visibly uses, and those of
    ``inclusive_prefixes`` (an ``InclusiveNamespaces PrefixList``), are written, so a subtree's
    form takes nothing from its context."""
    return etree.tostring(
        element, method="c14n", exclusive=True, with_comments=False, inclusive_ns_prefixes=inclusive_prefixes
    )


@dataclass(frozen=True)
class Algorithms:
    """What one key writes: the SignatureMethod and DigestMethod URIs, and the two functions."""

    signature_uri: str
    digest_uri: str
    digest: Callable[[bytes], bytes]
    sign: Callable[[bytes], bytes]


def algorithms_for(key: PrivateKey) -> Algorithms:
    """The profile's algorithms for ``key`` (docs/signature-profile.md 4.2, 4.7)."""
    if sm2.is_sm2_private_key(key):
        return Algorithms(SM2_SM3, SM3, DIGESTS[SM3], lambda data: sm2.sign(key, data))  # type: ignore[arg-type]
    sha256 = DIGESTS[_SHA256_URI]
    if isinstance(key, rsa.RSAPrivateKey):
        return Algorithms(
            SignatureMethod.RSA_SHA256.value, _SHA256_URI, sha256,
            lambda data: key.sign(data, padding.PKCS1v15(), hashes.SHA256()),
        )
    if isinstance(key, ec.EllipticCurvePrivateKey):
        size = (key.curve.key_size + 7) // 8

        def ecdsa(data: bytes) -> bytes:
            # XML-DSig wants r and s as two fixed-size big-endian integers, not DER (RFC 4050)
            r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
            return r.to_bytes(size, "big") + s.to_bytes(size, "big")

        return Algorithms(SignatureMethod.ECDSA_SHA256.value, _SHA256_URI, sha256, ecdsa)
    raise ValueError(f"a {type(key).__name__} cannot seal: the profile has RSA, ECDSA and SM2 keys")


def _skeleton(algorithms: Algorithms, key_info: etree._Element) -> etree._Element:
    """``ds:Signature`` as signxml lays it out for the profile, with empty digest and value."""
    sig = etree.Element(_DS + "Signature", nsmap=NSMAP)
    info = etree.SubElement(sig, _DS + "SignedInfo")
    etree.SubElement(info, _DS + "CanonicalizationMethod", Algorithm=EXC_C14N.value)
    etree.SubElement(info, _DS + "SignatureMethod", Algorithm=algorithms.signature_uri)
    ref = etree.SubElement(info, _DS + "Reference", URI="")
    transforms = etree.SubElement(ref, _DS + "Transforms")
    etree.SubElement(transforms, _DS + "Transform", Algorithm=ENVELOPED)
    etree.SubElement(transforms, _DS + "Transform", Algorithm=EXC_C14N.value)
    etree.SubElement(ref, _DS + "DigestMethod", Algorithm=algorithms.digest_uri)
    etree.SubElement(ref, _DS + "DigestValue")
    etree.SubElement(sig, _DS + "SignatureValue")
    sig.append(copy.deepcopy(key_info))
    return sig


class EnvelopedSealer:
    """Seals ``Document`` roots with one key: an enveloped signature over the whole root,
    referenced by its ``Id`` (``URI="#<Id>"``, or ``URI=""`` for a root without one)."""

    def __init__(self, key: PrivateKey, key_info: etree._Element):
        self.algorithms = algorithms_for(key)
        self._skeleton = _skeleton(self.algorithms, key_info)

    def seal(self, root: etree._Element) -> etree._Element:
        """Append the signature to ``root`` (unsigned; changed in place) and return it."""
        # The enveloped-signature transform removes the Signature: the digest is over the root
        # before it is appended. (A root with comments: exclusive C14N without comments, as the
        # reference's URI asks.)
        digest = self.algorithms.digest(canonical(root))
        sig = copy.deepcopy(self._skeleton)
        info = sig[0]
        ref = info[2]
        root_id = root.get("Id")
        ref.set("URI", f"#{root_id}" if root_id else "")
        ref[2].text = base64.b64encode(digest).decode("ascii")
        root.append(sig)
        # SignedInfo canonicalized where it stands (exclusive C14N takes no context from outside)
        signed = canonical(info)
        sig[1].text = base64.b64encode(self.algorithms.sign(signed)).decode("ascii")
        return root


__all__ = ["DIGESTS", "Algorithms", "EnvelopedSealer", "algorithms_for", "canonical"]
