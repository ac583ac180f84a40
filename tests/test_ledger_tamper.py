"""A ledger that hides no edit (issue 11, item 4): on a copy of a ledger written by a real run
(the hub over a real Mosquitto: notices accepted, delivered, one answered, one refused), deleting
any evidence row or editing any column with legal meaning is reported by ``ledger verify`` (the
library and the CLI) with the entry and the column, and the CLI exits 1.

The run happens once per module on SQLite; each test tampers with its own copy. The PostgreSQL
tests load the same rows into a fresh schema (tests/pg.py) and tamper there.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import typer
from rich.console import Console
from sqlalchemy import Integer, create_engine, delete, insert, select, update
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from broker.cli import ledger_cmd
from broker.errors import problem
from broker.hub.config import Limits
from broker.hub.flood_guard import FloodGuard
from broker.hub.intake import Intake
from broker.hub.ledger import DocumentRecord, Ledger, store
from broker.hub.ledger.coverage import COVERED, TIMES, RowLog, time_text
from broker.hub.ledger.coverage_v1 import ObjectRowLog
from broker.hub.ledger.rejections_compact import minute_of
from broker.hub.ledger.schema import (
    UTCDateTime, audit, chain_heads, deadlines, deliveries, documents, metadata, rejection_counts, rejections,
)  # fmt: skip
from broker.hub.service import Hub
from broker.mosquitto import BrokerSettings, MosquittoProcess, free_port
from broker.signing import DocumentSigner
from tests.network import BANK, COURT, HUB, CourtClient, Recorder, fresh, hub_config, unit_client, unit_config, wait_until
from tests.pg import pg_url  # noqa: F401

CERTS = Path(__file__).resolve().parents[1] / "certs-example"
TABLES = {"documents": documents, "rejections": rejections, "deliveries": deliveries, "deadlines": deadlines}
KEYS = {"documents": "document_id", "rejections": "id", "deliveries": "id", "deadlines": "document_id"}


@dataclass(frozen=True)
class Run:
    """The finished ledger of one real run, and the rows the tests tamper with."""

    path: Path
    answered: str  # a court notice the bank answered (state 'answered', a deadline answered)
    receipt: str  # the hub's service receipt of that notice
    rejection: int  # the refused document's rejection row
    delivery: int  # the acknowledged delivery of the answered notice to the bank
    documents: int


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, registry, certs) -> Run:
    tmp = tmp_path_factory.mktemp("ledger-run")
    broker = MosquittoProcess(registry, BrokerSettings.from_certs(certs, port=free_port(), data_dir=tmp / "broker"))
    broker.start()
    try:
        config = hub_config(HUB, port=broker.port, var=tmp / "hub", workers=0, delivery={"ack_timeout_seconds": 5})
        hub = Hub(config)
        hub.start()
        try:
            _traffic(hub, broker.port, tmp)
        finally:
            hub.stop()
    finally:
        broker.stop()
    path = Path(config.ledger.url.removeprefix("sqlite:///"))
    engine = create_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        answered = conn.execute(select(documents.c.document_id).where(documents.c.state == "answered")).scalar_one()
        receipt = conn.execute(
            select(documents.c.service_receipt_id).where(documents.c.document_id == answered)
        ).scalar_one()
        rejection = conn.execute(select(rejections.c.id)).scalar_one()
        delivery = conn.execute(
            select(deliveries.c.id).where(deliveries.c.document_id == answered, deliveries.c.state == "acked")
        ).scalar_one()
        count = len(conn.execute(select(documents.c.document_id)).all())
        assert conn.execute(select(deadlines.c.state).where(deadlines.c.document_id == answered)).scalar_one() == "answered"
    engine.dispose()
    return Run(path, answered, receipt, rejection, delivery, count)


def _traffic(hub: Hub, port: int, tmp: Path) -> None:
    """Three notices served and delivered, one answered by the bank, one document refused."""
    bank = unit_client(unit_config(BANK, port=port, var=tmp / "units", resend_after_seconds=5), Recorder())
    bank.start()
    try:
        court = CourtClient(unit_config(COURT, port=port, var=tmp / "units", resend_after_seconds=5), handler=Recorder())
        with court:
            notices = [fresh() for _ in range(3)]
            for notice in notices:
                assert court.publish(notice, timeout=30).accepted
            ids = [str(n.header.document_id) for n in notices]
            wait_until(lambda: hub.stats.delivered >= 6, 30, "the notices and their receipts acknowledged")
            seal = DocumentSigner.for_unit(CERTS / "units" / BANK)
            receipt_id = bank.send(seal.sign(fresh("ExecutionReceipt", in_reply_to=ids[0])))
            assert bank.wait_answer(receipt_id, 30).doc_type == "ServiceReceipt"
            refused = bank.wait_answer(bank.send(court.seal(fresh())), 30)  # the court's notice, from the bank
            assert refused.doc_type == "RejectionNotice"
            wait_until(lambda: hub.stats.delivered >= 9, 30, "every delivery acknowledged")
    finally:
        bank.stop()


# --- copies and tampering ------------------------------------------------------------------------


@dataclass
class Copy:
    """A copy of the run's ledger, and an engine that writes behind the ledger's back."""

    url: str
    schema: str | None
    engine: Engine

    def execute(self, statement: Any) -> None:
        with self.engine.begin() as conn:
            conn.execute(statement)

    def value(self, table: str, key: Any, column: str) -> Any:
        t = TABLES[table]
        with self.engine.connect() as conn:
            return conn.execute(select(t.c[column]).where(t.c[KEYS[table]] == key)).scalar_one()


@pytest.fixture
def sqlite_copy(run: Run, tmp_path: Path) -> Copy:
    target = tmp_path / "copy.db"
    source, copy = sqlite3.connect(run.path), sqlite3.connect(target)
    with copy:
        source.backup(copy)
    source.close()
    copy.close()
    # A plain engine: no foreign keys enforced, as with the sqlite3 shell
    engine = create_engine(f"sqlite:///{target}")
    yield Copy(f"sqlite:///{target}", None, engine)
    engine.dispose()


@pytest.fixture
def pg_copy(run: Run, pg_url: tuple[str, str]) -> Copy:  # noqa: F811
    url, schema = pg_url
    led = Ledger(url, schema=schema)
    led.create_schema()
    led.close()
    source = create_engine(f"sqlite:///{run.path}")
    engine = create_engine(url).execution_options(schema_translate_map={None: schema})
    with source.connect() as read, engine.begin() as write:
        write.execute(delete(chain_heads))
        for table in metadata.sorted_tables:
            rows = [dict(r._mapping) for r in read.execute(select(table))]
            if rows:
                write.execute(insert(table), rows)
    source.dispose()
    yield Copy(url, schema, engine)
    engine.dispose()


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch) -> typer.Typer:
    monkeypatch.setattr(ledger_cmd, "out", Console(width=400, highlight=False))
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """test root"""

    ledger_cmd.register(app)
    return app


def verify(copy: Copy, cli: typer.Typer) -> tuple[list[str], str, int]:
    """The problems (library), the CLI's output and exit code."""
    ledger = Ledger(copy.url, schema=copy.schema)
    try:
        problems = ledger.verify().problems
    finally:
        ledger.close()
    where = ["--url", copy.url] + (["--schema", copy.schema] if copy.schema else [])
    result = CliRunner().invoke(cli, ["ledger", "verify", *where])
    return problems, result.output, result.exit_code


