"""Shared fixtures: the example registry and PKI, a real Mosquitto per test, MQTT clients.

Keep fixtures here generic (any test module may use them); module-specific helpers belong in
the test modules.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from pathlib import Path

import pytest

from broker.mosquitto import BrokerSettings, MosquittoProcess, free_port
from broker.registry import Registry, load_registry
from broker.transport.mqtt import tls_client

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_REGISTRY = ROOT / "examples" / "network.yaml"
EXAMPLE_CERTS = ROOT / "certs-example"
CONNECT_TIMEOUT = 10.0


@pytest.fixture(autouse=True)
def _root_logging_restored():
    """A command run in-process (typer's CliRunner) points the root logger at its own stderr
    (broker.logs.configure), which the runner closes afterwards; a later log line from any thread
    then fails with "I/O operation on closed file". Each test gets the root logger back as it was."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture(scope="session")
def registry() -> Registry:
    """The example member registry (examples/network.yaml)."""
    return load_registry(EXAMPLE_REGISTRY)


@pytest.fixture(scope="session")
def certs() -> Path:
    """The example PKI directory (certs-example/, see its README)."""
    return EXAMPLE_CERTS


@pytest.fixture
def mosquitto(registry: Registry, certs: Path, tmp_path: Path):
    """A real Mosquitto configured from the example registry, on a free port, with its data
    directory (config, persistence, ``mosquitto.log``) in the test's tmp dir; stopped afterwards."""
    settings = BrokerSettings.from_certs(certs, port=free_port(), data_dir=tmp_path / "broker")
    broker = MosquittoProcess(registry, settings)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture
def mqtt_connect(mosquitto: MosquittoProcess, certs: Path):
    """Factory ``mqtt_connect(identity, **kw)``: a client of :func:`broker.transport.mqtt.tls_client`
    connected to the ``mosquitto`` fixture, its network loop running.

    ``identity`` is a unit code or a ``(certfile, keyfile)`` pair; keyword arguments go to
    ``tls_client``, except ``before_connect``: a function called with the client before it
    connects, to set a will or ``on_message`` (a persistent session's queued messages arrive
    right after CONNACK, before this factory returns). Raises when the broker has not accepted
    the connection within 10 s. The client gets ``connected`` and ``disconnected`` (threading
    events) and ``connack_properties`` (MQTT v5 properties of the last CONNACK).

    The broker makes the certificate's CN the client id: two clients with the same certificate
    take each other's session over, so use one client per identity in a test.
    Clients are disconnected at teardown.
    """
    clients = []

    def connect(identity, *, before_connect=None, **kw):
        kw.setdefault("certs", certs)
        client = tls_client(identity, mosquitto.host, mosquitto.port, **kw)
        client.connected = threading.Event()
        client.disconnected = threading.Event()
        outcome: dict = {}

        def on_connect(c, userdata, flags, reason_code, properties):
            outcome["reason"] = reason_code
            c.connack_properties = properties
            if not reason_code.is_failure:
                c.connected.set()
                c.disconnected.clear()
            done.set()

        def on_disconnect(c, userdata, flags, reason_code, properties):
            outcome.setdefault("reason", reason_code)
            c.connected.clear()
            c.disconnected.set()
            done.set()

        def on_connect_fail(c, userdata):
            outcome.setdefault("reason", "connection failed")
            done.set()

        done = threading.Event()
        client.on_connect = on_connect
        client.on_disconnect = on_disconnect
        client.on_connect_fail = on_connect_fail
        if before_connect is not None:
            before_connect(client)
        clients.append(client)
        client.loop_start()
        if not done.wait(CONNECT_TIMEOUT) or not client.connected.is_set():
            client.loop_stop()
            raise AssertionError(
                f"{identity!r} could not connect: {outcome.get('reason', 'timeout')}\n"
                f"broker log:\n{mosquitto.log_text()}"
            )
        return client

    yield connect
    for client in clients:
        with contextlib.suppress(Exception):  # some tests kill their clients' sockets
            client.disconnect()
        client.loop_stop()
