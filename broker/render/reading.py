"""From sealed XML to a :class:`~broker.render.view.Rendering`: hardened parse, XSD, the seal, the
model, the words. Bad input raises :class:`broker.errors.LiandongError` with the codes the rest of
liandong uses (``XML_*``, ``SCHEMA_*``, ``DOC_DECODE``); a seal that does not verify is no error
here: the 文书 is rendered, with its seal block saying so and why.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial

from lxml import etree

from broker.documents import codec
from broker.documents.document import Document
from broker.errors import LiandongError
from broker.parsing import schema
from broker.parsing.hardened import ParseLimits, parse
from broker.registry import Registry
from broker.render import body, labels, seal
from broker.render.values import format_value, moment
from broker.render.view import Rendering, Row
from broker.signing.verifier import DocumentVerifier


def unit_name(code: str, registry: Registry | None) -> str:
    """The unit's name from the registry, else its code (a renderer without a registry still works)."""
    entry = registry.unit(code) if registry is not None else None
    return entry.name if entry is not None else code


def _with_code(code: str, registry: Registry | None) -> str:
    name = unit_name(code, registry)
    return code if name == code else f"{name}（{code}）"


def read(
    xml: bytes,
    *,
    verifier: DocumentVerifier | None = None,
    registry: Registry | None = None,
    limits: ParseLimits = ParseLimits(),
) -> Rendering:
    """Read ``xml`` into what a 文书 shows; raises :class:`LiandongError` for input that is no document."""
    root = parse(xml, limits)
    found = schema.problems(root)
    if found:
        raise LiandongError(found)
    # The words come from the tree the verifier vouched for when the seal holds (only that tree may
    # be read after verification, broker/signing/verifier.py); else from the input, flagged as such.
    claimed_at = _issued_at_words(root)
    seal_view, verified = seal.check(xml, root, verifier, claimed_at)
    document: Document = codec.from_element(verified.root if verified is not None else root)
    h = document.header
    addressee = unit_name(h.recipient, registry)
    header = [
        Row("文书编号", str(h.document_id)),
        *([Row("案号", h.case_number)] if h.case_number else []),
        Row("发文单位", _with_code(h.sender, registry)),
        Row("受文单位", _with_code(h.recipient, registry)),
        Row("发文时间", moment(h.issued_at)),
        *([Row("答复文书", str(h.in_reply_to))] if h.in_reply_to else []),
        *([Row("办理期限", moment(h.deadline))] if h.deadline else []),
    ]
    return Rendering(
        document_type=document.type,
        title=labels.title(document.type),
        document_id=str(h.document_id),
        case_number=h.case_number,
        sender=h.sender,
        addressee=addressee,
        header=header,
        sections=body.sections(document, addressee, partial(_with_code, registry=registry)),
        officers=[Row(o.name, format_value(o)) for o in h.officers],
        seal=seal_view,
        issuer_name=unit_name(h.sender, registry),
        issued_on=moment(h.issued_at),
    )


_ISSUED_AT = etree.XPath("string(/*/*[local-name()='Header']/*[local-name()='IssuedAt'])")


def _issued_at_words(root: etree._Element) -> str:
    """The signing time the document claims (its IssuedAt), in words when it is a time."""
    text = str(_ISSUED_AT(root)).strip()
    try:
        return moment(datetime.fromisoformat(text))
    except (ValueError, OverflowError):
        return text
