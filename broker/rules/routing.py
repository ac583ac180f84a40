"""Rules that need the member registry: known units, allowed directions, the right unit kind
for each measure and query, and the court's registered enforcement accounts."""

from __future__ import annotations

from typing import Iterator

from broker.documents.catalogue import DIRECTIONS, MEASURE_UNIT_KINDS, QUERY_UNIT_KINDS, RELEASE_UNIT_KINDS, UnitKind
from broker.documents.measures import ReleaseKind
from broker.documents.queries import QueryKind
from broker.errors import Problem
from broker.rules.engine import RuleContext, child_text, local, report, rule, xpath

_MEASURES = xpath("/ld:Document/ld:AssistanceNotice/*[@MeasureId]")
_QUERIES = xpath("/ld:Document/ld:QueryNotice/ld:Query")
_RELEASES = xpath("/ld:Document/ld:ReleaseNotice/ld:Release")
_ENFORCEMENT_ACCOUNTS = xpath("/ld:Document/ld:AssistanceNotice/*/ld:EnforcementAccount")


@rule("RULE_UNKNOWN_UNIT", "RULE_DIRECTION", "ROUTE_TYPE_NOT_ACCEPTED", registry=True, source="DOMAIN.md Documents")
def direction_allowed(ctx: RuleContext) -> Iterator[Problem]:
    """Sender and recipient are members of the network, this type of document may go from the
    sender's kind of unit to the recipient's (courts issue notices, units answer them, ...), and
    the recipient accepts the type (the registry may narrow what a unit receives)."""
    assert ctx.registry is not None
    kinds = {}
    for unit in (ctx.sender, ctx.recipient):
        kind = ctx.registry.kind_of(unit)
        if kind is None:
            yield report("RULE_UNKNOWN_UNIT", unit=unit)
        kinds[unit] = kind
    direction = DIRECTIONS.get(ctx.doc_type)
    sender_kind, recipient_kind = kinds.get(ctx.sender), kinds.get(ctx.recipient)
    if direction is None or sender_kind is None or recipient_kind is None:
        return
    if sender_kind not in direction.senders or recipient_kind not in direction.recipients:
        yield report(
            "RULE_DIRECTION", doc_type=ctx.doc_type, sender_kind=sender_kind.value, recipient_kind=recipient_kind.value
        )
        return
    unit = ctx.registry.unit(ctx.recipient)
    if unit is not None and ctx.doc_type not in unit.accepted:
        yield report("ROUTE_TYPE_NOT_ACCEPTED", recipient=ctx.recipient, doc_type=ctx.doc_type)


def status_query_from_a_unit(ctx: RuleContext) -> bool:
    """A query a member unit (not a court) sends to check the dishonest list (003 失信规定 art. 8)."""
    if ctx.doc_type != "QueryNotice" or ctx.registry is None:
        return False
    kind = ctx.registry.kind_of(ctx.sender)
    return kind is not None and kind is not UnitKind.COURT


def outside_a_case(ctx: RuleContext) -> bool:
    """A unit's check of the dishonest list, or its answer: no enforcement case, no officers."""
    if status_query_from_a_unit(ctx):
        return True
    if ctx.doc_type != "ExecutionReceipt" or ctx.registry is None:
        return False
    kind = ctx.registry.kind_of(ctx.recipient)
    return kind is not None and kind is not UnitKind.COURT


@rule("RULE_STATUS_QUERY_ONLY", types={"QueryNotice"}, registry=True, source="003 失信规定 第八条")
def units_only_check_the_list(ctx: RuleContext) -> Iterator[Problem]:
    """Courts query every unit; a unit that is not a court may only ask the credit platform
    whether a subject is on the dishonest list (before lending, tendering, ...)."""
    if not status_query_from_a_unit(ctx):
        return
    kinds = {child_text(q, "Kind") for q in _QUERIES(ctx.root)}
    if ctx.registry.kind_of(ctx.recipient) is not UnitKind.CREDIT_PLATFORM or kinds - {QueryKind.DISHONEST_STATUS.value}:  # type: ignore[union-attr]
        yield report("RULE_STATUS_QUERY_ONLY")


