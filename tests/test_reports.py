"""Supervision statistics (issue 5, "Must show": a report on a generated month of traffic, checked
against counts computed independently in the test).

A deterministic generator writes a month of traffic — 2024-09-14 to 2024-10-14, across the
Mid-Autumn Festival and National Day with their make-up working days (2024-09-14, 09-29, 10-12) —
straight into a real ledger (SQLite, and PostgreSQL through ``tests.pg``) as ``documents`` and
``deadlines`` rows, with plain SQLAlchemy Core inserts (no hub). The expected numbers are
computed here from the generator's own records, with the test's own working-hour arithmetic on
``chinese_calendar`` and numpy's percentiles, never with :mod:`broker.hub.reports`.
"""

from __future__ import annotations

import base64
import codecs
import csv
import hashlib
import io
import random
import statistics
import subprocess
import uuid
import warnings
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

import chinese_calendar
import lxml.html
import numpy
import pytest
from sqlalchemy import insert
from typer.testing import CliRunner

from broker.cli.main import app
from broker.deadlines.calendar import WorkingCalendar
from broker.hub import report_output
from broker.hub.ledger import Ledger
from broker.hub.ledger.schema import deadlines, documents
from broker.hub.report_labels import kind_name
from broker.hub.report_output import CSV_BOM, CSV_COLUMNS, CSV_FIELDS, find_cjk_font, render_charts, to_csv, to_html
from broker.hub.reports import DeadlineRow, Outcome, build_report, classify, percentile, report_from_ledger
from broker.registry import load_registry
from tests.helpers import REGISTRY_FILE
from tests.pg import pg_url  # noqa: F401

CST = timezone(timedelta(hours=8))
SINCE = datetime(2024, 9, 14, tzinfo=CST)
UNTIL = datetime(2024, 10, 14, tzinfo=CST)
AS_OF = datetime(2024, 10, 15, 12, 0, tzinfo=CST)
SEED = 20240914
N_DOCUMENTS = 360

COURTS = ("11445300MB0000001W", "11421022MB0000002J")
UNLISTED = "91440000TESTUNIT0X"  # a unit missing from the registry: reported by code
# unit -> (kind, mean response in working hours, [(doc_type, period kind, n, rule)])
UNITS = {
    "91445300MA5100003A": (
        "Bank",
        5.0,
        [("QueryNotice", "wd", 3, "bank query"), ("AssistanceNotice", "h", 24, "freeze at once")],
    ),
    "11445300MB00000046": (
        "PublicSecurity",
        9.0,
        [("QueryNotice", "wd", 3, "002 四.7(1)"), ("AssistanceNotice", "h", 24, "002 四.7(3)")],
    ),
    "12445300MB00000056": (
        "NaturalResources",
        18.0,
        [("QueryNotice", "wd", 3, "002 四.13"), ("QueryNotice", "wd", 15, "002 四.13 opinion")],
    ),
    "11445300MB0000006C": ("MarketRegulation", 12.0, [("QueryNotice", "wd", 3, "002 四.17")]),
    "11100000MB0000007D": ("CreditPlatform", 3.0, [("DishonestListing", "wd", 3, "003 失信规定")]),
    UNLISTED: ("Bank", 28.0, [("QueryNotice", "wd", 3, "bank query")]),
}
NAMES = {u.code: u.name for u in load_registry(REGISTRY_FILE).units}


# --- the generator and the test's own arithmetic ------------------------------------------------


def is_workday(d: date) -> bool:
    return bool(chinese_calendar.is_workday(d))


def add_working_days(d: date, n: int) -> date:
    """The n-th working day after d (d itself does not count)."""
    while n:
        d += timedelta(days=1)
        n -= is_workday(d)
    return d


def end_of(d: date) -> datetime:
    """24:00 of the day d (config/deadlines.yaml day_end)."""
    return datetime.combine(d + timedelta(days=1), time(0), CST)


def office_hours(a: datetime, b: datetime) -> float:
    """Seconds of [a, b] inside 09:00–17:00 of working days, in hours."""
    a, b = a.astimezone(CST), b.astimezone(CST)
    seconds, d = 0.0, a.date()
    while d <= b.date():
        if is_workday(d):
            lo = max(a, datetime.combine(d, time(9), CST))
            hi = min(b, datetime.combine(d, time(17), CST))
            seconds += max(0.0, (hi - lo).total_seconds())
        d += timedelta(days=1)
    return seconds / 3600