def assert_reported(copy: Copy, cli: typer.Typer, *needles: str) -> list[str]:
    """Some problem names all ``needles`` and an entry (``seq N``); the CLI prints it and exits 1."""
    problems, output, code = verify(copy, cli)
    found = [p for p in problems if all(n in p for n in needles) and p.startswith("seq ")]
    assert found, f"nothing naming {needles} in {problems}"
    assert code == 1 and "NOT INTACT" in output and found[0] in output, output
    return found


def changed(table: str, column: str, current: Any) -> Any:
    """A different value of the column's type that the schema's constraints accept."""
    col = TABLES[table].c[column]
    enums = {
        ("documents", "origin"): ("unit", "hub"),
        ("deliveries", "state"): ("acked", "pending"),
        ("deadlines", "state"): ("answered", "open"),
    }
    if (table, column) in enums:
        first, second = enums[table, column]
        return second if current == first else first
    if isinstance(col.type, UTCDateTime):
        return (current or datetime(2026, 1, 1, tzinfo=timezone.utc)) + timedelta(hours=1)
    if isinstance(col.type, Integer):
        return (current or 0) + 1
    if column == "codes":
        return ["FORGED"]
    if column == "raw":
        return None if current is not None else b"forged"
    if column == "digest":
        return "f" * 64
    return "FORGED" if current != "FORGED" else "FORGED2"


