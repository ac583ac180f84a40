"""What every endpoint works with: the unit's session with the network and the gateway's records."""

from __future__ import annotations

from dataclasses import dataclass, field

from broker.checking import DocumentChecker
from broker.court import CourtClient
from broker.gateway.audit import AuditLog
from broker.gateway.config import GatewayConfig
from broker.gateway.deadlines import DeadlineView
from broker.gateway.folders import FolderWorker
from broker.gateway.inbox import InboxReader
from broker.gateway.operations import GatewayMetrics
from broker.gateway.preparing import Preparer
from broker.gateway.publishing import Publisher
from broker.gateway.state import GatewayState
from broker.gateway.tokens import CertificateBook, TokenBook
from broker.gateway.webhook import WebhookSender
from broker.registry import load_registry
from broker.transport.store import UnitStore


@dataclass
class GatewayRuntime:
    """The gateway's parts. The network session is the court client for every kind of unit:
    it seals with the unit's seal, publishes until the hub answers, and verifies and stores what
    arrives (addressed to this unit only) — all a unit's gateway needs too."""

    config: GatewayConfig
    client: CourtClient
    checker: DocumentChecker
    state: GatewayState
    audit: AuditLog
    tokens: TokenBook
    certificates: CertificateBook
    inbox: InboxReader
    deadlines: DeadlineView
    preparer: Preparer
    """Checks and seals the documents the unit's system submits, in worker processes."""
    publisher: Publisher
    """Decides and publishes them, recording those in flight together."""
    webhook: WebhookSender | None = field(default=None)
    metrics: GatewayMetrics = field(default_factory=GatewayMetrics)
    folders: FolderWorker | None = field(default=None)
    """The outgoing and incoming folders (:mod:`broker.gateway.folders`), when configured."""

    @classmethod
    def build(cls, config: GatewayConfig) -> GatewayRuntime:
        client = CourtClient(config.unit_config())  # creates the store the inbox reader reads
        state = GatewayState(config.http.state)
        hook = config.http.webhook
        metrics = GatewayMetrics()
        sender = WebhookSender(hook, config.store, state, metrics.webhook_failures.inc) if hook else None
        metrics.watch(lambda: client.unit.connected, sender.pending if sender else None)
        registry = load_registry(config.registry)
        # drafts are checked without a seal (signed=False): XSD, header, business rules with
        # the registry (recipients, unit kinds), as the hub will check them
        checker = DocumentChecker(None, registry)
        runtime = cls(
            config=config,
            client=client,
            checker=checker,
            state=state,
            audit=AuditLog(config.http.audit_log),
            tokens=TokenBook(config.http.tokens),
            certificates=CertificateBook(config.http.tls.clients if config.http.tls else []),
            inbox=InboxReader(config.store),
            deadlines=DeadlineView(config.deadlines, registry),
            preparer=Preparer(config, checker, client.signer, config.unit, config.http.workers),
            publisher=Publisher(client, state),
            webhook=sender,
            metrics=metrics,
        )
        if config.folders is not None:
            runtime.folders = FolderWorker(runtime, config.folders)
        return runtime

    @property
    def unit(self) -> str:
        return self.config.unit

    @property
    def store(self) -> UnitStore:
        return self.client.unit.store

    def start(self, timeout: float | None = None) -> None:
        self.client.start(timeout)
        self.preparer.start()
        self.publisher.start()
        if self.webhook is not None:
            self.webhook.start()
        if self.folders is not None:
            self.folders.start()

    def stop(self) -> None:
        if self.folders is not None:  # before the session and store it sends through are closed
            self.folders.stop()
        if self.webhook is not None:  # before the state it writes its cursor to is closed
            self.webhook.stop()
        self.publisher.stop()  # before the session and store it publishes through are closed
        self.client.stop()
        self.preparer.stop()
        self.inbox.close()
        self.state.close()
        self.audit.close()
