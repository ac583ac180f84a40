"""The body of each document type: one per row of DOMAIN.md's "Documents" table, plus the
notices the hub itself issues (service receipt, rejection, non-delivery, anomaly, outstanding
measures) and the unit's measure-status notice.

Who may send each type to whom is in :mod:`broker.documents.catalogue`.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Union
from uuid import UUID

from pydantic import AwareDatetime, Field

from broker.documents.common import (
    MeasureRef,
    Money,
    NaturalPerson,
    Officer,
    RulingRef,
    Subject,
    Token,
    Vehicle,
)
from broker.documents.measures import Measure, Release
from broker.documents.queries import Query
from broker.documents.results import Result, ResultStatus
from broker.documents.xmlmodel import XmlModel, attribute

# --- court → unit ---------------------------------------------------------------------------------


class AssistanceNotice(XmlModel):
    """协助执行通知书: the measures a unit must carry out (001 art. 19; 004 art. 32)."""

    xml_tag = "AssistanceNotice"
    ruling: RulingRef | None = None
    measures: list[Measure] = Field(min_length=1)
    remark: str | None = None


class QueryNotice(XmlModel):
    """协助查询通知书 with its query list (003 bank rules 6)."""

    xml_tag = "QueryNotice"
    queries: list[Query] = Field(min_length=1, alias="Query")
    remark: str | None = None


class EnforcementRuling(XmlModel):
    """执行裁定书: the legal basis sent with a measure (003 bank rules 9)."""

    xml_tag = "EnforcementRuling"
    ruling_number: Token
    ruling_date: date
    court_name: Token
    decision: str
    legal_basis: str | None = None


class CredentialKind(StrEnum):
    ENFORCEMENT_CERTIFICATE = "EnforcementCertificate"  # 执行公务证
    WORK_CERTIFICATE = "WorkCertificate"  # 工作证


class CredentialScan(XmlModel):
    """A scan of an officer's credential, base64 in the XML (003 bank rules 3)."""

    content: bytes = Field(json_schema_extra={"xml_text": True, "xml_base64": True})
    mime_type: Token = attribute()


class OfficerCredential(XmlModel):
    name: Token
    phone: Token
    credential_number: Token
    credential_kind: CredentialKind
    scan: CredentialScan | None = None


class OfficerCredentials(XmlModel):
    """执行公务证/工作证 of the officers handling the case (003 bank rules 3; 002 四.7)."""

    xml_tag = "OfficerCredentials"
    officers: list[OfficerCredential] = Field(min_length=1, alias="Officer")


class ReleaseNotice(XmlModel):
    """解除通知: lift earlier measures (001 art. 21; 003 SPC–MPS 三(三))."""

    xml_tag = "ReleaseNotice"
    ruling: RulingRef | None = None
    releases: list[Release] = Field(min_length=1, alias="Release")


class CaseOutcome(StrEnum):
    PERFORMED = "Performed"  # 执行完毕
    SETTLED = "Settled"  # 和解履行完毕
    TERMINATED = "Terminated"  # 终结执行
    CONCLUDED_THIS_ROUND = "ConcludedThisRound"  # 终结本次执行程序
    NOT_ENFORCED = "NotEnforced"  # 不予执行
    WITHDRAWN = "Withdrawn"  # 撤回申请


class CaseCompletedNotice(XmlModel):
    """结案通报: every unit that acted in the case is told so it stops (004 art. 35)."""

    xml_tag = "CaseCompletedNotice"
    completed_on: date
    outcome: CaseOutcome
    remark: str | None = None


class DishonestConduct(StrEnum):
    """The six grounds of 003 失信规定 art. 1, in order."""

    ABLE_BUT_REFUSES = "AbleButRefuses"  # (一) 有履行能力而拒不履行
    OBSTRUCTS = "Obstructs"  # (二) 伪造证据、暴力、威胁等妨碍、抗拒执行
    EVADES = "Evades"  # (三) 虚假诉讼、隐匿转移财产等规避执行
    VIOLATES_PROPERTY_REPORTING = "ViolatesPropertyReporting"  # (四) 违反财产报告制度
    VIOLATES_CONSUMPTION_RESTRICTION = "ViolatesConsumptionRestriction"  # (五) 违反限制消费令
    BREAKS_SETTLEMENT = "BreaksSettlement"  # (六) 无正当理由拒不履行执行和解协议


