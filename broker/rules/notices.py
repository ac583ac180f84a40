"""Rules on what courts ask for: amounts, periods, references, accounts, rulings, subjects."""

from __future__ import annotations

from typing import Iterator

from broker.errors import Problem
from broker.rules.engine import RuleContext, as_date, as_decimal, child_text, local, report, rule, xpath

_REQUEST_AMOUNTS = xpath(
    "/ld:Document/ld:AssistanceNotice/*/ld:Amount|/ld:Document/ld:ReleaseNotice/ld:Release/ld:Amount"
    "|/ld:Document/ld:AssistanceNotice/*/ld:Equity/ld:Contribution"
)
# Reported amounts; balances are left out (an overdraft is a negative balance).
_RESULT_AMOUNTS = xpath(
    "//ld:RequestedAmount|//ld:ActualAmount|//ld:DeductedAmount|//ld:NotDeductedAmount|//ld:ReleasedAmount"
    "|//ld:PriorityRight/ld:Amount|//ld:PriorMeasure/ld:Amount|//ld:TransactionRecord/ld:Amount"
)
# DishonestListing/Period counts years, not dates, and is checked by the listing rules.
_MEASURE_PERIODS = xpath("//ld:Period[ld:Start][not(parent::ld:Query)]")
_QUERY_PERIODS = xpath("//ld:Query/ld:Period")
_CONTINUED = xpath("/ld:Document/ld:AssistanceNotice/ld:BankContinuedFreeze")
_RELEASES = xpath("/ld:Document/ld:ReleaseNotice/ld:Release")
_PAYING_MEASURES = xpath(
    "/ld:Document/ld:AssistanceNotice/*[self::ld:BankDeduct or self::ld:HousingFundExtract"
    " or self::ld:SocialInsuranceExtract or self::ld:InsuranceExtract or self::ld:TaxRefundExtract"
    " or self::ld:SecuritiesDeduct]"
)
_BANK_MEASURES = xpath(
    "/ld:Document/ld:AssistanceNotice/*[self::ld:BankFreeze or self::ld:BankRotatingFreeze"
    " or self::ld:BankContinuedFreeze or self::ld:BankDeduct]"
)
_BANK_UNFREEZES = xpath("/ld:Document/ld:ReleaseNotice/ld:Release[ld:Kind='BankUnfreeze']")
_PERSON_MEASURES = xpath(
    "/ld:Document/ld:AssistanceNotice/*[self::ld:ExitRestriction or self::ld:LocatePerson][not(ld:NaturalPerson)]"
)
_TRANSACTION_QUERIES = xpath("/ld:Document/ld:QueryNotice/ld:Query[ld:Kind='BankTransactions'][not(ld:Period)]")
_NS = "{urn:liandong:v1}"


@rule("RULE_AMOUNT_NOT_POSITIVE", types={"AssistanceNotice", "ReleaseNotice"}, source="003 银行网络执行查控工作规范 9")
def request_amounts_positive(ctx: RuleContext) -> Iterator[Problem]:
    """Every amount a court asks to freeze, deduct, extract or release is greater than zero."""
    for elem in _REQUEST_AMOUNTS(ctx.root):
        value = as_decimal((elem.text or "").strip())
        if value is None or value <= 0:
            yield report("RULE_AMOUNT_NOT_POSITIVE", elem)


@rule("RULE_AMOUNT_NEGATIVE")
def reported_amounts_not_negative(ctx: RuleContext) -> Iterator[Problem]:
    """Reported amounts (requested, frozen, deducted, not deducted, priority rights) are never negative."""
    for elem in _RESULT_AMOUNTS(ctx.root):
        value = as_decimal((elem.text or "").strip())
        if value is None or value < 0:
            yield report("RULE_AMOUNT_NEGATIVE", elem)


@rule("RULE_PERIOD_ORDER", source="003 银行网络执行查控工作规范 10")
def periods_ordered(ctx: RuleContext) -> Iterator[Problem]:
    """Every period of a measure (freeze, seizure, control period) ends after it starts; a query
    period includes both ends, so it may be a single day."""
    for elems, same_day_ok in ((_MEASURE_PERIODS(ctx.root), False), (_QUERY_PERIODS(ctx.root), True)):
        for elem in elems:
            start, end = as_date(child_text(elem, "Start")), as_date(child_text(elem, "End"))
            if start is None or end is None or end < start or (end == start and not same_day_ok):
                yield report("RULE_PERIOD_ORDER", elem)


@rule("RULE_MEASURE_REFERENCE", types={"AssistanceNotice", "ReleaseNotice"}, source="003 银行网络执行查控工作规范 10; 001 第二十一条")
def continuation_and_release_named(ctx: RuleContext) -> Iterator[Problem]:
    """A continued freeze names the freeze it continues; a release names the measure it lifts."""
    for elem in _CONTINUED(ctx.root):
        if elem.find(_NS + "Continues") is None:
            yield report("RULE_MEASURE_REFERENCE", elem, measure="BankContinuedFreeze")
    for elem in _RELEASES(ctx.root):
        if elem.find(_NS + "Releases") is None:
            yield report("RULE_MEASURE_REFERENCE", elem, measure="Release")


@rule(
    "RULE_ENFORCEMENT_ACCOUNT",
    "RULE_FOREIGN_CURRENCY_ACCOUNT",
    types={"AssistanceNotice"},
    source="003 银行网络执行查控工作规范 13–14",
)
def deductions_name_court_account(ctx: RuleContext) -> Iterator[Problem]:
    """A deduction or extraction names the court's enforcement account; a foreign-currency
    deduction goes to an account in that currency."""
    for elem in _PAYING_MEASURES(ctx.root):
        account = elem.find(_NS + "EnforcementAccount")
        if account is None:
            yield report("RULE_ENFORCEMENT_ACCOUNT", elem)
            continue
        amount = elem.find(_NS + "Amount")
        currency = amount.get("Currency", "CNY") if amount is not None else "CNY"
        if (child_text(account, "Currency") or "CNY") != currency:
            yield report("RULE_FOREIGN_CURRENCY_ACCOUNT", account)


@rule("RULE_RULING_REQUIRED", types={"AssistanceNotice", "ReleaseNotice"}, source="003 银行网络执行查控工作规范 9")
def bank_measures_have_ruling(ctx: RuleContext) -> Iterator[Problem]:
    """Freezes, continued freezes, unfreezes and deductions at banks come with the enforcement ruling."""
    body = ctx.body
    if body is None or body.find(_NS + "Ruling") is not None:
        return
    for elem in [*_BANK_MEASURES(ctx.root), *_BANK_UNFREEZES(ctx.root)]:
        yield report("RULE_RULING_REQUIRED", elem)
        return


@rule("RULE_PERSON_REQUIRED", types={"AssistanceNotice"}, source="003 SPC–MPS 三(一)、(三)")
def person_measures_name_a_person(ctx: RuleContext) -> Iterator[Problem]:
    """Exit restriction and locating a person apply to natural persons only."""
    for elem in _PERSON_MEASURES(ctx.root):
        yield report("RULE_PERSON_REQUIRED", elem, measure=local(elem))


@rule("RULE_TRANSACTION_PERIOD", types={"QueryNotice"}, source="003 银行网络执行查控工作规范 6")
def transaction_queries_have_period(ctx: RuleContext) -> Iterator[Problem]:
    """A query for transaction details states the period it covers."""
    for elem in _TRANSACTION_QUERIES(ctx.root):
        yield report("RULE_TRANSACTION_PERIOD", elem)
