"""The topic layout of the network (docs/topics.md).

Each unit owns four topics under ``liandong/v1/<unit code>/``:

- ``out``    — the unit publishes its signed documents here (only the unit may write; the hub reads);
- ``in``     — the hub delivers documents for the unit here (only the hub writes; only the unit reads);
- ``ack``    — the unit confirms it has stored what arrived on ``in`` (JSON, see :mod:`broker.transport.acks`);
  this end-to-end acknowledgement, not the broker's PUBACK, ends the hub's redelivery, because a
  broker restart can lose queued messages (docs/contributing.md);
- ``status`` — retained ``online``/``offline`` state, the offline value set as the unit's last will.

The broker's ACL (generated from the registry by :mod:`broker.mosquitto.config`) enforces who may
read and write each topic; the hub identifies a publisher by the topic it arrived on.
"""

from __future__ import annotations

PREFIX = "liandong/v1"
CHANNELS = ("out", "in", "ack", "status")


def topic(unit: str, channel: str) -> str:
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    return f"{PREFIX}/{unit}/{channel}"


def inbox(unit: str) -> str:
    return topic(unit, "in")


def outbox(unit: str) -> str:
    return topic(unit, "out")


def acks(unit: str) -> str:
    return topic(unit, "ack")


def status(unit: str) -> str:
    return topic(unit, "status")


def all_units(channel: str) -> str:
    """The wildcard subscription the hub uses for one channel of every unit."""
    return topic("+", channel)


def parse(name: str) -> tuple[str, str] | None:
    """``(unit, channel)`` of a liandong topic, or None for anything else."""
    parts = name.split("/")
    if len(parts) != 4 or "/".join(parts[:2]) != PREFIX or parts[3] not in CHANNELS or not parts[2]:
        return None
    return parts[2], parts[3]
