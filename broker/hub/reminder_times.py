"""When a reminder is due and how a time is written in a notice (docs/supervision.md)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from broker.deadlines.calendar import CHINA_TZ, WorkingCalendar
from broker.errors import LiandongError


def office_time_before(
    due: datetime, hours: float, calendar: WorkingCalendar, *, day_start: float = 9, day_end: float = 17
) -> datetime:
    """The instant at which ``hours`` of office time (``day_start``–``day_end`` of working days,
    China time; the measure of :meth:`WorkingCalendar.working_hours_between`) are left before ``due``."""
    key = ("office time before", due, hours, day_start, day_end)
    return calendar.remembered(key, lambda: _office_time_before(due, hours, calendar, day_start, day_end))


def _office_time_before(due: datetime, hours: float, calendar: WorkingCalendar, day_start: float, day_end: float) -> datetime:
    remaining = timedelta(hours=hours)
    local = due.astimezone(CHINA_TZ)
    if remaining <= timedelta(0):
        return local
    day = local.date()
    for _ in range(3660):  # ten years of days: far beyond any period of the policy
        if calendar.is_working_day(day):
            midnight = datetime.combine(day, time(0), CHINA_TZ)
            lo = midnight + timedelta(hours=day_start)
            hi = min(midnight + timedelta(hours=day_end), local)
            if hi > lo:
                if hi - lo >= remaining:
                    return hi - remaining
                remaining -= hi - lo
        day -= timedelta(days=1)
    return datetime.combine(day, time(0), CHINA_TZ)


def reminder_time(
    served: datetime,
    due: datetime,
    calendar: WorkingCalendar,
    *,
    before_working_hours: float,
    after_fraction: float,
) -> datetime:
    """When to send the reminder: when ``before_working_hours`` of office time are left, but not
    before ``after_fraction`` of the period has run (so an "at once, max 24 hours" notice served
    in the evening is not reminded at the moment of service). Never after ``due``."""
    floor = served + (due - served) * after_fraction
    try:
        point = office_time_before(due, before_working_hours, calendar)
    except LiandongError:  # a year the calendar does not know: the share of the period decides
        point = floor
    return min(max(floor, point), due).astimezone(CHINA_TZ)


def display(at: datetime) -> str:
    """``2026-02-25 24:00`` for the end of a day, ``2026-02-14 10:00`` otherwise (China time)."""
    local = at.astimezone(CHINA_TZ)
    if local.time() == time(0):
        return f"{(local - timedelta(days=1)):%Y-%m-%d} 24:00"
    return f"{local:%Y-%m-%d %H:%M}"


def duration_text(span: timedelta) -> str:
    """``2 天 3 小时 5 分钟``: a span as a notice states it."""
    minutes = int(span.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = [f"{days} 天" if days else "", f"{hours} 小时" if hours else "", f"{minutes} 分钟"]
    return " ".join(p for p in parts if p)