def after_office_hours(start: datetime, hours: float) -> datetime:
    """Walk forward from start until `hours` of office time have passed."""
    t, left = start.astimezone(CST), timedelta(hours=hours)
    while True:
        if is_workday(t.date()):
            s = max(t, datetime.combine(t.date(), time(9), CST))
            close = datetime.combine(t.date(), time(17), CST)
            if s < close:
                if left <= close - s:
                    return s + left
                left -= close - s
        t = datetime.combine(t.date() + timedelta(days=1), time(0), CST)


@dataclass
class Gen:
    """One generated document a unit must answer, and what happened to it."""

    document_id: str
    unit: str
    kind: str
    doc_type: str
    court: str
    case_number: str
    rule: str
    served_at: datetime
    due_at: datetime
    original_due_at: datetime
    answered_at: datetime | None = None
    state: str = "open"
    extensions: int = 0
    reviews: int = 0
    intended_hours: float | None = None
    replies: list[tuple[str, datetime]] = field(default_factory=list)  # (doc_type, received_at)


@dataclass
class Traffic:
    records: list[Gen]
    extra_documents: list[dict]  # documents without a deadline (hub notices): never counted


def generate(seed: int = SEED) -> Traffic:
    rng = random.Random(seed)

    def new_id() -> str:
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))

    def make(unit: str, served_at: datetime, template: int | None = None) -> Gen:
        kind, _mean, rules = UNITS[unit]
        doc_type, period, n, rule = rules[template if template is not None else rng.randrange(len(rules))]
        due = (
            end_of(add_working_days(served_at.date(), n))
            if period == "wd"
            else served_at + timedelta(hours=n)
        )
        return Gen(
            document_id=new_id(),
            unit=unit,
            kind=kind,
            doc_type=doc_type,
            court=rng.choice(COURTS),
            case_number=f"（2024）粤53{rng.randrange(10, 99)}执{rng.randrange(1, 9999)}号",
            rule=f"{doc_type}: {n} {'working days' if period == 'wd' else 'hours'} ({rule})",
            served_at=served_at,
            due_at=due,
            original_due_at=due,
        )

    records: list[Gen] = []
    span = int((UNTIL - SINCE).total_seconds() // 60)
    units = list(UNITS)
    for _ in range(N_DOCUMENTS):
        unit = rng.choice(units)
        g = make(unit, SINCE + timedelta(minutes=rng.randrange(span)))
        if rng.random() < 0.12:  # extension notices, each moving the due date 3 working days
            g.extensions = 1 + (rng.random() < 0.25)
            last_day = (g.due_at - timedelta(seconds=1)).astimezone(CST).date()
            g.due_at = end_of(add_working_days(last_day, 3 * g.extensions))
            for i in range(g.extensions):
                g.replies.append(("ExtensionNotice", g.served_at + timedelta(hours=2 + i)))
        if rng.random() < 0.1:  # review suggestions: the clock does not stop
            g.reviews = rng.choice((1, 1, 2))
            for i in range(g.reviews):
                g.replies.append(("ReviewSuggestion", g.served_at + timedelta(hours=3 + i)))
        fate = rng.random()
        if fate < 0.06:
            g.state = "closed"
        elif fate < 0.18:
            g.state = "open"
        else:
            mean = UNITS[unit][1]
            g.intended_hours = max(0.25, round(rng.expovariate(1 / mean) * 4) / 4)
            g.answered_at = after_office_hours(g.served_at, g.intended_hours)
            g.state = "answered"
        records.append(g)

    # Edge cases, placed by hand.
    bank, police, land = "91445300MA5100003A", "11445300MB00000046", "12445300MB00000056"
    # served exactly at the start of the period (in), exactly at its end and just before it (out)
    records.append(make(police, SINCE, 0))
    records.append(make(police, UNTIL, 0))
    records.append(make(bank, SINCE - timedelta(seconds=1), 0))
    # answered exactly at the due time (on time) and one minute after it (late)
    g = make(bank, datetime(2024, 9, 20, 10, 0, tzinfo=CST), 0)
    g.answered_at, g.state = g.due_at, "answered"
    records.append(g)
    g = make(bank, datetime(2024, 9, 20, 11, 0, tzinfo=CST), 0)
    g.answered_at, g.state = g.due_at + timedelta(minutes=1), "answered"
    records.append(g)
    # across National Day: Monday 09-30 16:00 -> Tuesday 10-08 10:00 is 1 + 1 working hours
    g = make(land, datetime(2024, 9, 30, 16, 0, tzinfo=CST), 0)
    g.answered_at, g.state = datetime(2024, 10, 8, 10, 0, tzinfo=CST), "answered"
    records.append(g)
    # Saturday 09-28 (off) -> Sunday 09-29 11:00 (make-up working day): 2 working hours
    g = make(land, datetime(2024, 9, 28, 12, 0, tzinfo=CST), 0)
    g.answered_at, g.state = datetime(2024, 9, 29, 11, 0, tzinfo=CST), "answered"
    records.append(g)
    # due exactly at the as-of instant and unanswered: not yet overdue (pending)
    g = make(police, datetime(2024, 10, 13, 12, 0, tzinfo=CST), 1)
    g.due_at = g.original_due_at = AS_OF
    records.append(g)
    # answered after the as-of instant: open as of then (past due here)
    g = make(bank, datetime(2024, 10, 8, 9, 30, tzinfo=CST), 0)
    g.answered_at, g.state = datetime(2024, 10, 16, 10, 0, tzinfo=CST), "answered"
    records.append(g)
    # answered and later closed (case completed): counts as answered
    g = make(police, datetime(2024, 9, 18, 9, 0, tzinfo=CST), 0)
    g.answered_at, g.state = datetime(2024, 9, 18, 15, 0, tzinfo=CST), "closed"
    records.append(g)

    for g in records:
        if g.answered_at is not None:
            g.replies.append(("ExecutionReceipt", g.answered_at))

    # hub notices to units: documents without a deadline row, never part of the report
    extra = []
    for i in range(12):
        extra.append(
            _document(
                new_id(),
                "Reminder",
                sender="12100000MB0000009G",
                recipient=rng.choice(units),
                at=SINCE + timedelta(days=i * 2, hours=10),
                origin="hub",
            )
        )
    return Traffic(records, extra)


def _document(
    document_id: str,
    doc_type: str,
    *,
    sender: str,
    recipient: str,
    at: datetime,
    origin: str = "unit",
    case_number: str | None = None,
    in_reply_to: str | None = None,
) -> dict:
    raw = f"<{doc_type} id='{document_id}'/>".encode()
    return {
        "document_id": document_id,
        "doc_type": doc_type,
        "sender": sender,
        "recipient": recipient,
        "case_number": case_number,
        "in_reply_to": in_reply_to,
        "issued_at": at - timedelta(seconds=30),
        "received_at": at,
        "deadline": None,
        "digest": hashlib.sha256(raw).hexdigest(),
        "size": len(raw),
        "raw": raw,
        "origin": origin,
        "client_unit": sender,
        "signer_fingerprint": None,
        "state": "delivered",
        "service_receipt_id": None,
    }


def insert_traffic(ledger: Ledger, traffic: Traffic) -> None:
    """Write the generated traffic as ledger rows (SQLAlchemy Core, no hub)."""
    docs, rows = list(traffic.extra_documents), []
    for g in traffic.records:
        docs.append(
            _document(
                g.document_id,
                g.doc_type,
                sender=g.court,
                recipient=g.unit,
                at=g.served_at,
                case_number=g.case_number,
            )
        )
        answer_id = None
        for n, (doc_type, at) in enumerate(g.replies):
            reply_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{g.document_id}/{n}"))
            docs.append(
                _document(
                    reply_id,
                    doc_type,
                    sender=g.unit,
                    recipient=g.court,
                    at=at,
                    case_number=g.case_number,
                    in_reply_to=g.document_id,
                )
            )
            if doc_type == "ExecutionReceipt":
                answer_id = reply_id
        rows.append(
            {
                "document_id": g.document_id,
                "doc_type": g.doc_type,
                "court": g.court,
                "unit": g.unit,
                "unit_kind": g.kind,
                "case_number": g.case_number,
                "served_at": g.served_at,
                "due_at": g.due_at,
                "original_due_at": g.original_due_at,
                "rule": g.rule,
                "remind_at": None,
                "state": g.state,
                "picked_up_at": g.served_at + timedelta(minutes=1),
                "answered_at": g.answered_at,
                "answer_id": answer_id,
                "reminded_at": None,
                "escalated_at": None,
                "non_delivery_at": None,
                "extensions": g.extensions,
                "review_suggestions": g.reviews,
            }
        )
    with ledger.engine.begin() as conn:
        conn.execute(insert(documents), docs)
        conn.execute(insert(deadlines), rows)


# --- the expected numbers, computed independently ------------------------------------------------


@dataclass
class Expected:
    received: int = 0
    on_time: int = 0
    late: int = 0
    open_overdue: int = 0
    pending: int = 0
    closed: int = 0
    extensions: int = 0
    reviews: int = 0
    hours: list[float] = field(default_factory=list)

    @property
    def overdue(self) -> int:
        return self.late + self.open_overdue

    @property
    def rate(self) -> float | None:
        decided = self.on_time + self.late + self.open_overdue
        return self.on_time / decided if decided else None

    @property
    def median(self) -> float | None:
        return statistics.median(self.hours) if self.hours else None

    @property
    def p90(self) -> float | None:
        return float(numpy.percentile(self.hours, 90)) if self.hours else None


def expected_numbers(records: list[Gen], since: datetime, until: datetime, as_of: datetime):
    units: dict[str, Expected] = defaultdict(Expected)
    weeks: dict[date, Expected] = defaultdict(Expected)
    total = Expected()
    for g in records:
        if not (since <= g.served_at < until):
            continue
        served_day = g.served_at.astimezone(CST).date()
        monday = served_day - timedelta(days=served_day.weekday())
        for e in (units[g.unit], weeks[monday], total):
            e.received += 1
            e.extensions += g.extensions
            e.reviews += g.reviews
            if g.answered_at is not None and g.answered_at <= as_of:
                e.hours.append(office_hours(g.served_at, g.answered_at))
                if g.answered_at <= g.due_at:
                    e.on_time += 1
                else:
                    e.late += 1
            elif g.state == "closed":
                e.closed += 1
            elif g.due_at < as_of:
                e.open_overdue += 1
            else:
                e.pending += 1
    return units, weeks, total


def assert_measures(m, e: Expected, where: str) -> None:
    got = (
        m.received,
        m.on_time,
        m.late,
        m.open_overdue,
        m.overdue,
        m.pending,
        m.closed,
        m.extensions,
        m.review_suggestions,
    )
    want = (
        e.received,
        e.on_time,
        e.late,
        e.open_overdue,
        e.overdue,
        e.pending,
        e.closed,
        e.extensions,
        e.reviews,
    )
    assert got == want, where
    for name, value, expected in (
        ("median", m.median_hours, e.median),
        ("p90", m.p90_hours, e.p90),
        ("rate", m.cooperation_rate, e.rate),
    ):
        if expected is None:
            assert value is None, f"{where} {name}"
        else:
            assert value == pytest.approx(expected, abs=1e-9), f"{where} {name}"


def assert_report(report, records: list[Gen], *, since=SINCE, until=UNTIL, as_of=AS_OF) -> None:
    units, weeks, total = expected_numbers(records, since, until, as_of)
    assert [u.unit for u in report.units] == sorted(units)
    for u in report.units:
        assert u.name == NAMES.get(u.unit)
        assert u.kind == UNITS[u.unit][0]
        assert_measures(u.measures, units[u.unit], u.unit)
    assert_measures(report.totals, total, "total")
    first = since.date() - timedelta(days=since.date().weekday())
    mondays = []
    while first < until.date():
        mondays.append(first)
        first += timedelta(days=7)
    assert [w.start for w in report.weeks] == mondays
    for w in report.weeks:
        assert_measures(w.measures, weeks.get(w.start, Expected()), f"week {w.start}")


# --- fixtures ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def traffic() -> Traffic:
    return generate()


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger_url(request: pytest.FixtureRequest, tmp_path) -> tuple[str, str | None]:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.db'}", None
    return request.getfixturevalue("pg_url")


@pytest.fixture
def filled(ledger_url, traffic):
    url, schema = ledger_url
    ledger = Ledger(url, schema=schema)
    ledger.create_schema()
    insert_traffic(ledger, traffic)
    try:
        yield ledger
    finally:
        ledger.close()


def run_cli(ledger: Ledger, *args: str):
    cmd = [
        "report",
        "--url",
        ledger.url,
        "--registry",
        str(REGISTRY_FILE),
        "--as-of",
        AS_OF.isoformat(),
        *args,
    ]
    if ledger.schema:
        cmd += ["--schema", ledger.schema]
    result = CliRunner().invoke(app, cmd)
    assert result.exit_code == 0, result.output
    return result


# --- the generator covers what it must -----------------------------------------------------------


def test_generated_month_covers_every_case(traffic: Traffic) -> None:
    _, weeks, total = expected_numbers(traffic.records, SINCE, UNTIL, AS_OF)
    assert 300 <= total.received <= 400
    for name in ("on_time", "late", "open_overdue", "pending", "closed", "extensions", "reviews"):
        assert getattr(total, name) > 0, name
    in_period = [g for g in traffic.records if SINCE <= g.served_at < UNTIL]
    assert any(g.answered_at and g.answered_at > AS_OF for g in in_period)
    assert any(
        not is_workday(g.served_at.date()) and chinese_calendar.is_holiday(g.served_at.date())
        for g in in_period
    )
    # the test's two working-hour helpers agree with each other on every walked answer
    for g in traffic.records:
        if g.intended_hours is not None:
            assert office_hours(g.served_at, g.answered_at) == pytest.approx(g.intended_hours, abs=1e-9)
    assert len(weeks) == 5


# --- the report on a real ledger ----------------------------------------------------------------


def test_report_matches_independent_counts(filled: Ledger, traffic: Traffic) -> None:
    report = report_from_ledger(
        filled, since=SINCE, until=UNTIL, as_of=AS_OF, calendar=WorkingCalendar.default(), names=NAMES
    )
    assert_report(report, traffic.records)
    # the hand-placed holiday cases: 09-30 16:00 -> 10-08 10:00 and 09-28 12:00 -> 09-29 11:00
    assert report.totals.response_hours.count(2.0) >= 2


def test_report_for_another_period_and_as_of(filled: Ledger, traffic: Traffic) -> None:
    # National Day weeks only, judged as of the end of the holiday: more is open, more is pending
    since, until = datetime(2024, 9, 30, tzinfo=CST), datetime(2024, 10, 9, tzinfo=CST)
    as_of = datetime(2024, 10, 8, 17, 0, tzinfo=CST)
    report = report_from_ledger(
        filled, since=since, until=until, as_of=as_of, calendar=WorkingCalendar.default(), names=NAMES
    )
    assert_report(
        report, [g for g in traffic.records if g.served_at <= as_of], since=since, until=until, as_of=as_of
    )


def test_cli_text(filled: Ledger, traffic: Traffic, tmp_path: Path) -> None:
    _, _, total = expected_numbers(traffic.records, SINCE, UNTIL, AS_OF)
    for result_text in (
        run_cli(filled, "--since", "2024-09-14", "--until", "2024-10-14").output,
        _written(filled, tmp_path / "report.txt", "text"),
    ):
        assert "2024-09-14 – 2024-10-14" in result_text
        for code in UNITS:
            assert code in result_text
        assert NAMES["91445300MA5100003A"] in result_text
        total_line = next(line for line in result_text.splitlines() if "合计" in line and "│" in line)
        cells = [c.strip() for c in total_line.split("│") if c.strip()]
        assert [int(c) for c in cells[1:8] + cells[10:12]] == [
            total.received,
            total.on_time,
            total.overdue,
            total.late,
            total.open_overdue,
            total.pending,
            total.closed,
            total.extensions,
            total.reviews,
        ]
        # one decimal shown: within half a unit of the last digit (and float noise at a tie)
        assert float(cells[8]) == pytest.approx(total.median, abs=0.051)
        assert float(cells[9]) == pytest.approx(total.p90, abs=0.051)
        assert cells[12].endswith("%") and float(cells[12][:-1]) == pytest.approx(100 * total.rate, abs=0.051)
        _no_case_numbers(result_text, traffic)


def _written(ledger: Ledger, path: Path, fmt: str) -> str:
    run_cli(ledger, "--since", "2024-09-14", "--until", "2024-10-14", "--format", fmt, "-o", str(path))
    return path.read_text(encoding="utf-8")


def _no_case_numbers(text: str, traffic: Traffic) -> None:
    assert "执" not in text  # every generated case number has it; no unit name does
    assert not any(g.case_number in text for g in traffic.records)


def csv_rows(data: bytes) -> list[dict[str, str]]:
    """The CSV as a spreadsheet reads it: from the bytes, the UTF-8 BOM telling the encoding; rows
    keyed by measure (CSV_FIELDS) after checking the Chinese header row."""
    assert data.startswith(codecs.BOM_UTF8)  # what makes Excel read UTF-8, not the legacy code page
    reader = csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""))
    header = next(reader)
    assert tuple(header) == CSV_COLUMNS
    return [dict(zip(CSV_FIELDS, row, strict=True)) for row in reader]


