"""The ``liandong`` command line: one entry point, one module per command group."""

from __future__ import annotations

import typer

from broker.cli import adapter_cmd, broker_cmd, court_cmd, demo_cmd, documents, hub_cmd, ledger_cmd, report_cmd
from broker.cli import gateway_cmd
from broker.cli import pki_cmd
from broker.cli import render_cmd

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,  # locals may hold documents with personal data
    help="liandong 联动 — court enforcement linkage network: signed documents, broker, hub, adapters.",
)
for group in (demo_cmd, documents, court_cmd, broker_cmd, hub_cmd, ledger_cmd, report_cmd, adapter_cmd):
    group.register(app)
gateway_cmd.register(app)
pki_cmd.register(app)
render_cmd.register(app)

if __name__ == "__main__":  # pragma: no cover
    app()
