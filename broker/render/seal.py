"""The seal block of a rendered 文书: verified by the project's verifier
(:class:`broker.signing.DocumentVerifier`, docs/signature-profile.md), never by code of our own.

When the seal does not verify, or no trust root was given, the certificate the document carries
is still shown, marked as the document's claim and not a verified fact, so a reviewer sees who the
seal pretends to come from beside the code that says why it does not hold.
"""

from __future__ import annotations

import base64
import binascii

from cryptography import x509
from lxml import etree

from broker.render.values import moment
from broker.render.view import SealView
from broker.signing.keys import fingerprint, unit_code_of
from broker.signing.profile import NSMAP
from broker.signing.verifier import DocumentVerifier, VerifiedDocument

_DS = "{" + NSMAP["ds"] + "}"
_SIGNATURES = etree.XPath("//ds:Signature", namespaces=NSMAP)
_CERTIFICATES = etree.XPath("ds:KeyInfo/ds:X509Data/ds:X509Certificate", namespaces=NSMAP)


def is_sealed(root: etree._Element) -> bool:
    return bool(_SIGNATURES(root))


def check(
    raw: bytes, root: etree._Element, verifier: DocumentVerifier | None, issued_at: str
) -> tuple[SealView, VerifiedDocument | None]:
    """The seal block of ``raw`` (parsed as ``root``), and the verified document when it verifies.

    ``issued_at``: the document's signing time as words, shown for an unverified seal."""
    if not is_sealed(root):
        return SealView(status="unsigned"), None
    if verifier is None:
        return _claimed("unchecked", root, issued_at, ()), None
    verified, problems = verifier.problems(raw, root)
    if verified is None:
        return _claimed("failed", root, issued_at, tuple(problems)), None
    s = verified.signer
    view = SealView(
        status="verified",
        unit_code=s.unit_code,
        subject=s.subject,
        issuer=s.issuer,
        serial=s.serial,
        fingerprint=s.fingerprint,
        signed_at=moment(verified.signed_at),
        chain=s.chain,
    )
    return view, verified


def _claimed(status: str, root: etree._Element, issued_at: str, problems: tuple) -> SealView:
    """What the signature's first certificate says, unverified; nothing when it cannot be read."""
    cert = _first_certificate(root)
    bare = SealView(status=status, problems=problems, signed_at=issued_at, claimed=True)  # type: ignore[arg-type]
    if cert is None:
        return bare
    try:
        return SealView(
            status=status,  # type: ignore[arg-type]
            problems=problems,
            unit_code=unit_code_of(cert),
            subject=cert.subject.rfc4514_string(),
            issuer=cert.issuer.rfc4514_string(),
            serial=format(cert.serial_number, "x"),
            fingerprint=fingerprint(cert),
            signed_at=issued_at,
            claimed=True,
        )
    except ValueError:  # cryptography parses names lazily: a malformed one fails here (CERT_NAME_MALFORMED)
        return bare


def _first_certificate(root: etree._Element) -> x509.Certificate | None:
    signatures = _SIGNATURES(root)
    blobs = _CERTIFICATES(signatures[0]) if signatures else []
    if not blobs:
        return None
    try:
        return x509.load_der_x509_certificate(base64.b64decode("".join((blobs[0].text or "").split()), validate=True))
    except (ValueError, binascii.Error, x509.InvalidVersion):
        # a certificate that cannot be read is shown as absent; the verifier's code says why
        return None
