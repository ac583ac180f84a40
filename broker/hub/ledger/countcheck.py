"""Checking the stored ``rejection_counts`` against the ``rejections_counted`` entries of the chain.

The counts of payloads refused without a record each (:mod:`broker.hub.ledger.rejections_compact`)
are evidence too: how many payloads a sender sent that the hub refused. Once a minute is over,
each hub chains its totals per sender as one ``rejections_counted`` entry
(:mod:`broker.hub.flood_guard`; client: the sender; detail: ``minute``, ``excess``, ``garbage``,
``bytes``, ``codes``). Several hubs may count the same sender and minute, and one hub may chain a
minute in two entries (a payload that arrived just before the minute ended, counted after the
tick that closed it), so the entries of a (sender, minute) are summed. :func:`compare_counts`
then compares, per sender and minute, both ways:

- the stored ``excess`` row's count, the ``garbage`` row's count, the bytes of both and the
  garbage codes against the chained sums (a row edited, or one of the two rows deleted);
- a (sender, minute) the chain counted with no row stored (rows deleted);
- stored rows the chain never counted (rows slipped in, or their entry never written).

The one legitimate exception is a minute still open when the ledger was read or copied: its rows
are written at every step, its entry only once it is over. Verify cannot know the time of a copy,
so it takes the newest ``at`` of the chain as the latest time the copy is known to include: a
minute that ended less than :data:`OPEN_GRACE` before it is *open*, listed in
``ChainReport.open_counts`` and not reported as a problem. Rows of any older minute must be
chained. (So a forger could slip in rows only for the last minute of the chain, and they are
still listed as not chained.)
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import Connection, select

from broker.hub.ledger.coverage import canonical
from broker.hub.ledger.schema import rejection_counts

COUNTED = "rejections_counted"  # the action of a minute's totals (broker.hub.flood_guard)
MINUTE = timedelta(minutes=1)
# How long after a minute ends its entry may still be missing from a consistent copy: the hub
# closes a minute at its next tick (once a second) and commits the entry with that step.
OPEN_GRACE = timedelta(seconds=60)
_FIELDS = ("excess", "garbage", "bytes")


@dataclass
class _Totals:
    """One sender's refused payloads in one minute, summed."""

    excess: int = 0
    garbage: int = 0
    bytes: int = 0
    codes: Counter[str] = field(default_factory=Counter)
    seqs: list[int] = field(default_factory=list)  # the entries (empty: stored rows)
    reasons: set[str] = field(default_factory=set)  # the stored rows' reasons

    def shown(self) -> dict[str, Any]:
        return {
            "excess": self.excess,
            "garbage": self.garbage,
            "bytes": self.bytes,
            "codes": dict(sorted((k, v) for k, v in self.codes.items() if v)),
        }


class CountReplay:
    """The ``rejections_counted`` entries of the chain, summed per (sender, minute); fed every
    entry in seq order. Memory: one small record per sender and minute of a flood."""

    def __init__(self) -> None:
        self.chained: dict[tuple[str, str], _Totals] = {}
        self.newest: datetime | None = None  # the newest ``at`` of the chain
        self.malformed: list[str] = []

    def entry(self, seq: int, at: str, action: str, client: str, detail: str) -> None:
        when = _parse_time(at)
        if when is not None and (self.newest is None or when > self.newest):
            self.newest = when
        if action != COUNTED:
            return
        totals = _parse_totals(detail)
        if totals is None:
            self.malformed.append(f"seq {seq}: a {COUNTED} entry the verifier does not understand")
            return
        minute, excess, garbage, size, codes = totals
        summed = self.chained.setdefault((client, minute), _Totals())
        summed.excess += excess
        summed.garbage += garbage
        summed.bytes += size
        summed.codes.update(codes)
        summed.seqs.append(seq)


def _parse_time(text: str) -> datetime | None:
    try:
        value = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)


def _parse_totals(detail: str) -> tuple[str, int, int, int, dict[str, int]] | None:
    try:
        d = json.loads(detail)
        minute = _parse_time(d["minute"])
        numbers = [d[k] for k in _FIELDS]
        codes = d.get("codes", {})
    except (ValueError, KeyError, TypeError):
        return None
    good = all(type(n) is int for n in numbers) and isinstance(codes, dict)
    if minute is None or not good or not all(type(n) is int for n in codes.values()):
        return None
    return (canonical(minute), numbers[0], numbers[1], numbers[2], codes)


@dataclass
class CountResult:
    """Sender-minutes stored and chained, and the open ones (stored, not chained yet)."""

    stored: int = 0
    named: int = 0
    open: list[str] = field(default_factory=list)


def compare_counts(conn: Connection, replay: CountReplay, add: Callable[[str], None]) -> CountResult:
    """Compare the stored rows with the chained totals, per (sender, minute); report through ``add``."""
    for line in replay.malformed:
        add(line)
    stored: dict[tuple[str, str], _Totals] = {}
    c = rejection_counts.c
    query = select(c.client_unit, c.minute, c.reason, c.count, c.bytes, c.codes)
    query = query.order_by(c.minute, c.client_unit)
    for row in conn.execute(query):
        totals = stored.setdefault((row.client_unit, canonical(row.minute)), _Totals())
        totals.reasons.add(row.reason)
        if row.reason == "excess":
            totals.excess += row.count
        else:
            totals.garbage += row.count
        totals.bytes += row.bytes
        totals.codes.update(row.codes if isinstance(row.codes, dict) else {"?": 1})
    result = CountResult(stored=len(stored), named=len(replay.chained))
    for key in sorted(stored.keys() | replay.chained.keys(), key=lambda k: (k[1], k[0])):
        _compare_one(key, stored.get(key), replay.chained.get(key), replay.newest, add, result)
    return result


def _compare_one(
    key: tuple[str, str],
    have: _Totals | None,
    chained: _Totals | None,
    newest: datetime | None,
    add: Callable[[str], None],
    result: CountResult,
) -> None:
    sender, minute = key
    what = f"rejection counts of {sender} in the minute {minute}"
    if chained is None:
        assert have is not None
        if newest is None or datetime.fromisoformat(minute) + MINUTE + OPEN_GRACE > newest:
            result.open.append(f"{what}: the minute was still open (not chained yet)")
        else:
            add(f"{what}: stored, but the chain never counted them (no {COUNTED} entry)")
        return
    where = f"seq {chained.seqs[0]}: {what}"
    entries = ", ".join(str(s) for s in chained.seqs)
    if have is None:
        add(f"{where}: counted in the chain but not stored (evidence rows deleted)")
        return
    for reason in ("excess", "garbage"):
        if getattr(chained, reason) and reason not in have.reasons:
            add(f"{where}: the {reason} row is counted in the chain but not stored (evidence row deleted)")
    actual, expected = have.shown(), chained.shown()
    for column, value in expected.items():
        if actual[column] != value:
            add(
                f"{where}: {column} is {_show(actual[column])} in the ledger but {_show(value)} in the "
                f"chain (seq {entries}): edited outside the ledger"
            )


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)
