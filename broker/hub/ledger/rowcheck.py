"""Checking the stored evidence rows against the row operations the chain recorded.

:class:`RowReplay` is fed every audit entry in seq order (by :func:`broker.hub.ledger.chain.verify`)
and files each ``rows`` operation (:mod:`broker.hub.ledger.coverage`) and each document's first
entry in a scratch SQLite file, indexed by row. :func:`compare_rows` then streams the stored rows,
rebuilds from its operations what each must hold now, and reports, naming the entry and the
column: a column that differs, a row the chain recorded that is gone, and a stored row the chain
never recorded. The scratch file keeps verify's memory flat however long the ledger (it holds
about what the operations hold, on disk, and is deleted afterwards).
"""

from __future__ import annotations

import json
import marshal
import sqlite3
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Table, select

from broker.hub.ledger.coverage import COVERED, ROWS, TIMES, covered_values, time_text
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
_BATCH = 5000
_KINDS = ("new", "set", "inc", "first")


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


_INT_KEYS = frozenset(t for t, k in _KEYS.items() if k == "id")


def _key(value: Any) -> str:
    # each table's keys have one type (ids are integers, documents strings): text is unambiguous
    return str(value)


def _unkey(table: str, key: str) -> Any:
    return int(key) if table in _INT_KEYS else key


