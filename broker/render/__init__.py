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

from collections.abc import Callable
from typing import Any, TypeVar

from broker.errors import LiandongError
from broker.registry import Registry
from broker.render.html import page
from broker.render.pdf import print_html
from broker.render.reading import read
from broker.render.trust import Seal, verifier_for
from broker.render.view import Rendering
from broker.signing.verifier import DocumentVerifier

Trust = Seal | DocumentVerifier | None
T = TypeVar("T")


def _guarded(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``function(...)``; an exception no check foresaw (a value no model bounds, an engine's bug)
    becomes ``RENDER_FAILED`` naming its type only — its message could quote the document — so a
    caller always gets a coded error, never a traceback (as broker.check_guard does for checks)."""
    try:
        return function(*args, **kwargs)
    except LiandongError:
        raise
    except Exception as exc:
        raise LiandongError.of("RENDER_FAILED", error=type(exc).__name__) from exc


def render(xml: bytes, *, trust: Trust = None, registry: Registry | None = None) -> Rendering:
    """What the 文书 of ``xml`` shows, as data (for a caller with its own template)."""
    verifier, members = verifier_for(trust, registry)
    return _guarded(read, xml, verifier=verifier, registry=members)


def html_of(rendering: Rendering) -> str:
    """The page of a :func:`render` result (for a caller that also wants the data, as the CLI)."""
    return _guarded(page, rendering)


def render_html(xml: bytes, *, trust: Trust = None, registry: Registry | None = None) -> str:
    """The 文书 of ``xml`` as one self-contained HTML page."""
    return html_of(render(xml, trust=trust, registry=registry))


def html_to_pdf(html: str) -> bytes:
    """A page of :func:`render_html` printed to PDF (for a caller that has the page already)."""
    return _guarded(print_html, html)


def render_pdf(xml: bytes, *, trust: Trust = None, registry: Registry | None = None) -> bytes:
    """The 文书 of ``xml`` as a PDF with extractable text."""
    return html_to_pdf(render_html(xml, trust=trust, registry=registry))


__all__ = ["Rendering", "Seal", "Trust", "html_of", "html_to_pdf", "render", "render_html", "render_pdf"]
