"""A period (期间) as the deadline policy writes it: ``3 working days``, ``24 hours``,
``15 calendar days`` or ``at once, max 24 hours``.

How each kind ends, given the time the clock started (receipt of the document):

- ``N working days`` (个工作日): the last day is the N-th working day after the day of receipt
  (the day of receipt does not count; :meth:`WorkingCalendar.add_working_days`); the period ends
  at the policy's end of day on that last day.
- ``N calendar days`` (日/天): the last day is the date of receipt plus N days, moved to the next
  working day if it is not one (:meth:`WorkingCalendar.add_calendar_days`); ends at end of day.
- ``N hours`` (小时): exactly N hours after receipt, holidays included. Civil Code art. 201 counts
  an hour period from the time it starts (自法律规定或者当事人约定的时间开始计算); this is also
  the stricter reading of the Civil Procedure Law rule that the starting hour does not count.
- ``at once`` (立即 / 马上办理): the seeds set no number, so the policy states the maximum in
  hours after which the hub treats the item as late; otherwise like ``N hours``.

End of day: a working-day or calendar-day period ends at the policy's ``day_end`` of its last
day, by default 24:00 (Civil Code art. 203: 期间的最后一日的截止时间为二十四时). The network
takes answers at any hour, so the unit's office hours do not cut the day short; a deployment
that wants 17:30 sets ``day_end: "17:30"``.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from broker.deadlines.calendar import CHINA_TZ, WorkingCalendar, local_date
from broker.errors import LiandongError


class TermKind(StrEnum):
    WORKING_DAYS = "working days"
    CALENDAR_DAYS = "calendar days"
    HOURS = "hours"
    AT_ONCE = "at once"


_PATTERNS: tuple[tuple[re.Pattern[str], TermKind], ...] = (
    (re.compile(r"^(\d+)\s+working\s+days?$"), TermKind.WORKING_DAYS),
    (re.compile(r"^(\d+)\s+(?:calendar\s+)?days?$"), TermKind.CALENDAR_DAYS),
    (re.compile(r"^(\d+)\s+hours?$"), TermKind.HOURS),
    (re.compile(r"^at\s+once,?\s+max(?:imum)?\s+(\d+)\s+hours?$"), TermKind.AT_ONCE),
)


class Term(BaseModel):
    """A period: its kind and its length (for ``at once``, the maximum in hours)."""

    model_config = ConfigDict(frozen=True)

    kind: TermKind
    amount: int = Field(ge=0)

    @model_validator(mode="before")
    @classmethod
    def _parse(cls, value: Any) -> Any:
        # One-line rules in config/deadlines.yaml write terms as plain English strings.
        if not isinstance(value, str):
            return value
        text = " ".join(value.strip().lower().split())
        for pattern, kind in _PATTERNS:
            m = pattern.match(text)
            if m:
                return {"kind": kind, "amount": int(m.group(1))}
        raise ValueError(
            f"cannot read the period {value!r}: write 'N working days', 'N calendar days', "
            "'N hours' or 'at once, max N hours'"
        )

    @model_validator(mode="after")
    def _at_once_has_a_maximum(self) -> "Term":
        if self.kind is TermKind.AT_ONCE and self.amount == 0:
            raise ValueError("'at once' needs a maximum of at least one hour")
        return self

    def __str__(self) -> str:
        if self.kind is TermKind.AT_ONCE:
            return f"at once, max {self.amount} hours"
        return f"{self.amount} {self.kind.value}"

    @property
    def day_based(self) -> bool:
        """Whether the period ends at the end of a day (days) rather than at an instant (hours)."""
        return self.kind in (TermKind.WORKING_DAYS, TermKind.CALENDAR_DAYS)

    def last_day(self, start: datetime, calendar: WorkingCalendar) -> date | None:
        """The last day of a day-based period (``None`` for hour periods)."""
        if self.kind is TermKind.WORKING_DAYS:
            return calendar.add_working_days(start, self.amount)
        if self.kind is TermKind.CALENDAR_DAYS:
            return calendar.add_calendar_days(start, self.amount)
        return None

    def compare_day(self, day: date, start: datetime, calendar: WorkingCalendar) -> int:
        """-1, 0 or 1 as ``day`` is before, on or after the last day of this (day-based) period.

        Looks the calendar up only as far as ``day`` where it can, so that checking a stated
        deadline in December against a 30-working-day maximum does not need next year's
        holidays before they are published; only when ``day`` itself lies in an uncovered
        year is the period's last day computed (and ``CAL_YEAR_UNKNOWN`` raised if that is
        uncovered too).
        """
        start_day = local_date(start)
        if self.kind is TermKind.CALENDAR_DAYS:
            nominal = start_day + timedelta(days=self.amount)
            if day < nominal:
                return -1
            probe = nominal
            while probe < day:  # the last day is the first working day on or after `nominal`
                if calendar.is_working_day(probe):
                    return 1
                probe += timedelta(days=1)
            return 0 if calendar.is_working_day(day) else -1
        if self.kind is not TermKind.WORKING_DAYS:
            raise ValueError(f"{self} is not a day-based period")
        try:
            count = calendar.working_days_between(start_day, day)
        except LiandongError:
            count = None  # `day` is beyond the calendar: compare with the last day itself
        if count is not None and count != self.amount:
            return -1 if count < self.amount else 1
        last = calendar.add_working_days(start_day, self.amount)
        return (day > last) - (day < last)

    def end(self, start: datetime, calendar: WorkingCalendar, day_end: timedelta) -> datetime:
        """The instant the period ends (aware, +08:00): see the module docstring."""
        if start.tzinfo is None or start.utcoffset() is None:
            raise ValueError(f"naive datetime {start.isoformat()}: pass an aware datetime (+08:00)")
        last = self.last_day(start, calendar)
        if last is None:
            return start.astimezone(CHINA_TZ) + timedelta(hours=self.amount)
        return end_of_day(last, day_end)


def end_of_day(day: date, day_end: timedelta) -> datetime:
    """``day`` at ``day_end`` after midnight, China time (24:00 is midnight of the next day)."""
    return datetime.combine(day, time(0), CHINA_TZ) + day_end


def parse_day_end(text: str) -> timedelta:
    """``"HH:MM"`` with ``00:00 < HH:MM <= 24:00`` as the time after midnight a day ends."""
    m = re.fullmatch(r"(\d{1,2}):(\d{2})", text.strip())
    if not m or int(m.group(2)) >= 60:
        raise ValueError(f"day_end {text!r} is not HH:MM")
    span = timedelta(hours=int(m.group(1)), minutes=int(m.group(2)))
    if not timedelta(0) < span <= timedelta(hours=24):
        raise ValueError(f"day_end {text!r} must be after 00:00 and no later than 24:00")
    return span
