"""The court's session with the network: the unit transport plus what a court needs on top.

:class:`CourtUnit` is a :class:`broker.transport.unit.UnitClient` that

- refuses a document not addressed to the court (``ROUTE_NOT_RECIPIENT``) the way the transport
  refuses one that does not verify: stored ``invalid``, logged ``inbox.invalid`` with the code,
  acknowledged (so the hub stops redelivering it) and never handed to the handler — the adapter
  SDK refuses the same (``ADAPTER_NOT_RECIPIENT``);
- hands what arrives to the court's handler through a durable queue (:mod:`broker.court.handover`):
  retried with backoff when the handler raises, resumed at the next start;
- reports a broker it cannot reach as ``BROKER_UNREACHABLE``.

``start()`` and ``stop()`` drive all of it, so code that starts ``court.unit`` directly (the
demo) gets the same behaviour as ``with CourtClient(...)``.
"""

from __future__ import annotations

from datetime import date, datetime

from broker.checking import CheckedDocument, DocumentChecker
from broker.configuration import UnitConfig
from broker.court.handover import Handover
from broker.court.store import CourtStore
from broker.errors import LiandongError, problem
from broker.registry import Registry, load_registry
from broker.signing import TrustStore
from broker.transport.unit import Handler, UnitClient

CONNECT_TIMEOUT = 30.0
"""Seconds ``start()`` waits for the broker's CONNACK before giving up."""


class RecipientChecker(DocumentChecker):
    """The transport's end-to-end checks plus one: the document is addressed to ``unit``."""

    def __init__(self, unit: str, trust: TrustStore, registry: Registry | None):
        super().__init__(trust, registry)
        self.unit = unit

    def check(
        self, raw: bytes, *, signed: bool = True, received_at: datetime | None = None, today: date | None = None
    ) -> CheckedDocument:
        checked = super().check(raw, signed=signed, received_at=received_at, today=today)
        header = checked.header
        if header is not None and header.recipient != self.unit:
            checked.problems.append(problem("ROUTE_NOT_RECIPIENT", recipient=header.recipient, unit=self.unit))
        return checked


class CourtUnit(UnitClient):
    """A court's :class:`UnitClient` (see the module docstring); ``handler`` may be None
    (``liandong publish``: what arrives is stored as ``handled``)."""

    def __init__(self, config: UnitConfig, handler: Handler | None = None):
        self.config = config
        trust = config.trust.store()
        registry = load_registry(config.registry)
        store = CourtStore(config.store)
        checker = RecipientChecker(config.unit, trust, registry)
        self.handover = (
            Handover(
                config.unit,
                store,
                checker,
                handler,
                retry_initial_seconds=config.handler_retry_initial_seconds,
                retry_max_seconds=config.handler_retry_max_seconds,
            )
            if handler is not None
            else None
        )
        super().__init__(
            config.unit,
            host=config.broker.host,
            port=config.broker.port,
            trust=trust,
            registry=registry,
            store=store,
            handler=self.handover.accept if self.handover is not None else None,
            tls=(config.broker.cert, config.broker.key),
            cafile=config.broker.ca,
            session_expiry=config.broker.session_expiry_seconds,
            resend_after=config.resend_after_seconds,
            protocol=config.broker.protocol,
            failover=config.broker.failover_endpoints(),
        )
        # Every document the transport reads goes through this checker: arrivals, those handed
        # over again at a start, and answers to what the court sent.
        self.checker = checker

    def start(self, timeout: float | None = None) -> None:
        """Connect (within ``timeout`` seconds, default :data:`CONNECT_TIMEOUT`) and start
        receiving and handing over; raises :class:`LiandongError` ``BROKER_UNREACHABLE``, with
        nothing sent, when the broker did not accept the connection in time."""
        if self.handover is not None:
            self.handover.recover()
        wait = CONNECT_TIMEOUT if timeout is None else timeout
        try:
            super().start(wait)
        except RuntimeError:  # the transport's "could not connect": stop its threads, report it with a code
            super().stop()
            raise LiandongError.of("BROKER_UNREACHABLE", endpoints=self._endpoints(), seconds=f"{wait:g}") from None
        if self.handover is not None:
            self.handover.start()

    def stop(self) -> None:
        """Finish the document in the handler's hands, then disconnect and close the store."""
        if self.handover is not None:
            self.handover.stop()
        super().stop()

    def _endpoints(self) -> str:
        broker = self.config.broker
        return ", ".join([f"{broker.host}:{broker.port}", *broker.failover])
