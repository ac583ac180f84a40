"""Flow control of the hub's deliveries: a window per recipient, and redelivery only of what the
broker can have lost (issue 11 item 2: "backlog recovery without a retry storm").

Without it the hub published every delivery at once, to units online or not, and redelivered
whatever a unit had not acknowledged within ``ack_timeout_seconds``: a unit back from an outage
and working through its queue got most of it again (and again), exactly when it had the least
room. Here:

- **window**: at most ``window`` deliveries per recipient are *in flight* (published, not yet
  acknowledged by the unit on its ``ack`` topic); the rest wait in the hub, without their bytes
  (read again from the ledger when their turn comes), so an offline unit costs the broker at most
  one window of its queue, and a returning unit gets its backlog at the pace it acknowledges;
- **progress**: a unit that acknowledged something within ``ack_timeout`` is draining; nothing of
  its window is sent again;
- **gap**: the broker hands one subscriber the messages of one publisher in the order they were
  published, and a unit stores and acknowledges them in that order, so when a unit acknowledges a
  delivery, those published to it *before* that one and not acknowledged were lost (a broker
  restart, a dropped session): they, and only they, go out again at once;
- **probe**: a unit online whose window has not moved for ``ack_timeout`` gets the oldest
  delivery of its window again, and only that one, with backoff (``ack_timeout`` doubling up to
  ``max_backoff``). If the unit acknowledges the probe, the gap rule finds whatever else was lost
  behind it; if it is merely slow, the probe was one duplicate, not a window of them.

Pure bookkeeping (no MQTT, no ledger): the hub's pipeline thread owns it, and tests drive it with
a clock of their own.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Callable, Iterable

from broker.hub.ledger import DeliveryRecord
from broker.hub.outbox import Job
from broker.transport import topics


ONLINE_GRACE = 5.0
"""Seconds a unit back online has to acknowledge something before its window is probed."""


@dataclass
class _Sent:
    job: Job
    seq: int
    at: float  # monotonic time of the publication


@dataclass
class _Recipient:
    queue: deque[Job] = field(default_factory=deque)  # waiting for room in the window, oldest first
    queued: set[int] = field(default_factory=set)  # delivery ids in the queue
    inflight: dict[str, _Sent] = field(default_factory=dict)  # document id -> publication, in send order
    online: bool = False
    progress_at: float = 0.0  # last acknowledgement, or when it came online
    probes: int = 0  # probes sent since the last progress (the backoff's exponent)
    probe_at: float = 0.0  # the last probe


def recipient_of(job: Job) -> str:
    """The unit a delivery goes to (its ``in`` topic names it)."""
    parsed = topics.parse(job.topic)
    return parsed[0] if parsed else job.topic


class FlowControl:
    """Per-recipient windows of the hub's deliveries (see the module docstring)."""

    def __init__(
        self,
        *,
        window: int,
        ack_timeout: float,
        max_backoff: float,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.window = max(1, window)
        self.ack_timeout = ack_timeout
        self.max_backoff = max(max_backoff, ack_timeout)
        self.clock = clock
        self._units: dict[str, _Recipient] = {}
        self._seq = 0
        self._turn = 0  # round robin over recipients

    def _unit(self, recipient: str) -> _Recipient:
        unit = self._units.get(recipient)
        if unit is None:
            unit = self._units[recipient] = _Recipient(progress_at=self.clock())
        return unit

    # --- what comes in ------------------------------------------------------------------------

    def add(self, jobs: Iterable[Job]) -> None:
        """Deliveries to make (new ones, or a delivery re-armed: the sender asked again)."""
        for job in jobs:
            unit = self._unit(recipient_of(job))
            unit.inflight.pop(job.document_id, None)  # re-armed: it goes out again, in turn
            if job.delivery_id in unit.queued:
                continue
            if len(unit.queue) >= self.window:
                job.raw = None  # a long wait: the ledger has the bytes, keep memory flat
            unit.queue.append(job)
            unit.queued.add(job.delivery_id)

    def adopt(self, records: Iterable[DeliveryRecord], known: set[int]) -> int:
        """Open deliveries found in the ledger that this flow does not know (after a restart, or
        taken over from another hub): 'pending' ones wait for their turn, 'published' ones count
        as in flight, as if just sent (the probe finds them if they were lost). ``known``:
        delivery ids awaiting the broker's PUBACK. Returns how many were adopted."""
        tracked = self.tracked() | known
        now, count = self.clock(), 0
        for d in records:
            if d.id in tracked:
                continue
            job = Job(d.id, d.document_id, d.topic)
            unit = self._unit(d.recipient)
            if d.state == "pending":
                unit.queue.append(job)
                unit.queued.add(job.delivery_id)
            else:
                self._seq += 1
                unit.inflight[d.document_id] = _Sent(job, self._seq, now)
            count += 1
        return count

    def tracked(self) -> set[int]:
        """Delivery ids queued or in flight."""
        ids: set[int] = set()
        for unit in self._units.values():
            ids.update(unit.queued)
            ids.update(s.job.delivery_id for s in unit.inflight.values())
        return ids

    # --- publishing ---------------------------------------------------------------------------

    def take(self, limit: int) -> list[Job]:
        """Up to ``limit`` deliveries with room in their recipient's window, taken in turn from
        each recipient (one busy recipient does not hold back the others)."""
        taken: list[Job] = []
        names = [r for r, u in self._units.items() if u.queue and len(u.inflight) < self.window]
        if not names or limit <= 0:
            return taken
        self._turn = (self._turn + 1) % len(names)
        names = names[self._turn :] + names[: self._turn]
        rooms = {r: self.window - len(self._units[r].inflight) for r in names}
        while len(taken) < limit and names:
            for r in list(names):
                unit = self._units[r]
                if not unit.queue or rooms[r] <= 0:
                    names.remove(r)
                    continue
                job = unit.queue.popleft()
                unit.queued.discard(job.delivery_id)
                taken.append(job)
                rooms[r] -= 1
                if len(taken) >= limit:
                    break
        return taken

    def sent(self, job: Job) -> None:
        """``job`` was handed to the broker: it is in flight now."""
        self._seq += 1
        self._unit(recipient_of(job)).inflight[job.document_id] = _Sent(job, self._seq, self.clock())

    def unsent(self, jobs: list[Job]) -> None:
        """Taken but not published (the client refused): first in line again, in order."""
        for job in reversed(jobs):
            self._first(self._unit(recipient_of(job)), job)

    @staticmethod
    def _first(unit: _Recipient, job: Job) -> None:
        if job.delivery_id not in unit.queued:
            unit.queue.appendleft(job)
            unit.queued.add(job.delivery_id)

    # --- what the units say ----------------------------------------------------------------------

    def acked(self, recipient: str, document_ids: Iterable[str]) -> int:
        """The unit stored these documents. Returns how many deliveries it missed before them
        (presumed lost by the broker: first in line again)."""
        unit = self._unit(recipient)
        unit.progress_at = self.clock()
        unit.probes = 0
        last = 0
        for document_id in document_ids:
            sent = unit.inflight.pop(document_id, None)
            if sent is not None:
                last = max(last, sent.seq)
        lost = [s for s in unit.inflight.values() if s.seq < last]
        for s in lost:
            del unit.inflight[s.job.document_id]
        for s in reversed(lost):
            self._first(unit, s.job)
        return len(lost)

    def status(self, recipient: str, online: bool) -> None:
        """The unit came online or went offline (no probes). A unit back online gets the queue
        the broker kept for it at once, so it has :data:`ONLINE_GRACE` seconds to acknowledge
        something before the probe (had its session been lost, nothing would come)."""
        unit = self._unit(recipient)
        if online and not unit.online:
            unit.progress_at = self.clock() - self.ack_timeout + min(self.ack_timeout, ONLINE_GRACE)
            unit.probes = 0
        unit.online = online

    # --- the sweep ---------------------------------------------------------------------------------

    def probe(self) -> list[str]:
        """For each online unit whose window has not moved for a while, put the oldest delivery
        of its window first in line again. Returns the units probed."""
        now = self.clock()
        probed = []
        for name, unit in self._units.items():
            if not unit.online or not unit.inflight:
                continue
            wait = min(self.max_backoff, self.ack_timeout * 2**unit.probes)
            since = max(unit.progress_at, unit.probe_at)
            oldest = min(unit.inflight.values(), key=lambda s: s.job.delivery_id)  # a probe stays the oldest
            if now - since < wait or now - oldest.at < self.ack_timeout:
                continue
            del unit.inflight[oldest.job.document_id]
            self._first(unit, oldest.job)
            unit.probes += 1
            unit.probe_at = now
            probed.append(name)
        return probed

    # --- reading -----------------------------------------------------------------------------------

    def inflight(self, recipient: str) -> int:
        unit = self._units.get(recipient)
        return len(unit.inflight) if unit else 0

    def waiting(self) -> int:
        """Deliveries waiting for room in a window."""
        return sum(len(u.queue) for u in self._units.values())

    def has_work(self) -> bool:
        """Some delivery could be published now."""
        return any(u.queue and len(u.inflight) < self.window for u in self._units.values())
