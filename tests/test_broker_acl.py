"""The broker's configuration and ACL, against a real Mosquitto (docs/topics.md).

Negative checks ("X receives nothing") never sleep: they wait for a later message the client
*may* receive (a sentinel), or for a round trip on the same connection (a SUBACK), which
Mosquitto sends after anything it queued to that connection before.
"""

from __future__ import annotations

import datetime as dt
import json
import socket
import ssl
import threading
import time
import uuid
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from paho.mqtt.client import Client, MQTTMessage

from broker.mosquitto import BrokerSettings, MosquittoProcess, free_port
from broker.transport import topics
from broker.transport.mqtt import tls_client, tls_context

HUB = "12100000MB0000009G"
COURT = "11445300MB0000001W"
BANK = "91445300MA5100003A"
NOT_AUTHORIZED = 135  # MQTT v5 reason code 0x87
TIMEOUT = 10.0
MiB = 1024 * 1024


# --- helpers ------------------------------------------------------------------------------
def status(state: str) -> bytes:
    """A ``status`` payload (docs/topics.md)."""
    return json.dumps({"state": state, "at": dt.datetime.now(dt.timezone.utc).isoformat()}).encode()


def set_status_will(client: Client, unit: str) -> None:
    client.will_set(topics.status(unit), status("offline"), qos=1, retain=True)


class Peer:
    """A connected client with its received messages and its SUBACK/PUBACK reason codes."""

    def __init__(self, client: Client):
        self.client = client
        self.messages: list[MQTTMessage] = []
        self._subacks: dict[int, list] = {}
        self._pubacks: dict[int, int] = {}
        self._cond = threading.Condition()
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        client.on_publish = self._on_publish

    def _on_message(self, client, userdata, msg):
        with self._cond:
            self.messages.append(msg)
            self._cond.notify_all()

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties):
        with self._cond:
            self._subacks[mid] = list(reason_codes)
            self._cond.notify_all()

    def _on_publish(self, client, userdata, mid, reason_code, properties):
        with self._cond:
            self._pubacks[mid] = reason_code.value
            self._cond.notify_all()

    def _wait(self, predicate, what: str):
        with self._cond:
            if not self._cond.wait_for(predicate, TIMEOUT):
                raise AssertionError(f"timed out waiting for {what}")
            return predicate()

    def subscribe(self, topic: str) -> int:
        """Subscribe with QoS 1; return the SUBACK reason code."""
        rc, mid = self.client.subscribe(topic, qos=1)
        assert rc == 0, rc
        return self._wait(lambda: self._subacks.get(mid), f"SUBACK of {topic}")[0].value

    def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> int:
        """Publish with QoS 1; return the PUBACK reason code."""
        info = self.client.publish(topic, payload, qos=1, retain=retain)
        assert info.rc == 0, info.rc
        return self._wait(lambda: [self._pubacks[info.mid]] if info.mid in self._pubacks else None,
                          f"PUBACK of {topic}")[0]

    def barrier(self) -> None:
        """A SUBACK round trip: afterwards every message the broker sent before has arrived."""
        self.subscribe(f"liandong/v1/barrier-{uuid.uuid4().hex}/none")

    def wait_message(self, topic: str, payload: bytes | None = None) -> MQTTMessage:
        def found():
            return next(
                (m for m in self.messages if m.topic == topic and payload in (None, m.payload)), None
            )

        return self._wait(found, f"a message on {topic}")

    def received(self, topic: str) -> list[MQTTMessage]:
        with self._cond:
            return [m for m in self.messages if m.topic == topic]


