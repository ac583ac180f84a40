"""``liandong ledger migrate``: a one-chain ledger (written before chains) becomes chain ``main``
of a ledger of several chains, with its entries, hashes and head unchanged.

The old ``audit`` table has seq as its key and no chain; the new one is keyed by (chain, seq) and
carries pos. Neither backend changes a primary key in place the same way, so the rows are copied
aside, the table is recreated and the rows come back with chain ``main`` and pos = seq (which is
what lets their old hashes stand: see :func:`broker.hub.ledger.chain.row_hash`). One transaction on
both backends: an interrupted migration leaves the old ledger as it was. Run it with the hubs
stopped.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, inspect, select, text

from broker.hub.ledger import chain
from broker.hub.ledger.chains import PARTITIONS, catch_up_sequences, record_partition
from broker.hub.ledger.engine import WRITE_OPTION
from broker.hub.ledger.schema import MAIN_CHAIN, chain_heads, legacy_chain_head, metadata
from broker.hub.ledger.store import Ledger, LedgerError

_COLUMNS = "seq, at, actor, client, action, document_id, detail, prev_hash, hash"


@dataclass(frozen=True, slots=True)
class Migrated:
    """What :func:`migrate` did: entries moved (0 when the ledger already had chains), and the
    head of chain ``main`` afterwards (the old head, unchanged)."""

    entries: int
    head_seq: int
    head_hash: str
    partition: str | None


def migrate(ledger: Ledger, partition: str | None = None) -> Migrated:
    """Migrate ``ledger`` to chains if it predates them; record ``partition`` if given."""
    if partition is not None and partition not in PARTITIONS:
        raise LedgerError("", code="LEDGER_PARTITION_UNKNOWN", partition=partition)
    with ledger.engine.connect().execution_options(**{WRITE_OPTION: True}) as conn, conn.begin():
        if conn.dialect.name == "postgresql":
            key = f"liandong.create_schema:{ledger.schema or ''}"  # the lock create_schema takes
            conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": key})
        if not inspect(conn).has_table("audit", schema=ledger.schema):
            raise LedgerError("no ledger here (no audit table)")
        moved = _move(conn, ledger.schema) if chain.is_legacy(conn) else 0
        if partition not in (None, "single"):
            record_partition(conn, partition, ledger.schema)
        head = conn.execute(select(chain_heads.c.seq, chain_heads.c.hash).where(chain_heads.c.chain == MAIN_CHAIN)).one()
    ledger.create_schema()  # columns added since (deliveries.owner), as a hub start would
    return Migrated(entries=moved, head_seq=head.seq, head_hash=head.hash, partition=partition)


def _move(conn: Connection, schema: str | None) -> int:
    quote = conn.dialect.identifier_preparer
    prefix = f"{quote.quote_schema(schema)}." if schema else ""
    head = conn.execute(select(legacy_chain_head.c.seq, legacy_chain_head.c.hash)).first()
    if head is None:
        raise LedgerError("the one-chain ledger has no chain_head row: verify it first")
    conn.execute(text(f"CREATE TABLE {prefix}audit_premigration AS SELECT * FROM {prefix}audit"))
    conn.execute(text(f"DROP TABLE {prefix}audit"))
    conn.execute(text(f"DROP TABLE {prefix}chain_head"))
    metadata.create_all(conn, checkfirst=True)
    moved = conn.execute(
        text(
            f"INSERT INTO {prefix}audit (chain, pos, {_COLUMNS}) "
            f"SELECT :main, seq, {_COLUMNS} FROM {prefix}audit_premigration"
        ),
        {"main": MAIN_CHAIN},
    ).rowcount
    conn.execute(text(f"DROP TABLE {prefix}audit_premigration"))
    conn.execute(chain_heads.insert().values(chain=MAIN_CHAIN, seq=head.seq, hash=head.hash))
    catch_up_sequences(conn, schema)
    return int(moved)
