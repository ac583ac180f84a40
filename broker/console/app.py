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
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, get_args

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from broker.console import documents as docs
from broker.console import releases, replies
from broker.console.accounts import ROLE_NAMES, AccountStore, Role, Session
from broker.console.forms import complete, field_errors, fields_of, nested
from broker.console.oversight import LedgerView
from broker.documents import codec
from broker.documents.bodies import AssistanceNotice, ExecutionReceipt
from broker.documents.catalogue import EXECUTING_KINDS, MEASURE_UNIT_KINDS, UnitKind
from broker.documents.common import NaturalPerson, Officer, RulingRef
from broker.documents.document import CHINA_TZ, Document
from broker.documents.measures import Measure
from broker.documents.results import MeasureResult, ResultStatus
from broker.errors import LiandongError, Problem, problem
from broker.gateway import answer as answers
from broker.gateway import status, submit
from broker.gateway.problems import GatewayError
from broker.gateway.runtime import GatewayRuntime
from broker.logs import event
from broker.parsing.hardened import parse
from broker.render.labels import ITEMS

log = logging.getLogger("liandong.console")
HERE = Path(__file__).parent
SESSION_COOKIE = "ld_session"
LOGIN_CSRF_COOKIE = "ld_login_csrf"

READERS = (Role.OFFICER, Role.CLERK, Role.REVIEWER)
"""Who may read a document of their own unit."""

_ID = frozenset({"MeasureId"})
MEASURES: dict[str, type] = {
    m.xml_tag: m
    for m in get_args(Measure)
    if complete(m, skip=_ID)  # type: ignore[attr-defined]
}
"""Every measure whose form can be generated (a measure that needs a list, of parcels say, has none)."""
MEASURE_FIELDS = {
    tag: fields_of(m, skip=_ID, choose={"Subject": NaturalPerson}) for tag, m in MEASURES.items()
}
"""The inputs of each measure, generated from its model (:mod:`broker.console.forms`)."""
OFFICER_FIELDS = fields_of(Officer)

RESULT_NAMES = {
    ResultStatus.EXECUTED: "已执行",
    ResultStatus.PARTIALLY_EXECUTED: "部分执行（限额冻结）",
    ResultStatus.ROTATING: "轮候",
    ResultStatus.NOT_EXECUTED: "未执行",
}
STATE_NAMES = {
    "published": "已发布",
    "served": "已送达",
    "answered": "已回执",
    "rejected": "被拒收",
    "received": "已收到",
    # from the gateway's status (broker/gateway/status.py): the deadline passed with no result,
    # every measure lifted by a release notice (001 art. 21)
    "overdue": "已逾期",
    "released": "已解除",
}


class ConsoleError(Exception):
    """A page's error: shown as a page with the code and both messages, with ``status``."""

    def __init__(self, problems: list[Problem], status: int):
        self.problems, self.status = problems, status

    @classmethod
    def of(cls, code: str, status: int, **params: Any) -> ConsoleError:
        return cls([problem(code, **params)], status)


class _LoginNeeded(Exception):
    def __init__(self, expired: bool):
        self.expired = expired


@dataclass
class Console:
    """What every page works with."""

    desks: Mapping[str, GatewayRuntime]
    accounts: AccountStore
    templates: Jinja2Templates
    ledger: LedgerView | None = None

    def unit_name(self, code: str) -> str:
        for rt in self.desks.values():
            entry = rt.checker.registry.unit(code) if rt.checker.registry else None
            if entry is not None:
                return entry.name
        return code


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
    _routes(app, console)
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
        if not request.url.path.startswith(f"{_base(request)}/static/"):
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


# --- helpers ------------------------------------------------------------------------------------


def _base(request: Request) -> str:
    return request.scope.get("root_path", "").rstrip("/")


def _client(request: Request) -> str | None:
    return f"{request.client.host}:{request.client.port}" if request.client else None


def page(
    console: Console, request: Request, name: str, status_code: int = 200, **context: Any
) -> HTMLResponse:
    session: Session | None = getattr(request.state, "session", None)
    return console.templates.TemplateResponse(
        request,
        name,
        {
            "base": _base(request),
            "me": session.account if session else None,
            "csrf": session.csrf if session else "",
            "unit_name": console.unit_name,
            **context,
        },
        status_code=status_code,
    )


def _session(console: Console, request: Request) -> Session:
    cookie = request.cookies.get(SESSION_COOKIE)
    found = console.accounts.session(cookie)
    if found is None:
        raise _LoginNeeded(expired=bool(cookie))
    request.state.session = found
    return found


