"""The official working-day calendar (工作日) that every deadline is counted in.

DOMAIN.md "Deadlines": the seeds count nearly every period in working days (工作日, 002 四.6,
四.7, 四.13, 四.14, 四.17; 003 失信规定 arts. 9–10), and working days follow the official holiday
arrangement, make-up working weekends (调休上班) included. The State Council General Office
publishes each year's arrangement in the autumn (国务院办公厅关于某年部分节假日安排的通知).

Sources, in order of precedence:

1. an override file (``config/holidays.yaml``) for the dates it lists: it carries years the
   installed ``chinesecalendar`` does not cover yet, and corrects a date if ever needed;
2. the ``chinesecalendar`` package (import name ``chinese_calendar``) for the years it covers;
3. for a year that only the override file covers, Monday to Friday are working days unless
   the file lists them as holidays, and a weekend day is a working day only if listed.

A date in a year that neither source covers raises ``CAL_YEAR_UNKNOWN``: a guessed calendar
would silently move deadlines, which is worse than a clear error naming the year and the fix.

Time zone: the calendar is China's. Datetimes must be aware and are converted to +08:00 before
their date is taken (China has not observed daylight saving time since 1991, so a fixed offset
is exact and needs no tz database).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Hashable, Mapping, TypeVar

import chinese_calendar
from chinese_calendar import constants as _cc
from pydantic import BaseModel, ConfigDict, Field, RootModel, model_validator

from broker.errors import LiandongError
from broker.resources import data_dir
from broker.yamlfile import load_yaml_model

CHINA_TZ = timezone(timedelta(hours=8), "CST")
"""China Standard Time, +08:00; every due datetime is expressed in it."""

CONFIG_DIR = data_dir("config")
"""The ``config/`` directory: the checkout's or the installed copy (:mod:`broker.resources`)."""

DEFAULT_OVERRIDE_FILE = CONFIG_DIR / "holidays.yaml"

# The years the installed package has data for, computed the way the package itself checks
# (chinese_calendar.utils._validate_date), so "covered" means exactly "the package will answer".
PACKAGE_YEARS = range(min(_cc.holidays).year, max(_cc.holidays).year + 1)

_ONE_DAY = timedelta(days=1)
_T = TypeVar("_T")
# Remembered answers per calendar (a period's last day, a reminder's office time): documents
# served on the same day ask the same questions; the bound only keeps a long-running hub small.
_ANSWERS_MAX = 4096


