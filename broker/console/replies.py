"""The clerk's other answers at the manual desk, built from their forms: an extension notice
(延期说明: the reason and a proposed deadline, 002 四.7, 四.13, 四.14, 四.17), a review
suggestion (审查建议: the grounds; the measure is carried out all the same, 001 第二十条) and a
lead report (线索通报: a person found, told to the court within 24 hours, 002 四.7(2)).

Only the body is built here; :func:`broker.gateway.answer.answer` checks, seals and sends it
exactly once, as it does for a unit posting JSON to the gateway. The same form gives the same
body (the proposed date becomes the end of that day, China time), so posting it twice is
recognised as the same answer and sends nothing more.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from pydantic import ValidationError

from broker.console.forms import field_errors
from broker.documents.bodies import ExtensionNotice, LeadReport, ReviewSuggestion
from broker.documents.document import CHINA_TZ

KINDS = {"extension": ExtensionNotice, "review": ReviewSuggestion, "lead": LeadReport}
"""The console's path of each kind (as :data:`broker.gateway.answer.PATHS` names them)."""

ITEM_PREFIX = "item."
"""A checkbox per measure or query (``item.M1``): the items the answer is about."""


LEAD_MEASURES = frozenset({"LocatePerson", "LocateVehicle", "ExitRestriction", "VehicleSeize"})
"""The measures a lead report follows (002 四.7(2): a person or vehicle to locate, seize or
restrict is found): the desk offers the lead form for a notice with one of them."""


class ReplyInvalid(Exception):
    """Fields of the form the model refuses, by input name."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors


def _items(form: dict[str, str]) -> list[str]:
    return [k[len(ITEM_PREFIX) :] for k, v in form.items() if k.startswith(ITEM_PREFIX) and v]


def _deadline(text: str) -> datetime | None:
    """The proposed last day as the end of that day in China time (what the court reads)."""
    try:
        return datetime.combine(date.fromisoformat(text.strip()), time(23, 59, 59), CHINA_TZ)
    except ValueError:
        raise ReplyInvalid({"ProposedDeadline": "日期格式应为 YYYY-MM-DD / a date YYYY-MM-DD"}) from None


def extension(form: dict[str, str]) -> ExtensionNotice:
    """The extension notice of the form; the reason and the date are required here, since without
    both the court's deadline does not move (002 四.7; :mod:`broker.gateway.deadlines`)."""
    errors = {
        name: "必填 / required" for name in ("Reason", "ProposedDeadline") if not form.get(name, "").strip()
    }
    if errors:
        raise ReplyInvalid(errors)
    data: dict[str, Any] = {
        "Reason": form["Reason"].strip(),
        "ProposedDeadline": _deadline(form["ProposedDeadline"]),
        "ItemId": _items(form),
    }
    try:
        return ExtensionNotice.model_validate(data)
    except ValidationError as exc:
        raise ReplyInvalid(field_errors(exc, "extension")) from None


def review(form: dict[str, str]) -> ReviewSuggestion:
    """The review suggestion of the form. ``MeasureCarriedOut`` is what the clerk ticks; the
    rules refuse a suggestion that says the measure was not carried out (001 第二十条)."""
    if not form.get("Grounds", "").strip():
        raise ReplyInvalid({"Grounds": "必填 / required"})
    data = {
        "Grounds": form["Grounds"].strip(),
        "ItemId": _items(form),
        "MeasureCarriedOut": bool(form.get("MeasureCarriedOut")),
    }
    try:
        return ReviewSuggestion.model_validate(data)
    except ValidationError as exc:
        raise ReplyInvalid(field_errors(exc, "review")) from None


def lead(form: dict[str, str], document_id: str) -> LeadReport:
    """The lead report of the form: the person seen (name, ID number), where and when (the
    form's local time is China time), about which measure of the notice."""
    errors = {
        name: "必填 / required"
        for name in ("Name", "IdNumber", "Location", "SeenAt")
        if not form.get(name, "").strip()
    }
    if errors:
        raise ReplyInvalid(errors)
    try:
        seen_at = datetime.fromisoformat(form["SeenAt"].strip()).replace(tzinfo=CHINA_TZ)
    except ValueError:
        raise ReplyInvalid({"SeenAt": "时间格式应为 YYYY-MM-DDTHH:MM / a time YYYY-MM-DDTHH:MM"}) from None
    measure = form.get("Regarding", "").strip()
    data: dict[str, Any] = {
        "Regarding": {"DocumentId": document_id, "MeasureId": measure} if measure else None,
        "Sighting": {
            "Person": {"Name": form["Name"].strip(), "IdNumber": form["IdNumber"].strip()},
            "Location": form["Location"].strip(),
            "SeenAt": seen_at,
            "Remark": form.get("Remark", "").strip() or None,
        },
    }
    try:
        return LeadReport.model_validate(data)
    except ValidationError as exc:
        raise ReplyInvalid(field_errors(exc, "lead")) from None
