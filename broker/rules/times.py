"""Rules on the dates and times in a document's body: within the years checks can compute with.

The header's ``IssuedAt`` and ``Deadline`` are bounded by :mod:`broker.checking` (and the
verifier); the body's dates and date-times (periods, decision dates, effective times, ...) are
bounded here, so that nothing downstream (deadline supervision, an adapter computing an expiry)
ever meets ``9999-12-31`` or the year 1 (issue 11). :data:`DATE_ELEMENTS` and
:data:`DATETIME_ELEMENTS` are every element the XSD types ``xs:date`` or ``ld:DateTimeWithOffset``
(tests/test_hostile_input.py keeps them in step with it).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Iterator

from broker.documents.xmlmodel import NS
from broker.errors import Problem
from broker.parsing.times import MAX_YEAR, MIN_YEAR, year_in_range
from broker.rules.engine import RuleContext, local, path_of, report, rule

DATE_ELEMENTS = (
    "BirthDate", "CompletedOn", "DecisionDate", "EffectiveFrom", "End", "EstablishedOn", "FiledOn", "ListedOn",
    "OpenedOn", "PeriodEnd", "PublicityDate", "RefundDate", "RegisteredOn", "RulingDate", "Start", "ValidUntil",
)  # fmt: skip
DATETIME_ELEMENTS = (
    "CheckIn", "CheckOut", "Deadline", "DetectedAt", "DueAt", "EffectiveAt", "FirstSentAt", "IssuedAt",
    "OverdueSince", "ProposedDeadline", "ReceivedAt", "SeenAt", "Since", "Time",
)  # fmt: skip
_Q = "{" + NS + "}"
# Not through the rule engine's index: these are many names, and the index pass would slow down
# for every rule; one iteration of their own, read by the year's four digits, costs less.
_TIMES = tuple(_Q + n for n in (*DATE_ELEMENTS, *DATETIME_ELEMENTS))
_DATETIMES = frozenset(DATETIME_ELEMENTS)
_HEADER = _Q + "Header"


_EARLIEST, _LATEST = f"{MIN_YEAR:04d}", f"{MAX_YEAR:04d}"


def _out_of_range(name: str, text: str) -> bool:
    """Whether ``text`` is a date (or date-time) of a year outside the bounds; an unreadable value
    is the XSD's to report."""
    try:
        value: date = datetime.fromisoformat(text) if name in _DATETIMES else date.fromisoformat(text)
    except ValueError:
        return False
    return not year_in_range(value)


@rule("DOC_TIME_OUT_OF_RANGE", source="docs/signature-profile.md")
def body_times_in_range(ctx: RuleContext) -> Iterator[Problem]:
    """Every date and date-time of the body lies in the years 1800 to 2199 (the header's are
    checked with the seal): a year such as 9999 or 1 overflows the arithmetic of deadlines and
    time zones."""
    header = ctx.root.find(_HEADER)
    for elem in ctx.root.iter(*_TIMES):
        text = elem.text
        if not text or (len(text) > 4 and text[4] == "-" and _EARLIEST <= text[:4] <= _LATEST):
            continue  # the common case, told from the four digits of the year without parsing
        if elem.getparent() is not header and _out_of_range(local(elem), text.strip()):
            yield report("DOC_TIME_OUT_OF_RANGE", elem, field=path_of(elem), earliest=MIN_YEAR, latest=MAX_YEAR)
