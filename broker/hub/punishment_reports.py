"""Quarterly punishment reports (惩戒执行情况反馈, 003 联合惩戒备忘录 二): who owes one, by when,
and who has not sent it.

Each punishing unit — a registered unit of a kind in
:data:`~broker.documents.catalogue.PUNISHING_KINDS` that receives dishonest listings — reports
what it did each quarter (``PunishmentReport`` with ``Year`` and ``Quarter``). The clock of a
quarter starts on its last day (which does not count, like a day of receipt) and runs for the
deadline policy's ``PunishmentQuarterEnded`` line (``config/deadlines.yaml``). The hub's
supervisor reminds a unit, and escalates to the linkage office, once its quarter's deadline has
passed without a report (:meth:`broker.hub.deadlines.DeadlineSupervisor._punishment_reports`);
the office report lists the units that have not reported (:func:`missing_reports`).

Everything but :func:`reported_units` is a pure function, so it is tested without a ledger.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import TYPE_CHECKING
from uuid import NAMESPACE_URL, UUID, uuid5

from sqlalchemy import select

from broker.deadlines.calendar import CHINA_TZ, WorkingCalendar, local_date
from broker.deadlines.policy import DeadlinePolicy
from broker.documents.catalogue import PUNISHING_KINDS
from broker.documents.xmlmodel import NS
from broker.hub.ledger.schema import documents
from broker.parsing.hardened import parse

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from broker.registry import Registry, UnitEntry

EVENT = "PunishmentQuarterEnded"
"""The deadline policy's key for a quarter's report (:data:`broker.deadlines.keys.EVENTS`)."""

_LD = "{" + NS + "}"


@dataclass(frozen=True, order=True)
class Quarter:
    year: int
    quarter: int

    @classmethod
    def of(cls, day: date) -> Quarter:
        return cls(day.year, (day.month - 1) // 3 + 1)

    @property
    def label(self) -> str:
        return f"{self.year}Q{self.quarter}"

    @property
    def ends_at(self) -> datetime:
        """00:00 China time of the next quarter's first day: when the report's clock starts."""
        year, month = (self.year + 1, 1) if self.quarter == 4 else (self.year, 3 * self.quarter + 1)
        return datetime.combine(date(year, month, 1), time(0), CHINA_TZ)

    def previous(self) -> Quarter:
        return Quarter(self.year - 1, 4) if self.quarter == 1 else Quarter(self.year, self.quarter - 1)


@dataclass(frozen=True)
class MissingReport:
    """A punishing unit that had not reported a quarter by its deadline."""

    unit: str
    name: str
    kind: str
    quarter: Quarter
    due_at: datetime


def punishing_units(registry: Registry) -> list[UnitEntry]:
    """The units that owe a quarterly report (see the module docstring)."""
    return [u for u in registry.units if u.kind in PUNISHING_KINDS and "DishonestListing" in u.accepted]


def due_at(policy: DeadlinePolicy, calendar: WorkingCalendar, quarter: Quarter, unit_kind: str) -> datetime:
    """When ``quarter``'s report of a unit of ``unit_kind`` falls due. The clock starts on the
    quarter's last day, which, like a day of receipt, does not count: the first day of the next
    quarter is the period's first day."""
    return policy.due(EVENT, [], unit_kind, quarter.ends_at - _TICK, None, calendar).due_at


def quarters_between(start: datetime, end: datetime) -> Iterator[Quarter]:
    """The quarters that end in ``(start, end]``, oldest first."""
    q = Quarter.of(local_date(end))
    found = []
    while q.ends_at > start:
        if q.ends_at <= end:
            found.append(q)
        q = q.previous()
    return reversed(found)


def regarding(unit: str, quarter: Quarter) -> UUID:
    """A stable id for "the report of ``unit`` for ``quarter``", which no document has: the
    ``Regarding`` of its reminder and escalation, the same on every hub."""
    return uuid5(NAMESPACE_URL, f"urn:liandong:punishment-report:{unit}:{quarter.label}")


def reported_units(engine: Engine, quarter: Quarter) -> set[str]:
    """Units whose ``PunishmentReport`` for ``quarter`` the hub accepted (read from the ledger)."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(documents.c.sender, documents.c.raw).where(
                documents.c.doc_type == "PunishmentReport", documents.c.origin != "hub"
            )
        ).all()
    found = set()
    for sender, raw in rows:
        body = parse(raw).find(f"{_LD}PunishmentReport")
        if body is None:
            continue
        year, q = body.findtext(f"{_LD}Year"), body.findtext(f"{_LD}Quarter")
        if year and q and (int(year), int(q)) == (quarter.year, quarter.quarter):
            found.add(sender)
    return found


def missing(
    units: Iterable[UnitEntry],
    reported: set[str],
    quarter: Quarter,
    policy: DeadlinePolicy,
    calendar: WorkingCalendar,
    as_of: datetime,
) -> list[MissingReport]:
    """The units of ``units`` without a report for ``quarter`` whose deadline passed by ``as_of``."""
    out = []
    for unit in units:
        due = due_at(policy, calendar, quarter, unit.kind.value)
        if due <= as_of and unit.code not in reported:
            out.append(MissingReport(unit.code, unit.name, unit.kind.value, quarter, due))
    return out


def missing_reports(
    engine: Engine,
    registry: Registry,
    *,
    since: datetime,
    until: datetime,
    as_of: datetime,
    calendar: WorkingCalendar,
    policy: DeadlinePolicy | None = None,
) -> list[MissingReport]:
    """The office's list: for each quarter ending in ``[since, until)``, the punishing units that
    had not reported it when its deadline passed (as of ``as_of``)."""
    policy = policy or DeadlinePolicy.default()
    units = punishing_units(registry)
    out: list[MissingReport] = []
    for quarter in quarters_between(since - _TICK, until - _TICK):
        out += missing(units, reported_units(engine, quarter), quarter, policy, calendar, as_of)
    return out


_TICK = datetime.resolution
