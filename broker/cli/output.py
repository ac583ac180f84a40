"""Console output shared by the CLI commands."""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

import typer
from rich.console import Console

from broker.errors import LiandongError
from broker.registry import Registry, load_registry

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


def registry_or_exit(path: Path) -> Registry:
    """The member registry at ``path``; when it cannot be loaded, its problems (with codes) are
    printed and the command exits 2."""
    try:
        return load_registry(path)
    except LiandongError as exc:
        fail(exc)
