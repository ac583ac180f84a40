"""Rules on what units and courts answer: results, extensions, review suggestions, entrustments."""

from __future__ import annotations

from datetime import timedelta
from typing import Iterator

from broker.documents.document import CHINA_TZ
from broker.errors import Problem
from broker.rules.engine import RuleContext, as_datetime, as_decimal, child_text, report, rule, xpath

_NOT_DONE = xpath(
    "/ld:Document/ld:ExecutionReceipt/*[(self::ld:MeasureResult and (ld:Status='NotExecuted' or ld:Status='PartiallyExecuted'))"
    " or (self::ld:QueryResult and ld:Status='NotExecuted') or (self::ld:ReleaseResult and ld:Status='NotReleased')]"
)
_MEASURE_RESULTS = xpath("/ld:Document/ld:ExecutionReceipt/ld:MeasureResult")
_CARRIED_OUT = xpath("string(/ld:Document/ld:ReviewSuggestion/ld:MeasureCarriedOut)")
_EXTENSION = xpath("/ld:Document/ld:ExtensionNotice")
_URGENT = xpath("string(/ld:Document/ld:ItemEntrustment/ld:Urgent)")


@rule("RULE_RESULT_REASON", types={"ExecutionReceipt"}, source="003 银行网络执行查控工作规范 17")
def unexecuted_results_say_why(ctx: RuleContext) -> Iterator[Problem]:
    """A measure, query or release that was not (fully) carried out states the reason."""
    for elem in _NOT_DONE(ctx.root):
        if not child_text(elem, "Reason"):
            yield report("RULE_RESULT_REASON", elem)


@rule("RULE_DEDUCT_BALANCE", "RULE_FREEZE_RESULT", types={"ExecutionReceipt"}, source="003 银行网络执行查控工作规范 10, 15")
def result_amounts_add_up(ctx: RuleContext) -> Iterator[Problem]:
    """Deducted plus not-deducted equals the requested amount; no more is frozen than was asked."""
    for elem in _MEASURE_RESULTS(ctx.root):
        requested = as_decimal(child_text(elem, "RequestedAmount"))
        actual = as_decimal(child_text(elem, "ActualAmount"))
        deducted = as_decimal(child_text(elem, "DeductedAmount"))
        missing = as_decimal(child_text(elem, "NotDeductedAmount"))
        # Not deducted is what is left of the request, or of the frozen deposit when part of a
        # freeze is deducted (rule 15), so the two add up to at least the request, never less.
        if requested is not None and deducted is not None and (
            deducted > requested or (missing is not None and deducted + missing < requested)
        ):
            yield report("RULE_DEDUCT_BALANCE", elem)
        if requested is not None and actual is not None and deducted is None and actual > requested:
            yield report("RULE_FREEZE_RESULT", elem)


@rule("RULE_REVIEW_REFUSES", types={"ReviewSuggestion"}, source="001 第二十条")
def review_does_not_refuse(ctx: RuleContext) -> Iterator[Problem]:
    """A unit may object with a review suggestion, but must still carry out the measure."""
    if _CARRIED_OUT(ctx.root) not in ("true", "1"):
        yield report("RULE_REVIEW_REFUSES")


@rule("RULE_EXTENSION_REASON", types={"ExtensionNotice"}, source="002 四.7、四.13、四.14、四.17")
def extension_gives_reason(ctx: RuleContext) -> Iterator[Problem]:
    """A unit that cannot finish in time says why and proposes a new deadline."""
    for elem in _EXTENSION(ctx.root):
        if not child_text(elem, "Reason") or not child_text(elem, "ProposedDeadline"):
            yield report("RULE_EXTENSION_REASON", elem)


@rule("RULE_ENTRUSTMENT_DEADLINE", types={"ItemEntrustment"}, source="003 事项委托 第六条")
def entrustment_deadline(ctx: RuleContext) -> Iterator[Problem]:
    """An entrusted item gets 10 to 20 days, or 24 hours when urgent."""
    issued = as_datetime(ctx.header("IssuedAt"))
    deadline = as_datetime(ctx.header("Deadline"))
    if issued is None or deadline is None or issued.tzinfo is None or deadline.tzinfo is None:
        yield report("RULE_ENTRUSTMENT_DEADLINE", detail="the entrustment must state a deadline")
        return
    if _URGENT(ctx.root) in ("true", "1"):
        if deadline - issued > timedelta(hours=24):
            yield report("RULE_ENTRUSTMENT_DEADLINE", detail="urgent items are done within 24 hours")
        return
    # Days are counted by date in China time, the day of issue not counted (期间开始的日不计算在内).
    days = (deadline.astimezone(CHINA_TZ).date() - issued.astimezone(CHINA_TZ).date()).days
    if not 10 <= days <= 20:
        yield report("RULE_ENTRUSTMENT_DEADLINE", detail=f"{days} days")
