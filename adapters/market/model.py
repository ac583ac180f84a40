"""The market-regulation register's own records: companies, shareholders, equity freezes, publicity.

Native types, independent of the network's document models (the adapter maps between them).
Outcomes are pydantic models so that :class:`adapters.sdk.IdempotentLedger` records them with
the operation, exactly once.
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


class CompanyKind(StrEnum):
    LLC = "LLC"  # 有限责任公司: shareholders are registered here (002 四.17 股东变更登记)
    JOINT_STOCK = "JointStock"  # 股份有限公司: shares are not in this register


class FreezeState(StrEnum):
    EFFECTIVE = "Effective"  # 冻结
    ROTATING = "Rotating"  # 轮候冻结
    RELEASED = "Released"  # 解除冻结
    TRANSFERRED = "Transferred"  # ended by the freezing court's own forced transfer
    LAPSED = "Lapsed"  # a rotating freeze that can never take effect: the equity was transferred


LIVE_FREEZES = (FreezeState.EFFECTIVE, FreezeState.ROTATING)


class Party(BaseModel):
    """A shareholder, debtor or transferee: name and code (resident ID number or USCC)."""

    name: str
    code: str


class CourtOrder(BaseModel):
    """Who asks, in which case, with which notice and item (see the real-estate register)."""

    court: str
    court_name: str
    case_number: str | None = None
    document_id: str | None = None
    item_id: str | None = None
    via_network: bool = True


class Company(BaseModel):
    code: str
    name: str
    kind: CompanyKind
    legal_representative: Party | None = None
    registered_capital: Decimal
    status: str  # 存续, 注销, 吊销 ...
    established_on: date | None = None
    address: str | None = None


class Holding(BaseModel):
    """A shareholder's contribution (出资) in a company; the ratio follows from the capital."""

    company_code: str
    company_name: str
    holder: Party
    contribution: Decimal
    ratio: Decimal


class Freeze(BaseModel):
    id: int
    company_code: str
    holder: Party
    amount: Decimal | None
    """The contribution the court asked to freeze; None: the whole holding."""
    state: FreezeState
    order: CourtOrder
    period_start: date
    period_end: date
    registered_at: datetime
    effective_at: datetime | None = None
    ended_at: datetime | None = None


class PublicityEntry(BaseModel):
    """An entry of the 司法协助 column of the enterprise credit information publicity system
    (002 四.17), published within 3 working days of receipt."""

    id: int
    company_code: str
    category: str
    holder_name: str
    amount: Decimal | None = None
    order: CourtOrder
    received_on: date
    due_by: date | None
    """The last day allowed (3 working days after receipt); None when the working-day calendar
    does not cover the period yet (config/holidays.yaml)."""
    published_on: date

    @property
    def in_time(self) -> bool:
        return self.due_by is None or self.published_on <= self.due_by


class Change(BaseModel):
    """A change registration (变更登记) in the company's file."""

    company_code: str
    changed_on: date
    item: str
    before: str
    after: str


# --- outcomes ---------------------------------------------------------------------------------------


class FreezeOutcome(BaseModel):
    freeze: Freeze
    queue_position: int
    prior: list[Freeze]
    frozen: Decimal
    """The contribution frozen (or to be frozen, for a rotating freeze)."""
    publicity: PublicityEntry


class UnfreezeOutcome(BaseModel):
    released: Freeze
    released_amount: Decimal | None = None
    """Set for a partial unfreeze: the contribution released; the freeze goes on for the rest."""
    promoted: Freeze | None = None
    publicity: list[PublicityEntry]


class TransferOutcome(BaseModel):
    company_code: str
    transferred: Decimal
    before: list[Holding]
    after: list[Holding]
    ended: list[Freeze]
    lapsed: list[Freeze]
    publicity: PublicityEntry
    registered_at: datetime
