"""Dates and times read from documents, bounded to years that arithmetic can work with.

``xs:dateTime`` allows any year from 1 to 9999 with offsets of up to ±14:00, and Python's
datetime does too, but adding a timedelta to ``9999-12-31T23:59:59-14:00``, converting it to
UTC or comparing it with a time in another offset raises ``OverflowError`` (issue 11: one such
sealed notice wedged the hub). Every date and time a check computes with is read through this
module first; a value outside :data:`MIN_YEAR`–:data:`MAX_YEAR` is refused with
``DOC_TIME_OUT_OF_RANGE`` before any arithmetic. The bounds leave centuries of room on either
side of any real document, so no offset or deadline computation near them can overflow.
"""

from __future__ import annotations

from datetime import date, datetime

from broker.errors import Problem, problem

MIN_YEAR = 1800  # a company founded before 1900 still has a date of establishment
MAX_YEAR = 2199


def year_in_range(value: date) -> bool:
    """Whether ``value`` (a date or datetime, compared by its own year: no arithmetic) is in range."""
    return MIN_YEAR <= value.year <= MAX_YEAR


def parse_datetime(text: str | None) -> datetime | None:
    """An ISO 8601 date-time within the bounds, else None (absent, unreadable or out of range)."""
    try:
        value = datetime.fromisoformat(text) if text else None
    except ValueError:
        return None
    return value if value is not None and year_in_range(value) else None


def parse_date(text: str | None) -> date | None:
    """An ISO 8601 date within the bounds, else None (absent, unreadable or out of range)."""
    try:
        value = date.fromisoformat(text) if text else None
    except ValueError:
        return None
    return value if value is not None and year_in_range(value) else None


def out_of_range(field: str) -> Problem:
    """The problem of a date or time field whose year lies outside the bounds."""
    return problem("DOC_TIME_OUT_OF_RANGE", field=field, earliest=MIN_YEAR, latest=MAX_YEAR)
