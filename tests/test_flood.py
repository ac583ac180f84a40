"""One flooding unit delays no court (issue 11, item 3): fair intake, per-sender limits, compact
rejection records, one anomaly notice per flood episode. No timing assertions: orders and counts."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select

from broker.hub.config import Limits
from broker.hub.fairness import FairQueue
from broker.hub.flood_guard import FloodGuard
from broker.hub.intake import Intake, IntakeChecker
from broker.hub.ledger import Ledger
from broker.hub.ledger.rejections_compact import read_counts
from broker.hub.ledger.schema import audit, documents, rejections
from broker.hub.pipeline_items import Message
from broker.hub.rate_limit import GateSettings, SenderGate
from broker.hub.service import Hub
from broker.errors import problem
from broker.registry import load_registry
from broker.sandbox import EXAMPLE_REGISTRY
from broker.signing import DocumentSigner
from broker.transport import topics
from tests.network import BANK, COURT, HUB, CourtClient, fresh, hub_config, unit_config, wait_until
from tests.pg import pg_url  # noqa: F401

CERTS = Path(__file__).resolve().parents[1] / "certs-example"
COURT_SEAL = DocumentSigner.for_unit(CERTS / "units" / COURT)
OFFICE = load_registry(EXAMPLE_REGISTRY).office
GARBAGE = b"\x00not a document\xff" * 8


# --- the parts on their own ----------------------------------------------------------------------


def test_fair_queue_serves_a_waiting_sender_before_another_senders_backlog():
    q: FairQueue[str] = FairQueue()
    for i in range(1000):
        q.put("flood", f"f{i}")
    q.put("court", "c0")
    q.put("court", "c1")
    q.put("court2", "d0")
    first = q.take(4)
    assert first == ["f0", "c0", "d0", "f1"]  # one per sender per turn, FIFO within a sender
    assert q.take(2) == ["c1", "f2"]
    assert q.waiting("court") == 0 and q.waiting("flood") == 997 and len(q) == 997


def _gate(**kw: float) -> SenderGate:
    settings = dict(refusal_rate_per_second=1, refusal_burst=10, flood_rate_per_second=1, flood_burst=2, quiet_seconds=60)
    settings.update(kw)
    return SenderGate(GateSettings(**settings))


def test_a_sender_is_limited_by_its_refusals_not_by_its_volume():
    gate = _gate()
    assert all(gate.admit("court", 0.0) for _ in range(100_000))  # valid volume is never limited
    starts = [gate.refused("bank", 0.0) for _ in range(50)]
    assert starts.count(True) == 1 and starts.index(True) == 10  # the 11th refusal in a burst
    admitted = sum(gate.admit("bank", 0.5) for _ in range(1000))
    assert admitted == 0  # the flood bucket starts empty: everything of this instant is excess
    admitted = sum(gate.admit("bank", 2.5) for _ in range(1000))
    assert admitted == 2  # two seconds later: flood_burst (2) payloads checked, the rest excess
    assert gate.admit("court", 2.5)  # another sender is not affected
    assert gate.ended(30.0) == []  # excess 27.5 s ago: the episode goes on
    ended = gate.ended(63.0)
    assert [(unit, excess) for unit, excess, _ in ended] == [("bank", 1998)]
    assert gate.admit("bank", 63.0) and not gate.flooding("bank")
    # refusals again later: a new episode, notified again
    assert [gate.refused("bank", 200.0) for _ in range(12)].count(True) == 1


def _garbage(size: int = 100) -> Intake:
    return Intake(seq=0, digest="0" * 64, size=size, problems=[problem("XML_NOT_UTF8")])


def test_garbage_beyond_the_samples_of_a_minute_is_counted_not_recorded():
    guard = FloodGuard(Limits(garbage_samples_per_minute=3, refusal_burst=2), clock=lambda: 0.0)
    minute = datetime(2026, 12, 7, 12, 0, 10, tzinfo=timezone.utc)
    compact = [guard.refused(BANK, _garbage(), minute) for _ in range(10)]
    # before the flood (the refusal burst of 2) every refusal is recorded in full; the third
    # starts the episode, and from then on the minute's 3 samples, then counts
    assert compact == [False] * 2 + [False] * 3 + [True] * 5
    next_minute = minute.replace(minute=1)
    assert guard.refused(BANK, _garbage(), next_minute) is False  # a new minute, new samples
    sealed = Intake(seq=0, digest="1" * 64, size=10, problems=[problem("ROUTE_REPLY_UNKNOWN", document_id="x")])
    sealed.signer_fingerprint = "ab" * 16  # its seal verified: always the full record
    assert not any(guard.refused(BANK, sealed, minute) for _ in range(10))
    assert guard.compacted_total == 5


def test_a_minutes_counts_go_into_the_audit_chain_once_the_minute_is_over(tmp_path):
    _minute_counts(Ledger(f"sqlite:///{tmp_path / 'ledger.db'}"))


def test_a_minutes_counts_on_a_postgresql_ledger(pg_url):  # noqa: F811
    url, schema = pg_url
    _minute_counts(Ledger(url, schema=schema))


def _minute_counts(ledger: Ledger) -> None:
    ledger.create_schema()
    mono = [0.0]
    guard = FloodGuard(Limits(garbage_samples_per_minute=0, refusal_burst=1), clock=lambda: mono[0])
    minute = datetime(2026, 12, 7, 12, 0, 10, tzinfo=timezone.utc)
    assert not guard.refused(BANK, _garbage(100), minute)  # within the burst: a full record
    for _ in range(7):
        assert guard.refused(BANK, _garbage(100), minute)
    for _ in range(5):
        guard.excess(BANK, minute, 512)
    for now in (minute, minute.replace(minute=1)):  # the minute runs, then it is over
        mono[0] += 2
        guard.tick(now)
        with ledger.transaction() as tx:
            guard.write(tx, "hub-a")
        guard.written()
    with ledger.engine.connect() as conn:
        entries = conn.execute(select(audit.c.action, audit.c.client, audit.c.detail)).all()
    assert [(e.action, e.client) for e in entries] == [("rejections_counted", BANK)]  # one, after the minute
    assert '"excess":5' in entries[0].detail and '"garbage":7' in entries[0].detail
    counts = {c.reason: c.count for c in read_counts(ledger, BANK)}
    assert counts == {"excess": 5, "garbage": 7}
    assert ledger.verify().ok
    ledger.close()


# --- the hub's scheduling, step by step (the hub in this process, no broker connection) ------------


def _message(unit: str, raw: bytes) -> Message:
    return Message("doc", 0, 0, unit, raw, datetime.now(timezone.utc))  # mid 0: nothing to ack


def test_a_court_notice_is_checked_before_a_flooding_units_backlog(tmp_path):
    config = hub_config(HUB, port=1, var=tmp_path / "hub", workers=0, batch_size=50)
    hub = Hub(config)
    hub._inline = IntakeChecker(config)
    try:
        for _ in range(400):  # a flood queued first: 400 garbage payloads from the bank
            hub._events.put(("msg", _message(BANK, GARBAGE)))
        notice = COURT_SEAL.sign(fresh())
        hub._events.put(("msg", _message(COURT, notice)))
        hub._step()  # one step checks two batches of 50
        with hub.ledger.engine.connect() as conn:
            served = conn.execute(select(documents.c.sender).where(documents.c.origin == "unit")).scalars().all()
        assert served == [COURT]  # the court's notice is served in the very first step ...
        assert hub._queue.waiting(BANK) == 400 - 99  # ... ahead of the flood's backlog (99 of it checked)
        while hub._queue:
            hub._step()
        assert hub.stats.accepted == 1 and hub.stats.rejected == 400
    finally:
        hub.ledger.close()


# --- through a real Mosquitto ----------------------------------------------------------------------


FLOOD_LIMITS = {
    "refusal_rate_per_second": 1,
    "refusal_burst": 20,
    "flood_rate_per_second": 1,
    "flood_burst": 5,
    "garbage_samples_per_minute": 5,
    "flood_quiet_seconds": 600,
}


@pytest.fixture
def flood_hub(mosquitto, tmp_path):
    h = Hub(hub_config(HUB, port=mosquitto.port, var=tmp_path / "hub", workers=1, limits=FLOOD_LIMITS))
    h.start()
    yield h
    h.stop()


def test_a_flood_is_counted_and_alerted_once_while_courts_are_served(flood_hub, mosquitto, mqtt_connect, tmp_path):
    hub = flood_hub
    with hub.ledger.engine.connect() as conn:
        entries_before = conn.execute(select(func.count()).select_from(audit)).scalar_one()
    flooder = mqtt_connect(BANK, max_inflight=1000)
    flood = 3000
    with CourtClient(unit_config(COURT, port=mosquitto.port, var=tmp_path / "units", resend_after_seconds=5)) as court:
        for i in range(flood):
            flooder.publish(topics.outbox(BANK), GARBAGE + str(i).encode(), qos=1)
            if i in (1000, 2000):  # the court publishes in the middle of the flood
                assert court.publish(fresh(), timeout=60).accepted
        wait_until(lambda: hub.stats.rejected + hub._flood.excess_total >= flood, 120, "the flood to be handled")
        assert court.publish(fresh(), timeout=60).accepted  # and after it
    assert hub.stats.accepted == 3
    excess, compacted = hub._flood.excess_total, hub._flood.compacted_total
    assert excess > 0  # the flood's excess was dropped unchecked ...
    with hub.ledger.engine.connect() as conn:
        recorded = conn.execute(
            select(func.count()).select_from(rejections).where(rejections.c.client_unit == BANK)
        ).scalar_one()
        anomalies = conn.execute(
            select(documents.c.document_id).where(documents.c.doc_type == "AnomalyNotice", documents.c.recipient == OFFICE)
        ).all()
        entries_after = conn.execute(select(func.count()).select_from(audit)).scalar_one()
    counts = read_counts(hub.ledger, BANK)
    # ... and every payload of the flood is accounted for: a full record, or a count
    assert recorded + sum(c.count for c in counts) == flood
    assert sum(c.count for c in counts if c.reason == "excess") == excess
    assert sum(c.count for c in counts if c.reason == "garbage") == compacted
    # the ledger grows by the per-minute sample cap, not by the flood
    minutes = len({c.minute for c in counts} | {m for m in _rejection_minutes(hub.ledger)})
    # (and the refusals before the flood began, each recorded in full: a sender that is not
    # flooding learns what is wrong with every document)
    assert recorded <= FLOOD_LIMITS["garbage_samples_per_minute"] * minutes + FLOOD_LIMITS["refusal_burst"] + 1
    assert entries_after - entries_before <= 2 * recorded + 3 * 4 + 1 + 10  # rejections, notices, the anomaly
    assert len(anomalies) == 1  # one notice per flood episode, not one per payload


def _rejection_minutes(ledger: Ledger) -> set[datetime]:
    with ledger.engine.connect() as conn:
        times = conn.execute(select(rejections.c.received_at).where(rejections.c.client_unit == BANK)).scalars().all()
    return {t.replace(second=0, microsecond=0) for t in times}


def test_a_hub_stopping_mid_minute_chains_the_minutes_counts(tmp_path):
    """A hub stopped while a flood minute runs chains that minute's counts on its way out, so
    ``ledger verify`` finds every stored count in the chain."""
    ledger = Ledger(f"sqlite:///{tmp_path / 'ledger.db'}")
    ledger.create_schema()
    guard = FloodGuard(Limits(garbage_samples_per_minute=0, refusal_burst=1), clock=lambda: 0.0)
    minute = datetime(2026, 12, 7, 12, 0, 10, tzinfo=timezone.utc)
    guard.refused(BANK, _garbage(100), minute)  # within the burst: a full record elsewhere
    for _ in range(3):
        assert guard.refused(BANK, _garbage(100), minute)
    with ledger.transaction() as tx:  # a step of the running minute: counts stored, not chained
        guard.write(tx, "hub-a")
    guard.written()
    assert ledger.verify().open_counts  # stored, not yet chained: the minute is still open
    guard.close_all()  # the hub stops (Hub._drain)
    with ledger.transaction() as tx:
        guard.write(tx, "hub-a")
    guard.written()
    with ledger.engine.connect() as conn:
        entries = conn.execute(select(audit.c.action, audit.c.client)).all()
    assert [(e.action, e.client) for e in entries] == [("rejections_counted", BANK)]
    report = ledger.verify()
    assert report.ok and not report.open_counts, report.problems
    ledger.close()