# --- the tests -----------------------------------------------------------------------------------


def test_the_untouched_copy_is_intact_and_every_row_is_under_the_chain(run: Run, sqlite_copy: Copy, cli) -> None:
    ledger = Ledger(sqlite_copy.url)
    report = ledger.verify()
    ledger.close()
    assert report.ok, report.problems
    assert report.documents == run.documents and report.named["documents"] == run.documents
    for table in COVERED:
        assert report.stored[table] > 0 and report.named[table] == report.stored[table], (table, report)
        assert report.predating[table] == 0
    problems, output, code = verify(sqlite_copy, cli)
    assert code == 0 and "intact" in output and f"{run.documents} documents ({run.documents} in the chain)" in output


def _delete_cases(run: Run) -> list[tuple[str, Any]]:
    return [
        ("documents", run.answered),
        ("documents", run.receipt),
        ("rejections", run.rejection),
        ("deliveries", run.delivery),
        ("deadlines", run.answered),
    ]


@pytest.mark.parametrize("case", range(5), ids=["notice", "service receipt", "rejection", "delivery", "deadline"])
def test_a_deleted_evidence_row_is_reported(run: Run, sqlite_copy: Copy, cli, case: int) -> None:
    table, key = _delete_cases(run)[case]
    t = TABLES[table]
    sqlite_copy.execute(delete(t).where(t.c[KEYS[table]] == key))
    found = assert_reported(sqlite_copy, cli, str(key), "not stored")
    _, output, _ = verify(sqlite_copy, cli)
    if table == "documents":  # 'ledger verify' counts the documents the chain names against those stored
        assert f"{run.documents - 1} documents ({run.documents} in the chain)" in output, output
    assert len(found) == 1


def test_a_row_the_chain_never_recorded_is_reported(run: Run, sqlite_copy: Copy, cli) -> None:
    with sqlite_copy.engine.begin() as conn:
        row = dict(conn.execute(select(documents).where(documents.c.document_id == run.answered)).one()._mapping)
        row["document_id"] = forged = str(uuid.uuid4())
        conn.execute(insert(documents), row)
    problems, output, code = verify(sqlite_copy, cli)
    assert [p for p in problems if forged in p and "never recorded" in p], problems
    assert code == 1 and forged in output


def _key(run: Run, table: str) -> Any:
    return {"documents": run.answered, "rejections": run.rejection, "deliveries": run.delivery, "deadlines": run.answered}[table]


COLUMNS = [(table, column) for table, columns in COVERED.items() for column in columns]


@pytest.mark.parametrize(("table", "column"), COLUMNS, ids=[f"{t}.{c}" for t, c in COLUMNS])
def test_an_edited_column_is_reported(run: Run, sqlite_copy: Copy, cli, table: str, column: str) -> None:
    key = _key(run, table)
    t = TABLES[table]
    stored = "raw" if column == "raw_kept" else column
    new = changed(table, stored, sqlite_copy.value(table, key, stored))
    sqlite_copy.execute(update(t).where(t.c[KEYS[table]] == key).values({stored: new}))
    assert_reported(sqlite_copy, cli, str(key), f"{column} is")


# --- PostgreSQL -------------------------------------------------------------------------------------


def test_postgresql_copy_is_intact(run: Run, pg_copy: Copy, cli) -> None:
    problems, output, code = verify(pg_copy, cli)
    assert code == 0 and not problems, output


def test_postgresql_deleted_document_is_reported(run: Run, pg_copy: Copy, cli) -> None:
    # the deliveries and the deadline refer to it (foreign keys are enforced here): they go too
    for table in ("deliveries", "deadlines"):
        t = TABLES[table]
        pg_copy.execute(delete(t).where(t.c.document_id == run.answered))
    pg_copy.execute(delete(documents).where(documents.c.document_id == run.answered))
    assert_reported(pg_copy, cli, run.answered, "not stored")
    _, output, _ = verify(pg_copy, cli)
    assert f"{run.documents - 1} documents ({run.documents} in the chain)" in output, output


