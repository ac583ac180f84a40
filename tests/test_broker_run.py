"""``liandong broker run``: Mosquitto in the foreground, stopped with its parent."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from broker.mosquitto import free_port

ROOT = Path(__file__).resolve().parents[1]


def _mosquitto_pids(data: Path) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if "mosquitto" in cmd and str(data) in cmd and "broker.cli.main" not in cmd:
                pids.append(int(entry.name))
    return pids


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def _wait(predicate, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_sigterm_stops_mosquitto_too(tmp_path):
    """systemctl stop sends SIGTERM to the command: Mosquitto must not stay behind."""
    port, data = free_port(), tmp_path / "broker"
    proc = subprocess.Popen(
        [sys.executable, "-m", "broker.cli.main", "broker", "run", "--registry", "examples/network.yaml",
         "--port", str(port), "--data", str(data), "--certs", "certs-example"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        assert _wait(lambda: _listening(port), 30), proc.stdout.read1().decode() if proc.poll() is not None else ""
        (child,) = _mosquitto_pids(data)
        os.kill(child, 0)
        proc.send_signal(signal.SIGHUP)  # reload: mosquitto keeps serving
        time.sleep(0.5)
        assert proc.poll() is None and _listening(port)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
        assert _wait(lambda: not _mosquitto_pids(data), 10), "mosquitto outlived liandong broker run"
    finally:
        if proc.poll() is None:
            proc.kill()
        for pid in _mosquitto_pids(data):
            os.kill(pid, signal.SIGKILL)
