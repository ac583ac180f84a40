"""What the gateway's operators watch: ``/readyz`` and Prometheus ``/metrics``.

``/readyz`` runs the hub's readiness checks (:mod:`broker.hub.readiness`) on the gateway's own
parts, with the gateway's codes: the broker session is up, the unit's store and the gateway's
state are writable, the seal certificate is valid and not about to expire.

``/metrics`` is a :class:`~prometheus_client.CollectorRegistry` of the gateway's own (several
gateways in one process do not collide). Labels are bounded: a route's template (never a
document id), an HTTP status.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from broker.hub.readiness import Check, broker_check, readiness, seal_check, storage_check

if TYPE_CHECKING:
    from broker.gateway.runtime import GatewayRuntime

PREFIX = "liandong_gateway"


def write_problem(path: Path) -> str | None:
    """Why an SQLite file cannot take a write now (None: it can): a write lock is taken and
    given back, which needs the file, its directory and its journal writable and unlocked
    within a second."""
    try:
        db = sqlite3.connect(path, timeout=1.0, isolation_level=None)
        try:
            db.execute("BEGIN IMMEDIATE")
            db.execute("ROLLBACK")
        finally:
            db.close()
    except sqlite3.Error as exc:
        return str(exc) or type(exc).__name__
    return None


def _store_check(name: str, path: Path) -> Check:
    problem = write_problem(path)
    return storage_check(
        "GW_STORE_NOT_WRITABLE" if problem else None, name, store=str(path), detail=problem or ""
    )


def gateway_readiness(rt: GatewayRuntime, now: datetime | None = None) -> tuple[int, dict[str, Any]]:
    """The status and body of ``/readyz``: 200 when every check passes, else 503 naming each."""
    checks = [
        broker_check(rt.client.unit.connected, "GW_BROKER_DISCONNECTED"),
        _store_check("store", rt.config.store),
        _store_check("state", rt.config.http.state),
        seal_check(
            rt.client.signer.cert,
            now or datetime.now(timezone.utc),
            rt.config.http.seal_expiry_warning_days,
            not_valid="GW_SEAL_NOT_VALID",
            expiring="GW_SEAL_EXPIRING",
        ),
    ]
    return readiness(checks, unit=rt.unit)


class _Gauges(Collector):
    """Read when scraped: the broker session's state and the events the webhook has yet to deliver."""

    def __init__(self, connected: Callable[[], bool], pending: Callable[[], int] | None):
        self._connected, self._pending = connected, pending

    def collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily(
            f"{PREFIX}_broker_connected", "1 while the MQTT session to the broker is up", value=int(self._connected())
        )
        if self._pending is not None:
            yield GaugeMetricFamily(
                f"{PREFIX}_events_pending",
                "events not yet accepted (2xx) by the webhook receiver",
                value=self._pending(),
            )


class GatewayMetrics:
    """The gateway's counters; the gauges are attached by :meth:`watch` once the parts exist."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            f"{PREFIX}_http_requests",
            "HTTP requests answered, by route template and status",
            ["route", "status"],
            registry=self.registry,
        )
        self.published = Counter(
            f"{PREFIX}_documents_published", "documents checked, sealed and published", registry=self.registry
        )
        self.answered = Counter(
            f"{PREFIX}_documents_answered", "answers (receipts) built, sealed and sent", registry=self.registry
        )
        self.webhook_failures = Counter(
            f"{PREFIX}_webhook_failures",
            "webhook deliveries that got no 2xx (each is tried again)",
            registry=self.registry,
        )

    def watch(self, connected: Callable[[], bool], pending: Callable[[], int] | None) -> None:
        self.registry.register(_Gauges(connected, pending))

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
