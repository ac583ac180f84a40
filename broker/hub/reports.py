"""Supervision statistics (issue 5, "Statistics"): per unit and per period, from the ledger.

The linkage office tracks overdue items and each member unit's cooperation (配合度): 003
evaluation index 五(六) (兼顾协助单位的配合度: the assisting units' 配合程度 is to be surveyed and
evaluated separately from the courts' own indicators); 004 art. 9 (the office has each member
unit's 协助人民法院执行的情况 included in the comprehensive-governance assessment), art. 36 (that
assessment is to be strict) and art. 37 (a unit that does not assist, or assists passively —
不执行、消极协助执行、不协助执行 — is reported to the joint meeting). This module turns the
``deadlines`` table (one row per document a unit must answer) into the numbers of that
supervision. Everything here is a pure function of :class:`DeadlineRow` values except
:func:`load_rows`, so the measures are tested without a database. docs/reports.md explains
them for readers of the report.

Definitions (all of them relative to a period ``[since, until)`` and an as-of instant ``as_of``,
the moment the ledger is read; ``as_of`` defaults to now and makes a report reproducible):

Cohort
    A unit's documents of the period are the deadline rows whose time of service (``served_at``,
    the hub's timestamp of service, which starts the clock) lies in ``[since, until)`` and is not
    after ``as_of``. Documents are counted where they were served, whenever they were answered.

Outcome (exactly one per document, so ``received = on_time + late + open_overdue + pending +
closed``)
    - *on time*: answered (``answered_at``, the arrival of the execution receipt) no later than
      ``as_of``, and no later than the current due time ``due_at``. An extension notice moves
      ``due_at`` (with its reason recorded, 002 四.7, 四.13, 四.14, 四.17: a unit that cannot meet a
      deadline must tell the court why), so an answer within an extended deadline is on time;
    - *late*: answered no later than ``as_of``, after ``due_at``;
    - *open overdue*: not answered by ``as_of``, not closed, and ``due_at < as_of``;
    - *pending* (open, not yet due): not answered by ``as_of``, not closed, ``due_at >= as_of``;
    - *closed*: the row is ``closed`` (no answer is expected any more, e.g. the case was completed
      or the request withdrawn) and had no answer by ``as_of``. The table keeps no closing time,
      so ``closed`` is read as it stands when the report runs.

    An answer that arrives after ``as_of`` is treated as not there yet (the report as of that
    moment), which is what makes a past report reproducible.

Overdue
    ``late + open_overdue``: answered late, or still open past due.

Response time
    For each document answered by ``as_of``: the office time between ``served_at`` and
    ``answered_at`` in working hours (:meth:`WorkingCalendar.working_hours_between`: 09:00–17:00
    China time on official working days, make-up working weekends included, holidays excluded).
    The median and the 90th percentile use linear interpolation between order statistics
    (Hyndman–Fan type 7, the default of numpy and of spreadsheet ``PERCENTILE``): for ``n`` sorted
    values the ``q``-quantile is at position ``(n - 1) * q``. Late answers count too.

Extensions, review suggestions
    The sums of the rows' counters (extension notices received, review suggestions — a review
    suggestion does not stop the clock) over the cohort.

Cooperation rate (配合度)
    ``on_time / (on_time + late + open_overdue)``: the share of the documents whose outcome is
    decided — answered, or past due — that were answered on time. Documents open and not yet due
    (pending) are left out: the unit still has time, and counting them either way would reward or
    punish it for the report's timing. Closed documents without an answer are left out: no answer
    was due. The rate is undefined (``None``, shown as "—") when nothing is decided. It measures
    timeliness only, the "消极协助" of 004 art. 37 made countable; it says nothing about the
    quality of an answer. Run a period's report after the last deadline of its documents has
    passed to get final numbers (``pending`` then is 0).

Totals pool every document of the period (the percentiles are over all response times, not an
average of the units' figures). The weekly trend groups the same cohort by the China-time week
(Monday to Sunday) of service; a week cut by the period's ends holds only the period's part.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import Enum
from typing import TYPE_CHECKING

from sqlalchemy import select

from broker.deadlines.calendar import CHINA_TZ, WorkingCalendar, local_date
from broker.hub.entrustment_stats import CourtEntrustments
from broker.hub.ledger.records import require_aware
from broker.hub.punishment_reports import MissingReport
from broker.hub.ledger.schema import deadlines
from broker.hub.report_labels import NOT_SUPERVISED_KINDS

if TYPE_CHECKING:
    from broker.deadlines.policy import DeadlinePolicy
    from broker.hub.ledger import Ledger
    from broker.registry import Registry


class Outcome(str, Enum):
    """Where a document stands as of the report's time (see the module docstring)."""

    ON_TIME = "on_time"
    LATE = "late"
    OPEN_OVERDUE = "open_overdue"
    PENDING = "pending"
    CLOSED = "closed"


@dataclass(frozen=True)
class DeadlineRow:
    """The columns of a ``deadlines`` row the report reads (no case numbers, no content)."""

    document_id: str
    doc_type: str
    unit: str
    unit_kind: str
    served_at: datetime
    due_at: datetime
    answered_at: datetime | None = None
    state: str = "open"
    extensions: int = 0
    review_suggestions: int = 0


