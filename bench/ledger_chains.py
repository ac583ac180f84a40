"""The ledger of several chains (issue 16) on PostgreSQL: the ledger alone with 1, 2 and 4 writers
on one chain and on one chain each, and two hubs with chains against one hub, with the CPU per
document of each process group, so scaling can be read beyond this machine's cores.

    .venv/bin/python -m bench.ledger_chains [--documents 2000] [--hub-documents 2000] [--repeats 3] [--no-hubs]

**The ledger alone** (``single_N``, ``chains_N``): N writer processes write what the hub writes per
document (bench.hub_scaleout's ledger writer: the document and its service receipt, two
deliveries, four audit entries, the publish and acknowledgement updates), in batches of 100, into
a fresh PostgreSQL schema; no checking, no MQTT. ``single_N``: one chain (every transaction locks
its head first, as before issue 16). ``chains_N``: ``ledger.chains: court``, each writer a court of
its own, so each writes its own chain (and its acknowledgements its own ``hub:`` chain). Each run
records documents/s and the CPU seconds per document of the writers and of PostgreSQL (its
process tree, from /proc), and that the ledger verifies afterwards.

**Two hubs** (``hub_pg_1``, ``hub_pg_2``, ``hub_pg_2_chains``): bench.hub_scaleout's
configurations through a real Mosquitto, on documents of 16 cases (the example court seals them
all): one hub, two hubs on one chain, two hubs with ``ledger.chains: case``, each with its CPU per
document per process group (hubs with their workers, Mosquitto, PostgreSQL, the load generator).

Configurations take turns; each runs ``--repeats`` times; the median and the spread (min–max) are
reported, because other work shares the two cores.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.common import MachineMeter, machine_busy, machine_info, process_cpu_seconds, write_result
from bench.hub_scaleout import PG_URL, WARMUP, _Schema, run_config
from bench.ledger_load import write_documents
from broker.hub.ledger import Ledger

WRITERS = (1, 2, 4)
BATCH = 100


def _writer(schema: str, partition: str, court: str, documents: int, seed: int) -> tuple[float, float, float]:
    """Write ``documents`` as the hub would; returns (seconds taken, CPU seconds of this process,
    CPU seconds of its PostgreSQL backend)."""
    ledger = Ledger(PG_URL, schema=schema, instance=f"writer-{seed}", partition=partition)  # type: ignore[arg-type]
    cpu0, start = time.process_time(), time.perf_counter()
    write_documents(ledger, court, documents, BATCH)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu0
    # the backend this process wrote through (one thread, so the pool's one connection): its CPU
    # over its whole life, which began with this run's first transaction
    with ledger.engine.connect() as conn:
        backend = int(conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one())
    backend_cpu = process_cpu_seconds(backend)
    ledger.close()
    return elapsed, cpu, backend_cpu


def ledger_alone(writers: int, partition: str, documents: int) -> dict[str, Any]:
    per = documents // writers
    with _Schema() as schema:
        probe = Ledger(PG_URL, schema=schema, partition=partition)  # type: ignore[arg-type]
        probe.create_schema()
        with ProcessPoolExecutor(writers, mp_context=multiprocessing.get_context("spawn")) as pool:
            for f in [pool.submit(time.sleep, 0.2) for _ in range(writers)]:
                f.result()  # every process exists (and imported) before the clock starts
            machine = MachineMeter()
            machine.start()
            start = time.perf_counter()
            futures = [
                pool.submit(_writer, schema, partition, f"1144{i:014d}", per, i) for i in range(writers)
            ]
            results = [f.result() for f in futures]
            elapsed = time.perf_counter() - start
            whole = machine.stop()
        report = probe.verify()
        chains = len([n for n, (s, _) in report.heads.items() if s])
        probe.close()
    done = per * writers
    return {
        "config": f"{'single' if partition == 'single' else 'chains'}_{writers}",
        "writers": writers,
        "chains_written": chains,
        "documents": done,
        "documents_per_s": round(done / elapsed, 1),
        "writer_cpu_ms_per_document": round(1000 * sum(r[1] for r in results) / done, 3),
        # the writers' backends only (not WAL writer, checkpointer: shared with other work here)
        "postgresql_cpu_ms_per_document": round(1000 * sum(r[2] for r in results) / done, 3),
        "ledger_intact": report.ok,
        "machine_busy_share": whole["busy_share"],
    }


def seal_cases(n: int) -> list[bytes]:
    """``n`` of bench.hub_throughput's sealed notices, spread over 16 case numbers."""
    from bench.hub_throughput import COURT
    from bench.verify_pipeline import build_document
    from broker.documents import codec
    from broker.parsing.hardened import parse
    from broker.restamp import restamp
    from broker.sandbox import EXAMPLE_CERTS
    from broker.signing import DocumentSigner

    signer = DocumentSigner.for_unit(EXAMPLE_CERTS / "units" / COURT)
    template = codec.from_element(parse(build_document()[0]))
    year = datetime.now(UTC).year
    return [signer.sign(restamp(template, case_number=f"（{year}）粤53执{100 + i % 16}号")) for i in range(n)]


