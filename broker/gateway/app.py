"""The gateway's HTTP application (FastAPI): the routers of :mod:`broker.gateway.routes`, the
audit log, the OpenAPI document and one error body for everything (docs/gateway.md)."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Iterable
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from starlette.datastructures import State
from starlette.exceptions import HTTPException as StarletteHTTPException

from broker.documents.document import Document
from broker.errors import LiandongError, problem
from broker.gateway import kinds, routes
from broker.gateway.apidocs import install_api_page
from broker.gateway.auditing import AuditMiddleware
from broker.gateway.problems import GatewayError, field_problems, response
from broker.gateway.routes.answers import ANSWER_MODELS
from broker.gateway.runtime import GatewayRuntime

log = logging.getLogger("liandong.gateway")


def create_app(rt: GatewayRuntime, routers: Iterable[APIRouter] = ()) -> FastAPI:
    """The application for one gateway: the routers of :data:`broker.gateway.routes.ROUTERS`
    (then ``routers``, for a test or an embedding program), the applications of
    :data:`~broker.gateway.routes.MOUNTS`, access by token and scope as dependencies
    (:mod:`broker.gateway.auth`), the audit log, one error body for everything.

    The interactive docs page (``/docs``) is Swagger UI with local assets
    (:mod:`broker.gateway.apidocs`): the gateway must work on a machine with no internet
    (docs/gateway.md); ReDoc's page (CDN only) is off."""
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
    _install_audit(app, rt)
    _install_openapi(app)
    install_api_page(app)
    for router in [*(routes.resolve(name) for name in routes.ROUTERS), *routers]:
        app.include_router(router)
    for prefix, name in routes.MOUNTS.items():
        mounted = routes.resolve(name)
        if inspect.isfunction(mounted):
            app.mount(prefix, mounted(rt))  # a factory builds a whole application, its error pages too
            continue
        if isinstance(getattr(mounted, "state", None), State):
            mounted.state.runtime = rt  # broker.gateway.auth reads it from the app it runs in
        if isinstance(mounted, FastAPI):
            _install_errors(mounted)  # a refused token there is a 401 with the house body too
        app.mount(prefix, mounted)
    return app


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


def _install_audit(app: FastAPI, rt: GatewayRuntime) -> None:
    # pure ASGI (broker/gateway/auditing.py), not @app.middleware("http"): a quarter of the
    # request path's time was BaseHTTPMiddleware's task and stream plumbing (docs/performance.md)
    app.add_middleware(AuditMiddleware, runtime=rt)


def _install_openapi(app: FastAPI) -> None:
    """The OpenAPI document with the document models' own JSON schemas as components."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for model in (Document, *ANSWER_MODELS):
            found = model.model_json_schema(
                by_alias=True, ref_template="#/components/schemas/{model}", mode="validation"
            )
            components.update(found.pop("$defs", {}))
            components[model.__name__] = found
        # "Kind" tells apart the members of a choice that share a shape (BankRotatingFreeze, ...)
        kinds.openapi(components, [Document, *ANSWER_MODELS])
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
