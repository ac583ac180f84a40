"""Waiting for the MQTT broker at the hub's start: a coded line in Chinese and English, and
more patience each time, instead of a traceback.

paho reconnects by itself (1 s, doubling up to 30 s: ``reconnect_delay_set`` in
:mod:`broker.hub.service`); this only waits for the first connection and says why the hub is
not serving yet, at growing intervals so that a broker down for the night does not flood the
log. ``liandong hub run`` keeps waiting until the broker comes or a signal stops it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from broker.errors import problem
from broker.logs import event

log = logging.getLogger("liandong.hub")

CODE = "BROKER_UNREACHABLE"


@dataclass
class BrokerWait:
    """``wait(connected)``: True once ``connected`` is set, False when ``stopping`` is set first.

    Reports ``BROKER_UNREACHABLE`` (to ``say`` and the log) after ``first`` seconds, then after
    twice as long each time, at most ``longest`` seconds apart."""

    endpoints: str
    stopping: threading.Event = field(default_factory=threading.Event)
    say: Callable[[str], None] = print
    first: float = 5.0
    longest: float = 300.0
    reports: int = 0

    def wait(self, connected: threading.Event) -> bool:
        waited, delay = 0.0, self.first
        while not self.stopping.is_set():
            if self._wait_either(connected, delay):
                if connected.is_set() and self.reports:
                    event(log, "hub.broker_reached", after_reports=self.reports)
                return connected.is_set()
            waited += delay
            delay = min(delay * 2, self.longest)
            self._report(waited, delay)
        return False

    def _wait_either(self, connected: threading.Event, seconds: float) -> bool:
        """Wait up to ``seconds`` for either event, in short steps (a signal sets ``stopping``)."""
        step = min(0.2, seconds)
        remaining = seconds
        while remaining > 0:
            if connected.wait(step) or self.stopping.is_set():
                return True
            remaining -= step
        return False

    def _report(self, waited: float, retry_in: float) -> None:
        self.reports += 1
        p = problem(CODE, endpoints=self.endpoints, seconds=f"{waited:g}")
        self.say(f"{p.code} {p.message_en}; still trying, next report in {retry_in:g} s / "
                 f"{p.message_zh}；继续重试，{retry_in:g} 秒后再次报告")
        event(log, "hub.broker_unreachable", logging.WARNING, code=CODE, endpoints=self.endpoints,
              waited_seconds=round(waited), next_report_seconds=round(retry_in))
