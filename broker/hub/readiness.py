"""What ``GET /readyz`` answers: is this hub ready for work?

``/healthz`` says whether the process is alive and accepting (:mod:`broker.hub.health`);
``/readyz`` says whether it can do its job end to end, so a load balancer or an orchestrator sends
it work only then: the broker is connected, the ledger is writable (the storage guard says ok) and
the seal certificate is valid and not about to expire. Each check is a plain function of what it
looks at, so another component (the gateway) can run the same checks on its own parts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from cryptography import x509

from broker.errors import problem


@dataclass(frozen=True)
class Check:
    """One readiness check: its name and, when it fails, an error code of :mod:`broker.errors`
    with the message's parameters."""

    name: str
    code: str | None = None
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.code is None

    def as_json(self) -> dict[str, Any]:
        if self.code is None:
            return {"name": self.name, "ok": True}
        p = problem(self.code, **self.params)
        return {"name": self.name, "ok": False, "code": self.code, "message_zh": p.message_zh, "message_en": p.message_en, **self.params}


def broker_check(connected: bool, code: str = "HUB_BROKER_DISCONNECTED") -> Check:
    """The MQTT session to the broker is up; ``code`` says whose session failed (the hub's by
    default, ``GW_BROKER_DISCONNECTED`` for a gateway)."""
    return Check("broker") if connected else Check("broker", code)


def storage_check(reason: str | None, name: str = "ledger", **params: Any) -> Check:
    """A store is writable: ``reason`` is a code while it is not — for the hub the storage
    guard's (``HUB_STORAGE_FULL``, ``HUB_STORAGE_FAILED``) — none while it is ok."""
    return Check(name, reason, params if reason else {})


def seal_check(
    cert: x509.Certificate,
    now: datetime,
    warning_days: float,
    not_valid: str = "HUB_SEAL_NOT_VALID",
    expiring: str = "HUB_SEAL_EXPIRING",
) -> Check:
    """The seal certificate is within its validity and does not expire within ``warning_days``;
    the codes name whose seal it is (the hub's by default)."""
    before, after = cert.not_valid_before_utc, cert.not_valid_after_utc
    if not before <= now <= after:
        return Check("seal", not_valid, {"not_before": before.isoformat(), "not_after": after.isoformat()})
    if after - now < timedelta(days=warning_days):
        left = (after - now) / timedelta(days=1)
        params = {"not_after": after.isoformat(), "days_left": int(left), "threshold_days": f"{warning_days:g}"}
        return Check("seal", expiring, params)
    return Check("seal")


def readiness(checks: list[Check], **identity: str) -> tuple[int, dict[str, Any]]:
    """The HTTP status and the JSON body: 200 when every check passes, else 503 naming each
    failing one (``failing``) with its code and messages."""
    ready = all(c.ok for c in checks)
    body: dict[str, Any] = {
        "status": "ready" if ready else "not_ready",
        **identity,
        "failing": [c.name for c in checks if not c.ok],
        "checks": [c.as_json() for c in checks],
    }
    return (200 if ready else 503), body


__all__ = ["Check", "broker_check", "readiness", "seal_check", "storage_check"]
