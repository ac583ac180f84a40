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
import logging
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from uuid import UUID

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
from broker.documents.catalogue import UnitKind
from broker.documents.xmlmodel import NS, XmlModel
from broker.errors import LiandongError
from broker.hub.case_completion import CaseCompletion
from broker.hub.clock import SupervisionClock
from broker.hub.ledger import DocumentRecord, LedgerTx
from broker.hub.ledger.store import DeadlineRecord
from broker.hub.ledger_documents import document_items, extension_of
from broker.hub.liveness import HEARTBEAT, LivenessWatch
from broker.hub.outbox import Job, record_issued
from broker.hub.reminder_times import display, reminder_time
from broker.hub.supervision import SupervisedHub, Supervisor
from broker.logs import event
from broker.parsing.hardened import parse

log = logging.getLogger("liandong.hub.supervision")

_LD = "{" + NS + "}"
_RULE_MAX = 255  # deadlines.rule is String(255)
PROVISIONAL = "provisional:"
PUNISHMENT_SINCE = "punishment.watch_since"
PUNISHMENT = "punishment.overdue:"
PUNISHMENT_DONE = "punishment.settled:"


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


class DeadlineSupervisor(LivenessWatch, CaseCompletion, Supervisor):
    """The real :class:`Supervisor`: see the module docstring and docs/supervision.md."""

    def __init__(
        self,
        hub: SupervisedHub,
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
            extension = extension_of(root, at - reply.received_at) if kind == "ExtensionNotice" else None
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


__all__ = [
    "DeadlineSupervisor",
]
