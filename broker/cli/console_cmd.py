"""``liandong console``: the console's accounts (docs/console.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from broker.cli.output import fail, out
from broker.errors import LiandongError

console_app = typer.Typer(
    no_args_is_help=True, help="The console: web pages for officers, clerks, reviewers, the office."
)
user_app = typer.Typer(no_args_is_help=True, help="The console's accounts.")

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help="the gateway's configuration: the accounts live beside its state (console.db)",
        exists=True,
    ),
]
DbOption = Annotated[Path | None, typer.Option("--db", help="the accounts file itself, instead of --config")]


def _store(config: Path | None, db: Path | None) -> tuple[object, str | None]:
    """The account store and the gateway's unit (None with --db)."""
    from broker.console.accounts import AccountStore
    from broker.gateway.config import load_gateway_config

    if (config is None) == (db is None):
        raise typer.BadParameter("give exactly one of --config and --db", param_hint="--config")
    if db is not None:
        return AccountStore(db), None
    try:
        loaded = load_gateway_config(config)
    except LiandongError as exc:
        fail(exc)
    return AccountStore(loaded.http.state.with_name("console.db")), loaded.unit


@user_app.command("add")
def add(
    username: Annotated[str, typer.Argument(help="the person's log-in name")],
    role: Annotated[str, typer.Option("--role", help="officer, clerk, reviewer, supervisor or admin")],
    unit: Annotated[
        str | None, typer.Option("--unit", help="the person's unit code (default: the gateway's unit)")
    ] = None,
    config: ConfigOption = None,
    db: DbOption = None,
    totp: Annotated[
        bool, typer.Option("--totp", help="require a one-time code (prints the secret once)")
    ] = False,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="read the password from standard input")
    ] = False,
) -> None:
    """Create an account. The password is asked for (hidden) or read from standard input;
    it is stored only as its Argon2id hash."""
    store, gateway_unit = _store(config, db)
    unit = unit or gateway_unit
    if unit is None:
        raise typer.BadParameter("--unit is required with --db", param_hint="--unit")
    if gateway_unit is not None and unit != gateway_unit:
        fail(LiandongError.of("CONSOLE_UNIT_UNKNOWN", unit=unit))
    password = (
        typer.get_text_stream("stdin").readline().rstrip("\n")
        if password_stdin
        else typer.prompt("password", hide_input=True, confirmation_prompt=True)
    )
    try:
        secret = store.add(username, unit, role, password, totp=totp)  # type: ignore[attr-defined]
    except LiandongError as exc:
        fail(exc)
    store.record("account_add", who="(command line)", unit=unit, target=username)  # type: ignore[attr-defined]
    out.print(f"account {username} ({role}, {unit}) created", markup=False)
    if secret:
        out.print(f"TOTP secret (shown once, enter it in an authenticator app): {secret}", markup=False)


@user_app.command("list")
def list_users(config: ConfigOption = None, db: DbOption = None) -> None:
    """Every account: name, unit, role, second factor, locked."""
    store, _ = _store(config, db)
    for a in store.accounts():  # type: ignore[attr-defined]
        flags = ("totp " if a.has_totp else "") + ("LOCKED" if a.locked else "")
        out.print(f"{a.username}\t{a.unit}\t{a.role.value}\t{flags}".rstrip(), markup=False)


@user_app.command("unlock")
def unlock(
    username: Annotated[str, typer.Argument()], config: ConfigOption = None, db: DbOption = None
) -> None:
    """Unlock an account locked by wrong passwords."""
    store, unit = _store(config, db)
    store.unlock(username)  # type: ignore[attr-defined]
    store.record("account_unlock", who="(command line)", unit=unit, target=username)  # type: ignore[attr-defined]
    out.print(f"account {username} unlocked", markup=False)


def register(app: typer.Typer) -> None:
    console_app.add_typer(user_app, name="user")
    app.add_typer(console_app, name="console")
