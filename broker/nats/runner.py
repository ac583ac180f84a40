"""Run a three-node NATS cluster as child processes: for tests, the benchmark and
``liandong broker cluster run``.

:class:`NatsCluster` writes the configuration generated from the registry
(:mod:`broker.nats.config`), starts one ``nats-server -c <conf>`` per node, and waits until every
node's MQTT listener accepts connections, the routes between the nodes are up and JetStream
reports healthy (``/healthz``). ``kill(i)``/``start_node(i)`` let tests lose and bring back a node.

    with NatsCluster(registry, ClusterSettings.local("certs-example", tmp)) as cluster:
        host, port = cluster.endpoints[1]
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from broker.nats.config import ClusterSettings, write_cluster_config
from broker.registry import Registry

INSTALL_HINT = "install it with: apt-get install nats-server (2.2 or newer, for MQTT)"
MIN_VERSION = (2, 2, 0)


class NatsNotFound(RuntimeError):
    """nats-server is not installed, or too old for MQTT."""


class NatsStartError(RuntimeError):
    """A node exited or the cluster did not become ready in time; the message includes the logs."""


def find_nats_server() -> str:
    """Path of nats-server: on PATH, else /usr/sbin or /usr/local/bin (Debian installs it in
    /usr/sbin). Raises :class:`NatsNotFound`."""
    found = shutil.which("nats-server")
    if found:
        return found
    for candidate in ("/usr/sbin/nats-server", "/usr/local/sbin/nats-server", "/usr/local/bin/nats-server"):
        if os.access(candidate, os.X_OK):
            return candidate
    raise NatsNotFound(f"nats-server was not found on PATH nor in /usr/sbin; {INSTALL_HINT}")


def nats_version(executable: str) -> tuple[int, int, int]:
    out = subprocess.run([executable, "--version"], check=False, capture_output=True, text=True, timeout=10).stdout
    m = re.search(r"v?(\d+)\.(\d+)\.(\d+)", out)
    if not m:
        raise NatsNotFound(f"{executable} --version said {out!r}")
    return int(m.group(1)), int(m.group(2)), int(m.group(3))


def require_mqtt_support(executable: str | None = None) -> str:
    """The nats-server executable if it has an MQTT listener (2.2+), else :class:`NatsNotFound`."""
    exe = executable or find_nats_server()
    version = nats_version(exe)
    if version < MIN_VERSION:
        raise NatsNotFound(f"{exe} is {'.'.join(map(str, version))}; MQTT needs nats-server 2.2 or newer")
    return exe


class NatsCluster:
    """Three ``nats-server`` child processes configured from the registry.

    The configuration files are written to ``config_dir`` (default: the settings' data
    directory); each node logs to ``<data_dir>/<node>.log``. Use a context manager or call
    :meth:`stop`.
    """

    def __init__(
        self,
        registry: Registry,
        settings: ClusterSettings,
        config_dir: str | Path | None = None,
        *,
        executable: str | None = None,
        start_timeout: float = 30.0,
        log_to_file: bool = True,
    ):
        self.settings = settings.resolved()
        self.registry = registry
        self.executable = require_mqtt_support(executable)
        self.config_dir = Path(config_dir).resolve() if config_dir else self.settings.data_dir
        self.start_timeout = start_timeout
        self.log_to_file = log_to_file
        self.conf_paths = write_cluster_config(registry, self.settings, self.config_dir)
        self._procs: list[subprocess.Popen[bytes] | None] = [None] * len(self.settings.nodes)

    # --- properties ---------------------------------------------------------------------
    @property
    def endpoints(self) -> list[tuple[str, int]]:
        """``(host, MQTT port)`` of every node, in order."""
        return [(_connect_host(n.host), n.mqtt_port) for n in self.settings.nodes]

    def log_path(self, index: int) -> Path:
        return self.settings.data_dir / f"{self.settings.nodes[index].name}.log"

    def log_text(self, index: int | None = None) -> str:
        indexes = range(len(self.settings.nodes)) if index is None else [index]
        parts = []
        for i in indexes:
            path = self.log_path(i)
            text = path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""
            parts.append(f"--- {self.settings.nodes[i].name} ---\n{text}" if index is None else text)
        return "\n".join(parts)

    def running(self, index: int) -> bool:
        proc = self._procs[index]
        return proc is not None and proc.poll() is None

    def pid(self, index: int) -> int | None:
        proc = self._procs[index]
        return proc.pid if proc is not None else None

    # --- lifecycle ----------------------------------------------------------------------
    def start(self) -> NatsCluster:
        """Start every node and wait until the cluster is ready (:meth:`wait_ready`)."""
        for node in self.settings.nodes:
            if _tcp_open(_connect_host(node.host), node.mqtt_port):
                raise NatsStartError(f"{node.host}:{node.mqtt_port} is already in use by another program")
        for i in range(len(self.settings.nodes)):
            self._spawn(i)
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _spawn(self, index: int) -> None:
        if self.running(index):
            raise RuntimeError(f"node {self.settings.nodes[index].name} is already running")
        out = open(self.log_path(index), "ab") if self.log_to_file else None
        try:
            self._procs[index] = subprocess.Popen(
                [self.executable, "-c", str(self.conf_paths[index])],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT if out else None,
                cwd=self.settings.data_dir,
            )
        finally:
            if out is not None:
                out.close()

    def start_node(self, index: int, *, wait: bool = True) -> None:
        """Start one node again (same configuration and JetStream directory)."""
        self._spawn(index)
        if wait:
            self.wait_ready([index])

    def wait_ready(self, indexes: list[int] | None = None, timeout: float | None = None) -> None:
        """Wait until the nodes run, their MQTT listeners accept connections, each has
        routes to every other running node, and ``/healthz`` (JetStream included) says ok."""
        indexes = list(range(len(self.settings.nodes))) if indexes is None else indexes
        deadline = time.monotonic() + (timeout or self.start_timeout)
        pending = set(indexes)
        while pending:
            for i in sorted(pending):
                proc = self._procs[i]
                if proc is None or proc.poll() is not None:
                    code = None if proc is None else proc.returncode
                    raise NatsStartError(
                        f"nats-server {self.settings.nodes[i].name} exited with status {code}; its log:\n"
                        + self.log_text(i)[-4000:]
                    )
                if self._node_ready(i):
                    pending.discard(i)
            if not pending:
                return
            if time.monotonic() > deadline:
                raise NatsStartError(
                    f"the NATS cluster was not ready within {timeout or self.start_timeout:g} s "
                    f"(waiting for {', '.join(self.settings.nodes[i].name for i in sorted(pending))}); logs:\n"
                    + self.log_text()[-6000:]
                )
            time.sleep(0.1)

    def _node_ready(self, index: int) -> bool:
        node = self.settings.nodes[index]
        host = _connect_host(node.host)
        others = sum(1 for j in range(len(self.settings.nodes)) if j != index and self.running(j))
        routez = self._http(index, "/routez")
        if routez is None or routez.get("num_routes", 0) < others:
            return False
        health = self._http(index, "/healthz")
        if health is None or health.get("status") != "ok":
            return False
        return _tcp_open(host, node.mqtt_port)

    def _http(self, index: int, path: str) -> dict | None:
        node = self.settings.nodes[index]
        url = f"http://{_connect_host(node.host)}:{node.http_port}{path}"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:  # /healthz answers 503 with a JSON body
            try:
                return json.loads(exc.read())
            except ValueError:
                return None
        except (OSError, ValueError):
            return None

    def monitor(self, index: int, path: str) -> dict | None:
        """A node's monitoring endpoint as JSON (``/varz``, ``/jsz?streams=true``, ...)."""
        return self._http(index, path)

    def kill(self, index: int) -> int | None:
        """SIGKILL one node: a crash. Returns its exit status (None when it was not running)."""
        proc, self._procs[index] = self._procs[index], None
        if proc is None:
            return None
        if proc.poll() is None:
            proc.kill()
        return proc.wait()

    def stop_node(self, index: int, timeout: float = 15.0) -> int | None:
        """SIGTERM one node (NATS shuts down cleanly) and wait; SIGKILL after ``timeout``."""
        proc, self._procs[index] = self._procs[index], None
        if proc is None:
            return None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                return proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
        return proc.wait()

    def stop(self) -> None:
        for i in range(len(self._procs)):
            proc = self._procs[i]
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for i in range(len(self._procs)):
            self.stop_node(i)

    def wait(self) -> int:
        """Block until any node exits (for ``liandong broker cluster run``); return its status."""
        while True:
            for proc in self._procs:
                if proc is not None and proc.poll() is not None:
                    return proc.returncode
            time.sleep(0.5)

    def __enter__(self) -> NatsCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        nodes = ", ".join(f"{n.name}={n.host}:{n.mqtt_port}" for n in self.settings.nodes)
        return f"<NatsCluster {nodes} data={self.settings.data_dir}>"


def _connect_host(host: str) -> str:
    return {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)


def _tcp_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False