def attempt_connect(identity, mosquitto: MosquittoProcess, certs: Path) -> str | None:
    """Connect with paho (driving its loop here, so it does not retry); None when the broker
    accepted the connection, else what went wrong."""
    client = tls_client(identity, mosquitto.host, mosquitto.port, certs=certs, client_id="probe")
    outcome: list[str | None] = []
    client.on_connect = lambda c, u, flags, rc, props: outcome.append(
        f"CONNACK {rc}" if rc.is_failure else None
    )
    client.on_disconnect = lambda c, u, flags, rc, props: outcome.append(f"disconnected: {rc}")
    try:
        client.reconnect()  # TCP, TLS handshake, CONNECT
    except (ssl.SSLError, OSError) as exc:
        return f"TLS handshake failed: {exc}"
    deadline = time.monotonic() + TIMEOUT
    try:
        while not outcome and time.monotonic() < deadline:
            rc = client.loop(timeout=0.2)
            if rc != 0 and not outcome:
                outcome.append(f"connection lost: {rc}")
    finally:
        if outcome and outcome[0] is None:
            client.disconnect()
        sock = client.socket()
        if sock is not None:
            sock.close()
    assert outcome, "no outcome"
    return outcome[0]


def tls_refusal(mosquitto: MosquittoProcess, certs: Path, certfile=None, keyfile=None) -> ssl.SSLError:
    """Open a raw TLS connection and return the TLS alert the broker ends it with.

    With TLS 1.3 the client finishes its handshake before the server has checked the client's
    certificate, so the refusal arrives as an alert on the first read."""
    ctx = tls_context(certfile, keyfile, certs / "chain.pem")
    with socket.create_connection((mosquitto.host, mosquitto.port), timeout=TIMEOUT) as raw:
        try:
            with ctx.wrap_socket(raw, server_hostname=mosquitto.host) as tls:
                data = tls.recv(1)
        except ssl.SSLError as exc:
            return exc
    raise AssertionError(f"the broker kept the TLS connection open (read {data!r})")


