"""Documents as readable 文书 (issue 13, "Rendering"): HTML and PDF, in Chinese, laid out like the
paper form: title, document number, case number, addressee, the body in words, the officers, and
a seal block saying who sealed it, when, with which certificate, and whether the seal verifies.

Library API::

    from broker.render import render_html, render_pdf, Seal

    seal = Seal.from_files(["certs-example/root-ca.pem"], ["certs-example/crl.pem"], "examples/network.yaml")
    html: str = render_html(xml_bytes, trust=seal)      # one self-contained page, no external resource
    pdf: bytes = render_pdf(xml_bytes, trust=seal)      # the same page printed by WeasyPrint

``trust`` is a :class:`Seal` (trust anchors, CRLs, optional registry, loaded once and reused), a
:class:`~broker.signing.DocumentVerifier`, or None: then the seal is shown but marked as not
checked. ``registry`` (or the Seal's) gives the units' names. Input that is no document raises
:class:`broker.errors.LiandongError` with its codes (``XML_*``, ``SCHEMA_*``, ``DOC_DECODE``); a
seal that does not verify is rendered, with "印章验证未通过 / seal does not verify" and its codes.

Modules, one concern each: :mod:`~broker.render.labels` (the words), :mod:`~broker.render.values`
(a value in words), :mod:`~broker.render.body` (the body of each type, generic for any other),
:mod:`~broker.render.seal` (the seal block), :mod:`~broker.render.reading` (XML to what is shown),
:mod:`~broker.render.html` and :mod:`~broker.render.pdf` (the output), :mod:`~broker.render.trust`.
"""

from __future__ import annotations

from broker.registry import Registry
from broker.render.html import page
from broker.render.pdf import print_html
from broker.render.reading import read
from broker.render.trust import Seal, verifier_for
from broker.render.view import Rendering
from broker.signing.verifier import DocumentVerifier

Trust = Seal | DocumentVerifier | None


def render(xml: bytes, *, trust: Trust = None, registry: Registry | None = None) -> Rendering:
    """What the 文书 of ``xml`` shows, as data (for a caller with its own template)."""
    verifier, members = verifier_for(trust, registry)
    return read(xml, verifier=verifier, registry=members)


def render_html(xml: bytes, *, trust: Trust = None, registry: Registry | None = None) -> str:
    """The 文书 of ``xml`` as one self-contained HTML page."""
    return page(render(xml, trust=trust, registry=registry))


def render_pdf(xml: bytes, *, trust: Trust = None, registry: Registry | None = None) -> bytes:
    """The 文书 of ``xml`` as a PDF with extractable text."""
    return print_html(render_html(xml, trust=trust, registry=registry))


__all__ = ["Rendering", "Seal", "Trust", "render", "render_html", "render_pdf"]