def test_cli_csv_parses_back(filled: Ledger, traffic: Traffic, tmp_path: Path) -> None:
    units, _, _ = expected_numbers(traffic.records, SINCE, UNTIL, AS_OF)
    stdout = run_cli(filled, "--since", "2024-09-14", "--until", "2024-10-14", "--format", "csv").stdout
    assert stdout == _written(filled, tmp_path / "report.csv", "csv")
    rows = csv_rows((tmp_path / "report.csv").read_bytes())
    assert CSV_COLUMNS[:5] == ("起始时间", "截止时间", "单位代码", "单位名称", "单位类别")
    assert [r["unit"] for r in rows] == sorted(units)
    for r in rows:
        e = units[r["unit"]]
        assert r["name"] == NAMES.get(r["unit"], "")  # Chinese intact, e.g. 中国工商银行股份有限公司云浮分行
        assert r["kind"] == kind_name(UNITS[r["unit"]][0]) and r["kind"] != UNITS[r["unit"]][0]
        assert r["since"].startswith("2024-09-14T00:00") and r["until"].startswith("2024-10-14T00:00")
        ints = {
            k: int(r[k])
            for k in (
                "received",
                "on_time",
                "late",
                "open_overdue",
                "overdue",
                "pending",
                "closed",
                "extensions",
                "review_suggestions",
            )
        }
        assert ints == {
            "received": e.received,
            "on_time": e.on_time,
            "late": e.late,
            "open_overdue": e.open_overdue,
            "overdue": e.overdue,
            "pending": e.pending,
            "closed": e.closed,
            "extensions": e.extensions,
            "review_suggestions": e.reviews,
        }
        for column, want, tolerance in (
            ("median_hours", e.median, 0.0051),
            ("p90_hours", e.p90, 0.0051),
            ("cooperation_rate", e.rate, 0.000051),
        ):
            if want is None:
                assert r[column] == ""
            else:
                assert float(r[column]) == pytest.approx(want, abs=tolerance), (r["unit"], column)
    _no_case_numbers(stdout, traffic)


