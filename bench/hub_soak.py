"""The hub at half its rate for a long time (issue 16): does its memory stay flat, and how fast
does the ledger grow per document?

    .venv/bin/python -m bench.hub_soak [--minutes 30] [--rate N] [--workers 2]

The load of :mod:`bench.hub_throughput` (the court's ~5.9 KB bank freeze notices, each with its own
id, through a real Mosquitto; the hub a separate process with its workers and a SQLite ledger with
``synchronous=FULL``; plain paho receivers acknowledge deliveries and service receipts), paced at
``--rate`` documents a second, by default half the rate the hub reaches flat out measured first
in the same run (2,000 documents). The court's documents are sealed as the soak goes, in chunks of
100 by a process of their own a few chunks ahead (pre-sealing half an hour of them would not fit
in memory); that sealing shares the cores.

Every ``--sample`` seconds: documents published, delivered and receipted so far, the resident memory
(RSS) of the hub's main process and of its process tree (with the workers), and the ledger's size
on disk (the database and its WAL). Reported: RSS after the first five minutes (the hub warmed up:
its caches and the SQLite page cache filled) against RSS at the end (the target: at most 10 %
more), and the ledger's bytes per document over the run after those five minutes.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import tempfile
import time
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import yaml

from bench.common import machine_info, process_tree, write_result
from bench.flood import MemoryPeak
from bench.hub_throughput import (
    _ID,
    _REPLY,
    BANK,
    COURT,
    WARMUP,
    Receiver,
    drive,
    run_hub,
    seal_documents,
    wait_ready,
)
from bench.verify_pipeline import build_document
from broker.documents import codec
from broker.mosquitto import BrokerSettings, MosquittoProcess, free_port
from broker.parsing.hardened import parse
from broker.registry import load_registry
from broker.restamp import restamp
from broker.sandbox import EXAMPLE_CERTS, EXAMPLE_REGISTRY, hub_config
from broker.signing import DocumentSigner
from broker.transport import topics

WARM_MINUTES = 5.0
"""RSS is compared from this point on (the issue's "after the first five minutes")."""
CHUNK = 100
"""Documents the court seals at a time, ahead of publishing them."""


def _ledger_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*") if p.is_file())


def _tree_rss(pid: int) -> int:
    return sum(MemoryPeak.rss(p) for p in process_tree(pid))


def _seal_chunk(n: int) -> list[bytes]:
    """``n`` new documents sealed by the court (in the sealing process)."""
    global _signer, _template
    if _signer is None:
        _signer = DocumentSigner.for_unit(EXAMPLE_CERTS / "units" / COURT)
        _template = codec.from_element(parse(build_document()[0]))
    return [_signer.sign(restamp(_template)) for _ in range(n)]


_signer: DocumentSigner | None = None
_template: Any = None


class _Counter:
    """Which deliveries (bank) and service receipts (court) arrived, by document id (a delivery
    sent again by the hub's probe counts once); the receivers' dictionaries are emptied as they
    are counted, so that the ids are all the load generator keeps."""

    def __init__(self, bank: Receiver, court: Receiver) -> None:
        self.bank, self.court = bank, court
        self.sent: set[str] = set()
        self.seen: dict[str, set[str]] = {"delivered": set(), "receipted": set()}

    @property
    def delivered(self) -> int:
        """Documents of this soak delivered (not the warm-up's, which a probe may send again)."""
        return len(self.seen["delivered"] & self.sent)

    @property
    def receipted(self) -> int:
        return len(self.seen["receipted"] & self.sent)

    def poll(self) -> None:
        for receiver, attr in ((self.bank, "delivered"), (self.court, "receipted")):
            with receiver.lock:
                ids = list(receiver.arrived)
                receiver.arrived.clear()
                receiver.stamps.clear()
            self.seen[attr].update(ids)


def soak(port: int, hub_pid: int, ledger: Path, rate: float, minutes: float, sample: float) -> dict[str, Any]:
    """Publish at ``rate`` for ``minutes``, sealing as it goes; sample memory and ledger size."""
    sealer = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
    ahead = deque(sealer.submit(_seal_chunk, CHUNK) for _ in range(4))
    ahead[0].result()  # started and loaded
    bank = Receiver(BANK, port, _ID)
    court = Receiver(COURT, port, _REPLY)
    counter = _Counter(bank, court)
    samples: list[dict[str, float]] = []
    published = 0
    start = time.perf_counter()
    end = start + 60 * minutes
    next_sample = start
    try:
        while True:
            now = time.perf_counter()
            if now >= next_sample:
                counter.poll()
                samples.append(
                    {
                        "minute": round((now - start) / 60, 3),
                        "published": published,
                        "delivered": counter.delivered,
                        "receipted": counter.receipted,
                        "hub_rss_mib": round(MemoryPeak.rss(hub_pid) / 2**20, 1),
                        "hub_tree_rss_mib": round(_tree_rss(hub_pid) / 2**20, 1),
                        "ledger_bytes": _ledger_bytes(ledger),
                    }
                )
                next_sample += sample
            if now >= end:
                break
            docs = ahead.popleft().result()
            ahead.append(sealer.submit(_seal_chunk, CHUNK))
            for raw in docs:
                delay = start + published / rate - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                counter.sent.add(_ID.search(raw).group(1).decode())  # type: ignore[union-attr]
                court.client.publish(topics.outbox(COURT), raw, qos=1)
                published += 1
        publishing = time.perf_counter() - start
        # the last documents: wait (bounded) for their deliveries and receipts
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            counter.poll()
            if counter.delivered >= published and counter.receipted >= published:
                break
            time.sleep(0.2)
        counter.poll()
        samples.append(
            {
                "minute": round((time.perf_counter() - start) / 60, 3),
                "published": published,
                "delivered": counter.delivered,
                "receipted": counter.receipted,
                "hub_rss_mib": round(MemoryPeak.rss(hub_pid) / 2**20, 1),
                "hub_tree_rss_mib": round(_tree_rss(hub_pid) / 2**20, 1),
                "ledger_bytes": _ledger_bytes(ledger),
            }
        )
    finally:
        for r in (bank, court):
            r.close()
        sealer.shutdown(wait=False, cancel_futures=True)
    return {"published": published, "delivered": counter.delivered, "receipted": counter.receipted,
            "rate": published / publishing, "samples": samples}


def _after(samples: list[dict[str, float]], minute: float) -> dict[str, float]:
    """The first sample at or after ``minute`` (the last one if the run was shorter)."""
    return next((s for s in samples if s["minute"] >= minute), samples[-1])


def run(quick: bool = False, minutes: float | None = None, rate: float | None = None, workers: int = 2,
        sample: float = 10.0) -> dict[str, Any]:
    """Run the soak (``quick``: 2 minutes, RSS compared after the first one) and write its record."""
    minutes = minutes or (2.0 if quick else 30.0)
    warm = min(WARM_MINUTES, minutes / 2)
    with tempfile.TemporaryDirectory(prefix="liandong-bench-soak-") as tmp:
        var = Path(tmp)
        registry = load_registry(EXAMPLE_REGISTRY)
        broker = MosquittoProcess(registry, BrokerSettings.from_certs(EXAMPLE_CERTS, port=free_port(), data_dir=var / "broker")).start()
        try:
            health = free_port()
            config = hub_config(registry.hub.code, port=broker.port, var=var / "hub", workers=workers, health_port=health)
            config_path = var / "hub.yaml"
            config_path.write_text(yaml.safe_dump(config.model_dump(mode="json", by_alias=True)))
            ledger = var / "hub" / "ledger.db"
            hub = run_hub(config_path, var / "hub.log")
            try:
                wait_ready(health)  # the hub subscribes (a document before that is lost)
                drive(broker.port, seal_documents(WARMUP), None)
                flat = None
                if rate is None:
                    print("measuring the flat-out rate (2,000 documents) ...", flush=True)
                    flat = drive(broker.port, seal_documents(2000), None)["rate"]
                    rate = flat / 2
                print(f"soak at {rate:,.0f} documents/s for {minutes:g} minutes ...", flush=True)
                result = soak(broker.port, hub.pid, ledger, rate, minutes, sample)
            finally:
                hub.terminate()
                hub.wait(60)
        finally:
            broker.stop()
    samples = result.pop("samples")
    first, last = _after(samples, warm), samples[-1]
    documents = last["published"] - first["published"]
    record = {
        "machine": machine_info(),
        "minutes": minutes,
        "workers": workers,
        "flat_out_documents_per_s": round(flat) if flat else None,
        "rate_asked": round(rate, 1),
        **{k: round(v, 1) if isinstance(v, float) else v for k, v in result.items()},
        "lost": result["published"] - result["delivered"],
        "warm_minute": warm,
        "hub_tree_rss_mib_warm": first["hub_tree_rss_mib"],
        "hub_tree_rss_mib_end": last["hub_tree_rss_mib"],
        "hub_tree_rss_growth": round(last["hub_tree_rss_mib"] / first["hub_tree_rss_mib"] - 1, 3),
        "hub_rss_mib_warm": first["hub_rss_mib"],
        "hub_rss_mib_end": last["hub_rss_mib"],
        "hub_rss_growth": round(last["hub_rss_mib"] / first["hub_rss_mib"] - 1, 3),
        "hub_rss_mib_max_after_warm": max(s["hub_rss_mib"] for s in samples if s["minute"] >= first["minute"]),
        "ledger_bytes_per_document_after_warm": round((last["ledger_bytes"] - first["ledger_bytes"]) / documents)
        if documents else None,
        "ledger_bytes_per_document_overall": round(last["ledger_bytes"] / max(1, last["published"])),
        "samples": samples,
    }
    write_result("hub_soak", record)
    print(json.dumps({k: v for k, v in record.items() if k not in ("samples", "machine")}, indent=2))
    print("RSS (MiB, hub with workers) by minute:",
          ", ".join(f"{s['minute']:.0f}: {s['hub_tree_rss_mib']}" for s in samples[:: max(1, len(samples) // 15)]))
    return record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0, help="how long the soak runs (default 30)")
    parser.add_argument("--rate", type=float, default=None, help="documents/s (default: half the flat-out rate, measured first)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--sample", type=float, default=10.0, help="seconds between two samples")
    parser.add_argument("--quick", action="store_true", help="2 minutes")
    args = parser.parse_args()
    run(quick=args.quick, minutes=None if args.quick else args.minutes, rate=args.rate, workers=args.workers, sample=args.sample)


if __name__ == "__main__":
    main()
