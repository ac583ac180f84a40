"""What the reviewer and the linkage office read beyond one unit's store: the hub's ledger
(a document's story; the supervision report), opened by URL and only read.

Give the console a read-only database role on PostgreSQL (docs/console.md): the console calls
reading methods only (:meth:`Ledger.story`, :func:`broker.hub.reports.report_from_ledger`), and
the database then enforces it too.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from broker.deadlines.calendar import WorkingCalendar
from broker.hub.ledger.store import Ledger
from broker.hub.report_output import find_cjk_font, to_html
from broker.hub.reports import day_start, report_from_ledger, week_start
from broker.registry import Registry


class LedgerView:
    """The hub's ledger for the console's pages; thread-safe as :class:`Ledger` is."""

    def __init__(self, url: str, schema: str | None = None, registry: Registry | None = None):
        self.ledger = Ledger(url, schema=schema)
        self.names = {u.code: u.name for u in registry.units} if registry else {}
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

    def close(self) -> None:
        self.ledger.close()