def test_cli_html_is_self_contained_with_three_charts(
    filled: Ledger, traffic: Traffic, tmp_path: Path
) -> None:
    _, _, total = expected_numbers(traffic.records, SINCE, UNTIL, AS_OF)
    text = _written(filled, tmp_path / "report.html", "html")
    tree = lxml.html.document_fromstring(text)
    images = tree.xpath("//img")
    assert sorted(img.getparent().get("id") for img in images) == [
        "overdue_by_unit",
        "response_times",
        "weekly_trend",
    ]
    for img in images:
        src = img.get("src")
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1]).startswith(b"\x89PNG\r\n\x1a\n")
    # nothing to fetch: no scripts, stylesheets, fonts or remote references
    assert not tree.xpath("//script|//link|//iframe|//object")
    for attr in tree.xpath("//@src"):
        assert attr.startswith("data:"), attr
    for attr in tree.xpath("//@href"):  # the drill-down: links within the file only, each to a list
        assert attr.startswith("#") and tree.xpath(f"//*[@id='{attr[1:]}']"), attr
    assert "url(" not in text and "@import" not in text and "http" not in text
    total_cells = [td.text_content().strip() for td in tree.xpath("//tr[@class='total']")[0].xpath("td")]
    assert total_cells[2:5] == [str(total.received), str(total.on_time), str(total.overdue)]
    assert float(total_cells[-1].rstrip("%")) == pytest.approx(100 * total.rate, abs=0.051)
    assert NAMES["11445300MB00000046"] in text  # names in the table (browser fonts)
    font_note = tree.xpath("//*[@id='font']")[0].text_content()
    assert font_note.startswith("Chart font: ")
    _no_case_numbers(text, traffic)


