"""Backlog recovery without a retry storm (issue 11 item 2): the hub's per-recipient window and
redelivery rules (broker/hub/flow.py), the senders' resend rules (broker/transport/resend.py),
and both against a real Mosquitto and a real hub."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import create_engine, select

from broker.checking import payload_digest
from broker.documents.xmlmodel import NS
from broker.hub.flow import ONLINE_GRACE, FlowControl
from broker.hub.ledger.schema import deliveries
from broker.hub.notices import HubNotary, received_now
from broker.hub.outbox import Job
from broker.hub.service import Hub
from broker.parsing.hardened import parse
from broker.sandbox import EXAMPLE_CERTS
from broker.signing import DocumentSigner
from broker.transport import topics
from broker.transport.resend import ResendPolicy, Unanswered
from tests.network import BANK, COURT, HUB, Recorder, fresh, hub_config, unit_client, unit_config, wait_until


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def jobs(n: int, unit: str = BANK, first: int = 1) -> list[Job]:
    return [Job(i, f"doc-{i}", topics.inbox(unit)) for i in range(first, first + n)]


# --- the hub's flow control, on its own ---------------------------------------------------------------


def test_at_most_the_window_is_in_flight_per_recipient_and_others_are_not_held_back():
    flow = FlowControl(window=3, ack_timeout=10, max_backoff=80, clock=Clock())
    flow.add(jobs(10, BANK))
    flow.add(jobs(2, COURT, first=100))
    taken = flow.take(100)
    for job in taken:
        flow.sent(job)
    assert Counter(j.topic for j in taken) == {topics.inbox(BANK): 3, topics.inbox(COURT): 2}
    assert flow.take(100) == []  # the bank's window is full until it acknowledges
    flow.acked(BANK, ["doc-1", "doc-2"])
    assert [j.document_id for j in flow.take(100)] == ["doc-4", "doc-5"]
    assert flow.waiting() == 5


def test_a_unit_that_acknowledges_gets_nothing_twice_however_slow():
    clock = Clock()
    flow = FlowControl(window=5, ack_timeout=10, max_backoff=80, clock=clock)
    flow.status(BANK, True)
    flow.add(jobs(50))
    sent = []
    while len(sent) < 50:
        for job in flow.take(100):
            flow.sent(job)
            sent.append(job.document_id)
        clock.now += 9  # slower than ack_timeout per window, but acknowledging within it
        assert flow.probe() == []
        flow.acked(BANK, [sent[-1 - i] for i in reversed(range(min(5, len(sent))))])
    assert sent == [f"doc-{i}" for i in range(1, 51)]  # each once


def test_a_silent_unit_gets_only_the_oldest_again_with_backoff_up_to_the_cap():
    clock = Clock()
    flow = FlowControl(window=5, ack_timeout=10, max_backoff=40, clock=clock)
    flow.status(BANK, True)
    flow.add(jobs(5))
    for job in flow.take(100):
        flow.sent(job)
    probes = []
    for _ in range(200):  # 200 s of silence, looked at every second
        clock.now += 1
        if flow.probe():
            again = flow.take(100)
            assert [j.document_id for j in again] == ["doc-1"]
            flow.sent(again[0])
            probes.append(clock.now - 1000)
    gaps = [b - a for a, b in zip([0.0, *probes], probes)]
    assert gaps == [10, 20, 40, 40, 40, 40][: len(gaps)] and len(gaps) == 6, gaps


def test_what_was_published_before_an_acknowledged_delivery_and_not_acknowledged_goes_out_again():
    flow = FlowControl(window=10, ack_timeout=10, max_backoff=80, clock=Clock())
    flow.status(BANK, True)
    flow.add(jobs(6))
    for job in flow.take(100):
        flow.sent(job)
    # the broker lost doc-2 and doc-3 (a restart): the unit acknowledges 1, then 4
    assert flow.acked(BANK, ["doc-1"]) == 0
    assert flow.acked(BANK, ["doc-4"]) == 2
    again = flow.take(100)
    assert [j.document_id for j in again] == ["doc-2", "doc-3"]
    for job in again:
        flow.sent(job)
    assert flow.inflight(BANK) == 2 + 2  # doc-5, doc-6 and the two again
    assert flow.acked(BANK, ["doc-5", "doc-6", "doc-2", "doc-3"]) == 0 and flow.inflight(BANK) == 0


def test_a_unit_back_online_that_acknowledges_nothing_is_probed_after_the_grace_only():
    clock = Clock()
    flow = FlowControl(window=5, ack_timeout=30, max_backoff=80, clock=clock)
    flow.add(jobs(3))
    for job in flow.take(100):
        flow.sent(job)
    clock.now += 3600  # offline for an hour, its window at the broker
    flow.status(BANK, True)
    clock.now += ONLINE_GRACE - 1
    assert flow.probe() == []
    clock.now += 1
    assert flow.probe() == [BANK]  # its session was lost: nothing came


def test_an_offline_unit_is_not_probed():
    clock = Clock()
    flow = FlowControl(window=5, ack_timeout=10, max_backoff=80, clock=clock)
    flow.status(BANK, False)
    flow.add(jobs(3))
    for job in flow.take(100):
        flow.sent(job)
    clock.now += 1000
    assert flow.probe() == []


# --- a sender's resends, on their own ---------------------------------------------------------------


class Info:
    rc = 0

    def __init__(self, acked: bool = True) -> None:
        self.acked = acked

    def is_published(self) -> bool:
        return self.acked


WALL = datetime(2026, 12, 7, tzinfo=timezone.utc)


def _unanswered(policy: ResendPolicy, ids: list[str], attempts: dict[str, int]) -> list[Unanswered]:
    return [Unanswered(i, attempts.get(i, 1), WALL) for i in ids]


def test_no_resend_while_the_hub_answers_however_late():
    clock = Clock()
    policy = ResendPolicy(30, 600, clock=clock)
    ids = [f"d{i}" for i in range(100)]
    for i in ids:
        policy.published(i, Info())
    for n, i in enumerate(ids):  # answered one every 20 s: the last one 2,000 s late
        clock.now += 20
        assert policy.due(_unanswered(policy, ids[n:], {}), WALL + timedelta(seconds=clock.now)) == []
        policy.answered(i)


def test_a_silent_hub_gets_one_probe_with_backoff_up_to_the_cap():
    clock = Clock()
    policy = ResendPolicy(10, 40, clock=clock)
    ids = [f"d{i}" for i in range(50)]
    for i in ids:
        policy.published(i, Info())
    attempts: Counter[str] = Counter({i: 1 for i in ids})
    probes = []
    for _ in range(200):
        clock.now += 1
        for i in policy.due(_unanswered(policy, ids, attempts), WALL + timedelta(seconds=clock.now)):
            attempts[i] += 1
            policy.published(i, Info())
            probes.append((clock.now - 1000, i))
    assert {i for _, i in probes} == {"d0"}  # only the oldest
    times = [t for t, _ in probes]
    gaps = [b - a for a, b in zip([0.0, *times], times)]
    assert gaps == [10, 20, 40, 40, 40, 40][: len(gaps)] and len(gaps) == 6, gaps


def test_documents_the_hub_never_got_are_sent_again_once_it_answered_later_ones_and_fell_quiet():
    clock = Clock()
    policy = ResendPolicy(10, 600, clock=clock)
    ids = [f"d{i}" for i in range(6)]
    for i in ids:
        policy.published(i, Info())
    for i in ("d0", "d3", "d4", "d5"):  # d1 and d2 were lost by the broker
        policy.answered(i)
    now = lambda: WALL + timedelta(seconds=clock.now)  # noqa: E731
    assert policy.due(_unanswered(policy, ["d1", "d2"], {}), now()) == []  # busy: answers just came
    clock.now += 10
    assert policy.due(_unanswered(policy, ["d1", "d2"], {}), now()) == ["d1", "d2"]


def test_a_lost_document_is_sent_again_after_the_cap_even_if_the_hub_never_falls_quiet():
    clock = Clock()
    policy = ResendPolicy(10, 100, clock=clock)
    for i in ("d0", "d1"):
        policy.published(i, Info())
    policy.answered("d1")  # d0 lost; answers to others keep coming
    for _ in range(99):
        clock.now += 1
        policy.answered(None)
        assert policy.due(_unanswered(policy, ["d0"], {}), WALL) == []
    clock.now += 1
    assert policy.due(_unanswered(policy, ["d0"], {}), WALL) == ["d0"]


def test_a_document_the_broker_has_not_acknowledged_is_left_to_the_mqtt_client():
    clock = Clock()
    policy = ResendPolicy(10, 60, clock=clock)
    policy.published("d0", Info(acked=False))
    clock.now += 59
    assert policy.due(_unanswered(policy, ["d0"], {}), WALL) == []
    clock.now += 1
    assert policy.due(_unanswered(policy, ["d0"], {}), WALL) == ["d0"]


# --- against a real Mosquitto and a real hub ------------------------------------------------------------

WINDOW = 20
NOTICES = 150


def _attempts(url: str, recipient: str, ids: list[str]) -> dict[str, tuple[str, int]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                select(deliveries.c.document_id, deliveries.c.state, deliveries.c.attempts).where(
                    deliveries.c.recipient == recipient, deliveries.c.document_id.in_(ids)
                )
            ).all()
    finally:
        engine.dispose()
    return {r[0]: (r[1], r[2]) for r in rows}


@pytest.mark.slow
def test_an_offline_unit_gets_its_backlog_once_with_at_most_the_window_in_flight(mosquitto, tmp_path):
    """150 notices for an offline bank, a window of 20, an ack timeout of 1 s and a bank that
    takes 30 ms per notice (4.5 s in all): it gets each notice once, counted from the ledger's
    publication attempts, and while it was away only the window went to the broker."""
    config = hub_config(
        HUB,
        port=mosquitto.port,
        var=tmp_path / "hub",
        workers=0,
        delivery={"ack_timeout_seconds": 1, "recipient_window": WINDOW},
    )
    hub = Hub(config)
    hub.start()
    try:
        bank_config = unit_config(BANK, port=mosquitto.port, var=tmp_path / "units")
        bank = unit_client(bank_config)
        bank.start()
        bank.stop()  # its session stays at the broker; it is offline
        court = unit_client(unit_config(COURT, port=mosquitto.port, var=tmp_path / "units", resend_after_seconds=2))
        court.start()
        try:
            ids = [court.send(court_seal(fresh())) for _ in range(NOTICES)]
            wait_until(lambda: not court.store.unanswered(), 60, "service receipts for every notice")
            assert all(s.attempts == 1 for s in court.store.sent()), "the court published a notice again"

            def published() -> int:
                return sum(1 for state, n in _attempts(config.ledger.url, BANK, ids).values() if n > 0)

            wait_until(lambda: published() == WINDOW, 30, "the window to be published")
            time.sleep(2)  # two ack timeouts: an offline unit gets nothing more, and nothing twice
            sent = _attempts(config.ledger.url, BANK, ids)
            assert sum(1 for _, n in sent.values() if n > 0) == WINDOW
            assert max(n for _, n in sent.values()) == 1

            recorder = Recorder()
            recorder.also = lambda received: time.sleep(0.03)
            bank = unit_client(bank_config, recorder)
            bank.start()
            try:
                recorder.wait_for(lambda r: all(r.counts[i] == 1 for i in ids), 90, "the whole backlog")
                wait_until(
                    lambda: all(s == "acked" for s, _ in _attempts(config.ledger.url, BANK, ids).values()),
                    30,
                    "every delivery acknowledged",
                )
            finally:
                bank.stop()
            attempts = _attempts(config.ledger.url, BANK, ids)
            assert Counter(n for _, n in attempts.values()) == {1: NOTICES}, "deliveries per notice"
            assert max(recorder.counts.values()) == 1
        finally:
            court.stop()
    finally:
        hub.stop()


_COURT_SEAL = DocumentSigner.for_unit(EXAMPLE_CERTS / "units" / COURT)


def court_seal(document) -> bytes:  # type: ignore[no-untyped-def]
    return _COURT_SEAL.sign(document)


_LD = {"ld": NS}


class SlowHub:
    """A stand-in for a hub that is busy: it takes what courts publish (the broker PUBACKs it)
    and answers with a sealed service receipt, one every ``every`` seconds, in order; or not at
    all (``answering`` False: the hub lost them). Counts every publication it saw."""

    def __init__(self, mqtt_connect, port: int, var, every: float):  # type: ignore[no-untyped-def]
        self.notary = HubNotary(hub_config(HUB, port=port, var=var).identity.signer())
        self.seen: Counter[str] = Counter()
        self.order: list[str] = []
        self.answering = True
        self.every = every
        self._todo: list[bytes] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.client = mqtt_connect(HUB, before_connect=self._before)
        self.client.subscribe(topics.outbox(COURT), qos=1)
        self._thread = threading.Thread(target=self._answer, daemon=True)
        self._thread.start()

    def _before(self, client) -> None:  # type: ignore[no-untyped-def]
        client.on_message = self._on_message

    def _on_message(self, client, userdata, msg) -> None:  # type: ignore[no-untyped-def]
        root = parse(msg.payload)
        doc_id = root.xpath("string(/ld:Document/ld:Header/ld:DocumentId)", namespaces=_LD)
        with self._lock:
            self.seen[doc_id] += 1
            self.order.append(doc_id)
            if self.seen[doc_id] == 1:
                self._todo.append(msg.payload)

    def _answer(self) -> None:
        while not self._stop.wait(self.every):
            if not self.answering:
                continue
            with self._lock:
                raw = self._todo.pop(0) if self._todo else None
            if raw is None:
                continue
            root = parse(raw)
            header = lambda name: root.xpath(f"string(/ld:Document/ld:Header/ld:{name})", namespaces=_LD)  # noqa: E731
            notice = self.notary.seal_one(
                self.notary.service_receipt_draft(
                    document_id=header("DocumentId"),
                    doc_type=header("DocumentType"),
                    sender=header("Sender"),
                    recipient=header("Recipient"),
                    digest=payload_digest(raw),
                    received_at=received_now(),
                )
            )
            self.client.publish(topics.inbox(COURT), notice.raw, qos=1)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)


@pytest.mark.slow
def test_a_court_does_not_resend_while_the_hub_is_busy_and_probes_with_backoff_when_it_is_lost(
    mosquitto, mqtt_connect, tmp_path
):
    """A hub answering one notice every 0.25 s: 16 notices take 4 s, four times the court's
    resend_after of 1 s, and the court publishes none of them again. Then the hub stops
    answering: of 6 more notices the court publishes only the oldest again, a probe."""
    hub = SlowHub(mqtt_connect, mosquitto.port, tmp_path / "hub", every=0.25)
    court = unit_client(unit_config(COURT, port=mosquitto.port, var=tmp_path / "units", resend_after_seconds=1))
    court.start()
    try:
        ids = [court.send(court_seal(fresh())) for _ in range(16)]
        wait_until(lambda: not court.store.unanswered(), 60, "every answer")
        assert hub.seen == Counter({i: 1 for i in ids}), "the court published a notice again while the hub answered"
        assert all(s.attempts == 1 for s in court.store.sent())

        hub.answering = False
        lost = [court.send(court_seal(fresh())) for _ in range(6)]
        wait_until(lambda: hub.seen[lost[0]] >= 3, 30, "probes of the oldest unanswered notice")
        assert all(hub.seen[i] == 1 for i in lost[1:]), "only the oldest is probed"
        hub.answering = True  # the hub answers the probe, then the rest it has (in order)
        wait_until(lambda: not court.store.unanswered(), 30, "every answer")
    finally:
        court.stop()
        hub.close()
