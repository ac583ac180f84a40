"""A clustered broker: three ``nats-server`` nodes with their MQTT 3.1.1 listeners, configured
from the member registry (docs/deployment.md, "Clustered broker (NATS)")."""

from broker.nats.config import ClusterSettings, NodeSettings, render_node, subject, write_cluster_config
from broker.nats.runner import (
    NatsCluster,
    NatsNotFound,
    NatsStartError,
    find_nats_server,
    require_mqtt_support,
)

__all__ = [
    "ClusterSettings",
    "NatsCluster",
    "NatsNotFound",
    "NatsStartError",
    "NodeSettings",
    "find_nats_server",
    "render_node",
    "require_mqtt_support",
    "subject",
    "write_cluster_config",
]
