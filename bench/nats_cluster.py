"""The hub's load through a three-node NATS cluster over MQTT 3.1.1 (issue 6, "Past one broker
node"), with raw paho QoS 1 through the same cluster, and the same measurements through one
Mosquitto (MQTT v5) in the same run for reference.

    .venv/bin/python -m bench.nats_cluster [--documents 4000] [--workers 2] [--quick] [--no-reference]

The load is the one of :mod:`bench.hub_throughput`, whose helpers are used as they are: pre-sealed
~5.9 KB bank freeze notices published by a court at full speed; the hub (a separate process, SQLite
ledger) checks, commits, acknowledges, delivers to the bank and returns a sealed service receipt to
the court; plain paho receivers acknowledge end to end. Throughput = documents / time until every
delivery and every receipt arrived; latency = publish → delivery at half that rate.

On the cluster the hub is connected to node 1, the court to node 2 and the bank to node 3, so every
document crosses the cluster twice (court → hub → bank) and every QoS 1 message is stored in a
JetStream stream replicated to all three nodes before it is acknowledged. Raw paho: 5 KB QoS 1
messages from one publisher to one subscriber across nodes (node 2 → node 1) and on one node, and
from four publishers (four units, on nodes 2 and 3) to one subscriber on node 1.

Everything runs on this machine: three NATS nodes (or Mosquitto), the hub and its workers and the
load generators share the cores, so the ratios within one run are what the results mean
(docs/performance.md). CPU seconds per process group are read from /proc during the flat-out runs.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import yaml

from bench.common import CpuMeter, machine_info, write_result
from bench.hub_throughput import COURT, drive, raw_paho_rate, run_hub, seal_documents
from broker.hub.ledger import Ledger
from broker.mosquitto import BrokerSettings, MosquittoProcess, free_port
from broker.nats import ClusterSettings, NatsCluster
from broker.nats.runner import nats_version, require_mqtt_support
from broker.registry import load_registry
from broker.sandbox import EXAMPLE_CERTS, EXAMPLE_REGISTRY, hub_config
from broker.transport import topics
from broker.transport.mqtt import tls_client

V311 = {"protocol": "3.1.1"}


def _hub_run(
    var: Path,
    broker: dict[str, Any],
    broker_pids: dict[str, int],
    docs: list[bytes],
    n: int,
    workers: int,
    court_port: int,
    bank_port: int,
    **mqtt: Any,
) -> dict[str, Any]:
    """Start a hub process with ``broker`` settings, drive ``n`` documents flat out and the rest at
    half that rate, stop it and verify its ledger."""
    registry = load_registry(EXAMPLE_REGISTRY)
    var.mkdir(parents=True, exist_ok=True)
    config = hub_config(registry.hub.code, port=broker["port"], var=var / "hub", workers=workers, broker=broker)
    config_path = var / "hub.yaml"
    config_path.write_text(yaml.safe_dump(config.model_dump(mode="json", by_alias=True)))
    hub = run_hub(config_path, var / "hub.log")
    try:
        time.sleep(4 if workers else 2)
        meter = CpuMeter({"hub": hub.pid, **broker_pids, "load": os.getpid()}, alone=("load", *broker_pids))
        meter.start()
        flat = drive(court_port, docs[:n], None, bank_port=bank_port, **mqtt)
        cpu = meter.stop()
        print(f"  hub, flat out: {flat['rate']:,.0f} documents/s ({flat['delivered']} delivered)", flush=True)
        half = drive(court_port, docs[n:], flat["rate"] / 2, bank_port=bank_port, **mqtt)
        print(
            f"  hub at half rate ({flat['rate'] / 2:,.0f}/s): p50 {half['p50_ms']:.1f} ms, p99 {half['p99_ms']:.1f} ms",
            flush=True,
        )
    finally:
        hub.terminate()
        hub.wait(60)
    report = Ledger(config.ledger.url).verify()
    cpu_ms = {k: round(1000 * v / n, 3) for k, v in cpu.items()}
    broker_ms = round(sum(cpu_ms[k] for k in broker_pids), 3)
    return {
        "hub_documents_per_s": round(flat["rate"]),
        "delivered": flat["delivered"],
        "half_rate": round(flat["rate"] / 2),
        "latency_p50_ms": round(half["p50_ms"], 1),
        "latency_p99_ms": round(half["p99_ms"], 1),
        # CPU milliseconds per document during the flat-out run, by process (tree); "broker" is
        # the sum over the broker's processes, "load" this process (court and receivers).
        "cpu_ms_per_document": {**cpu_ms, "broker": broker_ms},
        "ledger_entries": report.entries,
        "ledger_intact": report.ok,
    }


def fan_in_rate(pub_ports: list[int], sub_port: int, payload: bytes, n: int, **mqtt: Any) -> float:
    """``len(pub_ports)`` units publish ``n`` QoS 1 messages each on their ``out`` topics, at once,
    to one subscriber (the hub's identity, ``liandong/v1/+/out``): messages/s end to end."""
    registry = load_registry(EXAMPLE_REGISTRY)
    units = [u.code for u in registry.units if u.code != COURT][: len(pub_ports)]
    total, count, got = n * len(units), [0], threading.Event()

    def on_message(c, u, msg):  # type: ignore[no-untyped-def]
        count[0] += 1
        if count[0] == total:
            got.set()

    sub = tls_client(registry.hub.code, "127.0.0.1", sub_port, certs=EXAMPLE_CERTS, client_id="bench-fan-in", clean_start=True, **mqtt)
    ready = threading.Event()
    sub.on_connect = lambda c, u, f, rc, p: (c.subscribe(topics.all_units("out"), qos=1), ready.set())
    sub.on_message = on_message
    sub.loop_start()
    ready.wait(10)
    time.sleep(0.3)
    pubs = []
    for unit, port in zip(units, pub_ports):
        pub = tls_client(unit, "127.0.0.1", port, certs=EXAMPLE_CERTS, clean_start=True, max_inflight=1000, **mqtt)
        pub.loop_start()
        pubs.append(pub)
    while not all(p.is_connected() for p in pubs):
        time.sleep(0.01)
    start = time.perf_counter()
    for _ in range(n):
        for unit, pub in zip(units, pubs):
            pub.publish(topics.outbox(unit), payload, qos=1)
    got.wait(300)
    elapsed = time.perf_counter() - start
    for c in (*pubs, sub):
        c.disconnect()
        c.loop_stop()
    return count[0] / elapsed


def run(
    quick: bool = False, documents: int | None = None, workers: int = 2, raw_messages: int | None = None, reference: bool = True
) -> dict[str, Any]:
    """Run the benchmark (``quick``: 600 documents and 3,000 raw messages) and write its JSON record."""
    documents = documents or (600 if quick else 4000)
    raw_messages = raw_messages or (3000 if quick else 20000)
    registry = load_registry(EXAMPLE_REGISTRY)
    var = Path(tempfile.mkdtemp(prefix="liandong-bench-nats-"))
    try:
        print(f"sealing {documents * 3 // 2} documents ...", flush=True)
        docs = seal_documents(documents + documents // 2)
        size = sum(len(d) for d in docs) / len(docs)
        result: dict[str, Any] = {
            "machine": machine_info(),
            "nats_server": ".".join(map(str, nats_version(require_mqtt_support()))),
            "document_bytes": round(size),
            "documents": documents,
            "raw_messages": raw_messages,
            "workers": workers,
            # other work on the machine (tests of other sessions, say) shows in the load average
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        }

        print("three-node NATS cluster, MQTT 3.1.1:", flush=True)
        cluster = NatsCluster(registry, ClusterSettings.local(EXAMPLE_CERTS, var / "nats")).start()
        try:
            (_, p1), (_, p2), (_, p3) = cluster.endpoints
            raw_paho_rate(p2, docs[0], 500, sub_port=p1, **V311)  # warm-up: the first QoS 1 traffic creates the streams
            cross = raw_paho_rate(p2, docs[0], raw_messages, sub_port=p1, **V311)
            print(f"  raw paho QoS 1, node 2 → node 1: {cross:,.0f} msg/s", flush=True)
            same = raw_paho_rate(p1, docs[0], raw_messages, **V311)
            print(f"  raw paho QoS 1, on node 1: {same:,.0f} msg/s", flush=True)
            fan_in = fan_in_rate([p2, p3, p2, p3], p1, docs[0], raw_messages // 4, **V311)
            print(f"  raw paho QoS 1, four publishers → node 1: {fan_in:,.0f} msg/s", flush=True)
            pids = {f"nats_n{i + 1}": cluster.pid(i) or 0 for i in range(3)}
            broker = {"port": p1, "protocol": "3.1.1", "failover": [f"127.0.0.1:{p2}", f"127.0.0.1:{p3}"]}
            hub = _hub_run(var / "on-nats", broker, pids, docs, documents, workers, p2, p3, **V311)
            streams = _stream_summary(cluster)
        finally:
            cluster.stop()
        result["cluster"] = {
            "raw_paho_qos1_cross_node_msgs_per_s": round(cross),
            "raw_paho_qos1_one_node_msgs_per_s": round(same),
            "raw_paho_qos1_four_publishers_msgs_per_s": round(fan_in),
            **hub,
            "hub_vs_raw_paho_cross_node": round(hub["hub_documents_per_s"] / cross, 3),
            "mqtt_streams": streams,
        }

        if reference:
            print("one Mosquitto, MQTT v5 (reference, same run):", flush=True)
            mosquitto = MosquittoProcess(
                registry, BrokerSettings.from_certs(EXAMPLE_CERTS, port=free_port(), data_dir=var / "mosquitto")
            ).start()
            try:
                port = mosquitto.port
                raw = raw_paho_rate(port, docs[0], raw_messages)
                print(f"  raw paho QoS 1: {raw:,.0f} msg/s", flush=True)
                fan_in_ref = fan_in_rate([port] * 4, port, docs[0], raw_messages // 4)
                print(f"  raw paho QoS 1, four publishers: {fan_in_ref:,.0f} msg/s", flush=True)
                hub_ref = _hub_run(
                    var / "on-mosquitto", {"port": port}, {"mosquitto": mosquitto.pid or 0}, docs, documents, workers, port, port
                )
            finally:
                mosquitto.stop()
            result["mosquitto"] = {
                "raw_paho_qos1_msgs_per_s": round(raw),
                "raw_paho_qos1_four_publishers_msgs_per_s": round(fan_in_ref),
                **hub_ref,
            }
            result["cluster_over_mosquitto"] = {
                "raw_paho_one_publisher": round(cross / raw, 3),
                "raw_paho_four_publishers": round(fan_in / fan_in_ref, 3),
                "hub_documents_per_s": round(hub["hub_documents_per_s"] / hub_ref["hub_documents_per_s"], 3),
                "latency_p50": round(hub["latency_p50_ms"] / hub_ref["latency_p50_ms"], 2),
                "broker_cpu_per_document": round(
                    hub["cpu_ms_per_document"]["broker"] / max(hub_ref["cpu_ms_per_document"]["broker"], 0.001), 1
                ),
            }
    except BaseException:
        print(f"failed; configurations and logs (NATS nodes, hubs) kept in {var}", flush=True)
        raise
    shutil.rmtree(var, ignore_errors=True)
    result["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    write_result("nats_cluster", result)
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return result


def _stream_summary(cluster: NatsCluster) -> dict[str, Any]:
    """Replicas and leader of each MQTT stream, as node 1 reports them."""
    jsz = cluster.monitor(0, "/jsz?streams=true&config=true") or {}
    out: dict[str, Any] = {}
    for account in jsz.get("account_details") or []:
        for stream in account.get("stream_detail") or []:
            out[stream["name"]] = {
                "replicas": (stream.get("config") or {}).get("num_replicas"),
                "leader": (stream.get("cluster") or {}).get("leader"),
            }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=4000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--raw-messages", type=int, default=20000)
    parser.add_argument("--no-reference", action="store_true", help="skip the Mosquitto reference")
    parser.add_argument("--quick", action="store_true", help="600 documents, 3,000 raw messages (noisier)")
    args = parser.parse_args()
    run(
        quick=args.quick,
        documents=None if args.quick else args.documents,
        workers=args.workers,
        raw_messages=None if args.quick else args.raw_messages,
        reference=not args.no_reference,
    )


if __name__ == "__main__":
    main()
