"""The 文书 beside the sealed XML (issue 13, "Rendering"): ``GET /v1/documents/{id}/html`` and
``/pdf``, with the access rules of ``/xml`` (a ``read`` token; only this unit's documents).

The seal is verified again for the page, with the trust anchors, revocation lists and registry
the gateway checks arrivals with, so the page says what holds now (a revoked certificate shows).

Included by one line in ``broker.gateway.routes.ROUTERS``.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from broker.gateway import status
from broker.gateway.auth import Reader
from broker.gateway.runtime import GatewayRuntime
from broker.render import render_html, render_pdf

router = APIRouter(prefix="/v1/documents", tags=["courts", "units"])


def _page(request: Request, document_id: str) -> tuple[bytes, dict]:
    rt: GatewayRuntime = request.app.state.runtime
    checker = rt.client.unit.checker  # the trust store and registry arrivals are verified with
    raw = status.sealed_xml(rt.store, document_id)
    return raw, {"trust": checker.verifier, "registry": checker.registry}


@router.get(
    "/{document_id}/html",
    response_class=HTMLResponse,
    responses={200: {"content": {"text/html": {}}, "description": "the 文书 as one self-contained page"}},
)
def get_html(document_id: str, request: Request, caller: Reader) -> HTMLResponse:
    """The document as the 文书 it stands for (HTML, no external resource), with its seal's verdict."""
    raw, options = _page(request, document_id)
    return HTMLResponse(render_html(raw, **options))


@router.get(
    "/{document_id}/pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "the 文书 as PDF (extractable text)"}},
)
def get_pdf(document_id: str, request: Request, caller: Reader) -> Response:
    """The same 文书 as PDF."""
    raw, options = _page(request, document_id)
    headers = {"Content-Disposition": f'inline; filename="{document_id}.pdf"'}
    return Response(render_pdf(raw, **options), media_type="application/pdf", headers=headers)
