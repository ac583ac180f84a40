"""The hub's configuration file (``liandong hub run --config FILE``), YAML, see docs/hub.md.

Relative paths are resolved against the directory of the configuration file, so a deployment
directory can be moved as a whole. Every value has a default that suits the example network.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import AwareDatetime, Field, model_validator

from broker.checking import TimePolicy
from broker.documents.catalogue import UnitKind
from broker.configuration import BrokerEndpoint, SealFiles, Section, TrustFiles, load_config
from broker.parsing.hardened import DEFAULT_MAX_BYTES, ParseLimits


#: Session expiry of a hub in a shared group unless configured: Mosquitto 2.0 goes on routing a
#: share of the group's messages to a member whose connection is gone for as long as its session
#: lasts, and drops them when the session expires (nothing goes to the other members). A short
#: session bounds what a dead hub strands; the senders resend it (docs/deployment.md, "Several hubs").
SHARED_SESSION_EXPIRY_SECONDS = 60


class BrokerConnection(BrokerEndpoint):
    """The hub's broker connection (CN of its TLS certificate = the hub's code, or
    ``<code>-<instance>`` for one of several hubs)."""

    client_id: str = "liandong-hub"
    receive_maximum: int = Field(
        500, description="unacknowledged documents the broker may push to the hub at once (bounds memory)"
    )
    shared_group: str | None = Field(
        None,
        description="MQTT v5 shared-subscription group: hubs in one group share the load (docs/deployment.md); "
        f"session_expiry_seconds is then {SHARED_SESSION_EXPIRY_SECONDS} unless given",
    )

    control_qos: Literal[0, 1] | None = Field(
        None,
        description="QoS of the hub's subscriptions to units' ack and status topics; default 1 on MQTT 5, 0 on "
        "3.1.1, where NATS would stall them (docs/deployment.md, 'Clustered broker (NATS)')",
    )

    def control_subscription_qos(self) -> int:
        """QoS of the ``ack`` and ``status`` subscriptions (documents always use QoS 1).

        nats-server 2.9 lets a session hold at most ``max_ack_pending`` unacknowledged QoS 1
        messages across all its subscriptions, while each subscription may push as many: past
        that it drops a message and sends it again only after ``ack_wait``. With three QoS 1
        subscriptions the hub ran into that under load (documents held for a minute). Both
        control channels heal themselves: a lost end-to-end ack makes the hub deliver again
        and the unit acknowledge again; statuses are retained and sent at every connection."""
        if self.control_qos is not None:
            return self.control_qos
        return 1 if self.protocol == "5" else 0

    @model_validator(mode="after")
    def _shared_needs_v5(self) -> "BrokerConnection":
        if self.shared_group and self.protocol != "5":
            raise ValueError(
                f"shared_group needs MQTT v5 shared subscriptions ($share/...), and protocol is {self.protocol}: "
                "MQTT 3.1.1 has none, so several hubs cannot share one subscription; run one hub per broker "
                "(or partition the units between hubs) instead (docs/deployment.md, 'Clustered broker (NATS)')"
            )
        return self

    @model_validator(mode="after")
    def _shared_session(self) -> "BrokerConnection":
        if self.shared_group and "session_expiry_seconds" not in self.model_fields_set:
            self.session_expiry_seconds = SHARED_SESSION_EXPIRY_SECONDS
        return self


class Ledger(Section):
    url: str = "sqlite:///var/hub/ledger.db"
    schema_name: str | None = Field(None, alias="schema", description="PostgreSQL schema")
    # issue 16, docs/hub.md "Chains and anchors": None keeps what the ledger records
    chains: Literal["single", "court", "case"] | None = Field(
        None, description="audit chains: one (single), or one per court or per case so writers do not queue on one head"
    )
    anchor_seconds: float | None = Field(
        60.0, gt=0, description="how often an anchor entry binds every chain's head (none: only `liandong ledger anchor`)"
    )


class Limits(Section):
    max_document_bytes: int = DEFAULT_MAX_BYTES
    max_depth: int = 24
    max_elements: int = 100_000
    max_future_minutes: int = 5
    max_past_days: int = 30
    # A flooding sender (issue 11, item 3; broker/hub/rate_limit.py): limited by what it gets
    # refused, so a court publishing thousands of valid notices at once is never limited.
    refusal_rate_per_second: float = Field(
        10.0, gt=0, description="refusals a sender may have per second on average before it counts as flooding"
    )
    refusal_burst: int = Field(100, ge=1, description="refusals a sender may have in a burst before it counts as flooding")
    flood_rate_per_second: float = Field(
        5.0, ge=0, description="a flooding sender's payloads still checked per second; the rest is dropped unchecked and counted"
    )
    flood_burst: int = Field(10, ge=1, description="a flooding sender's payloads checked in a burst")
    flood_quiet_seconds: float = Field(
        60.0, gt=0, description="a flood episode ends (and the next one is notified again) after this long without excess"
    )
    garbage_samples_per_minute: int = Field(
        10, ge=0, description="payloads of one sender refused before their seal was verified that get a full "
        "rejection record and notice per minute; the rest are counted (rejection_counts)"
    )

    def parse_limits(self) -> ParseLimits:
        return ParseLimits(self.max_document_bytes, self.max_depth, self.max_elements)

    def time_policy(self) -> TimePolicy:
        return TimePolicy(timedelta(minutes=self.max_future_minutes), timedelta(days=self.max_past_days))


class Delivery(Section):
    """How the hub delivers: windows and redelivery (broker/hub/flow.py, docs/hub.md)."""

    ack_timeout_seconds: float = Field(
        30.0,
        gt=0,
        description="an online unit that has acknowledged nothing for this long while deliveries are in flight "
        "gets the oldest of them again (a probe), with backoff; a unit acknowledging is draining and gets nothing twice",
    )
    max_backoff_seconds: float = Field(600.0, gt=0, description="longest wait between two probes of a silent unit")
    publish_window: int = Field(1000, ge=1, description="deliveries awaiting the broker's PUBACK at once")
    recipient_window: int = Field(
        1000,
        ge=1,
        description="deliveries in flight (published, not yet acknowledged by the unit) per recipient at most; "
        "the rest waits in the ledger, so an offline unit's broker queue holds one window",
    )
    takeover_after_seconds: float = Field(
        60.0,
        gt=0,
        description="several hubs on one ledger: a hub takes over the open deliveries of an instance whose "
        "heartbeat (written every quarter of this) is older than this, or that stopped",
    )


class Supervision(Section):
    """Deadlines, reminders, escalations and liveness (issue 5; docs/supervision.md)."""

    policy: Path | None = Field(None, description="deadline policy table; default: the shipped config/deadlines.yaml")
    holidays: Path | None = Field(
        None, description="holiday override file; default: the shipped config/holidays.yaml (re-read when it changes)"
    )
    remind_before_working_hours: float = Field(
        8.0, ge=0, description="a reminder (催办) goes out when this much office time (09:00–17:00 of working days) is left"
    )
    remind_after_fraction: float = Field(
        0.5, ge=0, le=1, description="...but not before this share of the period has run (short and 'at once' periods)"
    )
    non_delivery_after_hours: float = Field(
        4.0, gt=0, description="the court gets a non-delivery notice when the unit has not picked a document up by then"
    )
    unit_offline_after_minutes: float = Field(
        60.0, gt=0, description="a unit offline this long is reported to the linkage office (003 SPC–MPS 四(五): within 24 h)"
    )
    offline_exempt_kinds: list[UnitKind] = Field(
        default_factory=lambda: [UnitKind.COURT, UnitKind.LINKAGE_OFFICE],
        description="unit kinds whose being offline is not reported: courts connect when they publish "
        "(liandong publish) and the office is the one notified; what waits for them is kept and "
        "delivered when they connect",
    )
    hub_outage_after_minutes: float = Field(
        10.0, gt=0, description="a hub starting with its last heartbeat older than this reports the outage to the office"
    )
    scan_interval_seconds: float = Field(60.0, gt=0, description="how often the ledger is scanned (and the heartbeat written)")
    scan_batch: int = Field(200, ge=1, description="notices claimed and sealed per ledger transaction at most")
    clock_speed: float = Field(
        1.0, gt=0, description="supervision time runs this many times faster than real time (demos only)"
    )
    clock_start: AwareDatetime | None = Field(
        None, description="supervision time when the hub starts (demos and tests only; default: real time)"
    )

    @model_validator(mode="after")
    def _heartbeat_fits(self) -> "Supervision":
        # The heartbeat is written at every scan; an outage threshold shorter than two scans
        # (in supervision time) would report every restart as an outage.
        if self.hub_outage_after_minutes * 60 <= 2 * self.scan_interval_seconds * self.clock_speed:
            raise ValueError(
                "hub_outage_after_minutes must be longer than two scan intervals "
                f"({2 * self.scan_interval_seconds * self.clock_speed / 60:g} min of supervision time)"
            )
        return self


class HubConfig(Section):
    registry: Path
    broker: BrokerConnection
    identity: SealFiles
    trust: TrustFiles
    ledger: Ledger = Ledger()
    limits: Limits = Limits()
    delivery: Delivery = Delivery()
    supervision: Supervision = Supervision()
    instance: str | None = Field(
        None,
        min_length=1,
        max_length=100,
        description="this hub process's name among several on one ledger (owner of its deliveries, named in "
        "the audit); default: the CN of broker.cert, i.e. its MQTT identity",
    )
    workers: int = Field(2, description="processes checking documents in parallel; 0 checks in the hub process")
    worker_niceness: int = Field(
        5,
        ge=0,
        le=19,
        description="how much lower the workers' CPU priority is than the hub process's (Unix nice): "
        "the one pipeline thread writing the ledger goes first when both want a core",
    )
    health_port: int | None = Field(
        None,
        ge=0,
        le=65535,
        description="serve GET /healthz (503 while the hub refuses work), /readyz (503 naming each failing check) "
        "and /metrics (Prometheus) on this port; none without",
    )
    health_host: str = Field("127.0.0.1", description="address the health endpoint listens on")
    seal_expiry_warning_days: float = Field(
        30.0,
        ge=0,
        description="/readyz says not ready (HUB_SEAL_EXPIRING) when the hub's seal certificate expires within "
        "this many days: time to renew it before its receipts stop verifying",
    )
    batch_size: int = Field(100, description="documents checked together by one worker at most (the ledger commits what a step brings in one transaction)")


def load_hub_config(path: str | Path, *, check_files: bool = True) -> HubConfig:
    """The hub's configuration file; ``check_files=False`` for tools that read only its ledger
    and registry settings (``liandong ledger``, ``liandong report``), which need no keys."""
    return load_config(path, HubConfig, code="HUB_CONFIG_INVALID", check_files=check_files)
