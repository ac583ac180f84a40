"""Measures on one object in delivery order: :class:`RotatingQueue`.

Seizures of a property or a vehicle, freezes of a holding: the measure delivered first takes
effect; later ones wait behind it as rotating measures (轮候查封/轮候冻结) in delivery order, and
when the one in effect ends, the first one waiting takes effect at once (001 第十二条; 002 四.7(3);
003 bank rules 10). Each agency keeps such measures in a table of its own; this is the queue
logic they share, over any table with an ordered id, a state and an ``effective_at`` column::

    SEIZURES = RotatingQueue("seizures", "property_id=?")

    state = "rotating" if SEIZURES.live(db, property_id) else "effective"   # a new seizure
    promoted = SEIZURES.promote_next(db, property_id, at=now)               # the effective one ended
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class RotatingQueue:
    """The queue of one object's measures in ``table``; ``where`` selects the object's rows
    (its ``?`` placeholders take the key given to each method)."""

    table: str
    where: str
    id_column: str = "id"
    state_column: str = "state"
    effective: str = "effective"
    rotating: str = "rotating"
    effective_at_column: str = "effective_at"

    def __post_init__(self) -> None:
        for name in (self.table, self.id_column, self.state_column, self.effective_at_column):
            if not name.isidentifier():
                raise ValueError(f"bad SQL name {name!r}")

    def live(self, db: sqlite3.Connection, *key: Any) -> list[int]:
        """Ids of the measure in effect and those waiting behind it, in queue order."""
        rows = db.execute(
            f"SELECT {self.id_column} FROM {self.table} WHERE ({self.where})"
            f" AND {self.state_column} IN (?,?) ORDER BY {self.id_column}",
            (*key, self.effective, self.rotating),
        ).fetchall()
        return [int(r[0]) for r in rows]

    def promote_next(self, db: sqlite3.Connection, *key: Any, at: datetime) -> int | None:
        """The first rotating measure takes effect at ``at``; its id, or None when none waits.
        Call it in the transaction that ended the measure in effect."""
        row = db.execute(
            f"SELECT {self.id_column} FROM {self.table} WHERE ({self.where}) AND {self.state_column}=?"
            f" ORDER BY {self.id_column} LIMIT 1",
            (*key, self.rotating),
        ).fetchone()
        if row is None:
            return None
        promoted = int(row[0])
        db.execute(
            f"UPDATE {self.table} SET {self.state_column}=?, {self.effective_at_column}=? WHERE {self.id_column}=?",
            (self.effective, at.isoformat(), promoted),
        )
        return promoted