def test_empty_period_gives_an_empty_valid_report(filled: Ledger, tmp_path: Path) -> None:
    args = ("--since", "2024-06-01", "--until", "2024-07-01")
    text = run_cli(filled, *args).output
    assert "合计" in text and "no documents" in text and "本期没有需要答复的文书" in text
    stdout = run_cli(filled, *args, "--format", "csv").stdout
    assert stdout == CSV_BOM + ",".join(CSV_COLUMNS) + "\n"
    run_cli(filled, *args, "--format", "html", "-o", str(tmp_path / "empty.html"))
    tree = lxml.html.document_fromstring((tmp_path / "empty.html").read_text(encoding="utf-8"))
    assert len(tree.xpath("//img[starts-with(@src, 'data:image/png;base64,')]")) == 3
    total_cells = [td.text_content().strip() for td in tree.xpath("//tr[@class='total']/td")]
    assert total_cells[2] == "0" and total_cells[-1] == "—"


def test_cli_reads_ledger_and_registry_from_hub_config(
    filled: Ledger, traffic: Traffic, tmp_path: Path
) -> None:
    units, _, _ = expected_numbers(traffic.records, SINCE, UNTIL, AS_OF)
    schema = f"\n  schema: {filled.schema}" if filled.schema else ""
    config = tmp_path / "hub.yaml"
    config.write_text(
        f"registry: {REGISTRY_FILE}\n"
        "broker: {cert: tls.pem, key: tls.key}\n"
        "identity: {key: seal.key, cert: seal.pem}\n"
        "trust: {anchors: [ca.pem]}\n"
        f"ledger:\n  url: {filled.url}{schema}\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        app,
        ["report", "--config", str(config), "--since", "2024-09-14", "--until", "2024-10-14"]
        + ["--as-of", AS_OF.isoformat(), "--format", "csv"],
    )
    assert result.exit_code == 0, result.output
    rows = {r["unit"]: r for r in csv_rows(result.stdout_bytes)}
    assert set(rows) == set(units)
    assert (
        rows["11445300MB00000046"]["name"] == NAMES["11445300MB00000046"]
    )  # names from the config's registry
    assert all(int(rows[u]["received"]) == units[u].received for u in units)


