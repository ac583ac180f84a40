"""Hub throughput and latency through a real Mosquitto (issue 3), with the baselines measured in
the same run: raw paho QoS 1 through the same broker, and bare signxml verification.

    .venv/bin/python -m bench.hub_throughput [--documents 4000] [--workers 2]

What is measured:

- raw paho: one publisher → Mosquitto (TLS, the project's config) → one subscriber, 5 KB, QoS 1;
- bare signxml verify of the same signed document (one core);
- the hub: pre-sealed ~5 KB documents published by a court at full speed; the hub (a separate
  process, SQLite ledger) checks, commits, acknowledges, delivers to the bank and returns a sealed
  service receipt to the court. Throughput = documents / time until every delivery and every
  receipt arrived. The receivers are plain paho clients that acknowledge to the hub (they do not
  verify: the hub is what is measured, and the machine has two cores for everything);
- latency: the same at half the measured maximum rate, publish → delivery to the bank, p50/p99,
  and where it goes: publish → the hub's reception (the ``ReceivedAt`` its service receipt
  attests), reception → delivery, and within the hub where a batch's time went (its oldest
  document): queued for a worker, checked, waiting for its transaction, written, handed to the
  broker, mean and p99 of each (the hub's ``/metrics`` histograms);
- CPU per document of the hub against bare verification's *CPU* per document (thread CPU time,
  so that what other processes take from the shared cores does not count against either).

Everything runs on this machine: broker, hub, its workers and the load generators share the
cores, so the ratios within one run are what the results mean (docs/performance.md).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from bench.common import CpuMeter, MachineMeter, machine_info, write_result
from bench.verify_pipeline import build_document
from broker.documents import codec
from broker.hub.ledger import Ledger
from broker.mosquitto import BrokerSettings, MosquittoProcess, free_port
from broker.parsing.hardened import parse
from broker.registry import load_registry
from broker.restamp import restamp
from broker.sandbox import EXAMPLE_CERTS, EXAMPLE_REGISTRY, hub_config
from broker.signing import DocumentSigner
from broker.transport import topics
from broker.transport.messages import encode_acks
from broker.transport.mqtt import tls_client

ROOT = Path(__file__).resolve().parents[1]
COURT = "11445300MB0000001W"
BANK = "91445300MA5100003A"
WARMUP = 40
"""Documents sent before the timed runs."""
LOAD_INFLIGHT = 100
"""The load's QoS 1 window. The broker acknowledges a publication at once, so 100 keeps the hub
busy; paho walks its whole window on every PUBACK, and with 1,000 the load generator, which
shares the hub's two cores, used a quarter more CPU per document."""
_ID = re.compile(rb"<ld:DocumentId>([0-9a-f-]{36})</ld:DocumentId>")
_REPLY = re.compile(rb"<ld:InReplyTo>([0-9a-f-]{36})</ld:InReplyTo>")
_RECEIVED = re.compile(rb"<ld:ReceivedAt>([^<]+)</ld:ReceivedAt>")


