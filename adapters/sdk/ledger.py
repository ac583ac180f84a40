"""Exactly-once native operations: :class:`IdempotentLedger` and its :meth:`~IdempotentLedger.once`.

The SDK records each item's result once it has it, but there is always a moment between "the
native system committed the operation" and "the SDK recorded the result": a crash there makes
the SDK call the handler again after restart. The handler must then *not* act twice. The rule:

    every native operation is made with the item's idempotency key (``ctx.idempotency_key``),
    and the native side records the key in the same transaction as the operation; asked again
    with a known key, it returns the recorded outcome instead of acting.

Core systems with request ids (most bank cores have them) get the key as the request id. For
native data in SQLite (the reference stand-ins, small agency systems), this ledger does it:

    ledger = IdempotentLedger(runtime.data_dir / "native.db")

    @handles(BankFreeze)
    def freeze(self, m: BankFreeze, ctx: Context) -> MeasureResult:
        def act(db: sqlite3.Connection) -> dict:
            ...                                    # the native writes, on ``db``
            return {"frozen": "500000.00"}
        outcome = self.ledger.once(ctx.idempotency_key, act)   # runs act at most once per key
        return MeasureResult(measure_id=m.measure_id, status=..., actual_amount=Money.cny(outcome["frozen"]))

``act`` runs inside one SQLite transaction on the ledger's connection, together with the insert
of the key and the outcome: either both are committed or neither is (an exception, a crash).
Use the same connection (or database file, attached) for the native data to get this guarantee.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar, overload

from pydantic import BaseModel

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS {table} (
    key         TEXT PRIMARY KEY,
    outcome     TEXT NOT NULL,      -- JSON
    recorded_at TEXT NOT NULL
)
"""


class IdempotentLedger:
    """Operations recorded by idempotency key, in SQLite, in the native data's transaction.

    ``IdempotentLedger(path)`` opens (and creates) a database file; ``IdempotentLedger(conn)``
    uses an open connection (its owner keeps closing it). Thread-safe: one lock per ledger, or
    the one given with ``lock=`` when the connection is shared with other code.
    """

    def __init__(
        self,
        db: str | Path | sqlite3.Connection,
        *,
        table: str = "native_operations",
        lock: "AbstractContextManager[Any] | None" = None,
    ):
        if not table.isidentifier():
            raise ValueError(f"bad table name {table!r}")
        self.table = table
        if isinstance(db, sqlite3.Connection):
            self.db = db
            self._owned = False
        else:
            Path(db).parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(db, check_same_thread=False, isolation_level=None)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")
            self._owned = True
        # Pass the lock that guards a shared connection, so no other thread's write can slip into
        # the transaction ``once`` holds open on it.
        self._lock = lock if lock is not None else threading.RLock()
        with self._lock:
            self.db.execute(_SCHEMA.format(table=table))
            if self.db.in_transaction:
                self.db.commit()

    @overload
    def once(self, key: str, fn: Callable[[sqlite3.Connection], M], *, model: type[M]) -> M: ...

    @overload
    def once(self, key: str, fn: Callable[[sqlite3.Connection], T], *, model: None = None) -> T: ...

    def once(self, key: str, fn: Callable[[sqlite3.Connection], Any], *, model: type[BaseModel] | None = None) -> Any:
        """Run ``fn(connection)`` once per ``key`` and return its outcome; with a known key,
        return the recorded outcome without running ``fn``.

        The outcome must be JSON-serialisable, or a pydantic model when ``model`` is given.
        If ``fn`` raises, nothing is recorded and its writes are rolled back.
        """
        with self._lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                row = self.db.execute(f"SELECT outcome FROM {self.table} WHERE key=?", (key,)).fetchone()
                if row is not None:
                    self.db.rollback()
                    return _decode(row[0], model)
                outcome = fn(self.db)
                stored = outcome.model_dump(mode="json") if isinstance(outcome, BaseModel) else outcome
                self.db.execute(
                    f"INSERT INTO {self.table} (key, outcome, recorded_at) VALUES (?,?,?)",
                    (key, json.dumps(stored, ensure_ascii=False, default=str), datetime.now(UTC).isoformat()),
                )
            except BaseException:
                if self.db.in_transaction:
                    self.db.rollback()
                raise
            self.db.commit()
            return _decode(json.dumps(stored, ensure_ascii=False, default=str), model)

    def get(self, key: str, *, model: type[BaseModel] | None = None) -> Any:
        """The recorded outcome of ``key``, or None."""
        with self._lock:
            row = self.db.execute(f"SELECT outcome FROM {self.table} WHERE key=?", (key,)).fetchone()
        return _decode(row[0], model) if row else None

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return self.db.execute(f"SELECT 1 FROM {self.table} WHERE key=?", (key,)).fetchone() is not None

    def __len__(self) -> int:
        with self._lock:
            return int(self.db.execute(f"SELECT COUNT(*) FROM {self.table}").fetchone()[0])

    def close(self) -> None:
        if self._owned:
            with self._lock:
                self.db.close()


def _decode(text: str, model: type[BaseModel] | None) -> Any:
    value = json.loads(text)
    return model.model_validate(value) if model is not None else value
