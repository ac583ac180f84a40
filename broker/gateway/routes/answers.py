"""``/v1/inbox/{document_id}/...``: a unit's answers to a document in its inbox, each built,
checked, sealed and sent by the gateway exactly once (:mod:`broker.gateway.answer`)."""

from __future__ import annotations

import json
import logging

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import TypeAdapter, ValidationError

from broker.documents.bodies import ExecutionReceipt
from broker.gateway import answer as answers
from broker.gateway import submit
from broker.gateway.auth import Answerer, Runtime
from broker.gateway.body import read_body
from broker.gateway.problems import GatewayError, field_problems
from broker.gateway.routes.common import ERRORS, accepted
from broker.logs import event

log = logging.getLogger("liandong.gateway")

router = APIRouter(prefix="/v1/inbox", tags=["units"], responses=ERRORS)


@router.post(
    "/{document_id}/result",
    status_code=202,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ExecutionReceipt"}}},
        }
    },
)
async def post_result(document_id: str, request: Request, rt: Runtime, caller: Answerer) -> JSONResponse:
    """Answer a document with its result; the gateway builds, seals and sends the receipt,
    once: the same answer again returns the same receipt."""
    if submit.media_type(request.headers.get("content-type")) != "json":
        raise GatewayError.of("GW_MEDIA_TYPE", content_type=request.headers.get("content-type", ""))
    raw = await read_body(request, rt.config.http.max_body_bytes)
    receipt = _receipt(raw)
    done = await run_in_threadpool(answers.answer, rt, document_id, receipt)
    if done.new:
        rt.metrics.answered.inc()
        event(
            log, "gateway.answered", unit=rt.unit, document_id=document_id, receipt_id=done.receipt_id, who=caller.name
        )
    return accepted("receipt_id", done.receipt_id, done.new)


_RECEIPT = TypeAdapter(ExecutionReceipt)


def _receipt(raw: bytes) -> ExecutionReceipt:
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise GatewayError.of(
            "GW_JSON_MALFORMED", detail=str(exc) if isinstance(exc, ValueError) else "too deep"
        ) from None
    try:
        return _RECEIPT.validate_python(data)
    except ValidationError as exc:
        raise GatewayError(field_problems(exc.errors(include_input=False))) from None
