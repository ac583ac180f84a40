"""The hub service: where documents are routed (``liandong hub run --config FILE``).

Threads and processes, and why:

- paho's network thread only moves messages into a queue (nothing slow runs there), except
  that a flooding sender's excess is told apart there, before any parsing
  (:mod:`broker.hub.flood_guard`);
- worker processes check and seal (:mod:`broker.hub.intake`): signatures dominate the cost and
  Python threads would share one core;
- one pipeline thread owns the ledger: it commits what each step brought (the checked batches,
  recorded document by document by :mod:`broker.hub.recording`; the units' acks; the broker's
  PUBACKs) in one transaction, *then* acknowledges the MQTT
  messages (paho manual ack), *then* publishes the
  deliveries and service receipts. A crash at any point loses nothing: an unacknowledged message
  comes again from the broker and is recognised as a duplicate; a committed delivery stays in the
  ledger's outbox until the recipient confirms it on its ``ack`` topic.

Documents wait for checking in one queue per sender, served round-robin into the batches
(:mod:`broker.hub.fairness`): one sender's backlog delays no other sender.

Memory stays bounded: the broker may push at most ``receive_maximum`` unacknowledged messages,
at most ``publish_window`` deliveries wait for a PUBACK, and the rest waits in the ledger.

Several hubs (docs/deployment.md, "Several hubs"): instances with TLS identities of their own share
the documents through an MQTT v5 shared subscription and write one PostgreSQL ledger. The
ledger's exclusive transactions make a document that reaches two hubs a duplicate for the second.
Each delivery belongs to the instance that recorded it (``deliveries.owner``): only its owner
publishes and redelivers it, and an instance whose heartbeat stops (or that stopped) has its open
deliveries taken over by the next sweep of another.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime, timedelta
from typing import Any, Callable

import paho.mqtt.client as mqtt

from broker.errors import LiandongError
from broker.hub.config import HubConfig
from broker.hub.deadlines import DeadlineSupervisor
from broker.hub.health import HealthServer, HubHealth, json_route
from broker.hub.fairness import FairQueue
from broker.hub.flood_guard import FloodGuard
from broker.hub.flow import FlowControl
from broker.hub.intake import IntakeChecker, Payload
from broker.hub.ledger import Ledger, LedgerTx
from broker.hub.metrics import HubMetrics
from broker.hub.notices import HubNotary, received_now
from broker.hub.outbox import Job
from broker.hub.pipeline_items import Batch, Held, HubStats, Message
from broker.hub.recording import DocumentRecorder
from broker.hub.readiness import broker_check, readiness, seal_check, storage_check
from broker.hub.registry_reload import RegistryWatch
from broker.hub.storage import Outage, StorageGuard, is_storage_error, office_alert
from broker.hub.supervision import Supervisor
from broker.hub.workers import CheckerPool, check_one_by_one, refusal
from broker.logs import event
from broker.registry import load_registry
from broker.transport import topics
from broker.transport.messages import decode_acks, decode_status
from broker.transport.mqtt import certificate_cn, tls_client

log = logging.getLogger("liandong.hub")

_EVENTS_PER_STEP = 20_000
"""Events one step takes in at most (a flood's excess arrives as thousands of tiny events)."""


class Hub:
    """The running hub. ``start()`` returns once connected; ``stop()`` shuts everything down."""

    def __init__(self, config: HubConfig, supervisor_factory: Callable[["Hub"], Supervisor] | None = None):
        self.config = config
        self.registry = load_registry(config.registry)
        self.registry_watch = RegistryWatch(config.registry)  # reloaded without a restart
        self.code = self.registry.hub.code
        # this process among several hubs on one ledger: its MQTT identity unless configured
        self.instance = config.instance or certificate_cn(config.broker.cert)
        self.ledger = Ledger(
            config.ledger.url,
            schema=config.ledger.schema_name,
            instance=self.instance,
            partition=config.ledger.chains,
            anchor_every=config.ledger.anchor_seconds,
        )
        self.ledger.create_schema()
        self.notary = HubNotary(config.identity.signer())
        self.stats = HubStats()
        self.supervisor: Supervisor = (supervisor_factory or DeadlineSupervisor)(self)
        self._events: queue.Queue[tuple[str, Any]] = queue.Queue()
        self._stop = threading.Event()
        self._connected = threading.Event()
        self._gen = 0
        self._seq = 0
        self._batches: deque[Batch] = deque()
        self._queue: FairQueue[Message] = FairQueue()  # documents not yet checked, per sender
        self._flood = FloodGuard(config.limits)
        self.recorder = DocumentRecorder(
            registry=self.registry,
            notary=self.notary,
            supervisor=self.supervisor,
            flood=self._flood,
            stats=self.stats,
            limits=config.limits,
            instance=self.instance,
        )
        self._excess: list[tuple[int, int]] = []  # (mid, gen) of payloads dropped unchecked, acked after the commit
        self._jobs: deque[Job] = deque()
        self._attempts: list[tuple[list[int], datetime]] = []
        # Bookkeeping that needs no transaction of its own: deliveries the broker has PUBACKed,
        # to be marked 'published' (and the attempts above). It rides with the next transaction
        # that writes documents or acks, or is written once the pipeline has no document in hand;
        # a transaction for it, after every publication, made 64 of 217 transactions at half
        # load carry no document (issue 16). Nothing depends on it being prompt: a delivery
        # still marked 'pending' after a crash goes out again, as one whose PUBACK was lost.
        self._pubacked: list[int] = []
        self._committed_at: float | None = None  # monotonic: this step's batches committed (metrics)
        self._inflight: dict[int, Job] = {}
        delivery = config.delivery
        self._flow = FlowControl(
            window=delivery.recipient_window,
            ack_timeout=delivery.ack_timeout_seconds,
            max_backoff=delivery.max_backoff_seconds,
        )
        self._online: dict[str, bool] = {}
        self._last_sweep = 0.0
        self._last_probe = 0.0
        self._last_beat = 0.0
        self._pool: CheckerPool | None = None
        self.health = HubHealth(hub=self.code, instance=self.instance)
        self._storage = StorageGuard(self.health)
        self._held = Held()
        self._unreported: Outage | None = None
        self._health_server: HealthServer | None = None
        self._inline: IntakeChecker | None = None
        self._thread = threading.Thread(target=self._run, name="hub-pipeline", daemon=True)
        self.client = self._make_client()
        self.metrics = HubMetrics(self)

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self, timeout: float = 30.0, wait_for_broker: Callable[[threading.Event], bool] | None = None) -> None:
        if self.config.health_port is not None:  # first: a port in use stops the start here
            routes = {
                "/readyz": json_route(self.readiness),
                "/metrics": lambda: (200, self.metrics.content_type, self.metrics.render()),
            }
            self._health_server = HealthServer(
                self.health, self.config.health_host, self.config.health_port, routes
            ).start()
        if self.config.workers > 0:
            self._pool = CheckerPool(self.config)
        else:
            self._inline = IntakeChecker(self.config)
        self._load_outbox()
        b = self.config.broker
        self.client.loop_start()
        self._thread.start()
        # wait_for_broker: patience of its own (``liandong hub run``: broker/hub/broker_wait.py)
        if not (wait_for_broker(self._connected) if wait_for_broker else self._connected.wait(timeout)):
            raise RuntimeError(f"hub could not connect to the broker at {b.host}:{b.port}")
        self.supervisor.start()
        event(log, "hub.started", hub=self.code, instance=self.instance, workers=self.config.workers)

    def stop(self) -> None:
        self.supervisor.stop()
        self._stop.set()
        self._events.put(("wake", None))
        if self._thread.is_alive():
            self._thread.join(timeout=30)
        self.client.disconnect()
        self.client.loop_stop()
        if self._pool is not None:
            self._pool.shutdown()
        try:  # the other hubs take over this one's open deliveries now, not after the timeout
            with self.ledger.transaction() as tx:
                tx.instance_heartbeat(self.instance, received_now(), running=False)
        except Exception:
            log.exception("hub.heartbeat_failed")
        self.ledger.close()
        if self._health_server is not None:
            self._health_server.stop()
        event(log, "hub.stopped", hub=self.code, **self._stats_fields())

    def readiness(self) -> tuple[int, dict[str, Any]]:
        """``/readyz``: the broker connected, the ledger writable, the seal valid for a while yet."""
        reason = self.health.snapshot().get("reason")
        checks = [
            broker_check(self.client.is_connected()),
            storage_check(reason),
            seal_check(self.notary.signer.cert, received_now(), self.config.seal_expiry_warning_days),
        ]
        return readiness(checks, hub=self.code, instance=self.instance)

    def _stats_fields(self) -> dict[str, int]:
        s = self.stats
        return {"accepted": s.accepted, "rejected": s.rejected, "duplicates": s.duplicates, "delivered": s.delivered}

    def reload_registry(self) -> None:
        """Reload the registry file at the next step (SIGHUP; any thread). The pipeline also
        reloads it by itself when the file changes (broker/hub/registry_reload.py)."""
        self.registry_watch.request()
        self._events.put(("wake", None))

    def _take_registry(self) -> None:
        registry = self.registry_watch.reload()  # None: logged, the current one stays
        if registry is None:
            return
        if registry.hub.code != self.code:  # another hub's file: not taken (its seal is ours)
            detail = f"hub code {registry.hub.code} is not {self.code}"
            event(log, "registry.reload_failed", logging.ERROR, code="REG_RELOAD_FAILED", detail=detail)
            return
        self.registry = registry
        self.recorder.use_registry(registry)
        for checker in (self._inline, _LocalChecker._instance):
            if checker is not None:
                checker.use_registry(registry)
        if self._pool is not None:
            self._pool.generation = self.registry_watch.generation

    def enqueue(self, jobs: list[Job]) -> None:
        """Hand deliveries committed by another thread (the supervisor) to the publisher."""
        if jobs:
            self._events.put(("jobs", jobs))

    # --- MQTT plumbing (network thread: enqueue only) -----------------------------------------

    def _make_client(self) -> mqtt.Client:
        b = self.config.broker
        client = tls_client(
            (b.cert, b.key),
            b.host,
            b.port,
            cafile=b.ca,
            client_id=b.client_id,
            session_expiry=b.session_expiry_seconds,
            keepalive=b.keepalive_seconds,
            manual_ack=True,
            receive_maximum=b.receive_maximum,
            max_inflight=self.config.delivery.publish_window,
            protocol=b.protocol,
            failover=b.failover_endpoints(),
        )
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_publish = self._on_publish
        return client

    def _subscription(self, channel: str, shared: bool) -> str:
        base = topics.all_units(channel)
        group = self.config.broker.shared_group
        return f"$share/{group}/{base}" if shared and group else base

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason_code: Any, properties: Any) -> None:
        if reason_code.is_failure:
            event(log, "mqtt.connect_failed", logging.WARNING, reason=str(reason_code))
            return
        self._gen += 1
        control = self.config.broker.control_subscription_qos()  # 0 on MQTT 3.1.1 (NATS), see there
        client.subscribe(
            [
                (self._subscription("out", True), 1),
                (self._subscription("ack", True), control),
                (self._subscription("status", False), control),
            ]
        )
        self._connected.set()
        self._events.put(("connected", self._gen))
        event(log, "mqtt.connected", session_present=bool(flags.session_present))

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason_code: Any, properties: Any) -> None:
        event(log, "mqtt.disconnected", logging.WARNING, reason=str(reason_code))

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        at = received_now()
        parsed = topics.parse(msg.topic)
        if parsed is None or parsed[1] == "in":
            self._events.put(("ignore", (msg.mid, self._gen)))
            return
        unit, channel = parsed
        kind = {"out": "doc", "ack": "ack", "status": "status"}[channel]
        if kind == "doc" and not self._flood.admit(unit):
            # A flooding sender's excess: counted, never parsed, and its bytes not kept.
            self._events.put(("excess", (msg.mid, self._gen, unit, at, len(msg.payload))))
            return
        self._events.put(("msg", Message(kind, msg.mid, self._gen, unit, msg.payload, at)))

    def _on_publish(self, client: mqtt.Client, userdata: Any, mid: int, reason_code: Any, properties: Any) -> None:
        self._events.put(("published", (mid, reason_code)))

    def _ack(self, mid: int, gen: int) -> None:
        # A message id from an earlier connection may now name another message: never ack it;
        # the broker sends the old message again and it is recognised as a duplicate.
        # A QoS 0 message (mid 0) has nothing to acknowledge.
        if mid and gen == self._gen:
            self.client.ack(mid, 1)

    # --- the pipeline thread ---------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._step()
            except Exception as exc:  # the hub must survive anything; the ledger keeps it consistent
                if self._storage.outage is not None and is_storage_error(exc):  # another write, same outage
                    self._storage.failed(exc, held=self._held.documents())
                else:
                    log.exception("hub.pipeline_error")
                time.sleep(0.5)
        self._drain()
        if self._pool is not None:
            # Before this thread ends: workers it spawned (a replaced pool) die with it (PDEATHSIG).
            self._pool.shutdown()

    def _step(self) -> None:
        control: list[tuple[str, Any]] = []
        # Block on the events unless there is work now: a checked batch (its worker's completion
        # is an event too), documents and room to check them, or deliveries with room in the
        # publish window. Polling instead took the core the workers need.
        timeout = 0.0 if self._work_now() or self._can_submit() else 0.05
        try:
            self._sort_event(self._events.get(timeout=timeout), control)
        except queue.Empty:
            pass
        # Take in everything that arrived (bounded, so a flood of events cannot keep a step from
        # its commit): documents wait in their sender's queue, not in one FIFO.
        for _ in range(_EVENTS_PER_STEP):
            try:
                self._sort_event(self._events.get_nowait(), control)
            except queue.Empty:
                break
        # Batches are filled round-robin across senders, and only while the workers have room:
        # the backlog waits in the fair queue, where a court's notice overtakes a flood.
        while self._can_submit():
            self._submit(self._queue.take(self.config.batch_size))
        acks, published = self._handle_control(control) if control else ([], [])
        self._pubacked.extend(published)
        batches = self._ready_batches()
        if batches or acks or self._held or self._flood.pending or self._excess or self._bookkeeping_now():
            published, self._pubacked = self._pubacked, []
            self._commit(batches, acks, published)
        self._flood.tick(received_now())
        self._publish_jobs()
        if self._committed_at is not None:  # this step committed batches: their publications are out
            self.metrics.published(self._committed_at)
            self._committed_at = None
        self._beat()
        self._sweep()
        if self.registry_watch.due():
            self._take_registry()
        if self.metrics.due():
            self.metrics.sample(
                queued=len(self._queue),
                checking=sum(len(b.messages) for b in self._batches),
                inflight=len(self._inflight),
                waiting=self._flow.waiting(),
            )

    def _sort_event(self, item: tuple[str, Any], control: list[tuple[str, Any]]) -> None:
        kind, value = item
        if kind == "msg" and value.kind == "doc":
            self._queue.put(value.unit, value)
        elif kind == "excess":
            mid, gen, unit, at, size = value
            self._flood.excess(unit, at, size)
            self._excess.append((mid, gen))
        else:
            control.append(item)

    def _bookkeeping_now(self) -> bool:
        """Bookkeeping waits and no document is in the pipeline's hands (to ride along with)."""
        return bool(self._pubacked or self._attempts) and not self._batches and not self._queue

    def _can_submit(self) -> bool:
        """Documents wait and the workers have room for another batch."""
        return bool(self._queue) and len(self._batches) < max(2, 2 * self.config.workers)

    def _work_now(self) -> bool:
        oldest = self._batches[0] if self._batches else None
        if oldest is not None and (oldest.results is not None or (oldest.future is not None and oldest.future.done())):
            return True
        room = self.config.delivery.publish_window - len(self._inflight)
        return bool(self._jobs) and room > 0 and self.client.is_connected()

    def _drain(self) -> None:
        batches = list(self._batches)
        self._batches.clear()
        for batch in batches:
            if batch.results is None and batch.future is not None:
                try:
                    self._batch_results(batch)
                except Exception:
                    log.exception("hub.drain_error")
        self._flood.close_all()  # a flood minute left open would look unchained to ledger verify
        try:
            published, self._pubacked = self._pubacked, []
            self._commit([b for b in batches if b.results is not None], [], published, force=True)
        except Exception:
            log.exception("hub.drain_error")

    # --- checking --------------------------------------------------------------------------

    def _submit(self, messages: list[Message]) -> None:
        payloads = []
        for m in messages:
            self._seq += 1
            payloads.append(Payload(self._seq, m.unit, m.payload, m.received_at))
        batch = Batch(messages, payloads)
        oversize = self.config.limits.max_document_bytes
        if self._pool is not None and all(len(p.raw) <= oversize for p in payloads):
            batch.future = self._pool.submit(payloads)
            batch.future.add_done_callback(lambda _, b=batch: self._checked(b))
        else:
            # Oversize payloads are refused here: shipping megabytes to a worker is pointless.
            checker = self._inline or _LocalChecker.get(self.config)
            try:
                batch.results = checker.check_many(payloads)
            except Exception as exc:  # one culprit must not sink the batch, nor the hub
                batch.results = check_one_by_one(payloads, checker.check, self.notary, exc)
            batch.checked_at = time.monotonic()
        self._batches.append(batch)

    def _checked(self, batch: Batch) -> None:
        """A worker finished a batch (the pool's thread): note when, and wake the pipeline."""
        batch.checked_at = time.monotonic()
        self._events.put(("checked", None))

    def _batch_results(self, batch: Batch) -> None:
        """Take a finished batch's results; a batch whose check raised or whose worker died is
        checked again document by document (a document failing again is refused)."""
        assert batch.future is not None and self._pool is not None
        # The future's done-callback holds the batch: without the future the batch (its payloads,
        # results and sealed notices) is freed when committed, not by a later cyclic collection
        # (broker/hub/heap.py: tens of MiB waited for it, and RSS kept their high-water mark).
        future, batch.future = batch.future, None
        try:
            batch.results = future.result()
        except Exception as exc:
            if isinstance(exc, BrokenProcessPool):
                self._pool.replace_if_broken()
            batch.results = check_one_by_one(batch.payloads, self._pool.check_alone, self.notary, exc)

    def _ready_batches(self) -> list[Batch]:
        """The checked batches to commit now, in arrival order; waits for the oldest one when too
        many are in flight."""
        limit = max(2, 2 * self.config.workers)
        ready: list[Batch] = []
        while self._batches:
            batch = self._batches[0]
            if batch.results is None:
                assert batch.future is not None
                if not batch.future.done() and len(self._batches) < limit:
                    break
                self._batch_results(batch)
            ready.append(self._batches.popleft())
        return ready

    # --- the ledger stage ------------------------------------------------------------------

    def _commit(
        self, batches: list[Batch], acks: list[Message], published: list[int], *, force: bool = False
    ) -> None:
        """One ledger transaction for everything this step learnt: the checked batches, the
        units' acks, and the bookkeeping waiting for a transaction (the broker's PUBACKs, the
        publications of earlier steps). Then, and only then, the MQTT acknowledgements. One
        commit (one fsync) per step, not one per kind of news: the pipeline thread waiting on the
        disk is a thread not feeding the workers."""
        # What an earlier commit could not write (a full disk) goes first, still unacknowledged;
        # after a failure the next try waits for the backoff (broker.hub.storage).
        batches, acks, published = self._held.take(batches, acks, published)
        if not (force or self._storage.due()):
            self._held.keep(batches, acks, published)
            return
        try:
            self._write(batches, acks, published)
        except Exception as exc:  # rolled back: nothing acknowledged
            if is_storage_error(exc):
                self._hold(batches, acks, published, exc)
            else:
                self._write_apart(batches, acks, published)
            return
        self._storage_ok()

    def _write(self, batches: list[Batch], acks: list[Message], published: list[int]) -> None:
        """The transaction, then the acknowledgements; raises (having changed nothing) if the
        transaction failed."""
        jobs: list[Job] = []
        attempts = self._attempts
        stats = self.stats.copy()
        began = time.monotonic()
        try:
            with self.ledger.transaction() as tx:
                self._record_attempts(tx, attempts)
                if acks or published:
                    self._control_writes(tx, acks, published)
                for batch in batches:
                    jobs.extend(self.recorder.batch(tx, batch))
                if self._flood.pending:  # after the batches: their refusals may start an episode
                    jobs.extend(self.recorder.flood_notice(tx, e) for e in self._flood.write(tx, self.instance))
        except Exception:
            self.stats.restore(stats)  # counted for writes that were rolled back
            raise
        committed = time.monotonic()
        self._attempts = []  # written (only this thread adds to it), and only once committed
        self._flood.written()
        excess, self._excess = self._excess, []
        for mid, gen in excess:  # their counts are committed now
            self._ack(mid, gen)
        for batch in batches:
            for message in batch.messages:
                self._ack(message.mid, message.gen)
            if batch.messages:
                self.metrics.batch_committed(batch, began, committed)
                self._committed_at = committed
        for message in acks:
            self._ack(message.mid, message.gen)
        self._jobs.extend(jobs)

    def _hold(self, batches: list[Batch], acks: list[Message], published: list[int], exc: Exception) -> None:
        """Keep what could not be written for the next try, after the backoff."""
        self._held.keep(batches, acks, published)
        self._storage.failed(exc, held=self._held.documents())

    def _write_apart(self, batches: list[Batch], acks: list[Message], published: list[int]) -> None:
        """A commit failed with an error of the hub's own, not of the storage: write the step's
        parts one by one, so that one document whose writes fail holds no one else. That document
        is refused (``HUB_INTERNAL``: its rejection's writes are other ones); control news whose
        writes fail is dropped (the unit acknowledges again when the hub delivers again). A
        storage error on the way holds the rest, as for a whole commit."""
        log.exception("hub.commit_failed")
        singles = [
            Batch([m], [p], results=[r]) for b in batches for m, p, r in zip(b.messages, b.payloads, b.results or [])
        ]
        try:
            self._write([], acks, published)
        except Exception as exc:
            if is_storage_error(exc):
                self._hold(singles, acks, published, exc)
                return
            log.exception("hub.control_writes_failed")
            for message in acks:
                self._ack(message.mid, message.gen)
        for i, single in enumerate(singles):
            try:
                self._write([single], [], [])
                continue
            except Exception as exc:
                if is_storage_error(exc):
                    self._hold(singles[i:], [], [], exc)
                    return
            single.results = [refusal(single.payloads[0], "HUB_INTERNAL", self.notary)]
            try:
                self._write([single], [], [])
            except Exception as exc:  # not even a rejection can be written: keep it, try later
                self._hold(singles[i:], [], [], exc)
                return
        self._storage_ok()

    def _storage_ok(self) -> None:
        """A commit succeeded: end an outage, and tell the office about it (now that the notice
        can be recorded; tried again at the next commit if this write fails)."""
        outage = self._storage.succeeded() or self._unreported
        self._unreported = None
        if outage is None:
            return
        try:
            with self.ledger.transaction() as tx:
                job = office_alert(tx, self.notary, outage, hub_code=self.code, office=self.registry.office)
        except Exception:
            self._unreported = outage
            log.exception("hub.storage_alert_failed")
            return
        self._jobs.append(job)

    def _record_attempts(self, tx: LedgerTx, attempts: list[tuple[list[int], datetime]]) -> None:
        """Write publish attempts of earlier steps (attempts, last_sent_at). Written a step late,
        in the next transaction: a delivery the broker has not acknowledged goes out again after
        a restart whether or not its attempt was written."""
        for ids, at in attempts:
            tx.record_attempt(ids, at)

    # --- control messages: acks, statuses, PUBACKs --------------------------------------------

    def _handle_control(self, control: list[tuple[str, Any]]) -> tuple[list[Message], list[int]]:
        """Sort the control events; returns the units' acks and the PUBACKed deliveries, which
        :meth:`_commit` writes."""
        acks: list[Message] = []
        published: list[int] = []
        for kind, value in control:
            if kind == "msg" and value.kind == "ack":
                acks.append(value)
            elif kind == "msg" and value.kind == "status":
                self._status(value)
            elif kind == "published":
                job = self._published(*value)
                if job is not None:
                    published.append(job.delivery_id)
            elif kind == "ignore":
                self._ack(*value)
            elif kind == "jobs":
                self._jobs.extend(value)
            elif kind == "connected":
                self._last_sweep = 0.0  # after a broker restart, look for lost deliveries at once
        return acks, published

    def _status(self, message: Message) -> None:
        try:
            state = decode_status(message.payload).state
        except LiandongError:
            state = "offline"
        was = self._online.get(message.unit)
        self._online[message.unit] = state == "online"
        self._flow.status(message.unit, state == "online")
        self._ack(message.mid, message.gen)
        if was != (state == "online"):
            self.supervisor.unit_status(message.unit, state == "online", message.received_at)
        if state == "online" and not was:
            event(log, "unit.online", unit=message.unit)
            self._last_sweep = 0.0  # look for lost deliveries to this unit now
        elif state == "offline" and was:
            event(log, "unit.offline", logging.WARNING, unit=message.unit)

    def _control_writes(self, tx: LedgerTx, messages: list[Message], published: list[int]) -> None:
        now = received_now()
        if published:
            tx.mark_published(published, now)
        for m in messages:
            try:
                ids = decode_acks(m.payload)
            except LiandongError:
                event(log, "ack.malformed", logging.WARNING, unit=m.unit)
                continue
            for document_id in tx.mark_acked(m.unit, ids, now):
                self.stats.delivered += 1
                tx.audit("delivered", actor=m.unit, client=m.unit, document_id=document_id, at=now)
                self.supervisor.delivered(tx, document_id, m.unit, now)
            lost = self._flow.acked(m.unit, ids)
            if lost:  # published before what the unit acknowledged, yet not acknowledged: the broker lost them
                event(log, "delivery.lost", logging.WARNING, unit=m.unit, count=lost)

    def _published(self, mid: int, reason_code: Any) -> Job | None:
        job = self._inflight.pop(mid, None)
        if job is None:
            return None
        if getattr(reason_code, "is_failure", False):
            event(log, "delivery.refused_by_broker", logging.ERROR, document_id=job.document_id, reason=str(reason_code))
            return None
        self.stats.published += 1
        return job

    # --- publishing and redelivery --------------------------------------------------------------

    def _publish_jobs(self) -> None:
        """Publish what has room in its recipient's window (:mod:`broker.hub.flow`) and in the
        broker's PUBACK window."""
        if self._jobs:
            self._flow.add(self._jobs)
            self._jobs.clear()
        if not self.client.is_connected():
            return
        room = self.config.delivery.publish_window - len(self._inflight)
        batch = self._flow.take(room)
        if not batch:
            return
        missing = [j for j in batch if j.raw is None]
        if missing:  # redeliveries: their bytes are in the ledger (a read writes nothing, no fsync)
            with self.ledger.transaction() as tx:
                for job in missing:
                    job.raw = tx.raw(job.document_id)
            self.stats.redelivered += len(missing)
        sent: list[int] = []
        for i, job in enumerate(batch):
            info = self.client.publish(job.topic, job.raw, qos=1)
            if info.rc != mqtt.MQTT_ERR_SUCCESS:
                self._flow.unsent(batch[i:])
                break
            job.raw = None  # the ledger has the bytes; keep memory flat
            job.sent_at = time.monotonic()
            self._inflight[info.mid] = job
            self._flow.sent(job)
            sent.append(job.delivery_id)
        if sent:
            self._attempts.append((sent, received_now()))  # written by the next transaction

    def _load_outbox(self) -> None:
        """After a restart: the open deliveries of this instance (and of instances no longer
        running, which it takes over) go to the flow control: what the broker never confirmed
        waits for its turn in its recipient's window, what it confirmed counts as in flight."""
        with self.ledger.transaction() as tx:
            self._take_over(tx)
            adopted = self._flow.adopt(tx.open_deliveries(owner=self.instance), set())
        event(log, "hub.outbox_loaded", open=adopted, pending=self._flow.waiting())

    # --- several hubs: heartbeat and takeover ----------------------------------------------------

    def _beat(self) -> None:
        """Tell the other hubs on this ledger that this instance is alive (real time)."""
        now_mono = time.monotonic()
        if now_mono - self._last_beat < self.config.delivery.takeover_after_seconds / 4:
            return
        with self.ledger.transaction() as tx:
            tx.instance_heartbeat(self.instance, received_now())
        self._last_beat = now_mono

    def _take_over(self, tx: LedgerTx) -> None:
        """Become the owner of the open deliveries of instances that stopped or fell silent."""
        now = received_now()
        tx.instance_heartbeat(self.instance, now)
        self._last_beat = time.monotonic()
        live = tx.live_instances(now - timedelta(seconds=self.config.delivery.takeover_after_seconds))
        taken = tx.take_over_deliveries(self.instance, live)
        if taken:
            event(
                log,
                "delivery.takeover",
                logging.WARNING,
                instance=self.instance,
                count=sum(taken.values()),
                owners={str(owner): n for owner, n in taken.items()},
            )

    def _sweep(self) -> None:
        """Adopt open deliveries the flow control does not know (taken over from a silent hub),
        and probe units whose window has not moved (:meth:`FlowControl.probe`, with backoff)."""
        now_mono = time.monotonic()
        if now_mono - self._last_probe >= 1.0:  # in memory, cheap: every second
            self._last_probe = now_mono
            probed = self._flow.probe()
            if probed:
                event(log, "delivery.probe", units=probed)
        interval = max(1.0, self.config.delivery.ack_timeout_seconds / 2)
        if now_mono - self._last_sweep < interval or self._jobs:
            return
        self._last_sweep = now_mono
        # A PUBACK that never comes (a broker restart can lose it) must not block the window:
        # such deliveries leave it; the flow control still holds them in flight, and the probe
        # sends them again if the unit never got them.
        stale = [mid for mid, j in self._inflight.items() if now_mono - j.sent_at > 2 * interval + 30]
        for mid in stale:
            del self._inflight[mid]
        awaiting = {j.delivery_id for j in self._inflight.values()}
        attempts, pubacked = self._attempts, self._pubacked
        with self.ledger.transaction() as tx:
            self._record_attempts(tx, attempts)
            if pubacked:  # (before the open deliveries are read: these are no longer pending)
                tx.mark_published(pubacked, received_now())
            self._take_over(tx)
            adopted = self._flow.adopt(tx.open_deliveries(owner=self.instance), awaiting)
        self._attempts, self._pubacked = [], []
        if adopted:
            event(log, "delivery.adopted", count=adopted)


class _LocalChecker:
    """A checker in the hub process for payloads that never go to workers (oversize ones)."""

    _instance: IntakeChecker | None = None

    @classmethod
    def get(cls, config: HubConfig) -> IntakeChecker:
        if cls._instance is None:
            cls._instance = IntakeChecker(config)
        return cls._instance

