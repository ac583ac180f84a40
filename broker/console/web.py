"""What every console page works with: the :class:`Console`, its errors, the session, access
(a unit's pages, a role's pages, 403 with an audit line), posted forms with their CSRF token, the
operator audit log, and rendering a page."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from broker.console.accounts import AccountStore, Role, Session
from broker.console.oversight import LedgerView
from broker.documents.document import CHINA_TZ
from broker.documents.results import ResultStatus
from broker.errors import Problem, problem
from broker.gateway.runtime import GatewayRuntime
from broker.logs import event

log = logging.getLogger("liandong.console")
HERE = Path(__file__).parent
SESSION_COOKIE = "ld_session"
LOGIN_CSRF_COOKIE = "ld_login_csrf"

READERS = (Role.OFFICER, Role.CLERK, Role.REVIEWER)
"""Who may read a document of their own unit."""

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


class LoginNeeded(Exception):
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


def base_path(request: Request) -> str:
    return request.scope.get("root_path", "").rstrip("/")


def client_of(request: Request) -> str | None:
    return f"{request.client.host}:{request.client.port}" if request.client else None


def page(
    console: Console, request: Request, name: str, status_code: int = 200, **context: Any
) -> HTMLResponse:
    session: Session | None = getattr(request.state, "session", None)
    return console.templates.TemplateResponse(
        request,
        name,
        {
            "base": base_path(request),
            "me": session.account if session else None,
            "csrf": session.csrf if session else "",
            "unit_name": console.unit_name,
            **context,
        },
        status_code=status_code,
    )


def session_of(console: Console, request: Request) -> Session:
    cookie = request.cookies.get(SESSION_COOKIE)
    found = console.accounts.session(cookie)
    if found is None:
        raise LoginNeeded(expired=bool(cookie))
    request.state.session = found
    return found


def forbidden(console: Console, request: Request, me: Session) -> ConsoleError:
    """403 for a page not this person's: an audit line (who, from where, what) and a log event."""
    console.accounts.record(
        "forbidden",
        "CONSOLE_FORBIDDEN",
        who=me.account.username,
        unit=me.account.unit,
        client=client_of(request),
        target=request.url.path,
    )
    event(log, "console.forbidden", logging.WARNING, account=me.account.id, unit=me.account.unit, path=request.url.path)
    return ConsoleError.of("CONSOLE_FORBIDDEN", 403, what=request.url.path)


def allow(console: Console, request: Request, unit: str, *roles: Role) -> tuple[Session, GatewayRuntime]:
    """The session of a person of ``unit`` with one of ``roles``; 403 and an audit line otherwise."""
    me = session_of(console, request)
    if me.account.unit != unit or me.account.role not in roles:
        raise forbidden(console, request, me)
    rt = console.desks.get(unit)
    if rt is None:
        raise ConsoleError.of("CONSOLE_UNIT_UNKNOWN", 404, unit=unit)
    return me, rt


async def posted_form(request: Request, me: Session) -> dict[str, str]:
    """The posted form, after its CSRF token is checked against the session's."""
    form = {k: str(v) for k, v in (await request.form()).items()}
    if not secrets.compare_digest(form.get("csrf_token", ""), me.csrf):
        raise ConsoleError.of("CONSOLE_CSRF", 403)
    return form


def audit(
    console: Console, request: Request, me: Session, action: str, target: str | None, outcome: str = "ok"
) -> None:
    console.accounts.record(
        action, outcome, who=me.account.username, unit=me.account.unit, client=client_of(request), target=target
    )
    # the log names the account by its number: user names can be people's names
    event(log, "console.action", account=me.account.id, unit=me.account.unit, action=action, outcome=outcome)


def problems_of(exc: Exception) -> list[Problem]:
    return list(getattr(exc, "problems", []))


def require_admin(console: Console, request: Request) -> Session:
    return require_role(console, request, Role.ADMIN)


def require_role(console: Console, request: Request, role: Role) -> Session:
    """A page of no one unit (accounts, the office's report): the role alone decides."""
    me = session_of(console, request)
    if me.account.role is not role:
        raise forbidden(console, request, me)
    return me


def ledger_of(console: Console) -> LedgerView:
    if console.ledger is None:
        raise ConsoleError.of("CONSOLE_NO_LEDGER", 503)
    return console.ledger


def period_since(since: date | None) -> tuple[datetime, datetime]:
    """From ``since`` (default: a year ago, so that the last four quarters' reports show) to now."""
    now = datetime.now(CHINA_TZ)
    start = datetime.combine(since, datetime.min.time(), CHINA_TZ) if since else now - timedelta(days=365)
    return min(start, now - timedelta(days=1)), now
