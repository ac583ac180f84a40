"""The adapter's local store: the unit's inbox and sent tables plus the adapter's own state.

It extends :class:`broker.transport.store.UnitStore` (same SQLite file, same connection and
lock), so what the transport recorded and what the adapter executed live side by side and one
transaction can span both. Three tables are added:

- ``adapter_jobs``: one row per document handed over, in delivery order (``seq``), with the
  verified document and its state: ``pending`` (work to do), ``retrying`` (a transient failure:
  later documents wait), ``waiting`` (an item asked for more time: later documents go on),
  ``done`` (answered), ``noted`` (nothing to do), ``refused`` (not executed, with a code);
- ``adapter_items``: per item, its result once computed (the XML of the result), or its
  retry or deferral state. A result is written once and never recomputed;
- ``adapter_outbound``: every document the adapter sealed (receipts, extension notices, review
  suggestions, documents it originated), under an idempotency key, written in the same
  transaction as the state change that produced it, then handed to the transport. A row not yet
  handed over when the process stopped is handed over at the next start.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from broker.transport.store import InboxEntry, UnitStore

_SCHEMA = """
CREATE TABLE IF NOT EXISTS adapter_jobs (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    document_id  TEXT NOT NULL UNIQUE,
    doc_type     TEXT NOT NULL,
    sender       TEXT NOT NULL,
    case_number  TEXT,
    received_at  TEXT NOT NULL,
    tree         BLOB NOT NULL,          -- the verified document (signature removed)
    state        TEXT NOT NULL,          -- pending | retrying | waiting | done | noted | refused
    retry_at     TEXT,
    attempts     INTEGER NOT NULL DEFAULT 0,
    detail       TEXT,
    answer_id    TEXT,                   -- the receipt sent in answer
    updated_at   TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS adapter_jobs_state ON adapter_jobs(state, seq);
CREATE TABLE IF NOT EXISTS adapter_items (
    document_id  TEXT NOT NULL,
    item_id      TEXT NOT NULL,          -- '' for a document handler
    position     INTEGER NOT NULL,
    state        TEXT NOT NULL,          -- done | retrying | deferred
    result       BLOB,                   -- XML of the MeasureResult/QueryResult/ReleaseResult
    attempts     INTEGER NOT NULL DEFAULT 0,
    retry_at     TEXT,
    notified_deadline TEXT,              -- proposed deadline of the last extension notice
    PRIMARY KEY (document_id, item_id)
);
CREATE TABLE IF NOT EXISTS adapter_outbound (
    key          TEXT PRIMARY KEY,
    document_id  TEXT NOT NULL UNIQUE,
    doc_type     TEXT NOT NULL,
    regarding    TEXT,                   -- the received document it concerns
    raw          BLOB NOT NULL,
    created_at   TEXT NOT NULL,
    handed_at    TEXT                    -- when the transport took it (NULL: not yet)
);
CREATE INDEX IF NOT EXISTS adapter_outbound_regarding ON adapter_outbound(regarding);
CREATE INDEX IF NOT EXISTS adapter_outbound_unhanded ON adapter_outbound(created_at) WHERE handed_at IS NULL;
"""

OPEN_STATES = ("pending", "retrying", "waiting")


@dataclass(frozen=True)
class Job:
    seq: int
    document_id: str
    doc_type: str
    sender: str
    case_number: str | None
    received_at: str
    tree: bytes | None
    """The verified document; None in lists (:meth:`AdapterStore.jobs`), read it with
    :meth:`AdapterStore.get_job`."""
    state: str
    retry_at: str | None
    attempts: int
    detail: str | None
    answer_id: str | None


@dataclass(frozen=True)
class ItemState:
    document_id: str
    item_id: str
    position: int
    state: str
    result: bytes | None
    attempts: int
    retry_at: str | None
    notified_deadline: str | None


@dataclass(frozen=True)
class Outbound:
    """A sealed document the adapter sends, under its idempotency ``key``."""

    key: str
    document_id: str
    doc_type: str
    regarding: str | None
    raw: bytes
    created_at: str
    handed_at: str | None = None


_JOB_COLS = "seq, document_id, doc_type, sender, case_number, received_at, tree, state, retry_at, attempts, detail, answer_id"
_ITEM_COLS = "document_id, item_id, position, state, result, attempts, retry_at, notified_deadline"
_OUT_COLS = "key, document_id, doc_type, regarding, raw, created_at, handed_at"


class AdapterStore(UnitStore):
    """:class:`UnitStore` plus the adapter tables. Thread-safe; each method is one transaction.

    ``on_redelivery(document_id)`` is called (outside the transaction) when the transport
    records a document id it already had: the runtime sends the stored receipt again.
    """

    def __init__(self, path: str | Path, on_redelivery: Callable[[str], None] | None = None):
        super().__init__(path)
        with self._lock:
            self._db.executescript(_SCHEMA)
        self.on_redelivery = on_redelivery

    def record_received(self, entry: InboxEntry) -> bool:
        new = super().record_received(entry)
        if not new and self.on_redelivery is not None:
            self.on_redelivery(entry.document_id)
        return new

    # --- jobs ----------------------------------------------------------------------------------

    def add_job(
        self,
        *,
        document_id: str,
        doc_type: str,
        sender: str,
        case_number: str | None,
        received_at: datetime,
        tree: bytes,
        state: str,
        detail: str | None,
        now: datetime,
    ) -> bool:
        """Record a handed-over document; False when it is already known (never executed twice)."""
        with self._tx() as db:
            cur = db.execute(
                "INSERT OR IGNORE INTO adapter_jobs (document_id, doc_type, sender, case_number, received_at, tree,"
                " state, detail, updated_at) VALUES (?,?,?,?,?,?,?,?,?)",
                (document_id, doc_type, sender, case_number, received_at.isoformat(), tree, state, detail, now.isoformat()),
            )
            return cur.rowcount == 1

    def get_job(self, document_id: str) -> Job | None:
        with self._lock:
            row = self._db.execute(f"SELECT {_JOB_COLS} FROM adapter_jobs WHERE document_id=?", (document_id,)).fetchone()
        return Job(*row) if row else None

    def jobs(self, *, states: Iterable[str] | None = None) -> list[Job]:
        """Jobs in delivery order, optionally only those in ``states`` (without their trees)."""
        sql = f"SELECT {_JOB_COLS.replace('tree', 'NULL')} FROM adapter_jobs"
        args: tuple[str, ...] = ()
        if states is not None:
            args = tuple(states)
            sql += f" WHERE state IN ({','.join('?' * len(args))})"
        with self._lock:
            rows = self._db.execute(sql + " ORDER BY seq", args).fetchall()
        return [Job(*r) for r in rows]

    def open_jobs(self) -> list[Job]:
        return self.jobs(states=OPEN_STATES)

    def set_job(
        self,
        document_id: str,
        state: str,
        *,
        now: datetime,
        retry_at: datetime | None = None,
        attempts: int | None = None,
        detail: str | None = None,
    ) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE adapter_jobs SET state=?, retry_at=?, attempts=COALESCE(?, attempts), detail=?, updated_at=?"
                " WHERE document_id=?",
                (state, retry_at.isoformat() if retry_at else None, attempts, detail, now.isoformat(), document_id),
            )

    def finish_job(self, document_id: str, *, state: str, now: datetime, answer: Outbound | None = None, detail: str | None = None) -> None:
        """Close a job and, in the same transaction, store the receipt that answers it."""
        with self._tx() as db:
            if answer is not None:
                _insert_outbound(db, answer)
            db.execute(
                "UPDATE adapter_jobs SET state=?, retry_at=NULL, attempts=0, detail=?, answer_id=?, updated_at=?"
                " WHERE document_id=?",
                (state, detail, answer.document_id if answer else None, now.isoformat(), document_id),
            )

    # --- items --------------------------------------------------------------------------------------

    def items(self, document_id: str) -> dict[str, ItemState]:
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_ITEM_COLS} FROM adapter_items WHERE document_id=? ORDER BY position", (document_id,)
            ).fetchall()
        return {r[1]: ItemState(*r) for r in rows}

    def record_result(
        self, document_id: str, item_id: str, position: int, result: bytes, *, now: datetime, outbound: Iterable[Outbound] = ()
    ) -> None:
        """Record an item's result (once: a second call keeps the first) and the documents the
        handler asked to send with it (review suggestions), in one transaction."""
        with self._tx() as db:
            db.execute(
                "INSERT INTO adapter_items (document_id, item_id, position, state, result) VALUES (?,?,?,?,?)"
                " ON CONFLICT(document_id, item_id) DO UPDATE SET state='done', result=excluded.result, retry_at=NULL"
                " WHERE adapter_items.state != 'done'",
                (document_id, item_id, position, "done", result),
            )
            for out in outbound:
                _insert_outbound(db, out)
            db.execute(
                "UPDATE adapter_jobs SET attempts=0, updated_at=? WHERE document_id=?", (now.isoformat(), document_id)
            )

    def record_retry(
        self, document_id: str, item_id: str, position: int, *, delay: Callable[[int], float], now: datetime
    ) -> tuple[int, datetime]:
        """Count a failed attempt of an item and put its document in ``retrying`` until
        ``now + delay(n)``, ``n`` being the document's consecutive failures (reset by progress).
        Returns ``n`` and the time of the next attempt."""
        with self._tx() as db:
            row = db.execute("SELECT attempts FROM adapter_jobs WHERE document_id=?", (document_id,)).fetchone()
            failures = (int(row[0]) if row else 0) + 1
            retry_at = now + timedelta(seconds=delay(failures))
            db.execute(
                "INSERT INTO adapter_items (document_id, item_id, position, state, attempts, retry_at) VALUES (?,?,?,?,1,?)"
                " ON CONFLICT(document_id, item_id) DO UPDATE SET state='retrying', attempts=attempts+1,"
                " retry_at=excluded.retry_at",
                (document_id, item_id, position, "retrying", retry_at.isoformat()),
            )
            db.execute(
                "UPDATE adapter_jobs SET state='retrying', retry_at=?, attempts=?, updated_at=? WHERE document_id=?",
                (retry_at.isoformat(), failures, now.isoformat(), document_id),
            )
            return failures, retry_at

    def fail_job(self, document_id: str, *, delay: Callable[[int], float], now: datetime, detail: str) -> tuple[int, datetime]:
        """A failure outside any item (sealing the receipt): retry the document later."""
        with self._tx() as db:
            row = db.execute("SELECT attempts FROM adapter_jobs WHERE document_id=?", (document_id,)).fetchone()
            failures = (int(row[0]) if row else 0) + 1
            retry_at = now + timedelta(seconds=delay(failures))
            db.execute(
                "UPDATE adapter_jobs SET state='retrying', retry_at=?, attempts=?, detail=?, updated_at=? WHERE document_id=?",
                (retry_at.isoformat(), failures, detail, now.isoformat(), document_id),
            )
            return failures, retry_at

    def record_deferral(
        self,
        document_id: str,
        item_id: str,
        position: int,
        *,
        retry_at: datetime,
        deadline: datetime,
        notice: Outbound | None,
    ) -> None:
        """An item asked for more time: remember when to ask again, and (once per proposed
        deadline) store the extension notice, in one transaction."""
        with self._tx() as db:
            db.execute(
                "INSERT INTO adapter_items (document_id, item_id, position, state, attempts, retry_at, notified_deadline)"
                " VALUES (?,?,?,?,1,?,?) ON CONFLICT(document_id, item_id) DO UPDATE SET state='deferred',"
                " attempts=attempts+1, retry_at=excluded.retry_at,"
                " notified_deadline=COALESCE(excluded.notified_deadline, notified_deadline)",
                (document_id, item_id, position, "deferred", retry_at.isoformat(), deadline.isoformat() if notice else None),
            )
            if notice is not None:
                _insert_outbound(db, notice)

    # --- outbound -----------------------------------------------------------------------------------

    def add_outbound(self, out: Outbound) -> Outbound:
        """Store a sealed document under its key; returns what is stored (the earlier one when
        the key is known, so a repeated call sends nothing new)."""
        with self._tx() as db:
            _insert_outbound(db, out)
            row = db.execute(f"SELECT {_OUT_COLS} FROM adapter_outbound WHERE key=?", (out.key,)).fetchone()
        return Outbound(*row)

    def get_outbound(self, key: str) -> Outbound | None:
        with self._lock:
            row = self._db.execute(f"SELECT {_OUT_COLS} FROM adapter_outbound WHERE key=?", (key,)).fetchone()
        return Outbound(*row) if row else None

    def outbound(self, *, regarding: str | None = None, unhanded: bool = False) -> list[Outbound]:
        sql = f"SELECT {_OUT_COLS} FROM adapter_outbound"
        where, args = [], []
        if regarding is not None:
            where.append("regarding=?")
            args.append(regarding)
        if unhanded:
            where.append("handed_at IS NULL")
        if where:
            sql += " WHERE " + " AND ".join(where)
        with self._lock:
            rows = self._db.execute(sql + " ORDER BY rowid", tuple(args)).fetchall()
        return [Outbound(*r) for r in rows]

    def mark_handed(self, key: str, at: datetime) -> None:
        with self._tx() as db:
            db.execute("UPDATE adapter_outbound SET handed_at=? WHERE key=? AND handed_at IS NULL", (at.isoformat(), key))


def _insert_outbound(db, out: Outbound) -> None:  # type: ignore[no-untyped-def]
    db.execute(
        f"INSERT OR IGNORE INTO adapter_outbound ({_OUT_COLS}) VALUES (?,?,?,?,?,?,NULL)",
        (out.key, out.document_id, out.doc_type, out.regarding, out.raw, out.created_at),
    )