def make_client_cert(tmp: Path, name: str, cn: str, ca_cert: x509.Certificate, ca_key) -> tuple[Path, Path]:
    """A TLS client certificate (EKU clientAuth) for ``cn`` issued by ``ca_cert``/``ca_key``."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_cert.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    certfile, keyfile = tmp / f"{name}.pem", tmp / f"{name}.key"
    certfile.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    keyfile.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return certfile, keyfile


def load_ca(cert_path: Path, key_path: Path):
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    return cert, key


def conf_options(path: Path) -> dict[str, list[str]]:
    """Option name → values of a mosquitto.conf (comments and blank lines skipped)."""
    options: dict[str, list[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.strip().partition(" ")
            options.setdefault(name, []).append(value)
    return options


@pytest.fixture
def peer(mqtt_connect):
    """Like ``mqtt_connect`` but returns a :class:`Peer`, whose callbacks are in place before the
    client connects (a persistent session's queued messages arrive right after CONNACK)."""

    def connect(identity, *, before_connect=None, **kw) -> Peer:
        made: list[Peer] = []

        def before(client):
            made.append(Peer(client))
            if before_connect is not None:
                before_connect(client)

        mqtt_connect(identity, before_connect=before, **kw)
        return made[0]

    return connect


# --- reading others' inboxes ----------------------------------------------------------------
def test_only_the_addressee_reads_its_inbox(peer):
    hub, court, bank = peer(HUB), peer(COURT), peer(BANK)
    assert court.subscribe(topics.inbox(COURT)) == 1
    # Mosquitto 2.0.11 grants the subscription and filters each message by the read ACL on
    # delivery; refusing it at SUBACK (0x87) would be as good.
    assert bank.subscribe(topics.inbox(COURT)) in (1, NOT_AUTHORIZED)
    assert bank.subscribe(topics.inbox(BANK)) == 1

    assert hub.publish(topics.inbox(COURT), b"<Document>for the court</Document>") == 0
    assert hub.publish(topics.inbox(BANK), b"sentinel") == 0

    assert court.wait_message(topics.inbox(COURT)).payload == b"<Document>for the court</Document>"
    bank.wait_message(topics.inbox(BANK), b"sentinel")  # published after the court's message
    bank.barrier()
    assert bank.received(topics.inbox(COURT)) == []


def test_wildcard_subscription_does_not_reveal_other_inboxes(peer):
    hub, bank = peer(HUB), peer(BANK)
    assert bank.subscribe("liandong/v1/#") in (1, NOT_AUTHORIZED)  # 2.0.11: granted (1)
    assert bank.subscribe("#") in (1, NOT_AUTHORIZED)
    assert bank.subscribe(topics.inbox(BANK)) == 1

    assert hub.publish(topics.inbox(COURT), b"for the court") == 0
    assert hub.publish(topics.status(COURT), b"not the hub's to write") == NOT_AUTHORIZED
    assert hub.publish(topics.inbox(BANK), b"sentinel") == 0

    bank.wait_message(topics.inbox(BANK), b"sentinel")
    bank.barrier()
    assert {m.topic for m in bank.messages} == {topics.inbox(BANK)}


# --- writing where one may not ------------------------------------------------------------
def test_unit_cannot_publish_on_another_units_outbox(peer):
    hub, bank = peer(HUB), peer(BANK)
    assert hub.subscribe(topics.all_units("out")) == 1

    # Mosquitto 2.0.11 answers an ACL-denied QoS 1 PUBLISH from an MQTT v5 client with
    # PUBACK reason code 0x87 "Not authorized", drops it and keeps the connection.
    assert bank.publish(topics.outbox(COURT), b"<Document>forged</Document>") == NOT_AUTHORIZED
    assert bank.publish(topics.inbox(COURT), b"<Document>forged</Document>") == NOT_AUTHORIZED
    assert bank.publish(topics.acks(COURT), b'{"acks": ["x"]}') == NOT_AUTHORIZED
    assert bank.publish(topics.outbox(BANK), b"<Document>genuine</Document>") == 0

    msg = hub.wait_message(topics.outbox(BANK))
    assert msg.payload == b"<Document>genuine</Document>"
    hub.barrier()
    assert hub.received(topics.outbox(COURT)) == []
    assert bank.client.is_connected()


def test_unit_writes_its_out_ack_and_status_and_the_hub_reads_them(peer):
    hub, court = peer(HUB), peer(COURT)
    for channel in ("out", "ack", "status"):
        assert hub.subscribe(topics.all_units(channel)) == 1
    ack = json.dumps({"acks": ["DOC-1"]}).encode()
    assert court.publish(topics.outbox(COURT), b"<Document/>") == 0
    assert court.publish(topics.acks(COURT), ack) == 0
    assert court.publish(topics.status(COURT), status("online"), retain=True) == 0
    assert hub.wait_message(topics.outbox(COURT)).payload == b"<Document/>"
    assert hub.wait_message(topics.acks(COURT)).payload == ack
    assert json.loads(hub.wait_message(topics.status(COURT)).payload)["state"] == "online"
    # The hub only delivers; it cannot write a unit's outbox (impersonate a unit).
    assert hub.publish(topics.outbox(COURT), b"<Document/>") == NOT_AUTHORIZED


def test_another_units_client_id_does_not_take_over_a_session(peer):
    """use_username_as_clientid: the bank cannot kick the court off, or take over or discard its
    session, by connecting with the court's code as client id."""
    hub, court = peer(HUB), peer(COURT)
    assert court.subscribe(topics.inbox(COURT)) == 1
    intruder = peer(BANK, client_id=COURT, clean_start=True)
    assert intruder.subscribe(topics.inbox(BANK)) == 1
    assert hub.publish(topics.inbox(COURT), b"still yours") == 0
    court.wait_message(topics.inbox(COURT), b"still yours")
    assert court.client.connected.is_set() and not court.client.disconnected.is_set()


# --- who may connect at all ---------------------------------------------------------------
def test_connection_without_client_certificate_is_refused(mosquitto, certs):
    alert = tls_refusal(mosquitto, certs)
    # TLS 1.3: "certificate required" alert; TLS 1.2: handshake failure.
    assert "CERTIFICATE_REQUIRED" in str(alert) or "HANDSHAKE_FAILURE" in str(alert), alert
    assert attempt_connect(None, mosquitto, certs) is not None


def test_certificate_from_a_foreign_ca_is_refused(mosquitto, certs, tmp_path):
    untrusted = certs / "untrusted"
    ca_cert, ca_key = load_ca(untrusted / "root-ca.pem", untrusted / "root-ca.key")
    # The folder has no TLS client certificate: issue one naming the bank.
    certfile, keyfile = make_client_cert(tmp_path, "foreign", BANK, ca_cert, ca_key)
    alert = tls_refusal(mosquitto, certs, certfile, keyfile)
    assert "UNKNOWN_CA" in str(alert), alert
    assert attempt_connect((certfile, keyfile), mosquitto, certs) is not None
    # The signing certificate there (the bank's subject, not for TLS) is refused as well.
    assert attempt_connect((untrusted / "sign.pem", untrusted / "sign.key"), mosquitto, certs) is not None


def test_our_ca_but_unknown_code_may_do_nothing(peer, certs, tmp_path):
    ca_cert, ca_key = load_ca(certs / "issuing-ca.pem", certs / "issuing-ca.key")
    stranger_code = "91445300MA51000099"  # not in the registry
    stranger = peer(make_client_cert(tmp_path, "stranger", stranger_code, ca_cert, ca_key))
    hub = peer(HUB)
    assert hub.subscribe(topics.all_units("out")) == 1
    assert stranger.subscribe("#") in (1, NOT_AUTHORIZED)

    assert stranger.publish(topics.outbox(stranger_code), b"<Document/>") == NOT_AUTHORIZED
    assert stranger.publish(topics.outbox(COURT), b"<Document/>") == NOT_AUTHORIZED
    assert hub.publish(topics.inbox(COURT), b"for the court") == 0
    assert hub.publish(topics.inbox(stranger_code), b"for nobody") == 0
    stranger.barrier()
    hub.barrier()
    assert stranger.messages == []
    assert hub.messages == []


def test_revoked_client_certificate_is_refused(registry, certs, tmp_path):
    """crlfile: a client certificate of our CA listed in the CRL is refused at the handshake."""
    ca_cert, ca_key = load_ca(certs / "issuing-ca.pem", certs / "issuing-ca.key")
    good = make_client_cert(tmp_path, "good", BANK, ca_cert, ca_key)
    revoked = make_client_cert(tmp_path, "revoked", BANK, ca_cert, ca_key)
    serial = x509.load_pem_x509_certificate(revoked[0].read_bytes()).serial_number
    now = dt.datetime.now(dt.timezone.utc)
    crl = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca_cert.subject)
        .last_update(now - dt.timedelta(minutes=5))
        .next_update(now + dt.timedelta(days=1))
        .add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(now).build()
        )
        .sign(ca_key, hashes.SHA256())
    )
    crlfile = tmp_path / "crl.pem"
    crlfile.write_bytes(crl.public_bytes(serialization.Encoding.PEM))
    settings = BrokerSettings.from_certs(
        certs, port=free_port(), data_dir=tmp_path / "broker", crlfile=crlfile
    )
    with MosquittoProcess(registry, settings) as broker:
        alert = tls_refusal(broker, certs, *revoked)
        assert "REVOKED" in str(alert), alert
        assert attempt_connect(revoked, broker, certs) is not None
        assert attempt_connect(good, broker, certs) is None


