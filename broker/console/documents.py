"""What the console's pages show of a document: its 文书 view (title, numbers, parties,
measures and results in words), its seal, its due date, and a row for a list.

The 文书 itself — HTML with its seal's verdict, and PDF — comes from :mod:`broker.render`; this
module adds what the console's lists and forms need: measures and results as data, the seal's
certificates, what is due when.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from cryptography import x509

from broker.deadlines.policy import DeadlinePolicy
from broker.documents import codec
from broker.documents.document import CHINA_TZ, Document
from broker.documents.xmlmodel import DS_NS
from broker.errors import LiandongError
from broker.gateway import status
from broker.gateway.deadlines import DeadlineView
from broker.gateway.problems import GatewayError
from broker.gateway.runtime import GatewayRuntime
from broker.parsing.hardened import parse
from broker.render import render_html, render_pdf
from broker.render.labels import ITEMS, TITLES
from broker.transport.store import InboxEntry, UnitStore

_POLICY: DeadlinePolicy | None = None


def title(doc_type: str) -> str:
    """The 文书's title (the renderer's words, :mod:`broker.render.labels`)."""
    return TITLES.get(doc_type, doc_type)


def view(document: Document) -> dict[str, Any]:
    """The document in words, for the templates."""
    header, body = document.header, document.body
    measures = []
    for m in getattr(body, "measures", []) or []:
        measures.append(
            {
                "id": m.measure_id,
                "kind": ITEMS.get(m.xml_tag, m.xml_tag),
                "subject": getattr(m.subject, "name", ""),
                "id_number": getattr(m.subject, "id_number", None) or getattr(m.subject, "unit_code", ""),
                "account": getattr(m, "account", None),
                "amount": getattr(m, "amount", None),
                "period": getattr(m, "period", None),
            }
        )
    return {
        "title": title(header.document_type.value),
        "type": header.document_type.value,
        "document_id": str(header.document_id),
        "case_number": header.case_number,
        "sender": header.sender,
        "recipient": header.recipient,
        "issued_at": header.issued_at,
        "officers": header.officers,
        "ruling": getattr(getattr(body, "ruling", None), "ruling_number", None),
        "measures": measures,
        "results": list(getattr(body, "results", []) or []),
        "remark": getattr(body, "remark", None),
        # an extension notice's and a review suggestion's own fields (002 四.7; 001 第二十条)
        "reason": getattr(body, "reason", None),
        "proposed_deadline": getattr(body, "proposed_deadline", None),
        "grounds": getattr(body, "grounds", None),
        "item_ids": list(getattr(body, "items", None) or []) if not measures else [],
        # a lead report's sighting: where and when (the person is in the 文书 itself)
        "sighting": getattr(body, "sighting", None),
    }


def wenshu(rt: GatewayRuntime, raw: bytes) -> str:
    """The 文书 as one self-contained HTML page (:mod:`broker.render`), its seal verified with
    the trust store and registry the unit verifies arrivals with (a draft: shown as unsealed)."""
    checker = rt.client.unit.checker
    return render_html(raw, trust=checker.verifier, registry=checker.registry)


def pdf(rt: GatewayRuntime, raw: bytes) -> bytes:
    """The same 文书 as PDF."""
    checker = rt.client.unit.checker
    return render_pdf(raw, trust=checker.verifier, registry=checker.registry)


def chain(raw: bytes) -> list[dict[str, str]]:
    """The certificates the seal carries, signer first: subject, issuer, serial, validity."""
    root = parse(raw)
    found = []
    for cert in root.iterfind(
        f"{{{DS_NS}}}Signature/{{{DS_NS}}}KeyInfo/{{{DS_NS}}}X509Data/{{{DS_NS}}}X509Certificate"
    ):
        c = x509.load_der_x509_certificate(base64.b64decode("".join((cert.text or "").split())))
        found.append(
            {
                "subject": c.subject.rfc4514_string(),
                "issuer": c.issuer.rfc4514_string(),
                "serial": format(c.serial_number, "x"),
                "valid": f"{c.not_valid_before_utc.date()} — {c.not_valid_after_utc.date()}",
            }
        )
    return found


def seal(raw: bytes) -> dict[str, Any] | None:
    """Who sealed the document: the signing certificate's subject, serial, issuer and validity.
    The store keeps only documents whose seal verified on arrival (or that this unit sealed)."""
    root = parse(raw)
    cert = root.find(
        f"{{{DS_NS}}}Signature/{{{DS_NS}}}KeyInfo/{{{DS_NS}}}X509Data/{{{DS_NS}}}X509Certificate"
    )
    if cert is None or not (cert.text or "").strip():
        return None
    found = x509.load_der_x509_certificate(base64.b64decode("".join(cert.text.split())))
    return {
        "subject": found.subject.rfc4514_string(),
        "issuer": found.issuer.rfc4514_string(),
        "serial": format(found.serial_number, "x"),
        "not_after": found.not_valid_after_utc.date().isoformat(),
    }


def row(store: UnitStore, document_id: str, deadlines: DeadlineView | None = None) -> dict[str, Any]:
    """One line of a list: id, type, case, state (with ``deadlines``, also overdue and released)."""
    found = status.document_status(store, document_id, deadlines)
    raw = status.sealed_xml(store, document_id)
    found["case_number"] = status._CASE(parse(raw)) or None
    found["title"] = title(found["type"])
    return found


def received(rt: GatewayRuntime, document_id: str) -> Document:
    """A document in this unit's inbox (``GW_NOT_FOUND`` for any other)."""
    entry = rt.store.get_received(document_id)
    if entry is None or entry.state == "invalid" or entry.doc_type in status.HUB_ANSWERS:
        raise GatewayError.of("GW_NOT_FOUND", what=document_id)
    return codec.from_element(parse(entry.raw))


