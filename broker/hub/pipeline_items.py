"""What the hub's pipeline carries from one step to the next (:mod:`broker.hub.service`): the
messages it received, the batches its workers check, what a failed commit holds back, and its
counters."""

from __future__ import annotations

import dataclasses
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime

from broker.hub.intake import Intake, Payload


@dataclass
class Message:
    """One MQTT message the hub received, as its pipeline carries it."""

    kind: str  # "doc" | "ack" | "status"
    mid: int
    gen: int
    unit: str
    payload: bytes
    received_at: datetime


@dataclass
class Batch:
    """Messages checked together by one worker, and what became of them."""

    messages: list[Message]
    payloads: list[Payload]
    future: Future[list[Intake]] | None = None
    results: list[Intake] | None = None
    submitted_at: float = field(default_factory=time.monotonic)
    submitted_wall: float = field(default_factory=time.time)  # against the reception (wall clock)
    checked_at: float | None = None  # results ready (metrics: check time per batch)


@dataclass
class Held:
    """What commits could not write yet (the ledger's disk was full), in arrival order."""

    batches: list[Batch] = field(default_factory=list)
    acks: list[Message] = field(default_factory=list)
    published: list[int] = field(default_factory=list)

    def take(
        self, batches: list[Batch], acks: list[Message], published: list[int]
    ) -> tuple[list[Batch], list[Message], list[int]]:
        held = (self.batches + batches, self.acks + acks, self.published + published)
        self.batches, self.acks, self.published = [], [], []
        return held

    def keep(self, batches: list[Batch], acks: list[Message], published: list[int]) -> None:
        self.batches, self.acks, self.published = batches, acks, published

    def documents(self) -> int:
        return sum(len(b.messages) for b in self.batches)

    def __bool__(self) -> bool:
        return bool(self.batches or self.acks or self.published)


@dataclass
class HubStats:
    """The hub's counters since it started (its log at stop, /metrics, tests)."""

    accepted: int = 0
    rejected: int = 0
    duplicates: int = 0
    delivered: int = 0
    published: int = 0
    redelivered: int = 0
    flood_episodes: int = 0
    # for /metrics (broker.hub.metrics): bounded keys, (document type, sender's unit kind) and codes;
    # plain dicts, as a copy per commit of a Counter costs ten times more
    accepted_by: dict[tuple[str, str], int] = field(default_factory=dict)
    rejected_by: dict[str, int] = field(default_factory=dict)
    started_at: float = field(default_factory=time.monotonic)

    def copy(self) -> "HubStats":
        """A copy to restore when a commit is rolled back (the dicts copied, not shared)."""
        return dataclasses.replace(self, accepted_by=self.accepted_by.copy(), rejected_by=self.rejected_by.copy())

    def restore(self, saved: "HubStats") -> None:
        """Take back the counts of ``saved`` (a :meth:`copy` made before a commit that was rolled
        back), in place: the document recorder and /metrics hold this very object."""
        for f in dataclasses.fields(self):
            setattr(self, f.name, getattr(saved, f.name))
