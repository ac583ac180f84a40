"""One flooding unit against two courts (issue 11, item 3), through a real Mosquitto.

    .venv/bin/python -m bench.flood [--flood 50000] [--seconds 20] [--rate 5] [--hub-root DIR]

What is measured, in one run:

- *alone*: two courts each publish sealed notices at a steady ``rate`` per second for
  ``seconds``; the hub (a separate process, two workers, SQLite ledger) checks, records and
  delivers them to the bank, and returns a sealed service receipt to each court. Service
  latency = publish → the court has its service receipt; p50/p99. Rate = notices served /
  (first publish → last service receipt).
- *flood*: the same load again, while a member unit (the public-security bureau's certificate,
  on its own ``out`` topic, as the ACL allows) publishes ``flood`` garbage payloads (512 random
  bytes) with QoS 1 as fast as one paho publisher manages here, starting two seconds in. The
  flood's rate is what the broker acknowledged (PUBACKs per second).
- during both: the hub's peak resident memory (its main process, and with its workers), the
  ledger's growth (audit entries, rejection rows, rejection_counts rows).

``--hub-root``: run the hub from another checkout (the code before a change) with this
benchmark's load, to measure before and after in the same way.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import yaml

from bench.common import machine_info, process_tree, write_result
from bench.hub_throughput import BANK, COURT, _REPLY, Receiver, _ID
from bench.verify_pipeline import build_document
from broker.documents import codec
from broker.documents.common import Officer
from broker.mosquitto import BrokerSettings, MosquittoProcess, free_port
from broker.parsing.hardened import parse
from broker.registry import load_registry
from broker.restamp import restamp
from broker.sandbox import EXAMPLE_CERTS, EXAMPLE_REGISTRY, hub_config
from broker.signing import DocumentSigner
from broker.transport import topics
from broker.transport.mqtt import tls_client

ROOT = Path(__file__).resolve().parents[1]
COURT2 = "11421022MB0000002J"
FLOODER = "11445300MB00000046"  # the public-security bureau's certificate
TARGET_P99_MS = 2000.0
TARGET_RATE_RATIO = 0.9
_COURT2_HEADER = {
    "sender": COURT2,
    "case_number": "（2026）鄂1022执45号",
    "officers": [Officer(name="张伟", phone="0716-5226011", credential_number="鄂1022执证0031")],
}


def seal(court: str, n: int) -> list[bytes]:
    """``n`` one-measure bank freeze notices (~5.9 KB signed) of ``court``, each with its own id."""
    signer = DocumentSigner.for_unit(EXAMPLE_CERTS / "units" / court)
    template = codec.from_element(parse(build_document()[0]))
    header = _COURT2_HEADER if court == COURT2 else {}
    return [signer.sign(restamp(template, **header)) for _ in range(n)]


class MemoryPeak:
    """Peak resident memory of a process and of its process tree, sampled every 0.2 s."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.main = 0
        self.tree = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def rss(pid: int) -> int:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        except OSError:
            pass
        return 0

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            self.main = max(self.main, self.rss(self.pid))
            self.tree = max(self.tree, sum(self.rss(p) for p in process_tree(self.pid)))

    def __enter__(self) -> "MemoryPeak":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


