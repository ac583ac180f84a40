"""The ledger of several chains (issue 16): partitioned writes, anchors, verify of every chain,
migration from a one-chain ledger, on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import typer
from rich.console import Console
from sqlalchemy import select, text, update
from typer.testing import CliRunner

from broker.cli import ledger_cmd
from broker.hub.ledger import Ledger, LedgerError
from broker.hub.ledger.chain import entry_hash
from broker.hub.ledger.schema import audit, chain_heads, documents
from tests.pg import pg_url  # noqa: F401
from tests.test_hub import bank, court  # noqa: F401  (fixtures)
from tests.test_ledger import T0, doc, receive

C1, C2 = "C110105", "C440300"


@pytest.fixture(params=["sqlite", "postgresql"])
def where(request: pytest.FixtureRequest, tmp_path) -> tuple[str, str | None]:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.db'}", None
    return request.getfixturevalue("pg_url")


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch) -> typer.Typer:
    monkeypatch.setattr(ledger_cmd, "out", Console(width=400, highlight=False))
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """test root"""

    ledger_cmd.register(app)
    return app


def run(cli: typer.Typer, where: tuple[str, str | None], *args: str) -> tuple[int, str]:
    url, schema = where
    options = ["--url", url] + (["--schema", schema] if schema else [])
    result = CliRunner().invoke(cli, ["ledger", *args, *options])
    return result.exit_code, result.output


def write_courts(ledger: Ledger) -> list[str]:
    """Two courts' notices in their own transactions, then one transaction with both and a
    unit's acknowledgement (an entry that names no document of its transaction)."""
    ids = []
    for n, code in enumerate((C1, C2, C1)):
        with ledger.transaction() as tx:
            record = doc(n, sender=code, client_unit=code)
            receive(tx, record)
            ids.append(record.document_id)
    with ledger.transaction() as tx:
        for n, code in enumerate((C2, C1), start=3):
            record = doc(n, sender=code, client_unit=code)
            receive(tx, record)
            ids.append(record.document_id)
        tx.mark_acked("B000001", ids[:2], T0 + timedelta(hours=1))
    return ids


@pytest.fixture
def chains(where: tuple[str, str | None]) -> Iterator[Ledger]:
    url, schema = where
    ledger = Ledger(url, schema=schema, instance="hub-a", partition="court")
    ledger.create_schema()
    try:
        write_courts(ledger)
        yield ledger
    finally:
        ledger.close()


def tamper(ledger: Ledger, statement) -> None:
    with ledger.engine.begin() as conn:
        conn.execute(statement)


def test_chains_verify_print_every_head_and_find_tampering(chains: Ledger, where, cli) -> None:
    heads = chains.heads()
    # each court its own chain (3 documents x 2 entries, 2 x 2), the acks in the hub's chain
    assert {n: s for n, (s, _) in heads.items()} == {"court:C110105": 6, "court:C440300": 4, "hub:hub-a": 1, "main": 0}
    assert chains.anchor() is not None and chains.anchor() is None  # nothing moved since
    report = chains.verify()
    assert report.ok, report.problems
    assert report.anchors == 1 and set(report.unanchored.values()) == {0}
    code, output = run(cli, where, "verify")
    assert code == 0 and "intact" in output
    for name, (seq, hash_) in chains.heads().items():
        assert f"chain {name}: head seq {seq} hash {hash_}" in output

    # an entry of one court's chain edited: found by its chain and seq
    a = audit.c
    tamper(chains, update(audit).where(a.chain == "court:C440300", a.seq == 2).values(actor="someone"))
    code, output = run(cli, where, "verify")
    assert code == 1 and "chain court:C440300 seq 2: entry does not match its hash" in output


