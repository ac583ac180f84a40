"""Mosquitto, the network's MQTT broker: configuration generated from the registry, and a runner."""

from broker.mosquitto.config import BrokerSettings, render_acl, render_config, write_config
from broker.mosquitto.runner import (
    MosquittoNotFound,
    MosquittoProcess,
    MosquittoStartError,
    find_mosquitto,
    free_port,
)

__all__ = [
    "BrokerSettings",
    "MosquittoNotFound",
    "MosquittoProcess",
    "MosquittoStartError",
    "find_mosquitto",
    "free_port",
    "render_acl",
    "render_config",
    "write_config",
]
