"""Hub throughput with one and with two hub processes on one PostgreSQL ledger (issue 6,
"Scale-out"), and one hub on SQLite for reference, through a real Mosquitto.

    .venv/bin/python -m bench.hub_scaleout [--documents 3000] [--workers 2] [--repeats 3] [--quick]

The load is the one of :mod:`bench.hub_throughput` (its helpers are used as they are): pre-sealed
~7 KB documents published by a court at full speed; each hub checks, commits, acknowledges,
delivers to the police and returns a sealed service receipt to the court; plain paho receivers
acknowledge end to end. Throughput = documents / time until every delivery and every receipt
arrived. Each configuration gets a fresh broker and a fresh ledger (a new PostgreSQL schema, or a
new SQLite file); before the timed run, warm-up documents go out one by one until every hub of
the configuration has accepted one (so every hub is connected and subscribed). Configurations
take turns, each is run ``--repeats`` times, and the median is reported.

Configurations:

- ``sqlite_1``: one hub, SQLite ledger (the reference of bench.hub_throughput);
- ``pg_1``: one hub, PostgreSQL ledger;
- ``pg_2``: two hubs (registry instances a and b, a shared subscription), one PostgreSQL ledger,
  each with ``--workers`` checking processes;
- ``pg_2_half``: the same two hubs with half the workers each, i.e. as many checking processes in
  all as ``pg_1``: separates "a second hub" from "more processes".

And the ledger alone (``ledger_1``, ``ledger_2``): one or two processes writing what the hub writes
per document (the document and its service receipt, two deliveries, the audit entries of
acceptance, issue and both deliveries, the publish and acknowledgement updates), in batches of
100, into one PostgreSQL schema, with no checking and no MQTT: the ceiling that the chain-head
lock (every writing transaction of every hub takes it) puts on any number of hubs here.

Beside the rate, each run records where the CPU went (seconds of CPU per process group, read from
/proc: hubs with their workers, Mosquitto, PostgreSQL, this process = load generator and
receivers) and how busy the machine was, because everything shares the same cores.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import psycopg
import yaml
from psycopg import sql
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from bench.common import CpuMeter, MachineMeter, machine_busy, machine_info, write_result
from bench.hub_throughput import _ID, COURT, drive, run_hub, seal_documents
from bench.ledger_load import write_documents
from broker.hub.ledger import Ledger
from broker.hub.ledger.schema import audit
from broker.mosquitto import BrokerSettings, MosquittoProcess, free_port
from broker.registry import load_registry
from broker.sandbox import EXAMPLE_CERTS, EXAMPLE_REGISTRY, hub_config
from broker.transport import topics
from broker.transport.mqtt import tls_client

PG_URL = os.environ.get("LIANDONG_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
CONFIGS = ("sqlite_1", "pg_1", "pg_2", "pg_2_half")
WARMUP = 40  # warm-up documents (one goes out every 0.2 s until every hub has handled one)


# --- where the CPU goes ------------------------------------------------------------------------------


def _postmaster() -> int | None:
    """The local PostgreSQL server's main process (its tree holds every backend), if visible."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if argv and Path(argv[0].decode(errors="replace")).name == "postgres" and b"-D" in argv and ppid <= 1:
            return int(entry.name)
    return None




# --- the ledger alone ------------------------------------------------------------------------------------


def _ledger_writer(url: str, schema: str, documents: int, batch: int, seed: int) -> float:
    """Write ``documents`` as the hub would (see the module docstring); returns seconds taken."""
    ledger = Ledger(url, schema=schema, instance=f"writer-{seed}")
    start = time.perf_counter()
    write_documents(ledger, COURT, documents, batch)
    elapsed = time.perf_counter() - start
    ledger.close()
    return elapsed


