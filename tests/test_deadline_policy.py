"""The deadline policy: the shipped table, matching, stated deadlines, holidays.

Times are passed explicitly (a controlled clock). Expected dates are worked out by hand from
the official 2025 and 2026 holiday arrangements (see tests/test_calendar.py's docstring).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from broker.deadlines.calendar import CHINA_TZ, WorkingCalendar
from broker.deadlines.policy import DeadlinePolicy
from broker.deadlines.terms import Term, TermKind
from broker.errors import LiandongError

D = date
H24 = timedelta(hours=24)


def at(y: int, m: int, d: int, h: int = 10, mi: int = 0) -> datetime:
    return datetime(y, m, d, h, mi, tzinfo=CHINA_TZ)


def midnight_after(day: date) -> datetime:
    """24:00 of ``day``: the default end of a day-based period."""
    return datetime(day.year, day.month, day.day, tzinfo=CHINA_TZ) + H24


@pytest.fixture(scope="module")
def cal() -> WorkingCalendar:
    return WorkingCalendar()  # the package alone


@pytest.fixture(scope="module")
def policy() -> DeadlinePolicy:
    return DeadlinePolicy.default()


# --- the shipped table ----------------------------------------------------------------------


def test_every_default_rule_cites_a_seed_or_says_why_not(policy: DeadlinePolicy) -> None:
    for rule in policy.rules:
        assert rule.source.startswith(("00", "no seed period")), rule.describe()
        if rule.source.startswith("no seed period"):
            assert ";" in rule.source, f"a chosen default must say why: {rule.describe()}"


@pytest.mark.parametrize(
    ("doc", "items", "unit", "term", "source"),
    [
        ("QueryNotice", ["Identity"], "PublicSecurity", "3 working days", "002 四.7(1)"),
        ("QueryNotice", ["RealEstate"], "NaturalResources", "3 working days", "002 四.13"),
        ("QueryNotice", ["HouseRecords"], "HousingConstruction", "3 working days", "002 四.14"),
        ("QueryNotice", ["CompanyRegistration"], "MarketRegulation", "3 working days", "002 四.17"),
        ("QueryNotice", ["PlanningApprovals"], "NaturalResources", "15 working days", "002 四.13"),
        ("AssistanceNotice", ["PropertySeize"], "NaturalResources", "at once, max 24 hours", "002 四.13"),
        ("AssistanceNotice", ["PropertyTransfer"], "HousingConstruction", "at once, max 24 hours", "002 四.13, 四.14"),
        ("AssistanceNotice", ["VehicleSeize"], "PublicSecurity", "at once, max 24 hours", "002 四.7(3)"),
        ("AssistanceNotice", ["VehicleTransfer"], "PublicSecurity", "3 working days", "002 四.7(3)"),
        ("AssistanceNotice", ["EquityFreeze"], "MarketRegulation", "3 working days", "002 四.17"),
        ("AssistanceNotice", ["EquityForcedTransfer"], "MarketRegulation", "3 working days", "002 四.17"),
        ("ReleaseNotice", ["PropertyUnseize"], "NaturalResources", "at once, max 24 hours", "002 四.13"),
        ("DishonestListingRevocation", [], "CreditPlatform", "3 working days", "003 失信规定 第九条"),
        ("DishonestListingCorrection", [], "CreditPlatform", "3 working days", "003 失信规定 第九条"),
        ("DishonestListingDeletion", [], "CreditPlatform", "3 working days", "003 失信规定 第十条"),
        ("DishonestCorrectionRequest", [], None, "15 calendar days", "003 失信规定 第十二条"),
        ("JudicialSuggestion", [], "Procuratorate", "7 working days", "002 四.6"),
        ("PersonFound", [], "PublicSecurity", "24 hours", "002 四.7(2)"),
        ("ItemEntrustment", ["Seizure"], "Court", "20 calendar days", "003 事项委托 第六条"),
        ("EntrustmentFeedback", ["MaterialRequested"], "Court", "3 calendar days", "003 事项委托 第十条"),
    ],
)
def test_default_rules_from_the_seeds(
    policy: DeadlinePolicy, cal: WorkingCalendar, doc: str, items: list[str], unit: str | None, term: str, source: str
) -> None:
    deadline = policy.due(doc, items, unit, at(2025, 3, 3), None, cal)
    assert str(deadline.rule.term) == term
    assert deadline.source.startswith(source)


# --- working days across holidays -------------------------------------------------------------


def test_query_the_day_before_the_spring_festival(policy: DeadlinePolicy, cal: WorkingCalendar) -> None:
    # 2025-01-27 is the last working day before 1.28–2.4: 2.5, 2.6, 2.7
    d = policy.due("QueryNotice", ["Identity", "Vehicles"], "PublicSecurity", at(2025, 1, 27, 16, 45), None, cal)
    assert d.last_day == D(2025, 2, 7)
    assert d.due_at == midnight_after(D(2025, 2, 7))
    assert d.due_at.utcoffset() == timedelta(hours=8)
    assert not d.from_document and d.stated_problem is None


def test_friday_before_a_make_up_saturday_counts_the_saturday(policy: DeadlinePolicy, cal: WorkingCalendar) -> None:
    # Friday 2025-02-07; Saturday 2.8 is worked: 2.8, 2.10, 2.11 (not 2.12)
    d = policy.due("QueryNotice", ["CompanyRegistration"], "MarketRegulation", at(2025, 2, 7, 17), None, cal)
    assert d.last_day == D(2025, 2, 11)
    # 2026: Friday 2.13; Saturday 2.14 is worked, then the break 2.15–2.23: 2.14, 2.24, 2.25
    d = policy.due("QueryNotice", ["HouseRecords"], "HousingConstruction", at(2026, 2, 13, 9), None, cal)
    assert d.last_day == D(2026, 2, 25)


def test_national_day(policy: DeadlinePolicy, cal: WorkingCalendar) -> None:
    # 2026-09-30, then 10.1–10.7 off: 10.8, 10.9 and the make-up Saturday 10.10
    d = policy.due("AssistanceNotice", ["EquityFreeze"], "MarketRegulation", at(2026, 9, 30, 11), None, cal)
    assert d.last_day == D(2026, 10, 10)
    # 2025: Friday 9.26 before the make-up Sunday 9.28: 9.28, 9.29, 9.30
    d = policy.due("QueryNotice", ["RealEstate"], "NaturalResources", at(2025, 9, 26, 15), None, cal)
    assert d.last_day == D(2025, 9, 30)


def test_fifteen_working_days_across_a_holiday(policy: DeadlinePolicy, cal: WorkingCalendar) -> None:
    # 2026-02-10: 2.11 2.12 2.13 2.14 | 2.24 2.25 2.26 2.27 2.28 3.2 3.3 3.4 3.5 3.6 3.9
    d = policy.due("QueryNotice", ["PlanningApprovals"], "NaturalResources", at(2026, 2, 10), None, cal)
    assert d.last_day == D(2026, 3, 9)
    # 2025-09-26 across National Day: ... 10.23
    d = policy.due("QueryNotice", ["PlanningApprovals"], "HousingConstruction", at(2025, 9, 26), None, cal)
    assert d.last_day == D(2025, 10, 23)


def test_procuratorate_seven_working_days_across_national_day(policy: DeadlinePolicy, cal: WorkingCalendar) -> None:
    # 2025-09-26: 9.28 9.29 9.30 | 10.9 10.10 10.11 10.13
    d = policy.due("JudicialSuggestion", [], "Procuratorate", at(2025, 9, 26), None, cal)
    assert d.last_day == D(2025, 10, 13)


def test_calendar_day_period_ending_in_a_holiday_moves_to_the_next_working_day(
    policy: DeadlinePolicy, cal: WorkingCalendar
) -> None:
    # correction request 2025-01-20 + 15 days = 2.4, the last day of the break -> 2.5 (失信规定 art. 12)
    d = policy.due("DishonestCorrectionRequest", [], None, at(2025, 1, 20), None, cal)
    assert d.last_day == D(2025, 2, 5)
    # missing material 2025-01-25 + 3 days = 1.28 (除夕) -> 2.5 (事项委托 art. 10)
    d = policy.due("EntrustmentFeedback", ["MaterialRequested"], "Court", at(2025, 1, 25), None, cal)
    assert d.last_day == D(2025, 2, 5)


def test_day_end_is_configurable(policy: DeadlinePolicy, cal: WorkingCalendar) -> None:
    office = policy.model_copy(update={"day_end": "17:30"})
    d = office.due("QueryNotice", ["Identity"], "PublicSecurity", at(2025, 1, 27), None, cal)
    assert d.due_at == at(2025, 2, 7, 17, 30)
    assert d.last_day == D(2025, 2, 7)
    with pytest.raises(ValueError, match="day_end"):
        DeadlinePolicy.model_validate({"day_end": "24:30", "rules": [r.model_dump() for r in policy.rules]})


# --- hours and "at once" -------------------------------------------------------------------


def test_at_once_yields_the_maximum_in_clock_hours(policy: DeadlinePolicy, cal: WorkingCalendar) -> None:
    received = at(2025, 1, 27, 18, 20)
    d = policy.due("AssistanceNotice", ["PropertySeize"], "NaturalResources", received, None, cal)
    assert d.rule.term == Term(kind=TermKind.AT_ONCE, amount=24)
    assert d.due_at == received + H24  # hours run through the holiday
    bank = policy.due("AssistanceNotice", ["BankFreeze", "BankDeduct"], "Bank", received, None, cal)
    assert bank.due_at == received + H24
    assert "实时" in bank.source


def test_person_found_report_in_24_hours(policy: DeadlinePolicy, cal: WorkingCalendar) -> None:
    found = at(2025, 10, 1, 20, 5)
    d = policy.due("PersonFound", [], "PublicSecurity", found, None, cal)
    assert d.due_at == at(2025, 10, 2, 20, 5)
    assert d.is_overdue(at(2025, 10, 2, 20, 6)) and not d.is_overdue(at(2025, 10, 2, 20, 5))


def test_urgent_entrustment_is_24_hours(policy: DeadlinePolicy, cal: WorkingCalendar) -> None:
    received = at(2025, 3, 3, 10)
    d = policy.due("ItemEntrustment", ["Seizure"], "Court", received, None, cal, urgent=True)
    assert d.due_at == received + H24 and d.rule.urgent
    # the same document, not urgent: 20 days
    d = policy.due("ItemEntrustment", ["Seizure"], "Court", received, None, cal)
    assert d.last_day == D(2025, 3, 24)  # 3.23 is a Sunday


# --- matching ------------------------------------------------------------------------------


def test_earliest_item_deadline_applies(policy: DeadlinePolicy, cal: WorkingCalendar) -> None:
    # planning approvals (15 working days) and real estate (3) in one notice: 3 applies
    d = policy.due("QueryNotice", ["PlanningApprovals", "RealEstate"], "NaturalResources", at(2026, 2, 10), None, cal)
    assert d.item == "RealEstate"
    assert d.last_day == D(2026, 2, 13)


def test_unit_kind_without_its_own_rule_falls_back_to_the_document_rule(policy: DeadlinePolicy, cal: WorkingCalendar) -> None:
    d = policy.due("QueryNotice", ["TaxRefunds"], "Tax", at(2025, 3, 3), None, cal)
    assert str(d.rule.term) == "3 working days"
    assert d.rule.unit_kind is None and d.rule.item is None
    assert d.source.startswith("no seed period")


_SPECIFICITY = """\
rules:
  - {doc: AssistanceNotice, within: 1 working days, source: "doc"}
  - {doc: AssistanceNotice, unit: Bank, within: 2 working days, source: "doc+unit"}
  - {doc: AssistanceNotice, item: BankFreeze, within: 3 working days, source: "item"}
  - {doc: AssistanceNotice, item: BankFreeze, unit: Bank, within: 4 working days, source: "item+unit"}
  - {doc: AssistanceNotice, item: PropertySeize, within: 5 working days, source: "item only"}