# --- configuration ------------------------------------------------------------------------
def test_generated_config_has_raised_limits_and_mosquitto_accepts_it(
    mosquitto, mqtt_connect, registry, certs
):
    options = conf_options(mosquitto.conf_path)
    assert options["max_queued_messages"] == ["200000"]
    assert int(options["max_queued_bytes"][0]) >= 256 * MiB
    assert options["max_packet_size"] == [str(16 * MiB)]
    assert options["max_inflight_messages"] == ["1000"]
    assert options["persistent_client_expiration"] == ["14d"]
    assert options["set_tcp_nodelay"] == ["true"]
    assert options["per_listener_settings"] == ["false"]
    assert options["allow_anonymous"] == ["false"]
    assert options["require_certificate"] == ["true"]
    assert options["use_identity_as_username"] == ["true"]
    assert options["use_username_as_clientid"] == ["true"]
    assert options["tls_version"] == ["tlsv1.2"]
    assert options["persistence"] == ["true"]
    assert options["persistence_location"] == [str(mosquitto.data_dir)]
    assert int(options["autosave_interval"][0]) <= 60
    assert options["crlfile"] == [str((certs / "crl.pem").resolve())]
    assert options["listener"] == [f"{mosquitto.port} 127.0.0.1"]  # the only listener

    acl = mosquitto.acl_path.read_text(encoding="utf-8")
    assert "\npattern" not in acl
    users = [line.split()[1] for line in acl.splitlines() if line.startswith("user ")]
    assert users == registry.hub.identities + [u.code for u in registry.units]

    # The fixture started Mosquitto with this configuration, and Mosquitto announces the
    # packet limit and the in-flight window (as Receive Maximum) to MQTT v5 clients in CONNACK.
    client = mqtt_connect(BANK)
    assert client.connack_properties.MaximumPacketSize == 16 * MiB
    assert client.connack_properties.ReceiveMaximum == 1000