def ledger_ceiling(writers: int, documents: int, batch: int = 100) -> dict[str, Any]:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with _Schema() as schema:
        probe = Ledger(PG_URL, schema=schema)
        probe.create_schema()
        with ProcessPoolExecutor(writers, mp_context=multiprocessing.get_context("spawn")) as pool:
            pool.submit(time.sleep, 0).result()  # the processes exist before the clock starts
            machine = MachineMeter()
            machine.start()
            start = time.perf_counter()
            futures = [
                pool.submit(_ledger_writer, PG_URL, schema, documents // writers, batch, i)
                for i in range(writers)
            ]
            for f in futures:
                f.result()
            elapsed = time.perf_counter() - start
            whole = machine.stop()
        intact = probe.verify().ok
        probe.close()
    return {
        "config": f"ledger_{writers}",
        "writers": writers,
        "documents": documents // writers * writers,
        "documents_per_s": round(documents // writers * writers / elapsed, 1),
        "ledger_intact": intact,
        "machine_busy_share": whole["busy_share"],
    }


# --- one configuration ---------------------------------------------------------------------------------


class _Schema:
    """A fresh PostgreSQL schema, dropped afterwards."""

    def __init__(self) -> None:
        self.name = f"bench_{uuid.uuid4().hex[:12]}"
        self._conninfo = PG_URL.replace("postgresql+psycopg://", "postgresql://")

    def __enter__(self) -> str:
        with psycopg.connect(self._conninfo, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(self.name)))
        return self.name

    def __exit__(self, *exc: object) -> None:
        with psycopg.connect(self._conninfo, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(self.name)))


def wait_ready(
    port: int, ledger: Ledger, hubs: set[str], warmup: list[bytes], procs: list[Any], timeout: float = 180.0
) -> int:
    """Publish warm-up documents one by one (round and round) until each of ``hubs`` has handled
    one (accepted it, or seen it as a duplicate); returns how many went out. A document published
    before any hub subscribed is dropped by the broker, hence the loop."""
    court = tls_client(COURT, "127.0.0.1", port, certs=EXAMPLE_CERTS, clean_start=True, session_expiry=0)
    court.loop_start()
    deadline = time.monotonic() + timeout
    n = 0
    try:
        while time.monotonic() < deadline:
            if any(p.poll() is not None for p in procs):
                raise RuntimeError("a hub exited during the warm-up (see its log)")
            court.publish(topics.outbox(COURT), warmup[n % len(warmup)], qos=1)
            n += 1
            time.sleep(0.2)
            try:
                with ledger.engine.connect() as conn:
                    details = (
                        conn.execute(
                            select(audit.c.detail).where(audit.c.action.in_(("accepted", "duplicate")))
                        )
                        .scalars()
                        .all()
                    )
            except DBAPIError:  # no tables yet: no hub has started
                continue
            if hubs <= {json.loads(d).get("hub") for d in details}:
                time.sleep(1.0)  # the last receipts go to the closed court session, not to drive()'s
                return n
        raise RuntimeError(
            f"not every hub of {sorted(hubs)} handled a warm-up document within {timeout:.0f} s"
        )
    finally:
        court.disconnect()
        court.loop_stop()


