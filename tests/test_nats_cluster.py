"""The network on a three-node NATS cluster over MQTT 3.1.1 (issue 6, "Past one broker node";
docs/deployment.md, "Clustered broker (NATS)").

The hub connects to node 1, units to nodes 2 and 3, each with the other nodes as failover. What
NATS's permissions enforce is tested as it is, including what they do not: NATS does not bind
the MQTT client id to the certificate (Mosquitto's ``use_username_as_clientid``), and that gap
is pinned down here so that a change in either direction is noticed.

Negative checks do not sleep (but one, where what is checked is that a message waits): a
forbidden publication is followed by an allowed one from the same connection into the same
subscription (one JetStream consumer, in stream order), and the subscriber waits for that sentinel.
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID
from pydantic import ValidationError

from broker.hub.config import BrokerConnection
from broker.hub.ledger import Ledger
from broker.hub.service import Hub
from broker.nats import ClusterSettings, NatsCluster, NatsNotFound, require_mqtt_support, subject
from broker.nats.config import member_permissions, spki_sha256, write_cluster_config
from broker.transport import topics
from broker.transport.mqtt import tls_client
from tests.network import (
    BANK,
    COURT,
    HUB,
    CourtClient,
    HubProcess,
    Recorder,
    fresh,
    hub_config,
    unit_client,
    unit_config,
    wait_until,
)
from tests.test_broker_acl import Peer, load_ca, make_client_cert

try:
    NATS_SERVER = require_mqtt_support()
except NatsNotFound as exc:  # pragma: no cover - depends on the machine
    pytest.skip(f"no nats-server with MQTT support: {exc}", allow_module_level=True)

SUBACK_FAILURE = 0x80  # MQTT 3.1.1 SUBACK return code "Failure"
TIMEOUT = 15.0


@pytest.fixture
def cluster(registry, certs, tmp_path):
    nats = NatsCluster(registry, ClusterSettings.local(certs, tmp_path / "nats"))
    nats.start()
    try:
        yield nats
    finally:
        nats.stop()


def on_node(config, cluster: NatsCluster, node: int):
    """``config`` (a hub's or a unit's) pointed at ``node`` over MQTT 3.1.1, with the other
    nodes, in order, as failover."""
    endpoints = cluster.endpoints
    host, port = endpoints[node]
    others = [f"{h}:{p}" for h, p in endpoints[node + 1 :] + endpoints[:node]]
    broker = config.broker.model_copy(update={"host": host, "port": port, "protocol": "3.1.1", "failover": others})
    return config.model_copy(update={"broker": broker})


def connect(cluster: NatsCluster, node: int, identity, *, certs: Path | None = None, **kw) -> Peer:
    """A raw paho 3.1.1 client connected to ``node``, wrapped in a :class:`Peer` (callbacks set
    before CONNECT). Raises when the cluster refuses it."""
    host, port = cluster.endpoints[node]
    kw.setdefault("certs", certs or Path(__file__).resolve().parents[1] / "certs-example")
    client = tls_client(identity, host, port, protocol="3.1.1", **kw)
    peer = Peer(client)
    outcome = attempt(client)
    if outcome is not None:
        raise AssertionError(f"{identity!r} could not connect to node {node + 1}: {outcome}")
    client.loop_start()
    _clients.append(client)
    return peer


_clients: list[mqtt.Client] = []


@pytest.fixture(autouse=True)
def _disconnect_clients():
    yield
    while _clients:
        client = _clients.pop()
        try:
            client.disconnect()
        finally:
            client.loop_stop()


def attempt(client: mqtt.Client) -> str | None:
    """Connect, driving paho's loop here (no retries): None when CONNACK accepted it, else what
    went wrong. Sets the client's ``session_present``."""
    outcome: list[str | None] = []

    def on_connect(c, userdata, flags, rc, props):
        c.session_present = bool(flags.session_present)
        outcome.append(f"CONNACK {rc}" if rc.is_failure else None)

    client.on_connect = on_connect
    client.on_disconnect = lambda c, u, flags, rc, props: outcome.append(f"disconnected: {rc}")
    try:
        client.reconnect()
    except OSError as exc:
        return f"TLS/TCP failed: {exc}"
    deadline = time.monotonic() + TIMEOUT
    while not outcome and time.monotonic() < deadline:
        if client.loop(timeout=0.2) != 0 and not outcome:
            outcome.append("connection lost")
    if not outcome:
        return "timeout"
    if outcome[0] is not None:
        sock = client.socket()
        if sock is not None:
            sock.close()
    client.on_connect = None
    client.on_disconnect = None
    return outcome[0]