PG_COLUMNS = [("documents", "received_at"), ("documents", "state"), ("deadlines", "served_at"), ("deliveries", "acked_at")]


@pytest.mark.parametrize(("table", "column"), PG_COLUMNS, ids=[f"{t}.{c}" for t, c in PG_COLUMNS])
def test_postgresql_edited_column_is_reported(run: Run, pg_copy: Copy, cli, table: str, column: str) -> None:
    key = _key(run, table)
    t = TABLES[table]
    new = changed(table, column, pg_copy.value(table, key, column))
    pg_copy.execute(update(t).where(t.c[KEYS[table]] == key).values({column: new}))
    assert_reported(pg_copy, cli, str(key), f"{column} is")


# --- a ledger written before the rows were covered ----------------------------------------------------


class _NoRows(RowLog):
    """The ledger before this coverage: no row operations in the chain."""

    def _add(self, table: str, key: Any, anchor: str | None, body: dict[str, Any]) -> None:
        return None


def _store(ledger: Ledger, n: int) -> str:
    """One document stored, chained with its digest (as the hub always did) and queued."""
    now = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc) + timedelta(minutes=n)
    raw = f"<AssistanceNotice n='{n}'/>".encode()
    record = DocumentRecord(
        document_id=str(uuid.uuid4()), doc_type="AssistanceNotice", sender=COURT, recipient=BANK,
        issued_at=now, received_at=now, raw=raw, origin="unit", client_unit=COURT, state="accepted",
    )  # fmt: skip
    with ledger.transaction() as tx:
        tx.add_document(record)
        tx.audit("accepted", actor=COURT, client=COURT, document_id=record.document_id, detail={"digest": record.digest}, at=now)
        tx.add_delivery(record.document_id, BANK, f"liandong/v1/{BANK}/in")
    return record.document_id


