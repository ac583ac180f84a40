"""``liandong hub run``: the reference hub in the foreground."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from broker import logs
from broker.cli.output import fail
from broker.errors import LiandongError

hub_app = typer.Typer(no_args_is_help=True, help="The hub: checks, routes, timestamps service, keeps the ledger.")


@hub_app.command("run")
def run(
    config: Annotated[Path, typer.Option("--config", help="hub configuration (YAML, docs/hub.md)", exists=True)],
    log_level: Annotated[str, typer.Option(help="DEBUG, INFO, WARNING")] = "INFO",
) -> None:
    """Run the hub until interrupted (Ctrl-C or SIGTERM)."""
    from broker.hub.config import load_hub_config
    from broker.hub.service import run as run_hub

    logs.configure(log_level)
    try:
        run_hub(load_hub_config(config))
    except LiandongError as exc:
        fail(exc)


def register(app: typer.Typer) -> None:
    app.add_typer(hub_app, name="hub")
