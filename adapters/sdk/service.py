"""Running an adapter on the network: :class:`AdapterService` and :func:`run`.

    service = AdapterService(BankAdapter, load_adapter_config(BankAdapter, "bank.yaml"))
    service.start()   # connects with the unit's TLS certificate, publishes "online"
    ...
    service.stop()    # finishes the item in hand, publishes "offline"

Threads: paho's network thread; the transport's processing thread (verify, store, acknowledge,
:meth:`Engine.accept`); one worker thread that executes (:meth:`Engine.step`). Handlers
therefore run one at a time, in delivery order, and the transport keeps acknowledging while a
slow native call is in progress.
"""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path

from adapters.sdk.adapter import Adapter
from adapters.sdk.engine import Engine, received_from
from adapters.sdk.runtime import Clock, Runtime, system_clock
from adapters.sdk.settings import AdapterConfig
from adapters.sdk.store import AdapterStore
from broker.checking import DocumentChecker
from broker.registry import Registry, load_registry
from broker.transport.unit import Received, UnitClient

log = logging.getLogger("liandong.adapter")


class UnitKindError(ValueError):
    """The adapter cannot run as this unit (not in the registry, or of a kind it does not serve)."""


def check_unit_kind(adapter_cls: type[Adapter], registry: Registry, unit: str) -> None:
    kind = registry.kind_of(unit)
    if kind is None:
        raise UnitKindError(f"unit {unit} is not in the registry")
    if adapter_cls.unit_kinds and kind not in adapter_cls.unit_kinds:
        served = ", ".join(sorted(k.value for k in adapter_cls.unit_kinds))
        raise UnitKindError(f"adapter {adapter_cls.name or adapter_cls.__name__} serves {served}; unit {unit} is {kind.value}")


class AdapterService:
    """One adapter connected to the network as its unit. ``start()``, ``stop()``, or ``with``."""

    def __init__(self, adapter_cls: type[Adapter], config: AdapterConfig, *, clock: Clock = system_clock):
        self.adapter_cls = adapter_cls
        self.config = config
        unit = config.unit
        self.registry = load_registry(unit.registry)
        check_unit_kind(adapter_cls, self.registry, unit.unit)
        trust = unit.trust.store()
        self.store = AdapterStore(unit.store)
        self.unit = UnitClient(
            unit.unit,
            host=unit.broker.host,
            port=unit.broker.port,
            trust=trust,
            registry=self.registry,
            store=self.store,
            handler=self._accept,
            tls=(unit.broker.cert, unit.broker.key),
            cafile=unit.broker.ca,
            session_expiry=unit.broker.session_expiry_seconds,
            resend_after=unit.resend_after_seconds,
            protocol=unit.broker.protocol,
            failover=unit.broker.failover_endpoints(),
        )
        self.runtime = Runtime(
            unit=unit.unit,
            registry=self.registry,
            signer=unit.seal.signer(),
            checker=DocumentChecker(trust, self.registry),
            store=self.store,
            transport=self.unit,
            data_dir=Path(unit.store).parent,
            clock=clock,
            adapter_name=adapter_cls.name or adapter_cls.__name__,
        )
        self.adapter = adapter_cls(config.adapter, self.runtime)
        self.engine = Engine(self.adapter, self.runtime, config.execution)
        self.store.on_redelivery = self.engine.redelivered
        self._worker = threading.Thread(target=self._work, name=f"adapter-{unit.unit}", daemon=True)
        self.worker_error: BaseException | None = None

    # --- lifecycle ---------------------------------------------------------------------------------

    def start(self, timeout: float = 30.0) -> AdapterService:
        self._recover_failed_inbox()
        self.unit.start(timeout)
        try:
            self.adapter.start()
        except BaseException:
            self.unit.stop()
            raise
        self._worker.start()
        self.runtime.log.info("adapter.started", kind=self.runtime.unit_kind.value)
        return self

    def stop(self) -> None:
        self.engine.stopping.set()
        self.engine.wake.set()
        if self._worker.is_alive():
            self._worker.join(timeout=60)
        try:
            self.adapter.stop()
        finally:
            self.unit.stop()  # publishes "offline" and closes the store
        self.runtime.log.info("adapter.stopped")

    def __enter__(self) -> AdapterService:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def alive(self) -> bool:
        """The worker is running (False after a handler ended the thread, e.g. SystemExit)."""
        return self._worker.is_alive()

    # --- internals ------------------------------------------------------------------------------------

    def _accept(self, received: Received) -> None:
        self.engine.accept(received)

    def _recover_failed_inbox(self) -> None:
        """Documents the transport stored but could not hand over (state 'failed'): hand them
        over now. (Those still 'received' are handed over by the transport itself.)"""
        for entry in self.store.inbox(state="failed"):
            checked = self.unit.checker.check(entry.raw)
            if checked.ok:
                self.engine.accept(received_from(checked))
                self.store.set_inbox_state(entry.document_id, "handled")

    def _work(self) -> None:
        settings = self.config.execution
        try:
            while not self.engine.stopping.is_set():
                self.engine.wake.clear()
                try:
                    delay = self.engine.step()
                except Exception:
                    log.exception("adapter.step_failed")
                    delay = settings.idle_poll_seconds
                wait = settings.idle_poll_seconds if delay is None else min(delay, settings.idle_poll_seconds)
                if wait > 0:
                    self.engine.wake.wait(wait)
        except BaseException as exc:  # SystemExit from a handler: the worker ends like a crashed process
            self.worker_error = exc
            log.error("adapter.worker_ended", extra={"fields": {"error": type(exc).__name__}})


def run(adapter_cls: type[Adapter], config: AdapterConfig) -> None:
    """Run until SIGINT or SIGTERM (``liandong adapter run``)."""
    stopping = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.set())
    service = AdapterService(adapter_cls, config)
    service.start()
    try:
        while not stopping.wait(1.0):
            if not service.alive:
                raise SystemExit(f"the adapter's worker ended: {type(service.worker_error).__name__}")
    finally:
        service.stop()

