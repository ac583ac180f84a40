"""The court's local store: the unit's inbox and sent tables plus the court's handover queue.

It extends :class:`broker.transport.store.UnitStore` (same SQLite file, same connection and
lock), as the adapter SDK's store does. The transport records and acknowledges what arrives and
then passes it to the court client, which queues it here (``court_handover``) before the
transport marks it ``handled``; the client's handover thread then gives it to the court's
handler. A handler that raises leaves the document queued (``retrying``, with the exception's
class and the time of the next attempt), so nothing the court received is ever dropped, and
what is still queued when the client stops is handed over at the next start.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from broker.transport.store import UnitStore

_SCHEMA = """
CREATE TABLE IF NOT EXISTS court_handover (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,   -- arrival order
    document_id  TEXT NOT NULL UNIQUE,                -- the inbox entry
    state        TEXT NOT NULL,                       -- pending | retrying | handled
    attempts     INTEGER NOT NULL DEFAULT 0,          -- consecutive failures of the handler
    retry_at     TEXT,                                -- next attempt after a failure
    detail       TEXT                                 -- the last failure: exception class, never its message
);
CREATE INDEX IF NOT EXISTS court_handover_state ON court_handover(state, seq);
"""

OPEN_STATES = ("pending", "retrying")

_COLS = "h.seq, h.document_id, i.doc_type, h.state, h.attempts, h.retry_at, h.detail"
_FROM = "court_handover h JOIN inbox i ON i.document_id = h.document_id"


@dataclass(frozen=True)
class QueuedDocument:
    """One document queued for the court's handler."""

    seq: int
    document_id: str
    doc_type: str
    state: str
    attempts: int
    retry_at: str | None
    detail: str | None


class CourtStore(UnitStore):
    """:class:`UnitStore` plus the handover queue. Thread-safe; each method is one transaction."""

    def __init__(self, path: str | Path):
        super().__init__(path)
        with self._lock:
            self._db.executescript(_SCHEMA)

    def enqueue(self, document_id: str) -> bool:
        """Queue a stored, verified document for the handler; False when it is already queued."""
        with self._tx() as db:
            cur = db.execute("INSERT OR IGNORE INTO court_handover (document_id, state) VALUES (?, 'pending')", (document_id,))
            return cur.rowcount == 1

    def requeue_failed_inbox(self) -> int:
        """Queue the inbox entries the transport marked ``failed`` — a handler that raised under a
        client without this queue, or a failure to queue — and mark them ``handled`` (taken over
        by the queue), in one transaction. Returns how many."""
        with self._tx() as db:
            ids = [r[0] for r in db.execute("SELECT document_id FROM inbox WHERE state='failed' ORDER BY rowid")]
            for document_id in ids:
                db.execute("INSERT OR IGNORE INTO court_handover (document_id, state) VALUES (?, 'pending')", (document_id,))
                db.execute("UPDATE inbox SET state='handled', detail=NULL WHERE document_id=?", (document_id,))
            return len(ids)

    def make_due(self) -> None:
        """Make every waiting retry due now (at a start: the handler may have been fixed)."""
        with self._tx() as db:
            db.execute("UPDATE court_handover SET retry_at=NULL WHERE state='retrying'")

    def handovers(self, *, states: Iterable[str] | None = None) -> list[QueuedDocument]:
        """Queued documents in arrival order, optionally only those in ``states``."""
        sql = f"SELECT {_COLS} FROM {_FROM}"
        args: tuple[str, ...] = ()
        if states is not None:
            args = tuple(states)
            sql += f" WHERE h.state IN ({','.join('?' * len(args))})"
        with self._lock:
            rows = self._db.execute(sql + " ORDER BY h.seq", args).fetchall()
        return [QueuedDocument(*r) for r in rows]

    def open_handovers(self) -> list[QueuedDocument]:
        """What the handler has not yet taken, in arrival order."""
        return self.handovers(states=OPEN_STATES)

    def handed_over(self, document_id: str) -> None:
        """The handler returned: the document leaves the queue."""
        with self._tx() as db:
            db.execute(
                "UPDATE court_handover SET state='handled', retry_at=NULL WHERE document_id=?", (document_id,)
            )

    def record_failure(
        self, document_id: str, *, delay: Callable[[int], float], now: datetime, error: str
    ) -> tuple[int, datetime]:
        """Count a failed handover and keep the document ``retrying`` until ``now + delay(n)``,
        ``n`` being its consecutive failures. Returns ``n`` and the time of the next attempt."""
        with self._tx() as db:
            row = db.execute("SELECT attempts FROM court_handover WHERE document_id=?", (document_id,)).fetchone()
            failures = (int(row[0]) if row else 0) + 1
            retry_at = now + timedelta(seconds=delay(failures))
            db.execute(
                "UPDATE court_handover SET state='retrying', attempts=?, retry_at=?, detail=? WHERE document_id=?",
                (failures, retry_at.isoformat(), error, document_id),
            )
            return failures, retry_at