@rule(
    "RULE_MEASURE_UNIT_KIND",
    "RULE_QUERY_UNIT_KIND",
    types={"AssistanceNotice", "QueryNotice", "ReleaseNotice"},
    registry=True,
    source="001 arts. 6–17; 002 四; 004 arts. 10–31",
)
def unit_can_carry_out(ctx: RuleContext) -> Iterator[Problem]:
    """Each measure, query and release goes only to a kind of unit that can carry it out
    (an exit restriction to public security, a freeze of deposits to a bank, ...)."""
    assert ctx.registry is not None
    kind = ctx.registry.kind_of(ctx.recipient)
    if kind is None:
        return
    for elem in _MEASURES(ctx.root):
        if kind not in MEASURE_UNIT_KINDS.get(local(elem), ()):
            yield report("RULE_MEASURE_UNIT_KIND", elem, measure=local(elem), unit_kind=kind.value)
    for elem in _QUERIES(ctx.root):
        try:
            allowed = QUERY_UNIT_KINDS[QueryKind(child_text(elem, "Kind"))]
        except ValueError:
            continue
        if kind not in allowed:
            yield report("RULE_QUERY_UNIT_KIND", elem, query=child_text(elem, "Kind"), unit_kind=kind.value)
    for elem in _RELEASES(ctx.root):
        try:
            allowed = RELEASE_UNIT_KINDS[ReleaseKind(child_text(elem, "Kind"))]
        except ValueError:
            continue
        if kind not in allowed:
            yield report("RULE_MEASURE_UNIT_KIND", elem, measure=child_text(elem, "Kind"), unit_kind=kind.value)


@rule("RULE_ENFORCEMENT_ACCOUNT_UNREGISTERED", types={"AssistanceNotice"}, registry=True, source="003 银行网络执行查控工作规范 4、13–14")
def enforcement_account_registered(ctx: RuleContext) -> Iterator[Problem]:
    """Money goes only to an enforcement account the court registered in the network."""
    assert ctx.registry is not None
    court = ctx.registry.unit(ctx.sender)
    if court is None:
        return
    registered = {(a.bank_name, a.account_number, a.currency) for a in court.enforcement_accounts}
    for elem in _ENFORCEMENT_ACCOUNTS(ctx.root):
        key = (child_text(elem, "BankName"), child_text(elem, "AccountNumber"), child_text(elem, "Currency") or "CNY")
        if key not in registered:
            yield report("RULE_ENFORCEMENT_ACCOUNT_UNREGISTERED", elem, account=key[1] or "?")


_COMPLAINED_COURT = xpath("string(/ld:Document/ld:EntrustmentComplaint/ld:EntrustedCourt)")


@rule(
    "RULE_NOT_SUPERIOR_COURT",
    types={"EntrustmentComplaint", "ComplaintExplanation"},
    registry=True,
    source="003 事项委托 第十三条",
)
def complaint_goes_to_the_superior_court(ctx: RuleContext) -> Iterator[Problem]:
    """A complaint about an entrustment goes to the entrusted court's superior court, and the
    court complained about explains itself to that same court. The registry names each court's
    superior (``superior``); where it names none, any other court is accepted, but never the
    court complained about itself (it may explain, not judge the complaint)."""
    assert ctx.registry is not None
    court = _COMPLAINED_COURT(ctx.root) if ctx.doc_type == "EntrustmentComplaint" else ctx.sender
    entry = ctx.registry.unit(court)
    expected = entry.superior if entry is not None else None
    if ctx.recipient == court or (expected is not None and ctx.recipient != expected):
        yield report("RULE_NOT_SUPERIOR_COURT", doc_type=ctx.doc_type, court=court, expected=expected or "—")
