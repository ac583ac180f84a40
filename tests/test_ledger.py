"""The hub's ledger on SQLite and PostgreSQL: storage, outbox, atomicity, the audit chain, the CLI."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
import typer
from rich.console import Console
from sqlalchemy import text
from typer.testing import CliRunner

from broker.cli import ledger_cmd
from broker.hub.ledger import (
    GENESIS,
    DocumentRecord,
    Ledger,
    LedgerError,
    LedgerTx,
    RejectionRecord,
    canonical_json,
    entry_hash,
)
from tests.pg import pg_url  # noqa: F401

CST = timezone(timedelta(hours=8))
T0 = datetime(2025, 3, 3, 9, 0, tzinfo=CST)
HUB = "HUB000"


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger_url(request: pytest.FixtureRequest, tmp_path) -> tuple[str, str | None]:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.db'}", None
    return request.getfixturevalue("pg_url")


@pytest.fixture
def ledger(ledger_url: tuple[str, str | None]) -> Iterator[Ledger]:
    url, schema = ledger_url
    led = Ledger(url, schema=schema)
    led.create_schema()
    try:
        yield led
    finally:
        led.close()


def doc(n: int = 0, **changes) -> DocumentRecord:
    values = dict(
        document_id=str(uuid.uuid4()),
        doc_type="InvestigationRequest",
        sender="C110105",
        recipient="B000001",
        issued_at=T0 + timedelta(minutes=n),
        received_at=T0 + timedelta(minutes=n, seconds=5),
        raw=f"<InvestigationRequest n='{n}'>张三 110105199001011234</InvestigationRequest>".encode(),
        origin="unit",
        client_unit="C110105",
        state="accepted",
    )
    values.update(changes)
    return DocumentRecord(**values)


def receive(tx: LedgerTx, record: DocumentRecord, recipients: tuple[str, ...] = ("B000001",)) -> list[int]:
    """What the hub does for one accepted document: store, audit with the digest, queue."""
    tx.add_document(record)
    tx.audit(
        "received",
        actor=record.client_unit,
        client=record.client_unit,
        document_id=record.document_id,
        detail={"digest": record.digest, "doc_type": record.doc_type, "size": record.size},
        at=record.received_at,
    )
    ids = [tx.add_delivery(record.document_id, r, f"liandong/v1/{r}/in") for r in recipients]
    tx.audit(
        "accepted",
        actor=HUB,
        client=record.client_unit,
        document_id=record.document_id,
        at=record.received_at,
    )
    return ids


def fill(ledger: Ledger, count: int) -> list[DocumentRecord]:
    """``count`` documents, two audit entries each: seq 2k+1 'received', 2k+2 'accepted'."""
    records = [doc(i) for i in range(count)]
    with ledger.transaction() as tx:
        for r in records:
            receive(tx, r)
    return records


def raw_sql(ledger: Ledger, statement: str, **params) -> None:
    """Tamper behind the ledger's back; ``{audit}`` etc. become schema-qualified table names."""
    prefix = f'"{ledger.schema}".' if ledger.schema else ""
    names = {t: prefix + t for t in ("audit", "documents", "deliveries", "rejections", "chain_heads")}
    with ledger.engine.begin() as conn:
        conn.execute(text(statement.format(**names)), params)


def problems_at(ledger: Ledger, seq: int) -> list[str]:
    report = ledger.verify()
    assert not report.ok
    return [p for p in report.problems if f"seq {seq}" in p]


# --- storage ------------------------------------------------------------------------------------


def test_document_round_trip(ledger: Ledger) -> None:
    original = doc(
        1,
        case_number="(2025)京0105执1号",
        deadline=T0 + timedelta(days=7),
        signer_fingerprint="ab" * 32,
        in_reply_to=str(uuid.uuid4()),
    )
    with ledger.transaction() as tx:
        tx.add_document(original)
        assert tx.get_document(original.document_id) == original
    with ledger.transaction() as tx:
        stored = tx.get_document(original.document_id)
        assert stored == original
        assert stored.raw == original.raw and stored.size == len(original.raw)
        assert stored.received_at == original.received_at and stored.received_at.utcoffset() is not None
        assert tx.get_document(str(uuid.uuid4())) is None
        tx.set_document_state(original.document_id, "delivered")
        tx.set_service_receipt(original.document_id, "r" * 36)
        with pytest.raises(KeyError):
            tx.set_document_state(str(uuid.uuid4()), "delivered")
    with ledger.transaction() as tx:
        stored = tx.get_document(original.document_id)
        assert (stored.state, stored.service_receipt_id) == ("delivered", "r" * 36)


