"""Verifying a sealed document end to end (docs/signature-profile.md, "Verification").

In order:

1. profile checks on the parsed input: exactly one ``ds:Signature``, a child of the root, with
   exactly one reference whose URI is empty or the root's ``Id``; no duplicate ``Id`` values;
   exclusive C14N, RSA-SHA256 or ECDSA-SHA256 with SHA-256 or SM2-SM3 with SM3, a suite the
   network accepts (:mod:`broker.signing.suites`); transforms enveloped-signature then exc-c14n;
   KeyInfo holding only the X.509 chain (signer first);
2. the chain: built to the trust anchors, valid at the signing time (the document's
   ``IssuedAt``), key usage for signing, not revoked (:mod:`broker.signing.trust`);
3. the signature itself, for every suite by :mod:`broker.signing.enveloped_verify` with the key
   of the validated leaf certificate, which must be of the suite's kind (its docstring lists
   which of signxml's checks is made where; signxml is the tests' cross-check,
   :mod:`broker.signing.signxml_verify`);
4. identity: the certificate's unit code is the ``Header/Sender`` of the *verified* tree, and is
   one of the unit's registered certificates when the registry pins them.

Only :attr:`VerifiedDocument.root`, the tree parsed from the bytes that were digested, may be
read afterwards.
"""

from __future__ import annotations

import base64
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, Callable, Sequence

from cryptography import x509
from lxml import etree

from broker.documents.xmlmodel import NS
from broker.errors import LiandongError, Problem, problem
from broker.parsing.times import out_of_range, year_in_range
from broker.registry import Registry
from broker.signing import enveloped_verify
from broker.signing.enveloped_verify import PublicKey
from broker.signing.keys import fingerprint, unit_code_of
from broker.signing.profile import EXC_C14N, NSMAP, REQUIRED_TRANSFORMS
from broker.signing.suites import BY_SIGNATURE_METHOD, DEFAULT_SETTINGS, SignatureSettings, Suite
from broker.signing.trust import TrustStore, ValidatedChain

_NS = {"ld": NS, **NSMAP}
_ALL_SIGNATURES = etree.XPath("//ds:Signature", namespaces=_NS)
_ID_ATTRIBUTES = etree.XPath(
    "//@*[local-name()='Id' or local-name()='ID' or local-name()='id']", namespaces=_NS
)
_ISSUED_AT = etree.XPath("string(/ld:Document/ld:Header/ld:IssuedAt)", namespaces=_NS)
_SENDER = etree.XPath("string(/ld:Document/ld:Header/ld:Sender)", namespaces=_NS)
_DS = "{" + NSMAP["ds"] + "}"


@dataclass(frozen=True)
class SignerInfo:
    """Who sealed the document, as a security reviewer wants to see it."""

    unit_code: str
    subject: str
    issuer: str
    serial: str
    fingerprint: str
    not_before: datetime
    not_after: datetime
    algorithm: str
    chain: tuple[str, ...]


@dataclass(frozen=True)
class VerifiedDocument:
    root: etree._Element
    """The verified tree (signature removed). Read nothing else after verification."""
    signer: SignerInfo
    signed_at: datetime
    digest: str
    """The reference's DigestValue (base64 SHA-256 of the canonical signed content)."""


class VerificationError(LiandongError):
    """The document's seal is missing, malformed, untrusted or does not match."""


def _fail(code: str, **params: object) -> VerificationError:
    return VerificationError([problem(code, **params)])


@lru_cache(maxsize=4096)
def _certificate(b64: str) -> x509.Certificate:
    # Parsing DER is cheap but not free; the same few certificates arrive all day.
    return x509.load_der_x509_certificate(base64.b64decode("".join(b64.split()), validate=True))


def _single(parent: etree._Element, tag: str, what: str) -> etree._Element:
    found = parent.findall(_DS + tag)
    if len(found) != 1:
        raise _fail("SIG_INVALID", detail=f"{what}: expected one ds:{tag}, found {len(found)}")
    return found[0]


