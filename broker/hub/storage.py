"""The hub when its ledger cannot be written (a full disk, a failing database): refuse work,
keep what is not recorded, retry with backoff, and go on by itself once writes succeed again.

The pipeline acknowledges an MQTT message only after its transaction committed, so a failed
commit loses nothing: the hub keeps the step's batches, acks and PUBACKs (unacknowledged, so the
broker holds the rest, at most ``receive_maximum`` more) and tries the commit again after a
backoff. :class:`StorageGuard` paces the retries, logs the outage once when it starts and once
when it ends (with the code ``HUB_STORAGE_FULL`` or ``HUB_STORAGE_FAILED``), sets the health
endpoint (:mod:`broker.hub.health`) and, once writes succeed again, an anomaly notice goes to
the linkage office (it could not be recorded before: :func:`office_alert`).
"""

from __future__ import annotations

import errno
import logging
import time
from dataclasses import dataclass
from datetime import datetime

from broker.documents import bodies
from broker.hub.health import HubHealth
from broker.hub.ledger import LedgerTx
from broker.hub.notices import HubNotary, received_now
from broker.hub.outbox import Job, record_issued
from broker.logs import event

log = logging.getLogger("liandong.hub")

FULL = "HUB_STORAGE_FULL"
FAILED = "HUB_STORAGE_FAILED"

_SQLITE_FULL = ("database or disk is full", "disk i/o error")
_POSTGRESQL_DISK_FULL = "53100"  # SQLSTATE disk_full


def storage_code(exc: BaseException) -> str:
    """``HUB_STORAGE_FULL`` when ``exc`` (or what it wraps) says the storage is full, else
    ``HUB_STORAGE_FAILED``."""
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, OSError) and cur.errno in (errno.ENOSPC, errno.EDQUOT):
            return FULL
        if getattr(cur, "sqlstate", None) == _POSTGRESQL_DISK_FULL:
            return FULL
        if type(cur).__module__.startswith("sqlite3") and any(m in str(cur).lower() for m in _SQLITE_FULL):
            return FULL
        cur = getattr(cur, "orig", None) or cur.__cause__ or cur.__context__
    return FAILED


def is_storage_error(exc: BaseException) -> bool:
    """An error of the database or of the file system (not of the hub's own code)."""
    from sqlalchemy.exc import SQLAlchemyError

    return isinstance(exc, (SQLAlchemyError, OSError))


@dataclass
class Outage:
    code: str
    since: datetime
    failures: int = 1
    alerted: bool = False


class StorageGuard:
    """Paces the pipeline's commits while the ledger cannot be written."""

    def __init__(self, health: HubHealth, *, first_retry: float = 0.2, max_retry: float = 5.0) -> None:
        self.health = health
        self.first_retry = first_retry
        self.max_retry = max_retry
        self.outage: Outage | None = None
        self._delay = 0.0
        self._next = 0.0

    def due(self) -> bool:
        """May the pipeline try to write now (always, unless a write failed a moment ago)?"""
        return time.monotonic() >= self._next

    def failed(self, exc: BaseException, *, held: int = 0) -> None:
        """A write failed: back off; the first failure of an outage is logged and shown."""
        self._delay = min(self.max_retry, self._delay * 2 if self._delay else self.first_retry)
        self._next = time.monotonic() + self._delay
        if self.outage is None:
            self.outage = Outage(storage_code(exc), received_now())
            event(
                log,
                "hub.storage_full" if self.outage.code == FULL else "hub.storage_failed",
                logging.ERROR,
                code=self.outage.code,
                error=type(exc).__qualname__,
                held=held,
            )
            self.health.degrade(self.outage.code, self.outage.since, held=held)
        else:
            self.outage.failures += 1
            self.health.update(held=held, failures=self.outage.failures, retry_in_seconds=self._delay)

    def succeeded(self) -> Outage | None:
        """A write succeeded: the outage (if there was one) is over; returns it."""
        self._delay, self._next = 0.0, 0.0
        outage, self.outage = self.outage, None
        if outage is not None:
            event(
                log,
                "hub.storage_recovered",
                logging.WARNING,
                code=outage.code,
                since=outage.since.isoformat(),
                failures=outage.failures,
            )
            self.health.recover()
        return outage


def office_alert(tx: LedgerTx, notary: HubNotary, outage: Outage, *, hub_code: str, office: str) -> Job:
    """The anomaly notice telling the linkage office the hub refused work while its ledger could
    not be written (003 SPC–MPS 四(五): anomalies are reported)."""
    now = received_now()
    what = "账本存储空间已满" if outage.code == FULL else "账本写入失败"
    body = bodies.AnomalyNotice(
        kind=bodies.AnomalyKind.HUB_STORAGE_FULL if outage.code == FULL else bodies.AnomalyKind.HUB_STORAGE_FAILED,
        detected_at=outage.since,
        since=outage.since,
        description=(
            f"执行联动枢纽自 {outage.since.isoformat(timespec='seconds')} 起{what}，暂停受理文书"
            f"（{outage.failures} 次写入失败），于 {now.isoformat(timespec='seconds')} 恢复；"
            "期间未确认的文书已由消息代理保留并在恢复后处理，无文书丢失。"
        ),
    )
    notice = notary.seal_one(notary.draft(body, office))
    return record_issued(tx, notice, hub_code=hub_code, client=hub_code)


__all__ = ["FAILED", "FULL", "Outage", "StorageGuard", "is_storage_error", "office_alert", "storage_code"]
