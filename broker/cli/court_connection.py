"""A court's client for the ``liandong court`` commands, connected or the command exits."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from broker.cli.output import fail
from broker.errors import LiandongError

if TYPE_CHECKING:
    from broker.court import CourtClient


def connect_court(config: Path) -> CourtClient:
    """The court's client, connected. A configuration problem (a file it names missing too)
    exits 2; a broker that cannot be reached exits 1, with nothing stored or sent."""
    from broker.configuration import load_unit_config  # imported when used: the CLI starts fast
    from broker.court import CourtClient

    try:
        court = CourtClient(load_unit_config(config))
    except LiandongError as exc:
        fail(exc)
    try:
        return court.start()
    except LiandongError as exc:
        fail(exc, 1)
