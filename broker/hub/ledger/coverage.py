"""The evidence rows under the chain: which columns it covers, and how their changes are recorded.

The audit chain (:mod:`broker.hub.ledger.chain`) would otherwise vouch only for its own entries:
a deleted document row, or an edited ``received_at`` (the legal time of service), would go
unseen. So every write to a covered column is also a *row operation* in the detail of a chained
entry, and ``ledger verify`` replays the operations and compares the result with the stored rows,
column by column, in both directions (a row the chain records but the ledger lacks, and a stored
row the chain never recorded).

Operations (re-implementable without this code)
-----------------------------------------------
An entry's ``detail`` may carry ``"rows": [op, ...]``, applied in order, entries in seq order::

    {"t": table, "k": key, "new": {column: value, ...}}    # a row inserted with these values
    {"t": table, "k": key, "set": {column: value, ...}}    # these columns changed to these values
    {"t": table, "k": key, "inc": {column: n, ...}}        # these integer columns grew by n
    {"t": table, "k": key, "first": {column: value}, "if": {column: value, ...}}
        # set the column only if it is still null and the row has the "if" values

``key`` is the primary key (a document id, a rejection or delivery id). Values are JSON: times
as UTC ISO-8601 with microseconds (``2025-03-03T01:00:05.000000+00:00``), JSON null for NULL.
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
from datetime import datetime, timezone
from typing import Any

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
COVERED: dict[str, tuple[str, ...]] = {
    "documents": DOCUMENT_COLUMNS,
    "rejections": REJECTION_COLUMNS,
    "deliveries": DELIVERY_COLUMNS,
    "deadlines": DEADLINE_COLUMNS,
}


def canonical(value: Any) -> Any:
    """A stored value as the chain records it: times in UTC with microseconds, lists as lists."""
    if value is None or type(value) in (str, int, bool):  # most values: no conversion
        return value
    if isinstance(value, datetime):
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
    values: dict[str, Any] = {}
    for column in COVERED[table]:
        if table == "rejections" and column == "raw_kept":
            values[column] = row.get("raw") is not None
        elif table == "deliveries" and column == "state":
            values[column] = delivery_state(row.get("state"))
        else:
            values[column] = canonical(row.get(column))
    return values


class RowLog:
    """The row operations of one transaction, waiting for an entry to carry them."""

    def __init__(self) -> None:
        self._by_anchor: dict[str | None, list[tuple[int, dict[str, Any]]]] = {}
        self._anchors: dict[tuple[str, Any], str | None] = {}
        self._written = 0

    def __bool__(self) -> bool:
        return bool(self._by_anchor)

    def insert(self, table: str, key: Any, values: Mapping[str, Any], anchor: str | None) -> None:
        self._add(table, key, anchor, {"new": covered_values(table, values)})

    def set(self, table: str, key: Any, values: Mapping[str, Any], anchor: str | None) -> None:
        self._add(table, key, anchor, {"set": {c: canonical(v) for c, v in values.items()}})

    def increment(self, table: str, key: Any, column: str, anchor: str | None) -> None:
        self._add(table, key, anchor, {"inc": {column: 1}})

    def set_first(
        self, table: str, key: Any, column: str, value: Any, condition: Mapping[str, Any], anchor: str | None
    ) -> None:
        self._add(table, key, anchor, {"first": {column: canonical(value)}, "if": dict(condition)})

    def take(self, anchor: str | None) -> list[dict[str, Any]] | None:
        """The operations waiting for an entry naming ``anchor`` (removed from the log)."""
        if anchor is None:
            return None
        group = self._by_anchor.pop(anchor, None)
        return [op for _, op in group] if group else None

    def rest(self) -> list[dict[str, Any]]:
        """Every operation still waiting, in the order written (the log is emptied)."""
        ops = sorted((pair for group in self._by_anchor.values() for pair in group), key=lambda p: p[0])
        self._by_anchor.clear()
        self._anchors.clear()
        return [op for _, op in ops]

    def _add(self, table: str, key: Any, anchor: str | None, body: dict[str, Any]) -> None:
        # A row keeps the anchor of its first operation in this transaction, so its operations
        # are chained in the order they were written.
        anchor = self._anchors.setdefault((table, key), anchor)
        self._written += 1
        self._by_anchor.setdefault(anchor, []).append((self._written, {"t": table, "k": key, **body}))
