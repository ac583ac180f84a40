"""Per-sender rate limits on what the hub checks (issue 11, item 3; 003 SPC–MPS 四(五)).

A unit is limited by what it gets refused, not by how much it sends: a court publishing 20,000
valid notices at once is served flat out, while a unit whose payloads keep being refused (garbage,
forgeries, wrong routes) is *flooding*. The line is a token bucket of refusals per sender
(``refusal_rate_per_second``, ``refusal_burst``): the refusal that finds it empty starts a flood
episode. During the episode the sender's payloads are admitted on arrival, before any parsing,
only at ``flood_rate_per_second`` (a second bucket): the rest is *excess*, acknowledged to the
broker and counted without being looked at, so it holds neither the broker's in-flight window
(``receive_maximum``) nor the workers. The trickle still admitted is checked as usual: it
samples the flood and shows when the unit behaves again. The episode ends when the sender has had
no excess for ``quiet_seconds``.

Thread-safe: :meth:`SenderGate.admit` runs on paho's network thread, the rest on the pipeline's.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass


@dataclass
class TokenBucket:
    """``rate`` tokens per second up to ``burst``; starts full. Times are monotonic seconds."""

    rate: float
    burst: float
    tokens: float = -1.0
    updated: float | None = None

    def __post_init__(self) -> None:
        if self.tokens < 0:
            self.tokens = self.burst

    def _refill(self, now: float) -> None:
        if self.updated is not None and now > self.updated:
            self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        if self.updated is None or now > self.updated:
            self.updated = now

    def take(self, now: float, n: float = 1.0) -> bool:
        """Take ``n`` tokens if there are that many (True), or none (False)."""
        self._refill(now)
        if self.tokens >= n:
            self.tokens -= n
            return True
        return False


@dataclass(frozen=True)
class GateSettings:
    refusal_rate_per_second: float
    refusal_burst: float
    flood_rate_per_second: float
    flood_burst: float
    quiet_seconds: float


@dataclass
class _Sender:
    refusals: TokenBucket
    admits: TokenBucket | None = None  # set while the sender is flooding
    since: float = 0.0
    last_excess: float = 0.0
    excess: int = 0


class SenderGate:
    """Which sender is flooding, and which of its payloads are checked at all."""

    def __init__(self, settings: GateSettings) -> None:
        self.settings = settings
        self._senders: dict[str, _Sender] = {}
        self._lock = threading.Lock()

    def _sender(self, unit: str) -> _Sender:
        s = self._senders.get(unit)
        if s is None:
            cfg = self.settings
            s = self._senders[unit] = _Sender(TokenBucket(cfg.refusal_rate_per_second, cfg.refusal_burst))
        return s

    def admit(self, unit: str, now: float) -> bool:
        """Check this payload (True), or drop it unchecked as excess (False). Before any parsing."""
        s = self._senders.get(unit)  # a sender never refused has no state: the common case is one lookup
        if s is None or s.admits is None:
            return True
        with self._lock:
            if s.admits is None or s.admits.take(now):
                return True
            s.last_excess = now
            s.excess += 1
            return False

    def refused(self, unit: str, now: float, n: int = 1) -> bool:
        """Note ``n`` refusals of ``unit``'s payloads; True when this starts a flood episode."""
        with self._lock:
            s = self._sender(unit)
            if s.refusals.take(now, n) or s.admits is not None:
                return False
            cfg = self.settings
            s.admits = TokenBucket(cfg.flood_rate_per_second, cfg.flood_burst, tokens=0.0, updated=now)
            s.since = s.last_excess = now
            s.excess = 0
            return True

    def flooding(self, unit: str) -> bool:
        s = self._senders.get(unit)
        return s is not None and s.admits is not None

    def ended(self, now: float) -> list[tuple[str, int, float]]:
        """End the episodes with no excess for ``quiet_seconds``: (unit, excess dropped, seconds
        it lasted) for each. Forgets senders whose refusal bucket is full again (bounded memory)."""
        done: list[tuple[str, int, float]] = []
        with self._lock:
            for unit, s in list(self._senders.items()):
                if s.admits is not None and now - s.last_excess >= self.settings.quiet_seconds:
                    done.append((unit, s.excess, s.last_excess - s.since))
                    s.admits = None
                if s.admits is None:
                    s.refusals._refill(now)
                    if s.refusals.tokens >= s.refusals.burst:
                        del self._senders[unit]
        return done
