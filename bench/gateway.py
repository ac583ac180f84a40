"""The gateway against the Python CourtClient (issue 12), through the same real Mosquitto and hub
in the same run.

    .venv/bin/python -m bench.gateway [--documents 400] [--rounds 2] [--baseline DIR]

``--baseline DIR`` also runs, in every round, the gateway of another checkout (``DIR``, e.g.
the main branch's) on the same network: old and new code side by side in one run.

The court publishes the same one-measure bank freeze notice (tests/fixtures/gateway/freeze.json,
each copy with its own id and time), either

- *python*: in-process with :class:`broker.court.CourtClient` (the model sealed and published by
  the client; its ``wait_answer`` sees the service receipt), or
- *gateway*: as JSON POSTed over HTTP to ``liandong gateway run`` (a separate process: checks
  XSD and rules, seals, publishes), the service receipt seen as the ``served`` event of
  ``/v1/events/stream`` (Server-Sent Events) by the organisation's system, here this process.

Measured for each, in rounds that alternate python, gateway, python, ...:

- *rate*: ``documents`` sent flat out (python: 4 threads calling ``send``; gateway: 8 HTTP
  connections POSTing), documents per second = documents / (first send → last service receipt
  seen by the client);
- *latency*: ``documents // 2`` more at half the python client's flat-out rate, each from send
  (or POST) to the service receipt seen by the client; p50/p99.

The hub (a separate process, two workers, SQLite ledger), Mosquitto, the bank (a plain paho
receiver that acknowledges) and this process share the machine's cores: the ratio within the run
is what the result means (docs/performance.md).
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import yaml

from bench.common import CpuMeter, MachineMeter, machine_busy, machine_info, write_result
from bench.hub_throughput import BANK, COURT, Receiver, _ID, run_hub
from broker.court import CourtClient
from broker.documents.document import Document
from broker.mosquitto import BrokerSettings, MosquittoProcess, free_port
from broker.registry import load_registry
from broker.sandbox import EXAMPLE_CERTS, EXAMPLE_REGISTRY, hub_config, unit_config

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "gateway" / "freeze.json"
TARGET = 0.8
"""The gateway's flat-out rate over the Python client's (issue 12)."""
TOKEN = "bench-token-0123456789abcdef0123456789"
PY_SENDERS, HTTP_SENDERS = 4, 8


def notices(n: int) -> list[dict[str, Any]]:
    """``n`` copies of the fixture, each with its own id and the current time."""
    template = json.loads(FIXTURE.read_text(encoding="utf-8"))
    now = datetime.now(timezone(timedelta(hours=8))).isoformat(timespec="seconds")
    found = []
    for _ in range(n):
        doc = copy.deepcopy(template)
        document_id = str(uuid.uuid4())
        doc["Id"] = f"ld-{document_id}"
        doc["Header"].update(DocumentId=document_id, IssuedAt=now)
        found.append(doc)
    return found


def summary(sent: dict[str, float], served: dict[str, float], start: float) -> dict[str, Any]:
    latencies = sorted((served[i] - t) * 1000 for i, t in sent.items() if i in served)
    end = max(served.values(), default=start)
    q = statistics.quantiles(latencies, n=100) if len(latencies) >= 20 else [float("nan")] * 99
    return {
        "documents": len(sent),
        "served": len(latencies),
        "per_s": round(len(latencies) / (end - start), 1) if latencies else 0.0,
        "p50_ms": round(statistics.median(latencies), 1) if latencies else None,
        "p99_ms": round(q[98], 1),
    }


def per_document(cpu: dict[str, float], n: int) -> dict[str, float]:
    """CPU milliseconds per document of each measured process (this process also runs the bank's
    acknowledging receiver, in both modes)."""
    return {name: round(1000 * seconds / n, 2) for name, seconds in cpu.items()}


def paced(items: list[Any], rate: float | None, workers: int, one) -> float:  # type: ignore[no-untyped-def]
    """Call ``one(item)`` for each item, from ``workers`` threads, at ``rate`` per second (or flat
    out); the start time."""
    start = time.perf_counter()

    def task(i: int) -> None:
        if rate:
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
        one(items[i])

    with ThreadPoolExecutor(workers) as pool:
        for _ in pool.map(task, range(len(items))):
            pass
    return start


def wait_for_hub(broker: MosquittoProcess, hub: str, timeout: float = 120.0) -> None:
    """Until Mosquitto has logged the hub's connection, then 2 s for its subscription and workers:
    a document published before the hub subscribes is lost. A fixed 4 s wait was too short on a
    busy machine (the hub connected 9 s after start and the warm-up waited forever)."""
    assert broker.log_path is not None
    deadline = time.monotonic() + timeout
    while f"as {hub} " not in broker.log_path.read_text(encoding="utf-8", errors="replace"):
        if time.monotonic() > deadline:
            raise SystemExit(f"the hub did not connect within {timeout:.0f} s")
        time.sleep(0.2)
    time.sleep(2)


# --- the Python client ------------------------------------------------------------------------


def python_round(
    port: int, var: Path, flat: list[dict], slow: list[dict], slow_rate: float | None, shared: dict[str, int] | None = None
) -> dict[str, Any]:
    """Flat out, then paced at ``slow_rate`` (default: half of this round's flat-out rate);
    ``shared``: name → pid of the processes both modes use (hub, Mosquitto), whose CPU per
    document is recorded too."""
    config = unit_config(COURT, port=port, var=var)
    with CourtClient(config) as client:
        out: dict[str, Any] = {}
        for name, docs in (("flat_out", flat), ("paced", slow)):
            if not docs:
                continue
            rate = None if name == "flat_out" else slow_rate or out["flat_out"]["per_s"] / 2
            models = [Document.model_validate(d) for d in docs]
            sent: dict[str, float] = {}
            served: dict[str, float] = {}
            lock = threading.Lock()

            def one(model: Document) -> None:
                t0 = time.perf_counter()
                document_id = client.send(model)
                with lock:
                    sent[document_id] = t0
                if rate:  # paced: this thread waits for its own answer
                    if client.unit.wait_answer(document_id, 120) is not None:
                        with lock:
                            served[document_id] = time.perf_counter()

            workers = PY_SENDERS if rate is None else 64
            meter = CpuMeter({"this_process": os.getpid(), **(shared or {})}, alone=("this_process",))
            meter.start()
            start = paced(models, rate, workers, one)
            if rate is None:  # flat out: the answers in the order they come
                for document_id in list(sent):
                    if client.unit.wait_answer(document_id, 300) is not None:
                        served[document_id] = time.perf_counter()
                # wait_answer returns late for an answer that came while waiting for another: the
                # end (the last answer) is what the rate needs, and it is exact
            out[name] = summary(sent, served, start)
            out[name]["cpu_ms_per_document"] = per_document(meter.stop(), len(docs))
        return out


# --- the gateway -------------------------------------------------------------------------------


class Gateway:
    """``liandong gateway run`` for the court, and the organisation's side: HTTP POSTs and one
    Server-Sent Events reader that records when each document's ``served`` event arrives."""

    def __init__(self, port: int, var: Path, root: Path = ROOT):
        var.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        config = unit_config(COURT, port=port, var=var).model_dump(mode="json")
        config["http"] = {
            "port": self.port,
            "audit_log": str(var / "audit.jsonl"),
            "state": str(var / "gateway.db"),
            "tokens": [{"name": "bench", "sha256": hashlib.sha256(TOKEN.encode()).hexdigest(), "scopes": ["publish", "read"]}],
        }
        path = var / "gateway.yaml"
        path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "broker.cli.main", "gateway", "run", "--config", str(path), "--log-level", "WARNING"],
            stdout=open(var / "gateway.log", "ab"),
            stderr=subprocess.STDOUT,
            cwd=root,
            env={**os.environ, "PYTHONPATH": str(root)},  # that checkout's code, not this one's
        )
        self.served: dict[str, float] = {}
        self.lock = threading.Condition()
        self.local = threading.local()
        deadline = time.monotonic() + 60
        while True:
            try:
                if self._get("/healthz")["broker_connected"]:
                    break
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the gateway did not start; see {var / 'gateway.log'}")
            time.sleep(0.1)
        threading.Thread(target=self._read_events, daemon=True).start()

    def _conn(self) -> http.client.HTTPConnection:
        if getattr(self.local, "conn", None) is None:
            self.local.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        return self.local.conn

    def _get(self, path: str) -> Any:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request("GET", path, headers={"Authorization": f"Bearer {TOKEN}"})
            return json.loads(conn.getresponse().read())
        finally:
            conn.close()

    def post(self, body: bytes) -> str:
        headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
        try:
            conn = self._conn()
            conn.request("POST", "/v1/documents", body, headers)
            reply = conn.getresponse()
        except (http.client.RemoteDisconnected, ConnectionError):
            # the server closed an idle keep-alive connection (uvicorn: after 5 s): a new one; the
            # same document again is never published twice (its id), so the retry is safe
            self.local.conn = None
            conn = self._conn()
            conn.request("POST", "/v1/documents", body, headers)
            reply = conn.getresponse()
        data = json.loads(reply.read())
        if reply.status != 202:
            raise RuntimeError(f"POST answered {reply.status}: {data}")
        return data["document_id"]

    def _read_events(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        conn.request("GET", "/v1/events/stream?cursor=0", headers={"Authorization": f"Bearer {TOKEN}"})
        reply = conn.getresponse()
        kind = ""
        while True:
            line = reply.readline()
            if not line:
                return
            text = line.decode("utf-8").rstrip("\n")
            if text.startswith("event: "):
                kind = text[7:]
            elif text.startswith("data: ") and kind == "served":
                now = time.perf_counter()
                with self.lock:
                    self.served.setdefault(json.loads(text[6:])["document_id"], now)
                    self.lock.notify_all()

    def wait(self, document_id: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self.lock:
            while document_id not in self.served:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.lock.wait(left)
        return True

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(60)


def gateway_round(
    port: int,
    var: Path,
    flat: list[dict],
    slow: list[dict],
    slow_rate: float,
    root: Path = ROOT,
    shared: dict[str, int] | None = None,
) -> dict[str, Any]:
    gateway = Gateway(port, var, root)
    try:
        out: dict[str, Any] = {}
        for name, docs, rate in (("flat_out", flat, None), ("paced", slow, slow_rate)):
            bodies = [json.dumps(d, ensure_ascii=False).encode("utf-8") for d in docs]
            sent: dict[str, float] = {}
            lock = threading.Lock()

            def one(body: bytes) -> None:
                t0 = time.perf_counter()
                document_id = gateway.post(body)
                with lock:
                    sent[document_id] = t0
                if rate:
                    gateway.wait(document_id, 120)

            # gateway: its process and its workers (broker/gateway/preparing.py); gateway_main:
            # its own process alone, where the HTTP side and the receipts share one GIL
            meter = CpuMeter(
                {"gateway": gateway.proc.pid, "gateway_main": gateway.proc.pid, "this_process": os.getpid(), **(shared or {})},
                alone=("this_process", "gateway_main"),
            )
            meter.start()
            start = paced(bodies, rate, HTTP_SENDERS if rate is None else 64, one)
            for document_id in list(sent):
                gateway.wait(document_id, 300)
            with gateway.lock:
                out[name] = summary(sent, {i: gateway.served[i] for i in sent if i in gateway.served}, start)
            out[name]["cpu_ms_per_document"] = per_document(meter.stop(), len(docs))
        return out
    finally:
        gateway.stop()


def run(
    quick: bool = False, documents: int | None = None, rounds: int | None = None, baseline: Path | None = None
) -> dict[str, Any]:
    """Run the benchmark and write bench/results/gateway.json; with ``baseline``, the gateway of
    that checkout too, as ``gateway_baseline``."""
    documents = documents or (150 if quick else 400)
    rounds = rounds or (1 if quick else 2)
    busy_before = machine_busy()
    with tempfile.TemporaryDirectory(prefix="liandong-bench-") as tmp:
        var = Path(tmp)
        registry = load_registry(EXAMPLE_REGISTRY)
        broker = MosquittoProcess(registry, BrokerSettings.from_certs(EXAMPLE_CERTS, port=free_port(), data_dir=var / "broker")).start()
        bank = None
        try:
            config = hub_config(registry.hub.code, port=broker.port, var=var / "hub", workers=2)
            config_path = var / "hub.yaml"
            config_path.write_text(yaml.safe_dump(config.model_dump(mode="json", by_alias=True)))
            hub = run_hub(config_path, var / "hub.log")
            try:
                bank = Receiver(BANK, broker.port, _ID)
                wait_for_hub(broker, registry.hub.code)
                python_round(broker.port, var / "warm", notices(20), [], None)  # warm-up: not recorded
                results: dict[str, list[dict[str, Any]]] = {"python": [], "gateway": []}
                if baseline is not None:
                    results["gateway_baseline"] = []
                # where the rest of the machine's CPU goes, in both modes alike
                shared = {"hub": hub.pid, **({"mosquitto": broker.pid} if broker.pid else {})}
                machine = MachineMeter()
                machine.start()
                slow_rate = 0.0
                for r in range(rounds):
                    py = python_round(broker.port, var / f"py{r}", notices(documents), notices(documents // 2), slow_rate or None, shared)
                    slow_rate = slow_rate or py["flat_out"]["per_s"] / 2  # the same pace for every round
                    results["python"].append(py)
                    print(f"round {r + 1} python: {json.dumps(py)}", flush=True)
                    gw = gateway_round(
                        broker.port, var / f"gw{r}", notices(documents), notices(documents // 2), slow_rate, shared=shared
                    )
                    results["gateway"].append(gw)
                    print(f"round {r + 1} gateway: {json.dumps(gw)}", flush=True)
                    if baseline is not None:
                        old = gateway_round(
                            broker.port, var / f"gwb{r}", notices(documents), notices(documents // 2), slow_rate, baseline, shared
                        )
                        results["gateway_baseline"].append(old)
                        print(f"round {r + 1} gateway_baseline: {json.dumps(old)}", flush=True)
                whole = machine.stop()
            finally:
                hub.terminate()
                hub.wait(60)
        finally:
            if bank is not None:
                bank.close()
            broker.stop()

    def median(side: str, phase: str, key: str) -> float:
        return round(statistics.median(r[phase][key] for r in results[side]), 1)

    py_rate, gw_rate = median("python", "flat_out", "per_s"), median("gateway", "flat_out", "per_s")
    record = {
        "machine": machine_info(),
        "machine_busy_before": busy_before,
        "machine_during": whole,
        "documents_per_round": documents,
        "rounds": rounds,
        "paced_rate_per_s": round(slow_rate, 1),
        "rounds_detail": results,
        "python_documents_per_s": py_rate,
        "gateway_documents_per_s": gw_rate,
        "gateway_over_python": round(gw_rate / py_rate, 3) if py_rate else None,
        "target": TARGET,
        "meets_target": bool(py_rate and gw_rate / py_rate >= TARGET),
        "latency_ms": {
            side: {k: median(side, "paced", k) for k in ("p50_ms", "p99_ms")} for side in ("python", "gateway")
        },
    }
    if baseline is not None:
        old_rate = median("gateway_baseline", "flat_out", "per_s")
        record["baseline"] = str(baseline)
        record["gateway_baseline_documents_per_s"] = old_rate
        record["gateway_baseline_over_python"] = round(old_rate / py_rate, 3) if py_rate else None
        record["latency_ms"]["gateway_baseline"] = {k: median("gateway_baseline", "paced", k) for k in ("p50_ms", "p99_ms")}
    path = write_result("gateway", record)
    print(
        f"python {py_rate}/s, gateway {gw_rate}/s = {record['gateway_over_python']} of the client"
        f" ({'meets' if record['meets_target'] else 'BELOW'} the {TARGET} target); at {slow_rate:.0f}/s"
        f" p50/p99 python {record['latency_ms']['python']}, gateway {record['latency_ms']['gateway']}; {path}",
        flush=True,
    )
    if baseline is not None:
        print(
            f"baseline gateway ({baseline}) {record['gateway_baseline_documents_per_s']}/s ="
            f" {record['gateway_baseline_over_python']} of the client; p50/p99"
            f" {record['latency_ms']['gateway_baseline']}",
            flush=True,
        )
    return record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--documents", type=int)
    parser.add_argument("--rounds", type=int)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--baseline", type=Path, help="also run the gateway of this checkout (old code, same run)")
    args = parser.parse_args()
    run(args.quick, args.documents, args.rounds, args.baseline)


if __name__ == "__main__":
    main()
