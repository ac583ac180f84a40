"""The member registry file (YAML) and its model.

One file lists every member unit of the network (成员单位) with its unified social credit code,
name, kind, region and the document types it accepts, plus the hub's identity and the linkage
office (001 art. 22; 002 三(二)). The broker's ACLs, the hub's routing and the rules' unit-kind
checks are all derived from it; see docs/registry.md.
"""

from __future__ import annotations

import re
from functools import cached_property
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from broker.documents.catalogue import DIRECTIONS, UnitKind, accepted_types
from broker.documents.identifiers import uscc_is_valid
from broker.yamlfile import load_yaml_model


def _check_code(value: str) -> str:
    if not uscc_is_valid(value):
        raise ValueError(f"{value!r} is not a valid unified social credit code (GB 32100-2015)")
    return value


class EnforcementAccountEntry(BaseModel):
    """A court's registered enforcement account (执行款专户, 003 bank rules 4)."""

    model_config = ConfigDict(extra="forbid")
    bank_name: str
    account_number: str
    account_name: str
    currency: str = "CNY"


class UnitEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str
    name: str
    kind: UnitKind
    region: str = Field(pattern=r"^\d{6}$", description="administrative division code (GB/T 2260)")
    accepts: list[str] | None = Field(
        default=None, description="document types the unit receives; default: all its kind can receive"
    )
    certificate_fingerprints: list[str] = Field(
        default_factory=list,
        description="optional SHA-256 pins of the unit's signing certificates; empty: any certificate "
        "from the trust anchors that names this unit code",
    )
    enforcement_accounts: list[EnforcementAccountEntry] = Field(default_factory=list)

    _code = field_validator("code")(_check_code)

    @field_validator("accepts")
    @classmethod
    def _known_types(cls, value: list[str] | None) -> list[str] | None:
        for t in value or []:
            if t not in DIRECTIONS:
                raise ValueError(f"unknown document type {t!r}")
        return value

    @field_validator("certificate_fingerprints")
    @classmethod
    def _fingerprints(cls, value: list[str]) -> list[str]:
        out = []
        for fp in value:
            norm = fp.replace(":", "").lower()
            if not re.fullmatch(r"[0-9a-f]{64}", norm):
                raise ValueError(f"{fp!r} is not a SHA-256 fingerprint")
            out.append(norm)
        return out

    @property
    def accepted(self) -> frozenset[str]:
        return frozenset(self.accepts) if self.accepts is not None else accepted_types(self.kind)


_INSTANCE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,14}[a-z0-9])?$")


class HubEntry(BaseModel):
    """The hub: one signing identity (its code and seal), run by one or more processes.

    ``instances`` names the hub processes that share the load on one broker and one ledger
    (docs/deployment.md, "Several hubs"). Instance ``a`` of hub ``<code>`` connects with a TLS
    certificate whose CN is ``<code>-a``: its MQTT username and client id, with the hub's
    permissions in the broker's ACL. The hyphen keeps it apart from every unit code (a unified
    social credit code has none). The hub's own CN (``<code>``) stays valid for a single hub.
    """

    model_config = ConfigDict(extra="forbid")
    code: str
    name: str
    instances: list[str] = Field(
        default_factory=list,
        description="names of the hub processes sharing the load (lower-case letters, digits, '-', "
        "at most 16); instance 'a' connects as '<code>-a'",
    )

    _code = field_validator("code")(_check_code)

    @field_validator("instances")
    @classmethod
    def _instance_names(cls, value: list[str]) -> list[str]:
        for name in value:
            if not _INSTANCE.match(name):
                raise ValueError(
                    f"hub instance {name!r}: 1-16 lower-case letters, digits and '-', not starting or ending with '-'"
                )
        if len(set(value)) != len(value):
            raise ValueError("hub instance names must be unique")
        return value

    def instance_identity(self, instance: str) -> str:
        """The TLS CN (= MQTT username and client id) of one hub instance: ``<code>-<instance>``."""
        return f"{self.code}-{instance}"

    @property
    def identities(self) -> list[str]:
        """Every MQTT identity with the hub's permissions: the hub's code, then each instance's."""
        return [self.code, *(self.instance_identity(i) for i in self.instances)]


class Registry(BaseModel):
    """The whole network. Build with :func:`load_registry`; look units up with :meth:`unit`."""

    model_config = ConfigDict(extra="forbid")

    network: str
    hub: HubEntry
    office: str = Field(description="unit code of the linkage office")
    units: list[UnitEntry]

    @model_validator(mode="after")
    def _consistent(self) -> "Registry":
        seen: set[str] = {self.hub.code}
        for unit in self.units:
            if unit.code in seen:
                raise ValueError(f"unit code {unit.code} appears twice (or is the hub's)")
            seen.add(unit.code)
        office = next((u for u in self.units if u.code == self.office), None)
        if office is None or office.kind is not UnitKind.LINKAGE_OFFICE:
            raise ValueError(f"office {self.office} must be a listed unit of kind LinkageOffice")
        return self

    @cached_property
    def _by_code(self) -> dict[str, UnitEntry]:
        return {u.code: u for u in self.units}

    def unit(self, code: str) -> UnitEntry | None:
        return self._by_code.get(code)

    def kind_of(self, code: str) -> UnitKind | None:
        """The kind of a unit code, :attr:`UnitKind.HUB` for the hub, None when unknown."""
        if code == self.hub.code:
            return UnitKind.HUB
        unit = self._by_code.get(code)
        return unit.kind if unit else None

    def courts(self) -> list[UnitEntry]:
        return [u for u in self.units if u.kind is UnitKind.COURT]


def load_registry(path: str | Path) -> Registry:
    """Load and validate a registry file; errors name the file, the line and the problem."""
    return load_yaml_model(path, Registry, code="REG_INVALID")
