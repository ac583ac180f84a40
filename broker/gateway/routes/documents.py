"""``/v1/documents``: a court submits a document; anyone with ``read`` follows one and
downloads its sealed XML."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from broker.gateway import status, submit
from broker.gateway.auth import Publisher, Reader, Runtime
from broker.gateway.body import read_body
from broker.gateway.routes.common import ERRORS, accepted
from broker.logs import event

log = logging.getLogger("liandong.gateway")

router = APIRouter(prefix="/v1/documents", responses=ERRORS)


@router.post(
    "",
    status_code=202,
    tags=["courts"],
    openapi_extra={
        "parameters": [
            {"name": "Idempotency-Key", "in": "header", "required": False, "schema": {"type": "string"}}
        ],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/Document"}},
                "application/xml": {"schema": {"type": "string", "description": "the unsigned document"}},
            },
        },
    },
)
async def post_document(request: Request, rt: Runtime, caller: Publisher) -> JSONResponse:
    """Check (XSD, business rules), seal with this unit's seal and publish a document."""
    kind = submit.media_type(request.headers.get("content-type"))
    raw = await read_body(request, rt.config.http.max_body_bytes)
    key = request.headers.get("idempotency-key")
    done = await run_in_threadpool(submit.submit, rt, raw, kind, key)
    if done.new:
        rt.metrics.published.inc()
        event(log, "gateway.published", unit=rt.unit, document_id=done.document_id, who=caller.name)
    return accepted("document_id", done.document_id, done.new, location=True)


@router.get("/{document_id}", tags=["courts", "units"])
def get_document(document_id: str, rt: Runtime, caller: Reader) -> dict[str, Any]:
    """State: published, served (service receipt, legal time of service), answered (each
    answer: result, extension, review suggestion, lead report), overdue (its deadline, in
    working days, passed with no result), released (each measure lifted by a release notice
    that was served), rejected (every code); for a document this unit received: received,
    answered, overdue or released likewise."""
    return status.document_status(rt.store, document_id, rt.deadlines)


@router.get(
    "/{document_id}/xml",
    tags=["courts", "units"],
    responses={200: {"content": {"application/xml": {}}, "description": "the sealed XML as is"}},
    response_class=Response,
)
def get_xml(document_id: str, rt: Runtime, caller: Reader) -> Response:
    """The sealed XML, byte for byte as sent or received."""
    return Response(status.sealed_xml(rt.store, document_id), media_type="application/xml")