def test_broker_and_hub_limits(peer):
    """A 10 MB document passes the broker (the hub rejects it, with a signed notice); a packet
    over 16 MiB makes the broker disconnect its sender."""
    hub, bank = peer(HUB), peer(BANK)
    assert hub.subscribe(topics.all_units("out")) == 1
    big = b"x" * (10 * 1000 * 1000)
    assert bank.publish(topics.outbox(BANK), big) == 0
    assert len(hub.wait_message(topics.outbox(BANK)).payload) == len(big)

    bank.client.publish(topics.outbox(BANK), b"y" * (16 * MiB + 1), qos=1)
    assert bank.client.disconnected.wait(TIMEOUT)
    bank.client.loop_stop()  # paho would reconnect and send the same packet again
    hub.barrier()
    assert len(hub.received(topics.outbox(BANK))) == 1


def test_queue_holds_more_than_mosquittos_default_1000_and_survives_restart(peer, mosquitto):
    hub = peer(HUB)
    court = peer(COURT, session_expiry=3600)
    assert court.subscribe(topics.inbox(COURT)) == 1
    court.client.disconnect()  # a normal DISCONNECT: the persistent session stays
    court.client.loop_stop()

    n = 1500
    infos = [hub.client.publish(topics.inbox(COURT), f"{i}".encode(), qos=1) for i in range(n)]
    for info in infos:
        info.wait_for_publish(TIMEOUT)
    hub.client.disconnect()
    hub.client.loop_stop()

    mosquitto.restart()  # SIGTERM: Mosquitto saves its database, then starts from it

    court = peer(COURT, session_expiry=3600)
    court._wait(lambda: len({m.payload for m in court.messages}) >= n, f"{n} queued messages")
    assert {int(m.payload) for m in court.messages} == set(range(n))


# --- status and last will -----------------------------------------------------------------
def test_last_will_marks_a_killed_unit_offline(peer):
    hub = peer(HUB)
    assert hub.subscribe(topics.all_units("status")) == 1
    court = peer(COURT, before_connect=lambda c: set_status_will(c, COURT))
    assert court.publish(topics.status(COURT), status("online"), retain=True) == 0
    assert json.loads(hub.wait_message(topics.status(COURT)).payload)["state"] == "online"

    # Killed: the connection ends without DISCONNECT.
    court.client.loop_stop()
    court.client.socket().close()

    def offline():
        return next(
            (m for m in hub.received(topics.status(COURT)) if json.loads(m.payload)["state"] == "offline"),
            None,
        )

    will = hub._wait(offline, "the offline will")
    assert set(json.loads(will.payload)) == {"state", "at"}

    # Retained: whoever subscribes later learns the unit is offline.
    with hub._cond:
        hub.messages.clear()
    assert hub.subscribe(topics.status(COURT)) == 1
    msg = hub.wait_message(topics.status(COURT))
    assert msg.retain and json.loads(msg.payload)["state"] == "offline"
