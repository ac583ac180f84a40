"""Build paho-mqtt clients that speak to the network's broker (docs/topics.md).

Every member connects the same way: MQTT v5 over TLS with its client certificate (CN = unit code,
which the broker takes as the username and, with ``use_username_as_clientid``, as the client id),
a persistent session (Clean Start off, a Session Expiry Interval) and QoS 1. On a broker without
v5 (a NATS cluster) the same works over MQTT 3.1.1 (``protocol="3.1.1"``: Clean Session off),
with the client moving to the next node when it loses one (``failover``). :func:`tls_client`
returns a configured but not yet connected :class:`Client` (paho's); set callbacks and
the last will, then ``loop_start()`` or ``loop_forever()``: paho connects, and reconnects with
the same settings. The JSON payloads of ``ack`` and ``status`` are in
:mod:`broker.transport.messages`.

    bank = "91445300MA5100003A"
    client = tls_client(bank, "127.0.0.1", 8883, certs="certs-example", session_expiry=7 * 86400)
    client.will_set(topics.status(bank), encode_status("offline"), qos=1, retain=True)
    client.on_connect = ...
    client.loop_start()
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import paho.mqtt.client as mqtt
from cryptography import x509
from cryptography.x509.oid import NameOID
from paho.mqtt.client import DISCONNECT, PUBACK, PUBLISH
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

#: The example PKI of the repository (certs-example/README.md); production passes its own.
DEFAULT_CERTS = Path(__file__).resolve().parents[2] / "certs-example"

Identity = str | tuple[str | Path, str | Path] | None

#: MQTT versions a client can speak: v5 (Mosquitto, the default) and 3.1.1 (brokers without v5,
#: such as NATS; what is given up is in docs/deployment.md).
PROTOCOLS = {"5": mqtt.MQTTv5, "3.1.1": mqtt.MQTTv311}


class Client(mqtt.Client):
    """paho's client, reading the socket in chunks, writing without Nagle's delay, and without
    its walk over every unacknowledged publication on each PUBACK.

    paho 2.x (``_update_inflight``) looks through all of its outgoing QoS 1/2 messages for one
    queued behind a full window after every PUBACK, even when none is queued: with a window of
    hundreds that walk was a tenth of the hub's main process at full load (py-spy, issue 16).
    A message that waits in paho's queue is in ``_out_messages`` without being counted in
    ``_inflight_messages``, so when the two counts agree nothing waits and the walk is skipped;
    otherwise paho's own code runs unchanged."""

    # --- no Nagle ------------------------------------------------------------------------------
    # paho leaves Nagle's algorithm on. With it, a small write (a PUBACK, an ack, a document of a
    # few KB, all far below loopback's segment size) waits while an earlier one is unacknowledged,
    # and the broker's kernel delays that acknowledgement up to 40 ms when it has nothing to send
    # back: the 40 ms tails reported for Mosquitto clients (eclipse-mosquitto/mosquitto#433,
    # #1526). The broker's side is off already (``set_tcp_nodelay``, broker/mosquitto/config.py);
    # this is the clients' side. Writes are joined here anyway (_coalesce), so Nagle saves nothing.

    def _create_socket_connection(self) -> socket.socket:
        sock = super()._create_socket_connection()
        if sock.family in (socket.AF_INET, socket.AF_INET6):  # (not a proxy's wrapped socket)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    def _update_inflight(self) -> mqtt.MQTTErrorCode:
        if len(self._out_messages) <= self._inflight_messages:
            return mqtt.MQTTErrorCode.MQTT_ERR_SUCCESS
        return super()._update_inflight()

    # --- PUBACKs without objects ---------------------------------------------------------------
    # paho decodes every PUBACK into a new ReasonCode and a new Properties (each building its own
    # tables): 5 % of the hub's main process at full load, two PUBACKs per document. A PUBACK
    # of two bytes is "success, no properties" in every MQTT version (v5 3.4.2.1): its packet
    # identifier is all there is to read, and on_publish gets the one success code and the one
    # empty property set, shared (read them; do not change them).

    _PUBACK_SUCCESS = ReasonCode(PacketTypes.PUBACK)
    _PUBACK_PROPERTIES = Properties(PacketTypes.PUBACK)

    def _handle_pubackcomp(self, cmd: Literal["PUBACK", "PUBCOMP"]) -> mqtt.MQTTErrorCode:
        packet = self._in_packet["packet"]
        if cmd != "PUBACK" or len(packet) != 2:
            return super()._handle_pubackcomp(cmd)
        mid = int.from_bytes(packet, "big")
        with self._out_message_mutex:
            if mid in self._out_messages:
                return self._do_on_publish(mid, self._PUBACK_SUCCESS, self._PUBACK_PROPERTIES)
        return mqtt.MQTTErrorCode.MQTT_ERR_SUCCESS

    # --- reading in chunks ---------------------------------------------------------------------
    # paho reads a packet's command byte, each byte of its length and then its body with one
    # socket call each: three to five TLS reads per packet, each releasing and taking the GIL
    # again, where a busy process's other threads make it wait (the hub's pipeline thread: up to
    # the 5 ms switch interval per read, which is how a document took 10 ms from the broker to
    # the hub's stamp). Reading what the socket has, up to 64 KiB, and serving paho's small
    # reads from it makes that one TLS read for many packets.

    _READ_CHUNK = 65536
    _rbuf: bytes = b""
    _rpos: int = 0
    _rsock: object = None

    def _sock_recv(self, bufsize: int) -> bytes:
        if self._sock is not self._rsock:  # a new connection: nothing of the old one is kept
            self._rbuf, self._rpos, self._rsock = b"", 0, self._sock
        start = self._rpos
        if start >= len(self._rbuf):
            data = self._read_chunk(max(bufsize, self._READ_CHUNK))
            if len(data) <= bufsize:
                return data
            self._rbuf, self._rpos = data, bufsize
            return data[:bufsize]
        end = min(start + bufsize, len(self._rbuf))
        self._rpos = end
        return self._rbuf[start:end]

    def _read_chunk(self, size: int) -> bytes:
        """What the socket has, up to ``size`` bytes (at least one read, which may block or raise
        as paho expects). A TLS read returns one record, and brokers write a record per packet,
        so reading on until the socket has nothing more is what gathers several packets."""
        first = super()._sock_recv(size)
        if not first or len(first) >= size or self._sock.gettimeout() != 0.0:  # type: ignore[union-attr]
            return first  # (paho's sockets are non-blocking once connected: never wait here)
        chunks, total = [first], len(first)
        while total < size:
            try:
                more = self._sock.recv(size - total)  # type: ignore[union-attr]
            except (OSError, ssl.SSLError):  # nothing more now (or an error the next read reports)
                break
            if not more:  # the peer closed: the next read sees it
                break
            chunks.append(more)
            total += len(more)
        return b"".join(chunks)

    # --- writing in chunks ---------------------------------------------------------------------
    # paho writes each queued packet with its own TLS write: a record and a system call for every
    # PUBACK of four bytes, and the broker reads and decrypts each. Packets that need nothing done
    # when they are written (all but QoS 0 publications, whose on_publish paho calls then, and
    # DISCONNECT) are joined into one write, up to 64 KiB: the hub's PUBACKs for a batch of
    # documents, and the deliveries and receipts it publishes at once, go out together.

    _WRITE_CHUNK = 65536

    def _packet_write(self) -> mqtt.MQTTErrorCode:
        self._coalesce()
        return super()._packet_write()

    def _coalesce(self) -> None:
        queue = self._out_packet
        if len(queue) < 2 or queue[0]["pos"] or not _plain(queue[0]):
            return  # one packet, or one partly written (it stays as it is)
        parts: list[bytes | bytearray] = []
        size = 0
        while queue and _plain(queue[0]) and queue[0]["pos"] == 0 and (not parts or size + queue[0]["to_process"] <= self._WRITE_CHUNK):
            packet = queue.popleft()  # only this thread takes from the left; others append right
            parts.append(packet["packet"])
            size += packet["to_process"]
        joined = parts[0] if len(parts) == 1 else b"".join(parts)
        queue.appendleft(
            {"command": PUBACK, "mid": 0, "qos": 1, "pos": 0, "to_process": size, "packet": joined, "info": None}
        )

    def loop_read(self, max_packets: int = 1) -> mqtt.MQTTErrorCode:
        rc = super().loop_read(max_packets)
        # Packets paho did not get to are in this buffer, where select() cannot see them: read
        # them now. _sock_recv only asks the socket once the buffer is empty, so "again"
        # (the socket has nothing more) means everything received has been handled.
        while rc == mqtt.MQTTErrorCode.MQTT_ERR_SUCCESS and self._sock is not None and self._rpos < len(self._rbuf):
            rc = self._packet_read()
            if rc > 0:
                return self._loop_rc_handle(rc)
            if rc == mqtt.MQTTErrorCode.MQTT_ERR_AGAIN:
                return mqtt.MQTTErrorCode.MQTT_ERR_SUCCESS
        return rc