class BasisDocument(XmlModel):
    """执行依据: the body that made it and its number (003 失信规定 art. 6(五))."""

    issuer: Token
    number: Token


class ListingPeriod(XmlModel):
    """Two years, extendable by one to three (003 失信规定 art. 2)."""

    base_years: int
    extension_years: int | None = None
    extension_reason: str | None = None


class DishonestListing(XmlModel):
    """失信被执行人名单 纳入: the art. 6 record; its document id identifies the listing."""

    xml_tag = "DishonestListing"
    subject: Subject
    obligation: str
    performance: str
    conducts: list[DishonestConduct] = Field(min_length=1, alias="Conduct")
    conduct_details: str
    basis: BasisDocument
    filed_on: date
    decision_date: date
    period: ListingPeriod | None = None


class ListingCorrection(XmlModel):
    field: Token
    value: str


class DishonestListingCorrection(XmlModel):
    """更正 of inaccurate listing information within 3 working days (003 失信规定 art. 9)."""

    xml_tag = "DishonestListingCorrection"
    listing: UUID
    corrections: list[ListingCorrection] = Field(min_length=1, alias="Correction")
    reason: str


class DishonestListingRevocation(XmlModel):
    """撤销 of a wrongful listing within 3 working days (003 失信规定 art. 9)."""

    xml_tag = "DishonestListingRevocation"
    listing: UUID
    reason: str


class DeletionGround(StrEnum):
    """003 失信规定 art. 10 (1)–(7), early deletion (art. 2) and expiry (art. 10 para. 2)."""

    PERFORMED = "Performed"
    SETTLEMENT_PERFORMED = "SettlementPerformed"
    APPLICANT_REQUEST = "ApplicantRequest"
    NO_PROPERTY_FOUND = "NoPropertyFound"
    SUSPENDED = "Suspended"
    NOT_ENFORCED = "NotEnforced"
    TERMINATED = "Terminated"
    EARLY_DELETION = "EarlyDeletion"
    PERIOD_EXPIRED = "PeriodExpired"


class DishonestListingDeletion(XmlModel):
    """删除 within 3 working days of a ground arising (003 失信规定 art. 10)."""

    xml_tag = "DishonestListingDeletion"
    listing: UUID
    ground: DeletionGround
    remark: str | None = None


class ConsumptionRestriction(StrEnum):
    """限制消费 measures carried out by transport, hotels and others (003 memorandum 19–22)."""

    FLIGHTS = "Flights"
    RAIL_PREMIUM_SEATS = "RailPremiumSeats"
    STAR_HOTELS = "StarHotels"
    NIGHTCLUBS_AND_GOLF = "NightclubsAndGolf"
    REAL_ESTATE_PURCHASE = "RealEstatePurchase"
    HOLIDAY_TRAVEL = "HolidayTravel"
    PRIVATE_SCHOOLS = "PrivateSchools"
    HIGH_PREMIUM_INSURANCE = "HighPremiumInsurance"
    LUXURY_VEHICLES = "LuxuryVehicles"


class ConsumptionRestrictionOrder(XmlModel):
    """限制消费令 for the debtor and, for organisations, its responsible persons."""

    xml_tag = "ConsumptionRestrictionOrder"
    subject: Subject
    responsible_persons: list[NaturalPerson] = Field(default_factory=list, alias="ResponsiblePerson")
    restrictions: list[ConsumptionRestriction] = Field(min_length=1, alias="Restriction")
    effective_from: date


class JudicialSuggestion(XmlModel):
    """司法建议函 to a supervising body (001 arts. 19, 24)."""

    xml_tag = "JudicialSuggestion"
    addressee: Token
    concern: str
    suggestion: str


class EntrustedItemKind(StrEnum):
    """The items a court may entrust to another (003 事项委托 art. 2)."""

    INVESTIGATION = "Investigation"
    SEIZURE = "Seizure"
    SERVICE = "Service"
    VALUATION = "Valuation"
    OTHER = "Other"


class EntrustedItem(XmlModel):
    kind: EntrustedItemKind
    description: str


