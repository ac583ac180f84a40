"""What the reviewer and the linkage office read beyond one unit's store: the hub's ledger
(a document's story; the supervision report), opened by URL and only read.

Give the console a read-only database role on PostgreSQL (docs/console.md): the console calls
reading methods only (:meth:`Ledger.story`, :func:`broker.hub.reports.report_from_ledger`), and
the database then enforces it too.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from broker.deadlines.calendar import WorkingCalendar
from broker.documents.xmlmodel import NS
from broker.hub import entrustment_stats, punishment_reports
from broker.hub.entrustment_stats import CourtEntrustments
from broker.hub.ledger.schema import documents
from broker.hub.ledger.store import Ledger
from broker.hub.punishment_reports import MissingReport
from broker.hub.report_output import find_cjk_font, to_html
from broker.hub.reports import day_start, report_from_ledger, week_start
from broker.parsing.hardened import parse
from broker.registry import Registry


class LedgerView:
    """The hub's ledger for the console's pages; thread-safe as :class:`Ledger` is."""

    def __init__(self, url: str, schema: str | None = None, registry: Registry | None = None):
        self.ledger = Ledger(url, schema=schema)
        self.names = {u.code: u.name for u in registry.units} if registry else {}
        self.registry = registry
        self._calendar: WorkingCalendar | None = None
        self._font: Any = None

    def story(self, document_id: str) -> list[dict[str, Any]]:
        """The document's audit entries in order (what the hub did with it, its receipts, replies)."""
        return [
            {
                "seq": e.seq,
                "at": e.at,
                "actor": e.actor,
                "action": e.action,
                "document_id": e.document_id,
                "hash": e.hash,
            }
            for e in self.ledger.story(document_id)
        ]

    def weekly_report(self, since: date | None = None, as_of: datetime | None = None) -> str:
        """The office's report (docs/reports.md) from ``since`` (default: the start of this week)
        to now, as the self-contained HTML page ``liandong report --format html`` writes: overdue
        and cooperation (配合度) per unit with charts, each count linked to its documents."""
        now = as_of or datetime.now(UTC)
        start = day_start(since or week_start(now))
        if start >= now:
            start = now - timedelta(days=7)
        self._calendar = self._calendar or WorkingCalendar.default()
        self._font = self._font or find_cjk_font()
        report = report_from_ledger(
            self.ledger, since=start, until=now, as_of=now, calendar=self._calendar, names=self.names
        )
        return to_html(report, self._font, generated_at=now)

    def obligations(
        self, since: datetime, until: datetime
    ) -> tuple[list[CourtEntrustments], list[MissingReport]]:
        """Issue 17 for the office's page, as the report has them: ratings and complaints per
        entrusted court received in ``[since, until)`` (003 事项委托 第十三条), and the punishing
        units whose quarterly report was due in that time and is missing (003 联合惩戒备忘录 二)."""
        self._calendar = self._calendar or WorkingCalendar.default()
        docs = entrustment_stats.load(self.ledger.engine, until)
        courts = entrustment_stats.build(docs, since=since, until=until, as_of=until, names=self.names)
        missing = (
            punishment_reports.missing_reports(
                self.ledger.engine,
                self.registry,
                since=since,
                until=until,
                as_of=until,
                calendar=self._calendar,
            )
            if self.registry is not None
            else []
        )
        return courts, missing

    def entrustment_documents(
        self, court: str, kind: str, since: datetime, until: datetime
    ) -> list[dict[str, Any]]:
        """The documents behind a court's count: its ratings (``EntrustmentRating`` sent to it)
        or the complaints naming it (``EntrustmentComplaint``), with whether each complaint was
        explained. Scores and counts only: comments and reasons are document content."""
        docs = entrustment_stats.load(self.ledger.engine, until)
        explained = {d.complaint for d in docs if d.doc_type == "ComplaintExplanation"}
        found = [
            d
            for d in docs
            if since <= d.received_at < until
            and (
                (kind == "rating" and d.doc_type == "EntrustmentRating" and d.recipient == court)
                or (
                    kind == "complaint"
                    and d.doc_type == "EntrustmentComplaint"
                    and d.entrusted_court == court
                )
            )
        ]
        return [
            {
                "document_id": d.document_id,
                "type": d.doc_type,
                "received_at": d.received_at,
                "score": d.score,
                "explained": d.document_id in explained if d.doc_type == "EntrustmentComplaint" else None,
            }
            for d in sorted(found, key=lambda d: d.received_at)
        ]

    def punishment_documents(self, unit: str, year: int, quarter: int) -> list[dict[str, Any]]:
        """What stands behind a missing quarterly report: the hub's reminder to the unit and its
        escalation to the office for that quarter (their ``Regarding`` is the stable id of "the
        report of ``unit`` for the quarter", :func:`broker.hub.punishment_reports.regarding`)."""
        about = str(punishment_reports.regarding(unit, punishment_reports.Quarter(year, quarter)))
        with self.ledger.engine.connect() as conn:
            rows = conn.execute(
                select(
                    documents.c.document_id,
                    documents.c.doc_type,
                    documents.c.recipient,
                    documents.c.received_at,
                    documents.c.raw,
                ).where(documents.c.doc_type.in_(("Reminder", "Escalation")))
            ).all()
        ld = "{" + NS + "}"
        return [
            {
                "document_id": r.document_id,
                "type": r.doc_type,
                "recipient": r.recipient,
                "received_at": r.received_at,
            }
            for r in sorted(rows, key=lambda r: r.received_at)
            if parse(r.raw).findtext(f"{ld}{r.doc_type}/{ld}Regarding") == about
        ]

    def close(self) -> None:
        self.ledger.close()
