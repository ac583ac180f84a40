"""Compact rejection records: refused payloads counted per sender, minute and reason.

A flood must not grow the ledger with every payload (50,000 garbage payloads once made 50,007
rejection rows and 100,000 audit entries). What the hub refuses without a full record is added
up here instead, one row per (sender, minute, reason): how many payloads, how many bytes and,
for garbage, which codes. The full records of a sample of them are in ``rejections``
(:mod:`broker.hub.flood_guard` decides which).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone

from sqlalchemy import and_, insert, select, update

from broker.hub.ledger.records import require_aware
from broker.hub.ledger.schema import REJECTION_COUNT_REASONS, rejection_counts
from broker.hub.ledger.store import Ledger, LedgerTx


def minute_of(at: datetime) -> datetime:
    """The UTC minute ``at`` falls in (the rows' key)."""
    require_aware(at, "a rejection time")
    return at.astimezone(timezone.utc).replace(second=0, microsecond=0)


@dataclass
class RejectionCount:
    """Payloads of one sender refused in one minute for one reason, without a record each."""

    client_unit: str
    minute: datetime
    reason: str  # "excess" (dropped unchecked) | "garbage" (checked, seal never verified)
    count: int = 0
    bytes: int = 0
    codes: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        if self.reason not in REJECTION_COUNT_REASONS:
            raise ValueError(f"reason must be one of {REJECTION_COUNT_REASONS}, not {self.reason!r}")


def add_counts(tx: LedgerTx, counts: Iterable[RejectionCount]) -> None:
    """Add ``counts`` to their rows (created when missing). Inside the ledger's exclusive
    transaction, so read-then-write does not race with another hub."""
    conn = tx._conn  # this module's table is additive; the store's API stays what it was
    tx._check_open()
    tx._flush()
    c = rejection_counts.c
    for n in counts:
        key = and_(c.client_unit == n.client_unit, c.minute == n.minute, c.reason == n.reason)
        row = conn.execute(select(c.count, c.bytes, c.codes).where(key)).first()
        if row is None:
            conn.execute(
                insert(rejection_counts),
                {
                    "client_unit": n.client_unit,
                    "minute": n.minute,
                    "reason": n.reason,
                    "count": n.count,
                    "bytes": n.bytes,
                    "codes": dict(n.codes),
                },
            )
        else:
            codes = Counter(row.codes or {})
            codes.update(n.codes)
            conn.execute(
                update(rejection_counts).where(key),
                {"count": row.count + n.count, "bytes": row.bytes + n.bytes, "codes": dict(codes)},
            )


def read_counts(ledger: Ledger, client_unit: str | None = None) -> list[RejectionCount]:
    """The rows (of one sender), oldest minute first."""
    c = rejection_counts.c
    query = select(rejection_counts).order_by(c.minute, c.client_unit, c.reason)
    if client_unit is not None:
        query = query.where(c.client_unit == client_unit)
    with ledger.engine.connect() as conn:
        return [
            RejectionCount(r.client_unit, r.minute, r.reason, r.count, r.bytes, Counter(r.codes or {}))
            for r in conn.execute(query)
        ]
