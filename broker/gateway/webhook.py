"""Webhooks: every event of ``/v1/events`` pushed to the organisation's system, in order, until
it answers 2xx.

The events already wait in the unit's store (:mod:`broker.gateway.inbox`); the sender keeps one
number beside them in the gateway's state, the cursor of the last event the receiver accepted,
written only after its 2xx. So nothing is lost while the receiver or the gateway is down, and a
gateway killed between the receiver's 2xx and that write sends the same event again, with the
same ``id`` (the receiver drops it as a duplicate). One event at a time: order is arrival order.

Each POST's body is the event's JSON; ``X-Liandong-Signature: sha256=<hex>`` is HMAC-SHA256 of
the body's bytes with the configured secret (docs/gateway.md shows the check in Java and .NET).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from broker.gateway.config import WebhookSide
from broker.gateway.events import event_of
from broker.gateway.inbox import InboxReader
from broker.gateway.state import GatewayState
from broker.logs import event

log = logging.getLogger("liandong.gateway.webhook")

SIGNATURE_HEADER = "X-Liandong-Signature"
EVENT_ID_HEADER = "X-Liandong-Event-Id"
EVENT_TYPE_HEADER = "X-Liandong-Event-Type"
IDLE_SECONDS = 0.05
"""How often an idle sender looks for new arrivals (a local SQLite read)."""


def signature(secret: str, body: bytes) -> str:
    """The header's value: ``sha256=`` and the lowercase hex HMAC-SHA256 of ``body``."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def backoff(failures: int, first: float, most: float) -> float:
    """Seconds to wait after ``failures`` failed tries of one event: doubling, capped."""
    return min(most, first * 2 ** max(0, failures - 1))


class WebhookSender:
    """A thread that delivers events after the saved cursor, one by one, until stopped."""

    def __init__(
        self,
        config: WebhookSide,
        store: Path,
        state: GatewayState,
        on_failure: Callable[[], None] = lambda: None,
    ):
        self.config = config
        self.state = state
        self._reader = InboxReader(store)
        self._on_failure = on_failure
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="gateway-webhook", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self.config.timeout_seconds + 5)
        self._reader.close()

    def pending(self) -> int:
        """Events not yet accepted by the receiver."""
        return self._reader.count_after(self.state.webhook_cursor())

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            cursor = self.state.webhook_cursor()
            arrivals = self._reader.arrivals(cursor, 1)
            if not arrivals:
                self._stop.wait(IDLE_SECONDS)
                continue
            body = json.dumps(event_of(arrivals[0]), ensure_ascii=False).encode("utf-8")
            outcome = self._post(body, arrivals[0].document_id, event_of(arrivals[0])["type"])
            if outcome is None:
                self.state.set_webhook_cursor(arrivals[0].cursor)
                failures = 0
                continue
            failures += 1
            self._on_failure()
            wait = backoff(failures, self.config.backoff_seconds, self.config.max_backoff_seconds)
            event(
                log,
                "gateway.webhook_failed",
                logging.WARNING,
                event_id=arrivals[0].document_id,
                failures=failures,
                reason=outcome,
                retry_in=round(wait, 2),
            )
            self._stop.wait(wait)

    def _post(self, body: bytes, event_id: str, kind: str) -> str | None:
        """None when the receiver answered 2xx, else why not (a status or an error class)."""
        request = urllib.request.Request(str(self.config.url), data=body, method="POST")
        request.add_header("Content-Type", "application/json; charset=utf-8")
        request.add_header(SIGNATURE_HEADER, signature(self.config.secret, body))
        request.add_header(EVENT_ID_HEADER, event_id)
        request.add_header(EVENT_TYPE_HEADER, kind)
        try:
            with urllib.request.urlopen(request, timeout=self.config.timeout_seconds) as reply:
                reply.read()
                return None if 200 <= reply.status < 300 else f"HTTP {reply.status}"
        except urllib.error.HTTPError as exc:
            return f"HTTP {exc.code}"
        except (OSError, ValueError) as exc:  # refused, reset, timed out, a bad URL
            return type(exc).__name__
