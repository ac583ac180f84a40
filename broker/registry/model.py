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
from broker.yamlfile import LocatedError, load_yaml_model


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


def _check_fingerprints(value: list[str]) -> list[str]:
    """SHA-256 certificate pins, normalised to lower-case hex without colons."""
    out = []
    for fp in value:
        norm = fp.replace(":", "").lower()
        if not re.fullmatch(r"[0-9a-f]{64}", norm):
            raise ValueError(f"{fp!r} is not a SHA-256 fingerprint")
        out.append(norm)
    return out


_PINS_DESCRIPTION = (
    "optional SHA-256 pins of the signing certificates; empty: any certificate from the trust "
    "anchors that names this code"
)


class UnitEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str
    name: str
    kind: UnitKind
    region: str = Field(pattern=r"^\d{6}$", description="administrative division code (GB/T 2260)")
    accepts: list[str] | None = Field(
        default=None, description="document types the unit receives; default: all its kind can receive"
    )
    certificate_fingerprints: list[str] = Field(default_factory=list, description=_PINS_DESCRIPTION)
    enforcement_accounts: list[EnforcementAccountEntry] = Field(default_factory=list)
    superior: str | None = Field(
        default=None,
        description="courts: unit code of the superior court, which takes complaints about this court's "
        "entrustments (003 事项委托 art. 13)",
    )

    _code = field_validator("code")(_check_code)

    @field_validator("kind")
    @classmethod
    def _not_the_hub(cls, value: UnitKind) -> UnitKind:
        # The hub's seal attests service (DOMAIN.md); a unit of kind Hub would be trusted to
        # issue service receipts. The hub is described once, under ``hub:``.
        if value is UnitKind.HUB:
            raise ValueError("a unit cannot be of kind Hub: the hub is described under 'hub:'")
        return value

    @field_validator("accepts")
    @classmethod
    def _known_types(cls, value: list[str] | None) -> list[str] | None:
        for t in value or []:
            if t not in DIRECTIONS:
                raise ValueError(f"unknown document type {t!r}")
        return value

    _fingerprints = field_validator("certificate_fingerprints")(_check_fingerprints)

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
    certificate_fingerprints: list[str] = Field(
        default_factory=list,
        description=_PINS_DESCRIPTION + " (the hub's seal: service receipts, rejections, supervision notices)",
    )

    _code = field_validator("code")(_check_code)
    _fingerprints = field_validator("certificate_fingerprints")(_check_fingerprints)

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
        for i, unit in enumerate(self.units):
            if unit.code in seen:
                raise LocatedError(f"unit code {unit.code} appears twice (or is the hub's)", ("units", i, "code"))
            seen.add(unit.code)
        office = next((u for u in self.units if u.code == self.office), None)
        if office is None or office.kind is not UnitKind.LINKAGE_OFFICE:
            raise LocatedError(f"office {self.office} must be a listed unit of kind LinkageOffice", ("office",))
        # One office per network (DOMAIN.md, "the linkage office"): another unit of that kind
        # would be allowed what only the office may send (supervision, anomaly notices).
        for i, unit in enumerate(self.units):
            if unit.kind is UnitKind.LINKAGE_OFFICE and unit.code != self.office:
                raise LocatedError(
                    f"unit {unit.code} is of kind LinkageOffice: only the office ({self.office}) may have that kind",
                    ("units", i, "kind"),
                )
        # A superior court is a listed court (003 事项委托 art. 13: complaints go there).
        courts = {u.code for u in self.units if u.kind is UnitKind.COURT}
        for i, unit in enumerate(self.units):
            if unit.superior is not None and (unit.kind is not UnitKind.COURT or unit.superior not in courts - {unit.code}):
                raise LocatedError(
                    f"unit {unit.code}: superior {unit.superior} must be another listed unit of kind Court, "
                    "and only courts have one",
                    ("units", i, "superior"),
                )
        return self

    @cached_property
    def _by_code(self) -> dict[str, UnitEntry]:
        return {u.code: u for u in self.units}

    def unit(self, code: str) -> UnitEntry | None:
        return self._by_code.get(code)

    def pins(self, code: str) -> list[str]:
        """The certificate pins of the hub or a unit (empty: not pinned or unknown)."""
        if code == self.hub.code:
            return self.hub.certificate_fingerprints
        unit = self._by_code.get(code)
        return unit.certificate_fingerprints if unit else []

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
