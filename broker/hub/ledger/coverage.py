"""The evidence rows under the chain: which columns it covers, and how their changes are recorded.

The audit chain (:mod:`broker.hub.ledger.chain`) would otherwise vouch only for its own entries:
a deleted document row, or an edited ``received_at`` (the legal time of service), would go
unseen. So every write to a covered column is also a *row operation* in the detail of a chained
entry, and ``ledger verify`` replays the operations and compares the result with the stored rows,
column by column, in both directions (a row the chain records but the ledger lacks, and a stored
row the chain never recorded).

Operations (re-implementable without this code)
-----------------------------------------------
An entry's ``detail`` may carry ``"rows": [op, ...]``, applied in order, entries in seq order.
Each operation is a JSON array (the compact encoding, written since 2026-12-07)::

    ["n", table, key, [value, ...]]      # a row inserted: its covered columns' values, in the
                                         # order of COVERED[table] (JSON null for NULL)
    (in this encoding a time is an integer: microseconds since 1970-01-01T00:00:00Z; the time
    columns are those of TIMES)
    ["s", table, key, {column: value}]   # these columns changed to these values
    ["i", table, key, {column: n}]       # these integer columns grew by n
    ["f", table, key, {column: value}, {column: value, ...}]
        # set the column only if it is still null and the row has the values of the last object

Ledgers written before carry the same operations as objects (verify reads both)::

    {"t": table, "k": key, "new": {column: value, ...}}
    {"t": table, "k": key, "set": {...}} | {"t": ..., "k": ..., "inc": {...}}
    {"t": table, "k": key, "first": {column: value}, "if": {column: value, ...}}

``key`` is the primary key (a document id, a rejection or delivery id). Values are JSON: times
as integer microseconds (arrays) or as UTC ISO-8601 text with microseconds
(``2025-03-03T01:00:05.000000+00:00``, objects), JSON null for NULL; verify compares times as the
text.
A row's operations ride on the transaction's first entry that names the row's *anchor* document
(the document itself, a delivery's or deadline's document, a rejection's notice) and comes after
the write; the rest go into one entry ``recorded`` (actor ``ledger``) at the end of the
transaction. Each table's covered columns are :data:`COVERED`; the others are operational
(delivery attempts, PUBACK times, owners) and may change without a chained entry.

Old ledgers: rows written before this coverage have no ``new`` operation. ``verify`` counts them
as predating the coverage (a document whose first entry comes before the first entry carrying
rows; a rejection or delivery with a lower id than the first one recorded) and checks only what
the chain held for them then (a document's bytes against the digest of its first entry).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

from broker.hub.ledger import schema

ROWS = "rows"  # the detail key carrying row operations
RECORDED = "recorded"  # the action of the entry carrying a transaction's remaining operations
LEDGER_ACTOR = "ledger"

DOCUMENT_COLUMNS = (
    "doc_type",
    "sender",
    "recipient",
    "case_number",
    "in_reply_to",
    "issued_at",
    "received_at",
    "deadline",
    "digest",
    "size",
    "origin",
    "client_unit",
    "signer_fingerprint",
    "state",
    "service_receipt_id",
)  # ``raw`` is covered through ``digest`` and ``size``: verify hashes the stored bytes
REJECTION_COLUMNS = (
    "received_at",
    "client_unit",
    "document_id",
    "digest",
    "size",
    "codes",
    "raw_kept",  # whether the bytes were kept (they may be dropped when large): true or false
    "notice_id",
)
# Of a delivery only what the recipient's acknowledgement proves; ``state`` is compared as
# 'acked' or 'open' (pending and published differ only by the broker's PUBACK).
DELIVERY_COLUMNS = ("document_id", "recipient", "state", "acked_at")
DEADLINE_COLUMNS = (
    "doc_type",
    "court",
    "unit",
    "unit_kind",
    "case_number",
    "served_at",
    "due_at",
    "original_due_at",
    "rule",
    "remind_at",
    "state",
    "picked_up_at",
    "answered_at",
    "answer_id",
    "reminded_at",
    "escalated_at",
    "non_delivery_at",
    "extensions",
    "review_suggestions",
)
# The order of each table's columns is part of the insert operation's encoding: new columns go
# at the end (an operation with fewer values then predates them).
COVERED: dict[str, tuple[str, ...]] = {
    "documents": DOCUMENT_COLUMNS,
    "rejections": REJECTION_COLUMNS,
    "deliveries": DELIVERY_COLUMNS,
    "deadlines": DEADLINE_COLUMNS,
}


_AS_IS = frozenset((str, int, bool))  # values recorded as they are


# The covered columns holding times, per table (from the schema's column types).
TIMES: dict[str, frozenset[str]] = {
    table: frozenset(c for c in columns if c in getattr(schema, table).c
                     and isinstance(getattr(schema, table).c[c].type, schema.UTCDateTime))
    for table, columns in COVERED.items()
}  # fmt: skip
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MICROSECOND = timedelta(microseconds=1)


def micros(value: datetime) -> int:
    """A time as the compact encoding records it: microseconds since the epoch (naive: UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return (value - EPOCH) // _MICROSECOND


def time_text(n: int) -> str:
    """An encoded time (:func:`micros`) as the canonical text."""
    return (EPOCH + timedelta(microseconds=n)).isoformat(timespec="microseconds")


def canonical(value: Any) -> Any:
    """A stored value as the chain records it: times in UTC with microseconds, lists as lists."""
    if value is None or type(value) in _AS_IS:  # most values: no conversion
        return value
    if isinstance(value, datetime):
        if value.tzinfo is timezone.utc:  # the usual case: no conversion
            return value.isoformat(timespec="microseconds")
        if value.tzinfo is None:  # SQLite hands back naive UTC through raw connections
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc).isoformat(timespec="microseconds")
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    return value


