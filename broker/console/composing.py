"""The documents the console's forms make, and the pages of those forms: the 协助执行通知书 measure
by measure, the query and release notices, the clerk's answers, the preview as the 文书."""

from __future__ import annotations

from datetime import datetime
from typing import Any, get_args

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import ValidationError

from broker.console import documents as docs
from broker.console import releases, replies
from broker.console.forms import complete, field_errors, fields_of, nested
from broker.console.web import Console, page
from broker.documents import codec
from broker.documents.bodies import AssistanceNotice, ExecutionReceipt
from broker.documents.catalogue import EXECUTING_KINDS, MEASURE_UNIT_KINDS, UnitKind
from broker.documents.common import NaturalPerson, Officer, RulingRef
from broker.documents.document import CHINA_TZ, Document
from broker.documents.measures import Measure
from broker.documents.results import MeasureResult, ResultStatus
from broker.errors import Problem
from broker.gateway import answer as answers
from broker.gateway import status
from broker.gateway.problems import GatewayError
from broker.gateway.runtime import GatewayRuntime
from broker.parsing.hardened import parse
from broker.render.labels import ITEMS

_ID = frozenset({"MeasureId"})
MEASURES: dict[str, type] = {
    m.xml_tag: m
    for m in get_args(Measure)
    if complete(m, skip=_ID)  # type: ignore[attr-defined]
}
"""Every measure whose form can be generated (a measure that needs a list, of parcels say, has none)."""
MEASURE_FIELDS = {
    tag: fields_of(m, skip=_ID, choose={"Subject": NaturalPerson}) for tag, m in MEASURES.items()
}
"""The inputs of each measure, generated from its model (:mod:`broker.console.forms`)."""
OFFICER_FIELDS = fields_of(Officer)

# --- the freeze notice and the receipt from their forms -----------------------------------------------


class FormInvalid(Exception):
    def __init__(self, errors: dict[str, str]):
        self.errors = errors


def measure_count(value: str) -> int:
    """How many measures the form has: 1 to 20 (anything else: 1, never an error page)."""
    return max(1, min(int(value), 20)) if value.strip().isdigit() else 1


def measure_kind(form: dict[str, str], i: int) -> str:
    kind = form.get(f"M{i}.kind", "BankFreeze")
    return kind if kind in MEASURES else "BankFreeze"


def freeze_notice(rt: GatewayRuntime, form: dict[str, str], count: int) -> bytes:
    """The unsigned 协助执行通知书 of the form: ``count`` measures (M1, M2, ...), each of the
    kind chosen (a freeze unless another is), validated by its model; which unit kind may take
    which measure is the rules' to say (001 art. 19; 003 bank rules 9–10)."""
    errors: dict[str, str] = {}
    measures = []
    for i in range(1, count + 1):
        try:
            measures.append(
                MEASURES[measure_kind(form, i)].model_validate({"MeasureId": f"M{i}", **nested(form, f"M{i}")})
            )
        except ValidationError as exc:
            errors.update(field_errors(exc, f"M{i}"))
    officers = []
    for i in (1, 2):
        data = nested(form, f"Officer{i}")
        if not data:
            continue
        try:
            officers.append(Officer.model_validate(data))
        except ValidationError as exc:
            errors.update(field_errors(exc, f"Officer{i}"))
    for name in ("Recipient", "CaseNumber"):
        if not form.get(name, "").strip():
            errors[name] = "必填 / required"
    if errors:
        raise FormInvalid(errors)
    ruling = form.get("RulingNumber", "").strip()
    notice = AssistanceNotice(
        ruling=RulingRef(ruling_number=ruling) if ruling else None,
        measures=measures,
        remark=form.get("Remark", "").strip() or None,
    )
    document = Document.create(
        notice,
        sender=rt.unit,
        recipient=form["Recipient"].strip(),
        case_number=form["CaseNumber"].strip(),
        officers=officers,
    )
    return codec.to_bytes(document)


def recipients(rt: GatewayRuntime) -> list[Any]:
    """The member units a court's notice can go to: every executing unit but the courts."""
    registry = rt.checker.registry
    return [
        u
        for u in (registry.units if registry else [])
        if u.kind in EXECUTING_KINDS and u.kind is not UnitKind.COURT
    ]


def compose_page_for(
    console: Console,
    request: Request,
    rt: GatewayRuntime,
    form: dict[str, str],
    count: int,
    errors: dict[str, str],
    problems: list[Problem],
    status_code: int = 200,
) -> Response:
    registry = rt.checker.registry
    units = recipients(rt)
    recipient = form.get("Recipient") or next((u.code for u in units if u.kind is UnitKind.BANK), "")
    kind = registry.kind_of(recipient) if registry else None
    # the measures the recipient's kind can take (catalogue), the freeze first
    kinds = [(t, ITEMS.get(t, t)) for t in MEASURES if kind is None or kind in MEASURE_UNIT_KINDS.get(t, ())]
    allowed = [t for t, _ in kinds] or ["BankFreeze"]
    chosen = [measure_kind(form, i) if measure_kind(form, i) in allowed else allowed[0] for i in range(1, count + 1)]
    measures = [(i, kind, MEASURE_FIELDS[kind]) for i, kind in enumerate(chosen, 1)]
    return page(
        console,
        request,
        "compose.html",
        status_code,
        unit=rt.unit,
        form={"Recipient": recipient, **form, **{f"M{i}.kind": k for i, k in enumerate(chosen, 1)}},
        count=count,
        measures=measures,
        kinds=kinds,
        officer_fields=OFFICER_FIELDS,
        errors=errors,
        problems=problems,
        units=units,
    )


