"""signxml's check of an RSA or ECDSA seal, as :class:`~broker.signing.verifier.DocumentVerifier`
made it until issue 16: kept as the independent check that the direct one
(:mod:`broker.signing.enveloped_verify`) is held to in the tests, and as the baseline the benches
measure it against (bench/hub_seal.py, bench/verify_pipeline.py). Nothing on the document path
uses it.

:class:`SignxmlDocumentVerifier` is the whole verifier with this check in step 3.14 (SM2 seals,
which signxml does not know, go the direct way as they always did).
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from cryptography import x509
from lxml import etree
from signxml import SignatureConfiguration, XMLVerifier
from signxml.exceptions import InvalidDigest, InvalidInput, SignXMLException
from signxml.util import namespaces as signxml_namespaces

from broker.signing.profile import ALLOWED_DIGESTS, ALLOWED_SIGNATURE_METHODS
from broker.signing.suites import BY_SIGNATURE_METHOD
from broker.signing.verifier import DocumentVerifier, _fail, _Signing

CONFIG_KW = dict(
    location="./",
    expect_references=1,
    signature_methods=ALLOWED_SIGNATURE_METHODS,
    digest_algorithms=ALLOWED_DIGESTS,
)
"""What the verifier pinned in signxml's ``SignatureConfiguration`` (with the signing time)."""


@lru_cache(maxsize=256)
def clark_path(xpath: str, query: str) -> str | None:
    """signxml's ``_find`` path (``[xpath]prefix:Name``, prefix ``ds`` by default) in Clark
    notation; None for anything but one name (signxml's own lookup then runs)."""
    prefix, _, name = query.partition(":") if ":" in query else ("ds", "", query)
    if not name or "/" in name or ":" in name or prefix not in signxml_namespaces:
        return None
    return f"{xpath}{{{signxml_namespaces[prefix]}}}{name}"


class ParsedVerifier(XMLVerifier):
    """signxml, given the tree that :mod:`broker.parsing.hardened` already made from the bytes.

    signxml would serialize and parse it again; it never changes the tree it is given (it works on
    copies), so the hardened parse is used as is. Comments are gone from it, which exc-c14n
    without comments ignores anyway.
    """

    def get_root(self, data):  # type: ignore[no-untyped-def]
        return data if isinstance(data, etree._Element) else super().get_root(data)

    def _resolve_reference(self, doc_root, reference, uri_resolver=None):  # type: ignore[no-untyped-def]
        # The profile allows two reference URIs, both meaning the root (check_profile refused any
        # other before signxml runs). signxml would search every element for a matching Id
        # attribute; resolving only the root is both the profile and cheaper (~8 % of a check),
        # and any other URI is refused here too, whatever the caller checked.
        uri = reference.get("URI")
        if uri == "" or (uri is not None and uri.startswith("#") and uri[1:] == doc_root.get("Id")):
            return doc_root
        raise InvalidInput("the reference must designate the document root (URI \"\" or \"#\" + its Id)")

    # signxml finds elements by prefixed paths (``ds:SignedInfo``) with its map of nine
    # namespaces, which lxml sorts to look its path cache up on every call (nine calls, ~10 % of
    # signxml's time here); the same lookups in Clark notation need no map.
    def _find(self, element, query, require=True, xpath=""):  # type: ignore[no-untyped-def]
        path = clark_path(xpath, query)
        if path is None:
            return super()._find(element, query, require=require, xpath=xpath)
        result = element.find(path)
        if require and result is None:
            raise InvalidInput(f"Expected to find XML element {query} in {element.tag}")
        return result

    def _findall(self, element, query, xpath=""):  # type: ignore[no-untyped-def]
        path = clark_path(xpath, query)
        return super()._findall(element, query, xpath=xpath) if path is None else element.findall(path)

    def _get_cert_description(self, cert, cert_source):  # type: ignore[no-untyped-def]
        # signxml builds this text for every verification, for an error message it rarely
        # raises: the subject's RFC 4514 string alone was ~4 % of a check (docs/performance.md).
        # The validity check itself stays; the trust store also checks it at the signing time.
        return f"{cert_source} (serial={cert.serial_number})"


def verify(root: etree._Element, leaf: x509.Certificate, at: datetime) -> etree._Element:
    """signxml's verification of the RSA or ECDSA seal of a ``root`` that passed ``check_profile``
    with the key of ``leaf`` at ``at``; the tree signxml returns as signed. A digest mismatch is
    ``SIG_TAMPERED``, anything else signxml refuses ``SIG_INVALID``."""
    try:
        result = ParsedVerifier().verify(
            root,
            x509_cert=leaf,
            validate_schema=False,  # check_profile is stricter than the xmldsig schema
            expect_config=SignatureConfiguration(verification_time=at, **CONFIG_KW),  # type: ignore[arg-type]
        )
    except InvalidDigest:
        raise _fail("SIG_TAMPERED") from None
    except (SignXMLException, etree.LxmlError, ValueError) as exc:
        raise _fail("SIG_INVALID", detail=str(exc)[:200]) from None
    verified = result.signed_xml  # type: ignore[union-attr]
    if verified is None:
        raise _fail("SIG_INVALID", detail="the signed content is not XML")
    return verified


class SignxmlDocumentVerifier(DocumentVerifier):
    """:class:`DocumentVerifier` with signxml checking RSA and ECDSA seals, as before issue 16."""

    def _check_seal(self, root: etree._Element, signing: _Signing) -> etree._Element:
        if not BY_SIGNATURE_METHOD[signing.parts.algorithm].native:
            return super()._check_seal(root, signing)
        return verify(root, signing.chain.leaf, signing.at)
