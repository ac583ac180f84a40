"""Rules on identifiers and the header: check characters, case numbers, what each type must state."""

from __future__ import annotations

from collections import Counter
from typing import Iterator

from broker.documents.catalogue import CASE_TYPES, OFFICER_TYPES, REPLY_TYPES
from broker.documents.identifiers import birth_date_of, gender_of, parse_case_number, resident_id_is_valid, uscc_is_valid
from broker.errors import Problem
from broker.rules.engine import RuleContext, as_datetime, child_text, indexed, local, report, rule
from broker.rules.routing import outside_a_case, status_query_from_a_unit

_UNIT_CODES = indexed(
    "Sender", "Recipient", "UnitCode", "CompanyCode", "AuthorityCode", "ServedSender", "ServedRecipient",
    "UndeliveredTo", "Unit",
)
_ID_NUMBERS = indexed("IdNumber")
_ITEM_ATTRIBUTES = ("MeasureId", "QueryId", "ReleaseId")


@rule("RULE_ID_ATTRIBUTE", "RULE_BODY_TYPE", "RULE_SELF_ADDRESSED")
def header_consistent(ctx: RuleContext) -> Iterator[Problem]:
    """The root ``Id`` is ``ld-`` plus the document id; the body element is the declared type;
    a document is not addressed to its own sender."""
    if ctx.root.get("Id") != "ld-" + ctx.header("DocumentId"):
        yield report("RULE_ID_ATTRIBUTE", ctx.root)
    body = ctx.body
    if body is not None and local(body) != ctx.doc_type:
        yield report("RULE_BODY_TYPE", body, doc_type=ctx.doc_type, body=local(body))
    if ctx.sender and ctx.sender == ctx.recipient:
        yield report("RULE_SELF_ADDRESSED")


def _foreign_digits(value: str) -> bool:
    """Whether ``value`` holds digits other than 0-9 (full-width ０-９, Arabic-Indic ٠-٩, ...),
    which Python's int() and a Unicode \\d accept as digits."""
    return not value.isascii() and any(c.isdigit() for c in value if not c.isascii())


@rule("RULE_UNIT_CODE_DIGITS", source="GB 32100-2015")
def unit_code_digits(ctx: RuleContext) -> Iterator[Problem]:
    """No unit code holds digits other than the ASCII 0-9: a look-alike code would name no member
    (or, read by int(), the wrong one)."""
    for elem in ctx.named(*_UNIT_CODES):
        if _foreign_digits((elem.text or "").strip()):
            yield report("RULE_UNIT_CODE_DIGITS", elem)


@rule("RULE_USCC", source="GB 32100-2015")
def unit_codes(ctx: RuleContext) -> Iterator[Problem]:
    """Every unit code (sender, recipient, organisations, companies, authorities) has a valid
    GB 32100-2015 check character (a code with foreign digits has its own code, above)."""
    for elem in ctx.named(*_UNIT_CODES):
        value = (elem.text or "").strip()
        if not uscc_is_valid(value) and not _foreign_digits(value):
            yield report("RULE_USCC", elem, value=value)


@rule("RULE_ID_NUMBER", "RULE_ID_BIRTHDATE", "RULE_GENDER_MISMATCH", source="GB 11643-1999")
def id_numbers(ctx: RuleContext) -> Iterator[Problem]:
    """Every resident ID number has a valid ISO 7064 MOD 11-2 check character and a real birth
    date; a stated gender matches the ID number's sequence digit."""
    for elem in ctx.named(*_ID_NUMBERS):
        value = (elem.text or "").strip()
        if not resident_id_is_valid(value):
            yield report("RULE_ID_NUMBER", elem)
            continue
        born = birth_date_of(value)
        if born is None or born > ctx.today:
            yield report("RULE_ID_BIRTHDATE", elem)
            continue
        gender = child_text(elem.getparent(), "Gender")
        if gender and gender != gender_of(value):
            yield report("RULE_GENDER_MISMATCH", elem.getparent())


@rule("RULE_CASE_NUMBER", source="DOMAIN.md Identifiers")
def case_numbers(ctx: RuleContext) -> Iterator[Problem]:
    """The case number reads like ``（2024）粤53执123号``: year, court, enforcement case word, sequence."""
    # Only the document's own case must be an enforcement case: earlier freezes a bank reports may
    # come from civil preservation (民初, 财保) or other authorities (003 bank rules 10).
    elem = ctx.header_element("CaseNumber")
    if elem is not None:
        value = (elem.text or "").strip()
        if parse_case_number(value, today=ctx.today) is None:
            yield report("RULE_CASE_NUMBER", elem, value=value)


@rule("RULE_CASE_NUMBER_REQUIRED", types=CASE_TYPES)
def case_number_present(ctx: RuleContext) -> Iterator[Problem]:
    """Documents of an enforcement case carry its case number (a unit's check of the dishonest
    list belongs to no case)."""
    if not ctx.header("CaseNumber") and not outside_a_case(ctx):
        yield report("RULE_CASE_NUMBER_REQUIRED", doc_type=ctx.doc_type)


@rule("RULE_REPLY_REQUIRED", types=REPLY_TYPES)
def reply_names_original(ctx: RuleContext) -> Iterator[Problem]:
    """Receipts, extension notices, review suggestions and other answers name the document they
    answer, so the hub can route them back to its sender."""
    if not ctx.header("InReplyTo"):
        yield report("RULE_REPLY_REQUIRED", doc_type=ctx.doc_type)


@rule("RULE_OFFICERS_REQUIRED", types=OFFICER_TYPES, source="003 银行网络执行查控工作规范 3; 002 四.7")
def officers_named(ctx: RuleContext) -> Iterator[Problem]:
    """Notices name the officers handling them, with phone and credential number (a unit's check
    of the dishonest list has none)."""
    if ctx.header_element("Officer") is None and not status_query_from_a_unit(ctx):
        yield report("RULE_OFFICERS_REQUIRED", doc_type=ctx.doc_type)


@rule("RULE_DUPLICATE_ITEM_ID")
def item_ids_unique(ctx: RuleContext) -> Iterator[Problem]:
    """Measure, query and release ids are unique within a document (receipts answer them by id)."""
    # Items (measures, queries, releases, their results) are the body's direct children.
    counts = Counter(v for item in ctx.body_items() for a in _ITEM_ATTRIBUTES if (v := item.get(a)) is not None)
    for value, n in counts.items():
        if n > 1:
            yield report("RULE_DUPLICATE_ITEM_ID", value=value)


@rule("RULE_DEADLINE_ORDER")
def deadline_after_issue(ctx: RuleContext) -> Iterator[Problem]:
    """A stated deadline lies after the issue time."""
    deadline = as_datetime(ctx.header("Deadline"))
    issued = as_datetime(ctx.header("IssuedAt"))
    if deadline and issued and deadline.tzinfo and issued.tzinfo and deadline <= issued:
        yield report("RULE_DEADLINE_ORDER")
