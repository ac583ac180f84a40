"""Sealing documents (加盖电子印章): enveloped XML-DSig by the issuing unit's key.

A :class:`DocumentSigner` holds one unit's key and certificate chain, loaded once. It refuses to
seal a document whose ``Header/Sender`` is not the unit its certificate names, so a court can
never produce a document that the network would reject as sent by the wrong unit.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Sequence

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from lxml import etree

from broker.documents import codec
from broker.documents.document import Document
from broker.documents.xmlmodel import NS
from broker.errors import LiandongError
from broker.parsing.hardened import parse
from broker.signing.enveloped import EnvelopedSealer
from broker.signing.keys import PrivateKey, load_certificates, load_private_key, unit_code_of
from broker.signing.profile import NSMAP

_SENDER = etree.XPath("string(/ld:Document/ld:Header/ld:Sender)", namespaces={"ld": NS})
_DS = "{" + NSMAP["ds"] + "}"
_HAS_SIGNATURE = etree.XPath("boolean(/ld:Document/ds:Signature)", namespaces={"ld": NS, **NSMAP})


def _key_info(certs: list[x509.Certificate]) -> etree._Element:
    """``ds:KeyInfo/ds:X509Data`` with the signer certificate first, then its chain (without the
    root), as docs/signature-profile.md requires: the base64 text of each DER encoding in the
    64-column lines of its PEM form, as signxml writes it."""
    key_info = etree.Element(_DS + "KeyInfo", nsmap={"ds": NSMAP["ds"]})
    x509_data = etree.SubElement(key_info, _DS + "X509Data")
    for cert in certs:
        pem = cert.public_bytes(serialization.Encoding.PEM).decode("ascii")
        # the lines between the BEGIN and END lines, the last newline kept (signxml's form)
        body = pem.split("\n", 1)[1].split("-----END", 1)[0]
        etree.SubElement(x509_data, _DS + "X509Certificate").text = body.replace("\r", "")
    return key_info


class DocumentSigner:
    """Signs documents for the unit named in ``cert`` (subject organizationIdentifier)."""

    def __init__(self, key: PrivateKey, cert: x509.Certificate, chain: list[x509.Certificate] | None = None):
        self.key = key
        self.cert = cert
        self.chain = list(chain or [])
        unit = unit_code_of(cert)
        if unit is None:
            raise LiandongError.of("CERT_NO_UNIT")
        self.unit_code: str = unit
        self._key_info = _key_info([cert, *self.chain])
        # The profile's layout written directly, signxml's bytes in a third of its time, and for
        # SM2 too, which signxml does not know (broker/signing/enveloped.py)
        self._sealer = EnvelopedSealer(key, self._key_info)

    @classmethod
    def from_files(
        cls, key: str | Path, cert: str | Path, chain: str | Path | None = None
    ) -> "DocumentSigner":
        """Load a key, its certificate, and the chain (extra certificates in ``cert`` or ``chain``).

        Root certificates (self-signed) are left out of KeyInfo: the verifier brings its own anchors.
        """
        certs = load_certificates(cert)
        extra = certs[1:] + (load_certificates(chain) if chain else [])
        intermediates = [c for c in extra if c.issuer != c.subject]
        return cls(load_private_key(key), certs[0], intermediates)

    @classmethod
    def for_unit(cls, directory: str | Path) -> "DocumentSigner":
        """Load ``sign.key``, ``sign.pem`` and ``chain.pem`` from a unit directory (certs-example layout)."""
        d = Path(directory)
        chain = d / "chain.pem"
        return cls.from_files(d / "sign.key", d / "sign.pem", chain if chain.exists() else None)

    def sign_element(self, root: etree._Element) -> etree._Element:
        """Return a signed copy of an unsigned ``Document`` root element."""
        return self._sign_root(root, owned=False)

    def _sign_root(self, root: etree._Element, *, owned: bool) -> etree._Element:
        """Sign ``root``; ``owned``: it was built for this signature and may be changed in place."""
        if _HAS_SIGNATURE(root):
            raise ValueError("the document is already signed")
        sender = _SENDER(root)
        if sender != self.unit_code:
            raise LiandongError.of("CERT_UNIT_MISMATCH", cert_unit=self.unit_code, sender=sender or "?")
        return self._sealer.seal(root if owned else copy.deepcopy(root))

    def sign(self, document: Document | etree._Element | bytes) -> bytes:
        """Sign a model, an element or unsigned bytes; return the signed document's bytes."""
        return self.sign_many([document])[0]

    def sign_many(self, documents: Sequence[Document | etree._Element | bytes], *, owned: bool = False) -> list[bytes]:
        """:meth:`sign` for several documents, one step at a time over all of them (encode, seal,
        serialize): each step's code stays in the processor's caches (docs/performance.md).
        ``owned``: elements given were built for this signature and may be signed in place
        (otherwise each is copied first)."""
        roots = [
            (codec.to_element(d), True) if isinstance(d, Document) else (parse(d), True) if isinstance(d, bytes) else (d, owned)
            for d in documents
        ]
        signed = [self._sign_root(root, owned=owned) for root, owned in roots]
        return [codec.to_bytes(root) for root in signed]
