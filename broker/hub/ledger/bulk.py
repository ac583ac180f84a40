"""Many rows into one table in one ``executemany``, straight through SQLite's driver.

The hub writes its documents, deliveries, deadlines and chained entries in bulk, a batch of
documents per transaction (:class:`broker.hub.ledger.store.LedgerTx`). Through SQLAlchemy's
executemany each row of each statement is turned into a parameter dictionary and each value
through its type's bind processors, in Python: on SQLite that was a fifth of the hub's pipeline
thread (py-spy, issue 16), more than SQLite's own work. Here the statement is compiled once per
table and key set, and a row becomes a tuple with only its time columns converted, as
:class:`~broker.hub.ledger.schema.UTCDateTime` and SQLite's ``DATETIME`` would store them (the
same text; a test compares the stored rows of both ways).

PostgreSQL keeps SQLAlchemy's path: its dialect already folds an executemany of INSERTs into
multi-row statements, and its schema translation is applied as the statement is compiled.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Connection, Insert, LargeBinary, Table, insert
from sqlalchemy.dialects import sqlite

from broker.hub.ledger.records import require_aware
from broker.hub.ledger.schema import UTCDateTime

_DIALECT = sqlite.dialect()
_UTC = timezone.utc
Converter = Callable[[Any], Any]


def _sqlite_time(value: datetime | None) -> str | None:
    """A ledger time as SQLite's DATETIME stores it: UTC, naive, always with microseconds."""
    if value is None:
        return None
    if value.tzinfo is not _UTC:  # (the hub's own times are UTC already)
        require_aware(value, "a ledger time")
        value = value.astimezone(_UTC)
    return value.isoformat(" ", "microseconds")[:-6]  # without its "+00:00"


class _Compiled:
    """One table's INSERT for one set of columns: its SQL and each position's converter."""

    def __init__(self, table: Table, keys: Sequence[str]) -> None:
        compiled = insert(table).compile(dialect=_DIALECT, column_keys=list(keys))
        self.sql = str(compiled)
        names = list(compiled.positiontup or ())
        if sorted(names) != sorted(keys):
            raise ValueError(f"{table.name}: the statement binds {names}, not {sorted(keys)}")
        self.keys = tuple(names)
        converters: list[Converter | None] = []
        for name in names:
            kind = table.c[name].type
            if isinstance(kind, UTCDateTime):
                converters.append(_sqlite_time)
            elif isinstance(kind, LargeBinary) or kind.bind_processor(_DIALECT) is None:
                converters.append(None)  # bytes, text and integers go to sqlite3 as they are
            else:
                raise ValueError(f"{table.name}.{name}: no bulk conversion for {kind!r}")
        self._plain = all(c is None for c in converters)
        self._pairs = tuple(zip(names, converters))

    def rows(self, params: Sequence[Mapping[str, Any]]) -> list[tuple[Any, ...]]:
        if self._plain:
            keys = self.keys
            return [tuple([row[k] for k in keys]) for row in params]
        pairs = self._pairs
        return [tuple([row[k] if c is None else c(row[k]) for k, c in pairs]) for row in params]


class BulkInserts:
    """INSERTs of whole tables written in bulk on SQLite; anything else is declined (False).

    One per process is enough: what is compiled depends only on the table and the keys.
    """

    def __init__(self) -> None:
        # None: this table and key set cannot go in bulk (a default to compute, a type to convert)
        self._compiled: dict[tuple[str, frozenset[str]], _Compiled | None] = {}

    def run(self, conn: Connection, statement: Any, params: Sequence[Mapping[str, Any]]) -> bool:
        """Insert ``params`` (every row with the same keys) if ``statement`` is a plain INSERT
        into a table on SQLite; False (nothing done) otherwise, for the caller's usual path."""
        if conn.dialect.name != "sqlite" or not isinstance(statement, Insert) or not params:
            return False
        if statement._values or statement._multi_values or statement._returning:
            return False  # not a bare insert(table)
        if statement._post_values_clause is not None:
            return False
        table = statement.table
        if not isinstance(table, Table):
            return False
        first = params[0]
        if any(row.keys() != first.keys() for row in params):
            return False
        key = (table.name, frozenset(first))
        if key not in self._compiled:
            try:
                self._compiled[key] = _Compiled(table, list(first))
            except ValueError:
                self._compiled[key] = None
        compiled = self._compiled[key]
        if compiled is None:
            return False
        conn.exec_driver_sql(compiled.sql, compiled.rows(params))
        return True


BULK = BulkInserts()
