"""Measures (协助执行事项): what an assistance-in-execution notice asks a unit to do.

One element per measure kind, so the XSD states exactly what each needs. Which unit kind may
carry out which measure is in :mod:`broker.documents.catalogue`. References that the seeds
require (the measure a continued freeze continues, the court's enforcement account of a
deduction) are optional here and required by :mod:`broker.rules`, so that each has its own
error code (issue 2, "Business rules beyond XSD").
"""

from __future__ import annotations

from enum import StrEnum
from typing import Union

from broker.documents.common import (
    BankAccount,
    EnforcementAccount,
    EquityHolding,
    FundAccount,
    InsurancePolicy,
    MeasureRef,
    Money,
    Period,
    Project,
    RealEstate,
    SecuritiesAccount,
    Subject,
    Token,
    Vehicle,
)
from broker.documents.xmlmodel import XmlModel, attribute


class Party(XmlModel):
    """A wrapper for a second subject in one measure (the transferee of a forced transfer)."""

    subject: Subject


class MeasureBase(XmlModel):
    """Every measure has an id unique within its notice and names the debtor it acts against."""

    measure_id: Token = attribute()
    subject: Subject


# --- banks (003 银行业金融机构网络执行查控工作规范 9–15; 001 art. 14) ----------------------


class BankFreeze(MeasureBase):
    """冻结: freeze the named amount on the named account for the period (rule 10)."""

    xml_tag = "BankFreeze"
    account: BankAccount
    amount: Money
    period: Period


class BankRotatingFreeze(BankFreeze):
    """轮候冻结: a freeze queued behind earlier ones on the same account (rule 10)."""

    xml_tag = "BankRotatingFreeze"


class BankContinuedFreeze(MeasureBase):
    """续冻: extend the end date of an earlier freeze (rule 10)."""

    xml_tag = "BankContinuedFreeze"
    continues: MeasureRef | None = None
    account: BankAccount
    amount: Money
    period: Period


class BankDeduct(MeasureBase):
    """扣划: move money to the court's enforcement account; no prior unfreeze needed (rules 13–15)."""

    xml_tag = "BankDeduct"
    account: BankAccount
    amount: Money
    enforcement_account: EnforcementAccount | None = None
    from_freeze: MeasureRef | None = None


# --- land and housing registries (001 arts. 11–12; 002 四.13–14; 004 art. 21) -------------


class PropertySeize(MeasureBase):
    """查封 of land, a house or a mining right."""

    xml_tag = "PropertySeize"
    property: RealEstate
    period: Period


class PropertyPreSeize(PropertySeize):
    """预查封 (001 arts. 11–12)."""

    xml_tag = "PropertyPreSeize"


class PropertyRotatingSeize(PropertySeize):
    """轮候查封: recorded behind the first seizure; takes effect when it is released."""

    xml_tag = "PropertyRotatingSeize"


class PropertyTransfer(MeasureBase):
    """过户 / 转移登记 to the transferee named by the court (only the first seizing court, 001 art. 12)."""

    xml_tag = "PropertyTransfer"
    property: RealEstate
    transferee: Party


class RegistrationHalt(MeasureBase):
    """停止办理: halt pending change registrations or planning approvals (001 arts. 11–12)."""

    xml_tag = "RegistrationHalt"
    property: RealEstate | None = None
    project: Project | None = None
    scope: Token


# --- public security (001 art. 6; 002 四.7; 003 SPC–MPS 三) ---------------------------------


class ExitRestriction(MeasureBase):
    """限制出境 with a control period and border-control requirements (003 SPC–MPS 三(一))."""

    xml_tag = "ExitRestriction"
    period: Period
    control_requirement: Token | None = None


class VehicleSeize(MeasureBase):
    """查封车辆: first notice delivered gets the seizure, later ones rotate (002 四.7(3))."""

    xml_tag = "VehicleSeize"
    vehicle: Vehicle
    period: Period


class VehicleTransfer(MeasureBase):
    """车辆过户 after sale or ruling (002 四.7(3): result within 3 working days)."""

    xml_tag = "VehicleTransfer"
    vehicle: Vehicle
    transferee: Party


class LocateGround(StrEnum):
    """The three grounds on which a court may ask police to find a debtor (002 四.7(2))."""

    ABSCONDED_AFTER_DETENTION = "AbscondedAfterDetention"
    MISSING_OVER_THREE_MONTHS = "MissingOverThreeMonths"
    LARGE_AMOUNT = "LargeAmount"


class LocatePerson(MeasureBase):
    """查找被执行人: police tell the court within 24 hours when found (002 四.7(2))."""

    xml_tag = "LocatePerson"
    ground: LocateGround
    detention_decision: Token | None = None


class LocateVehicle(MeasureBase):
    """查找车辆: found vehicles are reported to the court (003 SPC–MPS 三(二))."""

    xml_tag = "LocateVehicle"
    vehicle: Vehicle


# --- market regulation (001 art. 17; 002 四.17; 004 art. 20) -------------------------------


class EquityFreeze(MeasureBase):
    """股权冻结 with publicity in the enterprise credit system within 3 working days (002 四.17)."""

    xml_tag = "EquityFreeze"
    equity: EquityHolding
    amount: Money | None = None
    period: Period


class EquityForcedTransfer(MeasureBase):
    """强制转让 with shareholder change registration (002 四.17)."""

    xml_tag = "EquityForcedTransfer"
    equity: EquityHolding
    transferee: Party


