"""The hub's supervisor (issue 5): the working-day clock of every document a unit must answer,
reminders (催办), escalations (督办), non-delivery and anomaly notices. docs/supervision.md
explains the rules; this docstring explains the machinery.

Where things live
    The ``deadlines`` table holds one row per document a unit must answer (the report reads it,
    :mod:`broker.hub.reports`); ``supervision_state`` holds small shared facts (the hub's
    heartbeat, units seen offline, provisional deadlines, completed cases waiting for their
    outstanding-measures notice). Nothing the supervisor must remember lives only in memory or in
    the scheduler, so a restart loses nothing.

Threads
    The hub calls :meth:`accepted`, :meth:`replied` and :meth:`delivered` from its pipeline
    thread inside its own ledger transaction, so a deadline opens in the commit that accepts its
    document. These hooks only write rows; they never sign or send. Everything that sends runs in
    :meth:`scan`, an APScheduler job (one ``BackgroundScheduler`` per hub) that runs at start,
    every ``scan_interval_seconds``, and at once when a hook asks for it (a unit's status changed,
    a case was completed).

Exactly once, across restarts and across hubs
    A scan claims a row with a conditional UPDATE (``SET reminded_at = now WHERE document_id = …
    AND reminded_at IS NULL``) and, only when the claim hit a row, seals the notice and records it
    in the outbox (:func:`broker.hub.outbox.record_issued`) *in the same transaction*. A crash
    before the commit rolls the claim back, so the next scan sends it; after the commit the notice
    is in the outbox and is delivered like every other document, also after a restart. Ledger
    transactions are exclusive among all hubs sharing the ledger (the chain head is locked first
    thing), so a second hub's scan starts after the first one's commit and no longer sees the row;
    the conditional UPDATE would refuse it anyway. Jobs reach the publisher only after the commit
    (:meth:`Hub.enqueue`); deliveries a hub recorded but never published (it died, or it was a
    scan-only hub) are published by any hub's redelivery sweep.

Time
    Supervision time is :class:`SupervisionClock`: real time by default; ``clock_speed`` and
    ``clock_start`` (or a clock passed in by a test) map the hub's real instants — when a document
    reached the network, when a unit acknowledged it — onto another timeline. Every time in the
    ``deadlines`` and ``supervision_state`` tables, and in the notices' bodies, is supervision time.
    A deadline stated in a document is moved by the same offset as the document's time of
    service, so the period the court gave is kept.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING
from uuid import UUID

from lxml import etree
from pydantic import PrivateAttr

from broker.deadlines.calendar import (
    CHINA_TZ,
    DEFAULT_OVERRIDE_FILE,
    PACKAGE_YEARS,
    WorkingCalendar,
    YearOverride,
    load_overrides,
)
from broker.deadlines.policy import Deadline, DeadlinePolicy
from broker.deadlines.terms import parse_day_end
from broker.documents import bodies
from broker.documents.catalogue import RELEASABLE, UnitKind
from broker.documents.xmlmodel import NS, XmlModel
from broker.errors import LiandongError
from broker.hub.ledger import DocumentRecord, LedgerTx
from broker.hub.ledger.store import DeadlineRecord
from broker.hub.outbox import Job, record_issued
from broker.hub.supervision import Supervisor
from broker.logs import event
from broker.parsing.hardened import parse

if TYPE_CHECKING:
    from broker.hub.service import Hub

log = logging.getLogger("liandong.hub.supervision")

_LD = "{" + NS + "}"
_RULE_MAX = 255  # deadlines.rule is String(255)
HEARTBEAT = "hub.heartbeat"
OFFLINE = "unit.offline:"
PROVISIONAL = "provisional:"
COMPLETED = "case.completed:"
OUTSTANDING = "outstanding:"
PUNISHMENT_SINCE = "punishment.watch_since"
PUNISHMENT = "punishment.overdue:"
PUNISHMENT_DONE = "punishment.settled:"

RELEASABLE_MEASURES: frozenset[str] = frozenset().union(*RELEASABLE.values())
"""Measures that stay in place until released (freezes, seizures, bans, searches, records).
Deductions, extractions and transfers are final: nothing is left to release."""

_TYPE_ZH = {
    "AssistanceNotice": "协助执行通知书",
    "QueryNotice": "协助查询通知书",
    "ReleaseNotice": "解除通知",
    "DishonestListingCorrection": "失信名单更正决定",
    "DishonestListingRevocation": "失信名单撤销决定",
    "DishonestListingDeletion": "失信名单删除决定",
    "JudicialSuggestion": "司法建议函",
    "ItemEntrustment": "事项委托",
    "EntrustmentFeedback": "办理反馈",
}


def _real_now() -> datetime:
    return datetime.now(CHINA_TZ)


class SupervisionClock:
    """Supervision time: ``start + (real - real_at_start) * speed``, in China time.

    With the defaults it is real time. ``set`` and ``advance`` move it (tests; a demo can jump
    over a holiday); the mapping :meth:`at` applies to every real instant the hub hands over.
    Thread-safe.
    """

    def __init__(
        self,
        *,
        speed: float = 1.0,
        start: datetime | None = None,
        real: Callable[[], datetime] = _real_now,
    ) -> None:
        if speed <= 0:
            raise ValueError("the clock speed must be positive")
        self._real = real
        self._lock = threading.Lock()
        self.speed = speed
        now = real()
        self._real0 = now
        self._virt0 = _aware(start or now, "clock start").astimezone(CHINA_TZ)

    def now(self) -> datetime:
        return self.at(self._real())

    def at(self, real: datetime) -> datetime:
        """The supervision time of a real instant."""
        _aware(real, "a real instant")
        with self._lock:
            return (self._virt0 + (real - self._real0) * self.speed).astimezone(CHINA_TZ)

    def set(self, when: datetime) -> None:
        """Make supervision time ``when`` now (it runs on from there at the same speed)."""
        when = _aware(when, "clock time").astimezone(CHINA_TZ)
        with self._lock:
            self._real0, self._virt0 = self._real(), when

    def advance(self, delta: timedelta) -> None:
        self.set(self.now() + delta)


def _aware(value: datetime, what: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got {value.isoformat()}")
    return value


# --- reminders: when ------------------------------------------------------------------------------


def office_time_before(
    due: datetime, hours: float, calendar: WorkingCalendar, *, day_start: float = 9, day_end: float = 17
) -> datetime:
    """The instant at which ``hours`` of office time (``day_start``–``day_end`` of working days,
    China time; the measure of :meth:`WorkingCalendar.working_hours_between`) are left before ``due``."""
    remaining = timedelta(hours=hours)
    local = due.astimezone(CHINA_TZ)
    if remaining <= timedelta(0):
        return local
    day = local.date()
    for _ in range(3660):  # ten years of days: far beyond any period of the policy
        if calendar.is_working_day(day):
            midnight = datetime.combine(day, time(0), CHINA_TZ)
            lo = midnight + timedelta(hours=day_start)
            hi = min(midnight + timedelta(hours=day_end), local)
            if hi > lo:
                if hi - lo >= remaining:
                    return hi - remaining
                remaining -= hi - lo
        day -= timedelta(days=1)
    return datetime.combine(day, time(0), CHINA_TZ)


def reminder_time(
    served: datetime,
    due: datetime,
    calendar: WorkingCalendar,
    *,
    before_working_hours: float,
    after_fraction: float,
) -> datetime:
    """When to send the reminder: when ``before_working_hours`` of office time are left, but not
    before ``after_fraction`` of the period has run (so an "at once, max 24 hours" notice served
    in the evening is not reminded at the moment of service). Never after ``due``."""
    floor = served + (due - served) * after_fraction
    try:
        point = office_time_before(due, before_working_hours, calendar)
    except LiandongError:  # a year the calendar does not know: the share of the period decides
        point = floor
    return min(max(floor, point), due).astimezone(CHINA_TZ)


def display(at: datetime) -> str:
    """``2026-02-25 24:00`` for the end of a day, ``2026-02-14 10:00`` otherwise (China time)."""
    local = at.astimezone(CHINA_TZ)
    if local.time() == time(0):
        return f"{(local - timedelta(days=1)):%Y-%m-%d} 24:00"
    return f"{local:%Y-%m-%d %H:%M}"


# --- reading documents from the ledger --------------------------------------------------------------


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


def _extension_of(root: etree._Element | None, shift: timedelta) -> tuple[str, datetime | None]:
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


# --- the supervisor --------------------------------------------------------------------------------


class _MemoPolicy(DeadlinePolicy):
    """The same policy, with rule lookups and ``day_end`` computed once: the hub asks for every
    document it accepts, and :meth:`DeadlinePolicy.rule_for` scans the whole table per item."""

    _rules_memo: dict[tuple[object, ...], object] = PrivateAttr(default_factory=dict)
    _day_end_memo: timedelta | None = PrivateAttr(default=None)

    @classmethod
    def of(cls, policy: DeadlinePolicy) -> _MemoPolicy:
        return cls.model_validate(policy.model_dump(by_alias=True))

    def rule_for(self, doc_type, item=None, unit_kind=None, *, urgent=False):  # type: ignore[no-untyped-def]
        private = self.__pydantic_private__  # the slot itself: no pydantic __getattr__ per lookup
        assert private is not None
        memo = private["_rules_memo"]
        key = (doc_type, item, str(unit_kind) if unit_kind is not None else None, urgent)
        try:
            return memo[key]
        except KeyError:
            rule = memo[key] = super().rule_for(doc_type, item, unit_kind, urgent=urgent)
            return rule

    @property
    def _day_end(self) -> timedelta:
        private = self.__pydantic_private__
        assert private is not None
        if private["_day_end_memo"] is None:
            private["_day_end_memo"] = parse_day_end(self.day_end)
        return private["_day_end_memo"]


@dataclass(frozen=True)
class _Opened:
    record: DeadlineRecord
    deadline: Deadline
    provisional: bool


class DeadlineSupervisor(Supervisor):
    """The real :class:`Supervisor`: see the module docstring and docs/supervision.md."""

    def __init__(
        self,
        hub: Hub,
        *,
        clock: SupervisionClock | None = None,
        policy: DeadlinePolicy | None = None,
    ) -> None:
        super().__init__(hub)
        settings = hub.config.supervision
        self.settings = settings
        self.clock = clock or SupervisionClock(speed=settings.clock_speed, start=settings.clock_start)
        self.policy = _MemoPolicy.of(
            policy
            or (DeadlinePolicy.from_file(settings.policy) if settings.policy else DeadlinePolicy.default())
        )
        self._day_end = parse_day_end(self.policy.day_end)
        self._types = frozenset(rule.doc_type for rule in self.policy.rules)
        self._holidays = Path(settings.holidays) if settings.holidays else DEFAULT_OVERRIDE_FILE
        self._holidays_stamp: tuple[int, int] | None = None
        self.calendar, self._fallback = self._load_calendar()
        self._calendar_generation = 1
        self._provisional_checked = 0
        self.client_id = hub.config.broker.client_id
        self._statuses: list[tuple[str, bool, datetime]] = []
        self._last_status: dict[str, bool] = {}
        self._status_lock = threading.Lock()
        self._scan_lock = threading.Lock()
        self._wake_lock = threading.Lock()
        self._wake_requested = False
        self._in_scan = False
        self._stopping = False
        self._scheduler = None
        self._job = None

    # --- calendar ------------------------------------------------------------------------------

    def _load_calendar(self) -> tuple[WorkingCalendar, WorkingCalendar]:
        """The calendar, and its fallback for uncovered years (the ordinary Monday–Friday week)."""
        path = self._holidays
        overrides = dict(load_overrides(path)) if path.exists() else {}
        self._holidays_stamp = _stamp(path)
        calendar = WorkingCalendar(overrides, override_file=path)
        last = max([PACKAGE_YEARS.stop - 1, *overrides])
        assumed = YearOverride(source="fallback: no official arrangement known, Monday–Friday assumed")
        fallback = {y: assumed for y in range(PACKAGE_YEARS.start, last + 11) if not calendar.covers(y)}
        return calendar, WorkingCalendar({**overrides, **fallback}, override_file=path)

    def _reload_calendar_if_changed(self) -> None:
        if _stamp(self._holidays) == self._holidays_stamp:
            return
        try:
            self.calendar, self._fallback = self._load_calendar()
        except LiandongError as exc:
            event(
                log,
                "calendar.reload_failed",
                logging.ERROR,
                file=str(self._holidays),
                codes=exc.codes,
                error=str(exc),
            )
            self._holidays_stamp = _stamp(self._holidays)  # do not retry until it changes again
            return
        self._calendar_generation += 1
        event(log, "calendar.reloaded", file=str(self._holidays))

    def _due(
        self,
        doc_type: str,
        items: list[str],
        unit_kind: str,
        served: datetime,
        stated: datetime | None,
        urgent: bool,
    ) -> tuple[Deadline, bool]:
        """The policy's deadline, and whether it is provisional (computed on the fallback calendar)."""
        try:
            return self.policy.due(
                doc_type, items, unit_kind, served, stated, self.calendar, urgent=urgent
            ), False
        except LiandongError as exc:
            if "CAL_YEAR_UNKNOWN" not in exc.codes:
                raise
            error = exc
        deadline = self.policy.due(doc_type, items, unit_kind, served, stated, self._fallback, urgent=urgent)
        event(
            log,
            "deadline.calendar_unknown",
            logging.ERROR,
            code="CAL_YEAR_UNKNOWN",
            doc_type=doc_type,
            served_at=served.isoformat(),
            provisional_due_at=deadline.due_at.isoformat(),
            error=error.problems[0].message_en,
        )
        return deadline, True

    def _remind_at(self, served: datetime, due: datetime, provisional: bool = False) -> datetime:
        return reminder_time(
            served,
            due,
            self._fallback if provisional else self.calendar,
            before_working_hours=self.settings.remind_before_working_hours,
            after_fraction=self.settings.remind_after_fraction,
        )

    # --- hooks of the pipeline (inside the hub's transaction; they never sign nor send) ---------

    def accepted(self, tx: LedgerTx, document: DocumentRecord, items: list[str]) -> None:
        if document.doc_type == "CaseCompletedNotice":
            self._case_completed(tx, document)
            return
        if document.doc_type not in self._types:
            return
        try:
            opened = self._open(document, items)
        except Exception as exc:  # never lose the document over its deadline
            event(
                log,
                "deadline.not_opened",
                logging.ERROR,
                document_id=document.document_id,
                type=document.doc_type,
                codes=getattr(exc, "codes", None),
                error=str(exc)[:500],
            )
            return
        if opened is None:
            return
        record, deadline = opened.record, opened.deadline
        tx.add_deadline(record)
        if opened.provisional:
            tx.put_state(PROVISIONAL + record.document_id, "CAL_YEAR_UNKNOWN", record.served_at)
            tx.audit(
                "deadline.provisional",
                actor="hub",
                client=self.client_id,
                document_id=record.document_id,
                detail={
                    "code": "CAL_YEAR_UNKNOWN",
                    "due_at": record.due_at.isoformat(),
                    "assumed": "Monday-Friday",
                },
                at=document.received_at,
            )
        if deadline.stated_problem is not None:
            tx.audit(
                "deadline.stated_refused",
                actor="hub",
                client=self.client_id,
                document_id=record.document_id,
                detail={"code": deadline.stated_problem.code, "due_at": record.due_at.isoformat()},
                at=document.received_at,
            )

    def _open(self, document: DocumentRecord, items: list[str]) -> _Opened | None:
        kind = self.hub.registry.kind_of(document.recipient)
        if kind is None or kind in (UnitKind.HUB,):
            return None
        urgent = False
        if document.doc_type not in ("AssistanceNotice", "QueryNotice") or not items:
            items, urgent = document_items(document.doc_type, parse(document.raw))
        served = self.clock.at(document.received_at)
        stated = document.deadline + (served - document.received_at) if document.deadline else None
        try:
            deadline, provisional = self._due(document.doc_type, items, kind.value, served, stated, urgent)
        except LiandongError as exc:
            if exc.codes == ["DEADLINE_NO_RULE"]:
                return None  # e.g. a judicial suggestion to a unit other than the procuratorate
            raise
        record = DeadlineRecord(
            document_id=document.document_id,
            doc_type=document.doc_type,
            court=document.sender,
            unit=document.recipient,
            unit_kind=kind.value,
            case_number=document.case_number,
            served_at=served,
            due_at=deadline.due_at,
            original_due_at=deadline.due_at,
            rule=_rule_text(deadline, provisional),
            remind_at=self._remind_at(served, deadline.due_at, provisional),
            state="open",
        )
        return _Opened(record, deadline, provisional)

    def replied(self, tx: LedgerTx, original: DocumentRecord, reply: DocumentRecord) -> None:
        kind = reply.doc_type
        if kind not in ("ExecutionReceipt", "EntrustmentFeedback", "ExtensionNotice", "ReviewSuggestion"):
            return
        row = tx.get_deadline(original.document_id)
        if row is None:
            return
        at = self.clock.at(reply.received_at)
        try:  # read the reply first: an unreadable one must not fail the hub's transaction
            root = parse(reply.raw) if kind in ("EntrustmentFeedback", "ExtensionNotice") else None
            extension = _extension_of(root, at - reply.received_at) if kind == "ExtensionNotice" else None
        except Exception as exc:
            event(
                log,
                "deadline.reply_unreadable",
                logging.ERROR,
                document_id=reply.document_id,
                type=kind,
                error=str(exc)[:300],
            )
            return
        if kind == "ExecutionReceipt":
            tx.answer_deadline(row.document_id, reply.document_id, at)
        elif kind == "EntrustmentFeedback":
            assert root is not None
            if document_items(kind, root)[0] != [
                "MaterialRequested"
            ]:  # 003 事项委托 art. 10: asks, answers nothing
                tx.answer_deadline(row.document_id, reply.document_id, at)
        elif kind == "ExtensionNotice":
            assert extension is not None
            self._extension(tx, row, reply, at, *extension)
        else:
            tx.count_review_suggestion(row.document_id)  # the clock runs on (001 art. 20)

    def _extension(
        self,
        tx: LedgerTx,
        row: DeadlineRecord,
        reply: DocumentRecord,
        at: datetime,
        reason: str,
        new_due: datetime | None,
    ) -> None:
        """延期说明 (002 四.7, 四.13, 四.14, 四.17): the due time moves only with a reason."""
        tx.count_extension(row.document_id)
        detail: dict[str, object] = {
            "extension": reply.document_id,
            "reason_recorded": bool(reason),
            "old_due_at": row.due_at.isoformat(),
        }
        if reason:
            # The reason itself is in the extension notice, stored and anchored in the chain by
            # its digest; the audit detail carries no document content (ledger docstring).
            detail["reason_sha256"] = hashlib.sha256(reason.encode("utf-8")).hexdigest()
            detail["reason_chars"] = len(reason)
        cap = self._extension_cap(row)
        if row.state != "open":
            outcome = "not_open"
        elif not reason:
            outcome = "refused_no_reason"
        elif new_due is None:
            outcome = "refused_no_proposed_deadline"
        elif new_due <= row.due_at:
            outcome = "refused_not_later"
        elif cap is not None and new_due > cap:
            outcome = "refused_beyond_maximum"
            detail["maximum"] = cap.isoformat()
        else:
            outcome = "moved"
            new_due = new_due.astimezone(CHINA_TZ)
            tx.move_deadline(
                row.document_id,
                due_at=new_due,
                remind_at=self._remind_at(max(row.served_at, at), new_due),
                rearm_reminder=True,
            )
            detail["new_due_at"] = new_due.isoformat()
        detail["outcome"] = outcome
        tx.audit(
            "deadline.extension",
            actor=reply.signer_fingerprint or reply.sender,
            client=reply.client_unit,
            document_id=row.document_id,
            detail=detail,
            at=reply.received_at,
        )
        event(
            log,
            "deadline.extension",
            document_id=row.document_id,
            extension=reply.document_id,
            outcome=outcome,
        )

    def _extension_cap(self, row: DeadlineRecord) -> datetime | None:
        """The latest due time an extension may set: the policy's ``stated_max`` from service."""
        for calendar in (self.calendar, self._fallback):
            try:
                return self.policy.stated_max.end(row.served_at, calendar, self._day_end)
            except LiandongError:
                continue
        return None

    def delivered(self, tx: LedgerTx, document_id: str, unit: str, at: datetime) -> None:
        tx.mark_picked_up(document_id, unit, self.clock.at(at))

    def unit_status(self, unit: str, online: bool, at: datetime) -> None:
        with self._status_lock:
            self._statuses.append((unit, online, self.clock.at(at)))
            self._last_status[unit] = online
        self.request_scan()

    def _case_completed(self, tx: LedgerTx, document: DocumentRecord) -> None:
        """结案通报 (004 art. 35): the court's open deadlines in the case close; the outstanding
        measures are listed by the next scan (it signs, the pipeline does not)."""
        if not document.case_number:
            return
        at = self.clock.at(document.received_at)
        rows = tx.open_deadlines_in_case(document.case_number, document.sender)
        closed = tx.close_deadlines([r.document_id for r in rows])
        if closed:
            tx.audit(
                "deadlines.closed",
                actor="hub",
                client=self.client_id,
                document_id=document.document_id,
                detail={"closed": closed, "documents": [r.document_id for r in rows][:100]},
                at=document.received_at,
            )
        tx.add_state(COMPLETED + document.document_id, "pending", at)
        self.request_scan()

    # --- lifecycle -------------------------------------------------------------------------------

    def start(self) -> None:
        from apscheduler.schedulers.background import BackgroundScheduler

        if logging.getLogger("apscheduler").level == logging.NOTSET:
            logging.getLogger("apscheduler").setLevel(logging.WARNING)  # one INFO line per run otherwise
        try:
            self._check_restart()
        except Exception:
            log.exception("supervision.restart_check_failed")
        self._warn_calendar_horizon()
        self._stopping = False
        scheduler = BackgroundScheduler(
            timezone=timezone.utc,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )
        self._job = scheduler.add_job(
            self._scheduled,
            "interval",
            seconds=self.settings.scan_interval_seconds,
            next_run_time=datetime.now(timezone.utc),  # a scan at start: whatever fell due while down
            id="liandong-supervision-scan",
        )
        scheduler.start()
        self._scheduler = scheduler
        event(log, "supervision.started", hub=self.hub.code, client_id=self.client_id)

    def stop(self) -> None:
        self._stopping = True
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=True)
            self._scheduler = None
            try:
                with self.hub.ledger.transaction() as tx:
                    tx.put_state(HEARTBEAT, f"stopped:{self.client_id}", self.clock.now())
            except Exception:
                log.exception("supervision.heartbeat_failed")

    def request_scan(self) -> None:
        """Run a scan as soon as possible (from any thread); several requests make one scan."""
        with self._wake_lock:
            self._wake_requested = True
            if self._in_scan or self._job is None or self._scheduler is None:
                return  # the running scan goes round again / the first scan will see it
        try:
            self._job.modify(next_run_time=datetime.now(timezone.utc))
        except Exception:  # the scheduler is shutting down
            pass

    def _scheduled(self) -> None:
        while True:
            with self._wake_lock:
                self._wake_requested = False
                self._in_scan = True
            try:
                self.scan()
            except Exception:
                log.exception("supervision.scan_failed")
            with self._wake_lock:
                if not self._wake_requested or self._stopping:
                    self._in_scan = False
                    return

    # --- the scan ----------------------------------------------------------------------------------

    def scan(self) -> Counter[str]:
        """One pass over the ledger; returns how many notices of each kind this hub sent."""
        counts: Counter[str] = Counter()
        with self._scan_lock:
            self._reload_calendar_if_changed()
            now = self.clock.now()
            steps: list[tuple[str, Callable[[], None]]] = [
                ("statuses", lambda: self._flush_statuses(counts)),
                ("heartbeat", lambda: self._heartbeat(now)),
                ("provisional", lambda: self._recompute_provisional(counts)),
                ("escalations", lambda: self._batches(self._escalate, now, counts)),
                ("reminders", lambda: self._batches(self._remind, now, counts)),
                ("non_delivery", lambda: self._batches(self._non_delivery, now, counts)),
                ("outages", lambda: self._outages(now, counts)),
                ("completions", lambda: self._completions(counts)),
                ("punishment_reports", lambda: self._batches(self._punishment_reports, now, counts)),
            ]
            for name, step in steps:
                try:
                    step()
                except Exception:  # one failing step must not stop the others
                    log.exception("supervision.step_failed", extra={"fields": {"step": name}})
        if counts:
            event(log, "supervision.scan", **counts)
        return counts

    def _issue(
        self,
        tx: LedgerTx,
        body: XmlModel,
        recipient: str,
        *,
        regarding: str | None = None,
        case_number: str | None = None,
    ) -> Job:
        notary = self.hub.notary
        notice = notary.seal_one(notary.draft(body, recipient, in_reply_to=regarding, case_number=case_number))
        return record_issued(
            tx, notice, hub_code=self.hub.code, client=self.client_id, case_number=case_number
        )

    def _batches(
        self, step: Callable[[LedgerTx, datetime], tuple[int, list[Job]]], now: datetime, counts: Counter[str]
    ) -> None:
        """Run ``step`` in transactions of at most ``scan_batch`` rows until no row is left."""
        for _ in range(10_000):
            with self.hub.ledger.transaction() as tx:
                seen, jobs = step(tx, now)
            self.hub.enqueue(jobs)  # after the commit: never publish what was rolled back
            counts[step.__name__.lstrip("_")] += sum(1 for _ in jobs)
            if seen < self.settings.scan_batch:
                return

    def _remind(self, tx: LedgerTx, now: datetime) -> tuple[int, list[Job]]:
        rows = tx.deadlines_to_remind(now, limit=self.settings.scan_batch)
        jobs = []
        for row in rows:
            if not tx.claim_deadline(row.document_id, "reminded_at", now):
                continue
            body = bodies.Reminder(
                regarding=UUID(row.document_id),
                unit=row.unit,
                due_at=row.due_at.astimezone(CHINA_TZ),
                message=(
                    f"{_type_zh(row.doc_type)}（{row.document_id}）的办理期限将于 {display(row.due_at)} 届满，"
                    "请及时办理并回执；不能按期完成的，请向法院书面说明理由（延期说明）。"
                ),
            )
            jobs.append(
                self._issue(tx, body, row.unit, regarding=row.document_id, case_number=row.case_number)
            )
        return len(rows), jobs

    def _escalate(self, tx: LedgerTx, now: datetime) -> tuple[int, list[Job]]:
        rows = tx.deadlines_to_escalate(now, limit=self.settings.scan_batch)
        jobs = []
        office = self.hub.registry.office
        for row in rows:
            if not tx.claim_deadline(row.document_id, "escalated_at", now):
                continue
            body = bodies.Escalation(
                regarding=UUID(row.document_id),
                unit=row.unit,
                due_at=row.due_at.astimezone(CHINA_TZ),
                overdue_since=row.due_at.astimezone(CHINA_TZ),
                message=(
                    f"{self._name(row.unit)}逾期未反馈{_type_zh(row.doc_type)}（{row.document_id}），"
                    f"期限 {display(row.due_at)} 已届满，请予督办。"
                ),
            )
            for recipient in dict.fromkeys((office, row.court)):
                jobs.append(
                    self._issue(tx, body, recipient, regarding=row.document_id, case_number=row.case_number)
                )
        return len(rows), jobs

    def _punishment_reports(self, tx: LedgerTx, now: datetime) -> tuple[int, list[Job]]:
        """惩戒执行情况反馈 (003 联合惩戒备忘录 二): a punishing unit whose quarter's deadline passed
        without its report gets a reminder, and the office an escalation, once per quarter
        (claimed in ``supervision_state``, so once across restarts and hubs). Only quarters that
        end after supervision first ran are watched: a new network owes nothing for its past."""
        from broker.hub import punishment_reports as pr

        tx.add_state(PUNISHMENT_SINCE, "watching", now)
        since_entry = tx.get_state(PUNISHMENT_SINCE)
        since = since_entry.at if since_entry is not None and since_entry.at is not None else now
        units = pr.punishing_units(self.hub.registry)
        office = self.hub.registry.office
        jobs: list[Job] = []
        for quarter in pr.quarters_between(since, now):
            done = f"{PUNISHMENT_DONE}{quarter.label}"
            if tx.get_state(done) is not None:
                continue  # every unit's deadline had passed and was dealt with: never read again
            late = pr.missing(units, pr.reported_units(self.hub.ledger.engine, quarter), quarter, self.policy, self._fallback, now)
            for entry in late:
                if not tx.add_state(f"{PUNISHMENT}{entry.unit}:{quarter.label}", "reminded", now):
                    continue
                about = pr.regarding(entry.unit, quarter)
                due = entry.due_at.astimezone(CHINA_TZ)
                label = f"{quarter.year}年第{quarter.quarter}季度"
                reminder = bodies.Reminder(
                    regarding=about,
                    unit=entry.unit,
                    due_at=due,
                    message=f"{label}惩戒执行情况反馈的期限已于 {display(due)} 届满，请尽快报送（联合惩戒备忘录 二）。",
                )
                escalation = bodies.Escalation(
                    regarding=about,
                    unit=entry.unit,
                    due_at=due,
                    overdue_since=due,
                    message=f"{self._name(entry.unit)}未按期报送{label}惩戒执行情况反馈，期限 {display(due)} 已届满，请予督办。",
                )
                jobs.append(self._issue(tx, reminder, entry.unit))
                jobs.append(self._issue(tx, escalation, office))
                event(log, "punishment_report.overdue", unit=entry.unit, quarter=quarter.label)
            # A quarter whose deadlines have all passed is settled: later scans skip its reports
            # (a unit enrolled after that owes the office, not a reminder, for it).
            if all(pr.due_at(self.policy, self._fallback, quarter, u.kind.value) <= now for u in units):
                tx.add_state(done, "settled", now)
        return 0, jobs

    def _non_delivery(self, tx: LedgerTx, now: datetime) -> tuple[int, list[Job]]:
        hours = self.settings.non_delivery_after_hours
        rows = tx.deadlines_not_picked_up(now - timedelta(hours=hours), limit=self.settings.scan_batch)
        jobs = []
        for row in rows:
            if not tx.claim_deadline(row.document_id, "non_delivery_at", now):
                continue
            delivery = tx.delivery_of(row.document_id, row.unit)
            document = tx.get_document(row.document_id)
            first = row.served_at
            if delivery is not None and delivery.first_sent_at is not None and document is not None:
                # on the timeline of the time of service (the clock may have been moved since)
                first = row.served_at + (delivery.first_sent_at - document.received_at)
            body = bodies.NonDeliveryNotice(
                regarding=UUID(row.document_id),
                undelivered_to=row.unit,
                first_sent_at=first.astimezone(CHINA_TZ),
                reason=f"接收单位{self._name(row.unit)}在送达后 {hours:g} 小时内未签收该文书（{display(row.served_at)} 送达）。",
            )
            jobs.append(
                self._issue(tx, body, row.court, regarding=row.document_id, case_number=row.case_number)
            )
        return len(rows), jobs

    # --- liveness ------------------------------------------------------------------------------

    def _check_restart(self) -> None:
        """At start: a heartbeat older than the threshold means the hub service was down."""
        now = self.clock.now()
        threshold = timedelta(minutes=self.settings.hub_outage_after_minutes)
        jobs: list[Job] = []
        with self.hub.ledger.transaction() as tx:
            last = tx.get_state(HEARTBEAT)
            if last is not None and last.at is not None and now - last.at > threshold:
                state = last.value.partition(":")[0]
                how = "正常停机" if state == "stopped" else "异常中断（未正常停机）"
                body = bodies.AnomalyNotice(
                    kind=bodies.AnomalyKind.HUB_RESTARTED,
                    detected_at=now,
                    since=last.at.astimezone(CHINA_TZ),
                    description=(
                        f"执行联动枢纽自 {display(last.at)} 起停止服务（{how}），于 {display(now)} 恢复，"
                        f"历时 {_duration(now - last.at)}；期间积压的文书、催办和督办已在恢复后处理。"
                    ),
                )
                jobs.append(self._issue(tx, body, self.hub.registry.office))
                event(
                    log,
                    "hub.outage",
                    logging.WARNING,
                    since=last.at.isoformat(),
                    detected_at=now.isoformat(),
                    state=state,
                )
            tx.put_state(HEARTBEAT, f"running:{self.client_id}", now)
        self.hub.enqueue(jobs)

    def _heartbeat(self, now: datetime) -> None:
        with self.hub.ledger.transaction() as tx:
            tx.put_state(HEARTBEAT, f"running:{self.client_id}", now)

    def _flush_statuses(self, counts: Counter[str]) -> None:
        with self._status_lock:
            batch, self._statuses = self._statuses, []
        if not batch:
            return
        jobs: list[Job] = []
        try:
            with self.hub.ledger.transaction() as tx:
                for unit, online, at in batch:
                    entry_unit = self.hub.registry.unit(unit)
                    if entry_unit is None or entry_unit.kind in self.settings.offline_exempt_kinds:
                        continue
                    key = OFFLINE + unit
                    if not online:
                        tx.add_state(key, "offline", at)  # an outage already known keeps its start
                        continue
                    entry = tx.delete_state(key)
                    if entry is not None and entry.value == "notified":
                        body = bodies.AnomalyNotice(
                            kind=bodies.AnomalyKind.UNIT_BACK_ONLINE,
                            unit=unit,
                            detected_at=at,
                            since=entry.at.astimezone(CHINA_TZ) if entry.at else None,
                            description=f"{self._name(unit)}已恢复连接，积压文书正在补发。",
                        )
                        jobs.append(self._issue(tx, body, self.hub.registry.office))
        except Exception:
            with self._status_lock:
                self._statuses[:0] = batch  # try again at the next scan
            raise
        self.hub.enqueue(jobs)
        counts["back_online"] += len(jobs)

    def _outages(self, now: datetime, counts: Counter[str]) -> None:
        minutes = self.settings.unit_offline_after_minutes
        jobs: list[Job] = []
        with self.hub.ledger.transaction() as tx:
            for entry in tx.states(
                OFFLINE,
                value="offline",
                before=now - timedelta(minutes=minutes),
                limit=self.settings.scan_batch,
            ):
                unit = entry.key[len(OFFLINE) :]
                with self._status_lock:
                    seen_online = self._last_status.get(unit) is True
                if seen_online:  # a stale entry (another hub's late write): this hub sees it online
                    tx.delete_state(entry.key)
                    continue
                if not tx.replace_state(entry.key, "offline", "notified"):
                    continue
                since = entry.at.astimezone(CHINA_TZ) if entry.at else None
                body = bodies.AnomalyNotice(
                    kind=bodies.AnomalyKind.UNIT_OFFLINE,
                    unit=unit,
                    detected_at=now,
                    since=since,
                    description=(
                        f"{self._name(unit)}自 {display(entry.at) if entry.at else '—'} 起离线已超过 {minutes:g} 分钟；"
                        "发给该单位的文书暂存于枢纽，待其恢复后补发。"
                    ),
                )
                jobs.append(self._issue(tx, body, self.hub.registry.office))
        self.hub.enqueue(jobs)
        counts["unit_offline"] += len(jobs)

    # --- provisional deadlines ---------------------------------------------------------------------

    def _recompute_provisional(self, counts: Counter[str]) -> None:
        """Deadlines computed on the fallback calendar are computed again once the calendar knows
        their years (the override file was updated: it is re-read when it changes)."""
        if self._provisional_checked == self._calendar_generation:
            return
        self._provisional_checked = self._calendar_generation
        after: str | None = None
        while True:
            with self.hub.ledger.transaction() as tx:
                entries = tx.states(PROVISIONAL, after_key=after, limit=self.settings.scan_batch)
                for entry in entries:
                    if self._recompute(tx, entry.key[len(PROVISIONAL) :]):
                        counts["recomputed"] += 1
            if len(entries) < self.settings.scan_batch:
                return
            after = entries[-1].key

    def _recompute(self, tx: LedgerTx, document_id: str) -> bool:
        row = tx.get_deadline(document_id)
        document = tx.get_document(document_id)
        if row is None or document is None or row.state != "open":
            tx.delete_state(PROVISIONAL + document_id)
            return False
        items, urgent = document_items(document.doc_type, parse(document.raw))
        stated = document.deadline + (row.served_at - document.received_at) if document.deadline else None
        try:
            deadline = self.policy.due(
                document.doc_type, items, row.unit_kind, row.served_at, stated, self.calendar, urgent=urgent
            )
        except LiandongError:
            return False  # still not covered
        extended = row.due_at != row.original_due_at
        due = row.due_at if extended else deadline.due_at
        tx.move_deadline(
            document_id,
            due_at=due,
            remind_at=self._remind_at(row.served_at, due),
            rearm_reminder=False,
            original_due_at=deadline.due_at,
            rule=_rule_text(deadline, False),
        )
        tx.delete_state(PROVISIONAL + document_id)
        tx.audit(
            "deadline.recomputed",
            actor="hub",
            client=self.client_id,
            document_id=document_id,
            detail={
                "provisional_due_at": row.original_due_at.isoformat(),
                "due_at": deadline.due_at.isoformat(),
            },
        )
        return True

    # --- case completed ------------------------------------------------------------------------------

    def _completions(self, counts: Counter[str]) -> None:
        """One transaction per completed case (they are rare); one that cannot be processed is
        logged and dropped rather than retried forever."""
        while True:
            with self.hub.ledger.transaction() as tx:
                pending = tx.states(COMPLETED, value="pending", limit=1)
            if not pending:
                return
            key = pending[0].key
            try:
                with self.hub.ledger.transaction() as tx:
                    jobs = self._completion(tx, key) if tx.delete_state(key) is not None else []
            except Exception:
                log.exception("supervision.completion_failed", extra={"fields": {"key": key}})
                with self.hub.ledger.transaction() as tx:
                    tx.put_state(key, "failed", self.clock.now())
                continue
            self.hub.enqueue(jobs)
            counts["outstanding"] += len(jobs)

    def _completion(self, tx: LedgerTx, key: str) -> list[Job]:
        completion = tx.get_document(key[len(COMPLETED) :])
        if completion is None or not completion.case_number:
            return []
        case = completion.case_number
        measures = outstanding_measures(
            tx.case_documents(case, ("AssistanceNotice", "ReleaseNotice", "ExecutionReceipt", "MeasureStatusNotice"))
        )
        listed = sorted((m.document_id, m.measure_id) for m in measures)
        digest = hashlib.sha256(json.dumps(listed).encode()).hexdigest()
        told = f"{OUTSTANDING}{completion.sender}:{case}"
        last = tx.get_state(told)
        if last is not None and last.value == digest:
            return []  # the court was told this very list already (one completion notice per unit)
        tx.put_state(told, digest, self.clock.now())
        if not measures:
            return []
        body = bodies.OutstandingMeasuresNotice(
            measures=[
                bodies.OutstandingMeasure(
                    document_id=UUID(m.document_id),
                    measure_id=m.measure_id,
                    unit=m.unit,
                    measure_type=m.measure_type,
                )
                for m in measures
            ]
        )
        return [
            self._issue(tx, body, recipient, regarding=completion.document_id, case_number=case)
            for recipient in dict.fromkeys((completion.sender, self.hub.registry.office))
        ]

    # --- helpers ---------------------------------------------------------------------------------------

    def _name(self, code: str) -> str:
        unit = self.hub.registry.unit(code)
        return f"{unit.name}（{code}）" if unit else code

    def _warn_calendar_horizon(self) -> None:
        """Weeks before a new year the calendar does not know, say so (docs/supervision.md)."""
        now = self.clock.now()
        if now.month >= 10 and not self.calendar.covers(now.year + 1):
            event(
                log,
                "calendar.next_year_unknown",
                logging.WARNING,
                code="CAL_YEAR_UNKNOWN",
                year=now.year + 1,
                file=str(self._holidays),
                detail="deadlines running into that year will be provisional (Monday-Friday assumed)",
            )


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size


def _rule_text(deadline: Deadline, provisional: bool) -> str:
    text = deadline.rule.describe()
    if deadline.from_document:
        text += " [deadline stated in the document]"
    if deadline.stated_problem is not None:
        text += f" [{deadline.stated_problem.code}]"
    if provisional:
        text = "PROVISIONAL (CAL_YEAR_UNKNOWN, Mon-Fri assumed) " + text
    return text if len(text) <= _RULE_MAX else text[: _RULE_MAX - 1] + "…"


def _type_zh(doc_type: str) -> str:
    return _TYPE_ZH.get(doc_type, doc_type)


def _duration(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = [f"{days} 天" if days else "", f"{hours} 小时" if hours else "", f"{minutes} 分钟"]
    return " ".join(p for p in parts if p)


__all__ = [
    "DeadlineSupervisor",
    "MeasureInPlace",
    "SupervisionClock",
    "display",
    "document_items",
    "office_time_before",
    "outstanding_measures",
    "reminder_time",
]
