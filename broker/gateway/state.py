"""The gateway's own records, beside the unit's store: idempotency keys and answers given
(results, extension notices, review suggestions, lead reports: one of each per document).

A separate SQLite file (WAL, ``synchronous=FULL``): the unit's store belongs to the transport;
these two tables only say which request already made which document, so a repeated request
gets the same document and never a second publication.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS idempotency (
    key          TEXT PRIMARY KEY,   -- the client's Idempotency-Key
    digest       TEXT NOT NULL,      -- SHA-256 of the request body
    document_id  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS answers (
    document_id  TEXT PRIMARY KEY,   -- the inbox document answered
    digest       TEXT NOT NULL,      -- SHA-256 of the answer as posted
    receipt_id   TEXT NOT NULL,
    raw          BLOB NOT NULL       -- the sealed receipt (sent again if the gateway stopped before sending)
);
CREATE TABLE IF NOT EXISTS replies (
    document_id  TEXT NOT NULL,      -- the inbox document answered
    kind         TEXT NOT NULL,      -- ExtensionNotice, ReviewSuggestion, LeadReport (results: answers)
    digest       TEXT NOT NULL,      -- SHA-256 of the answer as posted
    reply_id     TEXT NOT NULL,
    raw          BLOB NOT NULL,      -- the sealed answer (sent again if the gateway stopped before sending)
    PRIMARY KEY (document_id, kind)
);
CREATE TABLE IF NOT EXISTS webhook (
    one          INTEGER PRIMARY KEY CHECK (one = 1),
    cursor       INTEGER NOT NULL    -- the last event the receiver answered 2xx
);
"""


@dataclass(frozen=True)
class Given:
    """What an earlier request produced."""

    digest: str
    document_id: str
    raw: bytes | None = None


class GatewayState:
    """Thread-safe; each method is one transaction. ``lock`` serialises check-then-act."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)
        self.lock = threading.RLock()

    def idempotent(self, key: str) -> Given | None:
        with self.lock:
            row = self._db.execute(
                "SELECT digest, document_id FROM idempotency WHERE key=?", (key,)
            ).fetchone()
        return Given(*row) if row else None

    def remember(self, key: str, digest: str, document_id: str) -> None:
        with self.lock:
            self._db.execute("INSERT OR IGNORE INTO idempotency VALUES (?, ?, ?)", (key, digest, document_id))

    def answer(self, document_id: str, kind: str = "ExecutionReceipt") -> Given | None:
        """The answer of type ``kind`` given to ``document_id`` (results keep their first table)."""
        with self.lock:
            if kind == "ExecutionReceipt":
                row = self._db.execute(
                    "SELECT digest, receipt_id, raw FROM answers WHERE document_id=?", (document_id,)
                ).fetchone()
            else:
                row = self._db.execute(
                    "SELECT digest, reply_id, raw FROM replies WHERE document_id=? AND kind=?",
                    (document_id, kind),
                ).fetchone()
        return Given(row[0], row[1], bytes(row[2])) if row else None

    def record_answer(
        self, document_id: str, digest: str, receipt_id: str, raw: bytes, kind: str = "ExecutionReceipt"
    ) -> None:
        with self.lock:
            if kind == "ExecutionReceipt":
                self._db.execute(
                    "INSERT INTO answers VALUES (?, ?, ?, ?)", (document_id, digest, receipt_id, raw)
                )
            else:
                self._db.execute(
                    "INSERT INTO replies VALUES (?, ?, ?, ?, ?)", (document_id, kind, digest, receipt_id, raw)
                )

    def webhook_cursor(self) -> int:
        """The cursor of the last event the webhook receiver accepted (0: none yet)."""
        with self.lock:
            row = self._db.execute("SELECT cursor FROM webhook WHERE one=1").fetchone()
        return row[0] if row else 0

    def set_webhook_cursor(self, cursor: int) -> None:
        with self.lock:
            self._db.execute(
                "INSERT INTO webhook VALUES (1, ?) ON CONFLICT(one) DO UPDATE SET cursor=excluded.cursor",
                (cursor,),
            )

    def close(self) -> None:
        with self.lock:
            self._db.close()
