"""The demo's manual desk (issue 13): a member unit answered by a person in the console, not by
an adapter. The console runs on a free port; the clerk's answer is scripted over HTTP exactly as
a browser sends it — the login page (its CSRF cookie and field), the login form, the document's
page (the session's CSRF token), the outcome form — so the demo goes through the same checks a
person does.
"""

from __future__ import annotations

import http.cookiejar
import re
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from broker.console import AccountStore, create_console
from broker.console.oversight import LedgerView
from broker.gateway.config import GatewayConfig
from broker.gateway.runtime import GatewayRuntime
from broker.mosquitto import free_port

DEMO_PASSWORD = "demo-联动-2026"
"""The demo accounts' password (printed by the demo; example only)."""

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Desk:
    """The console serving one unit's desk, and its accounts."""

    unit: str
    runtime: GatewayRuntime
    accounts: AccountStore
    ledger: LedgerView | None
    server: uvicorn.Server
    thread: threading.Thread
    port: int

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}/console"

    @classmethod
    def start(cls, unit_config: dict, var: Path, ledger_url: str | None, *, office: str, court: str) -> Desk:
        """The desk of the unit of ``unit_config`` (its store, its seal), with a clerk of that
        unit, an administrator, the office's supervisor and a reviewer of the unit."""
        config = GatewayConfig.model_validate(
            {
                **unit_config,
                "http": {
                    "state": str(var / "desk-gateway.db"),
                    "audit_log": str(var / "desk-audit.jsonl"),
                    # the console needs no API token; the section requires one: a hash of nothing known
                    "tokens": [{"name": "none", "sha256": "0" * 64, "scopes": ["read"]}],
                },
            }
        )
        runtime = GatewayRuntime.build(config)
        runtime.start()
        accounts = AccountStore(var / "console.db")
        for name, unit, role in (
            ("clerk", config.unit, "clerk"),
            ("reviewer", config.unit, "reviewer"),
            ("office", office, "supervisor"),
            ("admin", config.unit, "admin"),
        ):
            if accounts.account(name) is None:
                accounts.add(name, unit, role, DEMO_PASSWORD)
        ledger = LedgerView(ledger_url, registry=runtime.checker.registry) if ledger_url else None
        app = FastAPI()
        app.mount("/console", create_console({config.unit: runtime}, accounts, ledger=ledger))
        port = free_port()
        server = uvicorn.Server(
            uvicorn.Config(
                app, host="127.0.0.1", port=port, log_config=None, access_log=False, server_header=False
            )
        )
        thread = threading.Thread(target=server.run, name="demo-console", daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("the demo's console did not start")
            time.sleep(0.05)
        return cls(config.unit, runtime, accounts, ledger, server, thread, port)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.runtime.stop()
        if self.ledger is not None:
            self.ledger.close()
        self.accounts.close()


class Browser:
    """What a browser does with the console's forms: cookies kept, CSRF tokens read from pages."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def get(self, path: str) -> str:
        with self.opener.open(self.base + path, timeout=30) as r:
            return r.read().decode("utf-8")

    def post(self, path: str, form: dict[str, str]) -> tuple[str, str]:
        """POST the form; returns the page it lands on (after the redirect) and its URL."""
        data = urllib.parse.urlencode(form).encode()
        with self.opener.open(self.base + path, data=data, timeout=60) as r:
            return r.url, r.read().decode("utf-8")

    def login(self, username: str, password: str) -> str:
        page = self.get("/login")
        url, _ = self.post("/login", {"csrf_token": _token(page), "username": username, "password": password})
        return url

    def answer_limit_freeze(self, unit: str, document_id: str, measure: str, frozen: str, reason: str) -> str:
        """The clerk's outcome: a limit freeze (part of the amount frozen); returns the receipt id."""
        page = self.get(f"/u/{unit}/inbox/{document_id}")
        _, answered = self.post(
            f"/u/{unit}/inbox/{document_id}/answer",
            {
                "csrf_token": _token(page),
                f"{measure}.Status": "PartiallyExecuted",
                f"{measure}.RequestedAmount": _value(page, f"{measure}.RequestedAmount"),
                f"{measure}.ActualAmount": frozen,
                f"{measure}.Reason": reason,
            },
        )
        found = re.search(r'id="receipt-id">([^<]+)<', answered)
        if found is None:
            raise AssertionError("the desk did not show a receipt after the clerk's answer")
        return found.group(1)


def _token(page: str) -> str:
    found = _CSRF.search(page)
    if found is None:
        raise AssertionError("no CSRF token on the console's page")
    return found.group(1)


def _value(page: str, name: str) -> str:
    found = re.search(rf'name="{re.escape(name)}" id="[^"]*" value="([^"]*)"', page)
    return found.group(1) if found else ""