def refused(cluster: NatsCluster, node: int, identity, **kw) -> str | None:
    host, port = cluster.endpoints[node]
    client = tls_client(identity, host, port, protocol="3.1.1", client_id="probe", clean_start=True, **kw)
    result = attempt(client)
    if result is None:
        client.disconnect()
    return result


# --- configuration and protocol settings (no cluster) ---------------------------------------------


def test_generated_configuration_is_accepted_by_nats_server(registry, certs, tmp_path):
    settings = ClusterSettings.local(certs, tmp_path / "data")
    paths = write_cluster_config(registry, settings, tmp_path / "conf")
    assert [p.name for p in paths] == ["nats-n1.conf", "nats-n2.conf", "nats-n3.conf"]
    for path in paths:
        check = subprocess.run([NATS_SERVER, "-t", "-c", str(path)], check=False, capture_output=True, text=True, timeout=30)
        assert check.returncode == 0, check.stdout + check.stderr
        assert path.stat().st_mode & 0o077 == 0  # the route password is in it
        text = path.read_text(encoding="utf-8")
        assert text.count("nats-route://") == 3  # every node, itself included
        assert "verify_and_map: true" in text and "stream_replicas: 3" in text
        assert "max_payload: 16777216" in text
        assert text.count('allowed_connection_types: ["MQTT"]') == len(registry.units) + len(
            getattr(registry.hub, "identities", [HUB])
        )
        assert spki_sha256(certs / "units" / BANK / "tls.pem") in text
        assert 'user: "CN=91445300MA5100003A,O=中国工商银行股份有限公司云浮分行,C=CN"' in text


