"""The demo's member unit with no Python: 云浮市住房公积金管理中心, served only through its
gateway (``liandong gateway run``, a child process) by a shell script with curl and jq
(``housing_fund.sh``, another child process) that reads the inbox and answers each item.

It shows what issue 12 is for: any system that can speak HTTP is a member unit. Both children
are stopped by :meth:`CurlUnit.stop` (SIGTERM, then SIGKILL if they do not go).
"""

from __future__ import annotations

import hashlib
import json
import secrets
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import yaml

from broker.configuration import UnitConfig
from broker.mosquitto import free_port
from broker.sandbox import ROOT

SCRIPT = Path(__file__).with_name("housing_fund.sh")
TOOLS = ("bash", "curl", "jq")
"""What the script needs (./run installs curl and jq)."""


class CurlUnit:
    """A unit's gateway and its curl script, each a child process, with their logs in ``folder``."""

    def __init__(self, config: UnitConfig, folder: Path):
        missing = [tool for tool in TOOLS if shutil.which(tool) is None]
        if missing:
            raise RuntimeError(f"the curl unit needs {', '.join(missing)} (./run installs them)")
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.unit = config.unit
        self.port = free_port()
        self.token = secrets.token_urlsafe(32)  # lives only as long as the demo
        gateway = config.model_dump(mode="json")
        gateway["http"] = {
            "port": self.port,
            "audit_log": str(folder / "audit.jsonl"),
            "state": str(folder / "gateway.db"),
            "tokens": [
                {
                    "name": "housing-fund-script",
                    "sha256": hashlib.sha256(self.token.encode()).hexdigest(),
                    "scopes": ["read", "answer"],
                }
            ],
        }
        self.config = folder / "gateway.yaml"
        self.config.write_text(yaml.safe_dump(gateway, allow_unicode=True), encoding="utf-8")
        self.store = Path(config.store)
        self.gateway: subprocess.Popen[bytes] | None = None
        self.script: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> None:
        """The gateway, once it is connected to the broker; then the script."""
        with open(self.folder / "gateway.log", "ab") as log:
            self.gateway = subprocess.Popen(
                [sys.executable, "-m", "broker.cli.main", "gateway", "run", "--config", str(self.config)],
                stdout=log,
                stderr=log,
                cwd=ROOT,
            )
        deadline = time.monotonic() + timeout
        while not self._connected():
            if self.gateway.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the housing fund centre's gateway did not start: {self.folder / 'gateway.log'}")
            time.sleep(0.1)
        with open(self.folder / "script.log", "ab") as log:
            self.script = subprocess.Popen(
                ["bash", str(SCRIPT)],
                env={"PATH": "/usr/local/bin:/usr/bin:/bin", "GATEWAY": self.base, "TOKEN": self.token},
                stdout=log,
                stderr=log,
            )

    def _connected(self) -> bool:
        try:
            with urllib.request.urlopen(self.base + "/healthz", timeout=2) as reply:
                return bool(json.loads(reply.read())["broker_connected"])
        except (OSError, ValueError, KeyError):
            return False

    def answered(self) -> list[str]:
        """The script's log lines of the items it answered."""
        log = self.folder / "script.log"
        text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
        return [line for line in text.splitlines() if line.startswith("answered ")]

    def stop(self) -> None:
        for proc in (self.script, self.gateway):  # the script first: it talks to the gateway
            if proc is None or proc.poll() is not None:
                continue
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.script = self.gateway = None
