"""Reading the documents the ledger holds: the items a unit must answer, an extension's new
deadline, and the measures of a case still in place (for the outstanding-measures notice at case
completion, 004 art. 35)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from lxml import etree

from broker.deadlines.calendar import CHINA_TZ
from broker.documents.catalogue import RELEASABLE
from broker.documents.xmlmodel import NS
from broker.hub.ledger import DocumentRecord
from broker.parsing.hardened import parse

_LD = "{" + NS + "}"

RELEASABLE_MEASURES: frozenset[str] = frozenset().union(*RELEASABLE.values())
"""Measures that stay in place until released (freezes, seizures, bans, searches, records).
Deductions, extractions and transfers are final: nothing is left to release."""


def _find(root: etree._Element, *path: str) -> etree._Element | None:
    return root.find("/".join(_LD + p for p in path))


def _text(elem: etree._Element | None, name: str) -> str | None:
    if elem is None:
        return None
    child = elem.find(_LD + name)
    return None if child is None or child.text is None else child.text.strip()


def _local(elem: etree._Element) -> str:
    return etree.QName(elem).localname


def _amount(elem: etree._Element) -> tuple[Decimal, str] | None:
    child = elem.find(_LD + "Amount")
    if child is None or not child.text:
        return None
    try:
        return Decimal(child.text.strip()), child.get("Currency", "CNY")
    except InvalidOperation:
        return None


def document_items(doc_type: str, root: etree._Element) -> tuple[list[str], bool]:
    """The item kinds a deadline rule can be keyed on, and whether the document is urgent."""
    body = _find(root, doc_type)
    if body is None:
        return [], False
    if doc_type == "AssistanceNotice":
        return [_local(e) for e in body if isinstance(e.tag, str) and e.get("MeasureId")], False
    if doc_type == "QueryNotice":
        return [k for q in body.iter(_LD + "Query") if (k := _text(q, "Kind"))], False
    if doc_type == "ReleaseNotice":
        return [k for r in body.iter(_LD + "Release") if (k := _text(r, "Kind"))], False
    if doc_type == "ItemEntrustment":
        kinds = [k for i in body.iter(_LD + "Item") if (k := _text(i, "Kind"))]
        return kinds, (_text(body, "Urgent") or "").lower() in ("true", "1")
    if doc_type == "EntrustmentFeedback":
        outcome = _text(body, "Outcome")
        return ([outcome] if outcome else []), False
    return [], False


def extension_of(root: etree._Element | None, shift: timedelta) -> tuple[str, datetime | None]:
    """An extension notice's reason (stripped) and proposed deadline (on the supervision timeline)."""
    body = _find(root, "ExtensionNotice") if root is not None else None
    reason = (_text(body, "Reason") or "").strip()
    proposed = _text(body, "ProposedDeadline")
    return reason, (datetime.fromisoformat(proposed) + shift).astimezone(CHINA_TZ) if proposed else None


@dataclass(frozen=True)
class MeasureInPlace:
    """A measure of an assistance notice, as far as the case-completion check needs it."""

    document_id: str
    measure_id: str
    unit: str
    measure_type: str
    amount: tuple[Decimal, str] | None
    continues: tuple[str, str] | None


def outstanding_measures(notices: Iterable[DocumentRecord]) -> list[MeasureInPlace]:
    """Measures of a case still in place: every releasable measure of its assistance notices,
    minus those its release notices lift in full and those the unit reported as not executed.

    - A release with an amount lifts that much; the measure stays outstanding until the released
      amounts (same currency) reach its own amount (the example release of 100000.00 of a
      500000.00 freeze says 其余继续冻结). A release without an amount lifts the whole measure.
    - A continued freeze (续冻) and the freeze it continues are one freeze: releasing either lifts both.
    - A measure the unit's receipt of result reports as ``NotExecuted`` was never in place, and one
      a measure-status notice later reports as ``NotExecuted`` lapsed (a rotating seizure ends when
      the first seizing court transfers the property, 001 art. 12).
    - Deductions, extractions and transfers are final and never outstanding.
    """
    measures: dict[tuple[str, str], MeasureInPlace] = {}
    released_full: set[tuple[str, str]] = set()
    released_amounts: dict[tuple[str, str], dict[str, Decimal]] = {}
    not_executed: set[tuple[str, str]] = set()
    for document in notices:
        root = parse(document.raw)
        body = _find(root, document.doc_type)
        if body is None:
            continue
        if document.doc_type == "AssistanceNotice":
            for elem in body:
                if not isinstance(elem.tag, str) or not elem.get("MeasureId"):
                    continue
                kind = _local(elem)
                if kind not in RELEASABLE_MEASURES:
                    continue
                cont = _find(elem, "Continues")
                key = (document.document_id, elem.get("MeasureId"))
                measures[key] = MeasureInPlace(
                    document_id=key[0],
                    measure_id=key[1],
                    unit=document.recipient,
                    measure_type=kind,
                    amount=_amount(elem),
                    continues=(_text(cont, "DocumentId") or "", _text(cont, "MeasureId") or "")
                    if cont is not None
                    else None,
                )
        elif document.doc_type == "ReleaseNotice":
            for release in body.iter(_LD + "Release"):
                ref = _find(release, "Releases")
                if ref is None:
                    continue
                key = (_text(ref, "DocumentId") or "", _text(ref, "MeasureId") or "")
                amount = _amount(release)
                if amount is None:
                    released_full.add(key)
                else:
                    sums = released_amounts.setdefault(key, {})
                    sums[amount[1]] = sums.get(amount[1], Decimal(0)) + amount[0]
        elif document.doc_type == "ExecutionReceipt" and document.in_reply_to:
            for result in body.iter(_LD + "MeasureResult"):
                if _text(result, "Status") == "NotExecuted" and result.get("MeasureId"):
                    not_executed.add((document.in_reply_to, result.get("MeasureId")))
        elif document.doc_type == "MeasureStatusNotice" and _text(body, "Status") == "NotExecuted":
            ref = _find(body, "Measure")
            if ref is not None:
                not_executed.add((_text(ref, "DocumentId") or "", _text(ref, "MeasureId") or ""))

    def lifted(key: tuple[str, str], measure: MeasureInPlace | None) -> bool:
        if key in released_full:
            return True
        if measure is not None and measure.amount is not None:
            value, currency = measure.amount
            return released_amounts.get(key, {}).get(currency, Decimal(0)) >= value
        return False

    def released(measure: MeasureInPlace) -> bool:
        key = (measure.document_id, measure.measure_id)
        if lifted(key, measure):
            return True
        if measure.continues is not None and lifted(measure.continues, measures.get(measure.continues)):
            return True
        return any(m.continues == key and lifted((m.document_id, m.measure_id), m) for m in measures.values())

    return [m for key, m in measures.items() if key not in not_executed and not released(m)]
