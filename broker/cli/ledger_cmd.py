"""``liandong ledger verify`` and ``ledger show``: checking the hub's ledger and reading a document's story.

Output carries ids, types, codes, digests and times only, never document content.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, NoReturn, Optional, TypeVar

import typer
from rich.table import Table
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from broker.cli.output import err, out
from broker.hub.ledger import AuditEntry, ChainReport, Ledger, LedgerError
from broker.hub.ledger.coverage import ROWS, op_table

UrlOpt = Annotated[
    Optional[str],
    typer.Option(
        "--url",
        envvar="LIANDONG_LEDGER_URL",
        help="ledger database: sqlite:///path/ledger.db or postgresql+psycopg://user@host/db",
    ),
]
ConfigOpt = Annotated[
    Optional[Path], typer.Option("--config", help="the hub's configuration: its ledger section is used", exists=True)
]
T = TypeVar("T")

SchemaOpt = Annotated[Optional[str], typer.Option("--schema", help="PostgreSQL schema holding the ledger")]


def _open(url: str | None, schema: str | None, config: Path | None = None) -> Ledger:
    if config is not None:
        from broker.errors import LiandongError
        from broker.hub.config import load_hub_config

        try:
            section = load_hub_config(config, check_files=False).ledger
        except LiandongError as exc:
            for p in exc.problems:
                err.print(f"[red]{p.code}[/red] {p.message_en}")
            raise typer.Exit(2) from None
        url, schema = url or section.url, schema or section.schema_name
    if not url:
        err.print("[red]no ledger[/red]: give --url (or LIANDONG_LEDGER_URL) or --config HUB.yaml")
        raise typer.Exit(2)
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        err.print(f"[red]bad ledger URL[/red]: {exc}")
        raise typer.Exit(2) from None
    # opening a missing SQLite file would silently create an empty database
    if parsed.get_backend_name() == "sqlite" and parsed.database and not Path(parsed.database).exists():
        err.print(f"[red]no ledger at[/red] {parsed.database}")
        raise typer.Exit(2)
    try:
        return Ledger(url, schema=schema)
    except (ValueError, LedgerError) as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None


def _cannot_read(exc: SQLAlchemyError) -> NoReturn:
    reason = getattr(exc, "orig", None) or exc
    err.print(f"[red]cannot read the ledger[/red]: {exc.__class__.__name__}: {reason}")
    raise typer.Exit(2) from None


def _with_ledger(url: str | None, schema: str | None, config: Path | None, act: Callable[[Ledger], T]) -> T:
    """``act(ledger)`` on the ledger these options name, closed afterwards; a ledger that refuses
    (``LedgerError``) or cannot be read exits 2 with the reason."""
    ledger = _open(url, schema, config)
    try:
        return act(ledger)
    except LedgerError as exc:
        _ledger_error(exc)
    except SQLAlchemyError as exc:
        _cannot_read(exc)
    finally:
        ledger.close()


def verify(url: UrlOpt = None, schema: SchemaOpt = None, config: ConfigOpt = None) -> None:
    """Check every audit hash chain, every anchor and the stored evidence; print every chain's
    head. Exit 0 when intact, 1 otherwise."""
    report = _with_ledger(url, schema, config, Ledger.verify)
    head = f"head seq {report.head_seq} hash {report.head_hash}"
    rows = _rows(report)
    if report.ok:
        out.print(f"[green]intact[/green]: {report.entries} audit entries, {rows}; {head}")
        _print_heads(report)
        raise typer.Exit(0)
    out.print(
        f"[red]NOT INTACT[/red]: {len(report.problems)} problems in {report.entries} audit entries, "
        f"{rows}; {head}"
    )
    _print_heads(report)
    for problem in report.problems:
        out.print(f"  {problem}", markup=False, highlight=False)
    raise typer.Exit(1)


def _print_heads(report: ChainReport) -> None:
    """One line per chain: its head (what to record or publish outside), and how many of its
    entries no anchor binds yet. A one-chain ledger's single head is the line above."""
    if len(report.heads) <= 1:
        return
    out.print(f"{len(report.heads)} chains, {report.anchors} anchors:")
    for name, (seq, hash_) in report.heads.items():
        after = report.unanchored.get(name)
        note = f" ({after} after the last anchor)" if after else ""
        out.print(f"  chain {name}: head seq {seq} hash {hash_}{note}", markup=False, highlight=False)


PartitionOpt = Annotated[
    Optional[str],
    typer.Option("--partition", help="record the partition of new entries: court or case (default: keep one chain)"),
]


def migrate(url: UrlOpt = None, schema: SchemaOpt = None, config: ConfigOpt = None, partition: PartitionOpt = None) -> None:
    """Migrate a one-chain ledger to chains (its entries become chain main, hashes and head unchanged);
    with --partition, new entries go to chains by court or case. Run with the hubs stopped."""
    from broker.hub.ledger.migrate import migrate as run_migration

    done = _with_ledger(url, schema, config, lambda ledger: run_migration(ledger, partition))
    what = f"moved {done.entries} entries to chain main" if done.entries else "already a ledger of chains"
    parted = f"; new entries partitioned by {done.partition}" if done.partition not in (None, "single") else ""
    out.print(f"[green]migrated[/green]: {what}; head seq {done.head_seq} hash {done.head_hash}{parted}")


