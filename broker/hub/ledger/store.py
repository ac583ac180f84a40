"""The ledger: the hub's evidence store and its source of truth for delivery.

A :meth:`Ledger.transaction` is one database transaction that is exclusive among ledger writers
on both backends (SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: the ``chain_head`` row is locked
``FOR UPDATE`` first thing). Consequences the hub relies on:

- several hub processes sharing one PostgreSQL ledger append to one consistent audit chain;
- check-then-insert (``get_document`` then ``add_document``) is race-free across processes;
- the audit head is read once per transaction, kept in memory, and the new entries and head are
  written once, just before the commit. Everything (documents, outbox, audit) commits together
  or not at all;
- each delivery has an ``owner``, the hub instance that publishes it (``Ledger(instance=...)``);
  instances write a heartbeat, and one takes over the open deliveries of an instance that
  stopped or fell silent (:meth:`LedgerTx.take_over_deliveries`), so several hubs divide the
  outbox instead of all redelivering all of it (docs/deployment.md, "Several hubs").

Every write to a column with legal meaning (documents, rejections, delivery acknowledgements,
deadlines) is also a row operation carried by a chained entry (:mod:`broker.hub.ledger.coverage`):
on the next entry of the transaction that names the row's document, or on one ``recorded`` entry
at commit, so ``verify`` can tell a row edited, deleted or added behind the ledger's back.

Audit ``detail`` goes into the hash chain forever and cannot be redacted without breaking it:
put identifiers, types, codes and digests there, never document content or personal data.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Connection, Row, bindparam, delete, func, insert, inspect, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.schema import CreateSchema

from broker.hub.ledger import chain
from broker.hub.ledger.bulk import BULK
from broker.hub.ledger.chains import (
    PARTITION_STATE,
    PARTITIONS,
    Partition,
    anchor_row,
    document_chain,
    instance_chain,
    lock_heads,
    record_partition,
    seal,
    take_delivery_ids,
    take_positions,
    write_heads,
)
from broker.hub.ledger.coverage import LEDGER_ACTOR, RECORDED, ROWS, RowLog
from broker.hub.ledger.engine import WRITE_OPTION, make_engine
from broker.hub.ledger.records import (
    AuditEntry,
    ChainReport,
    DeliveryRecord,
    DocumentRecord,
    RejectionRecord,
    require_aware,
    sha256_hex,
)
from broker.hub.ledger.schema import (
    ANCHOR_CHAIN,
    MAIN_CHAIN,
    audit,
    chain_heads,
    deadlines,
    deliveries,
    documents,
    metadata,
    rejections,
    supervision_state,
)

log = logging.getLogger("liandong.ledger")

_IN_CHUNK = 500  # ids per IN (...) list, well under SQLite's bound-parameter limit
_ID_BLOCK = 64  # delivery ids taken from the sequence at once (partitioned, PostgreSQL)


class LedgerError(RuntimeError):
    """The ledger is missing, not initialized, or was used wrongly. ``code``: the catalogue's
    code (broker/errors.py) where there is one; the message then carries it in both languages."""

    def __init__(self, message: str, *, code: str | None = None, **params: Any) -> None:
        if code is not None:
            from broker.errors import problem  # the catalogue's wording, English here

            message = str(problem(code, **params))  # code: English / Chinese
        super().__init__(message)
        self.code = code
        self.params = params


class Ledger:
    """The hub's ledger on SQLite (``sqlite:///path``) or PostgreSQL (``postgresql+psycopg://...``).

    ``schema`` (PostgreSQL only) puts the tables in that schema, so several deployments can share
    one database. Call :meth:`create_schema` once (it is idempotent) before first use.
    ``instance`` names the hub process writing through this object: deliveries it records or
    re-arms are its own (``deliveries.owner``); None records them as anyone's.
    """

    def __init__(
        self,
        url: str,
        *,
        schema: str | None = None,
        instance: str | None = None,
        partition: Partition | None = None,
        anchor_every: float | None = None,
    ) -> None:
        if partition is not None and partition not in PARTITIONS:
            raise LedgerError("", code="LEDGER_PARTITION_UNKNOWN", partition=partition)
        self.url = url
        self.schema = schema
        self.instance = instance
        # None: what the ledger records (single when nothing is recorded); see chains.py
        self.partition: Partition | None = partition
        self.anchor_every = anchor_every
        self._next_anchor = time.monotonic() + anchor_every if anchor_every else None
        self._base, self.engine = make_engine(url, schema)
        self._local = threading.local()
        self._mode: str | None = None
        self._id_lock = threading.Lock()
        self._delivery_ids: list[int] = []

    def create_schema(self) -> None:
        """Create the schema (PostgreSQL), tables, indexes and the chain head if missing."""
        with self.engine.connect().execution_options(**{WRITE_OPTION: True}) as conn, conn.begin():
            if conn.dialect.name == "postgresql":
                # Hubs starting together on a fresh database: one creates, the others wait and then
                # find the tables (PostgreSQL's DDL is transactional; checkfirst alone would race).
                key = f"liandong.create_schema:{self.schema or ''}"
                conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": key})
            if self.schema is not None:
                conn.execute(CreateSchema(self.schema, if_not_exists=True))
            if inspect(conn).has_table("audit", schema=self.schema) and chain.is_legacy(conn):
                raise LedgerError("", code="LEDGER_NOT_MIGRATED")
            metadata.create_all(conn, checkfirst=True)
            self._add_missing_columns(conn)
            if conn.execute(select(chain_heads.c.chain).where(chain_heads.c.chain == MAIN_CHAIN)).first() is None:
                conn.execute(insert(chain_heads).values(chain=MAIN_CHAIN, seq=0, hash=chain.GENESIS))
            if self.partition not in (None, "single"):
                record_partition(conn, self.partition, self.schema)

    def _add_missing_columns(self, conn: Connection) -> None:
        """Columns added since a ledger was created (nullable, so old rows stay valid):
        ``deliveries.owner`` (several hubs)."""
        present = {c["name"] for c in inspect(conn).get_columns("deliveries", schema=self.schema)}
        if "owner" not in present:
            quote = conn.dialect.identifier_preparer
            table = quote.quote("deliveries")
            if self.schema is not None:
                table = f"{quote.quote_schema(self.schema)}.{table}"
            conn.execute(text(f"ALTER TABLE {table} ADD COLUMN owner VARCHAR(128)"))

    @contextmanager
    def transaction(self) -> Iterator[LedgerTx]:
        """One database transaction: commits on normal exit, rolls back if the block raises.

        Transactions are exclusive among writers, so do not hold one while waiting on the network.
        """
        if getattr(self._local, "active", False):
            # the inner one would wait forever for the lock the outer one holds
            raise LedgerError("nested ledger transaction in one thread")
        mode = self._mode or self._resolve_mode()
        self._local.active = True
        try:
            with self.engine.connect().execution_options(**{WRITE_OPTION: True}) as conn, conn.begin():
                tx = LedgerTx(conn, owner=self.instance, partition=mode, ids=self._take_delivery_ids)
                try:
                    yield tx
                    tx._write_chain()
                finally:
                    tx._closed = True
        finally:
            self._local.active = False
        # periodic anchors in a ledger of several chains (one chain's head already binds it all)
        if self._next_anchor is not None and mode != "single" and time.monotonic() >= self._next_anchor:
            self._anchor_now()

    def _resolve_mode(self) -> str:
        """The partition this object writes with: the one given, else the one the ledger records
        (so a tool opened without one never writes one-chain entries into a partitioned ledger)."""
        with self._reader() as conn:
            stored = conn.execute(_GET_STATE, {"state_key": PARTITION_STATE}).first()
        recorded = stored.value if stored else "single"
        if self.partition == "single" and recorded != "single":
            raise LedgerError("", code="LEDGER_PARTITION_FIXED", recorded=recorded)
        self._mode = self.partition or recorded
        return self._mode

    def _take_delivery_ids(self, conn: Connection) -> int:
        """A delivery id from the sequence (PostgreSQL, partitioned), taken in blocks."""
        with self._id_lock:
            if not self._delivery_ids:
                self._delivery_ids = take_delivery_ids(conn, self.schema, _ID_BLOCK)[::-1]
            return self._delivery_ids.pop()

    def anchor(self, *, wait: bool = True) -> AuditEntry | None:
        """Append an anchor entry binding every chain's head (chain ``anchors``); None when no head
        moved since the last anchor, or (``wait=False``) another writer is anchoring now.
        Its hash, the anchor chain's head, is the one value to timestamp or publish outside."""
        at = datetime.now(timezone.utc).isoformat(timespec="microseconds")
        with self.engine.connect().execution_options(**{WRITE_OPTION: True}) as conn, conn.begin():
            row = anchor_row(
                conn, actor=LEDGER_ACTOR, client=self.instance or LEDGER_ACTOR, at=at, skip_locked=not wait
            )
        return _audit_entry_from(row) if row else None

    def _anchor_now(self) -> None:
        assert self.anchor_every is not None
        self._next_anchor = time.monotonic() + self.anchor_every
        try:
            entry = self.anchor(wait=False)
        except Exception as exc:  # the commit before it stands; the next period tries again
            log.warning("ledger.anchor_failed", extra={"fields": {"error": exc.__class__.__name__}})
            return
        if entry is not None:
            log.info("ledger.anchored", extra={"fields": {"seq": entry.seq, "hash": entry.hash}})

    def heads(self) -> dict[str, tuple[int, str]]:
        """Every chain's head: chain name -> (seq, hash)."""
        with self._reader() as conn:
            rows = conn.execute(select(chain_heads.c.chain, chain_heads.c.seq, chain_heads.c.hash))
            return {r.chain: (r.seq, r.hash) for r in rows}

    def verify(self) -> ChainReport:
        """Check the audit chain and the evidence bytes it anchors (see :mod:`broker.hub.ledger.chain`)."""
        with self._reader() as conn:
            return chain.verify(conn)

    def head(self) -> tuple[int, str]:
        """The number of audit entries in all chains but the anchors' (for a one-chain ledger:
        the seq of the last entry), and the hash of chain ``main``'s last entry."""
        heads = self.heads()
        if MAIN_CHAIN not in heads:
            raise LedgerError("the ledger has no chain head: run create_schema() first")
        entries = sum(seq for name, (seq, _) in heads.items() if name != ANCHOR_CHAIN)
        return entries, heads[MAIN_CHAIN][1]

    def count_overdue(self, now: datetime) -> int:
        """Open deadlines past their due time at ``now`` (supervision time), escalated or not:
        one COUNT for the hub's ``/metrics``."""
        require_aware(now, "now")
        c = deadlines.c
        with self._reader() as conn:
            query = select(func.count()).select_from(deadlines).where(c.state == "open", c.due_at < now)
            return int(conn.execute(query).scalar_one())

    def story(self, document_id: str) -> list[AuditEntry]:
        """One document's story in order: the audit entries of the document, its service receipt,
        its rejection notices, the documents that reply to it and their receipts, by seq."""
        with self._reader() as conn:
            related = _related_ids(conn, document_id)
            rows = conn.execute(select(audit).where(audit.c.document_id.in_(related)).order_by(audit.c.pos))
            return [_audit_entry(r) for r in rows]

    def close(self) -> None:
        """Release all pooled connections."""
        self._base.dispose()

    @contextmanager
    def _reader(self) -> Iterator[Connection]:
        conn = self.engine.connect()
        if conn.dialect.name == "postgresql":
            # one snapshot for the whole read, so the head and the entries agree
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn, conn.begin():
            yield conn

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# Statements are built once: SQLAlchemy then reuses their compiled form, and building a statement
# with literal values per call costs more than executing it (measured: 3x fewer documents/s).
_DOCUMENT_COLUMNS = tuple(c.name for c in documents.columns)
_MAIN = chain_heads.c.chain == MAIN_CHAIN
_LOCK_HEAD = select(chain_heads.c.seq, chain_heads.c.hash).where(_MAIN).with_for_update()
_SET_HEAD = update(chain_heads).where(_MAIN).values(seq=bindparam("new_seq"), hash=bindparam("new_hash"))
_INSERT_AUDIT = insert(audit)
_GET_DOCUMENT = select(documents).where(documents.c.document_id == bindparam("document_id"))
_INSERT_DOCUMENT = insert(documents)
_SET_STATE = (
    update(documents).where(documents.c.document_id == bindparam("key")).values(state=bindparam("new_state"))
)
_SET_RECEIPT = (
    update(documents)
    .where(documents.c.document_id == bindparam("key"))
    .values(service_receipt_id=bindparam("receipt_id"))
)
_BY_RECEIPT_ORDER = (documents.c.received_at, documents.c.document_id)
_REPLIES = (
    select(documents).where(documents.c.in_reply_to == bindparam("document_id")).order_by(*_BY_RECEIPT_ORDER)
)
_IN_CASE = (
    select(documents).where(documents.c.case_number == bindparam("case_number")).order_by(*_BY_RECEIPT_ORDER)
)
_GET_REJECTION = select(rejections).where(rejections.c.id == bindparam("rejection_id"))
_SET_NOTICE = (
    update(rejections)
    .where(rejections.c.id == bindparam("rejection_id"))
    .values(notice_id=bindparam("notice_id"))
)
_INSERT_DELIVERY = insert(deliveries)
_MAX_DELIVERY_ID = select(func.max(deliveries.c.id))
_GET_DOCUMENTS = select(documents).where(documents.c.document_id.in_(bindparam("ids", expanding=True)))
_PRESENT_SQL = "SELECT document_id FROM documents WHERE document_id IN ({marks})"
_GET_DELIVERY = select(deliveries).where(deliveries.c.id == bindparam("delivery_id"))
_AT = bindparam("at", type_=deliveries.c.last_sent_at.type)
_IDS = bindparam("ids", expanding=True)
_RECORD_ATTEMPT = (
    update(deliveries)
    .where(deliveries.c.id.in_(_IDS))
    .values(
        attempts=deliveries.c.attempts + 1,
        last_sent_at=_AT,
        first_sent_at=func.coalesce(deliveries.c.first_sent_at, _AT),
    )
)
_MARK_PUBLISHED = (
    update(deliveries)
    .where(deliveries.c.id.in_(_IDS), deliveries.c.state == "pending")
    .values(state="published", published_at=_AT)
)
_MARK_ACKED = (
    update(deliveries)
    .where(
        deliveries.c.recipient == bindparam("to_recipient"),
        deliveries.c.document_id.in_(_IDS),
        deliveries.c.state != "acked",
    )
    .values(state="acked", acked_at=_AT, published_at=func.coalesce(deliveries.c.published_at, _AT))
    .returning(deliveries.c.id, deliveries.c.document_id)
)
# Partitioned, PostgreSQL: the same, but rows another writer holds are skipped, never waited for.
# Two hubs acknowledging overlapping deliveries (a unit's acks for documents delivered again) would
# otherwise lock the rows in different orders and deadlock (measured: 2 in a 2,000-document run of
# bench.ledger_chains); a skipped row is being written by the other hub, or stays unacknowledged
# and is delivered and acknowledged again, as for any ack the hub could not write.
_ACKABLE = (
    select(deliveries.c.id)
    .where(
        deliveries.c.recipient == bindparam("to_recipient"),
        deliveries.c.document_id.in_(_IDS),
        deliveries.c.state != "acked",
    )
    .with_for_update(skip_locked=True)
)
_MARK_ACKED_SKIP = (
    update(deliveries)
    .where(deliveries.c.id.in_(_ACKABLE.scalar_subquery()))
    .values(state="acked", acked_at=_AT, published_at=func.coalesce(deliveries.c.published_at, _AT))
    .returning(deliveries.c.id, deliveries.c.document_id)
)
_UNDELIVERED = (
    select(deliveries, documents.c.doc_type, documents.c.raw)
    .join(documents, documents.c.document_id == deliveries.c.document_id)
    .where(deliveries.c.state != "acked")
    .order_by(deliveries.c.id)
)

