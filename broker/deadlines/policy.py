"""The deadline policy: which period applies to which document, item and unit.

The table lives in ``config/deadlines.yaml`` (one commented line per rule, each citing its seed
article; DOMAIN.md "Deadlines"). :meth:`DeadlinePolicy.default` loads it.

Matching. A rule is keyed by the document type (or an event of :data:`keys.EVENTS`), optionally
one item kind (measure element, query kind, release kind, entrusted item kind, feedback outcome),
optionally the kind of the unit that must act, and optionally ``urgent`` (003 事项委托 art. 6).
For each item the most specific matching rule wins:

    urgent  >  item + unit kind  >  item  >  document type + unit kind  >  document type

A document with several items gets, for each item, its own deadline; **the earliest of them is
the document's deadline**, because one receipt answers the whole notice (003 bank rules 8) and
the hub must remind before the first item falls due.

A deadline stated in the document (``Header/Deadline``) wins when it is *allowed*:

- not shorter than the rule's ``stated_min``, which by default is the rule's own period: a court
  may give a unit more time than the seeds, never less, since the seeds fix what the unit owes
  (e.g. 3 working days, 002 四.7(1)) and a hub that escalated earlier would report a unit as late
  while it is within its legal time. Where the seeds set a range for the stated deadline itself,
  the rule says so (事项委托 art. 6: 不少于十天，不超过二十天);
- not longer than the rule's ``stated_max``, by default the policy-wide ``stated_max``, so that a
  mistyped year cannot switch off reminders for a decade.

Day-based periods end at the policy's ``day_end`` of their last day, 24:00 by default (Civil Code
art. 203; see :mod:`broker.deadlines.terms`), "17:30" for office hours.

Bounds of day-based periods are compared by date (China time), those of hour periods by instant.
A stated deadline whose date is not a working day is first moved to the end of the next working
day when the rule is day-based (期间届满的最后一日是法定休假日的，以休假日后的第一日为届满日期).
The check is made per item, against the rule of that item, before the earliest is taken.
A stated deadline that is not allowed is replaced by the policy's, and :attr:`Deadline.stated_problem`
says why (``DEADLINE_STATED_TOO_SHORT`` / ``DEADLINE_STATED_TOO_LONG``).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Iterable

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from broker.deadlines.calendar import CHINA_TZ, CONFIG_DIR, WorkingCalendar
from broker.deadlines.keys import check_key
from broker.deadlines.terms import Term, end_of_day, parse_day_end
from broker.documents.catalogue import UnitKind
from broker.errors import LiandongError, Problem, problem
from broker.yamlfile import load_yaml_model

DEFAULT_POLICY_FILE = CONFIG_DIR / "deadlines.yaml"


class DeadlineRule(BaseModel):
    """One line of the policy table."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    doc_type: str = Field(alias="doc")
    item: str | None = None
    unit_kind: UnitKind | None = Field(default=None, alias="unit")
    urgent: bool = False
    term: Term = Field(alias="within")
    stated_min: Term | None = None
    stated_max: Term | None = None
    source: str = Field(min_length=1)
    """The seed article, e.g. ``002 四.7(1)``; where the seeds are silent, says so and why."""

    @model_validator(mode="after")
    def _key_can_match(self) -> "DeadlineRule":
        check_key(self.doc_type, self.item, self.unit_kind)
        return self

    @property
    def key(self) -> tuple[str, str | None, UnitKind | None, bool]:
        return (self.doc_type, self.item, self.unit_kind, self.urgent)

    @property
    def specificity(self) -> tuple[bool, bool, bool]:
        """Ordering of the module docstring: urgent, then item, then unit kind."""
        return (self.urgent, self.item is not None, self.unit_kind is not None)

    def matches(self, doc_type: str, item: str | None, unit_kind: UnitKind | None, urgent: bool) -> bool:
        return (
            self.doc_type == doc_type
            and (self.item is None or self.item == item)
            and (self.unit_kind is None or self.unit_kind == unit_kind)
            and (not self.urgent or urgent)
        )

    def describe(self) -> str:
        unit = self.unit_kind.value if self.unit_kind else None
        parts = [self.doc_type, self.item, unit, "urgent" if self.urgent else None]
        return f"{'/'.join(p for p in parts if p)}: {self.term} ({self.source})"


