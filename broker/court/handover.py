"""Handing what a court receives to its handler: once per document id, in arrival order, and
never dropped.

The transport (:class:`broker.transport.unit.UnitClient`) verifies each document end to end,
stores it and acknowledges it, then calls :meth:`Handover.accept`, which only queues it in the
court's store. One thread calls the court's handler for each queued document. A handler that
raises is called again with exponential backoff (``handler_retry_initial_seconds`` doubling up to
``handler_retry_max_seconds``), as the adapter SDK retries its handlers, and later documents wait
behind it so that the handler still sees them in arrival order; a restart hands over at once
whatever is still queued. The exception's class is logged, never its message, which may quote
personal data (names, ID numbers); the traceback only at DEBUG.
"""

from __future__ import annotations

import logging
import threading
import traceback
from datetime import datetime

from broker.checking import DocumentChecker
from broker.court.store import CourtStore, QueuedDocument
from broker.errors import LiandongError
from broker.logs import event

# the transport's own clock and view of a verified document, so that both read the same
from broker.transport.unit import Handler, Received, _now, _received

log = logging.getLogger("liandong.court")

IDLE_POLL_SECONDS = 5.0
"""Longest sleep of the handover thread when nothing is due (new documents wake it at once)."""


class Handover:
    """The queue between the transport and the court's handler, and the thread that empties it."""

    def __init__(
        self,
        unit: str,
        store: CourtStore,
        checker: DocumentChecker,
        handler: Handler,
        *,
        retry_initial_seconds: float,
        retry_max_seconds: float,
    ):
        self.unit = unit
        self.store = store
        self.checker = checker
        self.handler = handler
        self.retry_initial_seconds = retry_initial_seconds
        self.retry_max_seconds = retry_max_seconds
        # Documents verified by the transport in this run; after a restart they are verified again.
        self._verified: dict[str, Received] = {}
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"court-handler-{unit}", daemon=True)

    # --- lifecycle ----------------------------------------------------------------------------

    def recover(self) -> None:
        """Before the transport starts: take over documents a handler failed on under an older
        client (inbox state ``failed``), and make waiting retries due now."""
        self.store.requeue_failed_inbox()
        self.store.make_due()

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 60.0) -> None:
        """Let the document in hand finish, then stop (the rest stays queued)."""
        self._stopping.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    # --- transport thread -----------------------------------------------------------------------

    def accept(self, received: Received) -> None:
        """The transport's handler: queue a verified, stored document. Returns at once, so the
        transport goes on acknowledging while the court's handler works or waits to retry."""
        self._verified[received.document_id] = received
        self.store.enqueue(received.document_id)
        self._wake.set()

    # --- handover thread ------------------------------------------------------------------------

    def backoff(self, failures: int) -> float:
        """Seconds to wait after the ``failures``-th consecutive failure of one document."""
        return min(self.retry_max_seconds, self.retry_initial_seconds * 2 ** max(0, failures - 1))

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._wake.clear()
            try:
                delay = self.step()
            except Exception:  # the store failed: keep the thread, try again later
                log.exception("unit.processing_error")
                delay = IDLE_POLL_SECONDS
            self._wake.wait(IDLE_POLL_SECONDS if delay is None else min(delay, IDLE_POLL_SECONDS))

    def step(self) -> float | None:
        """Hand over everything due, in arrival order. Returns the seconds until the next retry,
        or None when the queue is empty."""
        for item in self.store.open_handovers():
            if self._stopping.is_set():
                return None
            wait = _seconds_until(item.retry_at)
            retry_in = self._hand_over(item) if wait <= 0 else wait
            if retry_in is not None:
                return retry_in  # arrival order: nothing after a failing document is handed over before it
        return None

    def _hand_over(self, item: QueuedDocument) -> float | None:
        """Call the handler once; None when it returned, else the seconds until the next attempt."""
        try:
            self.handler(self._load(item.document_id))
        except Exception as exc:  # noqa: BLE001 - whatever the handler raises, the document stays queued
            return self._failed(item, exc)
        self.store.handed_over(item.document_id)
        self._verified.pop(item.document_id, None)
        return None

    def _load(self, document_id: str) -> Received:
        received = self._verified.get(document_id)
        if received is not None:
            return received
        entry = self.store.get_received(document_id)
        if entry is None:
            raise LookupError(f"{document_id} is queued but not in the inbox")
        checked = self.checker.check(entry.raw)
        if not checked.ok:  # e.g. a CRL went stale while the client was stopped: retried like a failure
            raise LiandongError(checked.problems)
        return _received(checked)

    def _failed(self, item: QueuedDocument, exc: Exception) -> float:
        failures, retry_at = self.store.record_failure(
            item.document_id, delay=self.backoff, now=_now(), error=type(exc).__name__
        )
        event(
            log,
            "unit.handler_failed",
            logging.ERROR,
            unit=self.unit,
            document_id=item.document_id,
            doc_type=item.doc_type,
            error=type(exc).__name__,
            codes=exc.codes if isinstance(exc, LiandongError) else None,
            attempt=failures,
            retry_at=retry_at.isoformat(),
        )
        if log.isEnabledFor(logging.DEBUG):
            log.debug("unit.handler_traceback\n%s", "".join(traceback.format_exception(exc)))
        return self.backoff(failures)


def _seconds_until(at: str | None) -> float:
    return (datetime.fromisoformat(at) - _now()).total_seconds() if at else 0.0