"""


def test_most_specific_rule_wins(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(_SPECIFICITY, encoding="utf-8")
    p = DeadlinePolicy.from_file(path)
    assert p.rule_for("AssistanceNotice", "BankFreeze", "Bank").source == "item+unit"
    assert p.rule_for("AssistanceNotice", "BankFreeze", "PublicSecurity").source == "item"
    assert p.rule_for("AssistanceNotice", "BankDeduct", "Bank").source == "doc+unit"
    assert p.rule_for("AssistanceNotice", "BankDeduct", None).source == "doc"
    assert p.rule_for("AssistanceNotice", "PropertySeize", "Bank").source == "item only"
    assert p.rule_for("AssistanceNotice", None, "NaturalResources").source == "doc"
    assert p.rule_for("QueryNotice", None, "Bank") is None


def test_no_rule_is_an_error(policy: DeadlinePolicy, cal: WorkingCalendar) -> None:
    with pytest.raises(LiandongError) as info:
        policy.due("CaseCompletedNotice", [], "Bank", at(2025, 3, 3), None, cal)
    assert info.value.codes == ["DEADLINE_NO_RULE"]
    with pytest.raises(LiandongError):
        policy.due("JudicialSuggestion", [], "DevelopmentReform", at(2025, 3, 3), None, cal)


def test_naive_receipt_time_is_refused(policy: DeadlinePolicy, cal: WorkingCalendar) -> None:
    with pytest.raises(ValueError):
        policy.due("QueryNotice", [], "PublicSecurity", datetime(2025, 3, 3, 10), None, cal)


# --- deadlines stated in the document --------------------------------------------------------


def test_allowed_stated_deadline_wins(policy: DeadlinePolicy, cal: WorkingCalendar) -> None:
    stated = at(2025, 3, 10, 17)  # 5 working days after Monday 3.3: more time than 3, less than 30
    d = policy.due("QueryNotice", ["Identity"], "PublicSecurity", at(2025, 3, 3), stated, cal)
    assert d.from_document and d.due_at == stated and d.last_day == D(2025, 3, 10)
    assert d.stated_problem is None


def test_stated_deadline_shorter_than_the_seeds_is_replaced(policy: DeadlinePolicy, cal: WorkingCalendar) -> None:
    d = policy.due("QueryNotice", ["Identity"], "PublicSecurity", at(2025, 3, 3), at(2025, 3, 4, 17), cal)
    assert not d.from_document
    assert d.last_day == D(2025, 3, 6)
    assert d.stated_problem is not None and d.stated_problem.code == "DEADLINE_STATED_TOO_SHORT"
    assert "002 四.7(1)" in d.stated_problem.message_zh


def test_stated_deadline_longer_than_the_maximum_is_replaced(policy: DeadlinePolicy, cal: WorkingCalendar) -> None:
    # stated_max is 30 working days: from Monday 2025-03-03 that is 4.15 (4.4 Qingming is off)
    received = at(2025, 3, 3)
    ok = policy.due("QueryNotice", ["Identity"], "PublicSecurity", received, at(2025, 4, 15, 23), cal)
    assert ok.from_document and ok.last_day == D(2025, 4, 15)
    late = policy.due("QueryNotice", ["Identity"], "PublicSecurity", received, at(2025, 4, 16, 9), cal)
    assert not late.from_document and late.last_day == D(2025, 3, 6)
    assert late.stated_problem is not None and late.stated_problem.code == "DEADLINE_STATED_TOO_LONG"
    typo = policy.due("QueryNotice", ["Identity"], "PublicSecurity", received, at(2052, 3, 10), cal)
    assert typo.stated_problem is not None and typo.stated_problem.code == "DEADLINE_STATED_TOO_LONG"


def test_entrustment_stated_deadline_must_be_10_to_20_days(policy: DeadlinePolicy, cal: WorkingCalendar) -> None:
    received = at(2025, 3, 3)
    seven = policy.due("ItemEntrustment", ["Investigation"], "Court", received, at(2025, 3, 10, 17), cal)
    assert seven.stated_problem is not None and seven.stated_problem.code == "DEADLINE_STATED_TOO_SHORT"
    assert seven.last_day == D(2025, 3, 24)  # the policy's 20 days, 3.23 being a Sunday
    fifteen = policy.due("ItemEntrustment", ["Investigation"], "Court", received, at(2025, 3, 18, 17), cal)
    assert fifteen.from_document and fifteen.due_at == at(2025, 3, 18, 17)
    ten = policy.due("ItemEntrustment", ["Investigation"], "Court", received, at(2025, 3, 13, 9), cal)
    assert ten.from_document  # exactly ten days is allowed
    twenty_five = policy.due("ItemEntrustment", ["Investigation"], "Court", received, at(2025, 3, 28, 17), cal)
    assert twenty_five.stated_problem is not None and twenty_five.stated_problem.code == "DEADLINE_STATED_TOO_LONG"
    assert twenty_five.due_at == midnight_after(D(2025, 3, 24))


def test_stated_deadline_on_a_holiday_moves_to_the_next_working_day(policy: DeadlinePolicy, cal: WorkingCalendar) -> None:
    # entrusted 2025-09-22, stated 10.3 (11 days, inside National Day) -> end of 10.9
    d = policy.due("ItemEntrustment", ["Service"], "Court", at(2025, 9, 22), at(2025, 10, 3, 17), cal)
    assert d.from_document
    assert d.last_day == D(2025, 10, 9)
    assert d.due_at == midnight_after(D(2025, 10, 9))


def test_urgent_entrustment_stated_beyond_24_hours_is_replaced(policy: DeadlinePolicy, cal: WorkingCalendar) -> None:
    received = at(2025, 3, 3, 10)
    d = policy.due("ItemEntrustment", ["Seizure"], "Court", received, received + timedelta(hours=48), cal, urgent=True)
    assert d.stated_problem is not None and d.stated_problem.code == "DEADLINE_STATED_TOO_LONG"
    assert d.due_at == received + H24


# --- calendar coverage through the policy ----------------------------------------------------


def test_uncovered_year_raises_through_the_policy(policy: DeadlinePolicy, cal: WorkingCalendar) -> None:
    # 2026-12-29 + 3 working days: 12.30, 12.31, then 2027, which nobody has published yet
    with pytest.raises(LiandongError) as info:
        policy.due("QueryNotice", ["Identity"], "PublicSecurity", at(2026, 12, 29), None, cal)
    assert info.value.codes == ["CAL_YEAR_UNKNOWN"]
    assert "2027" in str(info.value)


def test_override_year_makes_the_policy_work(policy: DeadlinePolicy, tmp_path: Path) -> None:
    path = tmp_path / "holidays.yaml"
    path.write_text("# TEST DATA ONLY\n2027:\n  holidays: [2027-01-01]\n", encoding="utf-8")
    cal = WorkingCalendar.from_file(path)
    d = policy.due("QueryNotice", ["Identity"], "PublicSecurity", at(2026, 12, 29), None, cal)
    assert d.last_day == D(2027, 1, 4)  # 12.30, 12.31, (1.1 off, weekend) 1.4


# --- invalid tables ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("rules:\n  - {doc: QueryNotice, within: 3 wd, source: x}\n", "cannot read the period"),
        ("rules:\n  - {doc: NoSuchNotice, within: 3 working days, source: x}\n", "NoSuchNotice"),
        ("rules:\n  - {doc: AssistanceNotice, item: BankFreeze, unit: PublicSecurity, within: 1 hours, source: x}\n", "PublicSecurity"),
        ("rules:\n  - {doc: QueryNotice, item: BankFreeze, within: 1 hours, source: x}\n", "BankFreeze"),
        ("rules:\n  - {doc: QueryNotice, within: 3 working days}\n", "source"),
        ("rules:\n  - {doc: QueryNotice, within: 'at once, max 0 hours', source: x}\n", "at least one hour"),
        (
            "rules:\n  - {doc: QueryNotice, within: 3 working days, source: a}\n"
            "  - {doc: QueryNotice, within: 5 working days, source: b}\n",
            "same key",
        ),
    ],
)
def test_invalid_policy_file(tmp_path: Path, text: str, fragment: str) -> None:
    path = tmp_path / "deadlines.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(LiandongError) as info:
        DeadlinePolicy.from_file(path)
    assert set(info.value.codes) == {"DEADLINE_POLICY_INVALID"}
    assert fragment in str(info.value)


# --- judging a stated deadline needs the calendar only as far as that deadline -----------------


def test_stated_deadline_in_december_needs_no_2027_calendar(policy: DeadlinePolicy, cal: WorkingCalendar) -> None:
    # Received 2026-11-23 (today when this was written): the 30-working-day maximum ends in
    # January 2027, whose holidays are not published, but 12.4 is within it whatever they are.
    received = at(2026, 11, 23)
    stated = at(2026, 12, 4, 17)
    d = policy.due("QueryNotice", ["Identity"], "PublicSecurity", received, stated, cal)
    assert d.from_document and d.due_at == stated
    # a stated date in 2027 cannot be judged yet: an error, never a guess
    with pytest.raises(LiandongError) as info:
        policy.due("QueryNotice", ["Identity"], "PublicSecurity", received, at(2027, 1, 20), cal)
    assert info.value.codes == ["CAL_YEAR_UNKNOWN"]


@pytest.mark.parametrize(
    ("term", "start", "day", "expected"),
    [
        # 2025-01-24 + 3 working days = 2.5 (1.26 make-up, 1.27, break, 2.5)
        ("3 working days", at(2025, 1, 24), D(2025, 2, 1), -1),
        ("3 working days", at(2025, 1, 24), D(2025, 2, 5), 0),
        ("3 working days", at(2025, 1, 24), D(2025, 2, 6), 1),
        # 2025-03-03 + 4 working days = Friday 3.7; the Saturday after is past it
        ("4 working days", at(2025, 3, 3), D(2025, 3, 8), 1),
        # 2025-09-25 + 10 days = 10.5 (holiday) -> 10.9
        ("10 calendar days", at(2025, 9, 25), D(2025, 10, 4), -1),
        ("10 calendar days", at(2025, 9, 25), D(2025, 10, 5), -1),
        ("10 calendar days", at(2025, 9, 25), D(2025, 10, 9), 0),
        ("10 calendar days", at(2025, 9, 25), D(2025, 10, 10), 1),
    ],
)
def test_compare_day(cal: WorkingCalendar, term: str, start: datetime, day: date, expected: int) -> None:
    assert Term.model_validate(term).compare_day(day, start, cal) == expected
