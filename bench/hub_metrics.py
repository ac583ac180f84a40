"""What the hub's Prometheus metrics cost (issue 12), against bare signxml verification of one
document measured in the same run (the least the hub spends on a document).

    .venv/bin/python -m bench.hub_metrics [--quick]

What is measured, on a real :class:`broker.hub.service.Hub` (constructed, not connected: the
metrics' code paths need no broker):

- the pipeline thread's share: what :mod:`broker.hub.service` now does for the metrics, per
  document (the sender's kind looked up, a labelled count) and per commit (the labelled counts
  copied for a rollback, both histograms observed per batch, the queue sample's clock read),
  minus the same loop as it was before (the rollback copy, the plain count), in the same run,
  interleaved; with batches of 100 documents (``batch_size``'s default) and of 1 (the worst
  case: a trickle commits every document alone);
- a scrape: ``/metrics`` rendered with every document type × unit kind and every error code
  present (the most labels the hub can have), with the ledger reads it makes (cached).

The target: the pipeline's share under 1 % of one bare verification per document.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import machine_info, write_result
from bench.hub_throughput import bare_verify_rate, seal_documents
from broker.documents.catalogue import UnitKind
from broker.documents.document import BODY_TYPES
from broker.errors import CATALOGUE
from broker.hub.notices import received_now
from broker.hub.service import Hub
from broker.registry import load_registry
from broker.sandbox import EXAMPLE_REGISTRY, hub_config

COURT = "11445300MB0000001W"
TARGET = 0.01
"""The pipeline's metrics work per document, as a share of one bare verification."""


def pipeline_cost(hub: Hub, batch: int, documents: int, *, metrics: bool) -> float:
    """Seconds per document of the pipeline's bookkeeping with batches of ``batch``: with
    ``metrics``, as :mod:`broker.hub.service` does it now; without, as before the metrics (the
    rollback copy and the plain counts only). The difference is what the metrics add."""
    registry, hub_metrics = hub.registry, hub.metrics
    received = received_now()
    start = time.perf_counter()
    for _ in range(documents // batch):
        if not metrics:
            stats = dataclasses.replace(hub.stats)
            for _ in range(batch):
                stats.accepted += 1
            continue
        stats = hub.stats.copy()  # per commit: the labelled counts copied too
        for _ in range(batch):
            stats.accepted += 1
            sender = registry.unit(COURT)
            key = ("AssistanceNotice", sender.kind.value if sender else "unknown")
            stats.accepted_by[key] = stats.accepted_by.get(key, 0) + 1
        hub_metrics.batch_committed(received, 0.01)  # per batch
        hub_metrics.due()  # per step
    return (time.perf_counter() - start) / documents


def fill_labels(hub: Hub) -> int:
    """Every label the hub can have: the registry's document types × unit kinds, every code."""
    types = sorted(t.__name__ for t in BODY_TYPES)
    for t in types:
        for kind in UnitKind:
            hub.stats.accepted_by[(t, kind.value)] = 1
    hub.stats.rejected_by.update(dict.fromkeys(CATALOGUE, 1))
    return len(hub.stats.accepted_by) + len(hub.stats.rejected_by)


def scrape_cost(hub: Hub, scrapes: int) -> tuple[float, int]:
    """Median seconds to render /metrics, and its size in bytes."""
    times, size = [], 0
    for _ in range(scrapes):
        start = time.perf_counter()
        body = hub.metrics.render()
        times.append(time.perf_counter() - start)
        size = len(body)
    return statistics.median(times), size


def run(quick: bool = False) -> dict[str, Any]:
    documents = 20_000 if quick else 200_000
    rounds = 3 if quick else 5
    registry = load_registry(EXAMPLE_REGISTRY)
    with tempfile.TemporaryDirectory(prefix="liandong-bench-") as tmp:
        hub = Hub(hub_config(registry.hub.code, port=1, var=Path(tmp) / "hub"))
        try:
            sealed, seconds = seal_documents(1)[0], 2.0 if quick else 3.0
            verify_before = bare_verify_rate(sealed, seconds)
            per_doc = {}
            for b in (100, 1):
                rounds_ = [
                    pipeline_cost(hub, b, documents, metrics=True) - pipeline_cost(hub, b, documents, metrics=False)
                    for _ in range(rounds)
                ]  # interleaved, so that the machine's load weighs on both alike
                per_doc[f"batch_{b}"] = statistics.median(rounds_)
                print(f"metrics' added work on the pipeline, batches of {b}: {1e6 * per_doc[f'batch_{b}']:.2f} µs/document", flush=True)
            # before and after the pipeline's rounds: the machine is shared, its load changes
            verify = (verify_before + bare_verify_rate(sealed, seconds)) / 2
            print(f"bare signxml verify: {verify:,.0f}/s (one core)", flush=True)
            labels = fill_labels(hub)
            scrape, size = scrape_cost(hub, 50 if quick else 200)
            print(f"/metrics with {labels} labelled series: {1000 * scrape:.2f} ms, {size:,} bytes", flush=True)
        finally:
            hub.ledger.close()
    verify_s = 1 / verify
    result = {
        "machine": machine_info(),
        "bare_signxml_verify_per_s": round(verify),
        "pipeline_us_per_document": {k: round(1e6 * v, 3) for k, v in per_doc.items()},
        "pipeline_share_of_one_verify": {k: round(v / verify_s, 5) for k, v in per_doc.items()},
        "scrape_labelled_series": labels,
        "scrape_ms": round(1000 * scrape, 2),
        "scrape_bytes": size,
        "scrape_core_share_at_15s": round(scrape / 15, 6),
        "target_share": TARGET,
        "meets_target": all(v / verify_s < TARGET for v in per_doc.values()),
    }
    write_result("hub_metrics", result)
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds (noisier)")
    run(quick=parser.parse_args().quick)


if __name__ == "__main__":
    main()