def _plain(packet: dict) -> bool:  # type: ignore[type-arg]
    """A queued packet paho does nothing for once written (see Client._coalesce)."""
    command = packet["command"] & 0xF0
    return command != DISCONNECT and not (command == PUBLISH and packet["qos"] == 0)


def unit_tls_paths(unit_code: str, certs: str | Path = DEFAULT_CERTS) -> tuple[Path, Path]:
    """``(tls.pem, tls.key)`` of a unit in a certificate directory laid out like certs-example."""
    base = Path(certs) / "units" / unit_code
    return base / "tls.pem", base / "tls.key"


def certificate_cn(certfile: str | Path) -> str:
    """The Common Name of a PEM certificate: the identity the broker sees."""
    cert = x509.load_pem_x509_certificate(Path(certfile).read_bytes())
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if not names:
        raise ValueError(f"{certfile}: the certificate has no CN")
    return str(names[0].value)


def tls_context(
    certfile: str | Path | None, keyfile: str | Path | None, cafile: str | Path
) -> ssl.SSLContext:
    """Client TLS: verify the broker against ``cafile`` (and its host name), TLS 1.2 or newer,
    and present ``certfile``/``keyfile`` when given."""
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(cafile))
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if certfile is not None:
        ctx.load_cert_chain(str(certfile), str(keyfile) if keyfile else None)
    return ctx


