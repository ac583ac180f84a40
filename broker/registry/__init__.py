"""The member registry: the network's source of truth for units, the hub and the office."""

from broker.registry.model import EnforcementAccountEntry, HubEntry, Registry, UnitEntry, load_registry

__all__ = ["EnforcementAccountEntry", "HubEntry", "Registry", "UnitEntry", "load_registry"]