def classify(row: DeadlineRow, as_of: datetime) -> Outcome:
    """The outcome of one document as of ``as_of``."""
    if row.answered_at is not None and row.answered_at <= as_of:
        return Outcome.ON_TIME if row.answered_at <= row.due_at else Outcome.LATE
    if row.state == "closed":
        return Outcome.CLOSED
    return Outcome.OPEN_OVERDUE if row.due_at < as_of else Outcome.PENDING


def percentile(values: Iterable[float], q: float) -> float | None:
    """The ``q``-th percentile (0–100) by linear interpolation (type 7); None for no values."""
    if not 0 <= q <= 100:
        raise ValueError(f"percentile {q} is not within 0–100")
    xs = sorted(values)
    if not xs:
        return None
    pos = (len(xs) - 1) * q / 100
    lo = math.floor(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (pos - lo) * (xs[hi] - xs[lo])


@dataclass
class Measures:
    """The counts and response times of one group of documents (a unit, a week, all)."""

    received: int = 0
    on_time: int = 0
    late: int = 0
    open_overdue: int = 0
    pending: int = 0
    closed: int = 0
    extensions: int = 0
    review_suggestions: int = 0
    response_hours: list[float] = field(default_factory=list)
    items: list[tuple[Outcome, DeadlineRow]] = field(default_factory=list, repr=False)
    """Every document counted, with its outcome: the drill-down from a count to its documents."""

    def add(self, outcome: Outcome, row: DeadlineRow, hours: float | None) -> None:
        self.items.append((outcome, row))
        self.received += 1
        setattr(self, outcome.value, getattr(self, outcome.value) + 1)
        self.extensions += row.extensions
        self.review_suggestions += row.review_suggestions
        if hours is not None:
            self.response_hours.append(hours)

    def documents(self, count: str) -> list[DeadlineRow]:
        """The documents behind the count named ``count`` (an outcome, ``received``,
        ``overdue``, ``extensions`` or ``review_suggestions``), in the order they were counted."""
        if count == "received":
            return [row for _, row in self.items]
        if count == "overdue":
            return [row for o, row in self.items if o in (Outcome.LATE, Outcome.OPEN_OVERDUE)]
        if count in ("extensions", "review_suggestions"):
            return [row for _, row in self.items if getattr(row, count)]
        outcome = Outcome(count)
        return [row for o, row in self.items if o is outcome]

    @property
    def overdue(self) -> int:
        """Answered late, or still open past due."""
        return self.late + self.open_overdue

    @property
    def decided(self) -> int:
        """Documents answered, or past due: the cooperation rate's denominator."""
        return self.on_time + self.overdue

    @property
    def cooperation_rate(self) -> float | None:
        """配合度: on-time answers / decided documents; None when nothing is decided."""
        return self.on_time / self.decided if self.decided else None

    @property
    def median_hours(self) -> float | None:
        return percentile(self.response_hours, 50)

    @property
    def p90_hours(self) -> float | None:
        return percentile(self.response_hours, 90)


@dataclass
class UnitReport:
    unit: str
    name: str | None
    kind: str
    measures: Measures


@dataclass
class WeekReport:
    start: date
    """The Monday (China time) of the week."""
    first_day: date
    """The week's first day inside the period (the Monday, unless the period starts later)."""
    last_day: date
    """The week's last day inside the period (the Sunday, unless the period ends earlier)."""
    measures: Measures

    @property
    def label(self) -> str:
        """ISO week, e.g. ``2024-W38``."""
        year, week, _ = self.start.isocalendar()
        return f"{year}-W{week:02d}"

    @property
    def days(self) -> str:
        """The days of the period in this week, e.g. ``09-14–09-15``."""
        return f"{self.first_day:%m-%d}–{self.last_day:%m-%d}"


@dataclass
class Report:
    since: datetime
    until: datetime
    as_of: datetime
    units: list[UnitReport]
    totals: Measures
    weeks: list[WeekReport]
    entrustments: list[CourtEntrustments] = field(default_factory=list)
    """Ratings and complaints per entrusted court (003 事项委托 art. 13, :mod:`broker.hub.entrustment_stats`)."""
    punishment_missing: list[MissingReport] = field(default_factory=list)
    """Punishing units that had not sent a quarter's report by its deadline (003 联合惩戒备忘录 二)."""

    @property
    def empty(self) -> bool:
        return self.totals.received == 0

    @property
    def period_label(self) -> str:
        return f"{_day_or_instant(self.since)} – {_day_or_instant(self.until)}"


def _day_or_instant(t: datetime) -> str:
    local = t.astimezone(CHINA_TZ)
    if local.time() == time(0):
        return local.date().isoformat()
    return local.isoformat(timespec="minutes")


def day_start(d: date) -> datetime:
    """00:00 China time of the date ``d``: where a period given as dates begins or ends."""
    return datetime.combine(d, time(0), CHINA_TZ)


def week_start(t: datetime | date) -> date:
    """The Monday (China time) of the week holding ``t``."""
    d = local_date(t)
    return d - timedelta(days=d.weekday())


def build_report(
    rows: Iterable[DeadlineRow],
    *,
    since: datetime,
    until: datetime,
    as_of: datetime,
    calendar: WorkingCalendar,
    names: Mapping[str, str] | None = None,
) -> Report:
    """The report over ``rows`` for the period ``[since, until)`` as of ``as_of``.

    Rows served outside the period, or after ``as_of``, are ignored (the loader already leaves the
    former out), and so are rows of kinds the office does not supervise (courts: a court that
    owes an answer is not an assisting unit, :data:`~broker.hub.report_labels.NOT_SUPERVISED_KINDS`).
    ``names`` maps unit codes to names (the registry); units are listed by code.
    """
    for t, what in ((since, "since"), (until, "until"), (as_of, "as_of")):
        require_aware(t, what)
    if until <= since:
        raise ValueError(
            f"the period is empty: until {until.isoformat()} is not after since {since.isoformat()}"
        )
    names = names or {}
    units: dict[str, UnitReport] = {}
    totals = Measures()
    weeks: dict[date, WeekReport] = {}
    first, last = local_date(since), local_date(until - timedelta(microseconds=1))
    monday = week_start(first)
    while monday <= last:
        sunday = monday + timedelta(days=6)
        weeks[monday] = WeekReport(monday, max(monday, first), min(sunday, last), Measures())
        monday += timedelta(days=7)
    for row in rows:
        if not (since <= row.served_at < until) or row.served_at > as_of:
            continue
        if row.unit_kind in NOT_SUPERVISED_KINDS:  # courts are not assisting units (report_labels)
            continue
        outcome = classify(row, as_of)
        hours = None
        if outcome in (Outcome.ON_TIME, Outcome.LATE):
            assert row.answered_at is not None
            hours = calendar.working_hours_between(row.served_at, row.answered_at)
        unit = units.get(row.unit)
        if unit is None:
            unit = units[row.unit] = UnitReport(row.unit, names.get(row.unit), row.unit_kind, Measures())
        unit.measures.add(outcome, row, hours)
        totals.add(outcome, row, hours)
        weeks[week_start(row.served_at)].measures.add(outcome, row, hours)
    return Report(
        since=since,
        until=until,
        as_of=as_of,
        units=[units[code] for code in sorted(units)],
        totals=totals,
        weeks=[weeks[m] for m in sorted(weeks)],
    )


# --- reading the ledger ---------------------------------------------------------------------------

_COLUMNS = (
    deadlines.c.document_id,
    deadlines.c.doc_type,
    deadlines.c.unit,
    deadlines.c.unit_kind,
    deadlines.c.served_at,
    deadlines.c.due_at,
    deadlines.c.answered_at,
    deadlines.c.state,
    deadlines.c.extensions,
    deadlines.c.review_suggestions,
)


def load_rows(ledger: Ledger, since: datetime, until: datetime) -> list[DeadlineRow]:
    """The deadline rows served in ``[since, until)``, from a :class:`~broker.hub.ledger.Ledger`.

    A plain read: no write lock is taken (the ledger's writers are not held up), and on
    PostgreSQL the one statement sees one snapshot.
    """
    require_aware(since, "since")
    require_aware(until, "until")
    query = (
        select(*_COLUMNS)
        .where(deadlines.c.served_at >= since, deadlines.c.served_at < until)
        .order_by(deadlines.c.served_at, deadlines.c.document_id)
    )
    with ledger.engine.connect() as conn:
        result = conn.execute(query)
        return [
            DeadlineRow(
                document_id=r.document_id,
                doc_type=r.doc_type,
                unit=r.unit,
                unit_kind=r.unit_kind,
                served_at=r.served_at,
                due_at=r.due_at,
                answered_at=r.answered_at,
                state=r.state,
                extensions=r.extensions or 0,
                review_suggestions=r.review_suggestions or 0,
            )
            for r in result
        ]


def report_from_ledger(
    ledger: Ledger,
    *,
    since: datetime,
    until: datetime,
    as_of: datetime,
    calendar: WorkingCalendar,
    names: Mapping[str, str] | None = None,
    registry: Registry | None = None,
    policy: DeadlinePolicy | None = None,
) -> Report:
    """:func:`load_rows` then :func:`build_report`; with the member ``registry``, also the
    entrustments' ratings and complaints and the punishing units' missing quarterly reports
    (their deadlines by ``policy``, the shipped one by default)."""
    from broker.hub import entrustment_stats, punishment_reports

    rows = load_rows(ledger, since, until)
    report = build_report(rows, since=since, until=until, as_of=as_of, calendar=calendar, names=names)
    docs = entrustment_stats.load(ledger.engine, max(until, as_of))
    report.entrustments = entrustment_stats.build(docs, since=since, until=until, as_of=as_of, names=names)
    if registry is not None:
        report.punishment_missing = punishment_reports.missing_reports(
            ledger.engine, registry, since=since, until=until, as_of=as_of, calendar=calendar, policy=policy
        )
    return report