class Receiver:
    """A plain paho subscriber on a unit's inbox: records arrival times and acks to the hub."""

    def __init__(self, unit: str, port: int, key: re.Pattern[bytes], *, stamp: re.Pattern[bytes] | None = None, **mqtt: Any):
        self.unit = unit
        self.key = key
        self.stamp = stamp
        self.arrived: dict[str, float] = {}
        self.stamps: dict[str, bytes] = {}
        """``stamp``'s first group in the message with each key (the service receipt's ReceivedAt)."""
        self.lock = threading.Lock()
        self.pending: list[str] = []
        # One connection per unit: the broker makes the certificate's CN the client id, so a
        # second connection with the same certificate would take this one's session over.
        self.client = tls_client(unit, "127.0.0.1", port, certs=EXAMPLE_CERTS, session_expiry=3600, max_inflight=LOAD_INFLIGHT, **mqtt)
        self.ready = threading.Event()
        self.client.on_connect = lambda c, u, f, rc, p: (c.subscribe(topics.inbox(unit), qos=1), self.ready.set())
        self.client.on_message = self._on_message
        self.client.loop_start()
        self.ready.wait(10)
        self._stop = threading.Event()
        self._acking = threading.Thread(target=self._acker, daemon=True)
        self._acking.start()

    def _on_message(self, client, userdata, msg) -> None:  # type: ignore[no-untyped-def]
        now = time.perf_counter()
        m = self.key.search(msg.payload)
        doc_id = _ID.search(msg.payload).group(1).decode()  # type: ignore[union-attr]
        with self.lock:
            if m:
                self.arrived.setdefault(m.group(1).decode(), now)
                if self.stamp is not None and (s := self.stamp.search(msg.payload)):
                    self.stamps.setdefault(m.group(1).decode(), s.group(1))
            self.pending.append(doc_id)

    def _acker(self) -> None:
        while not self._stop.wait(0.05):
            self._send_acks()

    def _send_acks(self) -> list[Any]:
        with self.lock:
            ids, self.pending = self.pending, []
        return [
            self.client.publish(topics.acks(self.unit), encode_acks(ids[i : i + 1000]), qos=1)
            for i in range(0, len(ids), 1000)
        ]

    def close(self) -> None:
        """Acknowledge what arrived since the last acks, then go: unacknowledged, the hub would
        deliver those documents again during the next phase and count the work against it."""
        self._stop.set()
        self._acking.join(5)
        for info in self._send_acks():
            info.wait_for_publish(10)
        self.client.disconnect()
        self.client.loop_stop()


def seal_documents(n: int) -> list[bytes]:
    """``n`` copies of the verify benchmark's one-measure bank freeze notice (~5.9 KB signed),
    each with its own id and time, sealed by the court."""
    signer = DocumentSigner.for_unit(EXAMPLE_CERTS / "units" / COURT)
    template = codec.from_element(parse(build_document()[0]))
    return [signer.sign(restamp(template)) for _ in range(n)]


def raw_paho_rate(port: int, payload: bytes, n: int, *, sub_port: int | None = None, **mqtt: Any) -> float:
    """One publisher → broker → one subscriber, QoS 1, as the hub's own subscription sees it.
    ``sub_port``: the subscriber's port when it is another node's; ``mqtt``: more tls_client
    arguments (``protocol="3.1.1"``)."""
    got = threading.Event()
    count = [0]
    hub_code = load_registry(EXAMPLE_REGISTRY).hub.code

    def on_message(c, u, msg):  # type: ignore[no-untyped-def]
        count[0] += 1
        if count[0] == n:
            got.set()

    sub = tls_client(hub_code, "127.0.0.1", sub_port or port, certs=EXAMPLE_CERTS, client_id="bench-sub", clean_start=True, **mqtt)
    ready = threading.Event()
    sub.on_connect = lambda c, u, f, rc, p: (c.subscribe(topics.all_units("out"), qos=1), ready.set())
    sub.on_message = on_message
    sub.loop_start()
    ready.wait(10)
    time.sleep(0.3)
    pub = tls_client(COURT, "127.0.0.1", port, certs=EXAMPLE_CERTS, clean_start=True, max_inflight=1000, **mqtt)
    pub.loop_start()  # (the subscriber uses the hub's certificate: two identities, two sessions)
    while not pub.is_connected():
        time.sleep(0.01)
    start = time.perf_counter()
    for _ in range(n):
        pub.publish(topics.outbox(COURT), payload, qos=1)
    got.wait(300)
    elapsed = time.perf_counter() - start
    for c in (pub, sub):
        c.disconnect()
        c.loop_stop()
    return n / elapsed


def bare_verify_rate(raw: bytes, seconds: float = 3.0) -> float:
    """Bare signxml verifications per second of wall time, on one core."""
    return bare_verify_cost(raw, seconds)[0]


def bare_verify_cost(raw: bytes, seconds: float = 3.0) -> tuple[float, float]:
    """Bare signxml verification of ``raw`` on one core for ``seconds``: (verifications per second
    of wall time, CPU milliseconds per verification). The CPU time is this thread's own, so it
    holds on a machine whose other processes take turns on the same cores; the wall rate does not."""
    from signxml import SignatureConfiguration, XMLVerifier

    from broker.signing import load_certificate

    cert = load_certificate(EXAMPLE_CERTS / "units" / COURT / "sign.pem")
    config = SignatureConfiguration(location="./", expect_references=1)
    n, start, cpu = 0, time.perf_counter(), time.thread_time()
    while time.perf_counter() - start < seconds:
        XMLVerifier().verify(raw, x509_cert=cert, expect_config=config)
        n += 1
    return n / (time.perf_counter() - start), 1000 * (time.thread_time() - cpu) / n


