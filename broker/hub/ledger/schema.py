"""The ledger's tables (SQLAlchemy Core), the same on SQLite and PostgreSQL.

Tables are defined without a schema; a PostgreSQL schema name is applied per engine through
``schema_translate_map`` so several hub deployments (and the tests) can share one database.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Sequence,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)

from broker.hub.ledger.records import require_aware


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware instant, stored in UTC and read back in UTC on both backends.

    SQLite has no timezone type and SQLAlchemy would silently drop the offset there, so naive
    datetimes are refused rather than guessed about.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        require_aware(value, "a ledger time")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


# SQLite only makes "INTEGER PRIMARY KEY" an alias of the rowid (clustered, cheap autoincrement).
BigId = BigInteger().with_variant(Integer(), "sqlite")

metadata = MetaData()

documents = Table(
    "documents",
    metadata,
    Column("document_id", String(36), primary_key=True),
    Column("doc_type", String(64), nullable=False),
    Column("sender", String(64), nullable=False),
    Column("recipient", String(64), nullable=False),
    Column("case_number", String(128), nullable=True, index=True),
    Column("in_reply_to", String(36), nullable=True, index=True),
    Column("issued_at", UTCDateTime(), nullable=False),
    Column("received_at", UTCDateTime(), nullable=False),
    Column("deadline", UTCDateTime(), nullable=True),
    Column("digest", String(64), nullable=False),
    Column("size", Integer, nullable=False),
    Column("raw", LargeBinary, nullable=False),
    Column("origin", String(4), nullable=False),
    Column("client_unit", String(64), nullable=False),
    Column("signer_fingerprint", String(128), nullable=True),
    Column("state", String(32), nullable=False),
    Column("service_receipt_id", String(36), nullable=True),
    CheckConstraint("origin IN ('unit', 'hub')", name="ck_documents_origin"),
)

rejections = Table(
    "rejections",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("received_at", UTCDateTime(), nullable=False),
    Column("client_unit", String(64), nullable=False),
    Column("document_id", String(36), nullable=True, index=True),
    Column("digest", String(64), nullable=False),
    Column("size", Integer, nullable=False),
    Column("codes", JSON, nullable=False),
    Column("raw", LargeBinary, nullable=True),
    Column("notice_id", String(36), nullable=True),
)

# Refused payloads counted rather than kept, one row per sender, minute and reason (issue 11,
# item 3): a flood's excess dropped unchecked ("excess") and its garbage beyond the per-minute
# samples ("garbage", which the rejections table samples). Bounded: rows grow with senders x
# minutes, never with payloads. Written by broker.hub.ledger.rejections_compact.
REJECTION_COUNT_REASONS = ("excess", "garbage")

rejection_counts = Table(
    "rejection_counts",
    metadata,
    Column("client_unit", String(64), primary_key=True),
    Column("minute", UTCDateTime(), primary_key=True),
    Column("reason", String(16), primary_key=True),
    Column("count", BigInteger, nullable=False),
    Column("bytes", BigInteger, nullable=False),
    Column("codes", JSON, nullable=False),  # {code: payloads} (garbage; {} for excess, never parsed)
    CheckConstraint("reason IN ('excess', 'garbage')", name="ck_rejection_counts_reason"),
)

DELIVERY_STATES = ("pending", "published", "acked")

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("document_id", String(36), ForeignKey("documents.document_id"), nullable=False),
    Column("recipient", String(64), nullable=False),
    Column("topic", String(255), nullable=False),
    Column("state", String(16), nullable=False, default="pending"),
    Column("attempts", Integer, nullable=False, default=0),
    Column("first_sent_at", UTCDateTime(), nullable=True),
    Column("last_sent_at", UTCDateTime(), nullable=True),
    Column("published_at", UTCDateTime(), nullable=True),
    Column("acked_at", UTCDateTime(), nullable=True),
    # The hub instance that publishes and redelivers it (several hubs on one ledger,
    # docs/deployment.md): the one that recorded it, or took it over from an instance that
    # stopped or fell silent. NULL: any hub (recorded outside a hub, or before the column existed).
    Column("owner", String(128), nullable=True),
    UniqueConstraint("document_id", "recipient", name="uq_deliveries_document_recipient"),
    CheckConstraint("state IN ('pending', 'published', 'acked')", name="ck_deliveries_state"),
)
# The outbox keeps every delivery forever (evidence of service) but only the open ones are hot:
# partial indexes stay small however long the acked history grows.
_open = deliveries.c.state != "acked"
Index("ix_deliveries_open", deliveries.c.id, postgresql_where=_open, sqlite_where=_open)
Index(
    "ix_deliveries_open_recipient",
    deliveries.c.recipient,
    deliveries.c.id,
    postgresql_where=_open,
    sqlite_where=_open,
)

DEADLINE_STATES = ("open", "answered", "closed")

deadlines = Table(
    "deadlines",
    metadata,
    # One row per document a unit must answer (notices, queries, releases, entrustments, ...):
    # the clock of issue 5. The report reads it; the supervisor sends reminders and escalations.
    Column("document_id", String(36), ForeignKey("documents.document_id"), primary_key=True),
    Column("doc_type", String(64), nullable=False),
    Column("court", String(64), nullable=False),  # who waits: the document's sender
    Column("unit", String(64), nullable=False),  # who must act: the recipient
    Column("unit_kind", String(32), nullable=False),
    Column("case_number", String(128), nullable=True),
    Column("served_at", UTCDateTime(), nullable=False),  # the time of service starts the clock
    Column("due_at", UTCDateTime(), nullable=False),  # current due time (moved by extensions)
    Column("original_due_at", UTCDateTime(), nullable=False),
    Column("rule", String(255), nullable=False),  # the policy rule that applied and its seed source
    Column("remind_at", UTCDateTime(), nullable=True),
    Column("state", String(16), nullable=False),
    Column("picked_up_at", UTCDateTime(), nullable=True),  # the unit acknowledged receipt
    Column("answered_at", UTCDateTime(), nullable=True),  # the receipt of result arrived
    Column("answer_id", String(36), nullable=True),
    Column("reminded_at", UTCDateTime(), nullable=True),
    Column("escalated_at", UTCDateTime(), nullable=True),
    Column("non_delivery_at", UTCDateTime(), nullable=True),
    Column("extensions", Integer, nullable=False, default=0),
    Column("review_suggestions", Integer, nullable=False, default=0),
    CheckConstraint("state IN ('open', 'answered', 'closed')", name="ck_deadlines_state"),
)
Index("ix_deadlines_open_due", deadlines.c.state, deadlines.c.due_at)
Index("ix_deadlines_unit", deadlines.c.unit, deadlines.c.served_at)
# The supervisor's scans (broker.hub.deadlines): reminders by remind_at, non-delivery by the time
# of service among rows not picked up, case completion by case number.
Index("ix_deadlines_open_remind", deadlines.c.state, deadlines.c.remind_at)
_not_picked_up = deadlines.c.picked_up_at.is_(None)
Index(
    "ix_deadlines_not_picked_up",
    deadlines.c.served_at,
    postgresql_where=_not_picked_up,
    sqlite_where=_not_picked_up,
)
Index("ix_deadlines_case", deadlines.c.case_number)

supervision_state = Table(
    "supervision_state",
    metadata,
    # Small facts the supervisor must share between hubs and keep across restarts: the hub's
    # heartbeat, units seen offline and since when, provisional deadlines, completed cases
    # waiting for their outstanding-measures notice. Keys are namespaced ("unit.offline:<code>").
    Column("key", String(255), primary_key=True),
    Column("value", String(255), nullable=False),
    Column("at", UTCDateTime(), nullable=True),
)

# Chains (issue 16): the audit log is several hash chains, each with its own head and seq, so
# writers to different chains never wait on one another. ``pos`` orders entries across chains
# (row operations are replayed in pos order; anchors, which carry none, have none). A ledger
# written before chains existed is one chain, MAIN, with pos = seq (``liandong ledger migrate``).
MAIN_CHAIN = "main"
ANCHOR_CHAIN = "anchors"
CHAIN_NAME_MAX = 128

audit = Table(
    "audit",
    metadata,
    Column("chain", String(CHAIN_NAME_MAX), primary_key=True, autoincrement=False),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("pos", BigInteger, nullable=True),
    Column("at", String(40), nullable=False),
    Column("actor", String(128), nullable=False),
    Column("client", String(128), nullable=False),
    Column("action", String(32), nullable=False),
    Column("document_id", String(36), nullable=True),
    Column("detail", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)
Index("ix_audit_pos", audit.c.pos, unique=True)
Index("ix_audit_document_pos", audit.c.document_id, audit.c.pos)

# One row per chain: the seq and hash of its last entry (a removed tail is seen against it).
chain_heads = Table(
    "chain_heads",
    metadata,
    Column("chain", String(CHAIN_NAME_MAX), primary_key=True, autoincrement=False),
    Column("seq", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
)

# The entries' positions across chains on PostgreSQL (a sequence takes no lock writers wait on);
# SQLite has one writer at a time and takes max(pos) + 1.
audit_pos = Sequence("audit_pos", metadata=metadata, start=1)

# The layout before chains (a ledger not yet migrated): read by verify and by the migration only.
legacy = MetaData()
legacy_audit = Table(
    "audit",
    legacy,
    Column("seq", BigId, primary_key=True, autoincrement=False),
    Column("at", String(40), nullable=False),
    Column("actor", String(128), nullable=False),
    Column("client", String(128), nullable=False),
    Column("action", String(32), nullable=False),
    Column("document_id", String(36), nullable=True),
    Column("detail", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)
legacy_chain_head = Table(
    "chain_head",
    legacy,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
)
