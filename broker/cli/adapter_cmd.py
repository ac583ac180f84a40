"""``liandong adapter list | run | new``: discover, run and scaffold adapters (docs/adapters.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from broker import logs
from broker.cli.output import err, fail, out
from broker.errors import LiandongError

adapter_app = typer.Typer(
    no_args_is_help=True,
    help="Adapters: turn the unit's documents into native operations and send sealed receipts.",
)


@adapter_app.command("list")
def list_adapters() -> None:
    """List the adapters installed in the "liandong.adapters" entry-point group."""
    from adapters.sdk.discovery import GROUP, available, load_adapter

    entries = available()
    if not entries:
        out.print(f"no adapters installed (entry-point group {GROUP!r}); create one with `liandong adapter new NAME`")
        return
    for entry in entries:
        try:
            cls = load_adapter(entry.name)
        except Exception as exc:  # show the others even if one is broken
            out.print(f"[red]{entry.name}[/red]  {entry.value}  cannot be loaded: {type(exc).__name__}: {exc}")
            continue
        kinds = ", ".join(sorted(k.value for k in cls.unit_kinds)) or "any"
        source = f" ({entry.distribution})" if entry.distribution else ""
        out.print(f"[green]{entry.name}[/green]  {entry.value}{source}  units: {kinds}  {cls.describe()}")


@adapter_app.command("run")
def run(
    name: Annotated[str, typer.Argument(help="adapter name (entry point) or module:Class")],
    config: Annotated[Path, typer.Option("--config", help="adapter configuration (YAML, docs/adapters.md)", exists=True)],
    log_level: Annotated[str | None, typer.Option(help="DEBUG, INFO, WARNING (default: the file's log_level)")] = None,
) -> None:
    """Run an adapter as its unit until interrupted (Ctrl-C or SIGTERM)."""
    from adapters.sdk.discovery import load_adapter
    from adapters.sdk.service import UnitKindError
    from adapters.sdk.service import run as run_service
    from adapters.sdk.settings import load_adapter_config

    try:
        adapter_cls = load_adapter(name)
    except (LookupError, TypeError, ImportError) as exc:
        err.print(f"[red]error[/red] {exc}")
        raise typer.Exit(2)
    try:
        settings = load_adapter_config(adapter_cls, config)
    except LiandongError as exc:
        fail(exc)
    logs.configure(log_level or settings.log_level)
    try:
        run_service(adapter_cls, settings)
    except (LiandongError, UnitKindError) as exc:
        fail(exc)


@adapter_app.command("new")
def new(
    name: Annotated[str, typer.Argument(help="the adapter's name (lower case, e.g. bank or my-bank)")],
    directory: Annotated[Path, typer.Option("--dir", help="where to create liandong-adapter-NAME/")] = Path("."),
    kind: Annotated[str, typer.Option(help="unit kind it serves (Bank, PublicSecurity, NaturalResources, ...)")] = "Bank",
) -> None:
    """Create an adapter package: entry point, settings, one handler, harness tests that pass."""
    from adapters.sdk.scaffold import ScaffoldError, create
    from broker.documents.catalogue import UnitKind

    try:
        root = create(name, directory, UnitKind(kind))
    except ValueError as exc:  # ScaffoldError, or an unknown unit kind
        message = str(exc) if isinstance(exc, ScaffoldError) else f"unknown unit kind {kind!r}"
        err.print(f"[red]error[/red] {message}")
        raise typer.Exit(2)
    out.print(f"[green]created[/green] {root}")
    out.print(f"    test it:  cd {root} && python -m pytest")
    out.print(f"    run it:   pip install -e {root} && liandong adapter run {name} --config config.yaml")


def register(app: typer.Typer) -> None:
    app.add_typer(adapter_app, name="adapter")