def receipt(store: UnitStore, receipt_id: str, *, sent: bool = False) -> dict[str, Any]:
    """A receipt of result (received by the court, or sent by this unit) with its seal."""
    raw = status.sealed_xml(store, receipt_id)
    return {"document_id": receipt_id, "view": view(codec.from_element(parse(raw))), "seal": seal(raw)}


def due(rt: GatewayRuntime, entry: InboxEntry | None) -> dict[str, Any] | None:
    """When this unit must answer a document it received, in working days."""
    if entry is None:
        return None
    return due_for(rt, entry.raw, entry.doc_type, rt.unit, entry.received_at)


def due_for(
    rt: GatewayRuntime, raw: bytes, doc_type: str, unit: str, received_at: str
) -> dict[str, Any] | None:
    """When ``unit`` must answer the document ``raw`` it received (was served) at
    ``received_at``: the deadline policy and the working-day calendar (config/deadlines.yaml,
    config/holidays.yaml; 002 四.7, 四.13); None when no rule applies."""
    global _POLICY
    _POLICY = _POLICY or DeadlinePolicy.default()
    registry = rt.checker.registry
    kinds = [i["kind"] for i in status.items_of(parse(raw))]
    try:
        found = _POLICY.due(
            doc_type,
            kinds,
            registry.kind_of(unit) if registry else None,
            datetime.fromisoformat(received_at).astimezone(CHINA_TZ),
        )
    except (LiandongError, ValueError):
        return None  # no rule for this type: nothing is due
    now = datetime.now(CHINA_TZ)
    return {
        "at": found.due_at,
        "last_day": found.last_day,
        "overdue": found.is_overdue(now),
        "source": found.source,
    }


def inbox_row(rt: GatewayRuntime, entry: InboxEntry) -> dict[str, Any]:
    root = parse(entry.raw)
    return {
        "document_id": entry.document_id,
        "title": title(entry.doc_type),
        "sender": entry.sender,
        "case_number": status._CASE(root) or None,
        "received_at": entry.received_at,
        "due": due(rt, entry),
        "answered": rt.state.answer(entry.document_id) is not None,
        "items": status.items_of(root),
    }
