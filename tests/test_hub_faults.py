"""The hub survives any failure of its checker (issue 11, item 1, the hub's side): a worker
killed while it checks a batch, a document whose check raises or kills its worker every time.
Real worker processes, a real Mosquitto."""

from __future__ import annotations

import logging
import os
import queue
import signal
import threading
from collections import Counter

import pytest
from lxml import etree
from sqlalchemy import func, select

from broker.checking import payload_digest
from broker.documents.xmlmodel import NS
from broker.hub.intake import FAULT_ENV
from broker.hub.ledger.schema import documents, rejections
from broker.hub.recording import DocumentRecorder
from broker.hub.service import Hub
from broker.signing import DocumentSigner
from broker.transport import topics
from tests.network import BANK, COURT, HUB, ROOT, CourtClient, Recorder, fresh, hub_config, unit_client, unit_config, wait_until

LD = "{" + NS + "}"
NO_RESEND = 3600.0


def _hub(mosquitto, tmp_path, workers: int) -> Hub:
    return Hub(
        hub_config(
            HUB, port=mosquitto.port, var=tmp_path / "hub", workers=workers, delivery={"ack_timeout_seconds": 600}
        )
    )


@pytest.fixture
def bank(mosquitto, tmp_path):
    recorder = Recorder()
    client = unit_client(unit_config(BANK, port=mosquitto.port, var=tmp_path / "units"), recorder)
    client.recorder = recorder
    client.start()
    yield client
    client.stop()


@pytest.fixture
def court(mosquitto, tmp_path):
    config = unit_config(COURT, port=mosquitto.port, var=tmp_path / "units", resend_after_seconds=NO_RESEND)
    with CourtClient(config) as client:
        yield client


def _codes(root: etree._Element) -> list[str]:
    return [e.text for e in root.iter(f"{LD}Code")]


def _count(hub: Hub, table) -> int:
    with hub.ledger.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_a_worker_killed_while_it_checks_a_batch_loses_nothing(mosquitto, tmp_path, bank, mqtt_connect, caplog):
    """SIGKILL a worker while batches are out: the pool is replaced, the failed batches are
    checked again one by one, and every document is served once: nothing lost, nothing doubled,
    and the documents after the kill too."""
    caplog.set_level(logging.INFO, logger="liandong.hub")
    receipts: queue.Queue[bytes] = queue.Queue()
    subscribed = threading.Event()

    def before_connect(client):
        client.on_message = lambda c, userdata, msg: receipts.put(msg.payload)
        client.on_subscribe = lambda *args: subscribed.set()

    court = mqtt_connect(COURT, before_connect=before_connect)  # fast: no store, pre-sealed bytes
    court.subscribe(topics.inbox(COURT), qos=1)
    assert subscribed.wait(10)
    signer = DocumentSigner.for_unit(ROOT / "certs-example" / "units" / COURT)
    docs = [fresh() for _ in range(600)]
    ids = [str(d.header.document_id) for d in docs]
    sealed = [signer.sign(d) for d in docs]

    hub = _hub(mosquitto, tmp_path, workers=2)
    hub.start()
    try:
        served: Counter[str] = Counter()

        def served_up_to(count: int) -> bool:
            while not receipts.empty():
                root = etree.fromstring(receipts.get())
                assert root.findtext(f"{LD}Header/{LD}DocumentType") == "ServiceReceipt", _codes(root)
                served[root.findtext(f"{LD}Header/{LD}InReplyTo")] += 1
            return len(served) >= count

        for start in range(0, len(sealed), 200):  # three runs: bursts of batches, one worker killed
            for raw in sealed[start : start + 200]:
                court.publish(topics.outbox(COURT), raw, qos=1)
            # a batch is out (handed to the pool); kill the worker whose turn it is
            wait_until(lambda: any(b.future is not None and b.future.running() for b in list(hub._batches)), 30, "a batch out")
            os.kill(hub._pool.pids[0], signal.SIGKILL)
            # Served before the next kill: kills while the hub checks documents alone could hit
            # one document twice, which the hub takes for the document's doing (WORKER_DEATHS_ALONE).
            wait_until(lambda: served_up_to(start + 200), 120, "a service receipt for every document so far")
        bank.recorder.wait_for(lambda r: all(r.counts[i] >= 1 for i in ids), 60, "every document at the bank")
        failed = [r for r in caplog.records if r.getMessage() == "hub.batch_failed"]
        assert any(r.fields["worker_died"] for r in failed), "no batch was out when the worker died"
        assert hub._pool.replaced >= 1
        assert set(served) == set(ids) and max(served.values()) == 1
        assert max(bank.recorder.counts[i] for i in ids) == 1, "a document handed over twice"
        assert (hub.stats.accepted, hub.stats.rejected, hub.stats.duplicates) == (len(ids), 0, 0)
        assert _count(hub, documents) == len(ids) + len(ids)  # each document and its service receipt
        assert hub.ledger.verify().ok
    finally:
        hub.stop()


