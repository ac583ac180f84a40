"""The hub's health endpoint: ``GET /healthz`` on ``health_port`` (hub configuration), and beside it
``/readyz`` (:mod:`broker.hub.readiness`) and ``/metrics`` (:mod:`broker.hub.metrics`).

Answers ``{"status": "ok"}`` with 200 while the hub accepts work, and ``{"status": "degraded",
"reason": CODE, ...}`` with 503 while it refuses work (today: the ledger's storage is full or
failing, :mod:`broker.hub.storage`), so a load balancer or a monitor sees it without reading logs.
Three read-only endpoints, so the standard library's HTTP server in a thread of its own is enough.
"""

from __future__ import annotations

import json
import logging
import threading
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

from broker.errors import CATALOGUE, LiandongError, problem
from broker.hub.notices import received_now

log = logging.getLogger("liandong.hub")

Route = Callable[[], tuple[int, str, bytes]]
"""An extra endpoint: returns the HTTP status, the content type and the body."""


class HubHealth:
    """What ``/healthz`` says; set by the pipeline thread, read by the server's threads."""

    def __init__(self, **identity: str) -> None:
        self._identity = identity
        self._lock = threading.Lock()
        self._reason: str | None = None
        self._since: datetime | None = None
        self._detail: dict[str, Any] = {}

    def degrade(self, reason: str, since: datetime, **detail: Any) -> None:
        """Refusing work for ``reason`` (an error code of :mod:`broker.errors`)."""
        with self._lock:
            self._reason, self._since, self._detail = reason, since, dict(detail)

    def update(self, **detail: Any) -> None:
        with self._lock:
            self._detail.update(detail)

    def recover(self) -> None:
        with self._lock:
            self._reason, self._since, self._detail = None, None, {}

    @property
    def ok(self) -> bool:
        with self._lock:
            return self._reason is None

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            body: dict[str, Any] = {"status": "ok" if self._reason is None else "degraded", **self._identity}
            if self._reason is not None:
                spec = CATALOGUE[self._reason]
                body.update(
                    reason=self._reason,
                    message_zh=spec.zh,
                    message_en=spec.en,
                    since=self._since.isoformat() if self._since else None,
                    **self._detail,
                )
            body["at"] = received_now().isoformat()
            return body


def json_route(answer: Callable[[], tuple[int, dict[str, Any]]]) -> Route:
    """A :data:`Route` answering JSON."""

    def route() -> tuple[int, str, bytes]:
        status, body = answer()
        return status, "application/json; charset=utf-8", json.dumps(body, ensure_ascii=False).encode("utf-8")

    return route


class HealthServer:
    """``/healthz`` over HTTP on ``host:port`` (port 0: any free port, see :attr:`port`), plus the
    ``routes`` given (path: :data:`Route`); a port that cannot be bound is a configuration error
    (``HUB_CONFIG_INVALID``)."""

    def __init__(self, health: HubHealth, host: str, port: int, routes: dict[str, Route] | None = None) -> None:
        self.health = health

        def healthz() -> tuple[int, dict[str, Any]]:
            body = health.snapshot()
            return (200 if body["status"] == "ok" else 503), body

        table: dict[str, Route] = {"/healthz": json_route(healthz), **(routes or {})}

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                route = table.get(self.path.split("?", 1)[0])
                if route is None:
                    self._send(*json_route(lambda: (404, {"error": "not found", "endpoints": sorted(table)}))())
                    return
                try:
                    self._send(*route())
                except Exception:  # a monitor gets a clear 500, never a traceback; the log has it
                    log.exception("hub.health_endpoint_failed")
                    self._send(*json_route(lambda: (500, {"error": "internal error", "path": self.path}))())

            def _send(self, status: int, content_type: str, data: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:  # monitors poll often: no log
                pass

        try:
            self._server = ThreadingHTTPServer((host, port), Handler)
        except OSError as exc:
            detail = f"health_host {host}, health_port {port}: {exc.strerror or exc}"
            raise LiandongError([problem("HUB_CONFIG_INVALID", detail=detail)]) from None
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="hub-health", daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> "HealthServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


__all__ = ["HealthServer", "HubHealth", "Route", "json_route"]