HUB_CONFIGS = (("hub_pg_1", "pg_1", None), ("hub_pg_2", "pg_2", None), ("hub_pg_2_chains", "pg_2", "case"))


def _spread(values: list[float]) -> dict[str, float]:
    return {"median": round(statistics.median(values), 3), "min": round(min(values), 3), "max": round(max(values), 3)}


def run(documents: int, hub_documents: int, repeats: int, hubs: bool, workers: int) -> dict[str, Any]:
    busy = machine_busy()
    print(f"machine busy before the runs (other load): {100 * busy:.0f} %", flush=True)
    runs: list[dict[str, Any]] = []
    sealed = seal_cases(hub_documents + WARMUP) if hubs else []
    warmup, docs = sealed[:WARMUP], sealed[WARMUP:]
    with tempfile.TemporaryDirectory(prefix="liandong-chains-") as tmp:
        for rep in range(repeats):
            plan = [(w, p) for w in WRITERS for p in ("single", "court")]
            for writers, partition in plan if rep % 2 == 0 else plan[::-1]:
                result = ledger_alone(writers, partition, documents)
                runs.append(result)
                print(f"  {result['config']:10} run {rep + 1}: {json.dumps({k: v for k, v in result.items() if k != 'config'})}", flush=True)
            for label, name, chains in HUB_CONFIGS if hubs else ():
                result = run_config(name, docs, warmup, workers, Path(tmp) / f"{label}-{rep}", chains=chains)
                result["config"] = label
                runs.append(result)
                print(
                    f"  {label:16} run {rep + 1}: {result['documents_per_s']:7.1f} documents/s, CPU s {result['cpu_s']},"
                    f" intact {result['ledger_intact']}, accepted twice {result['accepted_more_than_once']}",
                    flush=True,
                )
    summary: dict[str, Any] = {}
    for name in [f"{p}_{w}" for w in WRITERS for p in ("single", "chains")]:
        mine = [r for r in runs if r["config"] == name]
        summary[name] = {
            "documents_per_s": _spread([r["documents_per_s"] for r in mine]),
            "writer_cpu_ms_per_document": _spread([r["writer_cpu_ms_per_document"] for r in mine]),
            "postgresql_cpu_ms_per_document": _spread([r["postgresql_cpu_ms_per_document"] for r in mine]),
            "all_intact": all(r["ledger_intact"] for r in mine),
        }
    for label, _, _ in HUB_CONFIGS if hubs else ():
        mine = [r for r in runs if r["config"] == label]
        per_doc = {
            group: _spread([1000 * r["cpu_s"].get(group, 0.0) / r["documents"] for r in mine])
            for group in sorted({g for r in mine for g in r["cpu_s"]})
        }
        summary[label] = {
            "documents_per_s": _spread([r["documents_per_s"] for r in mine]),
            "cpu_ms_per_document": per_doc,
            "all_delivered": all(r["delivered"] == r["documents"] for r in mine),
            "none_accepted_twice": all(r["accepted_more_than_once"] == 0 for r in mine),
            "all_intact": all(r["ledger_intact"] for r in mine),
        }
    record = {
        "machine": machine_info(),
        "pg_url": PG_URL,
        "documents": documents,
        "hub_documents": hub_documents if hubs else None,
        "repeats": repeats,
        "machine_busy_before_runs": busy,
        "summary": summary,
        "runs": runs,
    }
    write_result("ledger_chains", record)
    print(json.dumps(summary, indent=2, ensure_ascii=False))
    return record


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--documents", type=int, default=2000, help="documents per ledger-alone run")
    parser.add_argument("--hub-documents", type=int, default=2000, help="documents per hub run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2, help="checking processes per hub")
    parser.add_argument("--no-hubs", action="store_true", help="the ledger alone only")
    args = parser.parse_args()
    run(args.documents, args.hub_documents, args.repeats, not args.no_hubs, args.workers)


if __name__ == "__main__":
    main()