def test_document_checks(ledger: Ledger) -> None:
    with ledger.transaction() as tx:
        with pytest.raises(ValueError, match="digest"):
            tx.add_document(doc(digest="0" * 64))
        with pytest.raises(ValueError, match="origin"):
            tx.add_document(doc(origin="mars"))
        with pytest.raises(ValueError, match="timezone-aware"):
            tx.audit("received", actor="x", client="x", at=datetime(2025, 1, 1))
        with pytest.raises(ValueError, match="timezone-aware"):
            tx.mark_published([1], datetime(2025, 1, 1))
    with pytest.raises(ValueError, match="received_at"):
        doc(received_at=datetime(2025, 1, 1))


def test_a_digest_the_caller_computed_is_not_hashed_again_and_verify_still_hashes(ledger: Ledger) -> None:
    # The hub's own digests (its workers', its notary's) skip the second hashing on the serial
    # thread; a wrong one still cannot hide: ledger verify hashes the stored bytes.
    wrong = doc(digest="0" * 64)
    with ledger.transaction() as tx:
        with pytest.raises(ValueError, match="digest or size"):
            tx.add_document(doc(size=3), digest_computed=True)  # the size is still compared
        tx.add_document(wrong, digest_computed=True)
        tx.audit("received", actor="x", client="x", document_id=wrong.document_id, detail={"digest": wrong.digest})
    assert any(wrong.document_id in p for p in ledger.verify().problems)


def test_get_documents_finds_the_stored_ones_among_many(ledger: Ledger) -> None:
    stored = fill(ledger, 3)
    unknown = [str(uuid.uuid4()) for _ in range(5)]
    with ledger.transaction() as tx:
        assert tx.get_documents([]) == {}
        assert tx.get_documents(unknown) == {}
        queued = doc(9)
        tx.add_document(queued)  # written in bulk later: the lookup must still see it
        found = tx.get_documents([unknown[0], stored[2].document_id, queued.document_id, stored[0].document_id])
    assert found == {r.document_id: r for r in (stored[2], queued, stored[0])}


def test_urls_and_schema_option(tmp_path) -> None:
    with pytest.raises(ValueError, match="PostgreSQL"):
        Ledger(f"sqlite:///{tmp_path / 'l.db'}", schema="hub1")
    with pytest.raises(ValueError, match="sqlite and postgresql"):
        Ledger("mysql://localhost/x")
    with pytest.raises(ValueError, match="schema name"):
        Ledger("postgresql+psycopg://postgres@127.0.0.1/test", schema='x"; DROP TABLE y; --')


def test_replies_and_case(ledger: Ledger) -> None:
    request = doc(0, case_number="C-1")
    later, earlier = (
        doc(9, case_number="C-1", in_reply_to=request.document_id),
        doc(5, case_number="C-1", in_reply_to=request.document_id),
    )
    with ledger.transaction() as tx:
        for r in (request, later, earlier, doc(3, case_number="C-2")):
            tx.add_document(r)
    with ledger.transaction() as tx:
        assert [d.document_id for d in tx.replies_to(request.document_id)] == [
            earlier.document_id,
            later.document_id,
        ]
        assert [d.document_id for d in tx.documents_in_case("C-1")] == [
            request.document_id,
            earlier.document_id,
            later.document_id,
        ]
        assert tx.replies_to(later.document_id) == []


