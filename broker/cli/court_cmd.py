"""``liandong publish``: seal and publish a document as a court, and print the hub's answer."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from broker.cli import court_inbox_cmd  # the ``court`` group: inbox, show, wait
from broker.cli.court_connection import connect_court
from broker.cli.output import err, fail, out
from broker.errors import LiandongError

if TYPE_CHECKING:  # the court's modules load only when the command runs (a fast --help)
    from broker.court import Answer, CourtClient


def publish(
    file: Annotated[Path, typer.Argument(help="the document (unsigned: it is sealed with the court's key)", exists=True)],
    config: Annotated[Path, typer.Option("--config", help="the court's unit configuration (YAML)", exists=True)],
    timeout: Annotated[float, typer.Option(help="seconds to wait for the hub's answer")] = 60.0,
) -> None:
    """Seal, publish, and wait for the service receipt (exit 0) or the rejection (exit 1)."""
    court = connect_court(config)
    try:
        answer = _publish(court, file, timeout)
    finally:
        court.stop()
    _print_answer(answer)


def _publish(court: CourtClient, file: Path, timeout: float) -> Answer:
    try:
        return court.publish(file.read_bytes(), timeout=timeout)
    except LiandongError as exc:
        fail(exc, 1)
    except TimeoutError as exc:
        err.print(f"[red]no answer[/red]: {exc}. The document stays queued in {court.config.store} "
                  "and is sent again the next time this court connects.")
        raise typer.Exit(1)


def _print_answer(answer: Answer) -> None:
    if answer.accepted:
        out.print(f"[green]served[/green] {answer.document_id}")
        out.print(f"    reached the network at {answer.received_at.isoformat() if answer.received_at else '?'}"
                  " (the time of service, 003 bank rules 16)")
        out.print(f"    service receipt {answer.notice.document_id} sealed by the hub {answer.notice.sender}")
        raise typer.Exit(0)
    out.print(f"[red]rejected[/red] {answer.document_id}")
    for code, zh, en in answer.errors:
        out.print(f"    [red]{code}[/red] {en} / {zh}")
    raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command()(publish)
    court_inbox_cmd.register(app)