def receipt_of(rt: GatewayRuntime, document_id: str, form: dict[str, str]) -> ExecutionReceipt:
    """The receipt of result of the clerk's form: one result per measure of the notice."""
    notice = docs.received(rt, document_id)
    results, errors = [], {}
    for measure in getattr(notice.body, "measures", []):
        mid = measure.measure_id
        data: dict[str, Any] = {"MeasureId": mid, "Status": form.get(f"{mid}.Status", "")}
        for name in ("RequestedAmount", "ActualAmount"):
            if form.get(f"{mid}.{name}", "").strip():
                data[name] = {"Value": form[f"{mid}.{name}"].strip(), "Currency": "CNY"}
        if getattr(measure, "period", None) is not None and data["Status"] != ResultStatus.NOT_EXECUTED:
            data["Period"] = measure.period.model_dump(by_alias=True)
        if form.get(f"{mid}.Reason", "").strip():
            data["Reason"] = form[f"{mid}.Reason"].strip()
        try:
            results.append(MeasureResult.model_validate(data))
        except ValidationError as exc:
            errors.update(field_errors(exc, mid))
    if errors:
        raise FormInvalid(errors)
    if not results:
        raise GatewayError.of("GW_NOT_ANSWERABLE", doc_type=notice.header.document_type.value)
    return ExecutionReceipt(results=results, remark=form.get("Remark", "").strip() or None)


def answer_page(
    console: Console,
    request: Request,
    rt: GatewayRuntime,
    document_id: str,
    form: dict[str, str],
    problems: list[Problem],
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    reply: tuple[str, dict[str, str], dict[str, str]] | None = None,
) -> Response:
    """The document to answer, the result form (or the receipt given), and the forms of the
    other answers its type allows (:data:`broker.gateway.answer.ANSWERS_TO`), each replaced by
    the answer once given; ``reply`` is a posted reply form to show again (kind, values, errors)."""
    notice = docs.received(rt, document_id)
    given = rt.state.answer(document_id)
    doc_type = notice.header.document_type.value
    measures = getattr(notice.body, "measures", None) or []
    others = {
        kind: {
            "allowed": doc_type in answers.ANSWERS_TO[model.xml_tag]
            and (kind != "lead" or any(m.xml_tag in replies.LEAD_MEASURES for m in measures)),
            "given": docs.receipt(rt.store, found.document_id, sent=True)
            if (found := rt.state.answer(document_id, model.xml_tag))
            else None,
            "form": reply[1] if reply and reply[0] == kind else {},
            "errors": reply[2] if reply and reply[0] == kind else {},
        }
        for kind, model in replies.KINDS.items()
    }
    return page(
        console,
        request,
        "answer.html",
        status_code,
        unit=rt.unit,
        document_id=document_id,
        wenshu=docs.wenshu(rt, status.sealed_xml(rt.store, document_id)),
        view=docs.view(notice),
        seal=docs.seal(status.sealed_xml(rt.store, document_id)),
        due=docs.due(rt, rt.store.get_received(document_id)),
        answered=docs.receipt(rt.store, given.document_id, sent=True) if given else None,
        form=form,
        errors=errors or {},
        problems=problems,
        statuses=list(ResultStatus),
        others=others,
        items=status.items_of(parse(status.sealed_xml(rt.store, document_id))),
        lead_measures=[m.measure_id for m in measures if m.xml_tag in replies.LEAD_MEASURES],
        subject=next((m.subject for m in measures if m.xml_tag in replies.LEAD_MEASURES), None),
    )


def other_notice_page(
    console: Console,
    request: Request,
    rt: GatewayRuntime,
    template: str,
    form: dict[str, str],
    errors: dict[str, str],
    problems: list[Problem],
    status_code: int = 200,
) -> Response:
    """The query notice's or the release notice's form (``template``), filled with ``form``."""
    units = recipients(rt)
    case = form.get("CaseNumber", "")
    notices = releases.case_notices(rt, case) if template == "release.html" and case else []
    if notices and "RulingNumber" not in form:
        # a release rests on a ruling as the freeze did (RULE_RULING_REQUIRED): offer the notice's
        form = {**form, "RulingNumber": next((n["ruling"] for n in notices if n["ruling"]), None) or ""}
    return page(
        console,
        request,
        template,
        status_code,
        unit=rt.unit,
        form=form,
        errors=errors,
        problems=problems,
        units=units,
        case=case,
        notices=notices,
        reasons=releases.REASONS,
        officer_fields=OFFICER_FIELDS,
        query_fields=releases.QUERY_FIELDS,
    )


async def checked_preview(
    console: Console,
    request: Request,
    rt: GatewayRuntime,
    template: str,
    form: dict[str, str],
    build: Any,
) -> Response:
    """Build the draft with ``build``, check it as the hub will, and preview it for sealing (the
    same preview and publish as the assistance notice); the form again with what is wrong."""
    try:
        draft = build(rt, form)
    except releases.NoticeInvalid as exc:
        return other_notice_page(console, request, rt, template, form, exc.errors, [], 422)
    checked = await run_in_threadpool(
        rt.checker.check, draft, signed=False, received_at=datetime.now(CHINA_TZ)
    )
    if not checked.ok:
        return other_notice_page(console, request, rt, template, form, {}, checked.problems, 422)
    return page(
        console,
        request,
        "preview.html",
        unit=rt.unit,
        draft=draft.decode("utf-8"),
        view=docs.view(codec.from_element(parse(draft))),
        xml=draft.decode("utf-8"),
        wenshu=docs.wenshu(rt, draft),
    )


