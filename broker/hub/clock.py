"""Supervision time: :class:`SupervisionClock` (docs/supervision.md, "Time").

Real time by default; ``clock_speed`` and ``clock_start`` (or a clock a test passes in) map the
hub's real instants onto another timeline, so that a demo or a test can let working days pass in
seconds. Every time the supervisor writes or states is supervision time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from broker.deadlines.calendar import CHINA_TZ


def _real_now() -> datetime:
    return datetime.now(CHINA_TZ)


class SupervisionClock:
    """Supervision time: ``start + (real - real_at_start) * speed``, in China time.

    With the defaults it is real time. ``set`` and ``advance`` move it (tests; a demo can jump
    over a holiday); the mapping :meth:`at` applies to every real instant the hub hands over.
    Thread-safe.
    """

    def __init__(
        self,
        *,
        speed: float = 1.0,
        start: datetime | None = None,
        real: Callable[[], datetime] = _real_now,
    ) -> None:
        if speed <= 0:
            raise ValueError("the clock speed must be positive")
        self._real = real
        self._lock = threading.Lock()
        self.speed = speed
        now = real()
        self._real0 = now
        self._virt0 = aware(start or now, "clock start").astimezone(CHINA_TZ)

    def now(self) -> datetime:
        return self.at(self._real())

    def at(self, real: datetime) -> datetime:
        """The supervision time of a real instant."""
        aware(real, "a real instant")
        with self._lock:
            return (self._virt0 + (real - self._real0) * self.speed).astimezone(CHINA_TZ)

    def set(self, when: datetime) -> None:
        """Make supervision time ``when`` now (it runs on from there at the same speed)."""
        when = aware(when, "clock time").astimezone(CHINA_TZ)
        with self._lock:
            self._real0, self._virt0 = self._real(), when

    def advance(self, delta: timedelta) -> None:
        self.set(self.now() + delta)


def aware(value: datetime, what: str) -> datetime:
    """``value``, which must be timezone-aware (a naive time would be read in the wrong zone)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got {value.isoformat()}")
    return value
