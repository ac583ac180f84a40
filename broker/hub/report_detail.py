"""The drill-down of the office report: from each count of a unit to the documents behind it.

In the HTML report every non-zero count of a unit's row links to a list of its documents (id,
type, served, due, answered); in the text report ``liandong report --detail`` prints the same
lists after the tables. A list holds document ids, never case numbers or content: the office
looks a document up with ``liandong ledger show ID``, which tells its whole story.
"""

from __future__ import annotations

import html
from collections.abc import Iterator

from rich.cells import cell_len

from broker.deadlines.calendar import CHINA_TZ
from broker.hub.report_labels import COUNT_HEADINGS, kind_name
from broker.hub.reports import DeadlineRow, Report, UnitReport

LINKED_COUNTS = (
    "received",
    "on_time",
    "overdue",
    "late",
    "open_overdue",
    "pending",
    "closed",
    "extensions",
    "review_suggestions",
)
"""The columns that count documents (hours and the rate do not): each gets a drill-down."""

TEXT_COUNTS = ("on_time", "late", "open_overdue", "pending", "closed")
"""The text drill-down lists each document once, under its outcome (received and overdue are
their unions: listing them again would only repeat the same ids)."""


def anchor(unit: str, count: str) -> str:
    """The HTML id of the list behind ``count`` of ``unit``."""
    return f"docs-{unit}-{count}"


def _at(t) -> str:  # type: ignore[no-untyped-def]
    return "—" if t is None else t.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M")


def _who(u: UnitReport) -> str:
    return f"{u.unit}  {u.name}" if u.name else u.unit


def _count_title(u: UnitReport, count: str, documents: int) -> str:
    """E.g. ``逾期未答复 4``; extensions and review suggestions count notices, several of which
    may concern one document, so their lists say how many documents they hold."""
    value = getattr(u.measures, count)
    title = f"{COUNT_HEADINGS[count]} {value}"
    return title if value == documents else f"{title}（{documents} 件文书）"


def detail_html(report: Report) -> str:
    """One list per unit and non-zero count, each with the id :func:`anchor` gives it."""
    esc = html.escape
    parts = []
    for u in report.units:
        for count in LINKED_COUNTS:
            rows = u.measures.documents(count)
            if not rows:
                continue
            items = "".join(
                f"<tr><td><code>{esc(r.document_id)}</code></td><td>{esc(r.doc_type)}</td>"
                f"<td>{_at(r.served_at)}</td><td>{_at(r.due_at)}</td><td>{_at(r.answered_at)}</td></tr>"
                for r in rows
            )
            parts.append(
                f'<section id="{esc(anchor(u.unit, count))}">'
                f"<h3>{esc(_who(u))}（{esc(kind_name(u.kind))}）— {esc(_count_title(u, count, len(rows)))}</h3>"
                "<table><thead><tr><th>文书编号</th><th>文书类型</th><th>送达时间</th><th>答复期限</th>"
                f"<th>答复时间</th></tr></thead><tbody>{items}</tbody></table></section>"
            )
    return "".join(parts)


def detail_lines(report: Report) -> Iterator[str]:
    """The text drill-down: per unit and outcome, two lines per document (80 columns)."""
    for u in report.units:
        yield ""
        yield _fit(_who(u))
        for count in TEXT_COUNTS:
            rows = u.measures.documents(count)
            if not rows:
                continue
            yield f"  {_count_title(u, count, len(rows))}"
            for r in rows:
                yield from _row_lines(r)


def _row_lines(r: DeadlineRow) -> Iterator[str]:
    yield f"    {r.document_id}  {r.doc_type}"
    yield f"      送达 {_at(r.served_at)}  期限 {_at(r.due_at)}  答复 {_at(r.answered_at)}"


def _fit(text: str, width: int = 80) -> str:
    """``text`` cut to ``width`` terminal cells (a Chinese character takes two)."""
    while cell_len(text) > width:
        text = text[:-1]
    return text
