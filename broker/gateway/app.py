"""The gateway's HTTP API (FastAPI): routes, access by token and scope, the audit log, and one
error body for everything (docs/gateway.md)."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import TypeAdapter, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from broker.documents.bodies import ExecutionReceipt
from broker.documents.document import Document
from broker.console import console_for
from broker.errors import LiandongError, problem
from broker.gateway import answer as answers
from broker.gateway import events, status, submit
from broker.gateway.apidocs import install_api_page
from broker.gateway.body import read_body
from broker.gateway.operations import gateway_readiness
from broker.gateway.problems import GatewayError, ProblemBody, field_problems, response
from broker.gateway.runtime import GatewayRuntime
from broker.gateway.tokens import Caller
from broker.logs import event

log = logging.getLogger("liandong.gateway")

_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ProblemBody, "description": text}
    for code, text in (
        (401, "no token or a wrong one"),
        (403, "the token lacks the scope"),
        (404, "not this gateway's document"),
        (409, "the Idempotency-Key or answer conflicts with an earlier one"),
        (413, "the body is too large"),
        (415, "neither JSON nor XML"),
        (422, "the document or answer has problems (codes of docs/error-codes.md)"),
    )
}


def require(scope: str) -> Callable[[Request], Caller]:
    """A dependency: the caller of a valid bearer token that has ``scope`` (401 / 403 otherwise)."""

    def check(request: Request) -> Caller:
        rt: GatewayRuntime = request.app.state.runtime
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise GatewayError.of("GW_TOKEN_MISSING")
        caller = rt.tokens.caller(token.strip())
        if caller is None:
            raise GatewayError.of("GW_TOKEN_INVALID")
        request.state.who = caller.name
        if not caller.may(scope):
            raise GatewayError.of("GW_SCOPE_MISSING", who=caller.name, scope=scope)
        return caller

    return check


def create_app(rt: GatewayRuntime) -> FastAPI:
    """The application for one gateway. The interactive docs page (``/docs``) is Swagger UI with
    local assets (:mod:`broker.gateway.apidocs`): the gateway must work on a machine with no
    internet (docs/gateway.md); ReDoc's page (CDN only) is off."""
    app = FastAPI(
        title=f"liandong gateway — {rt.unit}",
        version="1",
        docs_url=None,
        redoc_url=None,
        description="A local HTTP API to the liandong network for a court or a member unit "
        "(docs/gateway.md).",
    )
    app.state.runtime = rt
    _install_errors(app)
    _install_audit(app)
    _install_openapi(app)
    install_api_page(app)
    from broker.gateway.rendering import router as rendering  # the 文书 (issue 13); imports require from here
    app.include_router(rendering)
    app.mount("/console", console_for(rt))  # the people's pages (broker/console, docs/console.md)

    @app.get("/healthz", tags=["operations"])
    def healthz() -> dict[str, Any]:
        """Alive; whether the broker connection is up."""
        return {"unit": rt.unit, "broker_connected": rt.client.unit.connected}

    @app.get("/readyz", tags=["operations"], responses={503: {"description": "not ready: each failing check"}})
    def readyz() -> JSONResponse:
        """Ready for work: broker connected, store and state writable, seal valid and not near
        expiry; 503 naming each failing check with its code."""
        code, body = gateway_readiness(rt)
        return JSONResponse(body, status_code=code)

    @app.get("/metrics", tags=["operations"], response_class=PlainTextResponse)
    def metrics() -> Response:
        """Prometheus metrics, in the text format."""
        return Response(rt.metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

    @app.post(
        "/v1/documents",
        status_code=202,
        tags=["courts"],
        responses=_ERRORS,
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
    async def post_document(
        request: Request, caller: Annotated[Caller, Depends(require("publish"))]
    ) -> JSONResponse:
        """Check (XSD, business rules), seal with this unit's seal and publish a document."""
        kind = submit.media_type(request.headers.get("content-type"))
        raw = await read_body(request, rt.config.http.max_body_bytes)
        key = request.headers.get("idempotency-key")
        done = await run_in_threadpool(submit.submit, rt, raw, kind, key)
        if done.new:
            rt.metrics.published.inc()
            event(log, "gateway.published", unit=rt.unit, document_id=done.document_id, who=caller.name)
        return _accepted("document_id", done.document_id, done.new, location=True)

    @app.get("/v1/documents/{document_id}", tags=["courts", "units"], responses=_ERRORS)
    def get_document(document_id: str, caller: Annotated[Caller, Depends(require("read"))]) -> dict[str, Any]:
        """State: published, served (service receipt, legal time of service), answered (each
        answer), rejected (every code); or received, for a document this unit received."""
        return status.document_status(rt.store, document_id)

    @app.get(
        "/v1/documents/{document_id}/xml",
        tags=["courts", "units"],
        responses={
            **_ERRORS,
            200: {"content": {"application/xml": {}}, "description": "the sealed XML as is"},
        },
        response_class=Response,
    )
    def get_xml(document_id: str, caller: Annotated[Caller, Depends(require("read"))]) -> Response:
        """The sealed XML, byte for byte as sent or received."""
        return Response(status.sealed_xml(rt.store, document_id), media_type="application/xml")

    @app.get("/v1/cases/{case_number}", tags=["courts", "units"], responses=_ERRORS)
    def get_case(case_number: str, caller: Annotated[Caller, Depends(require("read"))]) -> dict[str, Any]:
        """Every document of a case this unit sent or received, with its state."""
        return {"case_number": case_number, "documents": status.case_documents(rt.store, case_number)}

    @app.get("/v1/inbox", tags=["units"], responses=_ERRORS)
    def get_inbox(
        caller: Annotated[Caller, Depends(require("read"))],
        cursor: Annotated[
            int, Query(ge=0, description="next_cursor of the previous page; 0 from the start")
        ] = 0,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> dict[str, Any]:
        """Documents for this unit, oldest first, as JSON with a link to the sealed XML."""
        return status.inbox_page(rt.inbox, cursor, limit)

    @app.get("/v1/events", tags=["courts", "units"], responses=_ERRORS)
    def get_events(
        caller: Annotated[Caller, Depends(require("read"))],
        cursor: Annotated[
            int, Query(ge=0, description="next_cursor of the previous page; 0 from the start")
        ] = 0,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> dict[str, Any]:
        """What arrived after ``cursor``, oldest first: documents served, rejected, answered
        (courts), documents received (units). ``id`` is stable: use it to drop duplicates."""
        return events.events_page(rt.inbox, cursor, limit)

    @app.get(
        "/v1/events/stream",
        tags=["courts", "units"],
        responses={
            **_ERRORS,
            200: {"content": {"text/event-stream": {}}, "description": "Server-Sent Events"},
        },
        response_class=StreamingResponse,
    )
    def stream_events(
        request: Request,
        caller: Annotated[Caller, Depends(require("read"))],
        cursor: Annotated[
            int | None, Query(ge=0, description="start after this cursor (default: Last-Event-ID, else 0)")
        ] = None,
        last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
    ) -> StreamingResponse:
        """The same events as Server-Sent Events, as they arrive."""
        start = cursor if cursor is not None else int(last_event_id) if (last_event_id or "").isdigit() else 0
        return StreamingResponse(
            events.stream(request, rt.inbox, start),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    @app.post(
        "/v1/inbox/{document_id}/result",
        status_code=202,
        tags=["units"],
        responses=_ERRORS,
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/ExecutionReceipt"}}
                },
            }
        },
    )
    async def post_result(
        document_id: str, request: Request, caller: Annotated[Caller, Depends(require("answer"))]
    ) -> JSONResponse:
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
                log,
                "gateway.answered",
                unit=rt.unit,
                document_id=document_id,
                receipt_id=done.receipt_id,
                who=caller.name,
            )
        return _accepted("receipt_id", done.receipt_id, done.new)

    return app


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


def _install_errors(app: FastAPI) -> None:
    def answer(request: Request, error: GatewayError) -> JSONResponse:
        request.state.codes = [p.code for p in error.problems]
        # RFC 6750: a 401 names the scheme the client should use
        headers = {"WWW-Authenticate": 'Bearer realm="liandong-gateway"'} if error.status == 401 else None
        return response(error.status, error.problems, headers)

    @app.exception_handler(GatewayError)
    async def gateway_error(request: Request, exc: GatewayError) -> JSONResponse:
        return answer(request, exc)

    @app.exception_handler(LiandongError)
    async def liandong_error(request: Request, exc: LiandongError) -> JSONResponse:
        return answer(request, GatewayError.from_liandong(exc))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's default 422 body replaced by the house body: a parameter named by its path
        errors = list(exc.errors())
        found = field_problems(errors, code="GW_PARAMETER_INVALID")
        return answer(request, GatewayError(found))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 404:
            found = problem("GW_ROUTE_NOT_FOUND", method=request.method, path=request.url.path)
            return answer(request, GatewayError([found], 404))
        found = problem("GW_METHOD_NOT_ALLOWED", method=request.method, path=request.url.path)
        return answer(request, GatewayError([found], exc.status_code))


def _install_audit(app: FastAPI) -> None:
    @app.middleware("http")
    async def audit(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        rt: GatewayRuntime = request.app.state.runtime
        try:
            result = await call_next(request)
        except Exception as exc:  # a bug: the house body here, so no server prints a traceback
            # the exception's text may quote a document: logged by class only
            event(
                log, "gateway.internal_error", logging.ERROR, error=type(exc).__name__, path=request.url.path
            )
            request.state.codes = ["GW_INTERNAL"]
            result = response(500, GatewayError.of("GW_INTERNAL").problems)
        route = request.scope.get("route")  # the template, never a document id: bounded labels
        rt.metrics.requests.labels(getattr(route, "path", "unmatched"), str(result.status_code)).inc()
        client = f"{request.client.host}:{request.client.port}" if request.client else None
        await run_in_threadpool(
            rt.audit.record,
            who=getattr(request.state, "who", None),
            client=client,
            method=request.method,
            path=request.url.path,
            status=result.status_code,
            codes=getattr(request.state, "codes", None),
        )
        return result


def _install_openapi(app: FastAPI) -> None:
    """The OpenAPI document with the document models' own JSON schemas as components."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for model in (Document, ExecutionReceipt):
            found = model.model_json_schema(
                by_alias=True, ref_template="#/components/schemas/{model}", mode="validation"
            )
            components.update(found.pop("$defs", {}))
            components[model.__name__] = found
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _accepted(id_field: str, document_id: str, new: bool, *, location: bool = False) -> JSONResponse:
    """202 for a document the gateway sealed and sent (or had already: ``new`` False), with where
    to follow it and its sealed XML."""
    status_url = f"/v1/documents/{document_id}"
    return JSONResponse(
        {id_field: document_id, "status_url": status_url, "xml_url": status.xml_url(document_id), "new": new},
        status_code=202,
        headers={"Location": status_url} if location else None,
    )
