"""``liandong gateway``: run an organisation's HTTP gateway, make API tokens (docs/gateway.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from broker import logs
from broker.cli.output import fail, out
from broker.errors import LiandongError

gateway_app = typer.Typer(
    no_args_is_help=True, help="The gateway: the network over plain HTTP for a court or a unit."
)


@gateway_app.command("run")
def run(
    config: Annotated[
        Path, typer.Option("--config", help="gateway configuration (YAML, docs/gateway.md)", exists=True)
    ],
    log_level: Annotated[str, typer.Option(help="DEBUG, INFO, WARNING")] = "INFO",
) -> None:
    """Serve the gateway until interrupted (Ctrl-C or SIGTERM). A configuration it cannot use
    exits 2; a broker it cannot reach exits 1, before it listens."""
    from broker.gateway.config import load_gateway_config
    from broker.gateway.server import serve

    logs.configure(log_level)
    try:
        loaded = load_gateway_config(config)
    except LiandongError as exc:
        fail(exc)
    try:
        serve(loaded)
    except LiandongError as exc:
        fail(exc, 1)


@gateway_app.command("token")
def token(
    name: Annotated[str, typer.Argument(help="the client system the token is for (named in the audit log)")],
    scope: Annotated[
        list[str], typer.Option("--scope", help="publish, read, answer or admin; repeat for several")
    ],
) -> None:
    """Make a new API token: prints the secret once (give it to the client system) and the
    YAML entry for the configuration (which keeps only its SHA-256)."""
    from broker.gateway.tokens import new_token, token_hash

    allowed = {"publish", "read", "answer", "admin"}
    if not scope or set(scope) - allowed:
        raise typer.BadParameter(f"scopes are among {sorted(allowed)}", param_hint="--scope")
    secret = new_token()
    out.print(f"token (shown once): {secret}", soft_wrap=True)
    out.print("configuration entry under http.tokens:")
    out.print(
        f"  - name: {name}\n    sha256: {token_hash(secret)}\n    scopes: [{', '.join(scope)}]",
        soft_wrap=True,
        markup=False,
    )


def register(app: typer.Typer) -> None:
    app.add_typer(gateway_app, name="gateway")