def run_hub(config_path: Path, log: Path) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "broker.cli.main", "hub", "run", "--config", str(config_path), "--log-level", "WARNING"],
        stdout=open(log, "ab"),
        stderr=subprocess.STDOUT,
        cwd=ROOT,
    )
    return proc


def drive(
    port: int, docs: list[bytes], rate: float | None, *, bank_port: int | None = None, **mqtt: Any
) -> dict[str, float]:
    """Publish ``docs`` (at ``rate`` per second, or flat out); wait for every delivery and receipt.
    The court is on ``port``, the bank on ``bank_port`` (default: the same); ``mqtt``: more
    tls_client arguments (``protocol="3.1.1"``)."""
    sent: dict[str, float] = {}
    sent_wall: dict[str, float] = {}
    bank = Receiver(BANK, bank_port or port, _ID, **mqtt)
    court_in = Receiver(COURT, port, _REPLY, stamp=_RECEIVED, **mqtt)
    pub = court_in.client  # the court publishes and receives its service receipts on one session
    start = time.perf_counter()
    for i, raw in enumerate(docs):
        if rate:
            target = start + i / rate
            delay = target - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
        doc_id = _ID.search(raw).group(1).decode()  # type: ignore[union-attr]
        sent[doc_id], sent_wall[doc_id] = time.perf_counter(), time.time()
        pub.publish(topics.outbox(COURT), raw, qos=1)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        with bank.lock, court_in.lock:
            if len(bank.arrived) >= len(docs) and len(court_in.arrived) >= len(docs):
                break
        time.sleep(0.02)
    end = max(max(bank.arrived.values(), default=start), max(court_in.arrived.values(), default=start))
    latencies = sorted((bank.arrived[i] - t) * 1000 for i, t in sent.items() if i in bank.arrived)
    # Where it went: publish → the hub's reception (its receipt's ReceivedAt, wall clock to the
    # millisecond) and reception → delivery (the bank's arrival on the wall clock).
    offset = time.time() - time.perf_counter()
    to_hub, in_hub = [], []
    with court_in.lock, bank.lock:  # (a late duplicate may still arrive)
        stamps, arrived = dict(court_in.stamps), dict(bank.arrived)
    for i, stamp in stamps.items():
        if i in sent_wall and i in arrived:
            received = datetime.fromisoformat(stamp.decode()).timestamp()
            to_hub.append((received - sent_wall[i]) * 1000)
            in_hub.append((arrived[i] + offset - received) * 1000)
    for r in (bank, court_in):
        r.close()
    q = _percentiles(latencies)
    return {
        "documents": len(docs),
        "delivered": len(latencies),
        "rate": len(docs) / (end - start),
        "p50_ms": q[50],
        "p99_ms": q[99],
        "stages_ms": {
            "publish_to_reception": {f"p{k}": round(v, 1) for k, v in _percentiles(to_hub).items()},
            "reception_to_delivery": {f"p{k}": round(v, 1) for k, v in _percentiles(in_hub).items()},
        },
    }


def _percentiles(values: list[float]) -> dict[int, float]:
    """p50 and p99 (NaN for fewer than 100 values)."""
    if len(values) <= 100:
        return {50: statistics.median(values) if values else float("nan"), 99: float("nan")}
    q = statistics.quantiles(values, n=100)
    return {50: q[49], 99: q[98]}


