"""The hub's Prometheus metrics (``GET /metrics`` on ``health_port``), with ``prometheus_client``.

Cost on the pipeline thread, by design, next to nothing:

- counters are the counts the hub keeps anyway (:class:`broker.hub.pipeline_items.HubStats`, rolled
  back with a failed commit, so a retried write is not counted twice); they are read when
  Prometheus scrapes, by a collector, not incremented here;
- the histograms are observed once per committed *batch* (or step), not per document;
- queue lengths are sampled by the pipeline thread at most twice a second (reading them from
  the HTTP thread could catch a deque in the middle of a change);
- the ledger's size and the overdue deadlines are read by the scrape itself, from the ledger,
  at most once per second and once per supervision scan interval respectively.

Every metric lives in a :class:`~prometheus_client.CollectorRegistry` of the hub's own, so
several hubs in one process (tests) do not collide. Labels are bounded: document types, unit
kinds and error codes of the catalogue, never a document id or a unit's data.
docs/deployment.md ("Monitoring") lists the metrics.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from broker.hub.notices import received_now

if TYPE_CHECKING:
    from broker.hub.pipeline_items import Batch
    from broker.hub.service import Hub

log = logging.getLogger("liandong.hub")

PREFIX = "liandong_hub"

# From a fast commit (a few ms) to a backlog that waits minutes.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)
CHECK_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
STAGE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.02, 0.035, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0, 30.0)

STAGES = ("queued", "waiting", "writing", "publishing")
"""The stages of ``liandong_hub_batch_stage_seconds`` (the check itself is
``liandong_hub_check_batch_seconds``): reception → a worker, checked → its transaction begins,
the transaction, committed → handed to the broker."""

_SAMPLE_EVERY = 0.5  # seconds between two samples of the queues by the pipeline thread
_HEAD_EVERY = 1.0  # seconds a read of the ledger's size is reused


class _Cached:
    """A value read from the ledger, reused for ``every`` seconds (a scrape storm reads it once);
    a failed read keeps the last value (the ledger may be out of space: reads still work, but
    a scrape must never raise)."""

    def __init__(self, every: float) -> None:
        self.every = every
        self.value: float | None = None
        self._at = float("-inf")
        self._lock = threading.Lock()

    def get(self, read: Any) -> float | None:
        with self._lock:
            now = time.monotonic()
            if now - self._at >= self.every:
                self._at = now
                try:
                    self.value = float(read())
                except Exception:
                    log.warning("hub.metrics_read_failed", exc_info=True)
            return self.value


class HubMetrics:
    """The hub's registry: two histograms the pipeline observes, and a collector reading the
    hub's counts at scrape time. ``render()`` is the body of ``/metrics``."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self, hub: Hub) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.commit_latency = Histogram(
            f"{PREFIX}_commit_latency_seconds",
            "Seconds from the reception of a batch's oldest document to the commit of its ledger transaction",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.check_seconds = Histogram(
            f"{PREFIX}_check_batch_seconds",
            "Seconds a batch spent being checked (XSD, rules, signatures), from its submission to its results",
            buckets=CHECK_BUCKETS,
            registry=self.registry,
        )
        self.stage_seconds = Histogram(
            f"{PREFIX}_batch_stage_seconds",
            "Seconds a batch spent in each stage of the pipeline apart from its check: queued (the "
            "reception of its oldest document to its submission to a worker), waiting (checked, "
            "until its ledger transaction begins), writing (the transaction), publishing (committed, "
            "until its step's deliveries and receipts are handed to the broker)",
            labelnames=["stage"],
            buckets=STAGE_BUCKETS,
            registry=self.registry,
        )
        self._stages = {name: self.stage_seconds.labels(stage=name) for name in STAGES}
        self.sampled: dict[str, int] = {"queued": 0, "checking": 0, "inflight": 0, "waiting": 0}
        self._sampled_at = float("-inf")
        self.registry.register(_HubCollector(hub, self))

    # --- pipeline thread -------------------------------------------------------------------

    def batch_committed(self, batch: Batch, began: float, committed: float) -> None:
        """A batch's ledger transaction, which began and committed at these ``time.monotonic()``
        instants, committed (once per batch, not per document)."""
        # time.time(), not received_now(): a third of the cost, and the same clock
        received = batch.messages[0].received_at.timestamp()
        self.commit_latency.observe(max(0.0, time.time() - received))
        self._stages["queued"].observe(max(0.0, batch.submitted_wall - received))
        if batch.checked_at is not None:
            self.check_seconds.observe(batch.checked_at - batch.submitted_at)
            self._stages["waiting"].observe(max(0.0, began - batch.checked_at))
        self._stages["writing"].observe(committed - began)

    def published(self, committed: float) -> None:
        """The step whose transaction committed at ``committed`` handed its publications to the
        broker (once per step that committed batches)."""
        self._stages["publishing"].observe(max(0.0, time.monotonic() - committed))

    def due(self) -> bool:
        """Time for :meth:`sample` (cheap: one clock read per step)."""
        return time.monotonic() - self._sampled_at >= _SAMPLE_EVERY

    def sample(self, **lengths: int) -> None:
        """The queue lengths, as the pipeline thread sees them between two steps."""
        self._sampled_at = time.monotonic()
        self.sampled = lengths  # one reference swap: the scrape sees the old or the new dict

    # --- HTTP thread -----------------------------------------------------------------------

    def render(self) -> bytes:
        return generate_latest(self.registry)