class Flooder:
    """One paho publisher sending garbage on its own ``out`` topic, QoS 1, flat out."""

    def __init__(self, port: int, n: int) -> None:
        self.n = n
        self.acked = 0
        self.done = threading.Event()
        self.client = tls_client(FLOODER, "127.0.0.1", port, certs=EXAMPLE_CERTS, clean_start=True, max_inflight=1000)
        self.client.on_publish = self._on_publish
        self.client.loop_start()
        while not self.client.is_connected():
            time.sleep(0.01)
        self.start = self.end = 0.0

    def _on_publish(self, *args: Any) -> None:
        self.acked += 1
        if self.acked >= self.n:
            self.end = time.perf_counter()
            self.done.set()

    def run(self) -> None:
        payloads = [os.urandom(512) for _ in range(64)]
        self.start = time.perf_counter()
        topic = topics.outbox(FLOODER)
        i = 0
        while i < self.n:
            if i - self.acked >= 2000:  # paced by the broker's PUBACKs, not by paho's memory
                time.sleep(0.001)
                continue
            if self.client.publish(topic, payloads[i % 64], qos=1).rc == 0:
                i += 1
            else:
                time.sleep(0.001)
        self.done.wait(600)

    @property
    def rate(self) -> float:
        return self.acked / ((self.end or time.perf_counter()) - self.start)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def steady(
    port: int, docs: dict[str, list[bytes]], rate: float, *, during: threading.Thread | None = None, wait: float = 600
) -> dict[str, Any]:
    """Each court publishes its ``docs`` at ``rate``/s; wait for every service receipt (at most
    ``wait`` seconds). ``during``: started two seconds in (the flood)."""
    bank = Receiver(BANK, port, _ID)
    courts = {code: Receiver(code, port, _REPLY) for code in docs}
    sent: dict[str, float] = {}
    lock = threading.Lock()

    def publish(code: str) -> None:
        start = time.perf_counter()
        for i, raw in enumerate(docs[code]):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            with lock:
                sent[_ID.search(raw).group(1).decode()] = time.perf_counter()  # type: ignore[union-attr]
            courts[code].client.publish(topics.outbox(code), raw, qos=1)

    threads = [threading.Thread(target=publish, args=(code,)) for code in docs]
    start = time.perf_counter()
    for t in threads:
        t.start()
    if during is not None:
        time.sleep(2)
        during.start()
    for t in threads:
        t.join()
    total = sum(len(d) for d in docs.values())
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline and sum(len(c.arrived) for c in courts.values()) < total:
        time.sleep(0.05)
    arrived = {k: v for c in courts.values() for k, v in c.arrived.items()}
    for r in (bank, *courts.values()):
        r.close()
    latencies = sorted((arrived[i] - t) * 1000 for i, t in sent.items() if i in arrived)
    end = max(arrived.values(), default=start)
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 10 else [float("nan")] * 99
    return {
        "_timed": [(t, (arrived[i] - t) * 1000) for i, t in sent.items() if i in arrived],
        "notices": total,
        "served": len(latencies),
        "served_per_s": round(len(latencies) / (end - start), 2) if latencies else 0.0,
        "offered_per_s": rate * len(docs),
        "latency_p50_ms": round(statistics.median(latencies), 1) if latencies else None,
        "latency_p99_ms": round(q[98], 1),
        "latency_max_ms": round(latencies[-1], 1) if latencies else None,
    }


