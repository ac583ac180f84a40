"""Several chains in one ledger (issue 16): which chain an entry goes to, head locking at commit,
positions across chains, and anchors.

Partition policies (``Ledger(partition=...)``, the hub's ``ledger.chains``):

- ``single``: one chain, ``main``; a transaction locks its head first thing and is exclusive among
  writers (the ledger as it always was). Entries hash in the one-chain form (pos = seq).
- ``court``: an entry naming a document stored in the same transaction goes to the chain of the
  document's conversation: ``court:<code>``, the code of the party that opened it (the sender of a
  document that answers nothing, the recipient of an answer: for the seeds' flows, the court that
  issued the notice, 003 bank rules 8, 15–17; an answer stored in the same transaction as what it
  answers, such as the hub's service receipt, joins that one's chain). Other entries (acknowledgements, the ``recorded``
  entry of row changes) go to the writing hub instance's chain ``hub:<instance>``.
- ``case``: likewise, by case number (``case:<number>``; a document without one by its court).

In a partitioned ledger no lock is taken at the start: heads are locked at commit, all the chains a
transaction touches at once, in name order (so two writers never wait on each other in a cycle),
after the transaction's row writes. Each entry then takes its ``pos`` (a PostgreSQL sequence; on
SQLite max + 1 under the one write lock): two transactions that wrote the same row are ordered by
pos as they were by the row's lock, which is what replaying row operations needs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any, Literal

from sqlalchemy import Connection, bindparam, func, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from broker.hub.ledger import chain as hashing
from broker.hub.ledger.records import DocumentRecord
from broker.hub.ledger.schema import (
    ANCHOR_CHAIN,
    CHAIN_NAME_MAX,
    MAIN_CHAIN,
    audit,
    audit_pos,
    chain_heads,
    supervision_state,
)

Partition = Literal["single", "court", "case"]
PARTITIONS: tuple[str, ...] = ("single", "court", "case")
PARTITION_STATE = "ledger.partition"
"""``supervision_state`` key recording a ledger's partition once it has left ``single``."""


def chain_name(prefix: str, key: str) -> str:
    """``prefix:key``, or a digest of the key where that would not fit the column."""
    name = f"{prefix}:{key}"
    if len(name) <= CHAIN_NAME_MAX:
        return name
    return f"{prefix}:sha256:{hashlib.sha256(key.encode('utf-8')).hexdigest()}"


def document_chain(partition: str, record: DocumentRecord) -> str:
    """The chain of a document's entries under ``partition`` (see the module docstring)."""
    court = record.recipient if record.in_reply_to else record.sender
    if partition == "case" and record.case_number:
        return chain_name("case", record.case_number)
    return chain_name("court", court)


def instance_chain(instance: str | None) -> str:
    """The chain of a hub instance's entries that name no document of their transaction."""
    return chain_name("hub", instance) if instance else MAIN_CHAIN


def lock_heads(conn: Connection, names: Sequence[str]) -> dict[str, tuple[int, str]]:
    """Lock the heads of ``names`` (created at genesis when new), in name order; their seq and hash."""
    ordered = sorted(set(names))
    rows = [{"chain": n, "seq": 0, "hash": hashing.GENESIS} for n in ordered]
    dialect = conn.dialect.name
    if dialect == "postgresql":
        conn.execute(pg_insert(chain_heads).on_conflict_do_nothing(index_elements=["chain"]), rows)
    else:
        conn.execute(sqlite_insert(chain_heads).on_conflict_do_nothing(index_elements=["chain"]), rows)
    query = (
        select(chain_heads.c.chain, chain_heads.c.seq, chain_heads.c.hash)
        .where(chain_heads.c.chain.in_(ordered))
        .order_by(chain_heads.c.chain)
        .with_for_update()
    )
    return {r.chain: (r.seq, r.hash) for r in conn.execute(query)}


def take_positions(conn: Connection, n: int) -> list[int]:
    """``n`` rising positions for the entries about to be written (heads already locked)."""
    if conn.dialect.name == "postgresql":
        series = func.generate_series(1, n).table_valued("i")
        return sorted(int(v) for v in conn.execute(select(audit_pos.next_value()).select_from(series)).scalars())
    last = conn.execute(select(func.max(audit.c.pos))).scalar() or 0
    return list(range(last + 1, last + 1 + n))


def seal(rows: list[dict[str, Any]], heads: dict[str, tuple[int, str]], positions: list[int]) -> dict[str, tuple[int, str]]:
    """Give each pending entry (in transaction order) its pos, seq, prev_hash and hash; returns
    the new heads of the chains written."""
    heads = dict(heads)
    for row, pos in zip(rows, positions, strict=True):
        seq, prev = heads[row["chain"]]
        row["seq"], row["pos"], row["prev_hash"] = seq + 1, pos, prev
        row["hash"] = _hash(row)
        heads[row["chain"]] = (row["seq"], row["hash"])
    return heads


