"""Webhooks (issue 12): the court's gateway pushes its events to a real small HTTP server of the
test's own (standard library only, as an organisation's system would be), signed with HMAC-SHA256.
The receiver is down for a while, then up; the gateway is SIGKILLed while a delivery is in flight
and restarted: every event arrives, in order, none lost, and the only repeats are re-sends with
the same id."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from broker.hub.service import Hub
from broker.mosquitto import free_port
from tests.network import BANK, COURT, HUB, hub_config
from tests.test_gateway import GatewayProcess, fresh_json, wait_for

SECRET = "webhook-secret-0123456789abcdef"


@dataclass
class Receiver:
    """An organisation's webhook endpoint: checks each signature as docs/gateway.md says, records
    every delivery, answers 204 — or 503 while ``failing``, or, while ``hold_next``, holds the next
    delivery of an id it has not seen."""

    port: int
    deliveries: list[tuple[str, dict]] = field(default_factory=list)
    bad_signatures: int = 0
    failing: bool = False
    hold_next: bool = False
    held: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    server: ThreadingHTTPServer | None = None

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
                if not hmac.compare_digest(expected, self.headers.get("X-Liandong-Signature", "")):
                    receiver.bad_signatures += 1
                    self.send_response(401)
                    self.end_headers()
                    return
                data = json.loads(body)
                assert self.headers["X-Liandong-Event-Id"] == data["id"]
                if receiver.failing:
                    self.send_response(503)
                    self.end_headers()
                    return
                new = data["id"] not in receiver.ids()
                receiver.deliveries.append((data["id"], data))
                if receiver.hold_next and new:  # received, but the answer waits: the gateway is killed meanwhile
                    receiver.hold_next = False
                    receiver.held.set()
                    receiver.release.wait(60)
                try:
                    self.send_response(204)
                    self.end_headers()
                except OSError:
                    pass  # the gateway is gone

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.release.set()
            self.server.shutdown()
            self.server.server_close()

    def ids(self) -> list[str]:
        return [i for i, _ in self.deliveries]


@pytest.fixture
def hooked(mosquitto, tmp_path):
    """A hub, a bank's gateway and a court's gateway whose webhook points at a free port where
    nothing listens yet."""
    hub = Hub(hub_config(HUB, port=mosquitto.port, var=tmp_path / "hub"))
    hub.start()
    receiver = Receiver(free_port())
    webhook = {
        "url": f"http://127.0.0.1:{receiver.port}/liandong/events",
        "secret": SECRET,
        "timeout_seconds": 5,
        "backoff_seconds": 0.1,
        "max_backoff_seconds": 0.5,
    }
    court = GatewayProcess(COURT, mosquitto.port, tmp_path / "court", ["court-cms"], {"webhook": webhook})
    bank = GatewayProcess(BANK, mosquitto.port, tmp_path / "bank", ["bank-core"])
    try:
        court.start()
        bank.start()
        yield court, receiver
    finally:
        receiver.stop()
        court.stop()
        bank.stop()
        hub.stop()


def served(court: GatewayProcess, count: int) -> list[str]:
    """The ids of the court's first ``count`` events, once that many have arrived (by polling)."""
    client = court.client("court-cms")
    events = wait_for(
        lambda: client.get("/v1/events").json()["events"], lambda e: len(e) >= count, f"{count} events"
    )
    return [e["id"] for e in events]


def publish(court: GatewayProcess, count: int) -> list[str]:
    """Post ``count`` freezes; their document ids."""
    client = court.client("court-cms")
    posted = [client.post_json("/v1/documents", fresh_json()) for _ in range(count)]
    assert [p.status for p in posted] == [202] * count
    return [p.json()["document_id"] for p in posted]


def test_events_wait_while_the_receiver_is_down_then_arrive_once_in_order(hooked):
    court, receiver = hooked
    documents = publish(court, 3)
    expected = served(court, 3)  # the events exist; nothing listens on the webhook's port
    wait_for(
        lambda: court.log.read_text(encoding="utf-8"), lambda t: "gateway.webhook_failed" in t, "a failed try"
    )
    receiver.start()
    wait_for(receiver.ids, lambda ids: len(ids) >= 3, "the three events at the receiver")
    assert receiver.ids() == expected  # once each, in arrival order
    assert receiver.bad_signatures == 0
    (kind,) = {data["type"] for _, data in receiver.deliveries}
    assert kind == "served"
    # an event's id is the service receipt's; its document_id the court's document it serves
    assert {data["document_id"] for _, data in receiver.deliveries} == set(documents)

    # a receiver answering 503 gets the next event again until it answers 2xx
    receiver.failing = True
    publish(court, 1)
    fourth = served(court, 4)[3]
    wait_for(
        lambda: court.log.read_text(encoding="utf-8").count("gateway.webhook_failed"),
        lambda n: n >= 2,
        "a 503 to be retried",
    )
    receiver.failing = False
    wait_for(receiver.ids, lambda ids: len(ids) >= 4, "the fourth event")
    assert receiver.ids() == [*expected, fourth]


def test_a_gateway_killed_mid_delivery_loses_nothing_and_repeats_only_the_same_ids(hooked):
    court, receiver = hooked
    receiver.start()
    publish(court, 2)
    first = served(court, 2)
    wait_for(receiver.ids, lambda ids: len(ids) >= 2, "the first two events")

    # the third delivery reaches the receiver, whose answer never reaches the gateway: killed
    receiver.hold_next = True
    publish(court, 1)
    third = served(court, 3)[2]
    assert receiver.held.wait(60), "the third delivery never came"
    assert receiver.ids()[-1] == third
    court.kill()
    receiver.release.set()

    court.start()
    publish(court, 2)
    expected = served(court, 5)
    assert expected[:3] == [*first, third]
    wait_for(lambda: set(receiver.ids()), lambda ids: ids >= set(expected), "every event after the restart")
    ids = receiver.ids()
    assert receiver.bad_signatures == 0
    # nothing lost, in order; the one repeat is the delivery in flight, with the same id
    assert list(dict.fromkeys(ids)) == expected
    assert ids == [*first, third, third, *expected[3:]]