class RowReplay:
    """The row operations and first entries of the chain, filed by row in a scratch database."""

    def __init__(self) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="liandong-verify-")
        self._db = sqlite3.connect(Path(self._dir.name) / "rows.db")
        self._db.execute("PRAGMA journal_mode = OFF")  # scratch: nothing to recover after a crash
        self._db.execute("PRAGMA synchronous = OFF")
        self._db.execute("PRAGMA cache_size = -65536")  # 64 MiB of pages at most
        # op: the operation as marshal bytes (written and read only here, faster than JSON)
        self._db.execute("CREATE TABLE ops (tbl TEXT, key TEXT, seq INTEGER, n INTEGER, kind TEXT, op BLOB)")
        self._db.execute("CREATE TABLE first_seen (key TEXT PRIMARY KEY, seq INTEGER, digest TEXT)")
        self._db.execute("CREATE TABLE visited (tbl TEXT, key TEXT)")
        self._ops: list[tuple[str, str, int, int, str, bytes]] = []
        self._first: list[tuple[str, int, str | None]] = []
        self._seen_ids: set[str] = set()  # of the current batch only; the table keeps the first
        self.coverage_start: int | None = None  # the first entry carrying row operations
        self.first_key: dict[str, Any] = {}  # per table: the first key inserted
        self.malformed: list[str] = []
        self._n = 0

    def close(self) -> None:
        self._db.close()
        self._dir.cleanup()

    def entry(self, seq: int, document_id: str | None, detail: str) -> None:
        """Take one audit entry (in seq order)."""
        parsed: Any = None
        if document_id is not None and document_id not in self._seen_ids:
            parsed = _parse(detail)
            digest = parsed.get("digest") if isinstance(parsed, dict) else None
            self._seen_ids.add(document_id)
            self._first.append((_key(document_id), seq, digest if isinstance(digest, str) else None))
        if f'"{ROWS}"' in detail:
            if parsed is None:
                parsed = _parse(detail)
            ops = parsed.get(ROWS) if isinstance(parsed, dict) else None
            if isinstance(ops, list):
                if self.coverage_start is None:
                    self.coverage_start = seq
                for op in ops:
                    self._file(seq, op)
        if len(self._ops) >= _BATCH or len(self._first) >= _BATCH:
            self._flush()

    def _file(self, seq: int, op: Any) -> None:
        if isinstance(op, list):
            op = _expand(op)
        kind = next((k for k in _KINDS if isinstance(op, dict) and isinstance(op.get(k), dict)), None)
        key = op.get("k") if isinstance(op, dict) else None
        good_key = isinstance(key, (str, int)) and not isinstance(key, bool)
        if kind is None or op.get("t") not in COVERED or not good_key:
            self.malformed.append(f"seq {seq}: a row operation the verifier does not understand")
            return
        if kind == "new":
            self.first_key.setdefault(op["t"], key)
        self._n += 1
        self._ops.append((op["t"], _key(key), seq, self._n, kind, marshal.dumps(op)))

    def _flush(self) -> None:
        if self._ops:
            self._db.executemany("INSERT INTO ops VALUES (?, ?, ?, ?, ?, ?)", self._ops)
            self._ops = []
        if self._first:
            self._db.executemany("INSERT OR IGNORE INTO first_seen VALUES (?, ?, ?)", self._first)
            self._first = []
            self._seen_ids.clear()
        self._db.commit()

    def finish(self) -> None:
        """All entries are in: index them for the comparison."""
        self._flush()
        self._db.execute("CREATE INDEX ops_row ON ops (tbl, key, seq, n)")
        self._db.execute("CREATE INDEX visited_row ON visited (tbl, key)")
        self._db.commit()

    # --- reading back ------------------------------------------------------------------------

    def first(self, document_id: str) -> tuple[int, str | None] | None:
        """The seq of the document's first entry and the digest it recorded."""
        query = "SELECT seq, digest FROM first_seen WHERE key = ?"
        row = self._db.execute(query, (_key(document_id),)).fetchone()
        return (row[0], row[1]) if row else None

    def expected(self, table: str, key: Any) -> _Expected | None:
        rows = self._db.execute(
            "SELECT seq, op FROM ops WHERE tbl = ? AND key = ? ORDER BY seq, n", (table, _key(key))
        )
        return _replay((seq, marshal.loads(op)) for seq, op in rows)

    def visit(self, table: str, keys: Iterable[Any]) -> None:
        self._db.executemany("INSERT INTO visited VALUES (?, ?)", [(table, _key(k)) for k in keys])
        self._db.commit()

    def unvisited(self, table: str) -> Iterator[Any]:
        """Keys with operations whose row was not among the stored ones."""
        rows = self._db.execute(
            "SELECT DISTINCT key FROM ops"
            " WHERE tbl = ? AND key NOT IN (SELECT key FROM visited WHERE tbl = ?)"
            " ORDER BY key",
            (table, table),
        )
        for (key,) in rows.fetchall():
            yield _unkey(table, key)

    def named(self, table: str) -> int:
        """Rows the chain recorded (documents: also those whose first entry named their digest)."""
        if table == "documents":
            query = (
                "SELECT count(*) FROM (SELECT key FROM ops WHERE tbl = 'documents' AND kind = 'new'"
                " UNION SELECT key FROM first_seen WHERE digest IS NOT NULL)"
            )
            return int(self._db.execute(query).fetchone()[0])
        query = "SELECT count(DISTINCT key) FROM ops WHERE tbl = ? AND kind = 'new'"
        return int(self._db.execute(query, (table,)).fetchone()[0])

    def named_but_absent(self) -> Iterator[tuple[str, int]]:
        """Documents whose first entry recorded their digest, not stored and with no row operation
        (rows predating the coverage; covered ones are reported with their insert)."""
        rows = self._db.execute(
            "SELECT key, seq FROM first_seen WHERE digest IS NOT NULL"
            " AND key NOT IN (SELECT key FROM visited WHERE tbl = 'documents')"
            " AND key NOT IN (SELECT key FROM ops WHERE tbl = 'documents' AND kind = 'new') ORDER BY seq"
        )
        for key, seq in rows.fetchall():
            yield key, seq

    def predates(self, table: str, key: Any, first: tuple[int, str | None] | None) -> bool:
        """Whether a stored row without an insert operation predates the coverage."""
        if table in ("documents", "deadlines"):
            return self.coverage_start is None or (first is not None and first[0] < self.coverage_start)
        start = self.first_key.get(table)
        return start is None or key < start


_COMPACT = {"n": "new", "s": "set", "i": "inc", "f": "first"}


def _expand(op: list[Any]) -> dict[str, Any] | None:
    """A compact operation (an array, :mod:`broker.hub.ledger.coverage`) in the object form;
    None when it is malformed."""
    if len(op) < 4 or op[0] not in _COMPACT or op[1] not in COVERED:
        return None
    code, table, key, body = op[0], op[1], op[2], op[3]
    if code == "n":
        columns = COVERED[table]
        if not isinstance(body, list) or len(body) != len(columns):
            return None
        return {"t": table, "k": key, "new": _times_as_text(table, dict(zip(columns, body)))}
    if not isinstance(body, dict):
        return None
    if code == "f":
        if len(op) != 5:
            return None
        return {"t": table, "k": key, "first": _times_as_text(table, body), "if": op[4]}
    if code == "s":
        body = _times_as_text(table, body)
    return {"t": table, "k": key, _COMPACT[code]: body} if len(op) == 4 else None