def _hash(row: dict[str, Any]) -> str:
    one_chain = row["chain"] == MAIN_CHAIN and row["pos"] == row["seq"]
    return hashing.entry_hash(
        row["prev_hash"],
        seq=row["seq"],
        at=row["at"],
        actor=row["actor"],
        client=row["client"],
        action=row["action"],
        document_id=row["document_id"],
        detail=row["detail"],
        chain=None if one_chain else row["chain"],
        pos=None if one_chain else row["pos"],
    )


def write_heads(conn: Connection, heads: dict[str, tuple[int, str]]) -> None:
    """Set the heads of the chains just written."""
    statement = (
        update(chain_heads)
        .where(chain_heads.c.chain == bindparam("name"))
        .values(seq=bindparam("new_seq"), hash=bindparam("new_hash"))
    )
    conn.execute(statement, [{"name": n, "new_seq": s, "new_hash": h} for n, (s, h) in heads.items()])


def catch_up_sequences(conn: Connection, schema: str | None) -> None:
    """PostgreSQL: move the position sequence past every pos, and the deliveries' id sequence
    past every id (one-chain writers assign both themselves; partitioned writers take them from
    the sequences). Call with the writers stopped: when a ledger is migrated or partitioned."""
    if conn.dialect.name != "postgresql":
        return
    prefix = f'"{schema}".' if schema else ""
    conn.execute(text(f"SELECT setval('{prefix}audit_pos', GREATEST((SELECT max(pos) FROM {prefix}audit), 0) + 1, false)"))
    conn.execute(
        text(
            f"SELECT setval(pg_get_serial_sequence('{prefix}deliveries', 'id'), "
            f"GREATEST((SELECT max(id) FROM {prefix}deliveries), 0) + 1, false)"
        )
    )


def take_delivery_ids(conn: Connection, schema: str | None, n: int) -> list[int]:
    """PostgreSQL, partitioned: ``n`` delivery ids from the table's own sequence (writers run
    side by side, so max(id) + 1 would collide)."""
    prefix = f'"{schema}".' if schema else ""
    query = text(f"SELECT nextval(pg_get_serial_sequence('{prefix}deliveries', 'id')) FROM generate_series(1, :n)")
    return sorted(int(v) for v in conn.execute(query, {"n": n}).scalars())


def anchor_row(
    conn: Connection, *, actor: str, client: str, at: str, skip_locked: bool
) -> dict[str, Any] | None:
    """Append one anchor binding every other chain's head, unless no head moved since the last
    anchor (None) or, with ``skip_locked``, another writer is anchoring right now (None)."""
    rows = [{"chain": ANCHOR_CHAIN, "seq": 0, "hash": hashing.GENESIS}]
    stmt = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    conn.execute(stmt(chain_heads).on_conflict_do_nothing(index_elements=["chain"]), rows)
    query = select(chain_heads.c.seq, chain_heads.c.hash).where(chain_heads.c.chain == ANCHOR_CHAIN)
    query = query.with_for_update(skip_locked=skip_locked)
    head = conn.execute(query).first()
    if head is None:
        return None
    heads = {
        r.chain: [r.seq, r.hash]
        for r in conn.execute(
            select(chain_heads.c.chain, chain_heads.c.seq, chain_heads.c.hash)
            .where(chain_heads.c.chain != ANCHOR_CHAIN, chain_heads.c.seq > 0)
            .order_by(chain_heads.c.chain)
        )
    }
    if not heads:
        return None
    if head.seq:
        last = conn.execute(
            select(audit.c.detail).where(audit.c.chain == ANCHOR_CHAIN, audit.c.seq == head.seq)
        ).scalar()
        if last is not None and hashing.canonical_json({hashing.ANCHOR_HEADS: heads}) == last:
            return None
    row: dict[str, Any] = {
        "chain": ANCHOR_CHAIN,
        "seq": head.seq + 1,
        "pos": None,
        "at": at,
        "actor": actor,
        "client": client,
        "action": "anchor",
        "document_id": None,
        "detail": hashing.canonical_json({hashing.ANCHOR_HEADS: heads}),
        "prev_hash": head.hash,
    }
    row["hash"] = hashing.entry_hash(
        head.hash,
        **{k: row[k] for k in ("seq", "at", "actor", "client", "action", "document_id", "detail")},
        chain=ANCHOR_CHAIN,
        pos=None,
    )
    conn.execute(insert(audit), row)
    write_heads(conn, {ANCHOR_CHAIN: (row["seq"], row["hash"])})
    return row


def record_partition(conn: Connection, partition: str, schema: str | None) -> None:
    """Record that the ledger is partitioned (from now on every writer partitions, see
    :meth:`broker.hub.ledger.Ledger.transaction`) and set the sequences partitioned writers use."""
    state = supervision_state.c
    current = conn.execute(select(state.value).where(state.key == PARTITION_STATE)).scalar()
    if current == partition:
        return
    if current is None:
        conn.execute(insert(supervision_state), {"key": PARTITION_STATE, "value": partition, "at": None})
    else:
        conn.execute(update(supervision_state).where(state.key == PARTITION_STATE).values(value=partition))
    catch_up_sequences(conn, schema)
