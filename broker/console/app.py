"""The console's pages (FastAPI, server-rendered Jinja2 templates, plain HTML forms).

Every page works through the gateway parts a unit already has — :mod:`broker.gateway.submit`
to check, seal and publish, :mod:`broker.gateway.answer` to answer exactly once,
:mod:`broker.gateway.status` to follow a document — so a document made in the console is
checked, sealed and recorded exactly as one posted to the gateway's API.

Access (issue 13; 003 SPC–MPS 五(二)): every page under ``/u/{unit}/`` belongs to one unit and
opens only for a person of that unit with a role the page allows, otherwise 403
``CONSOLE_FORBIDDEN``; every login and every action is written to the operator audit log.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from broker.console import documents as docs
from broker.console import (
    pages_admin,
    pages_court,
    pages_desk,
    pages_office,
    pages_session,
)
from broker.console.accounts import ROLE_NAMES, AccountStore
from broker.console.oversight import LedgerView
from broker.console.web import (
    HERE,
    RESULT_NAMES,
    SESSION_COOKIE,
    STATE_NAMES,
    Console,
    ConsoleError,
    LoginNeeded,
    base_path,
    log,
    page,
)
from broker.errors import problem
from broker.gateway.problems import GatewayError
from broker.gateway.runtime import GatewayRuntime
from broker.logs import event


def create_console(
    desks: Mapping[str, GatewayRuntime], accounts: AccountStore, *, ledger: LedgerView | None = None
) -> FastAPI:
    """The console for the units in ``desks`` (one gateway's unit, or several units a linkage
    office runs desks for), its people in ``accounts``; with ``ledger`` (the hub's, read only)
    the reviewer sees each document's story and the office its supervision report. Mount it
    (``/console``)."""
    templates = Jinja2Templates(directory=HERE / "templates")
    templates.env.globals.update(
        role_names=ROLE_NAMES, state_names=STATE_NAMES, result_names=RESULT_NAMES, title=docs.title
    )
    console = Console(desks, accounts, templates, ledger)
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    app.state.console = console
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    _install_errors(app, console)
    _install_headers(app)
    for pages in (pages_session, pages_court, pages_desk, pages_office, pages_admin):
        pages.register(app, console)
    return app


def _install_headers(app: FastAPI) -> None:
    """Headers every page gets: never framed by another site (clickjacking), never cached (the
    pages carry personal data), no content sniffing, no referrer leaving with a document id."""

    @app.middleware("http")
    async def headers(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        if not request.url.path.startswith(f"{base_path(request)}/static/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response


def console_for(rt: GatewayRuntime) -> FastAPI:
    """The console of one gateway: its unit's desk, the accounts beside the gateway's state, the
    hub's ledger when ``http.console.ledger_url`` names it."""
    settings = rt.config.http.console
    accounts = AccountStore(rt.config.http.state.with_name("console.db"), settings.session_minutes)
    ledger = (
        LedgerView(settings.ledger_url, settings.ledger_schema, rt.checker.registry)
        if settings.ledger_url
        else None
    )
    return create_console({rt.unit: rt}, accounts, ledger=ledger)


def _install_errors(app: FastAPI, console: Console) -> None:
    @app.exception_handler(LoginNeeded)
    async def login_needed(request: Request, exc: LoginNeeded) -> Response:
        target = f"{base_path(request)}/login" + ("?expired=1" if exc.expired else "")
        response = RedirectResponse(target, status_code=303)
        if exc.expired:
            response.delete_cookie(SESSION_COOKIE, path=base_path(request) or "/")
        return response

    @app.exception_handler(ConsoleError)
    async def console_error(request: Request, exc: ConsoleError) -> Response:
        return page(console, request, "error.html", exc.status, problems=exc.problems)

    @app.exception_handler(GatewayError)
    async def gateway_error(request: Request, exc: GatewayError) -> Response:
        return page(console, request, "error.html", exc.status, problems=exc.problems)

    @app.exception_handler(RequestValidationError)
    async def bad_parameter(request: Request, exc: RequestValidationError) -> Response:
        found = [
            problem("CONSOLE_FIELD_INVALID", field=".".join(map(str, e["loc"])), detail=e["msg"])
            for e in exc.errors()
        ]
        return page(console, request, "error.html", 422, problems=found)

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception) -> Response:
        # a bug: the house page, not a traceback; the exception's text may quote a document,
        # so it is logged by class only (broker/logs.py)
        event(log, "console.internal_error", logging.ERROR, error=type(exc).__name__, path=request.url.path)
        return page(console, request, "error.html", 500, problems=[problem("GW_INTERNAL")])

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        found = problem("GW_ROUTE_NOT_FOUND", method=request.method, path=request.url.path)
        return page(console, request, "error.html", exc.status_code, problems=[found])


