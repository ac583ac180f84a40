"""Console output shared by the CLI commands."""

from __future__ import annotations

from typing import NoReturn

import typer
from rich.console import Console

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def fail(exc: Exception, code: int = 2) -> NoReturn:
    """Print a configuration or usage error (with its codes) and exit."""
    problems = getattr(exc, "problems", None)
    if problems:
        for p in problems:
            err.print(f"[red]{p.code}[/red] {p.message_en} / {p.message_zh}")
    else:
        err.print(f"[red]error[/red] {exc}")
    raise typer.Exit(code)