class Deadline(BaseModel):
    """When an item falls due and why.

    ``due_at`` is the end of the period, aware in +08:00; an answer is on time if it arrives at
    or before ``due_at`` (for a day-based period at 24:00 that is 00:00 of the following day).
    """

    model_config = ConfigDict(frozen=True)

    due_at: datetime
    last_day: date
    """The China date on which the period ends (for 24:00, the day before ``due_at``'s date)."""
    rule: DeadlineRule
    item: str | None
    """The item kind whose deadline is the earliest (``None`` when the document rule applied)."""
    from_document: bool
    """Whether the deadline stated in the document was used."""
    stated_problem: Problem | None = None

    @property
    def source(self) -> str:
        return self.rule.source

    def is_overdue(self, at: datetime) -> bool:
        return at > self.due_at


class DeadlinePolicy(BaseModel):
    """The table of rules and the two settings every rule shares."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    day_end: str = "24:00"
    """When a day-based period ends on its last day (HH:MM, 24:00 allowed; Civil Code art. 203)."""
    stated_max: Term = Field(default_factory=lambda: Term.model_validate("30 working days"))
    """Longest deadline a document may state where its rule sets no ``stated_max``."""
    rules: list[DeadlineRule] = Field(min_length=1)

    @field_validator("day_end")
    @classmethod
    def _day_end_readable(cls, value: str) -> str:
        parse_day_end(value)
        return value

    @model_validator(mode="after")
    def _no_duplicate_keys(self) -> "DeadlinePolicy":
        # Two rules with the same key would make the result depend on file order.
        seen: dict[tuple, int] = {}
        for i, rule in enumerate(self.rules):
            if rule.key in seen:
                raise ValueError(f"rules {seen[rule.key]} and {i} have the same key: {rule.describe()}")
            seen[rule.key] = i
        return self

    @property
    def _day_end(self) -> timedelta:
        return parse_day_end(self.day_end)

    # --- loading --------------------------------------------------------------------------------

    @classmethod
    def from_file(cls, path: str | Path) -> "DeadlinePolicy":
        return load_yaml_model(path, cls, code="DEADLINE_POLICY_INVALID")

    @classmethod
    def default(cls) -> "DeadlinePolicy":
        """The shipped table, ``config/deadlines.yaml``."""
        return cls.from_file(DEFAULT_POLICY_FILE)

    # --- matching -------------------------------------------------------------------------------

    def rule_for(
        self,
        doc_type: str,
        item: str | None = None,
        unit_kind: UnitKind | str | None = None,
        *,
        urgent: bool = False,
    ) -> DeadlineRule | None:
        """The most specific rule for one item (or for the document when ``item`` is ``None``)."""
        kind = UnitKind(unit_kind) if unit_kind is not None else None
        candidates = [r for r in self.rules if r.matches(doc_type, item, kind, urgent)]
        return max(candidates, key=lambda r: r.specificity, default=None)

    # --- due dates ------------------------------------------------------------------------------

    def due(
        self,
        doc_type: str,
        measure_or_query_kinds: Iterable[str],
        unit_kind: UnitKind | str | None,
        received_at: datetime,
        stated_deadline: datetime | None = None,
        calendar: WorkingCalendar | None = None,
        *,
        urgent: bool = False,
    ) -> Deadline:
        """The deadline of a document received at ``received_at`` by a unit of ``unit_kind``.

        ``measure_or_query_kinds`` are the item kinds in the document (measure element names,
        query kinds, ...); with none, the document-type rule applies. Raises ``DEADLINE_NO_RULE``
        when nothing matches, and ``CAL_YEAR_UNKNOWN`` when the period runs into a year the
        calendar does not cover.
        """
        if received_at.tzinfo is None or received_at.utcoffset() is None:
            raise ValueError(f"received_at must be aware, got {received_at.isoformat()}")
        calendar = calendar or _default_calendar()
        items: list[str | None] = list(dict.fromkeys(measure_or_query_kinds)) or [None]
        results: list[Deadline] = []
        for item in items:
            rule = self.rule_for(doc_type, item, unit_kind, urgent=urgent)
            if rule is not None:
                results.append(self._due_for(rule, item, received_at, stated_deadline, calendar))
        if not results:
            raise LiandongError.of(
                "DEADLINE_NO_RULE",
                doc_type=doc_type,
                items=", ".join(i for i in items if i) or "—",
                unit_kind=str(unit_kind or "—"),
            )
        # Earliest wins; on a tie the more specific rule explains it better.
        return min(results, key=lambda d: (d.due_at, tuple(not s for s in d.rule.specificity)))

    def _due_for(
        self,
        rule: DeadlineRule,
        item: str | None,
        received_at: datetime,
        stated: datetime | None,
        calendar: WorkingCalendar,
    ) -> Deadline:
        policy_due = rule.term.end(received_at, calendar, self._day_end)
        policy_last = rule.term.last_day(received_at, calendar) or last_day_of(policy_due)
        policy = Deadline(due_at=policy_due, last_day=policy_last, rule=rule, item=item, from_document=False)
        if stated is None:
            return policy
        if stated.tzinfo is None or stated.utcoffset() is None:
            raise ValueError(f"the stated deadline must be aware, got {stated.isoformat()}")
        stated = stated.astimezone(CHINA_TZ)
        # Check the maximum on the raw date first: rolling only makes a date later, and a
        # mistyped year (2052) must be reported as too long, not as an unknown calendar year.
        issue = self._check_stated(stated, rule, received_at, calendar, policy_due, only_max=True)
        effective = stated
        if issue is None:
            effective = self._effective_stated(stated, rule, calendar)
            issue = self._check_stated(effective, rule, received_at, calendar, policy_due)
        if issue is not None:
            return policy.model_copy(update={"stated_problem": issue})
        last = last_day_of(effective)
        return Deadline(due_at=effective, last_day=last, rule=rule, item=item, from_document=True)

    def _effective_stated(self, stated: datetime, rule: DeadlineRule, calendar: WorkingCalendar) -> datetime:
        """For day-based rules, a stated day that is not a working day moves to the next working day."""
        day = last_day_of(stated)
        if rule.term.day_based and not calendar.is_working_day(day):
            return end_of_day(calendar.next_working_day(day), self._day_end)
        return stated

    def _check_stated(
        self,
        effective: datetime,
        rule: DeadlineRule,
        received_at: datetime,
        calendar: WorkingCalendar,
        policy_due: datetime,
        *,
        only_max: bool = False,
    ) -> Problem | None:
        low = rule.stated_min or rule.term
        high = rule.stated_max or self.stated_max
        if not only_max and _before(effective, low, received_at, calendar, self._day_end):
            code, bound = "DEADLINE_STATED_TOO_SHORT", low
        elif _after(effective, high, received_at, calendar, self._day_end):
            code, bound = "DEADLINE_STATED_TOO_LONG", high
        else:
            return None
        return problem(
            code,
            stated=effective.isoformat(),
            bound=str(bound),
            source=rule.source,
            due=policy_due.isoformat(),
        )


def last_day_of(at: datetime) -> date:
    """The China date a deadline instant belongs to; 00:00 exactly is 24:00 of the day before."""
    local = at.astimezone(CHINA_TZ)
    if local.time() == time(0):
        return local.date() - timedelta(days=1)
    return local.date()


def _before(at: datetime, term: Term, start: datetime, calendar: WorkingCalendar, day_end: timedelta) -> bool:
    """Whether ``at`` ends before the period ``term`` from ``start`` does (by date for day periods)."""
    if term.day_based:
        return term.compare_day(last_day_of(at), start, calendar) < 0
    return at < term.end(start, calendar, day_end)


def _after(at: datetime, term: Term, start: datetime, calendar: WorkingCalendar, day_end: timedelta) -> bool:
    """Whether ``at`` ends after the period ``term`` from ``start`` does (by date for day periods)."""
    if term.day_based:
        return term.compare_day(last_day_of(at), start, calendar) > 0
    return at > term.end(start, calendar, day_end)


@lru_cache(maxsize=1)
def _default_calendar() -> WorkingCalendar:
    return WorkingCalendar.default()
