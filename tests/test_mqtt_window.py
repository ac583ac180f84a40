"""The project's paho client (:class:`broker.transport.mqtt.Client`) skips paho's walk over its
unacknowledged publications when none waits behind the window; publications that do wait must
still all go out, in order, through a real Mosquitto. It reads in chunks, joins its writes, and
turns Nagle's algorithm off."""

from __future__ import annotations

import socket
import threading
import time

from broker.transport import topics
from broker.transport.mqtt import Client
from tests.network import BANK, HUB

WAIT = 20.0


def _subscriber(mqtt_connect, total: int, qos: int):
    """The hub's identity subscribed to the bank's outbox: ``(client, arrived, all arrived)``."""
    arrived: list[bytes] = []
    done = threading.Event()

    def on_message(client, userdata, msg):
        arrived.append(msg.payload)
        if len(arrived) == total:
            done.set()

    def before_connect(client):
        client.on_message = on_message

    hub = mqtt_connect(HUB, before_connect=before_connect)
    subscribed = threading.Event()
    hub.on_subscribe = lambda *a: subscribed.set()
    hub.subscribe(topics.outbox(BANK), qos=qos)
    assert subscribed.wait(WAIT)
    return hub, arrived, done


def test_publications_queued_behind_a_full_window_all_go_out_in_order(mqtt_connect):
    total = 60
    _, arrived, done = _subscriber(mqtt_connect, total, qos=1)
    bank = mqtt_connect(BANK, max_inflight=3)
    assert isinstance(bank, Client)
    infos = [bank.publish(topics.outbox(BANK), f"{i:03d}".encode(), qos=1) for i in range(total)]
    # the window is 3: most of these waited in paho's queue, behind unacknowledged ones
    assert done.wait(WAIT), f"{len(arrived)} of {total} arrived"
    for info in infos:  # (their PUBACKs may still be on the way when the subscriber has them all)
        info.wait_for_publish(WAIT)
    assert all(info.is_published() for info in infos)
    assert arrived == [f"{i:03d}".encode() for i in range(total)]
    assert bank._inflight_messages == 0 and not bank._out_messages


def test_a_burst_read_in_one_chunk_is_handled_without_waiting_for_more(mqtt_connect):
    # A subscriber lets paho handle one packet per read; the rest of a chunk read at once waits in
    # the client's buffer, where select() cannot see it. Nothing else arrives after the burst, so
    # a message left there would never be handled (keepalive is far beyond the wait).
    total = 300
    hub, arrived, done = _subscriber(mqtt_connect, total, qos=0)
    bank = mqtt_connect(BANK)
    payloads = [(b"x" * (i % 7000)) + f"{i:03d}".encode() for i in range(total)]  # small and large
    hub.loop_stop()  # the burst piles up in the subscriber's socket, to be read in large chunks
    for payload in payloads:
        bank.publish(topics.outbox(BANK), payload, qos=0).wait_for_publish(WAIT)
    time.sleep(0.5)  # (setup, not a measurement: the broker passes the burst on meanwhile)
    hub.loop_start()
    assert done.wait(WAIT), f"{len(arrived)} of {total} arrived"
    assert arrived == payloads
    assert hub._rpos == len(hub._rbuf)  # nothing left unread in the buffer


def _queued(command: int, payload: bytes, qos: int = 1, pos: int = 0) -> dict:
    return {"command": command, "mid": 1, "qos": qos, "pos": pos, "to_process": len(payload) - pos, "packet": payload, "info": None}


def test_packets_needing_nothing_when_written_are_joined_into_one_write_in_order():
    from paho.mqtt.client import DISCONNECT, PUBACK, PUBLISH

    from broker.transport.mqtt import tls_client

    client = tls_client(BANK, "127.0.0.1", 1)  # never connected: only its queue is used
    queue = client._out_packet
    queue.extend([_queued(PUBACK, b"a1"), _queued(PUBLISH | 2, b"b22"), _queued(PUBACK, b"c3")])
    queue.extend([_queued(PUBLISH, b"q0", qos=0), _queued(PUBACK, b"d4"), _queued(DISCONNECT, b"e5")])
    client._coalesce()
    assert [p["packet"] for p in queue] == [b"a1b22c3", b"q0", b"d4", b"e5"]
    assert queue[0]["to_process"] == 7 and queue[0]["pos"] == 0
    # a QoS 0 publication first (paho calls on_publish once it is written): nothing joined
    client._coalesce()
    assert [p["packet"] for p in queue] == [b"a1b22c3", b"q0", b"d4", b"e5"]
    queue.clear()
    # a packet partly written stays as it is; the write chunk bounds what is joined
    queue.extend([_queued(PUBACK, b"xyz", pos=1), _queued(PUBACK, b"k")])
    client._coalesce()
    assert [p["packet"] for p in queue] == [b"xyz", b"k"]
    queue.clear()
    big = b"z" * (client._WRITE_CHUNK - 1)
    queue.extend([_queued(PUBACK, big), _queued(PUBACK, b"12"), _queued(PUBACK, b"3")])
    client._coalesce()
    assert [len(p["packet"]) for p in queue] == [len(big), 2, 1]


def test_the_client_writes_without_nagles_delay(mqtt_connect):
    # Nagle's algorithm with the broker's delayed acknowledgements held small writes up to 40 ms.
    bank = mqtt_connect(BANK)
    assert isinstance(bank, Client)
    assert bank.socket().getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0


def test_a_two_byte_puback_is_a_success_for_its_publication_alone(mqtt_connect, monkeypatch):
    # Mosquitto acknowledges a delivered publication with a two-byte PUBACK; the client reads its
    # packet identifier without paho's decoding and still hands on_publish a success for exactly
    # that publication. A PUBACK with a reason code (v5: no subscriber matched) is paho's.
    from paho.mqtt import client as paho_client

    decoded: list[int] = []
    decode = paho_client._packet.decode_puback
    monkeypatch.setattr(paho_client._packet, "decode_puback", lambda *a: decoded.append(1) or decode(*a))
    bank = mqtt_connect(BANK)
    codes: list[tuple[int, int]] = []
    bank.on_publish = lambda client, userdata, mid, rc, props: codes.append((mid, rc.value))
    alone = bank.publish(topics.outbox(BANK), b"nobody", qos=1)
    alone.wait_for_publish(WAIT)
    assert codes == [(alone.mid, 16)] and decoded == [1]  # "No matching subscribers", by paho

    _subscriber(mqtt_connect, 5, qos=1)
    infos = [bank.publish(topics.outbox(BANK), b"x", qos=1) for _ in range(5)]
    for info in infos:
        info.wait_for_publish(WAIT)
    assert sorted(codes[1:]) == sorted((info.mid, 0) for info in infos)
    assert decoded == [1]  # the five successes were read without paho's decoding
    assert not bank._out_messages and bank._inflight_messages == 0