def _forbidden(console: Console, request: Request, me: Session) -> ConsoleError:
    """403 for a page not this person's: an audit line (who, from where, what) and a log event."""
    console.accounts.record(
        "forbidden",
        "CONSOLE_FORBIDDEN",
        who=me.account.username,
        unit=me.account.unit,
        client=_client(request),
        target=request.url.path,
    )
    event(log, "console.forbidden", logging.WARNING, account=me.account.id, unit=me.account.unit, path=request.url.path)
    return ConsoleError.of("CONSOLE_FORBIDDEN", 403, what=request.url.path)


def _allow(console: Console, request: Request, unit: str, *roles: Role) -> tuple[Session, GatewayRuntime]:
    """The session of a person of ``unit`` with one of ``roles``; 403 and an audit line otherwise."""
    me = _session(console, request)
    if me.account.unit != unit or me.account.role not in roles:
        raise _forbidden(console, request, me)
    rt = console.desks.get(unit)
    if rt is None:
        raise ConsoleError.of("CONSOLE_UNIT_UNKNOWN", 404, unit=unit)
    return me, rt


async def _form(request: Request, me: Session) -> dict[str, str]:
    """The posted form, after its CSRF token is checked against the session's."""
    form = {k: str(v) for k, v in (await request.form()).items()}
    if not secrets.compare_digest(form.get("csrf_token", ""), me.csrf):
        raise ConsoleError.of("CONSOLE_CSRF", 403)
    return form


def _audit(
    console: Console, request: Request, me: Session, action: str, target: str | None, outcome: str = "ok"
) -> None:
    console.accounts.record(
        action, outcome, who=me.account.username, unit=me.account.unit, client=_client(request), target=target
    )
    # the log names the account by its number: user names can be people's names
    event(log, "console.action", account=me.account.id, unit=me.account.unit, action=action, outcome=outcome)


def _problems(exc: Exception) -> list[Problem]:
    return list(getattr(exc, "problems", []))


# --- errors ---------------------------------------------------------------------------------


def _install_errors(app: FastAPI, console: Console) -> None:
    @app.exception_handler(_LoginNeeded)
    async def login_needed(request: Request, exc: _LoginNeeded) -> Response:
        target = f"{_base(request)}/login" + ("?expired=1" if exc.expired else "")
        response = RedirectResponse(target, status_code=303)
        if exc.expired:
            response.delete_cookie(SESSION_COOKIE, path=_base(request) or "/")
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


# --- pages --------------------------------------------------------------------------------------