# --- funds, insurance, tax, securities (001 arts. 15–16; 004 arts. 23, 27, 29, 31) ---------


class FundFreeze(MeasureBase):
    account: FundAccount
    amount: Money
    period: Period


class FundExtract(MeasureBase):
    account: FundAccount
    amount: Money
    enforcement_account: EnforcementAccount | None = None


class HousingFundFreeze(FundFreeze):
    """公积金冻结 (004 art. 29)."""

    xml_tag = "HousingFundFreeze"


class HousingFundExtract(FundExtract):
    """公积金提取 (004 art. 29)."""

    xml_tag = "HousingFundExtract"


class SocialInsuranceFreeze(FundFreeze):
    """社会保险资金冻结 (004 art. 23)."""

    xml_tag = "SocialInsuranceFreeze"


class SocialInsuranceExtract(FundExtract):
    """社会保险资金提取 (004 art. 23)."""

    xml_tag = "SocialInsuranceExtract"


class InsuranceFreeze(MeasureBase):
    """冻结理赔款 (004 art. 31)."""

    xml_tag = "InsuranceFreeze"
    policy: InsurancePolicy
    amount: Money
    period: Period


class InsuranceExtract(MeasureBase):
    """提取理赔款 (004 art. 31)."""

    xml_tag = "InsuranceExtract"
    policy: InsurancePolicy
    amount: Money
    enforcement_account: EnforcementAccount | None = None


class TaxRefundExtract(MeasureBase):
    """提取退税 (001 art. 16; 004 art. 27)."""

    xml_tag = "TaxRefundExtract"
    amount: Money | None = None
    enforcement_account: EnforcementAccount | None = None


class SecuritiesFreeze(MeasureBase):
    """冻结证券及交易结算资金 (001 art. 15)."""

    xml_tag = "SecuritiesFreeze"
    account: SecuritiesAccount
    amount: Money | None = None
    period: Period


class SecuritiesDeduct(MeasureBase):
    """扣划证券及交易结算资金 (001 art. 15)."""

    xml_tag = "SecuritiesDeduct"
    account: SecuritiesAccount
    amount: Money | None = None
    enforcement_account: EnforcementAccount | None = None


# --- development and reform, credit reference (001 arts. 9, 13) -----------------------------


class ProjectApprovalHalt(MeasureBase):
    """停止办理投资项目审批、核准和备案手续 (001 art. 9)."""

    xml_tag = "ProjectApprovalHalt"
    project: Project


class CreditRecord(MeasureBase):
    """纳入企业和个人信用信息基础数据库 the debtor's non-performance (001 art. 13)."""

    xml_tag = "CreditRecord"
    obligation: str
    amount: Money | None = None


Measure = Union[
    BankFreeze,
    BankRotatingFreeze,
    BankContinuedFreeze,
    BankDeduct,
    PropertySeize,
    PropertyPreSeize,
    PropertyRotatingSeize,
    PropertyTransfer,
    RegistrationHalt,
    ExitRestriction,
    VehicleSeize,
    VehicleTransfer,
    LocatePerson,
    LocateVehicle,
    EquityFreeze,
    EquityForcedTransfer,
    HousingFundFreeze,
    HousingFundExtract,
    SocialInsuranceFreeze,
    SocialInsuranceExtract,
    InsuranceFreeze,
    InsuranceExtract,
    TaxRefundExtract,
    SecuritiesFreeze,
    SecuritiesDeduct,
    ProjectApprovalHalt,
    CreditRecord,
]


# --- releases (解除, 001 art. 21; 003 SPC–MPS 三(三)) -------------------------------------------


class ReleaseKind(StrEnum):
    """What a release undoes; :data:`broker.documents.catalogue.RELEASABLE` maps it to measures."""

    BANK_UNFREEZE = "BankUnfreeze"
    PROPERTY_UNSEIZE = "PropertyUnseize"
    REGISTRATION_HALT_LIFT = "RegistrationHaltLift"
    EXIT_RESTRICTION_LIFT = "ExitRestrictionLift"
    VEHICLE_UNSEIZE = "VehicleUnseize"
    LOCATE_CANCEL = "LocateCancel"
    EQUITY_UNFREEZE = "EquityUnfreeze"
    HOUSING_FUND_UNFREEZE = "HousingFundUnfreeze"
    SOCIAL_INSURANCE_UNFREEZE = "SocialInsuranceUnfreeze"
    INSURANCE_UNFREEZE = "InsuranceUnfreeze"
    SECURITIES_UNFREEZE = "SecuritiesUnfreeze"
    PROJECT_APPROVAL_HALT_LIFT = "ProjectApprovalHaltLift"
    CREDIT_RECORD_REMOVAL = "CreditRecordRemoval"


class ReleaseReason(StrEnum):
    """Why a measure is lifted (001 art. 21; 004 art. 35)."""

    PERFORMED = "Performed"
    APPLICANT_AGREED = "ApplicantAgreed"
    GUARANTEE_PROVIDED = "GuaranteeProvided"
    CASE_COMPLETED = "CaseCompleted"
    OTHER = "Other"


class Release(XmlModel):
    """One release item of a release notice; ``amount`` makes a partial unfreeze."""

    xml_tag = "Release"
    release_id: Token = attribute()
    kind: ReleaseKind
    releases: MeasureRef | None = None
    subject: Subject
    amount: Money | None = None
    reason: ReleaseReason
    remark: str | None = None
