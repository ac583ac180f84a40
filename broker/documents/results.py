"""What a unit reports back in a receipt of result (协助执行结果回执).

The fields follow the bank rules, which are the most precise seed: requested and actual
frozen amounts, the period, earlier freezes in order (rule 10), deducted and not-deducted
amounts (rule 15), priority rights (rule 12), and the reason when a measure could not be
carried out (rule 17). The same fields serve the other unit kinds: a rotating seizure reports
its queue position and the earlier seizures, a publicity reports its date, and so on.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Union
from uuid import UUID

from pydantic import AwareDatetime, Field

from broker.documents.common import (
    BankAccount,
    EquityHolding,
    FundAccount,
    Gender,
    InsurancePolicy,
    Money,
    Period,
    RealEstate,
    SecuritiesAccount,
    Token,
    Vehicle,
)
from broker.documents.xmlmodel import XmlModel, attribute


class ResultStatus(StrEnum):
    EXECUTED = "Executed"
    PARTIALLY_EXECUTED = "PartiallyExecuted"  # e.g. a limit freeze when the balance is short (rule 10)
    ROTATING = "Rotating"  # queued behind an earlier freeze or seizure
    NOT_EXECUTED = "NotExecuted"  # with the reason (rule 17)


class PriorMeasure(XmlModel):
    """An earlier freeze or seizure on the same asset, in order (先前顺序冻结记录, rule 10)."""

    position: int
    authority: Token
    authority_code: Token | None = None
    case_number: Token | None = None
    document_id: UUID | None = None
    amount: Money | None = None
    period: Period | None = None


class PriorityKind(StrEnum):
    PLEDGE = "Pledge"
    MARGIN = "Margin"
    MORTGAGE = "Mortgage"
    CO_OWNERSHIP = "CoOwnership"
    OTHER = "Other"


class PriorityRight(XmlModel):
    """A pledge, margin or other priority right; not counted as frozen value (rule 12)."""

    holder: Token
    kind: PriorityKind
    amount: Money | None = None


class MeasureResult(XmlModel):
    xml_tag = "MeasureResult"
    measure_id: Token = attribute()
    status: ResultStatus
    requested_amount: Money | None = None
    actual_amount: Money | None = None
    period: Period | None = None
    queue_position: int | None = None
    prior_measures: list[PriorMeasure] = Field(default_factory=list, alias="PriorMeasure")
    deducted_amount: Money | None = None
    not_deducted_amount: Money | None = None
    priority_rights: list[PriorityRight] = Field(default_factory=list, alias="PriorityRight")
    effective_at: AwareDatetime | None = None
    publicity_date: date | None = None
    reason: str | None = None
    remark: str | None = None


class ReleaseStatus(StrEnum):
    RELEASED = "Released"
    NOT_RELEASED = "NotReleased"


class ReleaseResult(XmlModel):
    xml_tag = "ReleaseResult"
    release_id: Token = attribute()
    status: ReleaseStatus
    released_amount: Money | None = None
    effective_at: AwareDatetime | None = None
    publicity_date: date | None = None  # an equity unfreeze is publicised too (002 四.17)
    reason: str | None = None
    remark: str | None = None


# --- query result records ---------------------------------------------------------------------


class AccountStatus(StrEnum):
    NORMAL = "Normal"
    FROZEN = "Frozen"
    DORMANT = "Dormant"
    CLOSED = "Closed"


class BankAccountRecord(XmlModel):
    """An account as rule 7 lists it: opening, branch, holder, type, status, balance, freezes."""

    xml_tag = "BankAccountRecord"
    account: BankAccount
    branch_name: Token | None = None
    opened_on: date | None = None
    account_type: Token | None = None
    account_status: AccountStatus
    balance: Money | None = None
    available_balance: Money | None = None
    phone: Token | None = None
    freezes: list[PriorMeasure] = Field(default_factory=list, alias="Freeze")
    priority_rights: list[PriorityRight] = Field(default_factory=list, alias="PriorityRight")


class Direction(StrEnum):
    DEBIT = "Debit"
    CREDIT = "Credit"


class TransactionRecord(XmlModel):
    """One line of the transaction details for the queried period (rule 6)."""

    xml_tag = "TransactionRecord"
    account_number: Token
    time: AwareDatetime
    direction: Direction
    amount: Money
    balance_after: Money | None = None
    counterparty_name: Token | None = None
    counterparty_account: Token | None = None
    counterparty_bank: Token | None = None
    summary: Token | None = None


class PersonRecord(XmlModel):
    """Identity and household data (003 SPC–MPS 二(二)1)."""

    xml_tag = "PersonRecord"
    name: Token
    id_number: Token
    gender: Gender | None = None
    birth_date: date | None = None
    former_names: list[Token] = Field(default_factory=list, alias="FormerName")
    household_address: Token | None = None
    residence: Token | None = None
    phone: Token | None = None


class BorderCrossing(XmlModel):
    time: AwareDatetime
    direction: Token
    port: Token | None = None
    destination: Token | None = None


class TravelDocumentRecord(XmlModel):
    """Exit and entry documents and crossings (003 SPC–MPS 二(二)2–3)."""

    xml_tag = "TravelDocumentRecord"
    document_kind: Token
    document_number: Token
    valid_until: date | None = None
    crossings: list[BorderCrossing] = Field(default_factory=list, alias="Crossing")


class HotelStayRecord(XmlModel):
    """Hotel stays (003 SPC–MPS 二(二)5)."""

    xml_tag = "HotelStayRecord"
    hotel_name: Token
    hotel_address: Token | None = None
    check_in: AwareDatetime
    check_out: AwareDatetime | None = None


class VehicleRecord(XmlModel):
    """Vehicle registration (003 SPC–MPS 二(二)4)."""

    xml_tag = "VehicleRecord"
    vehicle: Vehicle
    model: Token | None = None
    vehicle_type: Token | None = None
    registered_on: date | None = None
    registration_authority: Token | None = None
    mortgagee: Token | None = None
    seizures: list[PriorMeasure] = Field(default_factory=list, alias="Seizure")


class PropertyRecord(XmlModel):
    """Real estate, land or mining right with its encumbrances and seizures (001 arts. 11–12)."""

    xml_tag = "PropertyRecord"
    property: RealEstate
    owner_name: Token | None = None
    area: Decimal | None = None
    use: Token | None = None
    encumbrances: list[PriorityRight] = Field(default_factory=list, alias="Encumbrance")
    seizures: list[PriorMeasure] = Field(default_factory=list, alias="Seizure")


class CompanyRecord(XmlModel):
    """Company registration, changes and investments (001 art. 17; 002 四.17)."""

    xml_tag = "CompanyRecord"
    name: Token
    unit_code: Token
    legal_representative: Token | None = None
    registered_capital: Money | None = None
    status: Token | None = None
    established_on: date | None = None
    address: Token | None = None
    investments: list[EquityHolding] = Field(default_factory=list, alias="Investment")


class EquityRecord(XmlModel):
    xml_tag = "EquityRecord"
    equity: EquityHolding
    freezes: list[PriorMeasure] = Field(default_factory=list, alias="Freeze")


class TaxRefundRecord(XmlModel):
    """Refund account, amount and time (001 art. 16)."""

    xml_tag = "TaxRefundRecord"
    refund_account: BankAccount | None = None
    refund_amount: Money | None = None
    refund_date: date | None = None


class FundRecord(XmlModel):
    xml_tag = "FundRecord"
    account: FundAccount
    balance: Money | None = None
    status: Token | None = None


class SecuritiesRecord(XmlModel):
    xml_tag = "SecuritiesRecord"
    account: SecuritiesAccount
    market_value: Money | None = None
    settlement_funds: Money | None = None


class InsuranceRecord(XmlModel):
    xml_tag = "InsuranceRecord"
    policy: InsurancePolicy
    claim_amount: Money | None = None
    cash_value: Money | None = None


class ListingRecord(XmlModel):
    """Whether a subject is on the dishonest-debtor list (003 失信规定 arts. 7–8)."""

    xml_tag = "ListingRecord"
    listed: bool
    listing_document_id: UUID | None = None
    court: Token | None = None
    case_number: Token | None = None
    listed_on: date | None = None
    period_end: date | None = None


class RecordField(XmlModel):
    name: Token
    value: str


class GenericRecord(XmlModel):
    """Any other result as named fields (marriage registration, planning approvals, ...)."""

    xml_tag = "GenericRecord"
    kind: Token
    fields: list[RecordField] = Field(default_factory=list, alias="Field")


Record = Union[
    BankAccountRecord,
    TransactionRecord,
    PersonRecord,
    TravelDocumentRecord,
    HotelStayRecord,
    VehicleRecord,
    PropertyRecord,
    CompanyRecord,
    EquityRecord,
    TaxRefundRecord,
    FundRecord,
    SecuritiesRecord,
    InsuranceRecord,
    ListingRecord,
    GenericRecord,
]


class QueryStatus(StrEnum):
    FOUND = "Found"
    NOT_FOUND = "NotFound"  # 查无开户信息 (rule 7)
    NOT_EXECUTED = "NotExecuted"


class QueryResult(XmlModel):
    xml_tag = "QueryResult"
    query_id: Token = attribute()
    status: QueryStatus
    records: list[Record] = Field(default_factory=list)
    reason: str | None = None


Result = Union[MeasureResult, QueryResult, ReleaseResult]