_OPEN = select(deliveries).where(deliveries.c.state != "acked").order_by(deliveries.c.id)
_RAW = select(documents.c.raw).where(documents.c.document_id == bindparam("document_id"))
_REARM = (
    update(deliveries)
    .where(deliveries.c.document_id == bindparam("doc_id"), deliveries.c.recipient == bindparam("to_recipient"))
    .values(state="pending", owner=bindparam("new_owner"))
    .returning(deliveries.c.id)
)
_LOCK_IDS = text(
    "SELECT pg_advisory_xact_lock(hashtextextended(i, 0)) FROM unnest(CAST(:ids AS text[])) AS i "
    "ORDER BY hashtextextended(i, 0)"
)
INSTANCE_STATE = "hub.instance:"
"""``supervision_state`` key prefix of the hub instances' heartbeats (value 'running' or 'stopped')."""


@dataclass(frozen=True, kw_only=True, slots=True)
class DeadlineRecord:
    """One row of the ``deadlines`` table (see :mod:`broker.hub.ledger.schema`)."""

    document_id: str
    doc_type: str
    court: str
    unit: str
    unit_kind: str
    case_number: str | None
    served_at: datetime
    due_at: datetime
    original_due_at: datetime
    rule: str
    remind_at: datetime | None
    state: str
    picked_up_at: datetime | None = None
    answered_at: datetime | None = None
    answer_id: str | None = None
    reminded_at: datetime | None = None
    escalated_at: datetime | None = None
    non_delivery_at: datetime | None = None
    extensions: int = 0
    review_suggestions: int = 0


