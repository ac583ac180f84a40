"""The officer's two other notices, built from their forms: a query notice (协助查询通知书,
003 bank rules 6; 002 四.7(1)) and a release notice (解除协助执行通知书, 001 art. 21;
003 SPC–MPS 三(三)) that lifts measures of an earlier assistance notice of the case.

A release is chosen, not typed: the page lists the measures of the notices this court sent in
the case, and each ticked one becomes a release naming it (document id and measure id), of the
kind that undoes it (:data:`broker.documents.catalogue.RELEASABLE`), with the measure's own
subject. The hub's rules then check it as any release (the measure exists, was served, ...).
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from broker.console.forms import field_errors, fields_of, nested
from broker.documents import codec
from broker.documents.bodies import QueryNotice, ReleaseNotice
from broker.documents.catalogue import RELEASABLE
from broker.documents.common import MeasureRef, NaturalPerson, Officer, RulingRef
from broker.documents.document import Document
from broker.documents.measures import Release, ReleaseReason
from broker.documents.queries import Query
from broker.gateway import status
from broker.gateway.runtime import GatewayRuntime
from broker.parsing.hardened import parse
from broker.render.labels import ITEMS

QUERY_FIELDS = fields_of(Query, skip=frozenset({"QueryId"}), choose={"Subject": NaturalPerson})
"""The inputs of one query (``Q1.``), generated from its model."""

REASONS = {
    ReleaseReason.PERFORMED: "被执行人已履行",
    ReleaseReason.APPLICANT_AGREED: "申请执行人同意解除",
    ReleaseReason.GUARANTEE_PROVIDED: "已提供担保",
    ReleaseReason.CASE_COMPLETED: "案件已结案",
    ReleaseReason.OTHER: "其他",
}
CHOICE = "release."
"""A ticked measure: ``release.{document id}.{measure id}``."""


class NoticeInvalid(Exception):
    """Fields of the form that are missing or refused, by input name."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors


def _release_kind(measure_tag: str) -> Any:
    return next((k for k, tags in RELEASABLE.items() if measure_tag in tags), None)


def case_notices(rt: GatewayRuntime, case: str) -> list[dict[str, Any]]:
    """The assistance notices this unit sent in ``case`` and the hub served, each measure with
    whether a release already names it."""
    found = []
    for sent in rt.store.sent():
        if sent.doc_type != "AssistanceNotice":
            continue
        root = parse(sent.raw)
        if status._CASE(root) != case:
            continue
        state = status.document_status(rt.store, sent.document_id)
        if not state["service"]:
            continue
        released = {r["measure"] for r in state["releases"]}
        notice = codec.from_element(root)
        found.append(
            {
                "document_id": sent.document_id,
                "recipient": notice.header.recipient,
                "ruling": getattr(notice.body.ruling, "ruling_number", None),
                "measures": [
                    {
                        "id": m.measure_id,
                        "kind": ITEMS.get(m.xml_tag, m.xml_tag),
                        "subject": getattr(m.subject, "name", ""),
                        "released": m.measure_id in released,
                        "releasable": _release_kind(m.xml_tag) is not None,
                    }
                    for m in notice.body.measures
                ],
            }
        )
    return found


def officers(form: dict[str, str], errors: dict[str, str]) -> list[Officer]:
    """Officer1 (required) and Officer2 of the form; their errors into ``errors``."""
    found = []
    for i in (1, 2):
        data = nested(form, f"Officer{i}")
        if not data:
            if i == 1:
                errors["Officer1.Name"] = "必填 / required"
            continue
        try:
            found.append(Officer.model_validate(data))
        except ValidationError as exc:
            errors.update(field_errors(exc, f"Officer{i}"))
    return found


def release_notice(rt: GatewayRuntime, form: dict[str, str]) -> bytes:
    """The unsigned release notice of the ticked measures (all of notices to one unit: a
    release notice goes to the unit that carries the measures out)."""
    case = form.get("CaseNumber", "").strip()
    notices = {n["document_id"]: n for n in case_notices(rt, case)} if case else {}
    errors: dict[str, str] = {}
    chosen = []
    for key, value in form.items():
        if not key.startswith(CHOICE) or not value:
            continue
        document_id, _, measure_id = key[len(CHOICE) :].partition(".")
        if document_id not in notices:
            errors[key] = "不是本案已送达的通知书 / not a served notice of this case"
            continue
        chosen.append((document_id, measure_id))
    if not chosen and not errors:
        errors["release"] = "请选择要解除的措施 / choose the measures to release"
    if len({notices[d]["recipient"] for d, _ in chosen}) > 1:
        errors["release"] = "一份解除通知书只发往一个协助执行单位 / one release notice goes to one unit"
    reason = form.get("Reason", "")
    if reason not in {r.value for r in ReleaseReason}:
        errors["Reason"] = "必填 / required"
    people = officers(form, errors)
    if errors:
        raise NoticeInvalid(errors)
    releases = []
    for n, (document_id, measure_id) in enumerate(chosen, 1):
        original = codec.from_element(parse(status.sealed_xml(rt.store, document_id)))
        measure = next((m for m in original.body.measures if m.measure_id == measure_id), None)
        kind = _release_kind(measure.xml_tag) if measure is not None else None
        if measure is None or kind is None:
            raise NoticeInvalid({f"{CHOICE}{document_id}.{measure_id}": "不能解除 / cannot be released"})
        releases.append(
            Release(
                release_id=f"R{n}",
                kind=kind,
                releases=MeasureRef(document_id=document_id, measure_id=measure_id),
                subject=measure.subject,
                reason=ReleaseReason(reason),
                remark=form.get("Remark", "").strip() or None,
            )
        )
    ruling = form.get("RulingNumber", "").strip()
    document = Document.create(
        ReleaseNotice(ruling=RulingRef(ruling_number=ruling) if ruling else None, releases=releases),
        sender=rt.unit,
        recipient=notices[chosen[0][0]]["recipient"],
        case_number=case,
        officers=people,
    )
    return codec.to_bytes(document)


def query_notice(rt: GatewayRuntime, form: dict[str, str]) -> bytes:
    """The unsigned query notice of the form: one query (``Q1.``), validated by its model;
    which unit kind answers which query is the rules' to say (003 bank rules 6)."""
    errors: dict[str, str] = {}
    queries = []
    try:
        queries.append(Query.model_validate({"QueryId": "Q1", **nested(form, "Q1")}))
    except ValidationError as exc:
        errors.update(field_errors(exc, "Q1"))
    people = officers(form, errors)
    for name in ("Recipient", "CaseNumber"):
        if not form.get(name, "").strip():
            errors[name] = "必填 / required"
    if errors:
        raise NoticeInvalid(errors)
    document = Document.create(
        QueryNotice(queries=queries, remark=form.get("Remark", "").strip() or None),
        sender=rt.unit,
        recipient=form["Recipient"].strip(),
        case_number=form["CaseNumber"].strip(),
        officers=people,
    )
    return codec.to_bytes(document)
