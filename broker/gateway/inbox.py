"""Reading a unit's inbox page by page, oldest first, with a cursor that survives restarts.

The transport's store (:mod:`broker.transport.store`) records every arrival in its ``inbox``
table and never deletes one, so the table's rowid is a stable arrival order: the cursor is the
last rowid a page held. The page is read through a read-only connection of its own (SQLite in
WAL mode: readers never block the transport's writer), one query for one page, instead of
loading the whole inbox for every poll.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

from broker.transport.store import InboxEntry

_PAGE = """
SELECT rowid, document_id, doc_type, sender, in_reply_to, digest, received_at, raw, state FROM inbox
WHERE rowid > ? AND state != 'invalid' AND doc_type NOT IN ('ServiceReceipt', 'RejectionNotice')
ORDER BY rowid LIMIT ?
"""
# invalid: never verified, never acted on; the hub's answers belong to the sent document's state


_ARRIVALS = """
SELECT i.rowid, i.document_id, i.doc_type, i.sender, COALESCE(s.document_id, i.in_reply_to), i.received_at
FROM inbox i LEFT JOIN sent s ON s.answer_id = i.document_id
WHERE i.rowid > ? AND i.state != 'invalid' ORDER BY i.rowid LIMIT ?
"""


@dataclass(frozen=True)
class Arrival:
    """One verified document that arrived, in arrival order."""

    cursor: int
    document_id: str
    doc_type: str
    sender: str
    answers: str | None
    received_at: str


class InboxReader:
    """Pages of what arrived for the unit; thread-safe."""

    def __init__(self, store: Path):
        self._db = sqlite3.connect(f"file:{store}?mode=ro", uri=True, check_same_thread=False)
        self._lock = threading.Lock()
        # latest() has a connection of its own: an event stream asks it on the event loop's
        # thread, which must never wait behind a page being read for another caller
        self._probe = sqlite3.connect(f"file:{store}?mode=ro", uri=True, check_same_thread=False)
        self._probe_lock = threading.Lock()

    def page(self, cursor: int, limit: int) -> tuple[list[InboxEntry], int]:
        """Up to ``limit`` documents after ``cursor``, and the cursor for the next page."""
        with self._lock:
            rows = self._db.execute(_PAGE, (cursor, limit)).fetchall()
        entries = [InboxEntry(*r[1:8], state=r[8]) for r in rows]
        return entries, rows[-1][0] if rows else cursor

    def arrivals(self, cursor: int, limit: int) -> list[Arrival]:
        """Everything verified that arrived after ``cursor`` — the hub's answers too — with the
        document of this unit each answers (a rejection names it in its body: found through the
        transport's settlement, ``sent.answer_id``)."""
        with self._lock:
            rows = self._db.execute(_ARRIVALS, (cursor, limit)).fetchall()
        return [Arrival(*r) for r in rows]

    def latest(self) -> int:
        """The cursor of the last arrival, verified or not (0: none): one step down the table's
        b-tree, microseconds, so cheap enough to ask without leaving the event loop."""
        with self._probe_lock:
            row = self._probe.execute("SELECT max(rowid) FROM inbox").fetchone()
        return int(row[0] or 0)

    def count_after(self, cursor: int) -> int:
        """How many events (verified arrivals) came after ``cursor``."""
        with self._lock:
            row = self._db.execute(
                "SELECT count(*) FROM inbox WHERE rowid > ? AND state != 'invalid'", (cursor,)
            ).fetchone()
        return int(row[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()
        with self._probe_lock:
            self._probe.close()
