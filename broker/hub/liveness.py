"""The hub's and the units' liveness, as the supervisor watches it: the hub's heartbeat (an
outage found at start is notified to the office), units going offline and back (anomaly notices
after ``unit_offline_after_minutes``). A part of :class:`broker.hub.deadlines.DeadlineSupervisor`."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from broker.deadlines.calendar import CHINA_TZ
from broker.documents import bodies
from broker.hub.outbox import Job
from broker.hub.reminder_times import display, duration_text
from broker.hub.supervision import SupervisedHub
from broker.logs import event

if TYPE_CHECKING:
    from broker.hub.clock import SupervisionClock
    from broker.hub.config import Supervision

log = logging.getLogger("liandong.hub.supervision")

HEARTBEAT = "hub.heartbeat"
OFFLINE = "unit.offline:"


class LivenessWatch:
    """The supervisor's liveness steps; it keeps the state they share (``_statuses``)."""

    hub: SupervisedHub
    clock: SupervisionClock
    settings: Supervision
    client_id: str
    _status_lock: threading.Lock
    _statuses: list[tuple[str, bool, datetime]]
    _last_status: dict[str, bool]
    _issue: Callable[..., Job]
    _name: Callable[[str], str]
    request_scan: Callable[[], None]

    def unit_status(self, unit: str, online: bool, at: datetime) -> None:
        with self._status_lock:
            self._statuses.append((unit, online, self.clock.at(at)))
            self._last_status[unit] = online
        self.request_scan()

    def _check_restart(self) -> None:
        """At start: a heartbeat older than the threshold means the hub service was down."""
        now = self.clock.now()
        threshold = timedelta(minutes=self.settings.hub_outage_after_minutes)
        jobs: list[Job] = []
        with self.hub.ledger.transaction() as tx:
            last = tx.get_state(HEARTBEAT)
            if last is not None and last.at is not None and now - last.at > threshold:
                state = last.value.partition(":")[0]
                how = "正常停机" if state == "stopped" else "异常中断（未正常停机）"
                body = bodies.AnomalyNotice(
                    kind=bodies.AnomalyKind.HUB_RESTARTED,
                    detected_at=now,
                    since=last.at.astimezone(CHINA_TZ),
                    description=(
                        f"执行联动枢纽自 {display(last.at)} 起停止服务（{how}），于 {display(now)} 恢复，"
                        f"历时 {duration_text(now - last.at)}；期间积压的文书、催办和督办已在恢复后处理。"
                    ),
                )
                jobs.append(self._issue(tx, body, self.hub.registry.office))
                event(
                    log,
                    "hub.outage",
                    logging.WARNING,
                    since=last.at.isoformat(),
                    detected_at=now.isoformat(),
                    state=state,
                )
            tx.put_state(HEARTBEAT, f"running:{self.client_id}", now)
        self.hub.enqueue(jobs)

    def _heartbeat(self, now: datetime) -> None:
        with self.hub.ledger.transaction() as tx:
            tx.put_state(HEARTBEAT, f"running:{self.client_id}", now)

    def _flush_statuses(self, counts: Counter[str]) -> None:
        with self._status_lock:
            batch, self._statuses = self._statuses, []
        if not batch:
            return
        jobs: list[Job] = []
        try:
            with self.hub.ledger.transaction() as tx:
                for unit, online, at in batch:
                    entry_unit = self.hub.registry.unit(unit)
                    if entry_unit is None or entry_unit.kind in self.settings.offline_exempt_kinds:
                        continue
                    key = OFFLINE + unit
                    if not online:
                        tx.add_state(key, "offline", at)  # an outage already known keeps its start
                        continue
                    entry = tx.delete_state(key)
                    if entry is not None and entry.value == "notified":
                        body = bodies.AnomalyNotice(
                            kind=bodies.AnomalyKind.UNIT_BACK_ONLINE,
                            unit=unit,
                            detected_at=at,
                            since=entry.at.astimezone(CHINA_TZ) if entry.at else None,
                            description=f"{self._name(unit)}已恢复连接，积压文书正在补发。",
                        )
                        jobs.append(self._issue(tx, body, self.hub.registry.office))
        except Exception:
            with self._status_lock:
                self._statuses[:0] = batch  # try again at the next scan
            raise
        self.hub.enqueue(jobs)
        counts["back_online"] += len(jobs)

    def _outages(self, now: datetime, counts: Counter[str]) -> None:
        minutes = self.settings.unit_offline_after_minutes
        jobs: list[Job] = []
        with self.hub.ledger.transaction() as tx:
            for entry in tx.states(
                OFFLINE,
                value="offline",
                before=now - timedelta(minutes=minutes),
                limit=self.settings.scan_batch,
            ):
                unit = entry.key[len(OFFLINE) :]
                with self._status_lock:
                    seen_online = self._last_status.get(unit) is True
                if seen_online:  # a stale entry (another hub's late write): this hub sees it online
                    tx.delete_state(entry.key)
                    continue
                if not tx.replace_state(entry.key, "offline", "notified"):
                    continue
                since = entry.at.astimezone(CHINA_TZ) if entry.at else None
                body = bodies.AnomalyNotice(
                    kind=bodies.AnomalyKind.UNIT_OFFLINE,
                    unit=unit,
                    detected_at=now,
                    since=since,
                    description=(
                        f"{self._name(unit)}自 {display(entry.at) if entry.at else '—'} 起离线已超过 {minutes:g} 分钟；"
                        "发给该单位的文书暂存于枢纽，待其恢复后补发。"
                    ),
                )
                jobs.append(self._issue(tx, body, self.hub.registry.office))
        self.hub.enqueue(jobs)
        counts["unit_offline"] += len(jobs)