_EXC_C14N_NS = "{http://www.w3.org/2001/10/xml-exc-c14n#}InclusiveNamespaces"
# The exact element sequence of each part of a signature (XML-DSig allows more: Object, Manifest,
# several references, KeyValue, ...; the profile does not). Checking it here is stricter than the
# xmldsig schema, which is therefore not validated against (docs/performance.md).
_SEQUENCES = {
    name: tuple(_DS + c for c in children)
    for name, children in {
        "Signature": ("SignedInfo", "SignatureValue", "KeyInfo"),
        "SignedInfo": ("CanonicalizationMethod", "SignatureMethod", "Reference"),
        "Reference": ("Transforms", "DigestMethod", "DigestValue"),
        "Transforms": ("Transform", "Transform"),
    }.items()
}
# Elements that hold text (or, for a Transform, exc-c14n's InclusiveNamespaces) and nothing else.
# KeyInfo is outside what is signed, so anyone on the way could add to it; an X509Certificate
# holding elements is refused like any other deviation from the profile.
_LEAVES = tuple(
    _DS + n
    for n in (
        "CanonicalizationMethod", "SignatureMethod", "DigestMethod", "Transform", "DigestValue", "SignatureValue",
        "X509Certificate",
    )
)


def _check_sequence(elem: etree._Element, name: str) -> None:
    found = tuple(c.tag for c in elem if isinstance(c.tag, str))
    if found != _SEQUENCES[name]:
        names = ", ".join(etree.QName(t).localname for t in found) or "nothing"
        raise _fail("SIG_INVALID", detail=f"ds:{name} holds {names}")


def _check_leaves(signature: etree._Element) -> None:
    for elem in signature.iter(*_LEAVES):
        if len(elem) and any(isinstance(c.tag, str) and c.tag != _EXC_C14N_NS for c in elem):
            raise _fail("SIG_INVALID", detail=f"ds:{etree.QName(elem).localname} may not hold elements")


_ID_NAMES = ("Id", "ID", "id", "{http://www.w3.org/XML/1998/namespace}id")
_SIGNATURE_IDS = etree.XPath(".//@Id|.//@ID|.//@id|.//@xml:id")
"""Every Id-like attribute of the signature and its descendants (the names signxml resolves)."""


def _signature_ids(root: etree._Element, signature: etree._Element) -> list[str]:
    ids = [v for n in _ID_NAMES if (v := root.get(n)) is not None]
    ids.extend(str(v) for v in _SIGNATURE_IDS(signature))
    return ids


@dataclass(frozen=True)
class SignatureParts:
    """What :func:`check_profile` found in a signature that conforms to the profile."""

    certificates: tuple[str, ...]
    """The base64 text of KeyInfo's certificates, signer first."""
    algorithm: str
    """The SignatureMethod's algorithm URI."""
    digest_value: str
    """The reference's DigestValue (base64), stripped."""


def check_profile(root: etree._Element, *, schema_valid: bool = False) -> SignatureParts:
    """Structural checks of the signature against the profile (docs/signature-profile.md, 3).

    With ``schema_valid`` (the document passed the XSD, which allows no undeclared attribute
    outside ``ds:Signature``), only the root and the signature are searched for ``Id`` values."""
    signatures = _ALL_SIGNATURES(root)
    if not signatures:
        raise _fail("SIG_MISSING")
    if len(signatures) > 1:
        raise _fail("SIG_MULTIPLE")
    signature = signatures[0]
    if signature.getparent() is not root:
        raise _fail("SIG_LOCATION")

    ids = Counter(_signature_ids(root, signature) if schema_valid else (str(v) for v in _ID_ATTRIBUTES(root)))
    duplicated = [v for v, n in ids.items() if n > 1]
    if duplicated:
        raise _fail("SIG_DUPLICATE_ID", value=duplicated[0][:80])

    signed_info = _single(signature, "SignedInfo", "Signature")
    c14n = _single(signed_info, "CanonicalizationMethod", "SignedInfo").get("Algorithm")
    if c14n != EXC_C14N.value:
        raise _fail("SIG_C14N", algorithm=c14n)
    method = _single(signed_info, "SignatureMethod", "SignedInfo").get("Algorithm")
    suite = BY_SIGNATURE_METHOD.get(method or "")
    if suite is None:
        raise _fail("SIG_ALGORITHM", algorithm=method)
    references = signed_info.findall(_DS + "Reference")
    if len(references) != 1:
        raise _fail("SIG_REFERENCE_COUNT", count=len(references))
    reference = references[0]
    uri = reference.get("URI")
    if uri not in ("", "#" + (root.get("Id") or "\0")):
        raise _fail("SIG_REFERENCE_URI")
    digest = _single(reference, "DigestMethod", "Reference").get("Algorithm")
    if digest != suite.digest_method:  # each suite's own digest: no SHA-256 with SM2, no SM3 with RSA
        raise _fail("SIG_DIGEST_ALGORITHM", algorithm=digest)
    transforms = tuple(t.get("Algorithm") for t in reference.iterfind(_TRANSFORMS))
    if transforms != REQUIRED_TRANSFORMS:
        raise _fail("SIG_TRANSFORMS", detail=", ".join(str(t) for t in transforms) or "none")

    key_info = signature.find(_DS + "KeyInfo")
    if key_info is None:
        raise _fail("CERT_MISSING")
    children = [c for c in key_info if isinstance(c.tag, str)]
    if len(children) != 1 or children[0].tag != _DS + "X509Data":
        raise _fail("SIG_KEYINFO", detail="only one ds:X509Data is allowed in KeyInfo")
    x509_data = children[0]
    if any(c.tag != _DS + "X509Certificate" for c in x509_data if isinstance(c.tag, str)):
        raise _fail("SIG_KEYINFO", detail="X509Data may hold only X509Certificate elements")
    blobs = tuple(c.text or "" for c in x509_data.iterfind(_DS + "X509Certificate"))
    if not blobs:
        raise _fail("CERT_MISSING")
    _check_sequence(signature, "Signature")
    _check_sequence(signed_info, "SignedInfo")
    _check_sequence(reference, "Reference")
    _check_sequence(reference.find(_DS + "Transforms"), "Transforms")
    _check_leaves(signature)
    digest_value = reference.findtext(_DS + "DigestValue") or ""
    return SignatureParts(blobs, method, digest_value.strip())


