"""PostgreSQL for tests: a fresh, uniquely named schema in database ``test`` per test.

Use with ``from tests.pg import pg_url  # noqa: F401``. Skips loudly when the server is not there.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql

PG_HOST = os.environ.get("LIANDONG_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("LIANDONG_TEST_PG_PORT", "5432"))
PG_USER = os.environ.get("LIANDONG_TEST_PG_USER", "postgres")
PG_DB = os.environ.get("LIANDONG_TEST_PG_DB", "test")


def _connect() -> psycopg.Connection:
    return psycopg.connect(
        host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=PG_DB, autocommit=True, connect_timeout=3
    )


@pytest.fixture
def pg_url() -> Iterator[tuple[str, str]]:
    """Yield ``(sqlalchemy_url, schema)`` for a new empty schema; drop it (CASCADE) afterwards."""
    try:
        admin = _connect()
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL at {PG_HOST}:{PG_PORT} not reachable: {exc}")
    schema = f"test_{uuid.uuid4().hex[:16]}"
    with admin:
        admin.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        try:
            yield f"postgresql+psycopg://{PG_USER}@{PG_HOST}:{PG_PORT}/{PG_DB}", schema
        finally:
            # a leaked connection holding a lock must fail the teardown, not hang it
            admin.execute("SET lock_timeout = '10s'")
            admin.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))