def test_a_ledger_from_before_the_coverage_still_verifies_and_says_which_rows_predate_it(
    tmp_path: Path, cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    ledger = Ledger(url)
    ledger.create_schema()
    with monkeypatch.context() as m:
        m.setattr(store, "RowLog", _NoRows)
        old = [_store(ledger, n) for n in range(3)]
    report = ledger.verify()
    assert report.ok, report.problems
    assert report.predating == {"documents": 3, "rejections": 0, "deliveries": 3, "deadlines": 0}
    new = [_store(ledger, n) for n in range(3, 5)]  # the upgraded hub goes on writing
    report = ledger.verify()
    assert report.ok, report.problems
    assert report.predating["documents"] == 3 and report.named["documents"] == 5
    assert report.predating["deliveries"] == 3 and report.named["deliveries"] == 2
    copy = Copy(url, None, create_engine(url))
    problems, output, code = verify(copy, cli)
    assert code == 0 and "written before the chain covered rows" in output and "3 documents" in output, output
    # an old document deleted is still found (its first entry names it with its digest) ...
    copy.execute(delete(documents).where(documents.c.document_id == old[0]))
    assert_reported(copy, cli, old[0], "not stored")
    # ... and a new one's time of service edited is found with its column
    copy.execute(
        update(documents).where(documents.c.document_id == new[0]).values(received_at=datetime(2020, 1, 1, tzinfo=timezone.utc))
    )
    assert_reported(copy, cli, new[0], "received_at is")
    # a forged row slipped in among the old ones is not taken for an old one
    copy.execute(insert(deliveries).values(id=99, document_id=new[1], recipient=COURT, topic="t", state="acked", attempts=1))
    problems, output, code = verify(copy, cli)
    assert [p for p in problems if f"delivery 99 (document {new[1]}" in p and "never recorded" in p], problems
    assert code == 1 and "delivery 99" in output
    copy.engine.dispose()
    ledger.close()


# --- the counts of payloads refused without a record (rejection_counts) ----------------------------

FLOOD_MINUTE = datetime(2026, 12, 7, 12, 0, 10, tzinfo=timezone.utc)


def _garbage(size: int, code: str = "XML_NOT_UTF8") -> Intake:
    return Intake(seq=0, digest="0" * 64, size=size, problems=[problem(code)])


def _flood(ledger: Ledger) -> None:
    """Two senders flooding through a real FloodGuard: the first minute over (chained), the
    second still open when the ledger is copied (counted, not chained yet)."""
    mono = [0.0]
    guard = FloodGuard(Limits(garbage_samples_per_minute=0, refusal_burst=1), clock=lambda: mono[0])
    steps = [(FLOOD_MINUTE, 7, 5), (FLOOD_MINUTE + timedelta(seconds=30), 2, 1), (FLOOD_MINUTE + timedelta(minutes=1), 3, 4)]
    for now, garbage, excess in steps:
        for unit in (BANK, COURT):
            for i in range(garbage):
                guard.refused(unit, _garbage(100 + i, "XML_NOT_UTF8" if i % 2 else "SCHEMA_INVALID"), now)
            for _ in range(excess):
                guard.excess(unit, now, 512)
        mono[0] += 2
        guard.tick(now)
        with ledger.transaction() as tx:
            guard.write(tx, "hub-a")
        guard.written()


@pytest.fixture(scope="module")
def flood_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("flood-run") / "ledger.db"
    ledger = Ledger(f"sqlite:///{path}")
    ledger.create_schema()
    _flood(ledger)
    ledger.close()
    return path


@pytest.fixture
def flood_copy(flood_run: Path, tmp_path: Path) -> Copy:
    target = tmp_path / "copy.db"
    source, copy = sqlite3.connect(flood_run), sqlite3.connect(target)
    with copy:
        source.backup(copy)
    source.close()
    copy.close()
    engine = create_engine(f"sqlite:///{target}")
    yield Copy(f"sqlite:///{target}", None, engine)
    engine.dispose()


def _count_row(unit: str, reason: str, minute: datetime = FLOOD_MINUTE) -> Any:
    c = rejection_counts.c
    return (c.client_unit == unit) & (c.reason == reason) & (c.minute == minute_of(minute))


def test_the_flood_copy_is_intact_and_its_open_minute_is_listed_not_reported(flood_copy: Copy, cli) -> None:
    ledger = Ledger(flood_copy.url)
    report = ledger.verify()
    ledger.close()
    assert report.ok, report.problems
    # two senders in two minutes stored; the first minute of both chained, the second still open
    assert report.stored["rejection_counts"] == 4 and report.named["rejection_counts"] == 2
    assert len(report.open_counts) == 2 and all("12:01:00" in line for line in report.open_counts)
    _, output, code = verify(flood_copy, cli)
    assert code == 0 and "intact" in output


COUNT_EDITS = [
    ("garbage", "count", 1, "garbage is 1 in the ledger but 8"),
    ("excess", "count", 1, "excess is 1 in the ledger but 6"),
    ("excess", "bytes", 1, "bytes is"),
    ("garbage", "codes", {"XML_NOT_UTF8": 9}, "codes is"),
]


@pytest.mark.parametrize(
    ("reason", "column", "value", "needle"), COUNT_EDITS, ids=[f"{r}.{c}" for r, c, _, _ in COUNT_EDITS]
)
def test_an_edited_rejection_count_is_reported(
    flood_copy: Copy, cli, reason: str, column: str, value: Any, needle: str
) -> None:
    flood_copy.execute(update(rejection_counts).where(_count_row(BANK, reason)).values({column: value}))
    found = assert_reported(flood_copy, cli, BANK, needle, "edited outside the ledger")
    assert len(found) == 1 and COURT not in found[0]


def test_a_deleted_rejection_count_is_reported(flood_copy: Copy, cli) -> None:
    flood_copy.execute(delete(rejection_counts).where(_count_row(BANK, "excess")))
    assert_reported(flood_copy, cli, BANK, "the excess row is counted in the chain but not stored")
    both = _count_row(COURT, "excess") | _count_row(COURT, "garbage")
    flood_copy.execute(delete(rejection_counts).where(both))
    assert_reported(flood_copy, cli, COURT, "counted in the chain but not stored (evidence rows deleted)")


def test_a_rejection_count_the_chain_never_counted_is_reported(flood_copy: Copy, cli) -> None:
    earlier = minute_of(FLOOD_MINUTE - timedelta(minutes=5))
    row = {"client_unit": BANK, "minute": earlier, "reason": "garbage", "count": 500, "bytes": 9}
    row["codes"] = {"X": 500}
    flood_copy.execute(insert(rejection_counts).values(row))
    problems, output, code = verify(flood_copy, cli)
    found = [p for p in problems if BANK in p and "never counted" in p and "12:00" not in p]
    minute = earlier.isoformat(timespec="microseconds")
    assert found == [
        f"rejection counts of {BANK} in the minute {minute}: "
        "stored, but the chain never counted them (no rejections_counted entry)"
    ], problems
    assert code == 1 and found[0] in output
    # the open minute's rows may change (the hub adds to them) without a report ...
    flood_copy.execute(delete(rejection_counts).where(rejection_counts.c.minute == earlier))
    still_open = _count_row(BANK, "garbage", FLOOD_MINUTE + timedelta(minutes=1))
    flood_copy.execute(update(rejection_counts).where(still_open).values(count=99))
    assert verify(flood_copy, cli)[0] == []


def test_postgresql_edited_rejection_count_is_reported(pg_url: tuple[str, str], cli) -> None:  # noqa: F811
    url, schema = pg_url
    ledger = Ledger(url, schema=schema)
    ledger.create_schema()
    _flood(ledger)
    ledger.close()
    engine = create_engine(url).execution_options(schema_translate_map={None: schema})
    copy = Copy(url, schema, engine)
    assert verify(copy, cli)[0] == []
    copy.execute(update(rejection_counts).where(_count_row(COURT, "garbage")).values(count=1))
    assert_reported(copy, cli, COURT, "garbage is 1 in the ledger but 8")
    engine.dispose()


# --- the two encodings of the row operations ----------------------------------------------------------


def test_a_ledger_written_in_the_first_encoding_still_verifies_and_hides_no_edit(
    tmp_path: Path, cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'objects.db'}"
    ledger = Ledger(url)
    ledger.create_schema()
    with monkeypatch.context() as m:
        m.setattr(store, "RowLog", ObjectRowLog)
        old = [_store(ledger, n) for n in range(2)]
    new = [_store(ledger, n) for n in range(2, 4)]  # the upgraded hub writes the compact one
    with ledger.engine.connect() as conn:
        details = conn.execute(select(audit.c.detail).order_by(audit.c.seq)).scalars()
        ops = [op for d in details for op in json.loads(d).get("rows", [])]
    assert [type(op) for op in ops] == [dict] * 4 + [list] * 4  # a document and its delivery, each
    assert ops[4][:3] == ["n", "documents", new[0]] and len(ops[4][3]) == len(COVERED["documents"])
    report = ledger.verify()
    assert report.ok and report.named["documents"] == 4 and report.predating["documents"] == 0, report
    copy = Copy(url, None, create_engine(url))
    for document_id in (old[0], new[0]):
        copy.execute(update(documents).where(documents.c.document_id == document_id).values(state="answered"))
        assert_reported(copy, cli, document_id, 'state is "answered" in the ledger but "accepted"')
    copy.execute(delete(deliveries).where(deliveries.c.document_id == new[1]))
    assert_reported(copy, cli, new[1], "not stored")
    copy.engine.dispose()
    ledger.close()


def test_a_time_is_recorded_as_microseconds_since_the_epoch_whatever_its_zone() -> None:
    log = RowLog()
    utc = datetime(2026, 12, 7, 1, 0, 5, 7, tzinfo=timezone.utc)
    beijing = utc.astimezone(timezone(timedelta(hours=8)))
    log.set("deliveries", 1, {"acked_at": beijing}, anchor="a")
    log.set("deliveries", 2, {"acked_at": utc}, anchor="a")
    recorded = [op[3]["acked_at"] for op in log.take("a") or []]
    assert recorded == [int(utc.timestamp()) * 1_000_000 + 7] * 2
    assert time_text(recorded[0]) == "2026-12-07T01:00:05.000007+00:00"
    # every covered column the schema stores as a time is encoded as one
    assert TIMES["documents"] == {"issued_at", "received_at", "deadline"}
    assert "picked_up_at" in TIMES["deadlines"]
