"""Deadlines: the official working-day calendar and the deadline policy (DOMAIN.md "Deadlines").

- :mod:`broker.deadlines.calendar` — working days from ``chinesecalendar`` plus ``config/holidays.yaml``;
- :mod:`broker.deadlines.terms` — periods ("3 working days", "at once, max 24 hours") and how they end;
- :mod:`broker.deadlines.keys` — what a rule may be keyed on (document types, events, item kinds);
- :mod:`broker.deadlines.policy` — the rule table of ``config/deadlines.yaml`` and ``DeadlinePolicy.due``.
"""

from broker.deadlines.calendar import CHINA_TZ, WorkingCalendar
from broker.deadlines.policy import Deadline, DeadlinePolicy, DeadlineRule
from broker.deadlines.terms import Term, TermKind

__all__ = ["CHINA_TZ", "Deadline", "DeadlinePolicy", "DeadlineRule", "Term", "TermKind", "WorkingCalendar"]
