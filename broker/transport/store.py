"""A unit's local store (SQLite): what arrived, what was handled, what was sent.

It makes delivery exactly-once for the unit's code although the network delivers at least once:
a document id is recorded before the broker and the hub are told it arrived, and it is handed to
the unit's handler only while its state says it has not been handled. Documents the unit sends
stay here until the hub's service receipt (or rejection) arrives, so they are sent again after a
crash or a lost message. SQLite in WAL mode with ``synchronous=FULL``: a unit's store is evidence
of what it received, and it lives beside the unit's own system, not in a shared database.
"""

from __future__ import annotations

import sqlite3
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Iterator

from broker.errors import LiandongError
from broker.transport.resend import Unanswered

_SCHEMA = """
CREATE TABLE IF NOT EXISTS inbox (
    document_id TEXT PRIMARY KEY,
    doc_type    TEXT NOT NULL,
    sender      TEXT NOT NULL,
    in_reply_to TEXT,
    digest      TEXT NOT NULL,
    received_at TEXT NOT NULL,
    raw         BLOB NOT NULL,
    state       TEXT NOT NULL,          -- received | handled | invalid | failed
    detail      TEXT
);
CREATE INDEX IF NOT EXISTS inbox_state ON inbox(state);
CREATE INDEX IF NOT EXISTS inbox_reply ON inbox(in_reply_to);
CREATE TABLE IF NOT EXISTS sent (
    document_id TEXT PRIMARY KEY,
    doc_type    TEXT NOT NULL,
    digest      TEXT NOT NULL,
    raw         BLOB NOT NULL,
    state       TEXT NOT NULL,          -- pending | receipted | rejected
    created_at  TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_sent_at TEXT,
    answer_id   TEXT                    -- the service receipt or rejection notice
);
CREATE INDEX IF NOT EXISTS sent_state ON sent(state);
CREATE INDEX IF NOT EXISTS sent_digest ON sent(digest);
-- the gateway's events find the document each hub answer settled by it (broker/gateway/inbox.py):
-- without the index SQLite builds a temporary one for every query, twenty times a second per stream
CREATE INDEX IF NOT EXISTS sent_answer ON sent(answer_id);
"""


@dataclass(frozen=True)
class InboxEntry:
    document_id: str
    doc_type: str
    sender: str
    in_reply_to: str | None
    digest: str
    received_at: str
    raw: bytes
    state: str


@dataclass(frozen=True)
class SentEntry:
    document_id: str
    doc_type: str
    digest: str
    raw: bytes
    state: str
    attempts: int
    last_sent_at: str | None
    answer_id: str | None