def ledger_size(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as db:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        size = {"audit_entries": db.execute("SELECT count(*) FROM audit").fetchone()[0]}
        size["rejections"] = db.execute("SELECT count(*) FROM rejections").fetchone()[0]
        size["documents"] = db.execute("SELECT count(*) FROM documents").fetchone()[0]
        if "rejection_counts" in tables:
            size["rejection_count_rows"] = db.execute("SELECT count(*) FROM rejection_counts").fetchone()[0]
            size["payloads_counted"] = db.execute("SELECT coalesce(sum(count), 0) FROM rejection_counts").fetchone()[0]
    size["file_bytes"] = path.stat().st_size
    return size


def growth(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {k: after[k] - before.get(k, 0) for k in after}


def run(
    quick: bool = False, flood: int | None = None, seconds: float | None = None, rate: float = 5.0, hub_root: Path | None = None
) -> dict[str, Any]:
    """Run the benchmark and write bench/results/flood.json (``hub_root``: the hub's code from
    another checkout; the record then goes to flood-before.json)."""
    flood = flood or (10_000 if quick else 50_000)
    seconds = seconds or (10 if quick else 20)
    per_court = int(seconds * rate)
    root = (hub_root or ROOT).resolve()
    with tempfile.TemporaryDirectory(prefix="liandong-bench-") as tmp:
        var = Path(tmp)
        registry = load_registry(EXAMPLE_REGISTRY)
        broker = MosquittoProcess(registry, BrokerSettings.from_certs(EXAMPLE_CERTS, port=free_port(), data_dir=var / "broker")).start()
        try:
            print(f"sealing {4 * per_court + 40} notices ...", flush=True)
            alone_docs = {COURT: seal(COURT, per_court), COURT2: seal(COURT2, per_court)}
            flood_docs = {COURT: seal(COURT, per_court), COURT2: seal(COURT2, per_court)}
            warm = [{COURT: seal(COURT, 2), COURT2: seal(COURT2, 2)} for _ in range(10)]
            config = hub_config(registry.hub.code, port=broker.port, var=var / "hub", workers=2)
            config_path = var / "hub.yaml"
            data = config.model_dump(mode="json", by_alias=True)
            data["limits"] = config.limits.model_dump(mode="json", exclude_defaults=True)  # an older hub knows fewer
            config_path.write_text(yaml.safe_dump(data))
            ledger_path = Path(config.ledger.url.removeprefix("sqlite:///"))
            hub = subprocess.Popen(
                [sys.executable, "-m", "broker.cli.main", "hub", "run", "--config", str(config_path), "--log-level", "WARNING"],
                stdout=open(var / "hub.log", "ab"),
                stderr=subprocess.STDOUT,
                cwd=root,
                env={**os.environ, "PYTHONPATH": str(root)},
            )
            try:
                # Warm-up until the hub answers: it subscribes, its workers start (a document published
                # before the hub subscribed is lost: nobody was subscribed).
                for attempt in warm:
                    if steady(broker.port, attempt, 10, wait=15)["served"] == 4:
                        break
                else:
                    raise SystemExit(f"warm-up: the hub does not answer; see {var / 'hub.log'}")
                with MemoryPeak(hub.pid) as memory:
                    before = ledger_size(ledger_path)
                    alone = steady(broker.port, alone_docs, rate)
                    alone.pop("_timed")
                    after_alone = ledger_size(ledger_path)
                    print(f"alone: {json.dumps(alone)}", flush=True)
                alone_memory = {"hub_peak_rss_mib": round(memory.main / 2**20, 1), "hub_and_workers_peak_rss_mib": round(memory.tree / 2**20, 1)}
                flooder = Flooder(broker.port, flood)
                with MemoryPeak(hub.pid) as memory:
                    during = steady(broker.port, flood_docs, rate, during=threading.Thread(target=flooder.run, daemon=True))
                    flooder.done.wait(600)
                    # the hub has the flood's backlog to work through: wait until the ledger stops growing
                    last, stable_since, give_up = None, time.monotonic(), time.monotonic() + 600
                    while time.monotonic() - stable_since < 5 and time.monotonic() < give_up:
                        now_size = ledger_size(ledger_path)
                        if now_size != last:
                            last, stable_since = now_size, time.monotonic()
                        time.sleep(1)
                    after_flood = ledger_size(ledger_path)
                # the notices published while the flood was being sent
                window = sorted(ms for t, ms in during.pop("_timed") if flooder.start <= t <= (flooder.end or t))
                if len(window) > 10:
                    during["while_flooding"] = {
                        "notices": len(window),
                        "latency_p50_ms": round(statistics.median(window), 1),
                        "latency_p99_ms": round(statistics.quantiles(window, n=100)[98], 1),
                        "flood_seconds": round(flooder.end - flooder.start, 1),
                    }
                print(f"flood: {json.dumps(during)}", flush=True)
                flood_rate = flooder.rate
                flooder.close()
                print(f"flooder: {flooder.acked} garbage payloads acked by the broker at {flood_rate:,.0f}/s", flush=True)
            finally:
                hub.terminate()
                hub.wait(60)
        finally:
            broker.stop()
        result = {
            "machine": machine_info(),
            "hub_code": "after" if hub_root is None else f"before ({hub_root})",
            "workers": 2,
            "courts": 2,
            "notices_per_court": per_court,
            "flood_payloads": flood,
            "flood_payload_bytes": 512,
            "flood_acked_per_s": round(flood_rate),
            "alone": alone | alone_memory,
            "flood": during
            | {"hub_peak_rss_mib": round(memory.main / 2**20, 1), "hub_and_workers_peak_rss_mib": round(memory.tree / 2**20, 1)},
            "ledger_growth_alone": growth(before, after_alone),
            "ledger_growth_flood": growth(after_alone, after_flood),
        }
        a, f = alone, during
        result["summary"] = {
            "flood_p99_ms": f["latency_p99_ms"],
            "flood_rate_over_alone": round(f["served_per_s"] / a["served_per_s"], 3) if a["served_per_s"] else None,
            "meets_target": bool(
                f["served"] == f["notices"]
                and f["latency_p99_ms"] < TARGET_P99_MS
                and f["served_per_s"] >= TARGET_RATE_RATIO * a["served_per_s"]
            ),
            "target": f"courts' p99 < {TARGET_P99_MS:.0f} ms and rate >= {TARGET_RATE_RATIO:.0%} of alone during the flood",
        }
        write_result("flood" if hub_root is None else "flood-before", result)
        print(json.dumps({k: v for k, v in result.items() if k != "machine"}, indent=2, ensure_ascii=False))
        return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flood", type=int, default=50_000, help="garbage payloads the flooding unit sends")
    parser.add_argument("--seconds", type=float, default=20, help="seconds of steady load per phase")
    parser.add_argument("--rate", type=float, default=5.0, help="notices per second per court")
    parser.add_argument("--hub-root", type=Path, help="run the hub from this checkout (the code before a change)")
    parser.add_argument("--quick", action="store_true", help="10,000 payloads, 10 s (noisier)")
    args = parser.parse_args()
    run(quick=args.quick, flood=None if args.quick else args.flood, seconds=None if args.quick else args.seconds, rate=args.rate, hub_root=args.hub_root)


if __name__ == "__main__":
    main()