def wait_ready(port: int, timeout: float = 120.0) -> None:
    """Wait until the hub's ``/readyz`` says ready (connected to the broker, so subscribed): on a
    busy machine its start takes longer than any fixed sleep, and a document published before
    its subscription is lost."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5).status == 200:
                time.sleep(0.5)  # its SUBSCRIBE is on the wire: let the broker take it
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the hub did not become ready")


_SERIES = re.compile(r'^liandong_hub_(\w+?)_(bucket|sum|count)(?:\{([^}]*)\})? (\S+)$', re.MULTILINE)
_HISTOGRAMS = {"commit_latency_seconds": "commit_latency", "check_batch_seconds": "checking", "batch_stage_seconds": None}


def hub_histograms(port: int) -> dict[str, dict[str, Any]]:
    """The hub's latency histograms from its ``/metrics`` (broker/hub/metrics.py), by series:
    ``{"sum": s, "count": n, "buckets": {le: cumulative count}}``; the stages of
    ``batch_stage_seconds`` are series of their own (queued, waiting, writing, publishing)."""
    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    out: dict[str, dict[str, Any]] = {}
    for name, part, labels, value in _SERIES.findall(body):
        if name not in _HISTOGRAMS:
            continue
        fields = dict(re.findall(r'(\w+)="([^"]*)"', labels))
        series = out.setdefault(_HISTOGRAMS[name] or fields.get("stage", "?"), {"sum": 0.0, "count": 0.0, "buckets": {}})
        if part == "bucket":
            series["buckets"][float(fields["le"])] = float(value)
        else:
            series[part] = float(value)
    return out


def histogram_stages_ms(before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Per series, the mean and the p99 (interpolated within its bucket, as Prometheus'
    ``histogram_quantile``) of the observations between two reads, in milliseconds."""
    out = {}
    for name, now in after.items():
        was = before.get(name, {"sum": 0.0, "count": 0.0, "buckets": {}})
        n = now["count"] - was["count"]
        if not n:
            continue
        buckets = sorted((le, c - was["buckets"].get(le, 0.0)) for le, c in now["buckets"].items())
        out[name] = {"mean": round(1000 * (now["sum"] - was["sum"]) / n, 1), "p99": round(1000 * _quantile(0.99, buckets), 1), "batches": int(n)}
    return out


def _quantile(q: float, buckets: list[tuple[float, float]]) -> float:
    total = buckets[-1][1]
    rank, lower, below = q * total, 0.0, 0.0
    for le, cumulative in buckets:
        if cumulative >= rank:
            if le == float("inf"):
                return lower  # beyond the last bound: its lower edge, as histogram_quantile
            return lower + (le - lower) * (rank - below) / max(cumulative - below, 1e-12)
        lower, below = le, cumulative
    return lower


