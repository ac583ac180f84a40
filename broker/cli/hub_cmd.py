"""``liandong hub run``: the reference hub in the foreground."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from broker import logs
from broker.cli.output import err, fail
from broker.errors import LiandongError

if TYPE_CHECKING:
    from broker.hub.config import HubConfig

hub_app = typer.Typer(no_args_is_help=True, help="The hub: checks, routes, timestamps service, keeps the ledger.")


@hub_app.command("run")
def run(
    config: Annotated[Path, typer.Option("--config", help="hub configuration (YAML, docs/hub.md)", exists=True)],
    log_level: Annotated[str, typer.Option(help="DEBUG, INFO, WARNING")] = "INFO",
) -> None:
    """Run the hub until interrupted (Ctrl-C or SIGTERM); waits for the broker if it is down."""
    from broker.hub.config import load_hub_config

    logs.configure(log_level)
    try:
        run_until_signal(load_hub_config(config))
    except LiandongError as exc:
        fail(exc)


def run_until_signal(config: HubConfig) -> None:
    """Run a hub in the foreground until SIGINT or SIGTERM (SIGHUP: reload the registry). A
    broker that cannot be reached is waited for (``BROKER_UNREACHABLE`` lines at growing
    intervals, broker/hub/broker_wait.py), never a reason to exit: under systemd the broker may
    start after the hub."""
    from broker.hub import heap
    from broker.hub.broker_wait import BrokerWait
    from broker.hub.service import Hub

    hub = Hub(config)
    stopping = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stopping.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    previous[signal.SIGHUP] = signal.signal(signal.SIGHUP, lambda *_: hub.reload_registry())  # enrolment
    b = config.broker
    waiting = BrokerWait(", ".join([f"{b.host}:{b.port}", *b.failover]), stopping, say=lambda line: err.print(line, markup=False))
    try:
        try:
            hub.start(wait_for_broker=waiting.wait)
        except RuntimeError:
            if not stopping.is_set():
                raise
            return  # stopped by a signal before the broker came: nothing was served
        heap.settle()  # loaded: what is there now lives as long as the process (broker/hub/heap.py)
        trim = heap.Trim()  # freed memory back to the system once a minute (broker/hub/heap.py)
        while not stopping.wait(1.0):
            trim()
    finally:
        hub.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def register(app: typer.Typer) -> None:
    app.add_typer(hub_app, name="hub")
