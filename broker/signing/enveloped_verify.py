"""Checking an enveloped seal directly, for every suite: the counterpart of
:mod:`broker.signing.enveloped` (docs/signature-profile.md 5, step 3.14).

signxml's ``XMLVerifier.verify`` is general (any number of references, transforms, key sources,
signature locations) and pays for it on every document: it serializes and parses the document
and its signature again, looks every element up through a namespace map and walks the tree
several times; the RSA check itself was under a tenth of it (issue 16). The profile leaves one
shape of signature, and :func:`broker.signing.verifier.check_profile` pins it down before this
module runs, so what is left is two cryptographic checks, made here with libxml2's exclusive C14N
(through lxml, the one signxml uses), ``cryptography`` (RSA, ECDSA) and Tongsuo (SM2,
:mod:`broker.signing.sm2`), in signxml's order: the signature over the canonical SignedInfo first
(a changed SignedInfo, a wrong key, a malformed value: ``SIG_INVALID``), then the reference's
digest over the canonical document without its signature (changed content: ``SIG_TAMPERED``).
The tree handed back is parsed from the very bytes that were digested.

Every check ``XMLVerifier.verify`` made for the profile, and where it is made now:

=============================================================== ==========================================
signxml                                                         here and before
=============================================================== ==========================================
parse without DTD or entities                                   :mod:`broker.parsing.hardened` (and no PIs)
``ds:Signature`` at ``./`` (a child of the root)                ``check_profile``: one Signature, anywhere,
                                                                a child of the root (``SIG_MISSING``,
                                                                ``SIG_MULTIPLE``, ``SIG_LOCATION``)
the xmldsig schema (switched off before already)                ``check_profile``: the exact sequence of
                                                                every part, leaves without elements
CanonicalizationMethod known; SignatureMethod and               ``check_profile``: exc-c14n only, a suite
DigestMethod among those configured                            of :mod:`broker.signing.suites` with its own
                                                                digest (``SIG_C14N``, ``SIG_ALGORITHM``,
                                                                ``SIG_DIGEST_ALGORITHM``); the network's
                                                                suites (``SIG_SUITE_NOT_ALLOWED``)
one reference (``expect_references=1``); its URI resolved       ``check_profile`` (``SIG_REFERENCE_COUNT``,
                                                                ``SIG_REFERENCE_URI``: ``""`` or the root's
                                                                ``#Id``); here the root is the referenced
                                                                node, nothing is looked up by Id
the transforms named by the reference                           ``check_profile``: exactly enveloped-signature
                                                                then exc-c14n (``SIG_TRANSFORMS``); here both
                                                                are applied, with an ``InclusiveNamespaces``
                                                                prefix list where there is one
KeyInfo: the certificate given (``x509_cert``); a KeyValue      ``check_profile``: KeyInfo is one X509Data of
or DEREncodedKeyValue must match it                             X509Certificates only (``SIG_KEYINFO``); the
                                                                key is the validated leaf's, never the
                                                                document's
the certificate valid at the verification time                  the trust store, at the signing time
                                                                (``CERT_EXPIRED``, ``CERT_NOT_YET_VALID``;
                                                                :mod:`broker.signing.trust`)
the key's type fits the SignatureMethod                         :func:`public_key`, from
                                                                ``DocumentVerifier._signer`` (``SIG_INVALID``)
SignatureValue base64; ECDSA r||s of twice the key's bytes;     :func:`verify` (``SIG_INVALID``); base64 is
the signature over the canonical SignedInfo                     strict here (signxml skipped stray
                                                                characters in this unsigned value)
the reference read from the SignedInfo that was verified        :func:`verify`: the canonical SignedInfo is
                                                                parsed back and read
enveloped-signature: the Signature removed, its tail kept       :func:`verify` (a copy; the input is not
                                                                changed)
the digest over the exc-c14n of the rest                        :func:`verify` (``SIG_TAMPERED``)
the signed XML parsed from the digested bytes                   :func:`verify` (the hardened parser)
what libxml2's C14N refuses (a relative namespace URI)          :func:`verify` (``SIG_INVALID``)
=============================================================== ==========================================

signxml stays the tests' cross-check: :mod:`broker.signing.signxml_verify` is the verifier as it
ran before, and tests/test_enveloped_verify.py holds the two to the same answers on every signed
example and a corpus of mutations (xmllint and OpenSSL for SM2, which signxml does not know).
"""

from __future__ import annotations

import base64
import binascii
import copy
from collections.abc import Callable
from typing import Union

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from lxml import etree

from broker.errors import LiandongError, problem
from broker.parsing.hardened import parse_canonical
from broker.signing import sm2
from broker.signing.enveloped import DIGESTS, canonical
from broker.signing.profile import NSMAP
from broker.signing.suites import Suite

_DS = "{" + NSMAP["ds"] + "}"
_INCLUSIVE = "{http://www.w3.org/2001/10/xml-exc-c14n#}InclusiveNamespaces"

PublicKey = Union[rsa.RSAPublicKey, ec.EllipticCurvePublicKey, sm2.Sm2PublicKey]


def _fail(code: str, **params: object) -> LiandongError:
    from broker.signing.verifier import VerificationError  # the verifier's own error class

    return VerificationError([problem(code, **params)])


