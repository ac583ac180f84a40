"""Rules on what courts ask for: amounts, periods, references, accounts, rulings, subjects."""

from __future__ import annotations

import re
from typing import Iterator

from broker.errors import Problem
from broker.rules.engine import RuleContext, as_date, as_decimal, child_text, indexed, is_non_finite, local, report, rule, xpath

_REQUEST_AMOUNTS = xpath(
    "/ld:Document/ld:AssistanceNotice/*/ld:Amount|/ld:Document/ld:ReleaseNotice/ld:Release/ld:Amount"
    "|/ld:Document/ld:AssistanceNotice/*/ld:Equity/ld:Contribution"
)
# Reported amounts; balances are left out (an overdraft is a negative balance).
_RESULT_AMOUNTS = indexed(
    "RequestedAmount", "ActualAmount", "DeductedAmount", "NotDeductedAmount", "ReleasedAmount", "Amount"
)
# Of the "Amount" elements, only those of priority rights, earlier measures and transactions are
# reported amounts; the others are requests (checked above) or balances (which may be negative).
_REPORTED_AMOUNT_PARENTS = {"PriorityRight", "PriorMeasure", "TransactionRecord"}
_ALL_AMOUNTS = (*_RESULT_AMOUNTS, *indexed("Contribution"))
"""Every element the amount rules read (the requested Amount and Contribution, reported amounts)."""
_LETTERS_BUT_E = re.compile(r"[A-DF-Za-df-z]")
_PERIODS = indexed("Period")
_CONTINUED = xpath("/ld:Document/ld:AssistanceNotice/ld:BankContinuedFreeze")
_RELEASES = xpath("/ld:Document/ld:ReleaseNotice/ld:Release")
_NS = "{urn:liandong:v1}"
# Measures are the notice's direct children; filtering them by tag is cheaper than XPath predicates.
_PAYING_MEASURES = frozenset(
    _NS + t
    for t in ("BankDeduct", "HousingFundExtract", "SocialInsuranceExtract", "InsuranceExtract", "TaxRefundExtract", "SecuritiesDeduct")
)
_BANK_MEASURES = frozenset(_NS + t for t in ("BankFreeze", "BankRotatingFreeze", "BankContinuedFreeze", "BankDeduct"))
_PERSON_MEASURES = frozenset(_NS + t for t in ("ExitRestriction", "LocatePerson"))
_BANK_UNFREEZES = xpath("/ld:Document/ld:ReleaseNotice/ld:Release[ld:Kind='BankUnfreeze']")
_TRANSACTION_QUERIES = xpath("/ld:Document/ld:QueryNotice/ld:Query[ld:Kind='BankTransactions'][not(ld:Period)]")


@rule("RULE_AMOUNT_NOT_POSITIVE", types={"AssistanceNotice", "ReleaseNotice"}, source="003 银行网络执行查控工作规范 9")
def request_amounts_positive(ctx: RuleContext) -> Iterator[Problem]:
    """Every amount a court asks to freeze, deduct, extract or release is greater than zero."""
    for elem in _REQUEST_AMOUNTS(ctx.root):
        text = (elem.text or "").strip()
        value = as_decimal(text)
        if (value is None or value <= 0) and not is_non_finite(text):
            yield report("RULE_AMOUNT_NOT_POSITIVE", elem)


@rule("RULE_AMOUNT_NEGATIVE")
def reported_amounts_not_negative(ctx: RuleContext) -> Iterator[Problem]:
    """Reported amounts (requested, frozen, deducted, not deducted, priority rights) are never negative."""
    for elem in ctx.named(*_RESULT_AMOUNTS):
        if local(elem) == "Amount" and local(elem.getparent()) not in _REPORTED_AMOUNT_PARENTS:
            continue
        text = (elem.text or "").strip()
        value = as_decimal(text)
        if (value is None or value < 0) and not is_non_finite(text):
            yield report("RULE_AMOUNT_NEGATIVE", elem)


@rule("RULE_AMOUNT_NOT_FINITE")
def amounts_finite(ctx: RuleContext) -> Iterator[Problem]:
    """No amount (requested or reported) is NaN or infinite: the XSD refuses them, but the rules
    also run on documents it refused, and a NaN cannot even be compared."""
    for elem in ctx.named(*_ALL_AMOUNTS):
        text = elem.text
        # a finite decimal has no letter but an exponent's E: only then is it read
        if text and _LETTERS_BUT_E.search(text) and is_non_finite(text.strip()):
            yield report("RULE_AMOUNT_NOT_FINITE", elem)


@rule("RULE_PERIOD_ORDER", source="003 银行网络执行查控工作规范 10")
def periods_ordered(ctx: RuleContext) -> Iterator[Problem]:
    """Every period of a measure (freeze, seizure, control period) ends after it starts; a query
    period includes both ends, so it may be a single day."""
    for elem in ctx.named(*_PERIODS):
        if elem.find(_NS + "Start") is None:
            continue  # DishonestListing/Period counts years, not dates: the listing rules check it
        same_day_ok = local(elem.getparent()) == "Query"
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
    for elem in ctx.body_items():
        if elem.tag not in _PAYING_MEASURES:
            continue
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
    bank = [e for e in ctx.body_items() if e.tag in _BANK_MEASURES] or _BANK_UNFREEZES(ctx.root)
    if bank:
        yield report("RULE_RULING_REQUIRED", bank[0])


@rule("RULE_PERSON_REQUIRED", types={"AssistanceNotice"}, source="003 SPC–MPS 三(一)、(三)")
def person_measures_name_a_person(ctx: RuleContext) -> Iterator[Problem]:
    """Exit restriction and locating a person apply to natural persons only."""
    for elem in ctx.body_items():
        if elem.tag in _PERSON_MEASURES and elem.find(_NS + "NaturalPerson") is None:
            yield report("RULE_PERSON_REQUIRED", elem, measure=local(elem))


@rule("RULE_TRANSACTION_PERIOD", types={"QueryNotice"}, source="003 银行网络执行查控工作规范 6")
def transaction_queries_have_period(ctx: RuleContext) -> Iterator[Problem]:
    """A query for transaction details states the period it covers."""
    for elem in _TRANSACTION_QUERIES(ctx.root):
        yield report("RULE_TRANSACTION_PERIOD", elem)
