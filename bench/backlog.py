"""Backlog recovery (issue 11 item 2): a bank offline while a court publishes N notices, then back.

    .venv/bin/python -m bench.backlog [--notices 5000] [--flat 2000]

In one run, through a real Mosquitto (the project's TLS configuration) and the hub as a separate
process (SQLite ledger, two workers):

1. **flat out**: the hub's rate with everyone online, measured as bench/hub_throughput.py does
   (plain paho court and receivers, ``--flat`` documents): the baseline of the targets;
2. **backlog**: the bank goes offline (its session stays at the broker, its retained status says
   ``offline``); a court publishes N notices for it through the real unit transport
   (:class:`broker.transport.unit.UnitClient`: its store, its resends, it verifies every service
   receipt); reported: how fast they were served, and how many the court published again;
3. **drain**: the bank comes back (a plain paho client that says ``online``, acknowledges what
   arrives every 50 ms like a unit, and does not verify: the hub is what is measured) and gets
   the backlog; reported: the time until it has every notice, the drain rate, deliveries per
   notice (the ledger's publication attempts to the bank / N) and the duplicates the hub
   recorded (a court's resend of a document the hub already had).

Targets: drain rate ≥ 0.7 of the flat-out rate, ≤ 1.1 deliveries per notice, court resends ≤ 1 %.

To measure other code (e.g. before a change), put its checkout first on the path and run this
file as a script: ``PYTHONPATH=/path/to/checkout python bench/backlog.py`` (the hub process runs
from the directory the imported ``broker`` package lives in).
"""

from __future__ import annotations

import argparse
import json
import queue
import re
import sqlite3
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: the bench package beside this file
    sys.path.append(str(Path(__file__).resolve().parents[1]))

import yaml
from sqlalchemy import create_engine, func, select

import broker
from bench.common import MachineMeter, machine_info
from bench.hub_throughput import BANK, COURT, WARMUP, drive, seal_documents
from broker.hub.ledger import Ledger
from broker.hub.ledger.schema import audit, deliveries
from broker.mosquitto import BrokerSettings, MosquittoProcess, free_port
from broker.registry import load_registry
from broker.sandbox import EXAMPLE_CERTS, EXAMPLE_REGISTRY, hub_config, unit_config
from broker.transport import topics
from broker.transport.messages import encode_acks, encode_status
from broker.transport.mqtt import tls_client
from broker.transport.unit import UnitClient

