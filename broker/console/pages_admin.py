"""The administrator's pages: accounts (create, unlock) and the operator audit log (003 SPC–MPS 五(二))."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from broker.console.accounts import Role
from broker.console.web import Console, audit, base_path, page, posted_form, require_admin
from broker.errors import LiandongError


def register(app: FastAPI, console: Console) -> None:
    """Add these pages to the console's ``app``."""

    accounts = console.accounts

    @app.get("/admin/accounts", response_class=HTMLResponse)
    def admin_accounts(request: Request) -> Response:
        require_admin(console, request)
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
        me = require_admin(console, request)
        form = await posted_form(request, me)
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
            audit(console, request, me, "account_add", form.get("username"), exc.codes[0])
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
        audit(console, request, me, "account_add", form.get("username"))
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
        me = require_admin(console, request)
        await posted_form(request, me)
        accounts.unlock(username)
        audit(console, request, me, "account_unlock", username)
        return RedirectResponse(f"{base_path(request)}/admin/accounts", status_code=303)

    @app.get("/admin/audit", response_class=HTMLResponse)
    def admin_audit(request: Request) -> Response:
        require_admin(console, request)
        return page(console, request, "audit.html", entries=accounts.audit())
