"""When a unit (a court, an adapter) publishes its documents again (issue 11 item 2).

A document stays in the unit's store until the hub's service receipt or rejection arrives. It
used to be published again ``resend_after`` seconds after each attempt (with backoff) however
the hub was doing: a hub working through a backlog answered late, got most of the backlog again,
and fell further behind. What the unit knows, cheaply and with the existing ACL:

- the broker's PUBACK (paho's ``MQTTMessageInfo.is_published()``): the broker holds the document
  for the hub's persistent session; publishing it again only adds to the hub's queue;
- the hub's answers: **a hub that answered within ``resend_after`` is busy, not gone**: nothing
  is published again while it says so by answering;
- the order: the hub answers one sender's documents in the order the broker gave them; when the
  hub has gone quiet after answering a document, what was published before that one and is still
  unanswered was lost (by the broker: a restart since its last save) and goes out again, each
  with its own backoff (while the hub stays busy, only once such a document has waited
  ``max_interval``: several hubs sharing a subscription answer out of order);
- when the hub is quiet and nothing is known to be lost, only the oldest unanswered document is
  published again (a probe), with backoff (``resend_after`` doubling up to ``max_interval``, the
  cap): a hub that is down gets one document per interval, not the whole backlog.

Documents from an earlier run of the unit (not published since it started) are published again
by their stored backoff, as before, but not while the hub is busy.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, Protocol, Sequence


class _Info(Protocol):
    rc: int

    def is_published(self) -> bool: ...


_SUCCESS, _NO_CONN = 0, 4  # paho's MQTT_ERR_SUCCESS and MQTT_ERR_NO_CONN (queued until it reconnects)


def _where(info: _Info) -> str:
    """``broker``: the broker acknowledged it; ``client``: paho holds it (in flight, or queued
    while disconnected) and sends it itself; ``nowhere``: paho refused it."""
    if info.rc not in (_SUCCESS, _NO_CONN):
        return "nowhere"
    if info.rc == _NO_CONN:
        # queued while disconnected and sent at the reconnection: paho's is_published() raises
        # for it for ever, though the PUBACK sets the same flag (paho-mqtt 2.x)
        return "broker" if getattr(info, "_published", False) else "client"
    return "broker" if info.is_published() else "client"


@dataclass(frozen=True)
class Unanswered:
    """A sent document still waiting for the hub's answer, as the store has it (no bytes)."""

    document_id: str
    attempts: int
    last_sent_at: datetime | None


@dataclass
class _Publication:
    seq: int  # order of the first publication in this run
    at: float  # monotonic time of the last publication
    info: _Info


class ResendPolicy:
    """Decides which unanswered documents to publish again (see the module docstring).
    Thread-safe: ``send()`` runs on the caller's thread, the scan on the unit's own."""

    def __init__(
        self, resend_after: float, max_interval: float, *, clock: Callable[[], float] = time.monotonic
    ):
        self.resend_after = resend_after
        self.max_interval = max(max_interval, resend_after)
        self.clock = clock
        self._lock = threading.Lock()
        self._published: dict[str, _Publication] = {}
        self._seq = 0
        self._answer_at: float | None = None  # the hub's last answer (monotonic)
        self._answered_seq = 0  # the latest first-publication among answered documents
        self._probes = 0  # probes since the hub last answered
        self._probe_at = 0.0
        self._started = clock()

    def wait(self, attempts: int) -> float:
        """Backoff after ``attempts`` publications: ``resend_after`` doubling, capped."""
        return min(self.max_interval, self.resend_after * 2 ** max(0, attempts - 1))

    def published(self, document_id: str, info: _Info) -> None:
        with self._lock:
            known = self._published.get(document_id)
            if known is None:
                self._seq += 1
                self._published[document_id] = _Publication(self._seq, self.clock(), info)
            else:
                known.at, known.info = self.clock(), info

    def answered(self, document_id: str | None) -> None:
        """The hub answered (a service receipt or a rejection of ``document_id``)."""
        with self._lock:
            self._answer_at = self.clock()
            self._probes = 0
            known = self._published.pop(document_id, None) if document_id else None
            if known is not None:
                self._answered_seq = max(self._answered_seq, known.seq)

    def busy(self) -> bool:
        """The hub answered within ``resend_after``: it is working, answers are on their way."""
        with self._lock:
            return self._busy(self.clock())

    def _busy(self, now: float) -> bool:
        return self._answer_at is not None and now - self._answer_at < self.resend_after

    def due(self, unanswered: Sequence[Unanswered], now_wall: datetime) -> list[str]:
        """Of ``unanswered`` (oldest first), the ids to publish again now."""
        with self._lock:
            now = self.clock()
            if self._busy(now):
                # answered after later ones and still unanswered after the cap: lost, even if the
                # hub never falls quiet (another hub of a shared group answers the later ones)
                return [
                    e.document_id
                    for e in unanswered
                    if (known := self._published.get(e.document_id)) is not None
                    and known.seq < self._answered_seq
                    and _where(known.info) == "broker"
                    and now - known.at >= self.max_interval
                ]
            quiet_since = max(self._answer_at or self._started, self._started)
            due: list[str] = []
            oldest_held: str | None = None
            oldest_at = 0.0
            for entry in unanswered:
                wait = self.wait(entry.attempts)
                known = self._published.get(entry.document_id)
                where = _where(known.info) if known is not None else "nowhere"
                if where == "nowhere":  # not published in this run (or refused): its stored backoff
                    last = entry.last_sent_at
                    if last is None or now_wall - last >= timedelta(seconds=wait):
                        due.append(entry.document_id)
                    continue
                assert known is not None
                if where == "client":
                    # paho still holds it (sends it again itself on reconnection); after the cap,
                    # assume it is gone with a connection and publish it again
                    if now - known.at >= self.max_interval:
                        due.append(entry.document_id)
                    continue
                if known.seq < self._answered_seq and now - known.at >= wait:
                    due.append(entry.document_id)  # answered after a later one: lost
                elif oldest_held is None:
                    oldest_held, oldest_at = entry.document_id, known.at
            if due or oldest_held is None:
                return due
            probe_wait = min(self.max_interval, self.resend_after * 2**self._probes)
            if now - max(quiet_since, self._probe_at, oldest_at) >= probe_wait:
                self._probes += 1
                self._probe_at = now
                return [oldest_held]
            return []
