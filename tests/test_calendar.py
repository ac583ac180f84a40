"""The working-day calendar against the official arrangements, written out by hand.

Expected dates come from the State Council General Office notices, not from the package:
- 2025 (国务院办公厅关于2025年部分节假日安排的通知): Spring Festival 1.28–2.4 off, make-up
  working days Sun 1.26 and Sat 2.8; Labour Day 5.1–5.5, Sun 4.27 worked; National Day and
  Mid-Autumn 10.1–10.8 off, Sun 9.28 and Sat 10.11 worked; Qingming 4.4–4.6.
- 2026 (国务院办公厅关于2026年部分节假日安排的通知): New Year 1.1–1.3, Sun 1.4 worked; Spring
  Festival 2.15–2.23 off, Sat 2.14 and Sat 2.28 worked; National Day 10.1–10.7, Sun 9.20 and
  Sat 10.10 worked.
So these tests check ``chinesecalendar`` as well as our counting.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from broker.deadlines.calendar import CHINA_TZ, PACKAGE_YEARS, WorkingCalendar
from broker.errors import LiandongError

D = date


def at(y: int, m: int, d: int, h: int = 10, mi: int = 0) -> datetime:
    return datetime(y, m, d, h, mi, tzinfo=CHINA_TZ)


@pytest.fixture(scope="module")
def cal() -> WorkingCalendar:
    """The package alone: independent of whatever config/holidays.yaml holds."""
    return WorkingCalendar()


# --- single days ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (D(2025, 1, 26), True),  # Sunday, make-up working day before the Spring Festival
        (D(2025, 1, 27), True),  # Monday, last day before the break
        (D(2025, 1, 28), False),  # 除夕
        (D(2025, 2, 4), False),  # last day of the break (Tuesday)
        (D(2025, 2, 8), True),  # Saturday, make-up working day
        (D(2025, 3, 1), False),  # an ordinary Saturday
        (D(2025, 4, 4), False),  # Qingming, a Friday
        (D(2025, 9, 28), True),  # Sunday, make-up before National Day
        (D(2025, 10, 8), False),  # Wednesday, last day of the 2025 National Day break
        (D(2025, 10, 11), True),  # Saturday, make-up after National Day
        (D(2026, 1, 4), True),  # Sunday, make-up after New Year
        (D(2026, 2, 14), True),  # Saturday, make-up before the Spring Festival
        (D(2026, 2, 23), False),  # Monday, last day of the 2026 break
        (D(2026, 2, 28), True),  # Saturday, make-up after the Spring Festival
        (D(2026, 10, 7), False),  # Wednesday, last day of National Day
        (D(2026, 10, 10), True),  # Saturday, make-up after National Day
    ],
)
def test_official_days(cal: WorkingCalendar, day: date, working: bool) -> None:
    assert cal.is_working_day(day) is working


def test_datetime_is_judged_by_its_china_date(cal: WorkingCalendar) -> None:
    # 2025-01-27 20:00 UTC is 2025-01-28 04:00 in China: already the Spring Festival.
    assert cal.is_working_day(datetime(2025, 1, 27, 20, 0, tzinfo=timezone.utc)) is False
    assert cal.is_working_day(datetime(2025, 1, 27, 15, 0, tzinfo=timezone.utc)) is True


def test_naive_datetime_is_refused(cal: WorkingCalendar) -> None:
    with pytest.raises(ValueError, match="naive"):
        cal.is_working_day(datetime(2025, 1, 27, 10, 0))


def test_next_working_day_skips_the_break_and_uses_make_up_days(cal: WorkingCalendar) -> None:
    assert cal.next_working_day(D(2025, 1, 27)) == D(2025, 2, 5)
    assert cal.next_working_day(D(2025, 1, 24)) == D(2025, 1, 26)  # Friday -> make-up Sunday
    assert cal.next_working_day(D(2026, 9, 30)) == D(2026, 10, 8)
    assert cal.on_or_after(D(2026, 10, 3)) == D(2026, 10, 8)
    assert cal.on_or_after(D(2026, 10, 8)) == D(2026, 10, 8)


# --- working-day periods ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("received", "n", "last_day"),
    [
        # received the working day before the 2025 Spring Festival break: 2.5, 2.6, 2.7
        (at(2025, 1, 27, 16), 3, D(2025, 2, 7)),
        # Friday before the make-up Sunday 1.26: 1.26, 1.27, then 2.5
        (at(2025, 1, 24), 3, D(2025, 2, 5)),
        # Friday before the make-up Saturday 2.8: 2.8 counts, then 2.10, 2.11
        (at(2025, 2, 7), 3, D(2025, 2, 11)),
        # 2026: Friday 2.13 before make-up Saturday 2.14: 2.14, then 2.24, 2.25
        (at(2026, 2, 13), 3, D(2026, 2, 25)),
        # National Day 2025: Friday 9.26 before make-up Sunday 9.28: 9.28, 9.29, 9.30
        (at(2025, 9, 26), 3, D(2025, 9, 30)),
        # the day before National Day 2025: 10.9, 10.10, make-up Saturday 10.11
        (at(2025, 9, 30), 3, D(2025, 10, 11)),
        # National Day 2026: Friday 9.18 before make-up Sunday 9.20: 9.20, 9.21, 9.22
        (at(2026, 9, 18), 3, D(2026, 9, 22)),
        # the day before National Day 2026: 10.8, 10.9, make-up Saturday 10.10
        (at(2026, 9, 30), 3, D(2026, 10, 10)),
        # 15 working days across National Day 2025:
        # 9.28 9.29 9.30 | 10.9 10.10 10.11 10.13 10.14 10.15 10.16 10.17 10.20 10.21 10.22 10.23
        (at(2025, 9, 26), 15, D(2025, 10, 23)),
        # 15 working days across the 2026 Spring Festival:
        # 2.11 2.12 2.13 2.14 | 2.24 2.25 2.26 2.27 2.28 3.2 3.3 3.4 3.5 3.6 3.9
        (at(2026, 2, 10), 15, D(2026, 3, 9)),
        # received on a holiday: the day does not count, counting starts after the break
        (at(2025, 10, 3), 1, D(2025, 10, 9)),
        # received one minute after midnight: the day of receipt still does not count
        (at(2025, 3, 3, 0, 1), 1, D(2025, 3, 4)),
    ],
)
def test_add_working_days(cal: WorkingCalendar, received: datetime, n: int, last_day: date) -> None:
    assert cal.add_working_days(received, n) == last_day


def test_zero_and_negative_periods(cal: WorkingCalendar) -> None:
    assert cal.add_working_days(D(2025, 1, 28), 0) == D(2025, 1, 28)
    with pytest.raises(ValueError):
        cal.add_working_days(D(2025, 1, 28), -1)


def test_calendar_days_roll_past_a_holiday(cal: WorkingCalendar) -> None:
    # 9.25 + 10 days = 10.5, inside the National Day break: the period ends on 10.9
    assert cal.add_calendar_days(at(2025, 9, 25), 10) == D(2025, 10, 9)
    # an ordinary weekday needs no roll
    assert cal.add_calendar_days(at(2025, 3, 3), 10) == D(2025, 3, 13)
    # ending on an ordinary Sunday moves to Monday
    assert cal.add_calendar_days(at(2025, 3, 3), 20) == D(2025, 3, 24)


def test_working_days_between(cal: WorkingCalendar) -> None:
    assert cal.working_days_between(D(2025, 1, 24), D(2025, 2, 5)) == 3
    assert cal.working_days_between(D(2025, 2, 5), D(2025, 1, 24)) == -3
    assert cal.working_days_between(D(2025, 1, 28), D(2025, 2, 4)) == 0  # the whole break
    assert cal.working_days_between(D(2025, 3, 3), D(2025, 3, 3)) == 0
    start = at(2025, 9, 26)
    for n in range(0, 25):
        assert cal.working_days_between(start, cal.add_working_days(start, n)) == n


# --- working hours --------------------------------------------------------------------------


def test_working_hours_over_a_weekend(cal: WorkingCalendar) -> None:
    # Friday 16:00 to Monday 10:00: one hour on Friday, one on Monday
    assert cal.working_hours_between(at(2025, 3, 7, 16), at(2025, 3, 10, 10)) == pytest.approx(2.0)


def test_working_hours_across_the_spring_festival(cal: WorkingCalendar) -> None:
    # 1.27 16:00 to 2.5 10:00: the eight days off contribute nothing
    assert cal.working_hours_between(at(2025, 1, 27, 16), at(2025, 2, 5, 10)) == pytest.approx(2.0)
    # the make-up Sunday 1.26 is a full office day, the Saturday before it is not
    assert cal.working_hours_between(at(2025, 1, 25, 0), at(2025, 1, 26, 23)) == pytest.approx(8.0)


def test_working_hours_window_and_time_zones(cal: WorkingCalendar) -> None:
    assert cal.working_hours_between(at(2025, 3, 3, 10, 30), at(2025, 3, 3, 11)) == pytest.approx(0.5)
    assert cal.working_hours_between(at(2025, 3, 3, 0), at(2025, 3, 3, 23, 59), day_start=8.5, day_end=17.5) == pytest.approx(9.0)
    utc = timezone.utc
    # 01:00–09:00 UTC is 09:00–17:00 in China
    assert cal.working_hours_between(datetime(2025, 3, 3, 1, tzinfo=utc), datetime(2025, 3, 3, 9, tzinfo=utc)) == pytest.approx(8.0)
    with pytest.raises(ValueError):
        cal.working_hours_between(at(2025, 3, 3, 11), at(2025, 3, 3, 10))
    with pytest.raises(ValueError):
        cal.working_hours_between(at(2025, 3, 3, 9), at(2025, 3, 3, 10), day_start=18, day_end=9)


# --- coverage and the override file ---------------------------------------------------------


def test_uncovered_year_is_an_error_naming_the_year(cal: WorkingCalendar) -> None:
    assert PACKAGE_YEARS.stop - 1 == 2026, "chinesecalendar now covers a later year: revisit the 2027 tests"
    with pytest.raises(LiandongError) as info:
        cal.is_working_day(D(2027, 1, 4))
    assert info.value.codes == ["CAL_YEAR_UNKNOWN"]
    p = info.value.problems[0]
    assert "2027" in p.message_zh and "2027" in p.message_en
    assert "holidays.yaml" in p.message_en and "国务院办公厅" in p.message_zh


def test_period_running_into_an_uncovered_year_is_an_error(cal: WorkingCalendar) -> None:
    # 2026-12-30 + 3 working days needs 2027-01-01: never guessed
    with pytest.raises(LiandongError) as info:
        cal.add_working_days(D(2026, 12, 30), 3)
    assert info.value.codes == ["CAL_YEAR_UNKNOWN"]
    with pytest.raises(LiandongError):
        cal.is_working_day(D(2003, 12, 31))


_TEST_OVERRIDES = """\
# TEST DATA ONLY: a fictitious 2027, not the official arrangement.
2027:
  source: "test fixture"
  holidays: [2027-01-01]
  workdays: [2027-01-09]