@pytest.mark.parametrize(
    "fault, code", [("kill", "HUB_WORKER_DIED"), ("raise", "HUB_CHECK_FAILED")], ids=["kills", "raises"]
)
def test_a_document_that_breaks_its_check_is_refused_and_the_rest_served(
    mosquitto, tmp_path, bank, court, monkeypatch, caplog, fault, code
):
    """A document whose check kills its worker (or raises) every time: its batch is checked again
    one by one, it is refused with the code (and its digest), the documents of its batch and the
    next document are served; the hub does not try it for ever."""
    caplog.set_level(logging.INFO, logger="liandong.hub")
    poison = court.seal(fresh())
    digest = payload_digest(poison)
    monkeypatch.setenv(FAULT_ENV, f"{fault}:{digest}")  # read by the workers the hub spawns
    hub = _hub(mosquitto, tmp_path, workers=1)
    hub.start()
    try:
        good = [court.seal(fresh()) for _ in range(4)]
        sent = [court.unit.send(raw) for raw in (good[0], good[1], poison, good[2])]
        answers = [court.unit.wait_answer(i, 60) for i in sent]
        assert [a.doc_type for a in answers] == ["ServiceReceipt"] * 2 + ["RejectionNotice", "ServiceReceipt"]
        refusal = answers[2].root
        assert _codes(refusal) == [code]
        assert refusal.findtext(f"{LD}RejectionNotice/{LD}PayloadDigest") == digest

        answer = court.publish(good[3], timeout=60)  # the next document: served at once
        assert answer.accepted
        served = [sent[0], sent[1], sent[3], answer.document_id]
        bank.recorder.wait_for(lambda r: all(r.counts[i] == 1 for i in served), 30, "the good documents at the bank")
        assert bank.recorder.counts[sent[2]] == 0

        with hub.ledger.engine.connect() as conn:
            row = conn.execute(select(rejections.c.codes, rejections.c.raw)).one()
        assert code in str(row.codes) and bytes(row.raw) == poison  # the evidence kept
        logged = [r.fields for r in caplog.records if r.getMessage() == "hub.check_failed"]
        assert logged and all(f["code"] == code and f["digest"] == digest for f in logged)
        assert len(logged) == 1, "the poison was tried again after its refusal"
        if fault == "kill":
            assert hub._pool.replaced >= 3  # its batch's worker, then its own twice
        assert (hub.stats.accepted, hub.stats.rejected) == (4, 1)
        assert hub.ledger.verify().ok
    finally:
        hub.stop()


def test_without_workers_a_check_that_raises_is_refused(mosquitto, tmp_path, bank, court, monkeypatch):
    """workers: 0 checks in the hub process: an exception there is a refusal too, not a lost
    message or a stopped pipeline."""
    from broker.hub import intake

    poison = court.seal(fresh())
    real = intake.IntakeChecker.check_many

    def check_many(self, payloads):
        if any(p.raw == poison for p in payloads):
            raise OverflowError("date value out of range")
        return real(self, payloads)

    monkeypatch.setattr(intake.IntakeChecker, "check_many", check_many)
    hub = _hub(mosquitto, tmp_path, workers=0)
    hub.start()
    try:
        sent = [court.unit.send(raw) for raw in (poison, court.seal(fresh()))]
        answers = [court.unit.wait_answer(i, 60) for i in sent]
        assert [a.doc_type for a in answers] == ["RejectionNotice", "ServiceReceipt"]
        assert _codes(answers[0].root) == ["HUB_CHECK_FAILED"]
    finally:
        hub.stop()


def test_a_document_whose_ledger_writes_fail_is_refused_and_holds_no_one(mosquitto, tmp_path, bank, court, monkeypatch):
    """An error of the hub's own in the ledger stage (not the storage's) for one document: the
    step is written document by document, that one is refused (HUB_INTERNAL), the others of its
    step and the next document are served; the hub is not left retrying it for ever."""
    poison = fresh()
    poison_id = str(poison.header.document_id)
    real = DocumentRecorder.accept

    def accept(self, tx, message, payload, result, original):
        if result.document_id == poison_id:
            raise KeyError("a bug in the ledger stage")
        return real(self, tx, message, payload, result, original)

    monkeypatch.setattr(DocumentRecorder, "accept", accept)
    hub = _hub(mosquitto, tmp_path, workers=0)
    hub.start()
    try:
        sealed = [court.seal(fresh()), court.seal(poison), court.seal(fresh())]
        sent = [court.unit.send(raw) for raw in sealed]
        answers = [court.unit.wait_answer(i, 60) for i in sent]
        assert [a.doc_type for a in answers] == ["ServiceReceipt", "RejectionNotice", "ServiceReceipt"]
        assert _codes(answers[1].root) == ["HUB_INTERNAL"]
        assert court.publish(fresh(), timeout=60).accepted
        assert hub.health.ok  # not taken for a storage outage
        bank.recorder.wait_for(lambda r: r.counts[sent[0]] == 1 and r.counts[sent[2]] == 1, 30, "the others at the bank")
        assert bank.recorder.counts[poison_id] == 0
        assert hub.ledger.verify().ok
    finally:
        hub.stop()