def anchor(url: UrlOpt = None, schema: SchemaOpt = None, config: ConfigOpt = None) -> None:
    """Write an anchor entry binding every chain's head now; print its hash (the value to record
    or publish outside)."""
    entry = _with_ledger(url, schema, config, Ledger.anchor)
    if entry is None:
        out.print("no chain moved since the last anchor (or the ledger is empty): nothing written")
        return
    out.print(f"anchor seq {entry.seq} hash {entry.hash}", markup=False, highlight=False)


def _ledger_error(exc: LedgerError) -> NoReturn:
    err.print(str(exc), markup=False, highlight=False)
    raise typer.Exit(2) from None


def _rows(report: ChainReport) -> str:
    """Rows stored against rows the chain records, per table, and those older than the coverage."""
    parts = [f"{report.documents} documents ({report.named.get('documents', 0)} in the chain)"]
    for table in ("rejections", "deliveries", "deadlines"):
        if table in report.stored:
            parts.append(f"{report.stored[table]} {table} ({report.named.get(table, 0)} in the chain)")
    older = {t: n for t, n in report.predating.items() if n}
    if older:
        listed = ", ".join(f"{n} {t}" for t, n in older.items())
        parts.append(
            f"written before the chain covered rows (only their bytes and first entry are checked): {listed}"
        )
    return ", ".join(parts)


def show(
    document_id: Annotated[str, typer.Argument(help="document id")],
    url: UrlOpt = None,
    schema: SchemaOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Show one document's story: its audit entries and those of its receipts, replies and notices."""
    entries = _with_ledger(url, schema, config, lambda ledger: ledger.story(document_id))
    if not entries:
        err.print(f"no audit entries for document {document_id}")
        raise typer.Exit(1)
    if out.width < WIDE:
        for line in story_lines(entries, document_id, out.width):
            out.print(line, markup=False, highlight=False)
        return
    table = Table(title=f"story of {document_id}", caption="↳ a related document: receipt, reply or notice")
    table.add_column("seq", justify="right", no_wrap=True)
    table.add_column("time", overflow="fold", min_width=20)
    table.add_column("action", no_wrap=True)
    for name in ("actor", "document", "detail"):
        table.add_column(name, overflow="fold")
    for e in entries:
        doc = e.document_id or ""
        if doc and doc != document_id:
            doc = f"↳ {doc}"
        table.add_row(str(e.seq), e.at, e.action, _short(e.actor), doc, _detail(e))
    out.print(table)


WIDE = 120
"""Below this many columns the story is a list of blocks, not a six-column table."""


def story_lines(entries: list[AuditEntry], document_id: str, width: int = 80) -> list[str]:
    """One block per audit entry, no line wider than ``width``: the seq, time, action and actor,
    then the related document and the detail, wrapped between ``key=value`` pairs."""
    indent = " " * 7
    lines = [f"story of {document_id}", ""]
    for e in entries:
        zone = e.at[-6:] if len(e.at) > 25 and e.at[-6] in "+-" else ""
        at = e.at[:19].replace("T", " ") + zone  # to the second: the table and the ledger keep the rest
        lines += textwrap.wrap(f"{e.seq:>5}  {at}  {e.action}  by {_short(e.actor)}", width, subsequent_indent=indent)
        doc = e.document_id or ""
        if doc and doc != document_id:
            lines += textwrap.wrap(f"↳ {doc} (a related document)", width, initial_indent=indent, subsequent_indent=indent)
        detail = _detail(e)
        if detail:
            lines += textwrap.wrap(detail, width, initial_indent=indent, subsequent_indent=indent, break_on_hyphens=False)
    lines += ["", "↳ a related document: receipt, reply or notice"]
    return lines


def _short(value: str, keep: int = 16) -> str:
    # fingerprints and digests: enough to recognize, short enough for a table
    return value if len(value) <= keep + 4 else value[:keep] + "…"


def _detail(entry: AuditEntry) -> str:
    """Compact ``key=value`` pairs; long values (digests, fingerprints) are cut, nested ones elided."""
    parts = []
    for key, value in sorted(entry.detail.items()):
        if key == ROWS and isinstance(value, list):
            # the row operations the entry chains (coverage.py): how many, by table
            tables = sorted({op_table(op) or "?" for op in value})
            parts.append(f"{key}={len(value)}({','.join(tables)})")
            continue
        parts.append(f"{key}={_value(value)}")
    return " ".join(parts)


def _value(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(_value(v) for v in value)
    if isinstance(value, dict):
        return "{…}"
    return _short(str(value), keep=36)  # a document id still fits


def register(app: typer.Typer) -> None:
    ledger_app = typer.Typer(
        no_args_is_help=True, help="The hub's ledger: verify its chains, show a document's story, migrate to chains, anchor."
    )
    ledger_app.command()(verify)
    ledger_app.command()(show)
    ledger_app.command()(migrate)
    ledger_app.command()(anchor)
    app.add_typer(ledger_app, name="ledger")
