"""The office report as the linkage office reads it (issue 14 item 4): Chinese headings and unit
kinds, courts not listed, no empty weeks in the text, and the drill-down from each count to the
documents behind it (HTML links; ``--detail`` in the text). The numbers themselves are tested in
tests/test_reports.py against independent counts; here the generated month of that file is
reused, with rows for courts added and a gap of weeks cut into it.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import lxml.html
import pytest
from rich.cells import cell_len
from typer.testing import CliRunner

from broker.cli.main import app
from broker.deadlines.calendar import WorkingCalendar
from broker.hub.report_detail import LINKED_COUNTS, TEXT_COUNTS, anchor
from broker.hub.report_labels import COUNT_HEADINGS, KIND_NAMES
from broker.hub.report_output import TABLE_HEADERS, text_report, to_html
from broker.hub.reports import DeadlineRow, build_report
from tests.test_reports import AS_OF, CST, NAMES, SINCE, UNTIL, UNITS, generate

COURT = "11445300MB0000001W"


@pytest.fixture(scope="module")
def rows() -> list[DeadlineRow]:
    traffic = generate()
    # The week of 09-23 left empty: the text must not show a row of zeros for it.
    gap = (datetime(2024, 9, 23, tzinfo=CST), datetime(2024, 9, 30, tzinfo=CST))
    kept = [
        DeadlineRow(g.document_id, g.doc_type, g.unit, g.kind, g.served_at, g.due_at, g.answered_at, g.state,
                    g.extensions, g.reviews)
        for g in traffic.records
        if not gap[0] <= g.served_at < gap[1]
    ]
    # A court that owes an answer (e.g. to a review suggestion) is not an assisting unit.
    court_rows = [
        DeadlineRow(f"court-{i}", "ReviewSuggestion", COURT, "Court", SINCE + timedelta(days=i, hours=10),
                    SINCE + timedelta(days=i + 3))
        for i in range(3)
    ]
    return kept + court_rows


@pytest.fixture(scope="module")
def report(rows):
    calendar = WorkingCalendar.default()
    return build_report(rows, since=SINCE, until=UNTIL, as_of=AS_OF, calendar=calendar, names=NAMES)


def test_courts_are_not_listed_as_supervised_units(report, rows):
    assert COURT not in {u.unit for u in report.units}
    counted = [r for r in rows if r.unit_kind != "Court" and SINCE <= r.served_at < UNTIL]
    assert report.totals.received == len(counted)
    assert COURT not in text_report(report) and COURT not in to_html(report, None)


def test_headings_and_kinds_are_in_chinese(report):
    text = text_report(report)
    for heading in ("单位代码", "单位名称", "单位类别", "合计", *TABLE_HEADERS):
        assert heading in text
    for english in ("received", "on time", "open overdue"):
        assert f"┃ {english}" not in text  # not as a column heading any more
    for unit, (kind, *_rest) in UNITS.items():
        line = next(line for line in text.splitlines() if line.startswith(f"│ {unit}"))
        assert KIND_NAMES[kind] in line
    assert set(KIND_NAMES) >= {k for k, *_ in UNITS.values()}


def test_the_text_shows_no_empty_week(report):
    assert [w.label for w in report.weeks if not w.measures.received] == ["2024-W39"]  # the gap is there
    text = text_report(report)
    assert "2024-W38" in text and "2024-W40" in text
    assert "2024-W39" not in text and "1 周无送达文书" in text


def test_each_count_in_the_html_links_to_the_documents_behind_it(report):
    tree = lxml.html.document_fromstring(to_html(report, None))
    for u in report.units:
        for count in LINKED_COUNTS:
            documents = u.measures.documents(count)
            expected = sorted(r.document_id for r in documents)
            value = getattr(u.measures, count)
            if count in ("extensions", "review_suggestions"):  # notices, several per document
                assert sum(getattr(r, count) for r in documents) == value
            else:
                assert len(expected) == value  # the list adds up to the count
            links = tree.xpath(f"//a[@href='#{anchor(u.unit, count)}']")
            if not expected:
                assert not links and not tree.xpath(f"//*[@id='{anchor(u.unit, count)}']")
                continue
            (link,) = links
            assert link.text_content() == str(value)
            (section,) = tree.xpath(f"//*[@id='{anchor(u.unit, count)}']")
            assert sorted(c.text_content() for c in section.xpath(".//tbody/tr/td[1]")) == expected
            assert COUNT_HEADINGS[count] in section.xpath(".//h3")[0].text_content()


def test_detail_in_the_text_lists_each_document_once_under_its_outcome(report, rows):
    text = text_report(report, detail=True)
    after = text.split("明细", 1)[1]
    for u in report.units:
        for count in TEXT_COUNTS:
            ids = [r.document_id for r in u.measures.documents(count)]
            if ids:
                assert f"  {COUNT_HEADINGS[count]} {len(ids)}\n    {ids[0]}" in after
    listed = [line.split()[0] for line in after.splitlines() if re.match(r"    \S", line)]
    counted = [r.document_id for r in rows if r.unit_kind != "Court" and SINCE <= r.served_at < UNTIL]
    assert sorted(listed) == sorted(counted)  # every counted document once, nothing else
    detail_lines = after.splitlines()
    assert all(cell_len(line) <= 80 for line in detail_lines), max(detail_lines, key=cell_len)


def test_detail_is_refused_for_csv_with_a_reason(tmp_path):
    result = CliRunner().invoke(
        app,
        ["report", "--url", f"sqlite:///{tmp_path}/l.db", "--since", "2024-09-14", "--format", "csv", "--detail"],
    )
    assert result.exit_code == 2 and "--detail" in result.output and "Traceback" not in result.output