def run_config(
    name: str, docs: list[bytes], warmup: list[bytes], workers: int, var: Path, chains: str | None = None
) -> dict[str, Any]:
    """One configuration; ``chains``: the hubs' ``ledger.chains`` (bench.ledger_chains)."""
    registry = load_registry(EXAMPLE_REGISTRY)
    var.mkdir(parents=True)
    two = name.startswith("pg_2")
    per_hub = max(1, workers // 2) if name == "pg_2_half" else workers
    instances: list[str | None] = list(registry.hub.instances[:2]) if two else [None]
    broker = MosquittoProcess(
        registry, BrokerSettings.from_certs(EXAMPLE_CERTS, port=free_port(), data_dir=var / "broker")
    ).start()
    procs = []
    schema_cm = _Schema() if name != "sqlite_1" else None
    try:
        schema = schema_cm.__enter__() if schema_cm else None
        url = PG_URL if schema else f"sqlite:///{var / 'ledger.db'}"
        for instance in instances:
            extra: dict[str, Any] = (
                {"instance": instance, "broker": {"shared_group": "bench"}} if instance else {}
            )
            config = hub_config(
                registry.hub.code,
                port=broker.port,
                var=var / f"hub-{instance or 'single'}",
                workers=per_hub,
                ledger_url=url,
                ledger_schema=schema,
                **extra,
            )
            if chains is not None:
                config = config.model_copy(update={"ledger": config.ledger.model_copy(update={"chains": chains})})
            path = var / f"hub-{instance or 'single'}.yaml"
            path.write_text(yaml.safe_dump(config.model_dump(mode="json", by_alias=True)))
            procs.append(run_hub(path, var / f"hub-{instance or 'single'}.log"))
        try:
            expected = {registry.hub.instance_identity(i) if i else registry.hub.code for i in instances}
            probe = Ledger(url, schema=schema)
            try:
                wait_ready(broker.port, probe, expected, warmup, procs)
            finally:
                probe.close()
            roots = {f"hub_{i or 'single'}": proc.pid for i, proc in zip(instances, procs)}
            roots.update(mosquitto=broker.pid or 0, load_generator_and_receivers=os.getpid())
            postmaster = _postmaster() if schema else None
            if postmaster:
                roots["postgresql"] = postmaster
            meter, machine = CpuMeter(roots, alone=("load_generator_and_receivers",)), MachineMeter()
            meter.start()
            machine.start()
            flat = drive(broker.port, docs, None)
            used, whole = meter.stop(), machine.stop()
        finally:
            for p in procs:
                p.terminate()
            for p in procs:
                p.wait(60)
        ledger = Ledger(url, schema=schema)
        try:
            report = ledger.verify()
            with ledger.engine.connect() as conn:
                rows = conn.execute(
                    select(audit.c.action, audit.c.document_id, audit.c.detail).where(
                        audit.c.action.in_(("accepted", "duplicate"))
                    )
                ).all()
        finally:
            ledger.close()
    finally:
        if schema_cm:
            schema_cm.__exit__(None, None, None)
        broker.stop()
    timed = {m.group(1).decode() for m in map(_ID.search, docs) if m}
    accepted = [
        (r.document_id, json.loads(r.detail).get("hub"))
        for r in rows
        if r.action == "accepted" and r.document_id in timed
    ]
    per_id = Counter(d for d, _ in accepted)
    return {
        "config": name,
        "hubs": len(instances),
        "workers_per_hub": per_hub,
        "documents": len(docs),
        "delivered": flat["delivered"],
        "documents_per_s": round(flat["rate"], 1),
        "flat_out_p50_ms": round(flat["p50_ms"], 1),
        "flat_out_p99_ms": round(flat["p99_ms"], 1),
        "accepted_per_hub": dict(Counter(h for _, h in accepted)),
        "accepted_more_than_once": sum(1 for n in per_id.values() if n > 1),
        "duplicates": sum(1 for r in rows if r.action == "duplicate" and r.document_id in timed),
        "ledger_entries": report.entries,
        "ledger_intact": report.ok,
        "wall_s": whole["wall_s"],
        "cpu_s": used,
        "cpu_s_other_processes": round(max(0.0, whole["busy_cpu_s"] - sum(used.values())), 2),
        "machine_busy_share": whole["busy_share"],
        "machine_steal_share": whole["steal_share"],
    }


def run(
    quick: bool = False, documents: int | None = None, workers: int = 2, repeats: int | None = None
) -> dict[str, Any]:
    documents = documents or (800 if quick else 3000)
    repeats = repeats or (1 if quick else 3)
    idle_check = machine_busy()
    print(f"machine busy before the runs (other load): {100 * idle_check:.0f} %", flush=True)
    if idle_check > 0.15:
        print(
            "WARNING: the machine is busy with something else; the numbers will be lower and noisier",
            flush=True,
        )
    print(f"sealing {documents + WARMUP} documents ...", flush=True)
    sealed = seal_documents(documents + WARMUP)
    warmup, docs = sealed[:WARMUP], sealed[WARMUP:]
    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="liandong-scaleout-") as tmp:
        for rep in range(repeats):
            order = CONFIGS if rep % 2 == 0 else tuple(reversed(CONFIGS))  # take turns
            for name in order:
                result = run_config(name, docs, warmup, workers, Path(tmp) / f"{name}-{rep}")
                runs.append(result)
                print(
                    f"  {name:10} run {rep + 1}: {result['documents_per_s']:7.1f} documents/s"
                    f"  (per hub {result['accepted_per_hub']}, machine busy {100 * result['machine_busy_share']:.0f} %,"
                    f" CPU s {result['cpu_s']}, other processes {result['cpu_s_other_processes']})",
                    flush=True,
                )
            for writers in (1, 2):
                result = ledger_ceiling(writers, documents)
                runs.append(result)
                print(
                    f"  ledger_{writers}   run {rep + 1}: {result['documents_per_s']:7.1f} documents/s"
                    f"  (ledger only, {writers} writer process(es), machine busy {100 * result['machine_busy_share']:.0f} %)",
                    flush=True,
                )
    summary: dict[str, Any] = {}
    for name in (*CONFIGS, "ledger_1", "ledger_2"):
        mine = [r for r in runs if r["config"] == name]
        rates = [r["documents_per_s"] for r in mine]
        summary[name] = {
            "median_documents_per_s": round(statistics.median(rates), 1),
            "runs_documents_per_s": rates,
            "median_machine_busy_share": round(statistics.median(r["machine_busy_share"] for r in mine), 3),
            "all_ledgers_intact": all(r["ledger_intact"] for r in mine),
        }
        if name in CONFIGS:
            hub_cpu = [
                sum(v for k, v in r["cpu_s"].items() if k.startswith("hub_")) / r["documents"] for r in mine
            ]
            pg_cpu = [r["cpu_s"].get("postgresql", 0.0) / r["documents"] for r in mine]
            summary[name].update(
                median_hub_cpu_ms_per_document=round(1000 * statistics.median(hub_cpu), 2),
                median_postgresql_cpu_ms_per_document=round(1000 * statistics.median(pg_cpu), 2),
                all_delivered=all(r["delivered"] == r["documents"] for r in mine),
                no_document_accepted_twice=all(r["accepted_more_than_once"] == 0 for r in mine),
            )
    base = summary["pg_1"]["median_documents_per_s"]
    record = {
        "machine": machine_info(),
        "pg_url": PG_URL,
        "documents": documents,
        "workers": workers,
        "repeats": repeats,
        "machine_busy_before_runs": idle_check,
        "summary": summary,
        "two_hubs_over_one_pg": round(summary["pg_2"]["median_documents_per_s"] / base, 3),
        "two_hubs_half_workers_over_one_pg": round(summary["pg_2_half"]["median_documents_per_s"] / base, 3),
        "one_pg_over_one_sqlite": round(base / summary["sqlite_1"]["median_documents_per_s"], 3),
        "ledger_two_writers_over_one": round(
            summary["ledger_2"]["median_documents_per_s"] / summary["ledger_1"]["median_documents_per_s"], 3
        ),
        "runs": runs,
    }
    write_result("hub_scaleout", record)
    print(json.dumps(summary, indent=2))
    return record


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--documents", type=int, default=None, help="documents per timed run (default 3000; 800 with --quick)"
    )
    parser.add_argument("--workers", type=int, default=2, help="checking processes per hub (pg_2_half: half)")
    parser.add_argument(
        "--repeats", type=int, default=None, help="runs per configuration (default 3; 1 with --quick)"
    )
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    run(quick=args.quick, documents=args.documents, workers=args.workers, repeats=args.repeats)


if __name__ == "__main__":
    main()