_TRANSFORMS = f"{_DS}Transforms/{_DS}Transform"


def _parse_time(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise _fail("SIG_INVALID", detail="Header/IssuedAt is not a date-time") from None
    if value.tzinfo is None:
        raise _fail("SIG_INVALID", detail="Header/IssuedAt has no time-zone offset")
    if not year_in_range(value):
        # the signing time is converted to UTC and compared with validity windows next
        raise VerificationError([out_of_range("Header/IssuedAt")])
    return value


def _signer_info(chain: ValidatedChain, algorithm: str) -> SignerInfo:
    leaf = chain.leaf
    return SignerInfo(
        unit_code=unit_code_of(leaf) or "",
        subject=leaf.subject.rfc4514_string(),
        issuer=leaf.issuer.rfc4514_string(),
        serial=format(leaf.serial_number, "x"),
        fingerprint=fingerprint(leaf),
        not_before=leaf.not_valid_before_utc,
        not_after=leaf.not_valid_after_utc,
        algorithm=algorithm,
        chain=tuple(c.subject.rfc4514_string() for c in chain.chain),
    )


class DocumentVerifier:
    """Verifies sealed documents against a :class:`TrustStore` (and a registry's pins, if given).

    Safe to share between threads; keep one per process so certificate caches stay warm.
    """

    _MAX_CACHED = 10_000

    def __init__(
        self, trust: TrustStore, registry: Registry | None = None, settings: SignatureSettings | None = None
    ):
        """``settings``: the accepted suites; by default the registry's ``signature_suites``
        (every suite without a registry)."""
        self.trust = trust
        self.registry = registry
        self.settings = settings or (
            SignatureSettings(suites=frozenset(registry.signature_suites)) if registry is not None else DEFAULT_SETTINGS
        )
        # KeyInfo blobs and signature method -> the validated chain and what is derived from it.
        # The same few certificates seal documents all day; only validity and revocation depend
        # on the signing time and are checked again for every document.
        self._signers: dict[tuple[tuple[str, ...], str], tuple[ValidatedChain, SignerInfo, PublicKey]] = {}

    def _signer(
        self, blobs: tuple[str, ...], algorithm: str, at: datetime
    ) -> tuple[ValidatedChain, SignerInfo, PublicKey]:
        """The validated chain of ``blobs`` at ``at``, what is shown of its signer, and its key
        (of the kind ``algorithm`` signs with: else ``SIG_INVALID``)."""
        cached = self._signers.get((blobs, algorithm))
        if cached is not None and cached[0].not_before <= at <= cached[0].not_after:
            self.trust.check_revocation(cached[0], at)
            return cached
        try:
            certs = [_certificate(b) for b in blobs]
        except (ValueError, x509.InvalidVersion):  # InvalidVersion is no ValueError (fuzzing found it)
            raise _fail("CERT_MALFORMED") from None
        chain = self.trust.validate(certs[0], certs[1:], at)
        key = enveloped_verify.public_key(BY_SIGNATURE_METHOD[algorithm], chain.leaf)
        entry = (chain, _signer_info(chain, algorithm), key)
        if len(self._signers) >= self._MAX_CACHED:
            self._signers.clear()
        self._signers[(blobs, algorithm)] = entry
        return entry

    def verify(self, raw: bytes, root: etree._Element, *, schema_valid: bool = False) -> VerifiedDocument:
        """Verify ``raw`` (whose hardened parse is ``root``); raise :class:`VerificationError`.

        ``root`` is not modified (the signature is checked on a copy). ``schema_valid``: the caller
        has validated ``root`` against the XSD (some profile checks can then look at less)."""
        signing = self._prepare(root, schema_valid)
        return self._finish(signing, self._signature(root, signing))

    def problems(
        self, raw: bytes, root: etree._Element, *, schema_valid: bool = False
    ) -> tuple[VerifiedDocument | None, list[Problem]]:
        """Like :meth:`verify` but returns the problems instead of raising."""
        return self.problems_many([(raw, root, schema_valid)])[0]

    def problems_many(
        self, documents: Sequence[tuple[bytes, etree._Element, bool]]
    ) -> list[tuple[VerifiedDocument | None, list[Problem]]]:
        """:meth:`problems` for several ``(raw, root, schema_valid)``, each of the three stages of
        :meth:`verify` over all of them before the next (why: :meth:`DocumentChecker.check_many`)."""
        roots = [root for _, root, _ in documents]
        prepared = [_attempt(self._prepare, root, schema_valid) for _, root, schema_valid in documents]
        signed = [p if isinstance(p, LiandongError) else _attempt(self._signature, r, p) for r, p in zip(roots, prepared)]
        done = [s if isinstance(s, LiandongError) else _attempt(self._finish, p, s) for p, s in zip(prepared, signed)]
        return [(None, d.problems) if isinstance(d, LiandongError) else (d, []) for d in done]

    def _prepare(self, root: etree._Element, schema_valid: bool) -> "_Signing":
        """Stage 1: the profile, the signing time, the trusted chain."""
        parts = check_profile(root, schema_valid=schema_valid)
        suite = BY_SIGNATURE_METHOD[parts.algorithm]
        if not self.settings.allows(suite):
            raise _fail("SIG_SUITE_NOT_ALLOWED", suite=suite.name, allowed=", ".join(sorted(self.settings.suites)))
        claimed = _ISSUED_AT(root)
        at = _parse_time(claimed)
        chain, info, key = self._signer(parts.certificates, parts.algorithm, at)
        return _Signing(parts, suite, claimed, at, chain, info, key)

    def _signature(self, root: etree._Element, signing: "_Signing") -> etree._Element:
        """Stage 2: the seal itself; returns the verified tree, which must be the document."""
        verified = self._check_seal(root, signing)
        if verified.tag != root.tag or _ISSUED_AT(verified) != signing.claimed:
            raise _fail("SIG_INVALID", detail="the signed content is not the document")
        return verified

    def _check_seal(self, root: etree._Element, signing: "_Signing") -> etree._Element:
        """The signature and the digest, for every suite (:mod:`broker.signing.enveloped_verify`)."""
        return enveloped_verify.verify(root, signing.key, signing.suite)

    def _finish(self, signing: "_Signing", verified: etree._Element) -> VerifiedDocument:
        """Stage 3: the signer is the verified document's sender (and registered, where pinned)."""
        info = signing.info
        if not info.unit_code:
            raise _fail("CERT_NO_UNIT")
        sender = _SENDER(verified)
        if info.unit_code != sender:
            raise _fail("CERT_UNIT_MISMATCH", cert_unit=info.unit_code, sender=sender)
        if self.registry is not None:
            pins = self.registry.pins(sender)
            if pins and info.fingerprint not in pins:
                raise _fail("CERT_NOT_REGISTERED", fingerprint=info.fingerprint)
        return VerifiedDocument(root=verified, signer=info, signed_at=signing.at, digest=signing.parts.digest_value)


@dataclass(frozen=True)
class _Signing:
    """What stage 1 of :meth:`DocumentVerifier.verify` established for the later stages."""

    parts: SignatureParts
    suite: Suite
    claimed: str
    at: datetime
    chain: ValidatedChain
    info: SignerInfo
    key: PublicKey


def _attempt(function: Callable[..., Any], *args: Any) -> Any:
    """``function(*args)``, or the :class:`LiandongError` it raised."""
    try:
        return function(*args)
    except LiandongError as exc:
        return exc