class Attachment(XmlModel):
    """An accompanying legal document, by name and (when sent over the network) document id."""

    name: Token
    document_id: UUID | None = None


class ItemEntrustment(XmlModel):
    """事项委托 court → court; deadline 10–20 days, 24 hours when urgent (003 事项委托 arts. 4–6)."""

    xml_tag = "ItemEntrustment"
    items: list[EntrustedItem] = Field(min_length=1, alias="Item")
    urgent: bool = False
    attachments: list[Attachment] = Field(default_factory=list, alias="Attachment")


class EntrustmentOutcome(StrEnum):
    COMPLETED = "Completed"
    PARTLY_COMPLETED = "PartlyCompleted"
    MATERIAL_REQUESTED = "MaterialRequested"  # 003 事项委托 art. 10: supply within 3 days
    RETURNED = "Returned"


class EntrustmentFeedback(XmlModel):
    """办理反馈 from the entrusted court (003 事项委托 art. 11)."""

    xml_tag = "EntrustmentFeedback"
    outcome: EntrustmentOutcome
    result: str
    attachments: list[Attachment] = Field(default_factory=list, alias="Attachment")


class EntrustmentRating(XmlModel):
    """评价: the entrusting court rates a completed entrustment, in reply to the entrusted court's
    feedback, so the hub routes it back to that court (003 事项委托 art. 13)."""

    xml_tag = "EntrustmentRating"
    entrustment: UUID
    score: int = Field(ge=1, le=5)
    comment: str | None = None


class EntrustmentComplaint(XmlModel):
    """投诉: the entrusting court complains to the entrusted court's superior court and gives its
    reasons (003 事项委托 art. 13); RULE_NOT_SUPERIOR_COURT checks the recipient."""

    xml_tag = "EntrustmentComplaint"
    entrustment: UUID
    entrusted_court: Token
    reasons: str


class ComplaintExplanation(XmlModel):
    """说明情况: the court complained about explains itself to its superior court (003 事项委托 art. 13)."""

    xml_tag = "ComplaintExplanation"
    complaint: UUID
    explanation: str


# --- unit → court ---------------------------------------------------------------------------------


class ExecutionReceipt(XmlModel):
    """协助执行结果回执, sealed by the unit (003 bank rules 8, 15, 17)."""

    xml_tag = "ExecutionReceipt"
    results: list[Result] = Field(min_length=1)
    remark: str | None = None


class ExtensionNotice(XmlModel):
    """延期说明: the unit cannot finish in time and says why (002 四.7, 四.13, 四.14, 四.17)."""

    xml_tag = "ExtensionNotice"
    reason: str | None = None
    proposed_deadline: AwareDatetime | None = None
    items: list[Token] = Field(default_factory=list, alias="ItemId")


class ReviewSuggestion(XmlModel):
    """审查建议: an objection that never stops the measure (001 art. 20)."""

    xml_tag = "ReviewSuggestion"
    grounds: str
    items: list[Token] = Field(default_factory=list, alias="ItemId")
    measure_carried_out: bool


class PersonSighting(XmlModel):
    xml_tag = "PersonSighting"
    person: NaturalPerson
    location: Token
    seen_at: AwareDatetime
    remark: str | None = None


class VehicleSighting(XmlModel):
    xml_tag = "VehicleSighting"
    vehicle: Vehicle
    location: Token
    seen_at: AwareDatetime
    impounded: bool = False
    remark: str | None = None


class LeadReport(XmlModel):
    """线索通报: a person or vehicle found; the court is told within 24 hours (002 四.7(2))."""

    xml_tag = "LeadReport"
    regarding: MeasureRef | None = None
    sighting: Union[PersonSighting, VehicleSighting]
    contact: Officer | None = None


class MeasureStatusNotice(XmlModel):
    """A measure changed state without a new notice: a rotating freeze or seizure took effect
    when the one before it was released (001 art. 12; 003 bank rules 10)."""

    xml_tag = "MeasureStatusNotice"
    measure: MeasureRef
    status: ResultStatus
    effective_at: AwareDatetime
    actual_amount: Money | None = None
    reason: str | None = None


