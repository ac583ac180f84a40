"""The audit log and request metrics around every HTTP call, as a pure ASGI middleware.

Why not ``BaseHTTPMiddleware`` (``@app.middleware("http")``): it runs the application as a
second task and pipes the response through a memory stream, and that plumbing was half of the
request path's GIL time in the gateway's profile (docs/performance.md, "Where the gateway's time
goes"). This one only wraps ``send``: when the application starts its answer, the audit line is
written (durable, :class:`broker.gateway.audit.AuditLog`) and the request counted, then the
answer goes on to the client — the same order as before: no client sees an answer whose call is
not in the audit log (003 SPC–MPS 五(二))."""

from __future__ import annotations

import logging
from typing import Any

from starlette.datastructures import URL
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from broker.gateway.problems import GatewayError, response
from broker.gateway.runtime import GatewayRuntime
from broker.logs import event

log = logging.getLogger("liandong.gateway")


class AuditMiddleware:
    """Every HTTP call in the audit log (who, from where, method, path, status, error codes) and
    in ``rt.metrics.requests``; an exception that escapes a route is the house 500 body
    (``GW_INTERNAL``), logged by class only (its text may quote a document), never a traceback."""

    def __init__(self, app: ASGIApp, runtime: GatewayRuntime) -> None:
        self.app = app
        self.runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        _state(scope)  # one dict for the routes' request.state and for this middleware
        started = False

        async def audited_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start" and not started:
                await self._record(scope, message["status"])  # raises: no answer went out
                started = True
            await send(message)

        try:
            await self.app(scope, receive, audited_send)
        except Exception as exc:  # noqa: BLE001 - a bug: the house body here, so no server prints a traceback
            event(log, "gateway.internal_error", logging.ERROR, error=type(exc).__name__, path=_path(scope))
            if started:
                return  # the answer had begun: the client sees it cut short, the log says why
            _state(scope)["codes"] = ["GW_INTERNAL"]
            await response(500, GatewayError.of("GW_INTERNAL").problems)(scope, receive, audited_send)

    async def _record(self, scope: Scope, status: int) -> None:
        rt = self.runtime
        route = scope.get("route")  # the template, never a document id: bounded labels
        rt.metrics.requests.labels(getattr(route, "path", "unmatched"), str(status)).inc()
        state = _state(scope)
        client = scope.get("client")
        # no thread-pool hop: written here, made durable by the log's syncing thread
        await rt.audit.record_async(
            who=state.get("who"),
            client=f"{client[0]}:{client[1]}" if client else None,
            method=scope["method"],
            path=_path(scope),
            status=status,
            codes=state.get("codes"),
        )


def _state(scope: Scope) -> dict[str, Any]:
    """What the routes put in ``request.state`` (Starlette keeps it in ``scope["state"]``)."""
    return scope.setdefault("state", {})  # type: ignore[no-any-return]


def _path(scope: Scope) -> str:
    """The request's path as ``request.url.path`` gives it (never its query string)."""
    return URL(scope=scope).path
