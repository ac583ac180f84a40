"""The real-estate register's own records (不动产登记簿): properties, seizures, halts, transfers.

These are the native system's types, independent of the network's document models; the adapter
maps between the two. Every outcome a register operation returns is a pydantic model, so that
:class:`adapters.sdk.IdempotentLedger` can record it with the operation (exactly once).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel

from adapters.sdk.native_db import Refusal

Refused = Refusal
"""The register cannot carry the request out; ``reason`` is for the court (the receipt's Reason,
003 bank rules 17). Never logged."""


class PropertyKind(StrEnum):
    HOUSE = "House"  # 房屋（含土地）
    LAND = "Land"  # 土地使用权
    MINING_RIGHT = "MiningRight"  # 采矿权
    EXPLORATION_RIGHT = "ExplorationRight"  # 探矿权


MINERAL_KINDS = frozenset({PropertyKind.MINING_RIGHT, PropertyKind.EXPLORATION_RIGHT})


class Registration(StrEnum):
    REGISTERED = "Registered"  # 已登记（不动产权证书）
    PRE_REGISTERED = "PreRegistered"  # 仅有预告登记（预售商品房）: the object of a pre-seizure


class SeizureState(StrEnum):
    EFFECTIVE = "Effective"  # 查封（预查封）生效
    ROTATING = "Rotating"  # 轮候查封, waiting behind the effective one
    RELEASED = "Released"  # 解封
    TRANSFERRED = "Transferred"  # ended by the seizing court's own transfer (过户)
    LAPSED = "Lapsed"  # a rotating seizure that can never take effect: the property was transferred


LIVE_SEIZURES = (SeizureState.EFFECTIVE, SeizureState.ROTATING)


class ChangeState(StrEnum):
    PENDING = "Pending"  # 正在办理
    HALTED = "Halted"  # 停止办理 on a court's notice (001 arts. 11–12)
    COMPLETED = "Completed"
    REFUSED = "Refused"


class Party(BaseModel):
    """An owner, debtor or transferee: name and code (resident ID number or USCC)."""

    name: str
    code: str


class PropertyRef(BaseModel):
    """How a notice names a property: unit number, certificate number, location (any of them)."""

    unit_number: str | None = None
    certificate_number: str | None = None
    location: str


class CourtOrder(BaseModel):
    """Who asks, in which case, with which notice and item: kept with every registration so
    the register can tell that court later (rotating seizure taking effect) and check who may
    lift or dispose (001 arts. 12, 21)."""

    court: str
    court_name: str
    case_number: str | None = None
    document_id: str | None = None
    item_id: str | None = None
    via_network: bool = True
    """False for orders registered on paper before the network: no reply can be routed to them."""


class Mortgage(BaseModel):
    holder: str
    amount: Decimal | None = None
    registered_on: date | None = None


class Seizure(BaseModel):
    id: int
    property_id: int
    kind: str  # the measure asked: PropertySeize, PropertyPreSeize, PropertyRotatingSeize
    state: SeizureState
    order: CourtOrder
    period_start: date
    period_end: date
    registered_at: datetime
    effective_at: datetime | None = None
    ended_at: datetime | None = None


class ChangeRegistration(BaseModel):
    """A change registration a party applied for (转移、抵押、变更登记)."""

    id: int
    property_id: int
    kind: str
    applicant: Party
    filed_at: datetime
    state: ChangeState
    halted_by: int | None = None


class PlanningApproval(BaseModel):
    """A planning permit or a pending application for one (001 art. 12)."""

    id: int
    holder: Party
    project_code: str
    project_name: str
    permit_number: str | None = None
    state: str  # Approved, Pending, Halted
    issued_on: date | None = None
    halted_by: int | None = None


class Property(BaseModel):
    id: int
    kind: PropertyKind
    registration: Registration
    unit_number: str | None = None
    certificate_number: str | None = None
    location: str
    owner: Party
    area: Decimal | None = None
    use: str | None = None
    mortgages: list[Mortgage] = []
    seizures: list[Seizure] = []
    """Live seizures in queue order: the effective one first, then the rotating ones."""
    pending_changes: list[ChangeRegistration] = []


class Halt(BaseModel):
    id: int
    property_id: int | None = None
    project_code: str | None = None
    scope: str
    order: CourtOrder
    active: bool
    registered_at: datetime
    lifted_at: datetime | None = None


# --- outcomes of the operations (recorded once per idempotency key) ----------------------------


class SeizureOutcome(BaseModel):
    seizure: Seizure
    queue_position: int
    prior: list[Seizure]
    """The live seizures before this one, in order (position 1 first)."""
    owner_matches: bool


class ReleaseOutcome(BaseModel):
    released: Seizure
    promoted: Seizure | None = None
    """The rotating seizure that took effect because the released one was effective."""


class TransferOutcome(BaseModel):
    property_id: int
    previous_owner: Party
    transferee: Party
    registered_at: datetime
    ended: list[Seizure]
    """This court's own seizures of the property, ended by the transfer."""
    lapsed: list[Seizure]
    """Other courts' rotating seizures, which can no longer take effect."""
    owner_matches: bool


class HaltOutcome(BaseModel):
    halt: Halt
    halted_changes: list[ChangeRegistration]
    halted_approvals: list[PlanningApproval]


class LiftOutcome(BaseModel):
    halt: Halt
    resumed_changes: int
    resumed_approvals: int
