"""``liandong demo``: the README's main command."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Optional

import typer

from broker import logs


def demo(
    workdir: Annotated[Optional[Path], typer.Option(help="keep the network's files here (default: a temporary directory)")] = None,
    verbose: Annotated[bool, typer.Option(help="show the components' structured logs")] = False,
    suite: Annotated[str, typer.Option(help="rsa (the example PKI: RSA and P-256 seals) or sm2 (an all-SM2 network)")] = "rsa",
) -> None:
    """Start Mosquitto, the hub and every reference adapter, run two courts' story through every
    document type, print the ledger's account, stop everything. Exit 0 when all checks pass."""
    from broker.demo import run

    if suite not in ("rsa", "sm2"):
        raise typer.BadParameter("rsa or sm2", param_hint="--suite")
    logs.configure("INFO" if verbose else "CRITICAL")
    if not verbose:
        logging.getLogger().setLevel(logging.CRITICAL)
    raise typer.Exit(run(workdir, keep=workdir is not None, suite=suite))


def register(app: typer.Typer) -> None:
    app.command()(demo)