def test_rejection_round_trip(ledger: Ledger) -> None:
    small, big = b"<not-xml", b"x" * 5000
    with ledger.transaction() as tx:
        kept = tx.add_rejection(
            RejectionRecord(received_at=T0, client_unit="C110105", codes=["XML_MALFORMED"], raw=small),
            max_raw=1024,
        )
        dropped = tx.add_rejection(
            RejectionRecord(
                received_at=T0,
                client_unit="C110105",
                codes=["XML_TOO_LARGE", "SIG_MISSING"],
                raw=big,
                document_id="d" * 36,
            ),
            max_raw=1024,
        )
        tx.set_rejection_notice(dropped, "n" * 36)
    with ledger.transaction() as tx:
        first, second = tx.get_rejection(kept), tx.get_rejection(dropped)
        assert tx.get_rejection(dropped + 100) is None
    assert (first.raw, first.codes, first.size, first.client_unit) == (
        small,
        ["XML_MALFORMED"],
        len(small),
        "C110105",
    )
    assert first.received_at == T0
    assert (
        second.raw is None
        and second.size == len(big)
        and second.digest == RejectionRecord(received_at=T0, client_unit="x", codes=[], raw=big).digest
    )
    assert (second.codes, second.document_id, second.notice_id) == (
        ["XML_TOO_LARGE", "SIG_MISSING"],
        "d" * 36,
        "n" * 36,
    )


# --- outbox -------------------------------------------------------------------------------------


def test_outbox_state_machine(ledger: Ledger) -> None:
    record = doc()
    t1, t2, t3, t4 = (T0 + timedelta(minutes=m) for m in (1, 2, 3, 4))
    with ledger.transaction() as tx:
        to_b, to_c = receive(tx, record, ("B000001", "C000002"))
    with ledger.transaction() as tx:
        assert tx.get_delivery(to_b).state == "pending"
        tx.record_attempt([to_b, to_c], t1)
        tx.record_attempt([to_b], t2)
        tx.mark_published([to_b], t2)
    with ledger.transaction() as tx:
        b, c = tx.get_delivery(to_b), tx.get_delivery(to_c)
        assert (b.state, b.attempts, b.first_sent_at, b.last_sent_at, b.published_at) == (
            "published",
            2,
            t1,
            t2,
            t2,
        )
        assert (c.state, c.attempts, c.first_sent_at, c.last_sent_at, c.published_at) == (
            "pending",
            1,
            t1,
            t1,
            None,
        )
        assert tx.mark_acked("B000001", [record.document_id], t3) == [record.document_id]
        assert tx.mark_acked("B000001", [record.document_id], t4) == []  # already acked
        tx.mark_published([to_b], t4)  # a late PUBACK does not move it back
    with ledger.transaction() as tx:
        b = tx.get_delivery(to_b)
        assert (b.state, b.acked_at, b.published_at) == ("acked", t3, t2)
        assert [d.id for d in tx.undelivered()] == [to_c]
        # an ack that overtakes the PUBACK still ends the delivery
        assert tx.mark_acked("C000002", [record.document_id], t4) == [record.document_id]
        c = tx.get_delivery(to_c)
        assert (c.state, c.published_at, c.acked_at) == ("acked", t4, t4)
        assert tx.undelivered() == []


def test_undelivered_order_and_filter(ledger: Ledger) -> None:
    records = [doc(i) for i in range(4)]
    with ledger.transaction() as tx:
        ids = [receive(tx, r, ("B000001", "C000002")) for r in records]
        tx.mark_published([ids[1][0]], T0)
        tx.mark_acked("B000001", [records[2].document_id], T0)
    with ledger.transaction() as tx:
        everything = tx.undelivered()
        assert [d.id for d in everything] == sorted(i for pair in ids for i in pair if i != ids[2][0])
        for_b = tx.undelivered(recipient="B000001")
        assert [d.document_id for d in for_b] == [
            records[0].document_id,
            records[1].document_id,
            records[3].document_id,
        ]
        assert [d.state for d in for_b] == ["pending", "published", "pending"]
        assert for_b[0].raw == records[0].raw and for_b[0].doc_type == "InvestigationRequest"
        assert for_b[0].topic == "liandong/v1/B000001/in"
        assert [d.id for d in tx.undelivered(recipient="C000002", limit=2)] == [ids[0][1], ids[1][1]]
        assert tx.undelivered(recipient="nobody") == []


