"""``liandong broker config`` and ``liandong broker run``: the files the first writes are what
Mosquitto runs with; the second runs Mosquitto in the foreground, stopped with its parent, and
says how to install Mosquitto when there is none."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

import broker.mosquitto.runner as runner
from broker.cli.main import app
from broker.hub.config import DEFAULT_MAX_BYTES
from broker.mosquitto import free_port
from broker.mosquitto.runner import MosquittoNotFound, find_mosquitto
from broker.registry import load_registry
from broker.transport import topics
from broker.transport.mqtt import tls_client
from tests.test_broker_acl import conf_options

ROOT = Path(__file__).resolve().parents[1]
REGISTRY = ROOT / "examples" / "network.yaml"
CERTS = ROOT / "certs-example"
BANK = "91445300MA5100003A"


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


def _output(proc: subprocess.Popen[bytes]) -> str:
    """What the command printed so far (for a failing assertion's message)."""
    if proc.poll() is None:
        return "(still running)"
    assert proc.stdout is not None
    return proc.stdout.read().decode(errors="replace")


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def _wait(predicate, seconds: float, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


@contextlib.contextmanager
def _broker_run(tmp_path: Path):
    """``liandong broker run`` on a free port; yields the process, its port and data directory,
    and kills whatever is left of it (and its Mosquitto) afterwards."""
    port, data = free_port(), tmp_path / "broker"
    proc = subprocess.Popen(
        [sys.executable, "-m", "broker.cli.main", "broker", "run", "--registry", "examples/network.yaml",
         "--port", str(port), "--data", str(data), "--certs", "certs-example"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        yield proc, port, data
    finally:
        if proc.poll() is None:
            proc.kill()
        for pid in _mosquitto_pids(data):
            os.kill(pid, signal.SIGKILL)


def test_sigterm_stops_mosquitto_too(tmp_path):
    """systemctl stop sends SIGTERM to the command: Mosquitto must not stay behind."""
    with _broker_run(tmp_path) as (proc, port, data):
        assert _wait(lambda: _listening(port), 30), proc.stdout.read1().decode() if proc.poll() is not None else ""
        (child,) = _mosquitto_pids(data)
        os.kill(child, 0)
        proc.send_signal(signal.SIGHUP)  # reload: mosquitto keeps serving
        time.sleep(0.5)
        # Its own Mosquitto, still: once (under the full suite) the command had ended before the
        # SIGTERM came, and the port's listener may then have been another test's (a port race).
        assert proc.poll() is None and _listening(port) and child in _mosquitto_pids(data), _output(proc)
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(30)
        assert code == 0, f"exit {code}: {_output(proc)}"
        assert _wait(lambda: not _mosquitto_pids(data), 10), "mosquitto outlived liandong broker run"


def test_sigterm_while_mosquitto_starts_stops_it_too(tmp_path):
    """The signals are the command's before Mosquitto starts: a SIGTERM the moment Mosquitto
    exists (before it listens) still stops both."""
    with _broker_run(tmp_path) as (proc, _, data):
        assert _wait(lambda: bool(_mosquitto_pids(data)), 30, interval=0.002), "mosquitto never started"
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
        assert proc.returncode >= 0, "the command died of the signal instead of handling it"
        assert _wait(lambda: not _mosquitto_pids(data), 10), "mosquitto outlived liandong broker run"


def _connects(identity, port: int) -> bool:
    """Whether the broker accepts an MQTT v5 connection with ``identity`` (None: no certificate)."""
    client = tls_client(identity, "127.0.0.1", port, certs=CERTS)
    done, accepted = threading.Event(), []

    def on_connect(c, userdata, flags, reason, properties):
        accepted.append(not reason.is_failure)
        done.set()

    client.on_connect = on_connect
    client.on_disconnect = lambda *args: done.set()
    client.on_connect_fail = lambda *args: done.set()
    client.loop_start()
    try:
        done.wait(10)
        return accepted == [True]
    finally:
        client.disconnect()
        client.loop_stop()


def test_broker_config_writes_a_configuration_mosquitto_runs_with(tmp_path):
    out, port = tmp_path / "etc", free_port()
    args = ["broker", "config", "--registry", str(REGISTRY), "-o", str(out), "--port", str(port)]
    args += ["--certs", str(CERTS)]
    if os.geteuid() == 0:
        args += ["--user", "root"]  # else Mosquitto drops to the mosquitto account, which cannot read tmp_path
    result = CliRunner(env={"COLUMNS": "400"}).invoke(app, args)  # no path folded across lines
    assert result.exit_code == 0, result.output
    conf, acl = out / "mosquitto.conf", out / "acl"
    output = " ".join(result.output.split())
    assert f"wrote {conf}" in output and f"wrote {acl}" in output and f"mosquitto -c {conf}" in output

    options = conf_options(conf)
    assert options["listener"] == [f"{port} 127.0.0.1"]  # one listener, with TLS:
    assert options["cafile"] == [str((CERTS / "chain.pem").resolve())]
    assert options["certfile"] == [str((CERTS / "broker" / "server.pem").resolve())]
    assert options["keyfile"] == [str((CERTS / "broker" / "server.key").resolve())]
    assert options["require_certificate"] == ["true"] and options["use_identity_as_username"] == ["true"]
    assert options["allow_anonymous"] == ["false"] and options["acl_file"] == [str(acl.resolve())]
    assert options["persistence"] == ["true"] and options["persistence_location"] == [str(out.resolve())]
    assert int(options["max_queued_messages"][0]) > 1000  # Mosquitto's default drops silently past 1000
    assert int(options["max_packet_size"][0]) > DEFAULT_MAX_BYTES  # the hub's document limit

    registry = load_registry(REGISTRY)
    blocks: dict[str, list[str]] = {}
    for line in acl.read_text(encoding="utf-8").splitlines():
        if line.startswith("user "):
            blocks[line.split()[1]] = []
        elif line.startswith("topic "):
            blocks[list(blocks)[-1]].append(line)
        else:
            assert not line.strip() or line.startswith("#"), line  # no pattern lines, nothing else
    assert list(blocks) == registry.hub.identities + [u.code for u in registry.units]
    assert sorted(blocks[BANK]) == sorted(
        [f"topic write {topics.outbox(BANK)}", f"topic write {topics.acks(BANK)}",
         f"topic readwrite {topics.status(BANK)}", f"topic read {topics.inbox(BANK)}"]
    )
    assert f"topic write {topics.all_units('in')}" in blocks[registry.hub.code]

    # Mosquitto runs with these files as written, and applies them.
    log = open(tmp_path / "mosquitto.log", "wb")
    proc = subprocess.Popen([find_mosquitto(), "-c", str(conf)], stdout=log, stderr=subprocess.STDOUT, cwd=out)
    try:
        assert _wait(lambda: _listening(port) or proc.poll() is not None, 10) and proc.poll() is None, (
            (tmp_path / "mosquitto.log").read_text()
        )
        assert _connects(BANK, port), (tmp_path / "mosquitto.log").read_text()
        assert not _connects(None, port)  # no client certificate, no connection
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()
    assert (out / "mosquitto.db").is_file()  # persistence in the output directory, saved at exit


def test_broker_run_without_mosquitto_says_how_to_install_it(tmp_path, monkeypatch):
    """Neither on PATH nor in the sbin directories find_mosquitto also looks in (no variable
    overrides the lookup)."""
    monkeypatch.setenv("PATH", str(tmp_path))
    real_access = os.access

    def access(path, mode, **kw):
        return False if Path(path).name == "mosquitto" else real_access(path, mode, **kw)

    monkeypatch.setattr(runner.os, "access", access)
    with pytest.raises(MosquittoNotFound):  # else the command below would run Mosquitto and block
        find_mosquitto()
    args = ["--registry", str(REGISTRY), "--port", str(free_port()), "--data", str(tmp_path / "broker")]
    result = CliRunner().invoke(app, ["broker", "run", *args, "--certs", str(CERTS)])
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    output = " ".join(result.output.split())
    assert "mosquitto is not installed" in output and "apt-get install mosquitto" in output
    assert "Traceback" not in result.output
