"""``liandong report``: the linkage office's supervision statistics from the hub's ledger (docs/reports.md).

Reads the ledger only; prints unit codes and names, counts and times, never document content.
"""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.exc import SQLAlchemyError

from broker.cli.output import err, fail, out
from broker.errors import LiandongError


class Format(str, Enum):
    text = "text"
    csv = "csv"
    html = "html"


def _day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        err.print(f"[red]{option} {value!r}[/red]: expected a date YYYY-MM-DD")
        raise typer.Exit(2) from None


def _instant(value: str) -> datetime:
    from broker.deadlines.calendar import CHINA_TZ

    try:
        t = datetime.fromisoformat(value)
    except ValueError:
        err.print(f"[red]--as-of {value!r}[/red]: expected an ISO date and time, e.g. 2024-10-31T17:00+08:00")
        raise typer.Exit(2) from None
    return t if t.tzinfo is not None else t.replace(tzinfo=CHINA_TZ)


def report(
    since: Annotated[str, typer.Option("--since", help="first day of the period, YYYY-MM-DD (China time)")],
    until: Annotated[
        str | None,
        typer.Option("--until", help="day after the period, YYYY-MM-DD (exclusive); default: up to --as-of"),
    ] = None,
    fmt: Annotated[
        Format, typer.Option("--format", help="text (tables), csv (one row per unit), html")
    ] = Format.text,
    url: Annotated[
        str | None,
        typer.Option(
            "--url",
            envvar="LIANDONG_LEDGER_URL",
            help="ledger database: sqlite:///path/ledger.db or postgresql+psycopg://user@host/db",
        ),
    ] = None,
    schema: Annotated[
        str | None, typer.Option("--schema", help="PostgreSQL schema holding the ledger")
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config", exists=True, help="hub configuration: its ledger and registry (docs/hub.md)"
        ),
    ] = None,
    registry: Annotated[
        Path | None,
        typer.Option(
            "--registry", exists=True, help="member registry for unit names (default: the hub config's)"
        ),
    ] = None,
    holidays: Annotated[
        Path | None,
        typer.Option(
            "--holidays",
            exists=True,
            help="holiday override file (default: the hub config's supervision.holidays, else config/holidays.yaml)",
        ),
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="judge answers and due times as of this instant (ISO; default now)"),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="write to this file, not stdout")
    ] = None,
    detail: Annotated[
        bool,
        typer.Option(
            "--detail",
            help="text: after the tables, list each unit's documents under their outcome "
            "(the HTML report links every count to its documents anyway)",
        ),
    ] = False,
) -> None:
    """Per-unit supervision statistics for a period: received, on time, overdue, response times, 配合度."""
    from broker.cli.ledger_cmd import _cannot_read, _open
    from broker.deadlines.calendar import WorkingCalendar
    from broker.deadlines.policy import DeadlinePolicy
    from broker.hub.report_output import (
        find_cjk_font,
        render_detail,
        render_text,
        text_report,
        to_csv,
        to_html,
    )
    from broker.hub.reports import day_start, report_from_ledger
    from broker.registry import load_registry

    if detail and fmt is not Format.text:
        err.print("[red]--detail[/red] is for the text report: the HTML report links each count to its "
                  "documents, and the CSV keeps one row per unit")
        raise typer.Exit(2)
    now = datetime.now(UTC)
    reference = _instant(as_of) if as_of is not None else now
    start = day_start(_day(since, "--since"))
    end = day_start(_day(until, "--until")) if until is not None else reference
    if end <= start:
        err.print(f"[red]empty period[/red]: the end ({end.isoformat()}) is not after --since {since}")
        raise typer.Exit(2)

    ledger_url, ledger_schema, registry_path, holidays_path = url, schema, registry, holidays
    policy_path = None  # the deadline policy of the quarterly punishment reports: the hub's own
    if config is not None:
        from broker.hub.config import load_hub_config

        try:
            hub = load_hub_config(config, check_files=False)
        except LiandongError as exc:
            fail(exc)
        ledger_url = ledger_url or hub.ledger.url
        ledger_schema = ledger_schema or hub.ledger.schema_name
        registry_path = registry_path or hub.registry
        # the hub's own calendar, so the report counts working hours on the days the hub does
        holidays_path = holidays_path or getattr(getattr(hub, "supervision", None), "holidays", None)
        policy_path = getattr(getattr(hub, "supervision", None), "policy", None)
    if ledger_url is None:
        err.print("[red]no ledger[/red]: give --url (or LIANDONG_LEDGER_URL) or --config")
        raise typer.Exit(2)
    names: dict[str, str] = {}
    members = None
    if registry_path is not None:
        try:
            members = load_registry(registry_path)
            names = {u.code: u.name for u in members.units}
        except LiandongError as exc:
            fail(exc)

    try:
        calendar = WorkingCalendar.from_file(holidays_path) if holidays_path else WorkingCalendar.default()
    except LiandongError as exc:
        fail(exc)

    try:
        policy = DeadlinePolicy.from_file(policy_path) if policy_path else None
    except LiandongError as exc:
        fail(exc)

    ledger = _open(ledger_url, ledger_schema)
    try:
        result = report_from_ledger(
            ledger, since=start, until=end, as_of=reference, calendar=calendar, names=names, registry=members,
            policy=policy,
        )  # fmt: skip
    except SQLAlchemyError as exc:
        _cannot_read(exc)
    except LiandongError as exc:  # a date outside the working-day calendar
        fail(exc)
    except ValueError as exc:  # inconsistent rows, e.g. an answer recorded before its service
        err.print(f"[red]cannot compute the report[/red]: {exc}")
        raise typer.Exit(2) from None
    finally:
        ledger.close()

    if fmt is Format.text and output is None and out.is_terminal:
        render_text(result, out)  # the terminal's width and colours
        if detail:
            render_detail(result, out)
        return
    if fmt is Format.text:
        text = text_report(result, detail=detail)  # a pipe or a file: the whole table unfolded, plain
    elif fmt is Format.csv:
        text = to_csv(result)
    else:
        text = to_html(result, find_cjk_font(), generated_at=now)
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        output.write_text(text, encoding="utf-8")
        err.print(f"wrote {output}")


def register(app: typer.Typer) -> None:
    app.command("report")(report)
