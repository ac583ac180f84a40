"""``/v1/inbox/{document_id}/{result,extension,review,lead}``: a unit's answers to a document in
its inbox, each built, checked, sealed and sent by the gateway exactly once
(:mod:`broker.gateway.answer`)."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import TypeAdapter, ValidationError

from broker.documents.bodies import ExecutionReceipt, ExtensionNotice, LeadReport, ReviewSuggestion
from broker.gateway import answer as answers
from broker.gateway import kinds, submit
from broker.gateway.auth import Answerer, Runtime
from broker.gateway.body import read_body
from broker.gateway.problems import GatewayError, field_problems
from broker.gateway.routes.common import ERRORS, accepted
from broker.logs import event

log = logging.getLogger("liandong.gateway")

router = APIRouter(prefix="/v1/inbox", tags=["units"], responses=ERRORS)

ANSWER_MODELS: tuple[type[answers.Answer], ...] = (
    ExecutionReceipt,
    ExtensionNotice,
    ReviewSuggestion,
    LeadReport,
)
"""Their JSON schemas are components of the OpenAPI document (:mod:`broker.gateway.app`)."""


def _endpoint(model: type[answers.Answer]) -> Callable[..., Awaitable[JSONResponse]]:
    adapter = TypeAdapter(model)

    async def post_answer(document_id: str, request: Request, rt: Runtime, caller: Answerer) -> JSONResponse:
        if submit.media_type(request.headers.get("content-type")) != "json":
            raise GatewayError.of("GW_MEDIA_TYPE", content_type=request.headers.get("content-type", ""))
        raw = await read_body(request, rt.config.http.max_body_bytes)
        body = _parse(model, adapter, raw)
        done = await run_in_threadpool(answers.answer, rt, document_id, body)
        if done.new:
            rt.metrics.answered.inc()
            event(
                log,
                "gateway.answered",
                unit=rt.unit,
                document_id=document_id,
                receipt_id=done.receipt_id,
                kind=model.xml_tag,
                who=caller.name,
            )
        return accepted("receipt_id", done.receipt_id, done.new)

    return post_answer


def _parse(model: type[answers.Answer], adapter: TypeAdapter[answers.Answer], raw: bytes) -> answers.Answer:
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise GatewayError.of(
            "GW_JSON_MALFORMED", detail=str(exc) if isinstance(exc, ValueError) else "too deep"
        ) from None
    problems = kinds.resolve(data, model, ()) if isinstance(data, dict) else []
    if problems:
        raise GatewayError(problems)
    try:
        return adapter.validate_python(data)
    except ValidationError as exc:
        raise GatewayError(field_problems(exc.errors(include_input=False))) from None


for _model, _summary, _doc in (
    (
        ExecutionReceipt,
        "Answer with the result (协助执行结果回执)",
        "Each measure, query or release: executed, a limit freeze with the requested and frozen "
        "amounts, rotating with the earlier measures, not executed with the reason, query results "
        "(003 bank rules 8, 10, 15, 17). The gateway builds, seals and sends the receipt once: the "
        "same answer again returns the same receipt, another one is 409.",
    ),
    (
        ExtensionNotice,
        "Ask for more time (延期说明)",
        "The unit cannot finish in time: the reason, the proposed deadline and the items concerned "
        "(002 四.7, 四.13, 四.14, 四.17). Once per document, like a result.",
    ),
    (
        ReviewSuggestion,
        "Object (审查建议)",
        "A review suggestion never stops the measure: MeasureCarriedOut must be true (001 art. 20). "
        "Once per document, like a result.",
    ),
    (
        LeadReport,
        "Report a person or vehicle found (线索通报)",
        "Within 24 hours of the sighting (002 四.7(2)), in answer to the assistance notice. Once "
        "per document, like a result.",
    ),
):
    _path = answers.PATHS[_model.xml_tag]
    router.add_api_route(
        f"/{{document_id}}/{_path}",
        _endpoint(_model),
        methods=["POST"],
        status_code=202,
        summary=_summary,
        description=_doc,
        name=f"post_{_path}",
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": {"$ref": f"#/components/schemas/{_model.__name__}"}}
                },
            }
        },
    )
