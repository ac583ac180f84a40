"""The supervision report (:mod:`broker.hub.reports`) as text, CSV and a self-contained HTML file.

The HTML file works offline and alone: its style is inline, it loads no script, font or
stylesheet, and its three charts (response-time distribution, overdue by unit, weekly trend)
are PNG images drawn with matplotlib's Agg renderer and embedded as ``data:`` URIs.

Chinese in the charts: matplotlib draws text with the fonts it is given, and a font without CJK
glyphs draws boxes (tofu). :func:`find_cjk_font` asks fontconfig (``fc-list :lang=zh``) for a
font with Chinese coverage. With one, charts label units by their registry names when the font
has every character of the name. Without one, charts use unit codes and English titles only, so
every character drawn is in matplotlib's own DejaVu Sans. Either way the report says which font
it used. (The HTML table is text: the browser shows the names with its own fonts.)

Only unit codes and names, document types, counts and times appear: no case numbers, parties or
document content (the report rows carry none).
"""

from __future__ import annotations

import base64
import csv
import html
import io
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from rich.console import Console
from rich.table import Table

from broker.deadlines.calendar import CHINA_TZ
from broker.hub import report_labels as L
from broker.hub.report_detail import LINKED_COUNTS, anchor, detail_html
from broker.hub.reports import Measures, Report, UnitReport

# --- shared formatting ----------------------------------------------------------------------------

CSV_FIELDS = (
    "since",
    "until",
    "unit",
    "name",
    "kind",
    "received",
    "on_time",
    "late",
    "open_overdue",
    "overdue",
    "pending",
    "closed",
    "median_hours",
    "p90_hours",
    "extensions",
    "review_suggestions",
    "cooperation_rate",
)
"""The CSV's columns by the measure they hold; the file's header row is :data:`CSV_COLUMNS`."""

CSV_COLUMNS = (L.SINCE, L.UNTIL, L.UNIT, L.NAME, L.KIND, *(L.COUNT_HEADINGS[f] for f in CSV_FIELDS[5:]))
"""The CSV header row, in Chinese (the office opens the file in a spreadsheet)."""

CSV_BOM = "\ufeff"
"""UTF-8 byte order mark at the start of the CSV: without it a spreadsheet (Excel) reads the
file in the system's legacy code page and the Chinese is garbled."""

_NUMBER_FIELDS = (
    "received", "on_time", "overdue", "late", "open_overdue", "pending", "closed",
    "median_hours", "p90_hours", "extensions", "review_suggestions", "cooperation_rate",
)