def test_rewritten_chain_is_caught_by_the_anchor(chains: Ledger) -> None:
    """Someone who rewrites a whole chain consistently, head included, still differs from the
    anchor that bound the old head."""
    chains.anchor()
    a = audit.c
    name = "court:C440300"
    with chains.engine.begin() as conn:
        rows = conn.execute(select(audit).where(a.chain == name).order_by(a.seq)).all()
        prev = rows[0].prev_hash
        for row in rows:
            at = "2025-03-03T09:00:00.000000+08:00" if row.seq == 1 else row.at  # the forged change
            new = entry_hash(
                prev, seq=row.seq, at=at, actor=row.actor, client=row.client, action=row.action,
                document_id=row.document_id, detail=row.detail, chain=name, pos=row.pos,
            )
            conn.execute(update(audit).where(a.chain == name, a.seq == row.seq).values(at=at, prev_hash=prev, hash=new))
            prev = new
        conn.execute(update(chain_heads).where(chain_heads.c.chain == name).values(hash=prev))
    problems = chains.verify().problems
    assert problems == [f"chain anchors seq 1: anchors chain {name} seq 4, which has another hash (rewritten after the anchor)"]


def test_row_checks_still_work_across_chains(chains: Ledger) -> None:
    """The row coverage replays operations in pos order across chains: an edited time of
    service is found, named by the entry's pos."""
    tamper(chains, update(documents).values(received_at=T0 + timedelta(days=1)).where(documents.c.sender == C2))
    problems = chains.verify().problems
    assert problems and all(p.startswith("pos ") and "received_at" in p for p in problems), problems


def test_writers_to_other_chains_do_not_wait(pg_url: tuple[str, str]) -> None:  # noqa: F811
    """PostgreSQL (SQLite has one writer at a time by design): with court C1's head locked by
    another transaction, a writer to court C2 commits (it would wait, then fail on the lock
    timeout, if chains shared a lock)."""
    url, schema = pg_url
    ledger = Ledger(url, schema=schema, instance="hub-a", partition="court")
    ledger.create_schema()
    try:
        write_courts(ledger)
        holder = ledger.engine.connect()
        with holder.begin():
            holder.execute(text("SET LOCAL lock_timeout = '2s'"))
            locked = holder.execute(
                select(chain_heads.c.seq).where(chain_heads.c.chain == "court:C110105").with_for_update()
            ).scalar()
            with ledger.transaction() as tx:  # C2's notice, and the ack goes to hub-a's chain
                receive(tx, doc(9, sender=C2, client_unit=C2))
            assert ledger.heads()["court:C440300"][0] == 6 and locked == 6
        holder.close()
        assert ledger.verify().ok
    finally:
        ledger.close()


def downgrade(ledger: Ledger) -> None:
    """Turn a ledger written as one chain back into the layout before chains (its rows and
    hashes are what the one-chain code wrote: pos = seq, the one-chain hash)."""
    prefix = f'"{ledger.schema}".' if ledger.schema else ""
    cols = "seq, at, actor, client, action, document_id, detail, prev_hash, hash"
    with ledger.engine.begin() as conn:
        conn.execute(text(f"CREATE TABLE {prefix}audit_old AS SELECT {cols} FROM {prefix}audit"))
        conn.execute(text(f"DROP TABLE {prefix}audit"))
        conn.execute(text(f"ALTER TABLE {prefix}audit_old RENAME TO audit"))
        conn.execute(text(f"CREATE TABLE {prefix}chain_head (id INTEGER PRIMARY KEY, seq BIGINT NOT NULL, hash VARCHAR(64) NOT NULL)"))
        conn.execute(text(f"INSERT INTO {prefix}chain_head SELECT 1, seq, hash FROM {prefix}chain_heads WHERE chain = 'main'"))
        conn.execute(text(f"DROP TABLE {prefix}chain_heads"))


def test_migrate_a_one_chain_ledger(where: tuple[str, str | None], cli) -> None:
    url, schema = where
    old = Ledger(url, schema=schema)
    old.create_schema()
    with old.transaction() as tx:
        for n in range(3):
            receive(tx, doc(n))
    head = old.head()
    downgrade(old)
    old.close()

    code, output = run(cli, where, "verify")  # a one-chain ledger still verifies
    assert code == 0 and f"head seq 6 hash {head[1]}" in output, output
    hub = Ledger(url, schema=schema, instance="hub-a", partition="court")
    with pytest.raises(LedgerError, match="LEDGER_NOT_MIGRATED"):
        hub.create_schema()
    code, output = run(cli, where, "migrate", "--partition", "sideways")
    assert code == 2 and "LEDGER_PARTITION_UNKNOWN" in output

    code, output = run(cli, where, "migrate", "--partition", "court")
    assert code == 0 and f"moved 6 entries to chain main; head seq 6 hash {head[1]}" in output, output
    hub.create_schema()
    write_courts(hub)
    assert hub.heads()["main"] == head
    code, output = run(cli, where, "anchor")
    assert code == 0 and "anchor seq 1" in output
    code, output = run(cli, where, "verify")
    assert code == 0 and "chain main: head seq 6" in output and "chain court:C440300: head seq 4" in output, output
    hub.close()

    # a tool opened without a partition writes partitioned (the ledger records it); none goes back
    tool = Ledger(url, schema=schema)
    with tool.transaction() as tx:
        receive(tx, doc(7, sender=C2, client_unit=C2))
    assert tool.heads()["court:C440300"][0] == 6 and tool.verify().ok
    tool.close()
    single = Ledger(url, schema=schema, partition="single")
    with pytest.raises(LedgerError, match="LEDGER_PARTITION_FIXED"), single.transaction():
        pass
    single.close()


