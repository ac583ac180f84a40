"""An agency's own records in one SQLite file, beside the idempotent ledger: :class:`NativeDatabase`.

Small agency systems and the reference stand-ins keep their native data in SQLite. They all need
the same plumbing, kept here once: the file opened durably (WAL, ``synchronous=FULL``), one lock
guarding the writing connection, transactions that join the one the ledger holds open, keyed
operations that happen at most once (:class:`~adapters.sdk.IdempotentLedger`), a refusal that is
recorded as an outcome like any other (:func:`decide`), and reads through a second connection so
that they see a committed snapshot and never wait behind a write::

    class Registry:
        def __init__(self, path):
            self.store = NativeDatabase(path, SCHEMA)

        def seize(self, key, ...):
            def act(db):
                ...                                  # native writes on ``db``
                if taken: raise Refusal("…无法办理。（003 规范17）")
                return {"seizure": seizure_id}
            return self.store.decide(key, act)        # at most once per key; a refusal too
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)

from adapters.sdk.errors import PermanentError, TransientError
from adapters.sdk.ledger import IdempotentLedger


class Refusal(Exception):
    """The native system cannot carry this out; ``reason`` is written for the court (003 bank
    rules 17: the unit states why it did not execute)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def decide(
    ledger: IdempotentLedger, key: str, act: Callable[[sqlite3.Connection], dict[str, Any]]
) -> dict[str, Any]:
    """``ledger.once(key, act)``, where a :class:`Refusal` is an outcome too: recorded under the
    key (its writes rolled back to a savepoint) and raised again whenever the key is asked, so a
    handler called again after a crash answers as the first time did."""

    def guarded(db: sqlite3.Connection) -> dict[str, Any]:
        db.execute("SAVEPOINT decide")
        try:
            outcome = act(db)
        except Refusal as exc:
            db.execute("ROLLBACK TO decide")
            outcome = {"refused": exc.reason}
        db.execute("RELEASE decide")
        return outcome

    outcome = ledger.once(key, guarded)
    if "refused" in outcome:
        raise Refusal(outcome["refused"])
    return outcome


class NativeDatabase:
    """One SQLite file with an agency's tables (``schema``) and its idempotent ledger.

    ``db`` is the writing connection, guarded by ``lock`` (re-entrant); ``rows`` chooses
    :class:`sqlite3.Row` results (by name and index) or plain tuples. Thread-safe.
    """

    def __init__(
        self,
        path: str | Path,
        schema: str,
        *,
        rows: bool = True,
        foreign_keys: bool = True,
    ):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
        if rows:
            self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        if foreign_keys:
            self.db.execute("PRAGMA foreign_keys=ON")
        self.lock = threading.RLock()
        with self.lock:
            self.db.executescript(schema)
        # one lock guards the shared connection: no other thread's write slips into a keyed operation
        self.ledger = IdempotentLedger(self.db, lock=self.lock)
        self._reader: sqlite3.Connection | None = None
        self._rows = rows
        self._read_lock = threading.Lock()

    def close(self) -> None:
        with self._read_lock:
            if self._reader is not None:
                self._reader.close()
        with self.lock:
            self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One transaction; inside an open one (the idempotent ledger's) it joins it."""
        with self.lock:
            if self.db.in_transaction:
                yield self.db
                return
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                self.db.rollback()
                raise
            self.db.commit()

    def once(self, key: str, act: Callable[[sqlite3.Connection], Any], *, model: type[BaseModel] | None = None) -> Any:
        """``act`` at most once per ``key``, in one transaction with the key
        (:meth:`IdempotentLedger.once <adapters.sdk.IdempotentLedger.once>`)."""
        with self.lock:
            return self.ledger.once(key, act, model=model)

    def carry_out(self, key: str, operation: Callable[[], M], *, model: type[M]) -> M:
        """For a handler: ``operation`` (native writes on :attr:`db`) at most once per ``key``,
        its outcome recorded as ``model``; a :class:`Refusal` becomes the court's
        :class:`~adapters.sdk.PermanentError` (003 bank rules 17), a locked or busy database a
        :class:`~adapters.sdk.TransientError` (nothing was committed: try again)."""
        try:
            return self.once(key, lambda _db: operation(), model=model)
        except Refusal as refusal:
            raise PermanentError(refusal.reason) from None
        except sqlite3.OperationalError:
            raise TransientError() from None

    def decide(self, key: str, act: Callable[[sqlite3.Connection], dict[str, Any]]) -> dict[str, Any]:
        """:meth:`once`, where a :class:`Refusal` is recorded as the outcome too (:func:`decide`)."""
        with self.lock:
            return decide(self.ledger, key, act)

    def read(self, sql: str, args: Iterable[Any] = ()) -> list[Any]:
        """Rows of a query on a second connection: a committed snapshot (WAL), never waiting
        behind the writer's lock."""
        with self._read_lock:
            if self._reader is None:
                self._reader = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
                if self._rows:
                    self._reader.row_factory = sqlite3.Row
            return self._reader.execute(sql, tuple(args)).fetchall()