def _hours(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def _rate(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


def _at(t: datetime) -> str:
    return t.astimezone(CHINA_TZ).isoformat(timespec="minutes")


def _numbers(m: Measures) -> list[str]:
    """The table cells after the unit columns, in the order of :data:`TABLE_HEADERS`."""
    return [
        str(m.received),
        str(m.on_time),
        str(m.overdue),
        str(m.late),
        str(m.open_overdue),
        str(m.pending),
        str(m.closed),
        _hours(m.median_hours),
        _hours(m.p90_hours),
        str(m.extensions),
        str(m.review_suggestions),
        _rate(m.cooperation_rate),
    ]


TABLE_HEADERS = tuple(L.COUNT_HEADINGS[f] for f in _NUMBER_FIELDS)
"""The count columns' headings, in Chinese, in the order of :func:`_numbers`."""

NOTES = (
    (
        "应答件数 received: documents served in the period that require an answer; "
        "逾期合计 overdue = 逾期答复 late (answered after the due time) + 逾期未答复 open overdue "
        "(unanswered, past due); 未到期 pending: unanswered, not yet due; 无需答复 closed: closed without "
        "an answer. Courts are not listed: they are not assisting units."
    ),
    (
        "中位用时, 90%用时 (median, p90 response time): working hours (09:00–17:00 China time on "
        "official working days) from service to answer."
    ),
    (
        "配合度 (cooperation rate) = 按期答复 on time / (按期答复 + 逾期合计); pending and closed documents are left out. "
        "Definitions and sources: docs/reports.md."
    ),
)

# --- text -----------------------------------------------------------------------------------------


def render_text(report: Report, console: Console) -> None:
    """Print the report as rich tables: units with a totals row, then the weekly trend."""
    console.print(
        f"[bold]Supervision report 督办统计[/bold]  period {report.period_label} (China time, end exclusive)"
    )
    console.print(f"as of {_at(report.as_of)}")
    table = Table(title="各单位 by unit", title_justify="left")
    table.add_column(L.UNIT, no_wrap=True)
    table.add_column(L.NAME, overflow="fold")
    table.add_column(L.KIND, overflow="fold")
    for header in TABLE_HEADERS:
        table.add_column(header, justify="right")
    for u in report.units:
        table.add_row(u.unit, u.name or "", L.kind_name(u.kind), *_numbers(u.measures))
    table.add_section()
    table.add_row(f"[bold]{L.TOTAL}[/bold]", "", "", *_numbers(report.totals))
    if report.empty:
        table.caption = "本期没有需要答复的文书 / no documents requiring an answer were served in this period"
    console.print(table)
    # Weeks without a document served are left out: rows of zeros only push the others apart.
    served_weeks = [w for w in report.weeks if w.measures.received]
    weeks = Table(title="按送达周 by week of service", title_justify="left")
    weeks.add_column(L.WEEK)
    weeks.add_column(L.DAYS)
    for header in TABLE_HEADERS:
        weeks.add_column(header, justify="right")
    for w in served_weeks:
        weeks.add_row(w.label, w.days, *_numbers(w.measures))
    if len(served_weeks) < len(report.weeks):
        left_out = len(report.weeks) - len(served_weeks)
        weeks.caption = f"{left_out} 周无送达文书，未列出 / {left_out} week(s) without documents left out"
    console.print(weeks)
    _render_obligations(report, console)
    for note in NOTES:
        console.print(note, style="dim")


def _render_obligations(report: Report, console: Console) -> None:
    """Entrustment ratings and complaints (003 事项委托 art. 13) and the punishing units that have
    not sent a quarter's report (003 联合惩戒备忘录 二), when there are any."""
    if report.entrustments:
        table = Table(title="事项委托评价与投诉 entrustment ratings and complaints, by entrusted court", title_justify="left")
        for header in (L.UNIT, L.NAME, "评价 ratings", "平均分 mean score", "投诉 complaints", "已说明 explained"):
            table.add_column(header)
        for c in report.entrustments:
            mean = "—" if c.mean_score is None else f"{c.mean_score:.1f}"
            table.add_row(c.court, c.name or "", str(c.ratings), mean, str(c.complaints), str(c.explained))
        console.print(table)
    if report.punishment_missing:
        table = Table(title="未按期报送惩戒执行情况的单位 units that have not sent a quarterly punishment report", title_justify="left")
        for header in (L.UNIT, L.NAME, L.KIND, "季度 quarter", "期限 due"):
            table.add_column(header)
        for m in report.punishment_missing:
            table.add_row(m.unit, m.name, L.kind_name(m.kind), m.quarter.label, _at(m.due_at))
        console.print(table)


def text_report(report: Report, width: int = 220, *, detail: bool = False) -> str:
    """The text report as a plain string (no colour, no trailing spaces), for files and pipes;
    with ``detail`` the documents behind each unit's counts follow the tables."""
    buf = io.StringIO()
    console = Console(file=buf, width=width, color_system=None, highlight=False)
    render_text(report, console)
    if detail:
        render_detail(report, console)
    return "\n".join(line.rstrip() for line in buf.getvalue().splitlines()) + "\n"


def render_detail(report: Report, console: Console) -> None:
    """The drill-down (``--detail``): each unit's documents under their outcome."""
    from broker.hub.report_detail import detail_lines

    console.print("明细 documents behind the counts (look one up with: liandong ledger show ID)", style="bold")
    for line in detail_lines(report):
        console.print(line, markup=False, highlight=False, soft_wrap=True)


# --- CSV ------------------------------------------------------------------------------------------


def _csv_number(value: float | None, digits: int) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def to_csv(report: Report) -> str:
    """One row per unit; hours with 2 decimals, the rate as a fraction with 4; empty = undefined.
    Starts with :data:`CSV_BOM`; headings (:data:`CSV_COLUMNS`) and unit kinds in Chinese."""
    buf = io.StringIO(CSV_BOM)
    buf.seek(0, io.SEEK_END)
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    since, until = _at(report.since), _at(report.until)
    for u in report.units:
        m = u.measures
        writer.writerow(
            [
                since,
                until,
                u.unit,
                u.name or "",
                L.kind_name(u.kind),
                m.received,
                m.on_time,
                m.late,
                m.open_overdue,
                m.overdue,
                m.pending,
                m.closed,
                _csv_number(m.median_hours, 2),
                _csv_number(m.p90_hours, 2),
                m.extensions,
                m.review_suggestions,
                _csv_number(m.cooperation_rate, 4),
            ]
        )
    return buf.getvalue()


# --- fonts ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChartFont:
    """A font file with Chinese glyphs, registered with matplotlib under ``family``."""

    family: str
    path: str

    def covers(self, text: str) -> bool:
        """Whether the font has a glyph for every character of ``text``."""
        return all(_has_glyph(self.path, ch) for ch in text if not ch.isspace())


@lru_cache(maxsize=4096)
def _has_glyph(path: str, ch: str) -> bool:
    return _ft2font(path).get_char_index(ord(ch)) != 0


@lru_cache(maxsize=8)
def _ft2font(path: str):
    from matplotlib.ft2font import FT2Font

    return FT2Font(path)


def _fc_candidates() -> list[tuple[str, str, str]]:
    """``(file, family, style)`` of every font fontconfig says covers Chinese (``:lang=zh``)."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return []
    try:
        listing = subprocess.run(
            [fc_list, "--format", "%{file}\t%{family[0]}\t%{style[0]}\n", ":lang=zh"],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    found = []
    for line in listing.splitlines():
        parts = line.split("\t")
        if len(parts) == 3 and parts[0]:
            found.append((parts[0], parts[1], parts[2]))
    return found


def _preference(candidate: tuple[str, str, str]) -> tuple[int, int, int, str]:
    path, family, style = candidate
    f, s = family.lower(), style.lower()
    return (
        0 if "sans" in f or "hei" in f or "yahei" in f else 1,  # sans-serif reads best in charts
        0 if s in ("regular", "book", "normal", "medium", "") else 1,
        0 if " sc" in f or "cn" in f or "wenquanyi" in f else 1,  # simplified Chinese forms
        path,  # deterministic among equals
    )


@lru_cache(maxsize=1)
def find_cjk_font() -> ChartFont | None:
    """The best font fontconfig knows with Chinese glyphs, registered with matplotlib; or None.

    A candidate must open in matplotlib and really have the glyphs of 中文 (fontconfig's language
    coverage is a claim, this checks it).
    """
    from matplotlib import font_manager

    for path, _family, _style in sorted(_fc_candidates(), key=_preference):
        try:
            if not all(_has_glyph(path, ch) for ch in "中文统计"):
                continue
            font_manager.fontManager.addfont(path)
            family = font_manager.FontProperties(fname=path).get_name()
        except (OSError, RuntimeError, ValueError):  # an unreadable font file is not a candidate
            continue
        return ChartFont(family=family, path=path)
    return None


def font_note(font: ChartFont | None) -> str:
    """The sentence the report prints about the font of its charts."""
    if font is None:
        return (
            "Chart font: DejaVu Sans (matplotlib's own). No font with Chinese glyphs was found "
            "(fc-list :lang=zh), so the charts label units by code and use English titles; the "
            "tables show unit names as text."
        )
    return f"Chart font: {font.family} ({font.path}), found with fc-list :lang=zh."


# --- charts ---------------------------------------------------------------------------------------


def _unit_label(u: UnitReport, font: ChartFont | None) -> str:
    if font is not None and u.name and font.covers(u.name):
        return u.name
    return u.unit


def _title(english: str, chinese: str, font: ChartFont | None) -> str:
    return f"{english} {chinese}" if font is not None else english


def _png(fig) -> bytes:
    buf = io.BytesIO()
    # no creation time or software version in the file: the same report gives the same bytes
    fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()


def _no_data(ax, font: ChartFont | None) -> None:
    ax.text(0.5, 0.5, _title("no data", "无数据", font), ha="center", va="center", transform=ax.transAxes)
    ax.set_xticks([])
    ax.set_yticks([])


def render_charts(report: Report, font: ChartFont | None) -> dict[str, bytes]:
    """The three charts as PNG bytes: ``response_times``, ``overdue_by_unit``, ``weekly_trend``."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    families = [font.family, "DejaVu Sans"] if font is not None else ["DejaVu Sans"]
    charts: dict[str, bytes] = {}
    with matplotlib.rc_context(
        {"font.family": "sans-serif", "font.sans-serif": families, "axes.unicode_minus": False}
    ):
        # 1. response-time distribution
        fig = Figure(figsize=(7.5, 3.6), dpi=100, layout="constrained")
        FigureCanvasAgg(fig)
        ax = fig.subplots()
        hours = report.totals.response_hours
        ax.set_title(_title("Response time (working hours)", "响应时间（工作小时）", font))
        if hours:
            ax.hist(hours, bins=min(30, max(5, len(hours) // 8)), color="#4c78a8", edgecolor="white")
            for value, name, style in (
                (report.totals.median_hours, "median", "--"),
                (report.totals.p90_hours, "p90", ":"),
            ):
                if value is not None:
                    ax.axvline(value, color="#e45756", linestyle=style, label=f"{name} {value:.1f} h")
            ax.legend(loc="upper right")
            ax.set_xlabel("working hours from service to answer")
            ax.set_ylabel("documents")
        else:
            _no_data(ax, font)
        charts["response_times"] = _png(fig)

        # 2. overdue by unit (late answers and open overdue, stacked)
        units = report.units
        fig = Figure(figsize=(7.5, max(2.8, 1.3 + 0.45 * len(units))), dpi=100, layout="constrained")
        FigureCanvasAgg(fig)
        ax = fig.subplots()
        ax.set_title(_title("Overdue by unit", "各单位逾期", font))
        if units:
            y = list(range(len(units)))  # positions, not names: two units may share a name
            late = [u.measures.late for u in units]
            still_open = [u.measures.open_overdue for u in units]
            ax.barh(y, late, color="#f58518", label="answered late")
            ax.barh(y, still_open, left=late, color="#e45756", label="open, past due")
            ax.set_yticks(y, [_unit_label(u, font) for u in units])
            ax.invert_yaxis()
            ax.set_xlabel("documents")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            fig.legend(loc="outside lower center", ncols=2)
        else:
            _no_data(ax, font)
        charts["overdue_by_unit"] = _png(fig)

        # 3. weekly trend
        fig = Figure(figsize=(7.5, 4.0), dpi=100, layout="constrained")
        FigureCanvasAgg(fig)
        ax = fig.subplots()
        ax.set_title(_title("Trend by week of service", "每周趋势", font))
        if not report.empty:
            x = list(range(len(report.weeks)))
            ms = [w.measures for w in report.weeks]
            ax.plot(x, [m.received for m in ms], marker="o", color="#4c78a8", label="received")
            ax.plot(x, [m.on_time for m in ms], marker="o", color="#54a24b", label="on time")
            ax.plot(x, [m.overdue for m in ms], marker="o", color="#e45756", label="overdue")
            ax.set_xticks(x, [f"{w.label}\n{w.days}" for w in report.weeks], fontsize="small")
            ax.set_ylabel("documents")
            ax.set_ylim(bottom=0)
            ax2 = ax.twinx()
            rates = [m.cooperation_rate for m in ms]
            ax2.plot(
                [i for i, r in zip(x, rates) if r is not None],
                [100 * r for r in rates if r is not None],
                linestyle="--",
                color="#72b7b2",
                label="cooperation rate %",
            )
            ax2.set_ylim(0, 105)
            ax2.set_ylabel("cooperation rate %")
            lines = ax.get_legend_handles_labels()
            lines2 = ax2.get_legend_handles_labels()
            fig.legend(lines[0] + lines2[0], lines[1] + lines2[1], loc="outside lower center", ncols=4)
        else:
            _no_data(ax, font)
        charts["weekly_trend"] = _png(fig)
    return charts


# --- HTML -----------------------------------------------------------------------------------------

CHART_TITLES = {
    "response_times": "Response-time distribution 响应时间分布",
    "overdue_by_unit": "Overdue by unit 各单位逾期",
    "weekly_trend": "Trend by week 每周趋势",
}

_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI","Noto Sans CJK SC","Microsoft YaHei",sans-serif;
margin:2em;color:#222;max-width:80em}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.6em}
table{border-collapse:collapse;font-size:.9em}
th,td{border:1px solid #ccc;padding:.3em .5em}td.n{text-align:right;font-variant-numeric:tabular-nums}
th{background:#f3f3f3}tr.total td{font-weight:bold;background:#fafafa}
figure{margin:1em 0}figcaption{font-size:.9em;color:#555}img{max-width:100%}
p.note{color:#555;font-size:.9em}code{font-size:.95em}
""".strip()


def _table_html(
    rows: Sequence[tuple[list[str], Measures, str]],
    first_headers: Sequence[str],
    *,
    link_units: Sequence[str] = (),
) -> str:
    """A table; for the ``i``-th row with ``link_units[i]`` set, each non-zero count links to the
    list of its documents (:mod:`broker.hub.report_detail`)."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in (*first_headers, *TABLE_HEADERS))
    body = []
    for i, (cells, measures, css) in enumerate(rows):
        unit = link_units[i] if i < len(link_units) else ""
        tds = "".join(f"<td>{c}</td>" for c in cells)
        for field_name, value in zip(_NUMBER_FIELDS, _numbers(measures)):
            text = html.escape(value)
            if unit and field_name in LINKED_COUNTS and value != "0":
                text = f'<a href="#{html.escape(anchor(unit, field_name))}">{text}</a>'
            tds += f'<td class="n">{text}</td>'
        cls = f' class="{css}"' if css else ""
        body.append(f"<tr{cls}>{tds}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _obligations_html(report: Report) -> str:
    """The text report's :func:`_render_obligations` tables, as HTML."""
    esc = html.escape
    parts = []
    if report.entrustments:
        rows = "".join(
            f"<tr><td><code>{esc(c.court)}</code></td><td>{esc(c.name or '')}</td><td class=\"n\">{c.ratings}</td>"
            f"<td class=\"n\">{'—' if c.mean_score is None else f'{c.mean_score:.1f}'}</td>"
            f"<td class=\"n\">{c.complaints}</td><td class=\"n\">{c.explained}</td></tr>"
            for c in report.entrustments
        )
        parts.append(
            '<h2 id="entrustments">Entrustment ratings and complaints 事项委托评价与投诉</h2>'
            "<table><thead><tr><th>court</th><th>name</th><th>评价 ratings</th><th>平均分 mean</th>"
            f"<th>投诉 complaints</th><th>已说明 explained</th></tr></thead><tbody>{rows}</tbody></table>"
        )
    if report.punishment_missing:
        rows = "".join(
            f"<tr><td><code>{esc(m.unit)}</code></td><td>{esc(m.name)}</td><td>{esc(L.kind_name(m.kind))}</td>"
            f"<td>{esc(m.quarter.label)}</td><td>{esc(_at(m.due_at))}</td></tr>"
            for m in report.punishment_missing
        )
        parts.append(
            '<h2 id="punishment-reports">Quarterly punishment reports not sent 未按期报送惩戒执行情况</h2>'
            "<table><thead><tr><th>unit</th><th>name</th><th>kind</th><th>quarter</th><th>due</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>"
        )
    return "\n".join(parts)


def to_html(report: Report, font: ChartFont | None, *, generated_at: datetime | None = None) -> str:
    """The report as one self-contained HTML document (charts inline)."""
    esc = html.escape
    charts = render_charts(report, font)
    unit_rows: list[tuple[list[str], Measures, str]] = []
    for u in report.units:
        name = f"{esc(u.name)}<br><code>{esc(u.unit)}</code>" if u.name else f"<code>{esc(u.unit)}</code>"
        unit_rows.append(([name, esc(L.kind_name(u.kind))], u.measures, ""))
    unit_rows.append(([L.TOTAL, ""], report.totals, "total"))
    week_rows = [([esc(w.label), esc(w.days)], w.measures, "") for w in report.weeks]
    figures = "".join(
        f'<figure id="{key}"><img alt="{esc(CHART_TITLES[key])}" '
        f'src="data:image/png;base64,{base64.b64encode(png).decode("ascii")}">'
        f"<figcaption>{esc(CHART_TITLES[key])}</figcaption></figure>"
        for key, png in charts.items()
    )
    empty = (
        '<p class="note">No documents requiring an answer were served in this period.</p>'
        if report.empty
        else ""
    )
    generated = f", generated {esc(_at(generated_at))}" if generated_at is not None else ""
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Supervision report 督办统计 {esc(report.period_label)}</title>
<style>{_STYLE}</style>
</head>
<body>
<h1>Supervision report 督办统计</h1>
<p>Period <strong>{esc(report.period_label)}</strong> (China time, end exclusive); as of {esc(_at(report.as_of))}{generated}.</p>
{empty}
<h2>By unit 各单位</h2>
{_table_html(unit_rows, (L.NAME, L.KIND), link_units=[u.unit for u in report.units])}
<p class="note">每个件数链接到其背后的文书 / each count links to the documents behind it (below, 明细).</p>
<h2>Charts 图表</h2>
{figures}
<h2>By week of service 按周</h2>
{_table_html(week_rows, (L.WEEK, L.DAYS))}
{_obligations_html(report)}
<h2>Documents behind the counts 明细</h2>
{detail_html(report)}
<h2>Notes 说明</h2>
{"".join(f'<p class="note">{esc(note)}</p>' for note in NOTES)}
<p class="note" id="font">{esc(font_note(font))}</p>
<p class="note">The report holds unit codes and names, counts and times only: no case numbers, parties or document content.</p>
</body>
</html>
"""
