"""Checking the stored evidence rows against the row operations the chain recorded.

:class:`RowReplay` is fed every audit entry in seq order (by :func:`broker.hub.ledger.chain.verify`)
and rebuilds, from the ``rows`` operations (:mod:`broker.hub.ledger.coverage`), what each covered
row must hold now. :func:`compare_rows` then streams the stored rows and reports, naming the
entry and the column: a column that differs, a row the chain recorded that is gone, and a stored
row the chain never recorded.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Table, select

from broker.hub.ledger.coverage import COVERED, ROWS, covered_values
from broker.hub.ledger.records import sha256_hex
from broker.hub.ledger.schema import deadlines, deliveries, documents, rejections

_TABLES: dict[str, Table] = {
    "documents": documents,
    "rejections": rejections,
    "deliveries": deliveries,
    "deadlines": deadlines,
}
_KEYS = {"documents": "document_id", "rejections": "id", "deliveries": "id", "deadlines": "document_id"}
_UNKNOWN = object()  # a column whose value the chain cannot tell (the row predates the coverage)


@dataclass(slots=True)
class _Expected:
    """What one row must hold, from its operations."""

    values: dict[str, Any]
    seq: int  # the entry that recorded the row (its insert) or, for older rows, its first change
    inserted: bool
    existed: bool  # an operation proves the row existed (an insert, or a change that hit it)
    changed_at: dict[str, int] = field(default_factory=dict)  # column -> entry of its last change

    def recorded_at(self, column: str) -> int:
        """The entry that recorded the column's current value."""
        return self.changed_at.get(column, self.seq)


@dataclass
class RowReplay:
    """The covered rows as the chain says they are, built entry by entry."""

    rows: dict[str, dict[Any, _Expected]] = field(default_factory=lambda: {t: {} for t in COVERED})
    first_seen: dict[str, tuple[int, str | None]] = field(default_factory=dict)
    coverage_start: int | None = None  # the first entry carrying row operations
    first_key: dict[str, Any] = field(default_factory=dict)  # per table: the first key inserted
    malformed: list[str] = field(default_factory=list)

    def entry(self, seq: int, document_id: str | None, detail: str) -> None:
        """Take one audit entry (in seq order)."""
        parsed: Any = None
        if document_id is not None and document_id not in self.first_seen:
            parsed = _parse(detail)
            digest = parsed.get("digest") if isinstance(parsed, dict) else None
            self.first_seen[document_id] = (seq, digest if isinstance(digest, str) else None)
        if f'"{ROWS}"' not in detail:
            return
        if parsed is None:
            parsed = _parse(detail)
        ops = parsed.get(ROWS) if isinstance(parsed, dict) else None
        if not isinstance(ops, list):
            return
        if self.coverage_start is None:
            self.coverage_start = seq
        for op in ops:
            if not self._apply(seq, op):
                self.malformed.append(f"seq {seq}: a row operation the verifier does not understand")

    def _apply(self, seq: int, op: Any) -> bool:
        if not isinstance(op, dict) or op.get("t") not in self.rows:
            return False
        table, key = op["t"], op.get("k")
        if isinstance(key, list) or isinstance(key, dict):
            return False
        rows = self.rows[table]
        row = rows.get(key)
        if "new" in op:
            rows[key] = _Expected(dict(op["new"]), seq, inserted=True, existed=True)
            self.first_key.setdefault(table, key)
            return isinstance(op["new"], dict)
        if row is None:
            row = rows[key] = _Expected({}, seq, inserted=False, existed=False)
        for body in ("set", "inc", "first"):
            if isinstance(op.get(body), dict):
                row.changed_at.update(dict.fromkeys(op[body], seq))
        if isinstance(op.get("set"), dict):
            row.values.update(op["set"])
            row.existed = True
        elif isinstance(op.get("inc"), dict):
            row.existed = True
            for column, n in op["inc"].items():
                value = row.values.get(column, _UNKNOWN)
                row.values[column] = value + n if isinstance(value, int) and isinstance(n, int) else _UNKNOWN
        elif isinstance(op.get("first"), dict) and isinstance(op.get("if"), dict):
            _set_first(row, op["first"], op["if"])
        else:
            return False
        return True

    def predates(self, table: str, key: Any) -> bool:
        """Whether a stored row without an insert operation predates the coverage."""
        if table == "documents" or table == "deadlines":
            seen = self.first_seen.get(key)
            return self.coverage_start is None or (seen is not None and seen[0] < self.coverage_start)
        first = self.first_key.get(table)
        return first is None or key < first


def _set_first(row: _Expected, first: dict[str, Any], condition: dict[str, Any]) -> None:
    for column, wanted in condition.items():
        have = row.values.get(column, _UNKNOWN)
        if have is _UNKNOWN:
            for name in first:
                row.values[name] = _UNKNOWN
            return
        if have != wanted:
            return
    for column, value in first.items():
        have = row.values.get(column, _UNKNOWN)
        if have is None:
            row.values[column] = value
        elif have is _UNKNOWN:
            row.values[column] = _UNKNOWN