class PunishmentEntry(XmlModel):
    measure: Token
    count: int
    listings: list[UUID] = Field(default_factory=list, alias="Listing")


class PunishmentReport(XmlModel):
    """惩戒执行情况反馈, quarterly to the SPC and NDRC (003 memorandum 二)."""

    xml_tag = "PunishmentReport"
    year: int
    quarter: int
    entries: list[PunishmentEntry] = Field(default_factory=list, alias="Entry")


# --- hub and linkage office ---------------------------------------------------------------------------


class ServiceReceipt(XmlModel):
    """送达回证: the time the document reached the network is its time of service (003 bank rules 16)."""

    xml_tag = "ServiceReceipt"
    served_document_id: UUID
    served_document_type: Token
    served_sender: Token
    served_recipient: Token
    payload_digest: Token
    received_at: AwareDatetime


class RejectionError(XmlModel):
    code: Token
    message_zh: str
    message_en: str
    location: str | None = None


class RejectionNotice(XmlModel):
    """拒收通知: why the hub refused a payload, with every error code."""

    xml_tag = "RejectionNotice"
    rejected_document_id: UUID | None = None
    payload_digest: Token
    payload_size: int
    received_at: AwareDatetime
    errors: list[RejectionError] = Field(min_length=1, alias="Error")


class NonDeliveryNotice(XmlModel):
    """The recipient has not picked the document up in time (as e-CODEX evidence timeouts)."""

    xml_tag = "NonDeliveryNotice"
    regarding: UUID
    undelivered_to: Token
    first_sent_at: AwareDatetime
    reason: str


class Reminder(XmlModel):
    """催办 before a deadline (003 事项委托 art. 14)."""

    xml_tag = "Reminder"
    regarding: UUID
    unit: Token
    due_at: AwareDatetime
    message: str | None = None


class Escalation(XmlModel):
    """督办 past a deadline, to the linkage office and the court (003 事项委托 art. 14; 004 art. 37)."""

    xml_tag = "Escalation"
    regarding: UUID
    unit: Token
    due_at: AwareDatetime
    overdue_since: AwareDatetime
    message: str | None = None


class AnomalyKind(StrEnum):
    UNIT_OFFLINE = "UnitOffline"
    UNIT_BACK_ONLINE = "UnitBackOnline"
    HUB_RESTARTED = "HubRestarted"
    HUB_STORAGE_FULL = "HubStorageFull"
    HUB_STORAGE_FAILED = "HubStorageFailed"
    SENDER_FLOOD = "SenderFlood"
    """A unit sent more refused payloads than its limit: its excess is dropped unchecked."""


class AnomalyNotice(XmlModel):
    """System anomaly, notified within 24 hours (003 SPC–MPS 四(五))."""

    xml_tag = "AnomalyNotice"
    kind: AnomalyKind
    unit: Token | None = None
    detected_at: AwareDatetime
    since: AwareDatetime | None = None
    description: str | None = None


class OutstandingMeasure(XmlModel):
    document_id: UUID
    measure_id: Token
    unit: Token
    measure_type: Token


class OutstandingMeasuresNotice(XmlModel):
    """After case completion: measures not yet released, so they get lifted (004 art. 35)."""

    xml_tag = "OutstandingMeasuresNotice"
    measures: list[OutstandingMeasure] = Field(default_factory=list, alias="Measure")


Body = Union[
    AssistanceNotice,
    QueryNotice,
    EnforcementRuling,
    OfficerCredentials,
    ReleaseNotice,
    CaseCompletedNotice,
    DishonestListing,
    DishonestListingCorrection,
    DishonestListingRevocation,
    DishonestListingDeletion,
    ConsumptionRestrictionOrder,
    JudicialSuggestion,
    ItemEntrustment,
    EntrustmentFeedback,
    EntrustmentRating,
    EntrustmentComplaint,
    ComplaintExplanation,
    ExecutionReceipt,
    ExtensionNotice,
    ReviewSuggestion,
    LeadReport,
    MeasureStatusNotice,
    PunishmentReport,
    ServiceReceipt,
    RejectionNotice,
    NonDeliveryNotice,
    Reminder,
    Escalation,
    AnomalyNotice,
    OutstandingMeasuresNotice,
]