def test_cli_errors(tmp_path: Path) -> None:
    runner = CliRunner()
    missing = runner.invoke(
        app, ["report", "--since", "2024-09-01", "--url", f"sqlite:///{tmp_path / 'none.db'}"]
    )
    assert missing.exit_code == 2 and "no ledger" in missing.output
    bad = runner.invoke(app, ["report", "--since", "September", "--url", "sqlite:///x.db"])
    assert bad.exit_code == 2 and "YYYY-MM-DD" in bad.output
    backwards = runner.invoke(
        app, ["report", "--since", "2024-09-02", "--until", "2024-09-01", "--url", "sqlite:///x.db"]
    )
    assert backwards.exit_code == 2 and "empty period" in backwards.output
    nowhere = runner.invoke(app, ["report", "--since", "2024-09-01"], env={"LIANDONG_LEDGER_URL": ""})
    assert nowhere.exit_code == 2


# --- the pure functions --------------------------------------------------------------------------


def _row(**kw) -> DeadlineRow:
    values = {
        "document_id": "d",
        "doc_type": "QueryNotice",
        "unit": "U1",
        "unit_kind": "Bank",
        "served_at": datetime(2024, 9, 30, 16, 0, tzinfo=CST),
        "due_at": end_of(date(2024, 10, 10)),
    }
    values.update(kw)
    return DeadlineRow(**values)