def _counter(name: str, doc: str, value: float) -> CounterMetricFamily:
    return CounterMetricFamily(f"{PREFIX}_{name}", doc, value=value)


def _gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(f"{PREFIX}_{name}", doc, value=value)


class _HubCollector(Collector):
    """Reads the hub's counts when Prometheus scrapes (HTTP thread; ints and dict copies only)."""

    def __init__(self, hub: Hub, metrics: HubMetrics) -> None:
        self.hub = hub
        self.metrics = metrics
        self._entries = _Cached(_HEAD_EVERY)
        self._overdue = _Cached(hub.config.supervision.scan_interval_seconds)

    def collect(self) -> Iterator[Metric]:
        hub = self.hub
        stats = hub.stats
        accepted = CounterMetricFamily(
            f"{PREFIX}_documents_accepted",
            "Documents accepted and recorded, by document type and the sender's unit kind",
            labels=["type", "sender_kind"],
        )
        for (doc_type, kind), n in sorted(dict(stats.accepted_by).items()):
            accepted.add_metric([doc_type, kind], n)
        yield accepted
        rejections = CounterMetricFamily(
            f"{PREFIX}_rejections",
            "Problems found in rejected payloads, by error code (docs/error-codes.md); "
            "a payload with two problems counts under both codes",
            labels=["code"],
        )
        for code, n in sorted(dict(stats.rejected_by).items()):
            rejections.add_metric([code], n)
        yield rejections
        yield _counter("documents_rejected", "Payloads rejected (whatever the number of their problems)", stats.rejected)
        yield _counter("duplicates", "Documents received again with the same id and bytes (answered with the original receipt)", stats.duplicates)
        yield _counter("deliveries_published", "Deliveries the broker acknowledged (PUBACK)", stats.published)
        yield _counter("deliveries_acked", "Deliveries the recipient unit acknowledged on its ack topic", stats.delivered)
        yield _counter(
            "redeliveries",
            "Deliveries published again with their bytes read back from the ledger (probes of a silent unit, "
            "deliveries adopted after a restart or a takeover, a duplicate's receipt)",
            stats.redelivered,
        )
        yield _counter("flood_episodes", "Flood episodes: a sender refused beyond its refusal rate (an AnomalyNotice each)", stats.flood_episodes)
        yield _counter("flood_excess_dropped", "Payloads of a flooding sender dropped unchecked (counted in the ledger)", hub._flood.excess_total)
        yield _counter("flood_garbage_counted", "Garbage of a flooding sender counted instead of recorded", hub._flood.compacted_total)

        lengths = self.metrics.sampled
        yield _gauge("intake_queued", "Documents waiting in the intake queue to be checked", lengths.get("queued", 0))
        yield _gauge("intake_checking", "Documents in batches being checked or waiting for their commit", lengths.get("checking", 0))
        yield _gauge("deliveries_inflight", "Deliveries published and awaiting the broker's PUBACK", lengths.get("inflight", 0))
        yield _gauge("deliveries_waiting", "Deliveries waiting for room in their recipient's window", lengths.get("waiting", 0))

        yield _gauge("broker_connected", "1 while the MQTT session to the broker is up", 1 if hub.client.is_connected() else 0)
        yield _gauge("storage_outage", "1 while the ledger's storage refuses writes (the hub refuses work)", 0 if hub.health.ok else 1)
        entries = self._entries.get(lambda: hub.ledger.head()[0])
        if entries is not None:
            yield _gauge("ledger_entries", "Entries in the ledger's hash-chained audit log", entries)
        overdue = self._overdue.get(lambda: hub.ledger.count_overdue(_supervision_now(hub)))
        if overdue is not None:
            yield _gauge(
                "deadlines_overdue",
                "Open deadlines past their due time (read at most once per supervision scan interval)",
                overdue,
            )
        cert = hub.notary.signer.cert
        left = (cert.not_valid_after_utc - received_now()).total_seconds()
        yield _gauge("seal_expiry_seconds", "Seconds until the hub's seal certificate expires", left)


def _supervision_now(hub: Hub) -> datetime:
    """Deadlines are in supervision time (:class:`broker.hub.clock.SupervisionClock`)."""
    clock = getattr(hub.supervisor, "clock", None)
    return clock.now() if clock is not None else received_now()


__all__ = ["HubMetrics", "PREFIX"]