@dataclass(frozen=True, slots=True)
class StateEntry:
    """One row of ``supervision_state``: a key, its value and the instant it refers to."""

    key: str
    value: str
    at: datetime | None


_DEADLINE_COLUMNS = tuple(c.name for c in deadlines.columns)
_CLAIMABLE = frozenset({"reminded_at", "escalated_at", "non_delivery_at"})
_INSERT_DEADLINE = insert(deadlines)
_GET_DEADLINE = select(deadlines).where(deadlines.c.document_id == bindparam("document_id"))
_MARK_PICKED_UP = (
    update(deadlines)
    .where(
        deadlines.c.document_id == bindparam("key"),
        deadlines.c.unit == bindparam("to_unit"),
        deadlines.c.picked_up_at.is_(None),
    )
    .values(picked_up_at=bindparam("at", type_=deadlines.c.picked_up_at.type))
)
_GET_STATE = select(supervision_state).where(supervision_state.c.key == bindparam("state_key"))
_DELIVERY_OF = select(deliveries).where(
    deliveries.c.document_id == bindparam("document_id"), deliveries.c.recipient == bindparam("to_recipient")
)


class LedgerTx:
    """Operations inside one :meth:`Ledger.transaction`; not usable after the block ends."""

    def __init__(
        self,
        conn: Connection,
        *,
        owner: str | None = None,
        partition: str = "single",
        ids: Callable[[Connection], int] | None = None,
    ) -> None:
        self._conn = conn
        self._closed = False
        self._owner = owner
        self._partition = partition
        self._single = partition == "single"
        self._take_id = ids if not self._single and conn.dialect.name == "postgresql" else None
        self._seq, self._hash = 0, chain.GENESIS
        if self._single:
            # one chain: its head is locked first thing, so the transaction is exclusive
            head = conn.execute(_LOCK_HEAD).first()
            if head is None:
                raise LedgerError("the ledger has no chain head: run create_schema() first")
            self._seq, self._hash = head.seq, head.hash
        # partitioned: the chain of each document stored in this transaction; entries naming
        # none of them go to the instance's chain. Heads are locked at commit (chains.py).
        self._chains: dict[str, str] = {}
        self._default_chain = instance_chain(owner)
        self._pending_audit: list[dict[str, Any]] = []
        # Writes to covered columns, waiting for a chained entry to carry them (coverage.py).
        self._rows = RowLog()
        # Documents and deliveries are written in bulk (one executemany each) before the next
        # statement of any other kind and at commit: the hub commits batches of documents, and
        # one round trip per row cost more than all its checks. Delivery ids are assigned here,
        # which is safe because every writer holds the chain-head lock for its whole transaction.
        # statement -> parameter rows; documents are written first (other rows refer to them), the
        # rest in the order they were first queued.
        self._pending: dict[Any, list[dict[str, Any]]] = {}
        self._next_delivery_id: int | None = None

    # --- documents ---------------------------------------------------------------------------

    def get_documents(self, document_ids: Sequence[str]) -> dict[str, DocumentRecord]:
        """The known documents among ``document_ids``, by id (one query)."""
        found: dict[str, DocumentRecord] = {}
        for chunk in _chunks(list(dict.fromkeys(document_ids))):
            self._lock_ids(chunk)
            chunk = self._present(chunk)
            if not chunk:
                continue
            for row in self._exec(_GET_DOCUMENTS, {"ids": chunk}):
                record = _document(row)
                found[record.document_id] = record
        return found

    def _present(self, document_ids: list[str]) -> list[str]:
        """On SQLite, those of ``document_ids`` stored, by a query straight through the driver:
        the hub asks once per batch and almost never finds one (a duplicate). With 16 unknown ids
        this lookup took 46 µs of CPU against 95 µs for SQLAlchemy's full query with its
        expanding ``IN`` (issue 16). Elsewhere all of them (the full query answers)."""
        if self._conn.dialect.name != "sqlite" or not document_ids:
            return document_ids
        self._flush()
        marks = ",".join("?" * len(document_ids))
        rows = self._conn.exec_driver_sql(_PRESENT_SQL.format(marks=marks), tuple(document_ids))
        return [r[0] for r in rows]

    def get_document(self, document_id: str) -> DocumentRecord | None:
        self._lock_ids([document_id])
        row = self._exec(_GET_DOCUMENT, {"document_id": document_id}).first()
        return _document(row) if row else None

    def add_document(self, record: DocumentRecord, *, digest_computed: bool = False) -> None:
        """Store a document and its evidence bytes; the digest and size must match ``raw``.

        ``digest_computed``: the caller computed ``record.digest`` from these very bytes (the
        hub's workers and its notary do), so they are not hashed again here, on the hub's one
        serial thread; ``ledger verify`` still hashes every stored document."""
        if record.origin not in ("unit", "hub"):
            raise ValueError(f"origin must be 'unit' or 'hub', not {record.origin!r}")
        if record.size != len(record.raw) or (not digest_computed and record.digest != sha256_hex(record.raw)):
            raise ValueError(f"document {record.document_id}: digest or size does not match the raw bytes")
        values = {name: getattr(record, name) for name in _DOCUMENT_COLUMNS}
        if not self._single:
            # an answer stored with what it answers (a service receipt) joins that one's chain
            inherited = self._chains.get(record.in_reply_to) if record.in_reply_to else None
            self._chains[record.document_id] = inherited or document_chain(self._partition, record)
        self._defer(_INSERT_DOCUMENT, values)
        self._rows.insert("documents", record.document_id, values, anchor=record.document_id)

    def set_document_state(self, document_id: str, state: str) -> None:
        self._update_document(_SET_STATE, {"key": document_id, "new_state": state})
        self._rows.set("documents", document_id, {"state": state}, anchor=document_id)

    def set_service_receipt(self, document_id: str, receipt_id: str) -> None:
        self._update_document(_SET_RECEIPT, {"key": document_id, "receipt_id": receipt_id})
        self._rows.set("documents", document_id, {"service_receipt_id": receipt_id}, anchor=document_id)

    def replies_to(self, document_id: str) -> list[DocumentRecord]:
        """Documents whose ``in_reply_to`` is ``document_id``, in the order they were received."""
        return [_document(r) for r in self._exec(_REPLIES, {"document_id": document_id})]

    def documents_in_case(self, case_number: str) -> list[DocumentRecord]:
        """Every document of one case, in the order they were received."""
        return [_document(r) for r in self._exec(_IN_CASE, {"case_number": case_number})]

    # --- rejections --------------------------------------------------------------------------

    def add_rejection(self, record: RejectionRecord, *, max_raw: int | None = None) -> int:
        """Record a refused message; ``raw`` is kept only when not larger than ``max_raw`` bytes
        (``None``: always). Digest and size are always kept. Returns the rejection id."""
        raw = record.raw
        if raw is not None and max_raw is not None and len(raw) > max_raw:
            raw = None
        values = {
            "received_at": record.received_at,
            "client_unit": record.client_unit,
            "document_id": record.document_id,
            "digest": record.digest,
            "size": record.size,
            "codes": list(record.codes),
            "raw": raw,
            "notice_id": record.notice_id,
        }
        rejection_id = int(self._exec(insert(rejections), values).inserted_primary_key[0])
        self._rows.insert("rejections", rejection_id, values, anchor=record.notice_id or record.document_id)
        return rejection_id

    def set_rejection_notice(self, rejection_id: int, notice_id: str) -> None:
        if self._exec(_SET_NOTICE, {"rejection_id": rejection_id, "notice_id": notice_id}).rowcount == 1:
            self._rows.set("rejections", rejection_id, {"notice_id": notice_id}, anchor=notice_id)

    def get_rejection(self, rejection_id: int) -> RejectionRecord | None:
        row = self._exec(_GET_REJECTION, {"rejection_id": rejection_id}).first()
        if row is None:
            return None
        m = row._mapping
        return RejectionRecord(**{c.name: m[c.name] for c in rejections.columns})

    # --- outbox ------------------------------------------------------------------------------

    def add_delivery(self, document_id: str, recipient: str, topic: str) -> int:
        """Queue a document for one recipient (state 'pending'); returns the delivery id."""
        values = {
            "document_id": document_id,
            "recipient": recipient,
            "topic": topic,
            "state": "pending",
            "attempts": 0,
            "owner": self._owner,
        }
        self._check_open()
        if self._take_id is not None:  # writers run side by side: ids from the sequence
            values["id"] = self._take_id(self._conn)
        else:  # the one writer (the head lock, or SQLite's write lock)
            if self._next_delivery_id is None:
                self._next_delivery_id = int(self._conn.execute(_MAX_DELIVERY_ID).scalar() or 0) + 1
            values["id"] = self._next_delivery_id
            self._next_delivery_id += 1
        self._defer(_INSERT_DELIVERY, values)
        self._rows.insert("deliveries", values["id"], values, anchor=document_id)
        return int(values["id"])

    def get_delivery(self, delivery_id: int) -> DeliveryRecord | None:
        row = self._exec(_GET_DELIVERY, {"delivery_id": delivery_id}).first()
        return _delivery(row) if row else None

    def record_attempt(self, delivery_ids: Sequence[int], at: datetime) -> None:
        """One more publish attempt for each delivery: ``attempts += 1``, ``last_sent_at``
        (and ``first_sent_at`` the first time)."""
        require_aware(at, "at")
        for chunk in _chunks(delivery_ids):
            self._exec(_RECORD_ATTEMPT, {"ids": chunk, "at": at})

    def mark_published(self, delivery_ids: Sequence[int], at: datetime) -> None:
        """The broker acknowledged the publication: 'pending' → 'published' (acked ones stay acked)."""
        require_aware(at, "at")
        for chunk in _chunks(delivery_ids):
            self._exec(_MARK_PUBLISHED, {"ids": chunk, "at": at})

    def mark_acked(self, recipient: str, document_ids: Sequence[str], at: datetime) -> list[str]:
        """The recipient confirmed it stored these documents. Returns the ids newly acked, in the
        order given; ids unknown, already acked or delivered to someone else are ignored."""
        require_aware(at, "at")
        wanted = list(dict.fromkeys(document_ids))
        acked: set[str] = set()
        for chunk in _chunks(wanted):
            statement = _MARK_ACKED if self._take_id is None else _MARK_ACKED_SKIP
            for delivery_id, document_id in self._exec(
                statement, {"to_recipient": recipient, "ids": chunk, "at": at}
            ):
                acked.add(document_id)
                self._rows.set("deliveries", delivery_id, {"state": "acked", "acked_at": at}, anchor=document_id)
        return [d for d in wanted if d in acked]

    def undelivered(self, *, recipient: str | None = None, limit: int | None = None) -> list[DeliveryRecord]:
        """Deliveries not yet acked by their recipient, oldest first, with the bytes to send."""
        query = _UNDELIVERED
        if recipient is not None:
            query = query.where(deliveries.c.recipient == recipient)
        if limit is not None:
            query = query.limit(limit)
        return [_delivery(r) for r in self._exec(query)]

    def open_deliveries(
        self, *, recipients: Sequence[str] | None = None, limit: int | None = None, owner: str | None = None
    ) -> list[DeliveryRecord]:
        """Like :meth:`undelivered` but without the bytes: for scanning large backlogs.
        ``owner``: only the deliveries of this hub instance."""
        query = _OPEN
        if recipients is not None:
            query = query.where(deliveries.c.recipient.in_(list(recipients)))
        if owner is not None:
            query = query.where(deliveries.c.owner == owner)
        if limit is not None:
            query = query.limit(limit)
        return [_delivery(r) for r in self._exec(query)]

    def raw(self, document_id: str) -> bytes:
        """The stored bytes of a document (KeyError when unknown)."""
        value = self._exec(_RAW, {"document_id": document_id}).scalar()
        if value is None:
            raise KeyError(document_id)
        return bytes(value)

    def rearm_delivery(self, document_id: str, recipient: str) -> int | None:
        """Send a document to a recipient again (e.g. the original service receipt of a
        duplicate): the delivery goes back to 'pending', owned by this transaction's hub instance
        (which publishes it now). Returns its id, None when unknown."""
        params = {"doc_id": document_id, "to_recipient": recipient, "new_owner": self._owner}
        value = self._exec(_REARM, params).scalar()
        if value is None:
            return None
        self._rows.set("deliveries", int(value), {"state": "open"}, anchor=document_id)
        return int(value)

    # --- several hub instances on one ledger --------------------------------------------------

    def instance_heartbeat(self, instance: str, at: datetime, *, running: bool = True) -> None:
        """Record that hub ``instance`` is alive at ``at`` (real time), or that it stopped."""
        self.put_state(INSTANCE_STATE + instance, "running" if running else "stopped", at)

    def live_instances(self, since: datetime) -> list[str]:
        """Hub instances running with a heartbeat at or after ``since``."""
        require_aware(since, "since")
        return [
            e.key[len(INSTANCE_STATE) :]
            for e in self.states(INSTANCE_STATE, value="running")
            if e.at is not None and e.at >= since
        ]

    def take_over_deliveries(self, instance: str, live: Sequence[str]) -> dict[str | None, int]:
        """Make ``instance`` the owner of every open delivery whose owner is not in ``live``
        (stopped, silent, unknown) or is None. Returns how many were taken from which owner.
        Race-free between hubs: the transaction is exclusive, and the UPDATE re-checks the owner."""
        keep = sorted({instance, *live})
        c = deliveries.c
        orphaned = or_(c.owner.is_(None), c.owner.not_in(keep))
        counts = {
            owner: n
            for owner, n in self._exec(
                select(c.owner, func.count()).where(c.state != "acked", orphaned).group_by(c.owner)
            )
        }
        if counts:
            self._exec(update(deliveries).where(c.state != "acked", orphaned).values(owner=instance))
        return counts

    def delivery_of(self, document_id: str, recipient: str) -> DeliveryRecord | None:
        """The delivery of one document to one recipient (without the bytes), None when unknown."""
        row = self._exec(_DELIVERY_OF, {"document_id": document_id, "to_recipient": recipient}).first()
        return _delivery(row) if row else None

    def case_documents(self, case_number: str, doc_types: Sequence[str]) -> list[DocumentRecord]:
        """Documents of one case with one of ``doc_types``, sent by units (not the hub's own),
        in the order they were received."""
        query = (
            select(documents)
            .where(
                documents.c.case_number == case_number,
                documents.c.doc_type.in_(list(doc_types)),
                documents.c.origin == "unit",
            )
            .order_by(*_BY_RECEIPT_ORDER)
        )
        return [_document(r) for r in self._exec(query)]

    # --- deadlines (issue 5; written by broker.hub.deadlines, read by broker.hub.reports) --------
    #
    # Every state change is a conditional UPDATE that reports whether it hit a row: the
    # supervisor sends a notice only when its claim hit, in the transaction that records the
    # notice, so two hubs on one ledger never both send it (and the exclusive transaction makes
    # the check-then-act race-free besides).

    def add_deadline(self, record: DeadlineRecord) -> None:
        """Open the clock of a document (one row per document)."""
        for name in ("served_at", "due_at", "original_due_at", "remind_at"):
            require_aware(getattr(record, name), name)
        values = {name: getattr(record, name) for name in _DEADLINE_COLUMNS}
        self._defer(_INSERT_DEADLINE, values)
        self._rows.insert("deadlines", record.document_id, values, anchor=record.document_id)

    def get_deadline(self, document_id: str) -> DeadlineRecord | None:
        row = self._exec(_GET_DEADLINE, {"document_id": document_id}).first()
        return _deadline(row) if row else None

    def deadlines_to_remind(self, now: datetime, *, limit: int) -> list[DeadlineRecord]:
        """Open rows whose reminder time has come, not reminded yet and not yet due."""
        require_aware(now, "now")
        c = deadlines.c
        query = (
            select(deadlines)
            .where(c.state == "open", c.remind_at <= now, c.reminded_at.is_(None), c.due_at > now)
            .order_by(c.remind_at, c.document_id)
            .limit(limit)
        )
        return [_deadline(r) for r in self._exec(query)]

    def deadlines_to_escalate(self, now: datetime, *, limit: int) -> list[DeadlineRecord]:
        """Open rows past their due time that have not been escalated."""
        require_aware(now, "now")
        c = deadlines.c
        query = (
            select(deadlines)
            .where(c.state == "open", c.due_at < now, c.escalated_at.is_(None))
            .order_by(c.due_at, c.document_id)
            .limit(limit)
        )
        return [_deadline(r) for r in self._exec(query)]

    def deadlines_not_picked_up(self, served_before: datetime, *, limit: int) -> list[DeadlineRecord]:
        """Open rows served before ``served_before`` that the unit has not picked up, and for which
        no non-delivery notice has gone out."""
        require_aware(served_before, "served_before")
        c = deadlines.c
        query = (
            select(deadlines)
            .where(
                c.picked_up_at.is_(None),
                c.served_at < served_before,
                c.state == "open",
                c.non_delivery_at.is_(None),
            )
            .order_by(c.served_at, c.document_id)
            .limit(limit)
        )
        return [_deadline(r) for r in self._exec(query)]

    def open_deadlines_in_case(self, case_number: str, court: str) -> list[DeadlineRecord]:
        """Open rows of one case that ``court`` is waiting for."""
        c = deadlines.c
        query = (
            select(deadlines)
            .where(c.case_number == case_number, c.court == court, c.state == "open")
            .order_by(c.served_at, c.document_id)
        )
        return [_deadline(r) for r in self._exec(query)]

    def claim_deadline(self, document_id: str, column: str, at: datetime) -> bool:
        """Set ``reminded_at``, ``escalated_at`` or ``non_delivery_at`` of an open row if it is
        still empty. True when this call set it (the caller, and only it, sends the notice)."""
        if column not in _CLAIMABLE:
            raise ValueError(f"{column!r} is not a claimable deadline column")
        require_aware(at, "at")
        c = deadlines.c
        statement = (
            update(deadlines)
            .where(c.document_id == document_id, c.state == "open", c[column].is_(None))
            .values({column: at})
        )
        return self._changed(statement, document_id, {column: at})

    def answer_deadline(self, document_id: str, answer_id: str, at: datetime) -> bool:
        """The receipt of result arrived: state 'answered'. The first answer counts; a row already
        answered is left alone (False). A closed row (case completed) still records its answer."""
        require_aware(at, "at")
        c = deadlines.c
        statement = (
            update(deadlines)
            .where(c.document_id == document_id, c.state.in_(("open", "closed")))
            .values(state="answered", answered_at=at, answer_id=answer_id)
        )
        values = {"state": "answered", "answered_at": at, "answer_id": answer_id}
        return self._changed(statement, document_id, values)

    def count_extension(self, document_id: str) -> bool:
        """One more extension notice received for this document (whether or not it moved the due time)."""
        c = deadlines.c
        statement = update(deadlines).where(c.document_id == document_id).values(extensions=c.extensions + 1)
        return self._counted(statement, document_id, "extensions")

    def count_review_suggestion(self, document_id: str) -> bool:
        """One more review suggestion for this document; the clock runs on (001 art. 20)."""
        c = deadlines.c
        statement = (
            update(deadlines)
            .where(c.document_id == document_id)
            .values(review_suggestions=c.review_suggestions + 1)
        )
        return self._counted(statement, document_id, "review_suggestions")

    def move_deadline(
        self,
        document_id: str,
        *,
        due_at: datetime,
        remind_at: datetime | None,
        rearm_reminder: bool,
        original_due_at: datetime | None = None,
        rule: str | None = None,
    ) -> bool:
        """Change an open row's due time (an extension, or a provisional deadline recomputed).

        ``rearm_reminder`` clears ``reminded_at`` so the new due time gets its own reminder;
        ``escalated_at`` is never cleared (one escalation per document at most).
        """
        require_aware(due_at, "due_at")
        require_aware(remind_at, "remind_at")
        values: dict[str, Any] = {"due_at": due_at, "remind_at": remind_at}
        if rearm_reminder:
            values["reminded_at"] = None
        if original_due_at is not None:
            values["original_due_at"] = original_due_at
        if rule is not None:
            values["rule"] = rule
        c = deadlines.c
        statement = update(deadlines).where(c.document_id == document_id, c.state == "open").values(values)
        return self._changed(statement, document_id, values)

    def close_deadlines(self, document_ids: Sequence[str]) -> int:
        """Open rows that no longer need an answer (the case was completed): state 'closed'."""
        closed = 0
        c = deadlines.c
        for chunk in _chunks(document_ids):
            statement = (
                update(deadlines)
                .where(c.document_id.in_(chunk), c.state == "open")
                .values(state="closed")
                .returning(c.document_id)
            )
            for document_id in self._exec(statement).scalars():
                closed += 1
                self._rows.set("deadlines", document_id, {"state": "closed"}, anchor=document_id)
        return closed

    def mark_picked_up(self, document_id: str, unit: str, at: datetime) -> None:
        """The unit acknowledged the document: ``picked_up_at`` (the first time only; written in
        bulk with the transaction's other acknowledgements)."""
        require_aware(at, "at")
        self._defer(_MARK_PICKED_UP, {"key": document_id, "to_unit": unit, "at": at})
        # Deferred, so whether it hit is unknown here: chained as the same conditional change.
        self._rows.set_first("deadlines", document_id, "picked_up_at", at, {"unit": unit}, anchor=document_id)

    # --- supervision state (key-value, shared by the hubs of one ledger) ------------------------

    def get_state(self, key: str) -> StateEntry | None:
        row = self._exec(_GET_STATE, {"state_key": key}).first()
        return StateEntry(row.key, row.value, row.at) if row else None

    def states(
        self,
        prefix: str,
        *,
        value: str | None = None,
        before: datetime | None = None,
        after_key: str | None = None,
        limit: int = 1000,
    ) -> list[StateEntry]:
        """Entries whose key starts with ``prefix``, by key: optionally only those with this value,
        with ``at`` before an instant, or with a key after ``after_key`` (to page through)."""
        s = supervision_state.c
        query = select(supervision_state).where(s.key.startswith(prefix, autoescape=True))
        if value is not None:
            query = query.where(s.value == value)
        if before is not None:
            require_aware(before, "before")
            query = query.where(s.at < before)
        if after_key is not None:
            query = query.where(s.key > after_key)
        query = query.order_by(s.key).limit(limit)
        return [StateEntry(r.key, r.value, r.at) for r in self._exec(query)]

    def put_state(self, key: str, value: str, at: datetime | None = None) -> None:
        """Set ``key`` (insert or overwrite)."""
        require_aware(at, "at")
        s = supervision_state.c
        if self._exec(update(supervision_state).where(s.key == key).values(value=value, at=at)).rowcount == 0:
            self._exec(insert(supervision_state), {"key": key, "value": value, "at": at})

    def add_state(self, key: str, value: str, at: datetime | None = None) -> bool:
        """Insert ``key`` unless it exists. True if inserted. Race-free without an exclusive
        transaction too (a partitioned ledger): the insert itself does nothing on a conflict."""
        require_aware(at, "at")
        if self._single:  # exclusive: the check is enough (and every dialect has it)
            if self.get_state(key) is not None:
                return False
            self._exec(insert(supervision_state), {"key": key, "value": value, "at": at})
            return True
        dialect_insert = pg_insert if self._conn.dialect.name == "postgresql" else sqlite_insert
        statement = (
            dialect_insert(supervision_state)
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(supervision_state.c.key)  # (rowcount is -1 here with psycopg)
        )
        return self._exec(statement, {"key": key, "value": value, "at": at}).first() is not None

    def replace_state(self, key: str, expected: str, value: str) -> bool:
        """Change ``key``'s value from ``expected`` to ``value`` (a claim). True if it hit."""
        s = supervision_state.c
        statement = update(supervision_state).where(s.key == key, s.value == expected).values(value=value)
        return self._exec(statement).rowcount == 1

    def delete_state(self, key: str) -> StateEntry | None:
        """Remove ``key``; returns the entry removed (None when there was none)."""
        entry = self.get_state(key)
        if entry is not None:
            self._exec(delete(supervision_state).where(supervision_state.c.key == key))
        return entry

    # --- audit -------------------------------------------------------------------------------

    def audit(
        self,
        action: str,
        *,
        actor: str,
        client: str,
        document_id: str | None = None,
        detail: dict[str, Any] | None = None,
        at: datetime | None = None,
    ) -> AuditEntry:
        """Append one entry to the audit chain (written at commit, with the rest of the transaction).

        ``actor``: who (a certificate fingerprint, a unit code, or 'hub'); ``client``: the MQTT
        client / unit it came through. The first entry naming a document must carry
        ``detail["digest"]`` (its sha256), which anchors the evidence bytes in the chain.
        """
        self._check_open()
        when = at or datetime.now(timezone.utc)
        require_aware(when, "audit time")
        ops = self._rows.take(document_id)
        if ops:
            detail = {**(detail or {}), ROWS: ops}
        self._append(when, actor=actor, client=client, action=action, document_id=document_id, detail=detail)
        return _audit_entry_from(self._pending_audit[-1])  # partitioned: seq, pos and hash come at commit

    def _append(
        self,
        when: datetime,
        *,
        actor: str,
        client: str,
        action: str,
        document_id: str | None,
        detail: dict[str, Any] | None,
    ) -> None:
        row: dict[str, Any] = {
            "chain": MAIN_CHAIN,
            "seq": self._seq + 1,
            "pos": self._seq + 1,  # one chain: pos = seq (and the one-chain hash)
            "at": when.isoformat(timespec="microseconds"),
            "actor": actor,
            "client": client,
            "action": action,
            "document_id": document_id,
            "detail": chain.canonical_json(detail or {}),
        }
        if not self._single:
            row["chain"] = self._chains.get(document_id or "", self._default_chain)
            row.update(seq=0, pos=None, prev_hash="", hash="")  # sealed at commit
            self._pending_audit.append(row)
            return
        row["prev_hash"] = self._hash
        row["hash"] = chain.entry_hash(self._hash, **{k: row[k] for k in _HASHED})
        self._pending_audit.append(row)
        self._seq, self._hash = row["seq"], row["hash"]

    # --- internals ---------------------------------------------------------------------------

    def _exec(self, statement: Any, params: Any = None) -> Any:
        self._check_open()
        self._flush()
        return self._conn.execute(statement, params)

    def _defer(self, statement: Any, params: dict[str, Any]) -> None:
        """Queue a write that needs no answer; it runs with its like in one executemany."""
        self._check_open()
        self._pending.setdefault(statement, []).append(params)

    def _flush(self) -> None:
        pending, self._pending = self._pending, {}
        documents_first = pending.pop(_INSERT_DOCUMENT, None)
        if documents_first:
            self._insert_many(_INSERT_DOCUMENT, documents_first)
        for statement, rows in pending.items():
            self._insert_many(statement, rows)

    def _insert_many(self, statement: Any, rows: list[dict[str, Any]]) -> None:
        if not BULK.run(self._conn, statement, rows):
            self._conn.execute(statement, rows)

    def _lock_ids(self, document_ids: Sequence[str]) -> None:
        """Partitioned, PostgreSQL: lock these document ids until commit (advisory locks, one per
        id, taken in one order), so that looking a document up and then storing it stays race-free
        across writers without a lock they all take: two hubs given the same document at once
        check it one after the other, and the second finds it (a duplicate)."""
        if self._take_id is not None and document_ids:
            self._exec(_LOCK_IDS, {"ids": list(document_ids)})

    def _check_open(self) -> None:
        if self._closed:
            raise LedgerError("this ledger transaction has ended")

    def _changed(self, statement: Any, document_id: str, values: dict[str, Any]) -> bool:
        """Run a conditional UPDATE of one deadline row; chain the change when it hit."""
        if self._exec(statement).rowcount != 1:
            return False
        self._rows.set("deadlines", document_id, values, anchor=document_id)
        return True

    def _counted(self, statement: Any, document_id: str, column: str) -> bool:
        if self._exec(statement).rowcount != 1:
            return False
        self._rows.increment("deadlines", document_id, column, anchor=document_id)
        return True

    def _update_document(self, statement: Any, params: dict[str, Any]) -> None:
        if self._exec(statement, params).rowcount != 1:
            raise KeyError(f"no document {params['key']} in the ledger")

    def _write_chain(self) -> None:
        self._flush()
        if self._rows:
            # covered writes no entry of the transaction named: one entry carries them all
            client = self._owner or LEDGER_ACTOR
            rest = {ROWS: self._rows.rest()}
            now = datetime.now(timezone.utc)
            self._append(now, actor=LEDGER_ACTOR, client=client, action=RECORDED, document_id=None, detail=rest)
        if not self._pending_audit:
            return
        if self._single:
            self._insert_many(_INSERT_AUDIT, self._pending_audit)
            self._conn.execute(_SET_HEAD, {"new_seq": self._seq, "new_hash": self._hash})
        else:
            # after every row write of the transaction, so pos orders conflicting writers as
            # their row locks did (chains.py)
            heads = lock_heads(self._conn, [r["chain"] for r in self._pending_audit])
            positions = take_positions(self._conn, len(self._pending_audit))
            moved = seal(self._pending_audit, heads, positions)
            self._insert_many(_INSERT_AUDIT, self._pending_audit)
            write_heads(self._conn, {n: moved[n] for n in {r["chain"] for r in self._pending_audit}})
        self._pending_audit = []