def test_periodic_anchor_after_commits(tmp_path) -> None:
    """``anchor_every``: a commit past the period writes an anchor binding every head (here every
    commit: the period is a nanosecond)."""
    ledger = Ledger(f"sqlite:///{tmp_path / 'l.db'}", instance="hub-a", partition="case", anchor_every=1e-9)
    ledger.create_schema()
    try:
        write_courts(ledger)
        report = ledger.verify()
        assert report.ok and report.anchors == 4, report
        assert report.unanchored and set(report.unanchored.values()) == {0}
        # no case numbers in these notices: by court, as documented
        assert {"court:C110105", "court:C440300", "hub:hub-a", "anchors"} <= set(report.heads)
    finally:
        ledger.close()


def test_a_hub_on_a_partitioned_postgresql_ledger(mosquitto, tmp_path, pg_url, court, bank) -> None:  # noqa: F811
    """A real hub with ``ledger.chains: court``: the court's notice and the bank's receipt answering
    it go to the court's chain, the acknowledgements to the hub's; every chain verifies."""
    from broker.hub.service import Hub
    from broker.sandbox import hub_config
    from tests.network import COURT, HUB, fresh, wait_until
    from tests.test_hub import bank_receipt

    url, schema = pg_url
    config = hub_config(HUB, port=mosquitto.port, var=tmp_path / "hub", ledger_url=url, ledger_schema=schema)
    config = config.model_copy(update={"ledger": config.ledger.model_copy(update={"chains": "court"})})
    hub = Hub(config)
    hub.start()
    try:
        notice = fresh()
        assert court.publish(notice, timeout=30).accepted
        notice_id = str(notice.header.document_id)
        bank.recorder.wait_for(lambda r: r.counts[notice_id] == 1, 30, "delivery")
        receipt_id = bank.send(bank_receipt(notice.header.document_id))
        assert bank.wait_answer(receipt_id, 30).doc_type == "ServiceReceipt"
        wait_until(lambda: hub.stats.delivered >= 4, 30, "acknowledgements")
        report = hub.ledger.verify()
        assert report.ok, report.problems
        # the notice and the bank's receipt, each accepted with its service receipt issued; the
        # acknowledgements and the notice's "answered" (named by a later transaction): the hub's
        # (how many of the latter depends on how acknowledgements fall into commits)
        heads = {n: s for n, (s, _) in report.heads.items()}
        assert set(heads) == {f"court:{COURT}", f"hub:{HUB}", "main"} and heads[f"court:{COURT}"] == 4
        assert heads[f"hub:{HUB}"] >= 5 and heads["main"] == 0
        actions = [e.action for e in hub.ledger.story(notice_id)]  # the story spans chains, in pos order
        assert actions[0] == "accepted" and "answered" in actions and actions.count("delivered") >= 2
    finally:
        hub.stop()


def test_add_state_without_an_exclusive_transaction(chains: Ledger) -> None:
    """Partitioned, nothing makes a transaction exclusive: adding a key that exists is refused
    by the insert itself (two hubs marking a unit offline at once)."""
    with chains.transaction() as tx:
        assert tx.add_state("unit.offline:X", "offline", T0) is True
    with chains.transaction() as tx:
        assert tx.add_state("unit.offline:X", "again", T0) is False
        assert tx.get_state("unit.offline:X").value == "offline"
