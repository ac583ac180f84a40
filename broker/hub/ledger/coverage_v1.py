"""The first encoding of the row operations (objects with long keys, 2026-12-07), as it was
written: ledgers from then carry it, and ``ledger verify`` reads it next to the compact one
(:mod:`broker.hub.ledger.coverage`). Kept so that the tests can write such a ledger and the bench
(bench/ledger_coverage.py) can measure what the compact encoding saved, in the same run.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from broker.hub.ledger.coverage import RowLog, canonical, covered_values


class ObjectRowLog(RowLog):
    """A :class:`RowLog` writing each operation as an object (``{"t", "k", "new"|...}``)."""

    def insert(self, table: str, key: Any, values: Mapping[str, Any], anchor: str | None) -> None:
        op = {"t": table, "k": key, "new": covered_values(table, values)}
        self._add(table, key, anchor, op)  # type: ignore[arg-type]

    def set(self, table: str, key: Any, values: Mapping[str, Any], anchor: str | None) -> None:
        body = {c: canonical(v) for c, v in values.items()}
        self._add(table, key, anchor, {"t": table, "k": key, "set": body})  # type: ignore[arg-type]

    def increment(self, table: str, key: Any, column: str, anchor: str | None) -> None:
        self._add(table, key, anchor, {"t": table, "k": key, "inc": {column: 1}})  # type: ignore[arg-type]

    def set_first(
        self, table: str, key: Any, column: str, value: Any, condition: Mapping[str, Any], anchor: str | None
    ) -> None:
        op = {"t": table, "k": key, "first": {column: canonical(value)}, "if": dict(condition)}
        self._add(table, key, anchor, op)  # type: ignore[arg-type]