def delivery_state(state: str | None) -> str | None:
    """A delivery's state as covered: 'acked' or 'open'."""
    if state is None:
        return None
    return "acked" if state == "acked" else "open"


def covered_values(table: str, row: Mapping[str, Any]) -> dict[str, Any]:
    """The covered columns of a stored row (or of the values written), canonical."""
    return dict(zip(COVERED[table], covered_list(table, row)))


def covered_list(table: str, row: Mapping[str, Any], convert: Any = canonical) -> list[Any]:
    """The covered columns' values in the order of :data:`COVERED` (``convert``: :func:`compact`
    for an insert operation)."""
    get = row.get
    # most values are text, numbers or null: taken inline, without a call each
    values = [v if v is None or type(v) in _AS_IS else convert(v) for v in map(get, _PLAIN[table])]
    # the derived columns, at their places in COVERED
    if table == "rejections":
        values.insert(_RAW_KEPT, get("raw") is not None)
    elif table == "deliveries":
        values[_DELIVERY_STATE] = delivery_state(get("state"))
    return values


def compact(value: Any) -> Any:
    """A value as the compact encoding records it: a time as an integer (formatting one as
    text costs microseconds, and a dozen are written per document), the rest canonical."""
    return micros(value) if type(value) is datetime else canonical(value)


_PLAIN = {  # the columns read as they are (raw_kept is derived from raw)
    table: tuple(c for c in columns if (table, c) != ("rejections", "raw_kept"))
    for table, columns in COVERED.items()
}
_RAW_KEPT = REJECTION_COLUMNS.index("raw_kept")
_DELIVERY_STATE = DELIVERY_COLUMNS.index("state")


def op_table(op: Any) -> str | None:
    """The table an operation (either encoding) writes to."""
    if isinstance(op, list) and len(op) >= 2 and isinstance(op[1], str):
        return op[1]
    if isinstance(op, dict) and isinstance(op.get("t"), str):
        return op["t"]
    return None


class RowLog:
    """The row operations of one transaction, waiting for an entry to carry them."""

    def __init__(self) -> None:
        self._by_anchor: dict[str | None, list[tuple[int, list[Any]]]] = {}
        self._anchors: dict[tuple[str, Any], str | None] = {}
        self._written = 0

    def __bool__(self) -> bool:
        return bool(self._by_anchor)

    def insert(self, table: str, key: Any, values: Mapping[str, Any], anchor: str | None) -> None:
        self._add(table, key, anchor, ["n", table, key, covered_list(table, values, compact)])

    def set(self, table: str, key: Any, values: Mapping[str, Any], anchor: str | None) -> None:
        self._add(table, key, anchor, ["s", table, key, {c: compact(v) for c, v in values.items()}])

    def increment(self, table: str, key: Any, column: str, anchor: str | None) -> None:
        self._add(table, key, anchor, ["i", table, key, {column: 1}])

    def set_first(
        self, table: str, key: Any, column: str, value: Any, condition: Mapping[str, Any], anchor: str | None
    ) -> None:
        self._add(table, key, anchor, ["f", table, key, {column: compact(value)}, dict(condition)])

    def take(self, anchor: str | None) -> list[list[Any]] | None:
        """The operations waiting for an entry naming ``anchor`` (removed from the log)."""
        if anchor is None:
            return None
        group = self._by_anchor.pop(anchor, None)
        return [op for _, op in group] if group else None

    def rest(self) -> list[list[Any]]:
        """Every operation still waiting, in the order written (the log is emptied)."""
        ops = sorted((pair for group in self._by_anchor.values() for pair in group), key=lambda p: p[0])
        self._by_anchor.clear()
        self._anchors.clear()
        return [op for _, op in ops]

    def _add(self, table: str, key: Any, anchor: str | None, op: list[Any]) -> None:
        # A row keeps the anchor of its first operation in this transaction, so its operations
        # are chained in the order they were written.
        anchor = self._anchors.setdefault((table, key), anchor)
        self._written += 1
        self._by_anchor.setdefault(anchor, []).append((self._written, op))