def test_mark_acked_ignores_foreign_and_unknown(ledger: Ledger) -> None:
    mine, theirs = doc(0), doc(1)
    with ledger.transaction() as tx:
        receive(tx, mine, ("B000001",))
        receive(tx, theirs, ("C000002",))
    with ledger.transaction() as tx:
        acked = tx.mark_acked(
            "B000001", [theirs.document_id, str(uuid.uuid4()), mine.document_id, mine.document_id], T0
        )
        assert acked == [mine.document_id]
        assert [(d.recipient, d.document_id) for d in tx.undelivered()] == [("C000002", theirs.document_id)]


# --- atomicity ----------------------------------------------------------------------------------


def test_failed_transaction_leaves_nothing(ledger: Ledger) -> None:
    record = doc()
    with pytest.raises(RuntimeError, match="crash"):
        with ledger.transaction() as tx:
            receive(tx, record)
            tx.add_rejection(RejectionRecord(received_at=T0, client_unit="C110105", codes=["X"], raw=b"x"))
            raise RuntimeError("crash in the middle of a batch")
    with pytest.raises(LedgerError):
        tx.get_document(record.document_id)  # the transaction is over
    with ledger.transaction() as tx:
        assert tx.get_document(record.document_id) is None
        assert tx.undelivered() == []
        assert tx.get_rejection(1) is None
    assert ledger.head() == (0, GENESIS)
    report = ledger.verify()
    assert report.ok and report.entries == 0 and report.documents == 0
    fill(ledger, 1)  # the chain goes on from genesis
    assert ledger.head()[0] == 2 and ledger.verify().ok


def test_nested_transaction_is_refused(ledger: Ledger) -> None:
    with ledger.transaction():
        with pytest.raises(LedgerError, match="nested"):
            with ledger.transaction():
                pass  # pragma: no cover
    with ledger.transaction() as tx:  # the outer one ended normally
        tx.audit("received", actor="x", client="x")
    assert ledger.head()[0] == 1


# --- the audit chain ----------------------------------------------------------------------------


def test_audit_entries_link_and_hash(ledger: Ledger) -> None:
    with ledger.transaction() as tx:
        first = tx.audit(
            "received", actor="C110105", client="C110105", detail={"digest": "ab", "n": [1, 2]}, at=T0
        )
        second = tx.audit("duplicate", actor="C110105", client="C110105", document_id="d" * 36, at=T0)
    assert (first.seq, first.prev_hash, second.seq, second.prev_hash) == (1, GENESIS, 2, first.hash)
    assert first.at == "2025-03-03T09:00:00.000000+08:00"
    assert first.detail_json == '{"digest":"ab","n":[1,2]}' and second.detail == {}
    expected = entry_hash(
        GENESIS,
        seq=1,
        at=first.at,
        actor="C110105",
        client="C110105",
        action="received",
        document_id=None,
        detail=first.detail_json,
    )
    assert first.hash == expected
    assert ledger.head() == (2, second.hash)
    assert ledger.story("d" * 36) == [second]


def test_verify_intact(ledger: Ledger) -> None:
    fill(ledger, 5)
    report = ledger.verify()
    assert report.ok, report.problems
    assert (report.entries, report.documents, report.head_seq) == (10, 5, 10)
    assert report.head_hash == ledger.head()[1]


def test_verify_detects_edited_entry(ledger: Ledger) -> None:
    fill(ledger, 3)
    raw_sql(ledger, "UPDATE {audit} SET detail = :d WHERE seq = 3", d='{"digest":"forged"}')
    report = ledger.verify()
    assert [p for p in report.problems if p.startswith("seq 3:")], report.problems
    assert all("seq 3" in p for p in report.problems), report.problems  # pinpointed, nothing else blamed


def test_verify_detects_removed_middle_entry(ledger: Ledger) -> None:
    fill(ledger, 3)
    raw_sql(ledger, "DELETE FROM {audit} WHERE seq = 4")
    assert any("missing" in p for p in problems_at(ledger, 4)), ledger.verify().problems


def test_verify_detects_removed_last_entry(ledger: Ledger) -> None:
    fill(ledger, 3)
    raw_sql(ledger, "DELETE FROM {audit} WHERE seq = 6")  # the head still says 6
    assert any("missing at the end" in p for p in problems_at(ledger, 6)), ledger.verify().problems