def _routes(app: FastAPI, console: Console) -> None:
    accounts = console.accounts

    @app.get("/login", response_class=HTMLResponse)
    def login_page(request: Request, expired: int = 0) -> Response:
        token = secrets.token_urlsafe(32)
        problems = [problem("CONSOLE_SESSION_EXPIRED")] if expired else []
        response = page(console, request, "login.html", login_csrf=token, problems=problems)
        response.set_cookie(
            LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", path=_base(request) or "/"
        )
        return response

    @app.post("/login")
    async def login(request: Request) -> Response:
        form = {k: str(v) for k, v in (await request.form()).items()}
        # before a session exists the token is a double-submit cookie (the form's copy must match)
        cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
        if not cookie or not secrets.compare_digest(form.get("csrf_token", ""), cookie):
            raise ConsoleError.of("CONSOLE_CSRF", 403)
        username = form.get("username", "").strip()
        try:
            me = await run_in_threadpool(accounts.login, username, form.get("password", ""), form.get("code"))
        except LiandongError as exc:
            accounts.record("login_failed", exc.codes[0], who=username or None, client=_client(request))
            event(log, "console.login_failed", logging.WARNING, code=exc.codes[0])
            token = secrets.token_urlsafe(32)
            response = page(
                console,
                request,
                "login.html",
                401,
                login_csrf=token,
                problems=exc.problems,
                username=username,
            )
            response.set_cookie(
                LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", path=_base(request) or "/"
            )
            return response
        accounts.record("login", who=me.account.username, unit=me.account.unit, client=_client(request))
        event(log, "console.login", account=me.account.id, unit=me.account.unit, role=me.account.role.value)
        response = RedirectResponse(f"{_base(request)}/", status_code=303)
        response.set_cookie(
            SESSION_COOKIE, me.id, httponly=True, samesite="strict", path=_base(request) or "/"
        )
        response.delete_cookie(LOGIN_CSRF_COOKIE, path=_base(request) or "/")
        return response

    @app.post("/logout")
    async def logout(request: Request) -> Response:
        me = _session(console, request)
        await _form(request, me)
        accounts.logout(me.id)
        _audit(console, request, me, "logout", None)
        response = RedirectResponse(f"{_base(request)}/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path=_base(request) or "/")
        return response

    @app.get("/")
    def home(request: Request) -> Response:
        me = _session(console, request).account
        where = {
            Role.OFFICER: f"/u/{me.unit}/sent",
            Role.CLERK: f"/u/{me.unit}/inbox",
            Role.REVIEWER: f"/u/{me.unit}/documents",
            Role.SUPERVISOR: "/office/report",
            Role.ADMIN: "/admin/accounts",
        }[me.role]
        return RedirectResponse(_base(request) + where, status_code=303)

    # --- court officer ------------------------------------------------------------------------

    @app.get("/u/{unit}/compose", response_class=HTMLResponse)
    def compose_page(request: Request, unit: str, measures: str = "1") -> Response:
        _, rt = _allow(console, request, unit, Role.OFFICER)
        return _compose(console, request, rt, {}, _count(measures), {}, [])

    @app.post("/u/{unit}/compose", response_class=HTMLResponse)
    async def compose(request: Request, unit: str) -> Response:
        """Build the notice from the form, check it as the hub will, and show it for sealing."""
        me, rt = _allow(console, request, unit, Role.OFFICER)
        form = await _form(request, me)
        count = _count(form.get("measures", "1"))
        if form.get("add"):
            return _compose(console, request, rt, form, count + 1, {}, [])
        if form.get("refresh"):  # another recipient or measure kind: its fields
            return _compose(console, request, rt, form, count, {}, [])
        try:
            draft = _freeze_notice(rt, form, count)
        except _FormInvalid as exc:
            return _compose(console, request, rt, form, count, exc.errors, [], 422)
        checked = await run_in_threadpool(
            rt.checker.check, draft, signed=False, received_at=datetime.now(CHINA_TZ)
        )
        if not checked.ok:
            return _compose(console, request, rt, form, count, {}, checked.problems, 422)
        document = codec.from_element(parse(draft))
        return page(
            console,
            request,
            "preview.html",
            unit=unit,
            draft=draft.decode("utf-8"),
            view=docs.view(document),
            xml=draft.decode("utf-8"),
            wenshu=docs.wenshu(rt, draft),
        )

    @app.get("/u/{unit}/compose/query", response_class=HTMLResponse)
    def query_page(request: Request, unit: str) -> Response:
        _, rt = _allow(console, request, unit, Role.OFFICER)
        return _other_notice(console, request, rt, "query.html", {}, {}, [])

    @app.post("/u/{unit}/compose/query", response_class=HTMLResponse)
    async def compose_query(request: Request, unit: str) -> Response:
        """A query notice (协助查询通知书) from its form, checked as the hub will, for sealing."""
        me, rt = _allow(console, request, unit, Role.OFFICER)
        form = await _form(request, me)
        return await _checked_preview(console, request, rt, "query.html", form, releases.query_notice)

    @app.get("/u/{unit}/release", response_class=HTMLResponse)
    def release_page(request: Request, unit: str, case: str) -> Response:
        _, rt = _allow(console, request, unit, Role.OFFICER)
        return _other_notice(console, request, rt, "release.html", {"CaseNumber": case}, {}, [])

    @app.post("/u/{unit}/release", response_class=HTMLResponse)
    async def compose_release(request: Request, unit: str) -> Response:
        """A release notice (解除协助执行通知书) of measures chosen from the case's earlier
        notices (001 art. 21), checked as the hub will, for sealing."""
        me, rt = _allow(console, request, unit, Role.OFFICER)
        form = await _form(request, me)
        return await _checked_preview(console, request, rt, "release.html", form, releases.release_notice)

    @app.post("/u/{unit}/compose/check", response_class=HTMLResponse)
    async def compose_check(request: Request, unit: str) -> Response:
        """The form checked as the officer types (htmx posts it on each change): values the model
        refuses, then — once every required field is there — every rule the hub will apply."""
        me, rt = _allow(console, request, unit, Role.OFFICER)
        form = await _form(request, me)
        count = _count(form.get("measures", "1"))
        problems: list[Problem] = []
        try:
            draft = _freeze_notice(rt, form, count)
        except _FormInvalid as exc:
            # a field not filled in yet is not a mistake while typing; a malformed one is
            errors = {k: v for k, v in exc.errors.items() if form.get(k, "").strip()}
            missing = len(exc.errors) - len(errors)
            return page(console, request, "_checks.html", errors=errors, problems=[], missing=missing)
        checked = await run_in_threadpool(
            rt.checker.check, draft, signed=False, received_at=datetime.now(CHINA_TZ)
        )
        problems = checked.problems
        return page(console, request, "_checks.html", errors={}, problems=problems, missing=0)

    @app.post("/u/{unit}/publish")
    async def publish(request: Request, unit: str) -> Response:
        """Seal and publish through the gateway's submit path; the document id is the
        idempotency key, so a second click publishes nothing twice."""
        me, rt = _allow(console, request, unit, Role.OFFICER)
        form = await _form(request, me)
        raw = form.get("draft", "").encode("utf-8")
        try:
            document_id = str(codec.from_element(parse(raw)).header.document_id)
            done = await run_in_threadpool(submit.submit, rt, raw, "xml", f"console:{document_id}")
        except (GatewayError, LiandongError) as exc:
            _audit(
                console, request, me, "publish", None, _problems(exc)[0].code if _problems(exc) else "error"
            )
            raise ConsoleError(_problems(exc), 422) from None
        _audit(console, request, me, "publish", done.document_id)
        if done.new:
            rt.metrics.published.inc()
        return RedirectResponse(f"{_base(request)}/u/{unit}/documents/{done.document_id}", status_code=303)

    @app.get("/u/{unit}/sent", response_class=HTMLResponse)
    def sent(request: Request, unit: str) -> Response:
        _, rt = _allow(console, request, unit, Role.OFFICER, Role.REVIEWER)
        rows = [docs.row(rt.store, s.document_id, rt.deadlines) for s in reversed(rt.store.sent())]
        rows = [r for r in rows if r["type"] not in ("ExecutionReceipt",)]
        return page(console, request, "sent.html", unit=unit, rows=rows)

    @app.get("/u/{unit}/cases/{case:path}", response_class=HTMLResponse)
    def case(request: Request, unit: str, case: str) -> Response:
        me, rt = _allow(console, request, unit, *READERS)
        _audit(console, request, me, "view_case", case)
        # GW_NOT_FOUND: not a case of this unit; with the gateway's deadlines: overdue, released
        found = status.case_documents(rt.store, case, rt.deadlines)
        releasable = me.account.role is Role.OFFICER and any(
            r["direction"] == "out" and r["type"] == "AssistanceNotice" for r in found
        )
        return page(console, request, "case.html", unit=unit, case=case, rows=found, releasable=releasable)

    @app.get("/u/{unit}/documents", response_class=HTMLResponse)
    def documents(request: Request, unit: str) -> Response:
        _, rt = _allow(console, request, unit, *READERS)
        rows = [docs.row(rt.store, s.document_id, rt.deadlines) for s in reversed(rt.store.sent())]
        rows += [
            docs.row(rt.store, e.document_id, rt.deadlines)
            for e in reversed(rt.store.inbox())
            if e.state != "invalid" and e.doc_type not in status.HUB_ANSWERS
        ]
        return page(console, request, "sent.html", unit=unit, rows=rows)

    @app.get("/u/{unit}/documents/{document_id}", response_class=HTMLResponse)
    def document(request: Request, unit: str, document_id: str) -> Response:
        me, rt = _allow(console, request, unit, *READERS)
        _audit(console, request, me, "view", document_id)
        state = status.document_status(rt.store, document_id, rt.deadlines)
        raw = status.sealed_xml(rt.store, document_id)
        receipts = [
            docs.receipt(rt.store, a["document_id"])
            for a in state.get("answers", [])
            if a["type"] == "ExecutionReceipt"
        ]
        # the unit's other answers: an extension moves the deadline, a review suggestion does not;
        # a lead report tells where the person was found
        replies_given = [
            {**a, "view": docs.receipt(rt.store, a["document_id"])["view"]}
            for a in state.get("answers", [])
            if a["type"] in ("ExtensionNotice", "ReviewSuggestion", "LeadReport")
        ]
        story = (
            console.ledger.story(document_id) if console.ledger and me.account.role is Role.REVIEWER else None
        )
        view_of = codec.from_element(parse(raw))
        return page(
            console,
            request,
            "document.html",
            unit=unit,
            state=state,
            view=docs.view(view_of),
            seal=docs.seal(raw),
            receipts=receipts,
            replies_given=replies_given,
            wenshu=docs.wenshu(rt, raw),
            chain=docs.chain(raw),
            story=story,
            # a document this unit sent and the hub served: when the recipient must answer
            due=docs.due_for(
                rt, raw, state["type"], view_of.header.recipient, state["service"]["received_at"]
            )
            if state.get("service")
            else None,
        )

    @app.get("/u/{unit}/documents/{document_id}/pdf")
    def document_pdf(request: Request, unit: str, document_id: str) -> Response:
        me, rt = _allow(console, request, unit, *READERS)
        _audit(console, request, me, "download_pdf", document_id)
        pdf = docs.pdf(rt, status.sealed_xml(rt.store, document_id))
        return Response(
            pdf,
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="{document_id}.pdf"'},
        )

    @app.get("/u/{unit}/documents/{document_id}/xml")
    def document_xml(request: Request, unit: str, document_id: str) -> Response:
        me, rt = _allow(console, request, unit, *READERS)
        _audit(console, request, me, "download_xml", document_id)
        return Response(
            status.sealed_xml(rt.store, document_id),
            media_type="application/xml",
            headers={"Content-Disposition": f'attachment; filename="{document_id}.xml"'},
        )

    # --- unit clerk (the manual desk) --------------------------------------------------------------

    @app.get("/u/{unit}/inbox", response_class=HTMLResponse)
    def inbox(request: Request, unit: str) -> Response:
        _, rt = _allow(console, request, unit, Role.CLERK, Role.REVIEWER)
        entries, _ = rt.inbox.page(0, 1000)
        rows = [docs.inbox_row(rt, e) for e in reversed(entries)]
        return page(console, request, "inbox.html", unit=unit, rows=rows)

    @app.get("/u/{unit}/inbox/{document_id}", response_class=HTMLResponse)
    def inbox_item(request: Request, unit: str, document_id: str) -> Response:
        me, rt = _allow(console, request, unit, Role.CLERK, Role.REVIEWER)
        _audit(console, request, me, "view", document_id)
        return _answer_page(console, request, rt, document_id, {}, [])

    @app.post("/u/{unit}/inbox/{document_id}/answer", response_class=HTMLResponse)
    async def answer(request: Request, unit: str, document_id: str) -> Response:
        """The clerk's outcome as a receipt of result, through the gateway's answer path: built,
        checked, sealed and sent exactly once (003 bank rules 8, 15, 17)."""
        me, rt = _allow(console, request, unit, Role.CLERK)
        form = await _form(request, me)
        try:
            receipt = _receipt(rt, document_id, form)
            done = await run_in_threadpool(answers.answer, rt, document_id, receipt)
        except _FormInvalid as exc:
            return _answer_page(console, request, rt, document_id, form, [], exc.errors, 422)
        except GatewayError as exc:
            _audit(console, request, me, "answer", document_id, exc.problems[0].code)
            return _answer_page(console, request, rt, document_id, form, exc.problems, status_code=exc.status)
        _audit(console, request, me, "answer", document_id)
        if done.new:
            rt.metrics.answered.inc()
        return RedirectResponse(f"{_base(request)}/u/{unit}/inbox/{document_id}", status_code=303)

    @app.post("/u/{unit}/inbox/{document_id}/{kind}", response_class=HTMLResponse)
    async def reply(request: Request, unit: str, document_id: str, kind: str) -> Response:
        """An extension notice or a review suggestion from its form, through the gateway's
        answer path: checked, sealed and sent once per kind (002 四.7; 001 第二十条)."""
        me, rt = _allow(console, request, unit, Role.CLERK)
        if kind not in replies.KINDS:
            raise ConsoleError.of("GW_ROUTE_NOT_FOUND", 404, method="POST", path=request.url.path)
        form = await _form(request, me)
        action = replies.KINDS[kind].xml_tag
        try:
            body = (
                replies.extension(form)
                if kind == "extension"
                else replies.review(form)
                if kind == "review"
                else replies.lead(form, document_id)
            )
            done = await run_in_threadpool(answers.answer, rt, document_id, body)
        except replies.ReplyInvalid as exc:
            return _answer_page(
                console, request, rt, document_id, {}, [], status_code=422, reply=(kind, form, exc.errors)
            )
        except GatewayError as exc:
            _audit(console, request, me, action, document_id, exc.problems[0].code)
            return _answer_page(
                console,
                request,
                rt,
                document_id,
                {},
                exc.problems,
                status_code=exc.status,
                reply=(kind, form, {}),
            )
        _audit(console, request, me, action, document_id)
        if done.new:
            rt.metrics.answered.inc()
        return RedirectResponse(f"{_base(request)}/u/{unit}/inbox/{document_id}#{kind}", status_code=303)

    # --- the linkage office -------------------------------------------------------------------------

    @app.get("/office/report", response_class=HTMLResponse)
    def office_report(request: Request, since: date | None = None) -> Response:
        """Overdue and cooperation (配合度) per unit with charts, each number linked to its
        documents: the weekly report of docs/reports.md, from the hub's ledger."""
        me = _role(console, request, Role.SUPERVISOR)
        _audit(console, request, me, "view_report", since.isoformat() if since else None)
        if console.ledger is None:
            raise ConsoleError.of("CONSOLE_NO_LEDGER", 503)
        report = console.ledger.weekly_report(since)
        return page(console, request, "report.html", report=report, since=since)

    @app.get("/office/obligations", response_class=HTMLResponse)
    def office_obligations(request: Request, since: date | None = None) -> Response:
        """Issue 17 in the office's page: entrustment ratings and complaints per entrusted court
        (003 事项委托 第十三条) and the punishing units that have not sent a quarterly punishment
        report (003 联合惩戒备忘录 二), each number linked to the documents behind it."""
        me = _role(console, request, Role.SUPERVISOR)
        _audit(console, request, me, "view_obligations", since.isoformat() if since else None)
        ledger = _ledger(console)
        start, until = _period(since)
        courts, missing = ledger.obligations(start, until)
        return page(
            console,
            request,
            "obligations.html",
            courts=courts,
            missing=missing,
            since=start.date(),
            until=until,
        )

    @app.get("/office/obligations/entrustments/{court}", response_class=HTMLResponse)
    def office_entrustments(
        request: Request, court: str, kind: str = "rating", since: date | None = None
    ) -> Response:
        """The ratings of a court, or the complaints naming it: the documents behind a number."""
        me = _role(console, request, Role.SUPERVISOR)
        _audit(console, request, me, "view_entrustments", court)
        if kind not in ("rating", "complaint"):
            raise ConsoleError.of("CONSOLE_FIELD_INVALID", 422, field="kind", detail="rating | complaint")
        start, until = _period(since)
        rows = _ledger(console).entrustment_documents(court, kind, start, until)
        return page(
            console,
            request,
            "obligation_documents.html",
            rows=rows,
            court=court,
            kind=kind,
            since=start.date(),
        )

    @app.get("/office/obligations/punishment/{unit}/{year}Q{quarter}", response_class=HTMLResponse)
    def office_punishment(request: Request, unit: str, year: int, quarter: int) -> Response:
        """The hub's reminder and escalation behind a missing quarterly report."""
        me = _role(console, request, Role.SUPERVISOR)
        _audit(console, request, me, "view_punishment_report", f"{unit}:{year}Q{quarter}")
        if not 1 <= quarter <= 4:
            raise ConsoleError.of("CONSOLE_FIELD_INVALID", 422, field="quarter", detail="1-4")
        rows = _ledger(console).punishment_documents(unit, year, quarter)
        return page(
            console, request, "obligation_documents.html", rows=rows, court=unit, kind="punishment",
            quarter=f"{year}Q{quarter}", since=None,
        )  # fmt: skip

    # --- the administrator ------------------------------------------------------------------------

    @app.get("/admin/accounts", response_class=HTMLResponse)
    def admin_accounts(request: Request) -> Response:
        _admin(console, request)
        return page(
            console,
            request,
            "accounts.html",
            accounts=accounts.accounts(),
            units=list(console.desks),
            roles=list(Role),
        )

    @app.post("/admin/accounts", response_class=HTMLResponse)
    async def admin_add(request: Request) -> Response:
        me = _admin(console, request)
        form = await _form(request, me)
        try:
            secret = await run_in_threadpool(
                accounts.add,
                form.get("username", ""),
                form.get("unit", ""),
                form.get("role", ""),
                form.get("password", ""),
                totp=bool(form.get("totp")),
            )
        except LiandongError as exc:
            _audit(console, request, me, "account_add", form.get("username"), exc.codes[0])
            return page(
                console,
                request,
                "accounts.html",
                422,
                accounts=accounts.accounts(),
                units=list(console.desks),
                roles=list(Role),
                problems=exc.problems,
            )
        _audit(console, request, me, "account_add", form.get("username"))
        return page(
            console,
            request,
            "accounts.html",
            accounts=accounts.accounts(),
            units=list(console.desks),
            roles=list(Role),
            secret=secret,
        )

    @app.post("/admin/accounts/{username}/unlock")
    async def admin_unlock(request: Request, username: str) -> Response:
        me = _admin(console, request)
        await _form(request, me)
        accounts.unlock(username)
        _audit(console, request, me, "account_unlock", username)
        return RedirectResponse(f"{_base(request)}/admin/accounts", status_code=303)

    @app.get("/admin/audit", response_class=HTMLResponse)
    def admin_audit(request: Request) -> Response:
        _admin(console, request)
        return page(console, request, "audit.html", entries=accounts.audit())


def _admin(console: Console, request: Request) -> Session:
    return _role(console, request, Role.ADMIN)


def _role(console: Console, request: Request, role: Role) -> Session:
    """A page of no one unit (accounts, the office's report): the role alone decides."""
    me = _session(console, request)
    if me.account.role is not role:
        raise _forbidden(console, request, me)
    return me


# --- the freeze notice and the receipt from their forms -----------------------------------------------


class _FormInvalid(Exception):
    def __init__(self, errors: dict[str, str]):
        self.errors = errors


def _count(value: str) -> int:
    """How many measures the form has: 1 to 20 (anything else: 1, never an error page)."""
    return max(1, min(int(value), 20)) if value.strip().isdigit() else 1


def _kind(form: dict[str, str], i: int) -> str:
    kind = form.get(f"M{i}.kind", "BankFreeze")
    return kind if kind in MEASURES else "BankFreeze"


def _freeze_notice(rt: GatewayRuntime, form: dict[str, str], count: int) -> bytes:
    """The unsigned 协助执行通知书 of the form: ``count`` measures (M1, M2, ...), each of the
    kind chosen (a freeze unless another is), validated by its model; which unit kind may take
    which measure is the rules' to say (001 art. 19; 003 bank rules 9–10)."""
    errors: dict[str, str] = {}
    measures = []
    for i in range(1, count + 1):
        try:
            measures.append(
                MEASURES[_kind(form, i)].model_validate({"MeasureId": f"M{i}", **nested(form, f"M{i}")})
            )
        except ValidationError as exc:
            errors.update(field_errors(exc, f"M{i}"))
    officers = []
    for i in (1, 2):
        data = nested(form, f"Officer{i}")
        if not data:
            continue
        try:
            officers.append(Officer.model_validate(data))
        except ValidationError as exc:
            errors.update(field_errors(exc, f"Officer{i}"))
    for name in ("Recipient", "CaseNumber"):
        if not form.get(name, "").strip():
            errors[name] = "必填 / required"
    if errors:
        raise _FormInvalid(errors)
    ruling = form.get("RulingNumber", "").strip()
    notice = AssistanceNotice(
        ruling=RulingRef(ruling_number=ruling) if ruling else None,
        measures=measures,
        remark=form.get("Remark", "").strip() or None,
    )
    document = Document.create(
        notice,
        sender=rt.unit,
        recipient=form["Recipient"].strip(),
        case_number=form["CaseNumber"].strip(),
        officers=officers,
    )
    return codec.to_bytes(document)


def _recipients(rt: GatewayRuntime) -> list[Any]:
    """The member units a court's notice can go to: every executing unit but the courts."""
    registry = rt.checker.registry
    return [
        u
        for u in (registry.units if registry else [])
        if u.kind in EXECUTING_KINDS and u.kind is not UnitKind.COURT
    ]


def _compose(
    console: Console,
    request: Request,
    rt: GatewayRuntime,
    form: dict[str, str],
    count: int,
    errors: dict[str, str],
    problems: list[Problem],
    status_code: int = 200,
) -> Response:
    registry = rt.checker.registry
    units = _recipients(rt)
    recipient = form.get("Recipient") or next((u.code for u in units if u.kind is UnitKind.BANK), "")
    kind = registry.kind_of(recipient) if registry else None
    # the measures the recipient's kind can take (catalogue), the freeze first
    kinds = [(t, ITEMS.get(t, t)) for t in MEASURES if kind is None or kind in MEASURE_UNIT_KINDS.get(t, ())]
    allowed = [t for t, _ in kinds] or ["BankFreeze"]
    chosen = [_kind(form, i) if _kind(form, i) in allowed else allowed[0] for i in range(1, count + 1)]
    measures = [(i, kind, MEASURE_FIELDS[kind]) for i, kind in enumerate(chosen, 1)]
    return page(
        console,
        request,
        "compose.html",
        status_code,
        unit=rt.unit,
        form={"Recipient": recipient, **form, **{f"M{i}.kind": k for i, k in enumerate(chosen, 1)}},
        count=count,
        measures=measures,
        kinds=kinds,
        officer_fields=OFFICER_FIELDS,
        errors=errors,
        problems=problems,
        units=units,
    )


def _receipt(rt: GatewayRuntime, document_id: str, form: dict[str, str]) -> ExecutionReceipt:
    """The receipt of result of the clerk's form: one result per measure of the notice."""
    notice = docs.received(rt, document_id)
    results, errors = [], {}
    for measure in getattr(notice.body, "measures", []):
        mid = measure.measure_id
        data: dict[str, Any] = {"MeasureId": mid, "Status": form.get(f"{mid}.Status", "")}
        for name in ("RequestedAmount", "ActualAmount"):
            if form.get(f"{mid}.{name}", "").strip():
                data[name] = {"Value": form[f"{mid}.{name}"].strip(), "Currency": "CNY"}
        if getattr(measure, "period", None) is not None and data["Status"] != ResultStatus.NOT_EXECUTED:
            data["Period"] = measure.period.model_dump(by_alias=True)
        if form.get(f"{mid}.Reason", "").strip():
            data["Reason"] = form[f"{mid}.Reason"].strip()
        try:
            results.append(MeasureResult.model_validate(data))
        except ValidationError as exc:
            errors.update(field_errors(exc, mid))
    if errors:
        raise _FormInvalid(errors)
    if not results:
        raise GatewayError.of("GW_NOT_ANSWERABLE", doc_type=notice.header.document_type.value)
    return ExecutionReceipt(results=results, remark=form.get("Remark", "").strip() or None)


def _answer_page(
    console: Console,
    request: Request,
    rt: GatewayRuntime,
    document_id: str,
    form: dict[str, str],
    problems: list[Problem],
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    reply: tuple[str, dict[str, str], dict[str, str]] | None = None,
) -> Response:
    """The document to answer, the result form (or the receipt given), and the forms of the
    other answers its type allows (:data:`broker.gateway.answer.ANSWERS_TO`), each replaced by
    the answer once given; ``reply`` is a posted reply form to show again (kind, values, errors)."""
    notice = docs.received(rt, document_id)
    given = rt.state.answer(document_id)
    doc_type = notice.header.document_type.value
    measures = getattr(notice.body, "measures", None) or []
    others = {
        kind: {
            "allowed": doc_type in answers.ANSWERS_TO[model.xml_tag]
            and (kind != "lead" or any(m.xml_tag in replies.LEAD_MEASURES for m in measures)),
            "given": docs.receipt(rt.store, found.document_id, sent=True)
            if (found := rt.state.answer(document_id, model.xml_tag))
            else None,
            "form": reply[1] if reply and reply[0] == kind else {},
            "errors": reply[2] if reply and reply[0] == kind else {},
        }
        for kind, model in replies.KINDS.items()
    }
    return page(
        console,
        request,
        "answer.html",
        status_code,
        unit=rt.unit,
        document_id=document_id,
        wenshu=docs.wenshu(rt, status.sealed_xml(rt.store, document_id)),
        view=docs.view(notice),
        seal=docs.seal(status.sealed_xml(rt.store, document_id)),
        due=docs.due(rt, rt.store.get_received(document_id)),
        answered=docs.receipt(rt.store, given.document_id, sent=True) if given else None,
        form=form,
        errors=errors or {},
        problems=problems,
        statuses=list(ResultStatus),
        others=others,
        items=status.items_of(parse(status.sealed_xml(rt.store, document_id))),
        lead_measures=[m.measure_id for m in measures if m.xml_tag in replies.LEAD_MEASURES],
        subject=next((m.subject for m in measures if m.xml_tag in replies.LEAD_MEASURES), None),
    )


def _other_notice(
    console: Console,
    request: Request,
    rt: GatewayRuntime,
    template: str,
    form: dict[str, str],
    errors: dict[str, str],
    problems: list[Problem],
    status_code: int = 200,
) -> Response:
    """The query notice's or the release notice's form (``template``), filled with ``form``."""
    units = _recipients(rt)
    case = form.get("CaseNumber", "")
    notices = releases.case_notices(rt, case) if template == "release.html" and case else []
    if notices and "RulingNumber" not in form:
        # a release rests on a ruling as the freeze did (RULE_RULING_REQUIRED): offer the notice's
        form = {**form, "RulingNumber": next((n["ruling"] for n in notices if n["ruling"]), None) or ""}
    return page(
        console,
        request,
        template,
        status_code,
        unit=rt.unit,
        form=form,
        errors=errors,
        problems=problems,
        units=units,
        case=case,
        notices=notices,
        reasons=releases.REASONS,
        officer_fields=OFFICER_FIELDS,
        query_fields=releases.QUERY_FIELDS,
    )


async def _checked_preview(
    console: Console,
    request: Request,
    rt: GatewayRuntime,
    template: str,
    form: dict[str, str],
    build: Any,
) -> Response:
    """Build the draft with ``build``, check it as the hub will, and preview it for sealing (the
    same preview and publish as the assistance notice); the form again with what is wrong."""
    try:
        draft = build(rt, form)
    except releases.NoticeInvalid as exc:
        return _other_notice(console, request, rt, template, form, exc.errors, [], 422)
    checked = await run_in_threadpool(
        rt.checker.check, draft, signed=False, received_at=datetime.now(CHINA_TZ)
    )
    if not checked.ok:
        return _other_notice(console, request, rt, template, form, {}, checked.problems, 422)
    return page(
        console,
        request,
        "preview.html",
        unit=rt.unit,
        draft=draft.decode("utf-8"),
        view=docs.view(codec.from_element(parse(draft))),
        xml=draft.decode("utf-8"),
        wenshu=docs.wenshu(rt, draft),
    )


def _ledger(console: Console) -> LedgerView:
    if console.ledger is None:
        raise ConsoleError.of("CONSOLE_NO_LEDGER", 503)
    return console.ledger


def _period(since: date | None) -> tuple[datetime, datetime]:
    """From ``since`` (default: a year ago, so that the last four quarters' reports show) to now."""
    now = datetime.now(CHINA_TZ)
    start = datetime.combine(since, datetime.min.time(), CHINA_TZ) if since else now - timedelta(days=365)
    return min(start, now - timedelta(days=1)), now