CODE_ROOT = Path(broker.__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results"
_ID = re.compile(rb"<ld:DocumentId>([0-9a-f-]{36})</ld:DocumentId>")
TARGETS = {"drain_over_flat_out": 0.7, "deliveries_per_notice": 1.1, "court_resend_share": 0.01}


class ReturningBank:
    """The bank as a light unit: online status (offline as its will), QoS 1 on its inbox in a
    persistent session, acknowledgements to the hub every 50 ms; records the first arrival of
    each document id. ``work_ms``: each message (a redelivery too: a unit checks what arrives
    before it knows it has it) takes this long, in arrival order, before it is acknowledged."""

    def __init__(self, port: int, work_ms: float = 0.0):
        self.arrived: dict[str, float] = {}
        self.received = 0
        self.lock = threading.Lock()
        self.pending: list[str] = []
        self.work = work_ms / 1000
        self.inbox: queue.SimpleQueue[str] = queue.SimpleQueue()
        self.client = tls_client(BANK, "127.0.0.1", port, certs=EXAMPLE_CERTS, session_expiry=7 * 24 * 3600, max_inflight=100)
        self.client.will_set(topics.status(BANK), encode_status("offline"), qos=1, retain=True)
        self.ready = threading.Event()
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self._stop = threading.Event()

    def start(self) -> float:
        start = time.perf_counter()
        self.client.loop_start()
        self.ready.wait(20)
        threading.Thread(target=self._acker, daemon=True).start()
        if self.work:
            threading.Thread(target=self._worker, daemon=True).start()
        return start

    def _worker(self) -> None:
        while not self._stop.is_set():
            doc_id = self.inbox.get()
            time.sleep(self.work)
            self._done(doc_id)

    def _done(self, doc_id: str) -> None:
        with self.lock:
            self.arrived.setdefault(doc_id, time.perf_counter())
            self.pending.append(doc_id)

    def _on_connect(self, client, userdata, flags, rc, props) -> None:  # type: ignore[no-untyped-def]
        client.subscribe(topics.inbox(BANK), qos=1)
        client.publish(topics.status(BANK), encode_status("online"), qos=1, retain=True)
        self.ready.set()

    def _on_message(self, client, userdata, msg) -> None:  # type: ignore[no-untyped-def]
        m = _ID.search(msg.payload)
        if m is None:
            return
        doc_id = m.group(1).decode()
        with self.lock:
            self.received += 1
        if self.work:
            self.inbox.put(doc_id)
        else:
            self._done(doc_id)

    def _acker(self) -> None:
        while not self._stop.wait(0.05):
            with self.lock:
                ids, self.pending = self.pending, []
            for i in range(0, len(ids), 1000):
                self.client.publish(topics.acks(BANK), encode_acks(ids[i : i + 1000]), qos=1)

    def close(self, *, offline: bool = True) -> None:
        self._stop.set()
        if offline:
            self.client.publish(topics.status(BANK), encode_status("offline"), qos=1, retain=True).wait_for_publish(5)
        self.client.disconnect()
        self.client.loop_stop()


def _court(port: int, var: Path, resend_after: float) -> UnitClient:
    config = unit_config(COURT, port=port, var=var, resend_after_seconds=resend_after)
    return UnitClient(
        config.unit,
        host=config.broker.host,
        port=config.broker.port,
        trust=config.trust.store(),
        registry=load_registry(config.registry),
        store=config.store,
        tls=(config.broker.cert, config.broker.key),
        cafile=config.broker.ca,
        resend_after=config.resend_after_seconds,
    )


def _unanswered(court: UnitClient) -> int:
    """Documents the court still waits an answer for (a reader of its store file beside it:
    works with any version of the store)."""
    db = sqlite3.connect(court.store.path)
    try:
        return int(db.execute("SELECT count(*) FROM sent WHERE state='pending'").fetchone()[0])
    finally:
        db.close()


def _wait(predicate: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.5)
    return False


def _hub(config_path: Path, log: Path) -> Any:
    import subprocess

    return subprocess.Popen(
        [sys.executable, "-m", "broker.cli.main", "hub", "run", "--config", str(config_path), "--log-level", "WARNING"],
        stdout=open(log, "ab"),
        stderr=subprocess.STDOUT,
        cwd=CODE_ROOT,
    )


def run(
    quick: bool = False,
    notices: int | None = None,
    flat: int | None = None,
    resend_after: float = 30.0,
    ack_timeout: float = 30.0,
    bank_ms: float = 0.0,
    label: str = "after",
) -> dict[str, Any]:
    """Run the benchmark (``quick``: 1,000 notices) and write it under ``label`` in
    bench/results/backlog.json."""
    notices = notices or (1000 if quick else 5000)
    flat = flat or min(notices, 2000)
    with tempfile.TemporaryDirectory(prefix="liandong-backlog-") as tmp:
        var = Path(tmp)
        registry = load_registry(EXAMPLE_REGISTRY)
        mosquitto = MosquittoProcess(registry, BrokerSettings.from_certs(EXAMPLE_CERTS, port=free_port(), data_dir=var / "broker")).start()
        port = mosquitto.port
        try:
            print(f"sealing {WARMUP + flat + notices} documents ...", flush=True)
            docs = seal_documents(WARMUP + flat + notices)
            warm, flat_docs, backlog = docs[:WARMUP], docs[WARMUP : WARMUP + flat], docs[WARMUP + flat :]
            ids = [_ID.search(d).group(1).decode() for d in backlog]  # type: ignore[union-attr]
            config = hub_config(
                registry.hub.code, port=port, var=var / "hub", workers=2, delivery={"ack_timeout_seconds": ack_timeout}
            )
            config_path = var / "hub.yaml"
            config_path.write_text(yaml.safe_dump(config.model_dump(mode="json", by_alias=True)))
            hub = _hub(config_path, var / "hub.log")
            try:
                # the hub subscribes right after it connects (a document before that is lost);
                # on a loaded machine its start takes a while
                if not _wait(lambda: f"as {registry.hub.code} (" in mosquitto.log_text() or hub.poll() is not None, 300):
                    raise RuntimeError("the hub did not connect within 300 s")
                time.sleep(2)
                drive(port, warm, None)
                machine = MachineMeter()
                machine.start()
                flat_out = drive(port, flat_docs, None)
                print(f"hub, flat out: {flat_out['rate']:,.0f} documents/s", flush=True)

                # the bank says it is online, then leaves (its session and subscription stay)
                bank = ReturningBank(port)
                bank.start()
                time.sleep(1)
                bank.close()
                time.sleep(1)

                court = _court(port, var / "units", resend_after)
                court.start()
                t0 = time.perf_counter()
                sender = threading.Thread(target=lambda: [court.send(raw) for raw in backlog], daemon=True)
                sender.start()
                answered = _wait(lambda: not sender.is_alive() and _unanswered(court) == 0, 900)
                served_s = time.perf_counter() - t0
                sent = {s.document_id: s for s in court.store.sent()}
                resends = sum(max(0, sent[i].attempts - 1) for i in ids if i in sent)
                print(
                    f"backlog: {notices} notices served in {served_s:.1f} s ({notices / served_s:,.0f}/s),"
                    f" court resends {resends}{'' if answered else ' (NOT all answered)'}",
                    flush=True,
                )
                time.sleep(2)  # the offline bank's deliveries settle at the broker

                bank = ReturningBank(port, bank_ms)
                start = bank.start()
                # (only the backlog's notices: the flat-out run may leave deliveries unacknowledged)
                drained = _wait(lambda: sum(1 for i in ids if i in bank.arrived) >= notices, 900)
                with bank.lock:
                    end = max(bank.arrived.values(), default=start)
                    got = sum(1 for i in ids if i in bank.arrived)
                drain_s = end - start
                print(f"drain: {got} of {notices} in {drain_s:.1f} s ({got / drain_s:,.0f}/s)", flush=True)
                time.sleep(3)  # late redeliveries, if any, are counted too
                whole = machine.stop()
                received = bank.received
                bank.close()
                court.stop()
            finally:
                hub.terminate()
                hub.wait(120)
            engine = create_engine(config.ledger.url)
            with engine.connect() as conn:
                attempts = conn.execute(
                    select(func.coalesce(func.sum(deliveries.c.attempts), 0)).where(
                        deliveries.c.recipient == BANK, deliveries.c.document_id.in_(ids)
                    )
                ).scalar()
                duplicates = conn.execute(select(func.count()).where(audit.c.action == "duplicate")).scalar()
            engine.dispose()
            report = Ledger(config.ledger.url).verify()
        finally:
            mosquitto.stop()
    per_notice = int(attempts or 0) / notices
    drain_rate = got / drain_s if drain_s > 0 else 0.0
    result = {
        "machine": machine_info(),
        "code_under_test": str(CODE_ROOT),
        "notices": notices,
        "flat_out_documents": flat,
        "court_resend_after_s": resend_after,
        "hub_ack_timeout_s": ack_timeout,
        "bank_ms_per_message": bank_ms,
        "hub_flat_out_per_s": round(flat_out["rate"]),
        "backlog_served_s": round(served_s, 1),
        "backlog_served_per_s": round(notices / served_s),
        "all_answered": answered,
        "court_resends": resends,
        "court_resend_share": round(resends / notices, 4),
        "drain_s": round(drain_s, 1),
        "drain_per_s": round(drain_rate),
        "drained_all": drained and got == notices,
        "drain_over_flat_out": round(drain_rate / flat_out["rate"], 3),
        "bank_messages_received": received,
        "deliveries_per_notice": round(per_notice, 3),
        "duplicates_at_hub": int(duplicates or 0),
        "machine_busy_share": whole["busy_share"],
        "ledger_intact": report.ok,
        "targets": TARGETS,
    }
    result["meets_targets"] = (
        result["drain_over_flat_out"] >= TARGETS["drain_over_flat_out"]
        and result["deliveries_per_notice"] <= TARGETS["deliveries_per_notice"]
        and result["court_resend_share"] <= TARGETS["court_resend_share"]
        and result["drained_all"]
    )
    _record(result, label)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notices", type=int, default=5000)
    parser.add_argument("--flat", type=int, default=None, help="documents of the flat-out run (default min(notices, 2000))")
    parser.add_argument("--resend-after", type=float, default=30.0, help="the court's resend_after_seconds")
    parser.add_argument("--ack-timeout", type=float, default=30.0, help="the hub's delivery.ack_timeout_seconds")
    parser.add_argument("--bank-ms", type=float, default=0.0, help="the returning bank's work per message, ms (a unit's pace)")
    parser.add_argument("--label", default="after", help="the key of bench/results/backlog.json to write (before, after)")
    parser.add_argument("--quick", action="store_true", help="1,000 notices")
    args = parser.parse_args()
    result = run(
        quick=args.quick,
        notices=None if args.quick else args.notices,
        flat=args.flat,
        resend_after=args.resend_after,
        ack_timeout=args.ack_timeout,
        bank_ms=args.bank_ms,
        label=args.label,
    )
    print(json.dumps(result, indent=2, ensure_ascii=False))


def _record(result: dict[str, Any], label: str) -> None:
    """Keep the before and after records side by side in bench/results/backlog.json."""
    path = RESULTS / "backlog.json"  # beside this file, whichever code is under test
    record: dict[str, Any] = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    record[label] = result
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
