"""The ledger's bulk writes on SQLite (broker.hub.ledger.bulk) store what SQLAlchemy's path stores."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import insert

from broker.hub.ledger import DocumentRecord, Ledger
from broker.hub.ledger import bulk
from broker.hub.ledger.schema import deliveries, documents
from broker.hub.ledger.store import DeadlineRecord

CST = timezone(timedelta(hours=8))
T0 = datetime(2025, 3, 3, 9, 0, 0, 0, tzinfo=CST)  # microsecond 0: SQLite's text keeps ".000000"
TABLES = ("documents", "deliveries", "deadlines", "audit", "chain_heads")


def _write(path: Path) -> dict[str, list[tuple]]:
    ledger = Ledger(f"sqlite:///{path}")
    ledger.create_schema()
    try:
        with ledger.transaction() as tx:
            for n in range(3):
                record = DocumentRecord(
                    document_id=f"00000000-0000-0000-0000-00000000000{n}", doc_type="AssistanceNotice",
                    sender="C110105", recipient="B000001", case_number=None if n else "(2025)京0105执1号",
                    issued_at=T0 + timedelta(minutes=n), received_at=T0 + timedelta(minutes=n, microseconds=7 * n),
                    deadline=None if n else T0 + timedelta(days=3), raw=f"<AssistanceNotice n='{n}'/>".encode(),
                    origin="unit", client_unit="C110105", state="accepted",
                )  # fmt: skip
                tx.add_document(record)
                tx.add_delivery(record.document_id, "B000001", "liandong/B000001/inbox")
                due = T0 + timedelta(days=10 + n)
                tx.add_deadline(
                    DeadlineRecord(
                        document_id=record.document_id, doc_type="AssistanceNotice", court="C110105", unit="B000001",
                        unit_kind="Bank", case_number=None, served_at=record.received_at, due_at=due,
                        original_due_at=due, rule="test", remind_at=due - timedelta(days=1), state="open",
                    )  # fmt: skip
                )
                detail = {"digest": record.digest, "doc_type": record.doc_type, "size": record.size}
                tx.audit("received", actor="C110105", client="C110105", document_id=record.document_id, detail=detail, at=T0)
    finally:
        ledger.close()
    with sqlite3.connect(path) as db:
        return {t: db.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall() for t in TABLES}


def test_bulk_rows_equal_sqlalchemy_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    run = bulk.BULK.run

    def counted(conn, statement, params):  # type: ignore[no-untyped-def]
        done = run(conn, statement, params)
        calls.append(statement.table.name if done else "-")
        return done

    monkeypatch.setattr(bulk.BULK, "run", counted)
    fast = _write(tmp_path / "bulk.db")
    assert sorted(calls) == ["audit", "deadlines", "deliveries", "documents"]  # every one in bulk

    monkeypatch.setattr(bulk.BULK, "run", lambda conn, statement, params: False)
    usual = _write(tmp_path / "sqlalchemy.db")
    for table in TABLES:
        assert fast[table] == usual[table], table
    assert fast["documents"][0][6] == "2025-03-03 01:00:00.000000"  # UTC, with its microseconds
    assert Ledger(f"sqlite:///{tmp_path / 'bulk.db'}").verify().ok


def test_what_cannot_go_in_bulk_is_refused(tmp_path: Path) -> None:
    ledger = Ledger(f"sqlite:///{tmp_path / 'l.db'}")
    ledger.create_schema()
    inserts = bulk.BulkInserts()
    with ledger.engine.connect() as conn:
        # a column left to its default ("state", "attempts") is SQLAlchemy's to fill in
        assert not inserts.run(conn, insert(deliveries), [{"id": 1, "document_id": "x", "recipient": "B", "topic": "t"}])
        # rows of different keys, a statement with values of its own
        assert not inserts.run(conn, insert(documents), [{"document_id": "a"}, {"doc_type": "b"}])
        assert not inserts.run(conn, insert(documents).values(state="x"), [{"document_id": "a"}])
    naive = datetime(2025, 1, 1)
    with pytest.raises(ValueError):
        bulk._sqlite_time(naive)
    ledger.close()