def public_key(suite: Suite, cert: x509.Certificate) -> PublicKey:
    """The public key of ``cert`` if it is of the kind ``suite`` signs with; ``SIG_INVALID`` if
    not (an RSA key under ECDSA-SHA256, an SM2 key under RSA-SHA256, ...: no signature could
    match), ``CERT_KEY_INVALID`` for an SM2 key that is no point of the curve. The trust store has
    checked the key's size and curve already."""
    if sm2.is_sm2_certificate_key(cert) != (suite.name == "sm2"):
        raise _fail("SIG_INVALID", detail=f"the signing certificate's key does not fit {suite.signature_method}")
    if suite.name == "sm2":
        try:
            return sm2.certificate_public_key(cert)
        except ValueError as exc:
            raise _fail("CERT_KEY_INVALID", detail=str(exc)[:200]) from None
    key = cert.public_key()
    if not isinstance(key, _KEY_TYPES[suite.name]):
        raise _fail("SIG_INVALID", detail=f"the signing certificate's key does not fit {suite.signature_method}")
    return key  # type: ignore[return-value]


_KEY_TYPES: dict[str, type] = {"rsa": rsa.RSAPublicKey, "ecdsa-p256": ec.EllipticCurvePublicKey}


def _rsa(key: rsa.RSAPublicKey, value: bytes, signed: bytes) -> None:
    key.verify(value, signed, padding.PKCS1v15(), hashes.SHA256())


def _ecdsa(key: ec.EllipticCurvePublicKey, value: bytes, signed: bytes) -> None:
    # XML-DSig's ECDSA value is r || s, each as long as the key (RFC 4050), not DER
    size = (key.curve.key_size + 7) // 8
    if len(value) != 2 * size:
        raise InvalidSignature(f"an ECDSA signature value is {2 * size} bytes (r || s), not {len(value)}")
    r, s = int.from_bytes(value[:size], "big"), int.from_bytes(value[size:], "big")
    key.verify(encode_dss_signature(r, s), signed, ec.ECDSA(hashes.SHA256()))


def _sm2(key: sm2.Sm2PublicKey, value: bytes, signed: bytes) -> None:
    try:
        sm2.verify(key, value, signed)
    except sm2.InvalidSm2Signature as exc:
        raise InvalidSignature(str(exc)) from None


_CHECKS: dict[str, Callable[[object, bytes, bytes], None]] = {"rsa": _rsa, "ecdsa-p256": _ecdsa, "sm2": _sm2}  # type: ignore[dict-item]
"""The signature check of each suite (:data:`broker.signing.suites.SUITES`), over r || s for the
two elliptic-curve suites."""


def _base64(text: str | None, what: str) -> bytes:
    try:
        return base64.b64decode("".join((text or "").split()), validate=True)
    except (binascii.Error, ValueError):
        raise _fail("SIG_INVALID", detail=f"the {what} is not base64") from None


def _prefixes(method: etree._Element | None) -> list[str] | None:
    """The ``InclusiveNamespaces PrefixList`` of a CanonicalizationMethod or Transform, if any
    (as signxml reads it: the first one that has the attribute)."""
    if method is None:
        return None
    for child in method.iterchildren(_INCLUSIVE):
        prefixes = child.get("PrefixList")
        if prefixes is not None:
            return prefixes.split()
    return None


def _without_signature(root: etree._Element) -> etree._Element:
    """A copy of ``root`` without its signature (the enveloped-signature transform): only the
    element goes, the text after it stays, as in XML-DSig's node-set (and signxml)."""
    document = copy.deepcopy(root)
    removed = document.find(_DS + "Signature")  # check_profile: the one Signature, a child of the root
    if removed.tail:
        previous = removed.getprevious()
        if previous is None:
            document.text = (document.text or "") + removed.tail
        else:
            previous.tail = (previous.tail or "") + removed.tail
    document.remove(removed)
    return document


def verify(root: etree._Element, key: PublicKey, suite: Suite) -> etree._Element:
    """Check the seal of a ``root`` that passed ``check_profile`` with ``key`` (from
    :func:`public_key`) under ``suite``; return the verified tree: the document without its
    signature, parsed from its canonical form (the bytes that were digested). ``root`` is not
    changed."""
    try:
        return _verify(root, key, suite)
    except etree.LxmlError as exc:
        # libxml2's C14N refuses what C14N 1.0 cannot canonicalize, such as a namespace declared
        # with a relative URI anywhere in the document (signxml's refusal was SIG_INVALID too)
        raise _fail("SIG_INVALID", detail=f"cannot be canonicalized: {str(exc)[:160]}") from None


def _verify(root: etree._Element, key: PublicKey, suite: Suite) -> etree._Element:
    signature = root.find(_DS + "Signature")
    info = signature.find(_DS + "SignedInfo")
    signed = canonical(info, _prefixes(info.find(_DS + "CanonicalizationMethod")))
    value = _base64(signature.findtext(_DS + "SignatureValue"), "SignatureValue")
    try:
        _CHECKS[suite.name](key, value, signed)
    except InvalidSignature as exc:
        raise _fail("SIG_INVALID", detail=str(exc)[:200] or "the signature does not verify") from None
    # From here on only what was signed is read: the SignedInfo parsed back from its checked bytes.
    reference = parse_canonical(signed).find(_DS + "Reference")
    transform = reference.find(f"{_DS}Transforms/{_DS}Transform[2]")
    expected = _base64(reference.findtext(_DS + "DigestValue"), "DigestValue")
    content = canonical(_without_signature(root), _prefixes(transform))
    if DIGESTS[suite.digest_method](content) != expected:
        raise _fail("SIG_TAMPERED")
    return parse_canonical(content)


__all__ = ["PublicKey", "public_key", "verify"]