def run(quick: bool = False, documents: int | None = None, workers: int = 2) -> dict[str, Any]:
    """Run the benchmark (``quick``: 600 documents instead of 4,000) and write its JSON record."""
    documents = documents or (600 if quick else 4000)
    with tempfile.TemporaryDirectory(prefix="liandong-bench-") as tmp:
        var = Path(tmp)
        registry = load_registry(EXAMPLE_REGISTRY)
        broker = MosquittoProcess(registry, BrokerSettings.from_certs(EXAMPLE_CERTS, port=free_port(), data_dir=var / "broker")).start()
        try:
            print(f"sealing {documents * 3 // 2} documents ...", flush=True)
            warmup, docs = WARMUP, seal_documents(WARMUP + documents + documents // 2)
            warm, docs = docs[:warmup], docs[warmup:]
            size = sum(len(d) for d in docs) / len(docs)
            paho = raw_paho_rate(broker.port, docs[0], 20000)
            print(f"raw paho QoS 1: {paho:,.0f} msg/s", flush=True)
            verify, verify_cpu_ms = bare_verify_cost(docs[0])
            print(f"bare signxml verify: {verify:,.0f}/s (one core), {verify_cpu_ms:.3f} ms CPU each", flush=True)

            health = free_port()
            config = hub_config(registry.hub.code, port=broker.port, var=var / "hub", workers=workers, health_port=health)
            config_path = var / "hub.yaml"
            config_path.write_text(yaml.safe_dump(config.model_dump(mode="json", by_alias=True)))
            hub = run_hub(config_path, var / "hub.log")
            try:
                wait_ready(health)  # the hub subscribes (a document before that is lost)
                # Warm-up: the worker processes start with the first documents (spawning, imports,
                # keys); that is start-up, not the cost per document.
                drive(broker.port, warm, None)
                roots = {"hub": hub.pid, "hub_main_process": hub.pid, "mosquitto": broker.pid or 0, "load": os.getpid()}
                meter, machine = CpuMeter(roots, alone=("load", "hub_main_process")), MachineMeter()
                meter.start()
                machine.start()
                flat = drive(broker.port, docs[: documents], None)
                cpu, whole = meter.stop(), machine.stop()
                print(f"hub, flat out: {flat['rate']:,.0f} documents/s ({flat['delivered']} delivered)", flush=True)
                before = hub_histograms(health)
                half = drive(broker.port, docs[documents :], flat["rate"] / 2)
                in_hub = histogram_stages_ms(before, hub_histograms(health))
                print(f"hub at half rate ({flat['rate'] / 2:,.0f}/s): p50 {half['p50_ms']:.1f} ms, p99 {half['p99_ms']:.1f} ms", flush=True)
            finally:
                hub.terminate()
                hub.wait(60)
            # Bare verification again, now that the hub has stopped: this machine's speed drifts
            # within a run (other guests on the host), so the baseline is the mean of before and
            # after, both kept in the record.
            verify_after, verify_cpu_after = bare_verify_cost(docs[0])
            print(f"bare signxml verify again: {verify_after:,.0f}/s, {verify_cpu_after:.3f} ms CPU each", flush=True)
            baseline = {"before": [round(verify), round(verify_cpu_ms, 3)], "after": [round(verify_after), round(verify_cpu_after, 3)]}
            verify, verify_cpu_ms = (verify + verify_after) / 2, (verify_cpu_ms + verify_cpu_after) / 2
            report = Ledger(config.ledger.url).verify()
        finally:
            broker.stop()
        result = {
            "machine": machine_info(),
            "document_bytes": round(size),
            "workers": workers,
            "raw_paho_qos1_msgs_per_s": round(paho),
            "bare_signxml_verify_per_s": round(verify),
            # [per second, CPU ms each] before the hub started and after it stopped; the figures
            # above and the ratios are their means
            "bare_signxml_verify_before_after": baseline,
            "hub_documents_per_s": round(flat["rate"]),
            "hub_vs_raw_paho": round(flat["rate"] / paho, 3),
            "hub_vs_bare_verify": round(flat["rate"] / verify, 3),
            "half_rate": round(flat["rate"] / 2),
            "latency_p50_ms": round(half["p50_ms"], 1),
            "latency_p99_ms": round(half["p99_ms"], 1),
            # where the half-rate latency goes: per document (p50/p99), and inside the hub the
            # means per batch (its /metrics histograms)
            "latency_stages_ms": {
                **half["stages_ms"],
                # inside the hub, per batch (its oldest document), from its /metrics histograms:
                # reception -> a worker (queued), the check, checked -> its transaction (waiting),
                # the transaction (writing), committed -> handed to the broker (publishing)
                "hub_batch_stages": {k: in_hub[k] for k in ("queued", "checking", "waiting", "writing", "publishing") if k in in_hub},
                "hub_reception_to_commit_of_oldest": in_hub.get("commit_latency"),
            },
            "bare_signxml_verify_cpu_ms": round(verify_cpu_ms, 3),
            # the hub's CPU per document (with its workers) against one bare verification's CPU
            "hub_cpu_vs_bare_verify_cpu": round(1000 * cpu["hub"] / documents / verify_cpu_ms, 2),
            # CPU milliseconds per document during the flat-out run, by process (tree): where the
            # two cores went. "load" is this process: the court publishing, the receivers acking.
            "cpu_ms_per_document": {k: round(1000 * v / documents, 3) for k, v in cpu.items()},
            # how much of the two cores the flat-out run used (1.0: both busy all the time)
            "machine_busy_share": whole["busy_share"],
            "ledger_entries": report.entries,
            "ledger_intact": report.ok,
        }
        write_result("hub_throughput", result)
        print(json.dumps(result, indent=2, ensure_ascii=False))
        return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=4000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="600 documents (noisier)")
    args = parser.parse_args()
    run(quick=args.quick, documents=None if args.quick else args.documents, workers=args.workers)


if __name__ == "__main__":
    main()