_HASHED = ("seq", "at", "actor", "client", "action", "document_id", "detail")


def _related_ids(conn: Connection, document_id: str) -> list[str]:
    """The document, its receipt, its rejection notices, its replies and their receipts."""
    receipt = documents.c.service_receipt_id
    found: set[str | None] = {document_id}
    found.update(conn.execute(select(receipt).where(documents.c.document_id == document_id)).scalars())
    found.update(
        conn.execute(select(rejections.c.notice_id).where(rejections.c.document_id == document_id)).scalars()
    )
    for reply_id, reply_receipt in conn.execute(
        select(documents.c.document_id, receipt).where(documents.c.in_reply_to == document_id)
    ):
        found.update((reply_id, reply_receipt))
    return sorted(i for i in found if i)


def _chunks(items: Sequence[Any]) -> Iterator[list[Any]]:
    items = list(items)
    for i in range(0, len(items), _IN_CHUNK):
        yield items[i : i + _IN_CHUNK]


def _document(row: Row[Any]) -> DocumentRecord:
    return DocumentRecord(**{c.name: row._mapping[c.name] for c in documents.columns})


def _deadline(row: Row[Any]) -> DeadlineRecord:
    m = row._mapping
    return DeadlineRecord(**{name: m[name] for name in _DEADLINE_COLUMNS})


def _delivery(row: Row[Any]) -> DeliveryRecord:
    m = row._mapping
    return DeliveryRecord(
        **{c.name: m[c.name] for c in deliveries.columns},
        doc_type=m.get("doc_type"),
        raw=m.get("raw"),
    )


def _audit_entry_from(m: Any) -> AuditEntry:
    return AuditEntry(
        chain=m["chain"],
        pos=m["pos"],
        seq=m["seq"],
        at=m["at"],
        actor=m["actor"],
        client=m["client"],
        action=m["action"],
        document_id=m["document_id"],
        detail_json=m["detail"],
        prev_hash=m["prev_hash"],
        hash=m["hash"],
    )


def _audit_entry(row: Row[Any]) -> AuditEntry:
    return _audit_entry_from(row._mapping)
