"""Reading a court's local store for ``liandong court inbox|show|wait``.

The store (:class:`broker.transport.store.UnitStore`, SQLite) is written by the court's client
while it runs; these helpers only read it, through a read-only connection, so they can run beside
a court client that is connected (SQLite in WAL mode lets a reader and a writer work together)
and never create an empty store when the configuration names the wrong file.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from broker.errors import LiandongError

RESULT_TYPES = ("ExecutionReceipt",)
"""The document that answers a notice with its execution: what ``court wait`` waits for."""


@dataclass(frozen=True)
class Entry:
    """One document of the store, received or sent, without its bytes."""

    document_id: str
    doc_type: str
    direction: str  # "received" | "sent"
    party: str  # the sender of a received document; empty for a sent one
    at: str  # received_at, or created_at of a sent document
    state: str
    in_reply_to: str | None = None
    answer_id: str | None = None


@dataclass(frozen=True)
class Detail:
    """One document with what answered it: for ``court show``."""

    entry: Entry
    raw: bytes
    answers: list[Entry]


def _instant(at: str) -> datetime:
    """A stored ISO time as an aware instant (a naive one read as UTC); unreadable ones sort last."""
    try:
        t = datetime.fromisoformat(at)
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)
    return t if t.tzinfo else t.replace(tzinfo=UTC)


_INBOX = "SELECT document_id, doc_type, 'received', sender, received_at, state, in_reply_to, NULL FROM inbox"
_SENT = "SELECT document_id, doc_type, 'sent', '', created_at, state, NULL, answer_id FROM sent"


class CourtInbox:
    """A read-only view of a court's store; :class:`LiandongError` ``COURT_STORE_MISSING`` when
    the file does not exist (the court has not run yet, or the configuration names another)."""

    def __init__(self, path: Path):
        if not Path(path).is_file():
            raise LiandongError.of("COURT_STORE_MISSING", path=str(path))
        self.path = Path(path)
        self._db = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> CourtInbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def entries(self, *, received: bool = True, sent: bool = True, limit: int | None = None) -> list[Entry]:
        """Documents newest first (by time, then id), received and/or sent."""
        parts = [q for q, wanted in ((_INBOX, received), (_SENT, sent)) if wanted]
        if not parts:
            return []
        entries = [Entry(*row) for row in self._db.execute(" UNION ALL ".join(parts))]
        # sorted by the instant, not the text: the two tables' times may carry different offsets
        entries.sort(key=lambda e: e.document_id)
        entries.sort(key=lambda e: _instant(e.at), reverse=True)
        return entries if limit is None else entries[: max(limit, 0)]

    def detail(self, document_id: str) -> Detail | None:
        """The document (received or sent) with the documents that answer it, oldest first."""
        for query, raw_sql in (
            (_INBOX + " WHERE document_id=?", "SELECT raw FROM inbox WHERE document_id=?"),
            (_SENT + " WHERE document_id=?", "SELECT raw FROM sent WHERE document_id=?"),
        ):
            found = self._db.execute(query, (document_id,)).fetchone()
            if found is not None:
                raw = self._db.execute(raw_sql, (document_id,)).fetchone()[0]
                return Detail(Entry(*found), bytes(raw), self.answers(document_id))
        return None

    def answers(self, document_id: str) -> list[Entry]:
        """Received documents answering ``document_id`` (service receipt, rejection, results)."""
        rows = self._db.execute(_INBOX + " WHERE in_reply_to=? ORDER BY received_at, rowid", (document_id,))
        return [Entry(*r) for r in rows]

    def result(self, document_id: str) -> Entry | None:
        """The execution receipt answering ``document_id``, if it has arrived."""
        for entry in self.answers(document_id):
            if entry.doc_type in RESULT_TYPES:
                return entry
        return None
