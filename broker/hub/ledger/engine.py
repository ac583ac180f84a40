"""Engines for the ledger: durable SQLite settings, PostgreSQL with an optional schema."""

from __future__ import annotations

import logging
import re
from typing import Any

from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)

# FULL: a commit survives power loss, not just a process crash (NORMAL in WAL mode may lose the
# last transactions on power loss). This is legal evidence; the benchmark in the hub docs shows
# what it costs.
SQLITE_SYNCHRONOUS = "FULL"
SQLITE_BUSY_TIMEOUT_MS = 30_000
# The same patience on PostgreSQL: a writer waits this long for the chain head, then fails
# (and the hub retries) instead of queueing forever behind a stuck process.
POSTGRESQL_LOCK_TIMEOUT = "30s"
WRITE_OPTION = "ledger_write"  # execution option: this connection's transaction will write

_SCHEMA_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


def make_engine(url: str, schema: str | None) -> tuple[Engine, Engine]:
    """Return ``(base, engine)``: the engine to dispose, and the one to use (schema applied)."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if schema is not None:
            raise ValueError("a schema name is only supported on PostgreSQL")
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        base = create_engine(parsed)
        event.listen(base, "connect", _sqlite_connect)
        event.listen(base, "begin", _sqlite_begin)
        return base, base
    if backend == "postgresql":
        base = create_engine(parsed, pool_pre_ping=True)
        event.listen(base, "connect", _postgresql_connect)
        if schema is None:
            return base, base
        if not _SCHEMA_NAME.match(schema):
            raise ValueError(f"invalid schema name {schema!r}")
        return base, base.execution_options(schema_translate_map={None: schema})
    raise ValueError(f"the ledger supports sqlite and postgresql URLs, not {backend!r}")


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Take transaction control away from the sqlite3 module (it would BEGIN lazily, only before
    # writes); _sqlite_begin emits BEGIN itself.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        mode = cursor.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode != "wal":
            log.warning("SQLite ledger runs in journal mode %r, not WAL (in-memory database?)", mode)
        cursor.execute(f"PRAGMA synchronous = {SQLITE_SYNCHRONOUS}")
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    # A writing transaction takes the write lock up front: reading the chain head (or checking
    # for a duplicate) and then writing must not interleave with another writer, and a deferred
    # transaction that read first cannot wait for the lock later (SQLITE_BUSY_SNAPSHOT in WAL).
    write = conn.get_execution_options().get(WRITE_OPTION, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


_warned_async_commit = False


def _postgresql_connect(dbapi_connection: Any, _record: Any) -> None:
    global _warned_async_commit
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"SET lock_timeout = '{POSTGRESQL_LOCK_TIMEOUT}'")
        cursor.execute("SHOW synchronous_commit")
        setting = cursor.fetchone()[0]
    finally:
        cursor.close()
    dbapi_connection.commit()  # psycopg opened a transaction; SET (not SET LOCAL) outlives it
    if setting == "off" and not _warned_async_commit:
        _warned_async_commit = True
        log.warning("PostgreSQL synchronous_commit is off: the ledger's last commits may be lost on a crash")