def _times_as_text(table: str, values: dict[str, Any]) -> dict[str, Any]:
    """The compact encoding's integer times as the canonical text the stored rows are compared in
    (anything else, say a text where an integer belongs, stays as it is and differs)."""
    times = TIMES[table]
    for column, value in values.items():
        if column in times and type(value) is int:
            try:
                values[column] = time_text(value)
            except OverflowError:
                pass
    return values


def _replay(ops: Iterable[tuple[int, dict[str, Any]]]) -> _Expected | None:
    """Apply one row's operations in order."""
    row: _Expected | None = None
    for seq, op in ops:
        if "new" in op:
            row = _Expected(dict(op["new"]), seq, inserted=True, existed=True)
            continue
        if row is None:
            row = _Expected({}, seq, inserted=False, existed=False)
        for kind in ("set", "inc", "first"):
            if isinstance(op.get(kind), dict):
                row.changed_at.update(dict.fromkeys(op[kind], seq))
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
    return row


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
    replay.finish()
    for line in replay.malformed:
        add(line)
    counts = RowCounts()
    for table in COVERED:
        _compare_table(conn, table, replay, add, counts)
        counts.named[table] = replay.named(table)
    for document_id, seq in replay.named_but_absent():
        add(
            f"seq {seq}: document {document_id}: named in the chain with its digest but not stored "
            "(evidence row deleted)"
        )
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
    stored = predating = 0
    columns = [t.c[key_column]] + [t.c[c] for c in COVERED[table] if c in t.c and c != key_column]
    if table in ("documents", "rejections"):
        columns.append(t.c.raw)
    visited: list[Any] = []
    for row in conn.execute(select(*columns).order_by(t.c[key_column])):
        stored += 1
        m = row._mapping
        key = m[key_column]
        visited.append(key)
        if len(visited) >= _BATCH:
            replay.visit(table, visited)
            visited = []
        actual = covered_values(table, m)
        expected = replay.expected(table, key)
        first = replay.first(key) if table in ("documents", "deadlines") else None
        if expected is not None:
            where = f"seq {expected.seq}: "
        elif table == "documents" and first is not None:
            where = f"seq {first[0]}: "
        else:
            where = ""
        if table == "documents":
            _check_document_bytes(key, m, first, add)
        elif table == "rejections" and m["raw"] is not None and sha256_hex(m["raw"]) != m["digest"]:
            add(f"rejection {key}: the stored bytes do not match the stored digest")
        if expected is None or not expected.inserted:
            if replay.predates(table, key, first):
                predating += 1
            else:
                add(f"{where}{_describe(table, key, actual)}: stored, but the chain never recorded this row")
                continue
        if expected is None:
            continue
        for column, value in expected.values.items():
            if value is _UNKNOWN or column not in actual:
                continue
            if actual[column] != value:
                add(
                    f"{where}{_describe(table, key, actual)}: {column} is {_show(actual[column])} in the "
                    f"ledger but {_show(value)} in the chain (seq {expected.recorded_at(column)}): "
                    "edited outside the ledger"
                )
    replay.visit(table, visited)
    for key in replay.unvisited(table):
        expected = replay.expected(table, key)
        if expected is None or not expected.existed:
            continue  # a conditional change that hit no row (e.g. pickup of a document without a clock)
        add(
            f"seq {expected.seq}: {_describe(table, key, expected.values)}: recorded in the chain but not "
            f"stored (evidence row deleted)"
        )
    counts.stored[table], counts.predating[table] = stored, predating


def _check_document_bytes(
    key: str, m: Any, first: tuple[int, str | None] | None, add: Callable[[str], None]
) -> None:
    """The stored bytes against the stored digest and size, and the digest against the one the
    document's first entry recorded (this anchored the evidence before the row coverage)."""
    where = f"seq {first[0]}: document {key}" if first else f"document {key}"
    raw = m["raw"]
    if sha256_hex(raw) != m["digest"] or len(raw) != m["size"]:
        add(f"{where}: the stored bytes do not match the stored digest and size (evidence edited)")
    if first is None:
        add(f"{where}: no audit entry records this document")
    elif first[1] is None:
        add(f"{where}: its first audit entry records no digest")
    elif first[1] != m["digest"]:
        add(f"{where}: the stored digest differs from the one recorded in the chain")


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