def _parse(detail: str) -> Any:
    try:
        return json.loads(detail)
    except ValueError:
        return None


@dataclass
class RowCounts:
    """How many rows of each table were stored, recorded by the chain, and predate the coverage."""

    stored: dict[str, int] = field(default_factory=dict)
    named: dict[str, int] = field(default_factory=dict)
    predating: dict[str, int] = field(default_factory=dict)


def compare_rows(conn: Connection, replay: RowReplay, add: Callable[[str], None]) -> RowCounts:
    """Stream the stored rows, compare them with ``replay``, report through ``add``."""
    for line in replay.malformed:
        add(line)
    counts = RowCounts()
    named_documents = {k for k, e in replay.rows["documents"].items() if e.inserted}
    named_documents.update(d for d, (_, digest) in replay.first_seen.items() if digest is not None)
    for table in COVERED:
        _compare_table(conn, table, replay, add, counts)
    _missing_named_documents(replay, add)
    counts.named["documents"] = len(named_documents)
    return counts


def _describe(table: str, key: Any, values: dict[str, Any]) -> str:
    if table == "documents":
        return f"document {key}"
    if table == "rejections":
        return f"rejection {key}"
    if table == "deliveries":
        return f"delivery {key} (document {values.get('document_id')} to {values.get('recipient')})"
    return f"deadline of document {key}"


def _compare_table(
    conn: Connection, table: str, replay: RowReplay, add: Callable[[str], None], counts: RowCounts
) -> None:
    t = _TABLES[table]
    key_column = _KEYS[table]
    expected_rows = replay.rows[table]
    stored = named = predating = 0
    columns = [t.c[key_column]] + [t.c[c] for c in COVERED[table] if c in t.c and c != key_column]
    if table in ("documents", "rejections"):
        columns.append(t.c.raw)
    for row in conn.execute(select(*columns).order_by(t.c[key_column])):
        stored += 1
        m = row._mapping
        key = m[key_column]
        actual = covered_values(table, m)
        expected = expected_rows.pop(key, None)
        where = _where(replay, table, key, expected)
        older = (expected is None or not expected.inserted) and replay.predates(table, key)
        if table == "documents":
            _check_document_bytes(replay, key, m, add)
        elif table == "rejections" and m["raw"] is not None and sha256_hex(m["raw"]) != m["digest"]:
            add(f"rejection {key}: the stored bytes do not match the stored digest")
        if expected is None or not expected.inserted:
            if older:
                predating += 1
            else:
                add(f"{where}{_describe(table, key, actual)}: stored, but the chain never recorded this row")
                continue
        if expected is not None:
            named += int(expected.inserted)
            for column, value in expected.values.items():
                if value is _UNKNOWN or column not in actual:
                    continue
                if actual[column] != value:
                    add(
                        f"{where}{_describe(table, key, actual)}: {column} is {_show(actual[column])} in the "
                        f"ledger but {_show(value)} in the chain (seq {expected.recorded_at(column)}): edited outside the ledger"
                    )
    for key, expected in expected_rows.items():
        if not expected.existed:
            continue  # a conditional change that hit no row (e.g. pickup of a document without a clock)
        named += int(expected.inserted)
        add(
            f"seq {expected.seq}: {_describe(table, key, expected.values)}: recorded in the chain but not "
            f"stored (evidence row deleted)"
        )
    counts.stored[table], counts.named[table], counts.predating[table] = stored, named, predating


def _where(replay: RowReplay, table: str, key: Any, expected: _Expected | None) -> str:
    if expected is not None:
        return f"seq {expected.seq}: "
    if table == "documents" and key in replay.first_seen:
        return f"seq {replay.first_seen[key][0]}: "
    return ""


def _check_document_bytes(replay: RowReplay, key: str, m: Any, add: Callable[[str], None]) -> None:
    """The stored bytes against the stored digest and size, and the digest against the one the
    document's first entry recorded (this anchored the evidence before the row coverage)."""
    seen = replay.first_seen.pop(key, None)
    where = f"seq {seen[0]}: document {key}" if seen else f"document {key}"
    raw = m["raw"]
    if sha256_hex(raw) != m["digest"] or len(raw) != m["size"]:
        add(f"{where}: the stored bytes do not match the stored digest and size (evidence edited)")
    if seen is None:
        add(f"{where}: no audit entry records this document")
    elif seen[1] is None:
        add(f"{where}: its first audit entry records no digest")
    elif seen[1] != m["digest"]:
        add(f"{where}: the stored digest differs from the one recorded in the chain")


def _missing_named_documents(replay: RowReplay, add: Callable[[str], None]) -> None:
    """Documents whose first entry recorded their digest but which are not stored (rows predating
    the coverage; covered ones were reported with their insert)."""
    covered = replay.rows["documents"]
    for document_id, (seq, digest) in replay.first_seen.items():
        if digest is None or document_id in covered:
            continue
        add(f"seq {seq}: document {document_id}: named in the chain with its digest but not stored (evidence row deleted)")


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
