"""Enveloped XML-DSig with SM2/SM3: checking SignedInfo ourselves (sealing is
:mod:`broker.signing.enveloped`'s, as for every suite).

signxml knows no SM2, so for this suite the two cryptographic steps are done here, with lxml's
exclusive C14N (libxml2's, the one signxml itself uses) and :mod:`broker.signing.sm2`. Everything
structural (one signature, a child of the root, one reference to the root, the transforms,
KeyInfo) is checked by :func:`broker.signing.verifier.check_profile` before this module runs, the
same checks for every suite. The order is signxml's: the signature over the canonical SignedInfo
first (a changed SignedInfo is ``SIG_INVALID``), then the reference's digest (changed content is
``SIG_TAMPERED``). The tree handed back is parsed from the very bytes that were digested.
"""

from __future__ import annotations

import base64
import binascii
import copy

from lxml import etree

from broker.errors import LiandongError, problem
from broker.parsing.hardened import parse
from broker.signing import sm2
from broker.signing.profile import NSMAP

_DS = "{" + NSMAP["ds"] + "}"


def canonical(element: etree._Element) -> bytes:
    """Exclusive C14N 1.0 without comments (of a subtree: with the namespaces it uses)."""
    return etree.tostring(element, method="c14n", exclusive=True, with_comments=False)


def _fail(code: str, **params: object) -> LiandongError:
    from broker.signing.verifier import VerificationError  # the verifier's own error class

    return VerificationError([problem(code, **params)])


def verify(root: etree._Element, leaf_key: sm2.Sm2PublicKey) -> etree._Element:
    """Check the SM2 signature of a ``root`` that passed ``check_profile``; return the verified
    tree (the document without its signature, parsed from its canonical form)."""
    signature = root.find(_DS + "Signature")
    info = signature.find(_DS + "SignedInfo")
    try:
        value = base64.b64decode("".join((signature.findtext(_DS + "SignatureValue") or "").split()), validate=True)
        sm2.verify(leaf_key, value, canonical(info))
    except (binascii.Error, ValueError):
        raise _fail("SIG_INVALID", detail="the SignatureValue is not base64") from None
    except sm2.InvalidSm2Signature as exc:
        raise _fail("SIG_INVALID", detail=str(exc)) from None
    document = copy.deepcopy(root)
    document.remove(document.find(_DS + "Signature"))  # the enveloped-signature transform
    content = canonical(document)
    claimed = (info.findtext(f"{_DS}Reference/{_DS}DigestValue") or "").strip()
    try:
        expected = base64.b64decode(claimed, validate=True)
    except (binascii.Error, ValueError):
        raise _fail("SIG_INVALID", detail="the DigestValue is not base64") from None
    if sm2.sm3(content) != expected:
        raise _fail("SIG_TAMPERED")
    return parse(content)