def test_verify_detects_swapped_entries(ledger: Ledger) -> None:
    fill(ledger, 3)
    raw_sql(ledger, "UPDATE {audit} SET seq = -1 WHERE seq = 2")
    raw_sql(ledger, "UPDATE {audit} SET seq = 2 WHERE seq = 3")
    raw_sql(ledger, "UPDATE {audit} SET seq = 3 WHERE seq = -1")
    assert problems_at(ledger, 2) and problems_at(ledger, 3), ledger.verify().problems


def test_verify_detects_edited_document_bytes(ledger: Ledger) -> None:
    records = fill(ledger, 3)
    target = records[1]  # its first entry ('received') is seq 3
    raw_sql(
        ledger,
        "UPDATE {documents} SET raw = :raw WHERE document_id = :id",
        raw=b"<forged/>",
        id=target.document_id,
    )
    found = problems_at(ledger, 3)
    assert found and all(target.document_id in p for p in found), ledger.verify().problems


def test_verify_detects_edited_bytes_and_digest(ledger: Ledger) -> None:
    records = fill(ledger, 3)
    target, forged = records[2], b"<forged/>"
    raw_sql(
        ledger,
        "UPDATE {documents} SET raw = :raw, digest = :digest, size = :size WHERE document_id = :id",
        raw=forged,
        digest=doc(raw=forged).digest,
        size=len(forged),
        id=target.document_id,
    )
    found = problems_at(ledger, 5)
    assert any("recorded in the chain" in p and target.document_id in p for p in found), (
        ledger.verify().problems
    )


def test_story(ledger: Ledger) -> None:
    request, unrelated = doc(0), doc(1)
    receipt = doc(2, origin="hub", client_unit=HUB, sender=HUB, doc_type="ServiceReceipt", in_reply_to=None)
    reply = doc(
        3, in_reply_to=request.document_id, sender="B000001", recipient="C110105", client_unit="B000001"
    )
    reply_receipt = doc(4, origin="hub", client_unit=HUB, sender=HUB, doc_type="ServiceReceipt")
    with ledger.transaction() as tx:
        receive(tx, request)
        receive(tx, unrelated)
        receive(tx, receipt)
        tx.set_service_receipt(request.document_id, receipt.document_id)
    with ledger.transaction() as tx:
        tx.mark_acked("B000001", [request.document_id], T0)
        tx.audit("acked", actor="B000001", client="B000001", document_id=request.document_id, at=T0)
        receive(tx, reply)
        tx.audit(
            "answered",
            actor=HUB,
            client="B000001",
            document_id=request.document_id,
            detail={"reply": reply.document_id},
            at=T0,
        )
        receive(tx, reply_receipt)
        tx.set_service_receipt(reply.document_id, reply_receipt.document_id)
        tx.audit("received", actor="C000009", client="C000009", document_id=unrelated.document_id, at=T0)
    story = ledger.story(request.document_id)
    seqs = [e.seq for e in story]
    assert seqs == sorted(seqs)
    assert [(e.action, e.document_id) for e in story] == [
        ("received", request.document_id),
        ("accepted", request.document_id),
        ("received", receipt.document_id),
        ("accepted", receipt.document_id),
        ("acked", request.document_id),
        ("received", reply.document_id),
        ("accepted", reply.document_id),
        ("answered", request.document_id),
        ("received", reply_receipt.document_id),
        ("accepted", reply_receipt.document_id),
    ]
    assert [e.action for e in ledger.story(unrelated.document_id)] == ["received", "accepted", "received"]
    assert ledger.story(str(uuid.uuid4())) == []