class UnitStore:
    """Thread-safe (one connection, one lock); every method is one transaction."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # --- inbox ---------------------------------------------------------------------------

    def record_received(self, entry: InboxEntry) -> bool:
        """Store a received document; False when its id is already known (a redelivery)."""
        with self._tx() as db:
            cur = db.execute(
                "INSERT OR IGNORE INTO inbox VALUES (?,?,?,?,?,?,?,?,NULL)",
                (
                    entry.document_id,
                    entry.doc_type,
                    entry.sender,
                    entry.in_reply_to,
                    entry.digest,
                    entry.received_at,
                    entry.raw,
                    entry.state,
                ),
            )
            return cur.rowcount == 1

    def set_inbox_state(self, document_id: str, state: str, detail: str | None = None) -> None:
        with self._tx() as db:
            db.execute("UPDATE inbox SET state=?, detail=? WHERE document_id=?", (state, detail, document_id))

    def inbox(self, *, state: str | None = None) -> list[InboxEntry]:
        sql = "SELECT document_id, doc_type, sender, in_reply_to, digest, received_at, raw, state FROM inbox"
        args: tuple[str, ...] = ()
        if state:
            sql += " WHERE state=?"
            args = (state,)
        with self._lock:
            rows = self._db.execute(sql + " ORDER BY rowid", args).fetchall()
        return [InboxEntry(*r) for r in rows]

    def get_received(self, document_id: str) -> InboxEntry | None:
        with self._lock:
            row = self._db.execute(
                "SELECT document_id, doc_type, sender, in_reply_to, digest, received_at, raw, state FROM inbox"
                " WHERE document_id=?",
                (document_id,),
            ).fetchone()
        return InboxEntry(*row) if row else None

    def answers_to(self, document_id: str) -> list[InboxEntry]:
        with self._lock:
            rows = self._db.execute(
                "SELECT document_id, doc_type, sender, in_reply_to, digest, received_at, raw, state FROM inbox"
                " WHERE in_reply_to=? ORDER BY rowid",
                (document_id,),
            ).fetchall()
        return [InboxEntry(*r) for r in rows]

    # --- sent ------------------------------------------------------------------------------

    def record_sent(self, document_id: str, doc_type: str, digest: str, raw: bytes, at: datetime) -> bool:
        """Keep a document until the hub answers; False when it was already sent (same bytes).
        Sending other bytes under a known id is refused: the hub would reject it as a conflict."""
        with self._tx() as db:
            return _insert_sent(db, document_id, doc_type, digest, raw, at)

    def record_sent_many(self, documents: list[tuple[str, str, str, bytes]], at: datetime) -> None:
        """:meth:`record_sent` for several (document id, type, digest, bytes) in one transaction
        (one fsync), each with its first attempt (:meth:`mark_attempt`) counted at ``at``: they
        are published right after (the gateway's requests in flight, broker/gateway/publishing.py)."""
        with self._tx() as db:
            for document_id, doc_type, digest, raw in documents:
                _insert_sent(db, document_id, doc_type, digest, raw, at)
                db.execute(
                    "UPDATE sent SET attempts=attempts+1, last_sent_at=? WHERE document_id=?", (at.isoformat(), document_id)
                )

    def mark_attempt(self, document_id: str, at: datetime) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE sent SET attempts=attempts+1, last_sent_at=? WHERE document_id=?", (at.isoformat(), document_id)
            )

    def settle(self, *, document_id: str | None, digest: str | None, state: str, answer_id: str) -> str | None:
        """Record the hub's answer to a sent document (matched by id, else by payload digest)."""
        with self._tx() as db:
            row = None
            if document_id:
                row = db.execute("SELECT document_id FROM sent WHERE document_id=?", (document_id,)).fetchone()
            if row is None and digest:
                row = db.execute("SELECT document_id FROM sent WHERE digest=?", (digest,)).fetchone()
            if row is None:
                return None
            db.execute(
                "UPDATE sent SET state=?, answer_id=? WHERE document_id=? AND state='pending'", (state, answer_id, row[0])
            )
            return str(row[0])

    def sent(self, *, state: str | None = None) -> list[SentEntry]:
        sql = "SELECT document_id, doc_type, digest, raw, state, attempts, last_sent_at, answer_id FROM sent"
        args: tuple[str, ...] = ()
        if state:
            sql += " WHERE state=?"
            args = (state,)
        with self._lock:
            rows = self._db.execute(sql + " ORDER BY rowid", args).fetchall()
        return [SentEntry(*r) for r in rows]

    def unanswered(self) -> list[Unanswered]:
        """Sent documents still waiting for the hub's answer, oldest first, without their bytes
        (scanned every second: a backlog's bytes are not read for nothing)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT document_id, attempts, last_sent_at FROM sent WHERE state='pending' ORDER BY rowid"
            ).fetchall()
        return [Unanswered(r[0], r[1], datetime.fromisoformat(r[2]) if r[2] else None) for r in rows]

    def get_sent(self, document_id: str) -> SentEntry | None:
        with self._lock:
            row = self._db.execute(
                "SELECT document_id, doc_type, digest, raw, state, attempts, last_sent_at, answer_id FROM sent"
                " WHERE document_id=?",
                (document_id,),
            ).fetchone()
        return SentEntry(*row) if row else None


def _insert_sent(db: sqlite3.Connection, document_id: str, doc_type: str, digest: str, raw: bytes, at: datetime) -> bool:
    """Insert a sent document unless it is there (False); other bytes under its id: DOC_ID_REUSED."""
    known = db.execute("SELECT digest FROM sent WHERE document_id=?", (document_id,)).fetchone()
    if known is not None and known[0] != digest:
        raise LiandongError.of("DOC_ID_REUSED", document_id=document_id)
    # last_sent_at from the start: the resend scan must not publish it again in the moment
    # between this record and the first publication.
    cur = db.execute(
        "INSERT OR IGNORE INTO sent (document_id, doc_type, digest, raw, state, created_at, last_sent_at)"
        " VALUES (?,?,?,?,?,?,?)",
        (document_id, doc_type, digest, raw, "pending", at.isoformat(), at.isoformat()),
    )
    return cur.rowcount == 1
