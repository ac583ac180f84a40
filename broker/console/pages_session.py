"""Logging in and out, and each role's first page."""

from __future__ import annotations

import logging
import secrets

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from broker.console.accounts import Role
from broker.console.web import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    Console,
    ConsoleError,
    audit,
    base_path,
    client_of,
    log,
    page,
    posted_form,
    session_of,
)
from broker.errors import LiandongError, problem
from broker.logs import event


def register(app: FastAPI, console: Console) -> None:
    """Add these pages to the console's ``app``."""

    accounts = console.accounts

    @app.get("/login", response_class=HTMLResponse)
    def login_page(request: Request, expired: int = 0) -> Response:
        token = secrets.token_urlsafe(32)
        problems = [problem("CONSOLE_SESSION_EXPIRED")] if expired else []
        response = page(console, request, "login.html", login_csrf=token, problems=problems)
        response.set_cookie(
            LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", path=base_path(request) or "/"
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
            accounts.record("login_failed", exc.codes[0], who=username or None, client=client_of(request))
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
                LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", path=base_path(request) or "/"
            )
            return response
        accounts.record("login", who=me.account.username, unit=me.account.unit, client=client_of(request))
        event(log, "console.login", account=me.account.id, unit=me.account.unit, role=me.account.role.value)
        response = RedirectResponse(f"{base_path(request)}/", status_code=303)
        response.set_cookie(
            SESSION_COOKIE, me.id, httponly=True, samesite="strict", path=base_path(request) or "/"
        )
        response.delete_cookie(LOGIN_CSRF_COOKIE, path=base_path(request) or "/")
        return response

    @app.post("/logout")
    async def logout(request: Request) -> Response:
        me = session_of(console, request)
        await posted_form(request, me)
        accounts.logout(me.id)
        audit(console, request, me, "logout", None)
        response = RedirectResponse(f"{base_path(request)}/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path=base_path(request) or "/")
        return response

    @app.get("/")
    def home(request: Request) -> Response:
        me = session_of(console, request).account
        where = {
            Role.OFFICER: f"/u/{me.unit}/sent",
            Role.CLERK: f"/u/{me.unit}/inbox",
            Role.REVIEWER: f"/u/{me.unit}/documents",
            Role.SUPERVISOR: "/office/report",
            Role.ADMIN: "/admin/accounts",
        }[me.role]
        return RedirectResponse(base_path(request) + where, status_code=303)
