"""The business rules (``broker/rules``): every rule code has a case that fails it.

Each case starts from a valid example in ``examples/unsigned``, changes one thing (the model with
``model_copy`` or the tree) and checks that the rules report exactly the expected code, and for
many cases where (``Problem.path``). :data:`ACCEPTED` holds borderline documents that must pass.
``test_every_rule_code_has_a_failing_case`` compares the codes the registered rules declare with
the codes of :data:`REFUSED`, so a new rule without a failing case fails the suite.

Cases marked ``xfail(strict=True)`` describe how a rule *should* behave (DOMAIN.md, the seeds)
where it does not yet; once the rule is fixed they pass, and strict mode asks to unmark them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from lxml import etree

from broker.checking import DocumentChecker
from broker.documents.bodies import DishonestConduct, ListingPeriod
from broker.documents.catalogue import CASE_TYPES, OFFICER_TYPES, REPLY_TYPES, UnitKind, accepted_types
from broker.documents.common import NaturalPerson
from broker.documents.document import DocumentType
from broker.documents.identifiers import make_uscc
from broker.errors import CATALOGUE
from broker.registry import Registry
from broker.rules import RULES
from tests.helpers import (
    BUILD,
    REGISTRY,
    Mutation,
    codes,
    computed,
    describe,
    example_names,
    load_tree,
    mutated,
    registry_where,
    registry_with_invented_units,
    rule_problems,
    setting,
    tree_comment_inside,
    tree_text,
)

YUNFU_COURT, GONGAN_COURT, BANK = BUILD.YUNFU_COURT, BUILD.GONGAN_COURT, BUILD.BANK
POLICE, REGISTRY_CENTRE = BUILD.POLICE, BUILD.REGISTRY_CENTRE
NOT_A_MEMBER = make_uscc("91445300MA5199999")


@dataclass(frozen=True)
class Case:
    id: str
    example: str
    mutations: tuple[Mutation, ...]
    code: str | None = None  # None: accepted (no problem at all)
    path: str | None = None  # a path one of the problems must carry
    registry: Registry | None = None  # None: the example registry
    xfail: str | None = None  # the rule is wrong: how, against which source


def refused(code: str, id: str, example: str, *mutations: Mutation, **kw: Any) -> Case:
    return Case(f"{code}-{id}", example, mutations, code, **kw)


def accepted(id: str, example: str, *mutations: Mutation, **kw: Any) -> Case:
    return Case(id, example, mutations, **kw)


def params(cases: list[Case]) -> list[Any]:
    def marks(case: Case) -> list[Any]:
        return [pytest.mark.xfail(strict=True, reason=case.xfail)] if case.xfail else []

    return [pytest.param(c, id=c.id, marks=marks(c)) for c in cases]


# --- building blocks ---------------------------------------------------------------------------------


def debtor_born(born: date) -> Mutation:
    """The listed debtor becomes a man born on ``born`` (valid ID number, gender M)."""
    id_number = BUILD.resident_id("445302", born.strftime("%Y%m%d"), "123")
    return setting(body__subject=NaturalPerson(name="陈小强", id_number=id_number, gender="M"))


def listing(*conducts: DishonestConduct, base: int = 2, extension: int | None = None, reason: str | None = None):
    """Grounds and period of the example listing; ``base=0`` leaves the period out."""
    period = ListingPeriod(base_years=base, extension_years=extension, extension_reason=reason) if base else None
    return setting(body__conducts=list(conducts), body__period=period)


def deadline_after(delta: timedelta, *, urgent: bool = False) -> Mutation:
    """An entrustment due ``delta`` after its issue time."""

    def mutate(doc):
        doc = computed("header__deadline", lambda d: d.header.issued_at + delta)(doc)
        return setting(body__urgent=urgent)(doc)

    return mutate


def case_number(value: str | None) -> Mutation:
    return setting(header__case_number=value)


def measure(index: int, **changes: Any) -> Mutation:
    """Change fields of ``body.measures[index]`` (``__`` for deeper fields)."""
    return setting(**{f"body__measures__{index}__{k}": v for k, v in changes.items()})


def result(index: int, **changes: Any) -> Mutation:
    """Change fields of ``body.results[index]`` of a receipt."""
    return setting(**{f"body__results__{index}__{k}": v for k, v in changes.items()})


C = DishonestConduct
REASON = "以暴力方法阻碍执行人员查封财产，情节严重。"
D = "Document/"
NOTICE = D + "AssistanceNotice/"
FREEZE = NOTICE + "BankFreeze"  # M1 of AssistanceNotice: 陈国强, 500000.00, 2026-03-04..2027-03-03
RECEIPT = D + "ExecutionReceipt/"
BANK_WITHOUT_NOTICES = registry_where(
    BANK, accepts=sorted(accepted_types(UnitKind.BANK) - {"AssistanceNotice"})
)


# --- refused documents -------------------------------------------------------------------------------

REFUSED: list[Case] = [
    # --- header and identifiers (identity.py)
    refused("RULE_ID_ATTRIBUTE", "other-id", "AssistanceNotice",
            setting(id="ld-00000000-0000-4000-8000-000000000000"), path="Document"),
    refused("RULE_BODY_TYPE", "declared-CaseCompletedNotice", "AssistanceNotice",
            setting(header__document_type=DocumentType("CaseCompletedNotice")), path=D + "AssistanceNotice"),
    refused("RULE_SELF_ADDRESSED", "court-to-itself", "ItemEntrustment", setting(header__recipient=GONGAN_COURT)),
    refused("RULE_USCC", "organisation-check-char", "AssistanceNotice",
            measure(1, subject__unit_code="91445302MA4UH8QK2B"),
            path=NOTICE + "BankRotatingFreeze/Organisation/UnitCode"),
    refused("RULE_USCC", "equity-company-code", "AssistanceNotice-MarketRegulation",
            tree_text("(//ld:CompanyCode)[1]", "91445321MA52K7D3XA")),
    refused("RULE_UNIT_CODE_DIGITS", "full-width", "AssistanceNotice",
            tree_text("//ld:BankRotatingFreeze/ld:Organisation/ld:UnitCode", "91４４５３０２MA4UH8QK2A"),
            path=NOTICE + "BankRotatingFreeze/Organisation/UnitCode"),
    refused("RULE_UNIT_CODE_DIGITS", "arabic-indic", "AssistanceNotice-MarketRegulation",
            tree_text("(//ld:CompanyCode)[1]", "91٤٤٥٣٢١MA52K7D3XA")),
    refused("RULE_ID_NUMBER", "check-char", "AssistanceNotice", measure(0, subject__id_number="445302198004121231"),
            path=FREEZE + "/NaturalPerson/IdNumber"),
    refused("RULE_ID_NUMBER", "seventeen-digits", "AssistanceNotice",
            measure(0, subject__id_number="44530219800412123")),
    refused("RULE_ID_BIRTHDATE", "30-february", "AssistanceNotice",
            measure(0, subject__id_number=BUILD.resident_id("445302", "19800230", "123")),
            path=FREEZE + "/NaturalPerson/IdNumber"),
    refused("RULE_ID_BIRTHDATE", "born-after-today", "AssistanceNotice",
            measure(0, subject__id_number=BUILD.resident_id("445302", "20270101", "123"))),
    refused("RULE_GENDER_MISMATCH", "odd-sequence-female", "AssistanceNotice", measure(0, subject__gender="F"),
            path=FREEZE + "/NaturalPerson"),
    *[
        refused("RULE_CASE_NUMBER", id, "AssistanceNotice", case_number(value), path=D + "Header/CaseNumber")
        for id, value in {
            "two-digit-year": "（26）粤53执123号",
            "year-1989": "（1989）粤53执123号",
            "year-after-next": "（2028）粤53执123号",
            "no-执-word": "（2026）粤53123号",
            "missing-号": "（2026）粤53执123",
            "civil-民初": "（2026）粤53民初123号",
            "sequence-0": "（2026）粤53执0号",
            "no-parentheses": "2026粤53执123号",
        }.items()
    ],
    refused("RULE_CASE_NUMBER", "in-a-ruling", "EnforcementRuling",
            tree_text("//ld:Header/ld:CaseNumber", "（2026）粤53执123")),
    *[
        refused("RULE_CASE_NUMBER_REQUIRED", name, name, case_number(None))
        for name in ("AssistanceNotice", "ExecutionReceipt", "DishonestListing")
    ],
    *[
        refused("RULE_REPLY_REQUIRED", name, name, setting(header__in_reply_to=None))
        for name in ("ExecutionReceipt", "ServiceReceipt", "ReviewSuggestion")
    ],
    *[refused("RULE_OFFICERS_REQUIRED", name, name, setting(header__officers=[])) for name in sorted(OFFICER_TYPES)],
    refused("RULE_DUPLICATE_ITEM_ID", "measure", "AssistanceNotice", measure(1, measure_id="M1")),
    refused("RULE_DUPLICATE_ITEM_ID", "query", "QueryNotice", setting(body__queries__2__query_id="Q1")),
    refused("RULE_DEADLINE_ORDER", "before-issue", "QueryNotice",
            computed("header__deadline", lambda d: d.header.issued_at - timedelta(hours=1))),
    refused("RULE_DEADLINE_ORDER", "at-issue", "QueryNotice",
            computed("header__deadline", lambda d: d.header.issued_at)),
    # --- what courts ask for (notices.py)
    refused("RULE_AMOUNT_NOT_POSITIVE", "zero", "AssistanceNotice", measure(0, amount__value=Decimal("0.00")),
            path=FREEZE + "/Amount"),
    refused("RULE_AMOUNT_NOT_POSITIVE", "negative", "AssistanceNotice", measure(0, amount__value=Decimal("-100.00"))),
    refused("RULE_AMOUNT_NOT_POSITIVE", "release-zero", "ReleaseNotice",
            setting(body__releases__0__amount__value=Decimal("0")), path=D + "ReleaseNotice/Release/Amount"),
    refused("RULE_AMOUNT_NEGATIVE", "priority-right", "ExecutionReceipt",
            result(3, priority_rights__0__amount__value=Decimal("-1.00")),
            path=RECEIPT + "MeasureResult[4]/PriorityRight/Amount"),
    refused("RULE_AMOUNT_NEGATIVE", "actual-frozen", "ExecutionReceipt",
            result(0, actual_amount__value=Decimal("-0.01"))),
    refused("DOC_TIME_OUT_OF_RANGE", "effective-in-9999", "ExecutionReceipt",
            tree_text("(//ld:EffectiveAt)[1]", "9999-12-31T23:59:59-14:00"), path=RECEIPT + "MeasureResult[1]/EffectiveAt"),
    refused("DOC_TIME_OUT_OF_RANGE", "filed-in-year-1", "DishonestListing", tree_text("(//ld:FiledOn)[1]", "0001-01-01")),
    refused("RULE_AMOUNT_NOT_FINITE", "nan-request", "AssistanceNotice", tree_text("(//ld:BankFreeze/ld:Amount)[1]", "NaN"),
            path=FREEZE + "/Amount"),
    refused("RULE_AMOUNT_NOT_FINITE", "infinite-result", "ExecutionReceipt", tree_text("(//ld:ActualAmount)[1]", "-Infinity")),
    refused("RULE_PERIOD_ORDER", "end-before-start", "AssistanceNotice", measure(0, period__end=date(2026, 3, 3)),
            path=FREEZE + "/Period"),
    refused("RULE_PERIOD_ORDER", "end-equals-start", "AssistanceNotice", measure(0, period__end=date(2026, 3, 4))),
    refused("RULE_PERIOD_ORDER", "exit-control-period", "AssistanceNotice-PublicSecurity",
            measure(0, period__end=date(2025, 3, 3)), path=NOTICE + "ExitRestriction/Period"),
    refused("RULE_MEASURE_REFERENCE", "continued-freeze-without-Continues", "AssistanceNotice",
            measure(2, continues=None), path=NOTICE + "BankContinuedFreeze"),
    refused("RULE_MEASURE_REFERENCE", "release-without-Releases", "ReleaseNotice",
            setting(body__releases__0__releases=None), path=D + "ReleaseNotice/Release"),
    refused("RULE_ENFORCEMENT_ACCOUNT", "deduct-without-account", "AssistanceNotice",
            measure(3, enforcement_account=None), path=NOTICE + "BankDeduct[1]"),
    refused("RULE_FOREIGN_CURRENCY_ACCOUNT", "usd-to-cny-account", "AssistanceNotice",
            measure(4, enforcement_account=BUILD.enforcement_account(YUNFU_COURT, "CNY")),
            path=NOTICE + "BankDeduct[2]/EnforcementAccount"),
    refused("RULE_RULING_REQUIRED", "bank-measures", "AssistanceNotice", setting(body__ruling=None), path=FREEZE),
    refused("RULE_RULING_REQUIRED", "bank-unfreeze", "ReleaseNotice", setting(body__ruling=None),
            path=D + "ReleaseNotice/Release"),
    refused("RULE_PERSON_REQUIRED", "exit-restriction-of-company", "AssistanceNotice-PublicSecurity",
            measure(0, subject=BUILD.HENGDA), path=NOTICE + "ExitRestriction"),
    refused("RULE_PERSON_REQUIRED", "locate-company", "AssistanceNotice-PublicSecurity",
            measure(3, subject=BUILD.HENGDA), path=NOTICE + "LocatePerson"),
    refused("RULE_TRANSACTION_PERIOD", "no-period", "QueryNotice", setting(body__queries__2__period=None),
            path=D + "QueryNotice/Query[3]"),
    # --- dishonest-debtor list (listing.py); the example was decided on 2026-03-09
    refused("RULE_LISTING_MINOR", "17-years-364-days", "DishonestListing", debtor_born(date(2008, 3, 10)),
            path=D + "DishonestListing/NaturalPerson"),
    refused("RULE_LISTING_MINOR", "child", "DishonestListing", debtor_born(date(2015, 6, 1))),
    refused("RULE_LISTING_PERIOD", "base-3-years", "DishonestListing", setting(body__period__base_years=3),
            path=D + "DishonestListing/Period"),
    refused("RULE_LISTING_PERIOD", "extension-4-years", "DishonestListing",
            listing(C.OBSTRUCTS, extension=4, reason=REASON)),
    refused("RULE_LISTING_PERIOD", "extension-without-reason", "DishonestListing", listing(C.OBSTRUCTS, extension=2)),
    refused("RULE_LISTING_PERIOD", "extension-single-non-violent-ground", "DishonestListing",
            listing(C.EVADES, extension=1, reason="隐匿财产。")),
    *[
        refused("RULE_LISTING_PERIOD", f"no-period-ground-{ground.value}", "DishonestListing",
                listing(ground, base=0), path=D + "DishonestListing")
        for ground in DishonestConduct
        if ground is not C.ABLE_BUT_REFUSES
    ],
    refused("RULE_LISTING_PERIOD", "period-for-ground-1-alone", "DishonestListing", listing(C.ABLE_BUT_REFUSES)),
    refused("RULE_LISTING_DATES", "filed-after-the-decision", "DishonestListing",
            setting(body__filed_on=date(2026, 3, 9), body__decision_date=date(2026, 3, 1)),
            path=D + "DishonestListing"),
    refused("RULE_LISTING_DATES", "decided-after-issue", "DishonestListing",
            setting(body__decision_date=date(2026, 3, 20)), path=D + "DishonestListing"),
    refused("RULE_LISTING_FIELDS", "organisation-without-legal-representative", "DishonestListing",
            setting(body__subject=BUILD.HENGDA.model_copy(update={"legal_representative": None})),
            path=D + "DishonestListing/Organisation"),
    refused("RULE_LISTING_FIELDS", "person-without-gender", "DishonestListing", setting(body__subject__gender=None),
            path=D + "DishonestListing/NaturalPerson"),
    # --- what units and courts answer (replies.py)
    refused("RULE_REVIEW_REFUSES", "not-carried-out", "ReviewSuggestion", setting(body__measure_carried_out=False)),
    refused("RULE_RESULT_REASON", "partial-freeze", "ExecutionReceipt", result(0, reason=None),
            path=RECEIPT + "MeasureResult[1]"),
    refused("RULE_RESULT_REASON", "not-released", "ExecutionReceipt-BankRelease",
            result(0, status="NotReleased", released_amount=None), path=RECEIPT + "ReleaseResult"),
    refused("RULE_DEDUCT_BALANCE", "sum-short", "ExecutionReceipt",
            result(3, not_deducted_amount__value=Decimal("87000.00")), path=RECEIPT + "MeasureResult[4]"),
    refused("RULE_FREEZE_RESULT", "more-than-requested", "ExecutionReceipt",
            result(2, actual_amount__value=Decimal("120000.01")), path=RECEIPT + "MeasureResult[3]"),
    refused("RULE_ENTRUSTMENT_DEADLINE", "9-days", "ItemEntrustment", deadline_after(timedelta(days=9))),
    refused("RULE_ENTRUSTMENT_DEADLINE", "21-days", "ItemEntrustment", deadline_after(timedelta(days=21))),
    refused("RULE_ENTRUSTMENT_DEADLINE", "urgent-25-hours", "ItemEntrustment",
            deadline_after(timedelta(hours=25), urgent=True)),
    refused("RULE_ENTRUSTMENT_DEADLINE", "missing-deadline", "ItemEntrustment", setting(header__deadline=None)),
    refused("RULE_EXTENSION_REASON", "no-reason", "ExtensionNotice", setting(body__reason=None),
            path=D + "ExtensionNotice"),
    refused("RULE_EXTENSION_REASON", "no-proposed-deadline", "ExtensionNotice",
            setting(body__proposed_deadline=None)),
    # --- routing and unit kinds (routing.py, with the registry)
    refused("RULE_UNKNOWN_UNIT", "recipient", "AssistanceNotice", setting(header__recipient=NOT_A_MEMBER)),
    refused("RULE_UNKNOWN_UNIT", "sender", "ExecutionReceipt", setting(header__sender=NOT_A_MEMBER)),
    refused("RULE_DIRECTION", "bank-sends-AssistanceNotice", "AssistanceNotice-PublicSecurity",
            setting(header__sender=BANK)),
    refused("RULE_DIRECTION", "court-sends-ServiceReceipt", "ServiceReceipt",
            setting(header__sender=YUNFU_COURT, header__recipient=BANK)),
    refused("ROUTE_TYPE_NOT_ACCEPTED", "bank-narrowed-by-registry", "AssistanceNotice",
            registry=BANK_WITHOUT_NOTICES),
    refused("RULE_MEASURE_UNIT_KIND", "exit-restriction-to-bank", "AssistanceNotice-PublicSecurity",
            setting(header__recipient=BANK), path=NOTICE + "ExitRestriction"),
    refused("RULE_MEASURE_UNIT_KIND", "bank-freeze-to-police", "AssistanceNotice",
            setting(header__recipient=POLICE), path=FREEZE),
    refused("RULE_MEASURE_UNIT_KIND", "bank-unfreeze-to-registry", "ReleaseNotice",
            setting(header__recipient=REGISTRY_CENTRE), path=D + "ReleaseNotice/Release"),
    refused("RULE_QUERY_UNIT_KIND", "bank-query-to-police", "QueryNotice", setting(header__recipient=POLICE),
            path=D + "QueryNotice/Query[1]"),
    refused("RULE_STATUS_QUERY_ONLY", "bank-asks-police-about-a-person", "QueryNotice-PublicSecurity",
            setting(header__sender=BANK)),
    refused("RULE_ENFORCEMENT_ACCOUNT_UNREGISTERED", "unknown-account-number", "AssistanceNotice",
            measure(3, enforcement_account__account_number="2017002119200099999"),
            path=NOTICE + "BankDeduct[1]/EnforcementAccount"),
    # 003 事项委托 art. 13: complaints and explanations go to the entrusted court's superior court
    refused("RULE_NOT_SUPERIOR_COURT", "complaint-to-another-court", "EntrustmentComplaint",
            setting(header__recipient=BUILD.GONGAN_COURT, header__sender=BUILD.GUANGDONG_HIGH_COURT)),
    refused("RULE_NOT_SUPERIOR_COURT", "complaint-to-the-court-complained-about", "EntrustmentComplaint",
            setting(header__recipient=BUILD.YUNFU_COURT)),
    refused("RULE_NOT_SUPERIOR_COURT", "explanation-to-the-complaining-court", "ComplaintExplanation",
            setting(header__recipient=BUILD.GONGAN_COURT)),
]  # fmt: skip


# --- accepted borderline documents ---------------------------------------------------------------------

ACCEPTED: list[Case] = [
    # 003 失信规定 art. 8: a bank checks a borrower against the list; no case, no officers
    accepted("bank-checks-the-dishonest-list", "QueryNotice-CreditPlatform",
             setting(header__sender=BANK, header__case_number=None, header__officers=[])),
    accepted("listing-debtor-exactly-18", "DishonestListing", debtor_born(date(2008, 3, 9))),
    accepted("listing-2+2-for-obstruction", "DishonestListing", listing(C.OBSTRUCTS, extension=2, reason=REASON)),
    accepted("listing-2+3-for-several-acts", "DishonestListing",
             listing(C.EVADES, C.VIOLATES_PROPERTY_REPORTING, extension=3, reason="多项失信行为。")),
    accepted("listing-ground-1-alone-without-period", "DishonestListing", listing(C.ABLE_BUT_REFUSES, base=0)),
    accepted("listing-extension-0", "DishonestListing", listing(C.EVADES, extension=0)),
    accepted("entrustment-10-days", "ItemEntrustment", deadline_after(timedelta(days=10))),
    accepted("entrustment-20-days", "ItemEntrustment", deadline_after(timedelta(days=20))),
    accepted("entrustment-urgent-24-hours", "ItemEntrustment", deadline_after(timedelta(hours=24), urgent=True)),
    accepted("entrustment-close-of-business-on-day-20", "ItemEntrustment",
             computed("header__deadline", lambda d: d.header.issued_at.replace(hour=17) + timedelta(days=20))),
    *[
        accepted(f"case-number-{id}", "AssistanceNotice", case_number(value))
        for id, value in {
            "ascii-parentheses": "(2026)粤53执123号",
            "执恢": "（2026）粤53执恢8号",
            "之一": "（2026）粤53执123号之一",
            "next-year": "（2027）粤53执1号",
            "basic-court": "（2026）鄂1022执45号",
        }.items()
    ],
    accepted("amount-one-cent", "AssistanceNotice", measure(0, amount__value=Decimal("0.01"))),
    accepted("reported-amount-zero", "ExecutionReceipt", result(3, priority_rights__0__amount__value=Decimal("0"))),
    accepted("freeze-period-two-days", "AssistanceNotice", measure(0, period__end=date(2026, 3, 5))),
    accepted("frozen-exactly-requested", "ExecutionReceipt", result(2, actual_amount__value=Decimal("120000.00"))),
    accepted("transaction-query-of-one-day", "QueryNotice",
             setting(body__queries__2__period__start=date(2026, 2, 3), body__queries__2__period__end=date(2026, 2, 3))),
    accepted("prior-freeze-of-civil-preservation", "ExecutionReceipt",
             tree_text("(//ld:PriorMeasure)[2]/ld:CaseNumber", "（2025）粤5302民初1234号")),
    accepted("deduct-part-of-a-frozen-deposit", "ExecutionReceipt",
             result(3, status="Executed", requested_amount__value=Decimal("100000.00"),
                    deducted_amount__value=Decimal("100000.00"), not_deducted_amount__value=Decimal("150000.00"))),
]  # fmt: skip


def _check(case: Case):
    return rule_problems(mutated(case.example, *case.mutations), case.registry or REGISTRY)


@pytest.mark.parametrize("case", params(REFUSED))
def test_refused(case: Case) -> None:
    problems = _check(case)
    assert codes(problems) == {case.code}, describe(problems)
    if case.path is not None:
        assert case.path in {p.path for p in problems}, describe(problems)


@pytest.mark.parametrize("case", params(ACCEPTED))
def test_accepted(case: Case) -> None:
    problems = _check(case)
    assert not problems, describe(problems)


@pytest.mark.parametrize("name", example_names())
def test_examples_pass_every_rule(name: str) -> None:
    # coverage/ examples go to INVENTED units; with those registered they must pass too.
    problems = rule_problems(load_tree(name), registry_with_invented_units())
    assert not problems, describe(problems)


def test_rules_without_registry_skip_the_registry_rules() -> None:
    root = mutated("AssistanceNotice", setting(header__recipient=NOT_A_MEMBER))
    assert rule_problems(root, registry=None) == []


def test_unsigned_check_sees_the_text_around_a_comment() -> None:
    root = mutated(
        "AssistanceNotice", tree_comment_inside("//ld:Header/ld:CaseNumber", "（2026）粤53执123号", "之abc")
    )
    result = DocumentChecker(None, REGISTRY).check(etree.tostring(root), signed=False)
    assert result.codes == ["RULE_CASE_NUMBER"]


# --- the rule registry itself ------------------------------------------------------------------------------


def test_every_rule_code_has_a_failing_case() -> None:
    declared = {c for r in RULES for c in r.codes}
    triggered = {c.code for c in REFUSED if not c.xfail}
    assert not declared - triggered, f"rule codes without a failing case in REFUSED: {sorted(declared - triggered)}"
    assert not triggered - declared, f"cases for codes no rule declares: {sorted(triggered - declared)}"


def test_rules_are_documented() -> None:
    types = {t.value for t in DocumentType}
    for r in RULES:
        assert r.description, f"{r.name} has no docstring (docs/rules.md is generated from it)"
        assert set(r.codes) <= set(CATALOGUE), f"{r.name} declares codes missing from broker.errors"
        assert r.types is None or r.types <= types, f"{r.name}: unknown document types"
    assert CASE_TYPES | REPLY_TYPES | OFFICER_TYPES <= types


def test_case_ids_are_unique() -> None:
    ids = [c.id for c in REFUSED + ACCEPTED]
    assert len(ids) == len(set(ids))
