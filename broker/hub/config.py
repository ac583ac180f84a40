"""The hub's configuration file (``liandong hub run --config FILE``), YAML, see docs/hub.md.

Relative paths are resolved against the directory of the configuration file, so a deployment
directory can be moved as a whole. Every value has a default that suits the example network.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from pydantic import Field

from broker.checking import TimePolicy
from broker.configuration import BrokerEndpoint, SealFiles, Section, TrustFiles, load_config
from broker.parsing.hardened import DEFAULT_MAX_BYTES, ParseLimits


class BrokerConnection(BrokerEndpoint):
    """The hub's broker connection (CN of its TLS certificate = the hub's code)."""

    client_id: str = "liandong-hub"
    receive_maximum: int = Field(
        500, description="unacknowledged documents the broker may push to the hub at once (bounds memory)"
    )
    shared_group: str | None = Field(
        None, description="MQTT v5 shared-subscription group: hubs in one group share the load (docs/deployment.md)"
    )


class Ledger(Section):
    url: str = "sqlite:///var/hub/ledger.db"
    schema_name: str | None = Field(None, alias="schema", description="PostgreSQL schema")


class Limits(Section):
    max_document_bytes: int = DEFAULT_MAX_BYTES
    max_depth: int = 24
    max_elements: int = 100_000
    max_future_minutes: int = 5
    max_past_days: int = 30

    def parse_limits(self) -> ParseLimits:
        return ParseLimits(self.max_document_bytes, self.max_depth, self.max_elements)

    def time_policy(self) -> TimePolicy:
        return TimePolicy(timedelta(minutes=self.max_future_minutes), timedelta(days=self.max_past_days))


class Delivery(Section):
    ack_timeout_seconds: float = Field(
        30.0, description="redeliver to an online unit that has not acknowledged within this time"
    )
    max_backoff_seconds: float = 600.0
    publish_window: int = Field(1000, description="deliveries awaiting the broker's PUBACK at once")


class HubConfig(Section):
    registry: Path
    broker: BrokerConnection
    identity: SealFiles
    trust: TrustFiles
    ledger: Ledger = Ledger()
    limits: Limits = Limits()
    delivery: Delivery = Delivery()
    workers: int = Field(2, description="processes checking documents in parallel; 0 checks in the hub process")
    batch_size: int = Field(100, description="documents committed to the ledger per transaction at most")


def load_hub_config(path: str | Path) -> HubConfig:
    return load_config(path, HubConfig, code="HUB_CONFIG_INVALID")
