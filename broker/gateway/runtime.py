"""What every endpoint works with: the unit's session with the network and the gateway's records."""

from __future__ import annotations

from dataclasses import dataclass

from broker.checking import DocumentChecker
from broker.court import CourtClient
from broker.gateway.audit import AuditLog
from broker.gateway.config import GatewayConfig
from broker.gateway.inbox import InboxReader
from broker.gateway.state import GatewayState
from broker.gateway.tokens import TokenBook
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
    inbox: InboxReader

    @classmethod
    def build(cls, config: GatewayConfig) -> GatewayRuntime:
        client = CourtClient(config.unit_config())  # creates the store the inbox reader reads
        return cls(
            config=config,
            client=client,
            # drafts are checked without a seal (signed=False): XSD, header, business rules with
            # the registry (recipients, unit kinds), as the hub will check them
            checker=DocumentChecker(None, load_registry(config.registry)),
            state=GatewayState(config.http.state),
            audit=AuditLog(config.http.audit_log),
            tokens=TokenBook(config.http.tokens),
            inbox=InboxReader(config.store),
        )

    @property
    def unit(self) -> str:
        return self.config.unit

    @property
    def store(self) -> UnitStore:
        return self.client.unit.store

    def start(self, timeout: float | None = None) -> None:
        self.client.start(timeout)

    def stop(self) -> None:
        self.client.stop()
        self.inbox.close()
        self.state.close()
        self.audit.close()