def test_concurrent_appends_make_one_chain(ledger_url: tuple[str, str | None]) -> None:
    """Two Ledger instances (two pools, as two hub processes) and several threads each."""
    url, schema = ledger_url
    first, second = Ledger(url, schema=schema), Ledger(url, schema=schema)
    first.create_schema()
    second.create_schema()
    threads_per_ledger, batches, per_batch = 3, 8, 2
    errors: list[BaseException] = []

    def work(led: Ledger) -> None:
        try:
            for _ in range(batches):
                with led.transaction() as tx:
                    for _ in range(per_batch):
                        receive(tx, doc())
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [
        threading.Thread(target=work, args=(led,))
        for led in (first, second)
        for _ in range(threads_per_ledger)
    ]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert not errors, errors
        expected = 2 * threads_per_ledger * batches * per_batch * 2
        report = second.verify()
        assert report.ok, report.problems
        assert (report.entries, report.head_seq) == (expected, expected)
        assert first.head() == second.head()
    finally:
        first.close()
        second.close()


# --- CLI ----------------------------------------------------------------------------------------


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch) -> typer.Typer:
    monkeypatch.setattr(ledger_cmd, "out", Console(width=200, highlight=False))
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """test root"""

    ledger_cmd.register(app)
    return app


def _where(ledger: Ledger) -> list[str]:
    return ["--url", ledger.url] + (["--schema", ledger.schema] if ledger.schema else [])


def test_cli_verify(ledger: Ledger, cli: typer.Typer) -> None:
    fill(ledger, 2)
    runner = CliRunner()
    result = runner.invoke(cli, ["ledger", "verify", *_where(ledger)])
    assert result.exit_code == 0, result.output
    assert "intact" in result.output and "4 audit entries" in result.output
    raw_sql(ledger, "UPDATE {audit} SET actor = 'someone' WHERE seq = 2")
    result = runner.invoke(cli, ["ledger", "verify", *_where(ledger)])
    assert result.exit_code == 1, result.output
    assert "NOT INTACT" in result.output and "seq 2:" in result.output


def test_cli_show(ledger: Ledger, cli: typer.Typer) -> None:
    request, other = fill(ledger, 2)
    result = CliRunner().invoke(cli, ["ledger", "show", request.document_id, *_where(ledger)])
    assert result.exit_code == 0, result.output
    assert "received" in result.output and "accepted" in result.output
    assert request.document_id in result.output and other.document_id not in result.output
    assert "张三" not in result.output and "110105199001011234" not in result.output  # no content
    missing = CliRunner().invoke(cli, ["ledger", "show", str(uuid.uuid4()), *_where(ledger)])
    assert missing.exit_code == 1


def test_cli_refuses_missing_sqlite_file(tmp_path, cli: typer.Typer) -> None:
    result = CliRunner().invoke(cli, ["ledger", "verify", "--url", f"sqlite:///{tmp_path / 'nope.db'}"])
    assert result.exit_code == 2
    assert not (tmp_path / "nope.db").exists()


def test_cli_reads_the_ledger_from_the_hub_configuration(tmp_path):
    import yaml
    from typer.testing import CliRunner

    from broker.cli.main import app
    from broker.sandbox import hub_config

    config = hub_config("12100000MB0000009G", port=1883, var=tmp_path)
    Ledger(config.ledger.url).create_schema()
    path = tmp_path / "hub.yaml"
    path.write_text(yaml.safe_dump(config.model_dump(mode="json", by_alias=True)), encoding="utf-8")
    result = CliRunner().invoke(app, ["ledger", "verify", "--config", str(path)])
    assert result.exit_code == 0, result.output
    assert "intact" in result.output


@pytest.mark.parametrize(
    "value",
    [
        {},
        {"b": 1, "a": [1, 2.5, None, True, False, "中文\n\t\"\\\x01\x7f\u2028"], "c": {"z": 1e16, "y": -0.0}},
        {"rows": [["documents", "d-1", {"raw": None, "size": 5935, "state": "accepted"}]], "digest": "ab" * 32},
        "a string",
        12,
        [],
    ],
)
def test_canonical_json_is_json_dumps_byte_for_byte(value):
    # the documented scheme (chain.py) is json.dumps with these settings: the C encoder made once
    # must write the same, or ledgers written before would no longer verify
    expected = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    assert canonical_json(value) == expected


@pytest.mark.parametrize("value", [float("nan"), {"a": float("inf")}, {"a": object()}, {"a": {1, 2}}])
def test_canonical_json_refuses_what_json_refuses(value):
    with pytest.raises((ValueError, TypeError)):
        canonical_json(value)
