"""What covering every evidence row by the chain costs the hub's ledger (issue 11, item 4).

    .venv/bin/python -m bench.ledger_coverage [--documents 2000] [--rounds 3]

The ledger work of the hub's pipeline thread per accepted document, through the Ledger API the
hub uses, on a SQLite ledger (synchronous FULL, as the hub runs it): in one transaction per batch
of 100, the document and its service receipt stored and chained, a deadline opened, two
deliveries queued; in a second transaction both acknowledged, chained and the pickup recorded.
Each notice has its own arrival time (its receipt, deadline and entries share it, as in the
hub); the acknowledgements of a batch share theirs. Measured with the row operations in their
compact encoding (as built, "with"), in the first encoding ("objects":
:mod:`broker.hub.ledger.coverage_v1`, objects with long keys, what the compact one replaced) and
without them (the row log replaced by one that records nothing: the ledger before the coverage),
batch by batch in the same run; CPU seconds of this process (the fsyncs' waiting is not CPU) and
wall time, the median per batch of 100. Also the file size per document and ``ledger verify``'s
time per document and peak memory (tracemalloc, a separate pass) on the finished ledgers (all
verified by today's code: "without" has no row operations to replay).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import tracemalloc
import uuid
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

from bench.common import machine_info, write_result
from broker.hub.ledger import DocumentRecord, Ledger, store
from broker.hub.ledger.coverage import RowLog
from broker.hub.ledger.coverage_v1 import ObjectRowLog
from broker.hub.ledger.store import DeadlineRecord

COURT, BANK, HUB = "11445300MB0000001W", "91445300MA5100003A", "12100000MB0000009G"
BATCH = 100
RAW = b"<AssistanceNotice>" + b"x" * 5000 + b"</AssistanceNotice>"  # the size of the example notice


class _NoRows(RowLog):
    """The ledger before the coverage: writes nothing into the chain."""

    def insert(self, *args: Any, **kw: Any) -> None:
        return None

    def set(self, *args: Any, **kw: Any) -> None:
        return None

    def increment(self, *args: Any, **kw: Any) -> None:
        return None

    def set_first(self, *args: Any, **kw: Any) -> None:
        return None


VARIANTS: dict[str, type[RowLog]] = {"without": _NoRows, "objects": ObjectRowLog, "with": RowLog}


@contextmanager
def _coverage(row_log: type[RowLog]) -> Iterator[None]:
    saved = store.RowLog
    store.RowLog = row_log  # type: ignore[misc]
    try:
        yield
    finally:
        store.RowLog = saved  # type: ignore[misc]


def _batch(ledger: Ledger, now: datetime) -> None:
    notices = []
    with ledger.transaction() as tx:
        for k in range(BATCH):
            arrived = now - timedelta(milliseconds=BATCH - k, microseconds=k)  # each notice its own time
            notice, receipt = str(uuid.uuid4()), str(uuid.uuid4())
            raw = RAW + notice.encode()
            record = DocumentRecord(
                document_id=notice, doc_type="AssistanceNotice", sender=COURT, recipient=BANK,
                case_number="（2026）粤53执123号", issued_at=arrived - timedelta(seconds=2), received_at=arrived, raw=raw, origin="unit",
                client_unit=COURT, signer_fingerprint="f" * 64, state="accepted", service_receipt_id=receipt,
            )  # fmt: skip
            tx.add_document(record)
            tx.audit("accepted", actor="f" * 64, client=COURT, document_id=notice, at=arrived, detail={
                "digest": record.digest, "type": "AssistanceNotice", "sender": COURT, "recipient": BANK,
                "received_at": arrived.isoformat(), "service_receipt": receipt, "hub": "bench",
            })  # fmt: skip
            tx.add_deadline(DeadlineRecord(
                document_id=notice, doc_type="AssistanceNotice", court=COURT, unit=BANK, unit_kind="bank",
                case_number=record.case_number, served_at=arrived, due_at=arrived + timedelta(days=3),
                original_due_at=arrived + timedelta(days=3), rule="bench", remind_at=arrived + timedelta(days=2),
                state="open",
            ))  # fmt: skip
            receipt_raw = b"<ServiceReceipt>" + b"r" * 2500 + receipt.encode() + b"</ServiceReceipt>"
            receipt_record = DocumentRecord(
                document_id=receipt, doc_type="ServiceReceipt", sender=HUB, recipient=COURT, in_reply_to=notice,
                issued_at=arrived, received_at=arrived, raw=receipt_raw, origin="hub", client_unit=HUB, state="issued",
            )  # fmt: skip
            tx.add_document(receipt_record)
            tx.audit("issued", actor="hub", client=COURT, document_id=receipt, at=arrived, detail={
                "digest": receipt_record.digest, "type": "ServiceReceipt", "in_reply_to": notice, "recipient": COURT,
            })  # fmt: skip
            tx.add_delivery(notice, BANK, f"liandong/v1/{BANK}/in")
            tx.add_delivery(receipt, COURT, f"liandong/v1/{COURT}/in")
            notices.append((notice, receipt))
    with ledger.transaction() as tx:
        for unit, ids in ((BANK, [n for n, _ in notices]), (COURT, [r for _, r in notices])):
            for document_id in tx.mark_acked(unit, ids, now):
                tx.audit("delivered", actor=unit, client=unit, document_id=document_id, at=now)
                tx.mark_picked_up(document_id, unit, now)


def _round(tmp: Path, i: int, documents: int) -> dict[str, dict[str, float]]:
    """One round: a fresh ledger per variant, their batches interleaved (the variant that goes
    first turns with each batch), so that the load of this shared machine falls on all alike;
    the CPU and wall time per document are the median over the batches."""
    ledgers: dict[str, Ledger] = {}
    for name, row_log in VARIANTS.items():
        with _coverage(row_log):
            ledgers[name] = Ledger(f"sqlite:///{tmp / f'{name}-{i}.db'}")
            ledgers[name].create_schema()
            _batch(ledgers[name], datetime.now(timezone.utc))  # warm-up: statements compiled, pool open
    cpu: dict[str, list[float]] = {name: [] for name in VARIANTS}
    wall: dict[str, list[float]] = {name: [] for name in VARIANTS}
    names = list(VARIANTS)
    for b in range(documents // BATCH):
        now = datetime.now(timezone.utc)
        for name in names[b % len(names) :] + names[: b % len(names)]:
            with _coverage(VARIANTS[name]):
                c, w = time.process_time(), time.perf_counter()
                _batch(ledgers[name], now)
                cpu[name].append(time.process_time() - c)
                wall[name].append(time.perf_counter() - w)
    n = documents + BATCH
    result = {}
    for name, ledger in ledgers.items():
        verify_start = time.perf_counter()
        report = ledger.verify()
        verify = time.perf_counter() - verify_start
        assert report.ok, report.problems[:5]
        tracemalloc.start()
        ledger.verify()
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        ledger.close()
        result[name] = {
            "cpu_ms_per_document": 1000 * statistics.median(cpu[name]) / BATCH,
            "wall_ms_per_document": 1000 * statistics.median(wall[name]) / BATCH,
            "kb_per_document": (tmp / f"{name}-{i}.db").stat().st_size / 1024 / n,
            "verify_ms_per_document": 1000 * verify / n,
            "audit_entries_per_document": report.entries / n,
            "verify_peak_mb": peak / 1024 / 1024,  # flat: the stream's buffers, not per document
        }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in VARIANTS}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.rounds):
            for name, measured in _round(Path(tmp), i, args.documents).items():
                runs[name].append(measured)
                print(name, {k: round(v, 3) for k, v in measured.items()}, flush=True)
    median = {name: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for name, rs in runs.items()}
    ratio = {k: median["with"][k] / median["without"][k] for k in median["with"]}
    before = {k: median["objects"][k] / median["without"][k] for k in median["objects"]}
    result = {
        "benchmark": "ledger_coverage",
        "documents": args.documents,
        "rounds": args.rounds,
        "median": median,
        "with_over_without": ratio,
        "objects_over_without": before,
        # per round (its variants ran interleaved, so these are the least disturbed by the load)
        "cpu_ratios_per_round": {
            name: [
                r["cpu_ms_per_document"] / w["cpu_ms_per_document"] for r, w in zip(runs[name], runs["without"])
            ]
            for name in ("objects", "with")
        },
        "runs": runs,
        "machine": machine_info(),
    }
    print("median", median)
    print("with / without", {k: round(v, 2) for k, v in ratio.items()})
    print("objects / without", {k: round(v, 2) for k, v in before.items()})
    per_round = result["cpu_ratios_per_round"]
    print("CPU ratios per round", {k: [round(x, 2) for x in v] for k, v in per_round.items()})
    print(write_result("ledger_coverage", result))


if __name__ == "__main__":
    main()