class YearOverride(BaseModel):
    """One year of the override file: the State Council arrangement for that year."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str | None = None
    """The notice it comes from, e.g. 国办发明电〔2026〕N号 and its publication date."""
    holidays: frozenset[date] = Field(default_factory=frozenset)
    """Days off (放假), typically the weekdays of a holiday period; weekends may be listed too."""
    workdays: frozenset[date] = Field(default_factory=frozenset)
    """Make-up working days (调休上班), typically weekends."""

    @model_validator(mode="after")
    def _disjoint(self) -> "YearOverride":
        both = self.holidays & self.workdays
        if both:
            listed = sorted(d.isoformat() for d in both)
            raise ValueError(f"dates listed both as holidays and as workdays: {listed}")
        return self


class HolidayOverrides(RootModel[dict[int, YearOverride]]):
    """The whole override file: ``{year: {source, holidays, workdays}}``."""

    root: dict[int, YearOverride] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _dates_in_their_year(self) -> "HolidayOverrides":
        # A date under the wrong year key is almost always a typo (2027-01-01 under 2026:).
        for year, entry in self.root.items():
            stray = sorted(d.isoformat() for d in entry.holidays | entry.workdays if d.year != year)
            if stray:
                raise ValueError(f"year {year} lists dates of another year: {stray}")
        return self


def load_overrides(path: str | Path) -> dict[int, YearOverride]:
    """Read an override file; an empty or comment-only file is valid and adds nothing."""
    return load_yaml_model(path, HolidayOverrides, code="CAL_OVERRIDE_INVALID").root


def local_date(d: date | datetime) -> date:
    """The calendar date of ``d`` in China; a naive datetime is refused (it has no place in time)."""
    if isinstance(d, datetime):
        if d.tzinfo is None or d.utcoffset() is None:
            raise ValueError(f"naive datetime {d.isoformat()}: pass an aware datetime (+08:00)")
        return d.astimezone(CHINA_TZ).date()
    return d


def _aware(d: datetime) -> datetime:
    if d.tzinfo is None or d.utcoffset() is None:
        raise ValueError(f"naive datetime {d.isoformat()}: pass an aware datetime (+08:00)")
    return d.astimezone(CHINA_TZ)


class WorkingCalendar:
    """Working days from ``chinesecalendar`` plus overrides; see the module docstring."""

    def __init__(
        self,
        overrides: Mapping[int, YearOverride] | None = None,
        *,
        override_file: str | Path | None = None,
    ) -> None:
        self._overrides: dict[int, YearOverride] = dict(overrides or {})
        # Only used to tell the operator which file to edit when a year is missing.
        self._override_file = str(override_file) if override_file is not None else "config/holidays.yaml"
        self._cache: dict[date, bool] = {}
        self._answers: dict[Hashable, Any] = {}

    @classmethod
    def from_file(cls, path: str | Path) -> "WorkingCalendar":
        """The package calendar plus the override file at ``path``."""
        return cls(load_overrides(path), override_file=path)

    @classmethod
    def default(cls) -> "WorkingCalendar":
        """The package calendar plus the shipped ``config/holidays.yaml`` (if present)."""
        if DEFAULT_OVERRIDE_FILE.exists():
            return cls.from_file(DEFAULT_OVERRIDE_FILE)
        return cls(override_file=DEFAULT_OVERRIDE_FILE)

    # --- coverage -------------------------------------------------------------------------------

    def covers(self, year: int) -> bool:
        """A year is covered if the package has it or the override file has an entry for it."""
        return year in PACKAGE_YEARS or year in self._overrides

    def _require(self, year: int) -> None:
        if not self.covers(year):
            raise LiandongError.of(
                "CAL_YEAR_UNKNOWN",
                year=year,
                package_years=f"{PACKAGE_YEARS.start}–{PACKAGE_YEARS.stop - 1}",
                override_file=self._override_file,
                override_years=", ".join(str(y) for y in sorted(self._overrides)) or "—",
            )

    # --- single days ----------------------------------------------------------------------------

    def is_working_day(self, d: date | datetime) -> bool:
        """Whether ``d`` (its China date) is an official working day."""
        day = local_date(d)
        cached = self._cache.get(day)
        if cached is None:
            cached = self._cache[day] = self._compute(day)
        return cached

    def remembered(self, key: Hashable, compute: Callable[[], _T]) -> _T:
        """``compute()``, computed once per ``key`` for this calendar: its days never change, so
        whatever is computed from them alone can be kept (an error is raised again, not kept)."""
        try:
            return self._answers[key]  # type: ignore[no-any-return]
        except KeyError:
            pass
        value = compute()
        if len(self._answers) >= _ANSWERS_MAX:
            self._answers.clear()
        self._answers[key] = value
        return value

    def _compute(self, day: date) -> bool:
        self._require(day.year)
        entry = self._overrides.get(day.year)
        if entry is not None:
            if day in entry.holidays:
                return False
            if day in entry.workdays:
                return True
        if day.year in PACKAGE_YEARS:
            return bool(chinese_calendar.is_workday(day))
        return day.weekday() < 5  # an override-only year: the ordinary week, except listed dates

    def next_working_day(self, d: date | datetime) -> date:
        """The first working day strictly after ``d``."""
        day = local_date(d) + _ONE_DAY
        while not self.is_working_day(day):
            day += _ONE_DAY
        return day

    def on_or_after(self, d: date | datetime) -> date:
        """``d`` itself if it is a working day, else the next working day.

        This is the rule for a period whose last day is a holiday: 期间届满的最后一日是法定休假日的，
        以法定休假日后的第一日为期间届满的日期 (Civil Procedure Law, 期间; Civil Code art. 203).
        """
        day = local_date(d)
        return day if self.is_working_day(day) else self.next_working_day(day)

    # --- periods --------------------------------------------------------------------------------

    def add_working_days(self, start: date | datetime, n: int) -> date:
        """The last day of a period of ``n`` working days starting at ``start``.

        Convention (期间开始的日不计算在内, Civil Procedure Law art. 85 in its 2021 text; Civil
        Code art. 201): the day of receipt never counts, whether or not it is a working day and
        whatever the hour. Counting starts the next day and only working days count, so the
        result is the ``n``-th working day strictly after the date of ``start``. Because only
        working days are counted the last day is always a working day, which already satisfies
        the rule that a period ending on a holiday ends on the next working day.

        ``n == 0`` returns the date of ``start`` itself.
        """
        if n < 0:
            raise ValueError(f"a period cannot have {n} working days")
        first = local_date(start)
        return self.remembered(("working days", first, n), lambda: self._count_working_days(first, n))

    def _count_working_days(self, day: date, n: int) -> date:
        counted = 0
        while counted < n:
            day += _ONE_DAY
            if self.is_working_day(day):
                counted += 1
        return day

    def add_calendar_days(self, start: date | datetime, n: int) -> date:
        """The last day of a period of ``n`` calendar days (日/天) starting at ``start``.

        The day of receipt does not count (so the last day is ``start + n`` days), and a last
        day that is not a working day moves to the next working day (Civil Code art. 203;
        Civil Procedure Law, 期间). Used for 003 事项委托 art. 6 (10–20 days) and 失信规定 art. 12.
        """
        if n < 0:
            raise ValueError(f"a period cannot have {n} days")
        return self.on_or_after(local_date(start) + timedelta(days=n))

    def working_days_between(self, a: date | datetime, b: date | datetime) -> int:
        """How many working days lie in ``(a, b]`` (by China date); negative if ``b`` is before ``a``.

        The same convention as :meth:`add_working_days`, so that
        ``working_days_between(a, add_working_days(a, n)) == n`` for every ``n >= 0``.
        """
        first, last = local_date(a), local_date(b)
        if last < first:
            return -self.working_days_between(b, a)
        count, day = 0, first + _ONE_DAY
        while day <= last:
            count += self.is_working_day(day)
            day += _ONE_DAY
        return count

    def working_hours_between(
        self, a: datetime, b: datetime, *, day_start: float = 9, day_end: float = 17
    ) -> float:
        """Hours of office time between the instants ``a`` and ``b`` (for response-time statistics).

        Definition: the length of the intersection of ``[a, b]`` with the office window
        ``[day_start, day_end)`` (hours, China time) of every working day, in hours. Non-working
        days contribute nothing; there is no lunch break. Example: Friday 16:00 to the next
        Monday 10:00, both working days, is 1 + 1 = 2 working hours. ``b`` before ``a`` is an
        error: a reply cannot precede its document.
        """
        if not 0 <= day_start < day_end <= 24:
            raise ValueError(f"office window {day_start}–{day_end} is not within 0–24 hours")
        start, end = _aware(a), _aware(b)
        if end < start:
            raise ValueError(f"{b.isoformat()} is before {a.isoformat()}")
        total = timedelta()
        day = start.date()
        while day <= end.date():
            if self.is_working_day(day):
                midnight = datetime.combine(day, time(0), CHINA_TZ)
                lo = max(start, midnight + timedelta(hours=day_start))
                hi = min(end, midnight + timedelta(hours=day_end))
                if hi > lo:
                    total += hi - lo
            day += _ONE_DAY
        return total.total_seconds() / 3600
