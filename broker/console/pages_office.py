"""The linkage office's pages: the supervision report (配合度), the entrustment ratings and
complaints and the missing quarterly punishment reports, with the documents behind each number."""

from __future__ import annotations

from datetime import date

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response

from broker.console.accounts import Role
from broker.console.web import Console, ConsoleError, audit, ledger_of, page, period_since, require_role


def register(app: FastAPI, console: Console) -> None:
    """Add these pages to the console's ``app``."""

    @app.get("/office/report", response_class=HTMLResponse)
    def office_report(request: Request, since: date | None = None) -> Response:
        """Overdue and cooperation (配合度) per unit with charts, each number linked to its
        documents: the weekly report of docs/reports.md, from the hub's ledger."""
        me = require_role(console, request, Role.SUPERVISOR)
        audit(console, request, me, "view_report", since.isoformat() if since else None)
        if console.ledger is None:
            raise ConsoleError.of("CONSOLE_NO_LEDGER", 503)
        report = console.ledger.weekly_report(since)
        return page(console, request, "report.html", report=report, since=since)

    @app.get("/office/obligations", response_class=HTMLResponse)
    def office_obligations(request: Request, since: date | None = None) -> Response:
        """Issue 17 in the office's page: entrustment ratings and complaints per entrusted court
        (003 事项委托 第十三条) and the punishing units that have not sent a quarterly punishment
        report (003 联合惩戒备忘录 二), each number linked to the documents behind it."""
        me = require_role(console, request, Role.SUPERVISOR)
        audit(console, request, me, "view_obligations", since.isoformat() if since else None)
        ledger = ledger_of(console)
        start, until = period_since(since)
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
        me = require_role(console, request, Role.SUPERVISOR)
        audit(console, request, me, "view_entrustments", court)
        if kind not in ("rating", "complaint"):
            raise ConsoleError.of("CONSOLE_FIELD_INVALID", 422, field="kind", detail="rating | complaint")
        start, until = period_since(since)
        rows = ledger_of(console).entrustment_documents(court, kind, start, until)
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
        me = require_role(console, request, Role.SUPERVISOR)
        audit(console, request, me, "view_punishment_report", f"{unit}:{year}Q{quarter}")
        if not 1 <= quarter <= 4:
            raise ConsoleError.of("CONSOLE_FIELD_INVALID", 422, field="quarter", detail="1-4")
        rows = ledger_of(console).punishment_documents(unit, year, quarter)
        return page(
            console, request, "obligation_documents.html", rows=rows, court=unit, kind="punishment",
            quarter=f"{year}Q{quarter}", since=None,
        )  # fmt: skip