def test_cli_writes_one_configuration_per_node(certs, tmp_path):
    from typer.testing import CliRunner

    from broker.cli.main import app
    from broker.sandbox import EXAMPLE_REGISTRY

    out = tmp_path / "nats"
    result = CliRunner().invoke(
        app,
        ["broker", "cluster", "config", "--registry", str(EXAMPLE_REGISTRY), "--certs", str(certs), "-o", str(out),
         "--hosts", "127.0.0.1,127.0.0.2,127.0.0.3", "--mqtt-port", "18883", "--base-port", "24222"],
    )
    assert result.exit_code == 0, result.output
    third = (out / "nats-n3.conf").read_text(encoding="utf-8")
    assert 'listen: "127.0.0.3:18885"' in third  # MQTT: the third node's host, port + 2
    assert 'listen: "127.0.0.3:24224"' in third and 'http: "127.0.0.3:24244"' in third
    assert "@127.0.0.1:24232" in third and "@127.0.0.2:24233" in third and "@127.0.0.3:24234" in third
    check = subprocess.run([NATS_SERVER, "-t", "-c", str(out / "nats-n1.conf")], check=False, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


def test_permissions_mirror_the_mosquitto_acl(registry):
    perms = member_permissions(registry)
    assert subject("liandong/v1/+/out") == "liandong.v1.*.out"
    assert perms[HUB] == {
        "publish": ["liandong.v1.*.in"],
        "subscribe": ["liandong.v1.*.out", "liandong.v1.*.ack", "liandong.v1.*.status", "$MQTT.sub.>"],
    }
    assert perms[BANK] == {
        "publish": [f"liandong.v1.{BANK}.out", f"liandong.v1.{BANK}.ack", f"liandong.v1.{BANK}.status"],
        "subscribe": [f"liandong.v1.{BANK}.in", f"liandong.v1.{BANK}.status", "$MQTT.sub.>"],
    }


def test_mqtt_3_1_1_clients_and_what_the_hub_refuses(certs):
    client = tls_client(BANK, "127.0.0.1", 1, certs=certs, protocol="3.1.1", manual_ack=True)
    assert client.protocol == mqtt.MQTTv311
    assert client._clean_session is False  # a persistent session without v5's Clean Start
    assert client._manual_ack is True
    with pytest.raises(ValueError):
        tls_client(BANK, certs=certs, protocol="4")
    unit = certs / "units" / HUB
    with pytest.raises(ValidationError, match="shared_group needs MQTT v5"):
        BrokerConnection(cert=unit / "tls.pem", key=unit / "tls.key", protocol="3.1.1", shared_group="hubs")
    v311 = BrokerConnection(cert=unit / "tls.pem", key=unit / "tls.key", protocol="3.1.1")
    assert v311.control_subscription_qos() == 0  # see test_a_session_holds_max_ack_pending_across_subscriptions
    assert BrokerConnection(cert=unit / "tls.pem", key=unit / "tls.key").control_subscription_qos() == 1


# --- the network across nodes ---------------------------------------------------------------------


def test_notices_are_served_across_nodes_exactly_once(cluster, tmp_path):
    hub = Hub(on_node(hub_config(HUB, port=0, var=tmp_path / "hub", workers=0), cluster, 0))
    hub.start()
    bank_recorder, court_recorder = Recorder(), Recorder()
    bank = unit_client(on_node(unit_config(BANK, port=0, var=tmp_path / "units"), cluster, 2), bank_recorder)
    bank.start()
    court = CourtClient(on_node(unit_config(COURT, port=0, var=tmp_path / "units"), cluster, 1), handler=court_recorder)
    try:
        with court:
            notices = [fresh() for _ in range(20)]
            answers = [court.publish(n, timeout=30) for n in notices[:2]]
            ids = [court.send(n) for n in notices[2:]]
            assert all(a.accepted and a.received_at for a in answers), [a.errors for a in answers]
            wait_until(lambda: not court.unit.store.sent(state="pending"), 60, "service receipts for every notice")
            assert {s.state for s in court.unit.store.sent()} == {"receipted"}
            ids = [a.document_id for a in answers] + ids
            bank_recorder.wait_for(lambda r: all(r.counts[i] == 1 for i in ids), 60, "every notice at the bank")
            assert max(bank_recorder.counts.values()) == 1

            from tests.test_hub import bank_receipt

            receipt_id = bank.send(bank_receipt(notices[0].header.document_id))
            assert bank.wait_answer(receipt_id, 30).doc_type == "ServiceReceipt"
            court_recorder.wait_for(lambda r: r.counts[receipt_id] == 1, 30, "the bank's receipt at the court")
            wait_until(lambda: hub.stats.delivered >= 2 * len(ids) + 2, 60, "every delivery acknowledged")
    finally:
        bank.stop()
        hub.stop()
    report = Ledger(hub.config.ledger.url).verify()
    assert report.ok, report.problems


def test_a_reference_adapter_answers_over_the_cluster(cluster, tmp_path):
    """The adapter SDK over MQTT 3.1.1: the bank's reference adapter, on node 3, answers a
    court's freeze notice sent from node 2 through the hub on node 1."""
    from adapters.bank import BankAdapter, BankSettings
    from adapters.sdk import AdapterService, ExecutionSettings, config_model
    from broker.documents.bodies import AssistanceNotice
    from broker.documents.document import Document
    from broker.documents.results import ResultStatus
    from tests.test_adapter_bank import EXAMPLE_OFFICERS, EXAMPLE_RULING, YUNFU_CASE, freeze

    hub = Hub(on_node(hub_config(HUB, port=0, var=tmp_path / "hub", workers=0), cluster, 0))
    hub.start()
    config = config_model(BankAdapter)(
        unit=on_node(unit_config(BANK, port=0, var=tmp_path / "bank"), cluster, 2),
        adapter=BankSettings(demo=True),
        execution=ExecutionSettings(idle_poll_seconds=0.2),
    )
    recorder = Recorder()
    court = CourtClient(on_node(unit_config(COURT, port=0, var=tmp_path / "units"), cluster, 1), handler=recorder)
    try:
        with court, AdapterService(BankAdapter, config):
            notice = Document.create(
                AssistanceNotice(ruling=EXAMPLE_RULING, measures=[freeze("M1")]),
                sender=COURT, recipient=BANK, case_number=YUNFU_CASE, officers=list(EXAMPLE_OFFICERS),
            )
            assert court.publish(notice, timeout=30).accepted
            recorder.wait_for(lambda r: r.of_type("ExecutionReceipt"), 60, "the bank adapter's receipt of result")
            [receipt] = recorder.of_type("ExecutionReceipt")
            assert receipt.in_reply_to == str(notice.header.document_id)
            assert receipt.document().body.results[0].status is ResultStatus.PARTIALLY_EXECUTED
    finally:
        hub.stop()


def test_a_10_mb_document_reaches_the_hub_and_is_refused(cluster, tmp_path):
    """max_payload is 16 MiB (NATS's default, 1 MiB, would cut the connection): an oversized
    document crosses the cluster and its sender gets the hub's signed rejection."""
    hub = Hub(on_node(hub_config(HUB, port=0, var=tmp_path / "hub", workers=0), cluster, 0))
    hub.start()
    recorder = Recorder()
    court = CourtClient(on_node(unit_config(COURT, port=0, var=tmp_path / "units"), cluster, 1), handler=recorder)
    try:
        with court:
            court.unit.client.publish(topics.outbox(COURT), b"<x>" + b"a" * (10 * 1024 * 1024) + b"</x>", qos=1)
            recorder.wait_for(lambda r: r.of_type("RejectionNotice"), 60, "the rejection")
            codes = [e.text for e in recorder.of_type("RejectionNotice")[0].root.iter() if e.tag.endswith("}Code")]
            assert "XML_TOO_LARGE" in codes
    finally:
        hub.stop()


# --- what NATS enforces ------------------------------------------------------------------------


def test_a_unit_reads_only_its_own_inbox(cluster):
    hub, court, bank = connect(cluster, 0, HUB), connect(cluster, 1, COURT), connect(cluster, 2, BANK)
    assert court.subscribe(topics.inbox(COURT)) == 1
    assert bank.subscribe(topics.inbox(BANK)) == 1
    # Refused at SUBACK (Mosquitto grants and filters instead; both deliver nothing).
    for topic in (topics.inbox(COURT), "liandong/v1/#", "liandong/v1/+/in", "#", "$MQTT/sub/#", "$MQTT/sub/+"):
        assert bank.subscribe(topic) == SUBACK_FAILURE, topic
    assert hub.publish(topics.inbox(COURT), b"for the court") == 0
    assert hub.publish(topics.inbox(BANK), b"sentinel") == 0
    assert court.wait_message(topics.inbox(COURT)).payload == b"for the court"
    bank.wait_message(topics.inbox(BANK), b"sentinel")
    assert {m.topic for m in bank.messages} == {topics.inbox(BANK)}
    assert "Subscription Violation" in cluster.log_text(2)


def test_forbidden_publications_are_dropped(cluster):
    hub, court, bank = connect(cluster, 0, HUB), connect(cluster, 1, COURT), connect(cluster, 2, BANK)
    assert hub.subscribe(topics.all_units("out")) == 1
    assert hub.subscribe(topics.all_units("ack")) == 1
    assert court.subscribe(topics.inbox(COURT)) == 1
    # MQTT 3.1.1 has no reason code in PUBACK: the broker acknowledges and drops (NATS logs a
    # "Publish Violation"); the connection stays open.
    assert bank.publish(topics.outbox(COURT), b"forged") == 0
    assert bank.publish(topics.inbox(COURT), b"forged") == 0
    assert bank.publish(topics.acks(COURT), b'{"acks": ["x"]}') == 0
    assert hub.publish(topics.outbox(COURT), b"the hub impersonating the court") == 0
    assert bank.publish(topics.outbox(BANK), b"genuine") == 0
    assert hub.publish(topics.inbox(COURT), b"sentinel") == 0

    assert hub.wait_message(topics.outbox(BANK)).payload == b"genuine"
    court.wait_message(topics.inbox(COURT), b"sentinel")
    assert [m.payload for m in hub.messages] == [b"genuine"]
    assert [m.payload for m in court.messages] == [b"sentinel"]
    assert bank.client.is_connected()
    assert cluster.log_text(2).count("Publish Violation") == 3


def test_only_the_members_current_certificates_connect(cluster, certs, tmp_path):
    ca_cert, ca_key = load_ca(certs / "issuing-ca.pem", certs / "issuing-ca.key")
    # Our CA, a code that is not in the registry: no user for its DN, and its key is not pinned.
    stranger = make_client_cert(tmp_path, "stranger", "91445300MA51000099", ca_cert, ca_key)
    assert refused(cluster, 1, stranger, certs=certs) is not None
    # The bank's exact subject with another key (a replaced or revoked certificate): not pinned.
    replaced = _same_subject_new_key(tmp_path, certs / "units" / BANK / "tls.pem", ca_cert, ca_key)
    assert refused(cluster, 1, replaced, certs=certs) is not None
    # Another CA altogether.
    untrusted = certs / "untrusted"
    foreign = make_client_cert(tmp_path, "foreign", BANK, *load_ca(untrusted / "root-ca.pem", untrusted / "root-ca.key"))
    assert refused(cluster, 1, foreign, certs=certs) is not None
    assert refused(cluster, 1, BANK, certs=certs) is None
    assert "certificate not pinned" in cluster.log_text(1)


def test_the_client_id_is_not_bound_to_the_certificate(cluster):
    """The gap (docs/deployment.md): a member may connect with another member's client id.
    NATS then hands it that member's session, but re-checks the session's subscriptions against
    the intruder's permissions: it reads nothing. With a clean session it discards the victim's
    session and what was queued in it; the hub's ledger delivers those documents again."""
    hub = connect(cluster, 0, HUB)
    court = connect(cluster, 1, COURT)
    assert court.subscribe(topics.inbox(COURT)) == 1
    court.client.disconnect()
    court.client.loop_stop()
    _clients.remove(court.client)
    assert hub.publish(topics.inbox(COURT), b"queued for the court") == 0

    intruder = connect(cluster, 2, BANK, client_id=COURT)
    assert intruder.client.session_present  # the court's session, by client id alone
    assert hub.publish(topics.inbox(COURT), b"sent while the intruder holds the session") == 0
    sentinel_sub = intruder.subscribe(topics.inbox(BANK))
    assert sentinel_sub == 1
    assert hub.publish(topics.inbox(BANK), b"sentinel") == 0
    intruder.wait_message(topics.inbox(BANK), b"sentinel")
    assert [m.payload for m in intruder.messages] == [b"sentinel"]
    intruder.client.disconnect()
    intruder.client.loop_stop()
    _clients.remove(intruder.client)

    court = connect(cluster, 1, COURT)
    assert court.client.session_present
    court.wait_message(topics.inbox(COURT), b"queued for the court")
    court.wait_message(topics.inbox(COURT), b"sent while the intruder holds the session")
    court.client.disconnect()
    court.client.loop_stop()
    _clients.remove(court.client)

    assert hub.publish(topics.inbox(COURT), b"lost with the session") == 0
    wiper = connect(cluster, 2, BANK, client_id=COURT, clean_start=True)
    wiper.client.disconnect()
    wiper.client.loop_stop()
    _clients.remove(wiper.client)
    court = connect(cluster, 1, COURT)
    assert not court.client.session_present  # the court's session and its queue are gone
    assert court.subscribe(topics.inbox(COURT)) == 1
    assert hub.publish(topics.inbox(COURT), b"after") == 0
    court.wait_message(topics.inbox(COURT), b"after")
    assert [m.payload for m in court.messages] == [b"after"]


def test_a_session_holds_max_ack_pending_across_subscriptions(registry, certs, tmp_path):
    """Why the hub subscribes to acks and statuses with QoS 0 on 3.1.1: nats-server 2.9 gives
    each QoS 1 subscription a consumer that may push ``max_ack_pending`` messages, but lets the
    session hold only ``max_ack_pending`` unacknowledged messages in all; what comes beyond is
    dropped and sent again only after ``ack_wait``."""
    settings = ClusterSettings.local(certs, tmp_path / "nats", max_ack_pending=10, ack_wait="3s")
    with NatsCluster(registry, settings) as nats:
        hub = connect(nats, 0, HUB, manual_ack=True)
        assert hub.subscribe(topics.all_units("out")) == 1
        assert hub.subscribe(topics.all_units("ack")) == 1
        court, bank = connect(nats, 1, COURT), connect(nats, 2, BANK)
        for i in range(10):
            assert court.publish(topics.outbox(COURT), b"document %d" % i) == 0
            assert bank.publish(topics.acks(BANK), b'{"acks": ["%d"]}' % i) == 0
        wait_until(lambda: len(hub.messages) >= 10, TIMEOUT, "the first ten messages")
        time.sleep(1.0)  # the other ten are not on their way: the session is full
        assert len(hub.messages) == 10
        for m in list(hub.messages):
            hub.client.ack(m.mid, 1)
        wait_until(lambda: len(hub.messages) == 20, TIMEOUT, "the rest, after ack_wait")
        assert len({m.payload for m in hub.messages}) == 20


def _same_subject_new_key(tmp: Path, certfile: Path, ca_cert, ca_key) -> tuple[Path, Path]:
    original = x509.load_pem_x509_certificate(certfile.read_bytes())
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(original.subject)
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    paths = tmp / "replaced.pem", tmp / "replaced.key"
    paths[0].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return paths


# --- losing a node -----------------------------------------------------------------------------------


def _run_and_kill(cluster: NatsCluster, court: CourtClient, bank, n: int, node: int, after: int) -> None:
    """The court sends ``n`` documents (from a thread, so that sending goes on); ``node`` is
    killed once ``after`` service receipts are in; every document must then be receipted and
    handed to the bank exactly once."""
    sealed = [court.seal(fresh()) for _ in range(n)]
    ids = [_id(raw) for raw in sealed]
    sender = threading.Thread(target=lambda: [court.unit.send(raw) for raw in sealed], daemon=True)
    sender.start()

    def settled() -> int:
        return len(court.unit.store.sent(state="receipted"))

    wait_until(lambda: settled() >= after, 120, f"{after} service receipts before the node is killed")
    assert settled() < n - n // 4, "the run was nearly over before the node was killed"
    cluster.kill(node)
    sender.join(120)
    wait_until(lambda: settled() == n, 180, "service receipts for every document")
    bank.recorder.wait_for(lambda r: all(r.counts[i] >= 1 for i in ids), 180, "every document at the bank")
    assert not [s for s in court.unit.store.sent() if s.state != "receipted"]
    duplicates = {i: c for i, c in bank.recorder.counts.items() if c != 1}
    assert not duplicates, f"handed over more than once: {list(duplicates.items())[:5]}"


def _id(raw: bytes) -> str:
    return re.search(rb"<ld:DocumentId>([^<]+)</ld:DocumentId>", raw).group(1).decode()


def _units(cluster: NatsCluster, tmp_path: Path, resend: float):
    recorder = Recorder()
    bank = unit_client(
        on_node(unit_config(BANK, port=0, var=tmp_path / "units", resend_after_seconds=resend), cluster, 2), recorder
    )
    bank.recorder = recorder
    court = CourtClient(
        on_node(unit_config(COURT, port=0, var=tmp_path / "units", resend_after_seconds=resend), cluster, 1),
        handler=Recorder(),
    )
    return court, bank


def test_a_node_killed_mid_run_loses_nothing_and_repeats_nothing(cluster, tmp_path):
    """Node 3, where the bank is connected, is killed; the bank comes back on node 1 with its
    session (replicated in JetStream), and the run completes."""
    hub = Hub(on_node(hub_config(HUB, port=0, var=tmp_path / "hub", workers=0, delivery={"ack_timeout_seconds": 5}), cluster, 0))
    hub.start()
    court, bank = _units(cluster, tmp_path, resend=10.0)
    bank.start()
    try:
        with court:
            _run_and_kill(cluster, court, bank, 300, node=2, after=60)
            assert bank.client.port != cluster.endpoints[2][1]  # it moved to another node
            wait_until(lambda: hub.stats.delivered >= 600, 60, "every delivery acknowledged")
    finally:
        bank.stop()
        hub.stop()
    report = Ledger(hub.config.ledger.url).verify()
    assert report.ok, report.problems


@pytest.mark.slow
def test_the_hubs_node_killed_mid_run(cluster, tmp_path):
    """Node 1, where the hub (a separate process) is connected, is killed mid-run: the hub
    reconnects to node 2 and the run of 1500 documents completes."""
    config = on_node(
        hub_config(HUB, port=0, var=tmp_path / "hub", workers=1, delivery={"ack_timeout_seconds": 5}), cluster, 0
    )
    process = HubProcess(config, tmp_path).start()
    court, bank = _units(cluster, tmp_path, resend=20.0)
    bank.start()
    try:
        with court:
            _run_and_kill(cluster, court, bank, 1500, node=0, after=300)
    finally:
        bank.stop()
        process.stop()
    report = Ledger(config.ledger.url).verify()
    assert report.ok, report.problems
    assert process.log().count('"mqtt.connected"') >= 2