def test_classify_boundaries() -> None:
    due = end_of(date(2024, 10, 10))
    assert classify(_row(answered_at=due), AS_OF) is Outcome.ON_TIME
    assert classify(_row(answered_at=due + timedelta(seconds=1)), AS_OF) is Outcome.LATE
    assert classify(_row(answered_at=AS_OF + timedelta(seconds=1)), AS_OF) is Outcome.OPEN_OVERDUE
    assert classify(_row(due_at=AS_OF), AS_OF) is Outcome.PENDING
    assert classify(_row(due_at=AS_OF - timedelta(seconds=1)), AS_OF) is Outcome.OPEN_OVERDUE
    assert classify(_row(state="closed"), AS_OF) is Outcome.CLOSED
    assert classify(_row(state="closed", answered_at=due), AS_OF) is Outcome.ON_TIME


def test_percentile_is_numpy_linear() -> None:
    rng = random.Random(5)
    for n in (1, 2, 3, 10, 37):
        xs = [rng.uniform(0, 50) for _ in range(n)]
        for q in (0, 10, 50, 90, 100):
            assert percentile(xs, q) == pytest.approx(float(numpy.percentile(xs, q)))
    assert percentile([], 50) is None


def test_pure_report_matches_and_ignores_rows_served_after_as_of(traffic: Traffic) -> None:
    rows = [
        DeadlineRow(
            g.document_id,
            g.doc_type,
            g.unit,
            g.kind,
            g.served_at,
            g.due_at,
            g.answered_at,
            g.state,
            g.extensions,
            g.reviews,
        )
        for g in traffic.records
    ]
    report = build_report(
        rows, since=SINCE, until=UNTIL, as_of=AS_OF, calendar=WorkingCalendar.default(), names=NAMES
    )
    assert_report(report, traffic.records)
    as_of = datetime(2024, 10, 1, tzinfo=CST)  # half the period has not happened yet
    report = build_report(
        rows, since=SINCE, until=UNTIL, as_of=as_of, calendar=WorkingCalendar.default(), names=NAMES
    )
    assert_report(report, [g for g in traffic.records if g.served_at <= as_of], as_of=as_of)
    empty = build_report([], since=SINCE, until=UNTIL, as_of=AS_OF, calendar=WorkingCalendar.default())
    assert empty.empty and empty.units == [] and len(empty.weeks) == 5
    assert empty.totals.cooperation_rate is None and empty.totals.median_hours is None