2026:
  holidays: [2026-03-02]       # an ordinary Monday, declared off
  workdays: [2026-03-07]       # an ordinary Saturday, declared worked
"""


def test_override_file_adds_a_year_and_overrides_dates(tmp_path: Path) -> None:
    path = tmp_path / "holidays.yaml"
    path.write_text(_TEST_OVERRIDES, encoding="utf-8")
    cal = WorkingCalendar.from_file(path)
    assert cal.covers(2027) and not cal.covers(2028)
    assert cal.is_working_day(D(2027, 1, 1)) is False  # listed holiday (a Friday)
    assert cal.is_working_day(D(2027, 1, 2)) is False  # Saturday, not listed
    assert cal.is_working_day(D(2027, 1, 4)) is True  # Monday, not listed
    assert cal.is_working_day(D(2027, 1, 9)) is True  # listed make-up Saturday
    # 2026-12-31 (Thu) + 3: 1.1 off, weekend, then 1.4 1.5 1.6
    assert cal.add_working_days(D(2026, 12, 31), 3) == D(2027, 1, 6)
    # overrides win over the package for the dates they list, and only for those
    assert cal.is_working_day(D(2026, 3, 2)) is False
    assert cal.is_working_day(D(2026, 3, 7)) is True
    assert cal.is_working_day(D(2026, 3, 3)) is True
    assert cal.is_working_day(D(2026, 2, 16)) is False  # still the package's Spring Festival
    with pytest.raises(LiandongError) as info:
        cal.is_working_day(D(2028, 1, 3))
    assert "2027" in info.value.problems[0].message_en  # tells what is covered


@pytest.mark.parametrize(
    "text",
    [
        "2027:\n  holidays: [2027-01-01]\n  workdays: [2027-01-01]\n",  # both lists
        "2027:\n  holidays: [2028-01-03]\n",  # date under the wrong year
        "2027:\n  holiday: [2027-01-01]\n",  # misspelt key
        "2027:\n  holidays: [not-a-date]\n",
    ],
)
def test_invalid_override_file(tmp_path: Path, text: str) -> None:
    path = tmp_path / "holidays.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(LiandongError) as info:
        WorkingCalendar.from_file(path)
    assert set(info.value.codes) == {"CAL_OVERRIDE_INVALID"}
    assert str(path) in str(info.value)


def test_comment_only_override_file_adds_nothing(tmp_path: Path) -> None:
    path = tmp_path / "holidays.yaml"
    path.write_text("# nothing yet\n", encoding="utf-8")
    cal = WorkingCalendar.from_file(path)
    assert not cal.covers(2027)
    assert cal.is_working_day(D(2025, 2, 8)) is True


def test_shipped_override_file_loads_and_keeps_the_official_days() -> None:
    cal = WorkingCalendar.default()
    assert cal.add_working_days(at(2025, 1, 27), 3) == D(2025, 2, 7)
    assert cal.add_working_days(at(2026, 9, 30), 3) == D(2026, 10, 10)


def test_result_is_a_plain_date(cal: WorkingCalendar) -> None:
    result = cal.add_working_days(datetime(2025, 3, 3, 23, 30, tzinfo=CHINA_TZ) - timedelta(hours=1), 1)
    assert type(result) is date and result == D(2025, 3, 4)


def test_answers_are_remembered_per_calendar_and_errors_are_not() -> None:
    cal = WorkingCalendar()
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        return 42

    assert cal.remembered("k", compute) == 42 and cal.remembered("k", compute) == 42
    assert len(calls) == 1
    assert WorkingCalendar().remembered("k", compute) == 42 and len(calls) == 2  # another calendar

    def fail() -> int:
        calls.append(1)
        raise LiandongError.of("CAL_YEAR_UNKNOWN", year=1900, package_years="", override_file="", override_years="")

    for _ in range(2):
        with pytest.raises(LiandongError):
            cal.remembered("bad", fail)
    assert len(calls) == 4
    # the remembered period is the one counted: the same answer for every hour of a day
    day = datetime(2025, 9, 30, 8, tzinfo=CHINA_TZ)
    assert {cal.add_working_days(day + timedelta(hours=h), 7) for h in range(15)} == {date(2025, 10, 16)}  # 10-11 a make-up day
