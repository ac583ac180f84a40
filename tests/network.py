"""Helpers for tests that run a live network: a real Mosquitto (``mosquitto`` fixture), a hub
in this process or as a separate process that can be killed, and units with recording handlers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import yaml

from broker.configuration import UnitConfig
from broker.court import CourtClient
from broker.demo.network import Recorder
from broker.hub.config import HubConfig
from broker.registry import load_registry
from broker.restamp import restamp
from broker.sandbox import EXAMPLE_REGISTRY, hub_config, unit_config
from broker.transport.unit import Received, UnitClient

ROOT = Path(__file__).resolve().parents[1]
UNSIGNED = ROOT / "examples" / "unsigned"
COURT = "11445300MB0000001W"
COURT2 = "11421022MB0000002J"
BANK = "91445300MA5100003A"
POLICE = "11445300MB00000046"
HUB = load_registry(EXAMPLE_REGISTRY).hub.code


def wait_until(predicate: Callable[[], bool], timeout: float, what: str, interval: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def unit_client(config: UnitConfig, handler: Callable[[Received], None] | None = None) -> UnitClient:
    return UnitClient(
        config.unit,
        host=config.broker.host,
        port=config.broker.port,
        trust=config.trust.store(),
        registry=load_registry(config.registry),
        store=config.store,
        handler=handler,
        tls=(config.broker.cert, config.broker.key),
        cafile=config.broker.ca,
        resend_after=config.resend_after_seconds,
        protocol=config.broker.protocol,
        failover=config.broker.failover_endpoints(),
    )


class HubProcess:
    """``liandong hub run`` as a child process, so a test can SIGKILL it."""

    def __init__(self, config: HubConfig, directory: Path):
        self.config_path = directory / "hub.yaml"
        self.config_path.write_text(yaml.safe_dump(config.model_dump(mode="json", by_alias=True)), encoding="utf-8")
        self.log_path = directory / "hub.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self._starts = 0

    def start(self, timeout: float = 60.0) -> "HubProcess":
        self._starts += 1
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "broker.cli.main", "hub", "run", "--config", str(self.config_path)],
            stdout=log,
            stderr=log,
            cwd=ROOT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        started = self._starts
        wait_until(lambda: self.log().count('"hub.started"') >= started or self.proc.poll() is not None, timeout, "the hub to start")
        if self.proc.poll() is not None:
            raise AssertionError(f"hub exited with {self.proc.returncode}:\n{self.log()[-3000:]}")
        return self

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""

    def kill(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def fresh(name: str = "AssistanceNotice", **header: object):
    """An example document from examples/unsigned with a new id and the current time."""
    return restamp(UNSIGNED / f"{name}.xml", **header)


__all__ = [
    "BANK",
    "COURT",
    "COURT2",
    "CourtClient",
    "HUB",
    "HubProcess",
    "POLICE",
    "Recorder",
    "fresh",
    "hub_config",
    "unit_client",
    "unit_config",
    "wait_until",
]