# --- fonts: Chinese or nothing, never tofu -------------------------------------------------------


def test_font_follows_fontconfig() -> None:
    try:
        listed = subprocess.run(
            ["fc-list", ":lang=zh"], capture_output=True, text=True, check=False
        ).stdout.strip()
    except FileNotFoundError:
        listed = ""
    font = find_cjk_font()
    if listed:
        assert font is not None and font.covers("中国工商银行")
        assert report_output.font_note(font).startswith(f"Chart font: {font.family} (")
    else:
        assert font is None
        assert "No font with Chinese glyphs" in report_output.font_note(None)


@pytest.mark.parametrize("use_cjk", [False, True], ids=["fallback", "cjk"])
def test_charts_never_draw_missing_glyphs(traffic: Traffic, use_cjk: bool) -> None:
    font = find_cjk_font() if use_cjk else None
    if use_cjk and font is None:
        pytest.skip("no font with Chinese glyphs on this machine (fc-list :lang=zh is empty)")
    rows = [
        DeadlineRow(
            g.document_id,
            g.doc_type,
            g.unit,
            g.kind,
            g.served_at,
            g.due_at,
            g.answered_at,
            g.state,
            g.extensions,
            g.reviews,
        )
        for g in traffic.records
    ]
    report = build_report(
        rows, since=SINCE, until=UNTIL, as_of=AS_OF, calendar=WorkingCalendar.default(), names=NAMES
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns "Glyph ... missing from font(s)" for tofu
        charts = render_charts(report, font)
        html_text = to_html(report, font)
    assert set(charts) == {"response_times", "overdue_by_unit", "weekly_trend"}
    assert html_text.count("data:image/png;base64,") == 3
    assert to_csv(report).count("\n") == len(report.units) + 1