def tls_client(
    identity: Identity,
    host: str = "127.0.0.1",
    port: int = 8883,
    *,
    certs: str | Path = DEFAULT_CERTS,
    cafile: str | Path | None = None,
    client_id: str | None = None,
    clean_start: bool = False,
    session_expiry: int = 3600,
    keepalive: int = 30,
    manual_ack: bool = False,
    receive_maximum: int | None = None,
    max_inflight: int | None = None,
    protocol: str = "5",
    failover: Sequence[tuple[str, int]] = (),
) -> mqtt.Client:
    """A paho client (callback API version 2, MQTT v5 or 3.1.1, TLS) set up to connect to ``host:port``.

    ``identity`` is a unit code (its ``units/<code>/tls.pem`` and ``tls.key`` under ``certs`` are
    used), a ``(certfile, keyfile)`` pair, or None for no client certificate (which the broker
    refuses; for tests). ``cafile`` defaults to ``<certs>/chain.pem``.

    ``client_id`` defaults to the unit code (the certificate's CN): the broker replaces the client
    id with the CN anyway, so one unit has exactly one session. ``clean_start`` False and
    ``session_expiry`` seconds (MQTT v5 Session Expiry Interval) keep the session and its queued
    QoS 1 messages while the client is away (units and the hub should ask for longer than they
    expect to be away; the broker forgets sessions left for 14 days anyway, docs/topics.md).

    With ``manual_ack`` paho does not PUBACK an incoming QoS 1 message until the application
    calls ``client.ack(mid, qos)`` (after storing it), so the broker redelivers what a crash lost.
    ``receive_maximum`` (MQTT v5) bounds how many unacknowledged messages the broker pushes;
    ``max_inflight`` how many of this client's own publications may await a PUBACK.

    ``protocol`` ``"3.1.1"`` is for brokers without MQTT v5 (NATS, docs/deployment.md): the
    session is kept with Clean Session 0 instead (for as long as the broker keeps sessions;
    ``session_expiry`` cannot be sent), and ``receive_maximum`` cannot be sent either (the broker's
    own limit applies: ``max_ack_pending`` on NATS). Callbacks are the same (callback API
    version 2: paho gives 3.1.1 return codes as reason codes, and empty properties).

    ``failover``: further ``(host, port)`` of a clustered broker. Each reconnection goes to the
    next endpoint in turn (``host:port`` first, then ``failover``, round and round), so a client
    whose node was lost comes back on another; the session lives in the cluster.

    The client is not connected: the connection is made by ``loop_start()``/``loop_forever()``,
    and paho reconnects with the same Clean Start flag and properties.
    """
    certs = Path(certs)
    if isinstance(identity, str):
        certfile, keyfile = unit_tls_paths(identity, certs)
    elif identity is None:
        certfile = keyfile = None
    else:
        certfile, keyfile = (Path(p) for p in identity)
    if client_id is None:
        client_id = certificate_cn(certfile) if certfile is not None else ""

    if protocol not in PROTOCOLS:
        raise ValueError(f"MQTT protocol {protocol!r}: one of {', '.join(PROTOCOLS)}")
    v5 = protocol == "5"
    client = Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=PROTOCOLS[protocol],
        clean_session=None if v5 else clean_start,
        manual_ack=manual_ack,
    )
    client.tls_set_context(tls_context(certfile, keyfile, cafile or certs / "chain.pem"))
    if max_inflight is not None:
        client.max_inflight_messages_set(max_inflight)
    if v5:
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = session_expiry
        if receive_maximum is not None:
            props.ReceiveMaximum = receive_maximum
        client.connect_async(host, port, keepalive=keepalive, clean_start=clean_start, properties=props)
    else:
        client.connect_async(host, port, keepalive=keepalive)
    if failover:
        _rotate_endpoints(client, [(host, port), *failover])
    return client


def _rotate_endpoints(client: mqtt.Client, endpoints: list[tuple[str, int]]) -> None:
    """Make every reconnection of ``client`` go to the next of ``endpoints`` (the first
    connection to the first). paho connects to one host; ``on_pre_connect`` runs before each
    connection attempt, while paho does not let the public ``host``/``port`` change, so the
    endpoint is set on the attributes paho reads when it opens the socket (paho 2.x)."""
    attempts = [0]

    def pre_connect(c: mqtt.Client, userdata: object) -> None:
        c._host, c._port = endpoints[attempts[0] % len(endpoints)]
        attempts[0] += 1

    client.on_pre_connect = pre_connect
