"""Who does what: unit kinds, which kind carries out which measure or query, and which
document may go from which kind of unit to which (DOMAIN.md "Member unit kinds" and
"Documents"). The rules in :mod:`broker.rules` and the hub's routing read these tables.
"""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from types import MappingProxyType
from typing import Mapping

from broker.documents.measures import ReleaseKind
from broker.documents.queries import QueryKind


class UnitKind(StrEnum):
    COURT = "Court"  # 人民法院
    BANK = "Bank"  # 银行业金融机构
    PUBLIC_SECURITY = "PublicSecurity"  # 公安
    NATURAL_RESOURCES = "NaturalResources"  # 自然资源 / 不动产登记
    HOUSING_CONSTRUCTION = "HousingConstruction"  # 住房和城乡建设
    MARKET_REGULATION = "MarketRegulation"  # 市场监管 / 工商
    TAX = "Tax"  # 税务
    CENTRAL_BANK = "CentralBank"  # 人民银行 / 征信
    SECURITIES_DEPOSITORY = "SecuritiesDepository"  # 证券登记结算
    HOUSING_FUND = "HousingFund"  # 公积金
    SOCIAL_INSURANCE = "SocialInsurance"  # 人力资源和社会保障
    INSURER = "Insurer"  # 保险
    DEVELOPMENT_REFORM = "DevelopmentReform"  # 发展和改革
    CIVIL_AFFAIRS = "CivilAffairs"  # 民政
    CREDIT_PLATFORM = "CreditPlatform"  # 全国信用信息共享平台
    TRANSPORT = "Transport"  # 交通运输、铁路、民航
    HOSPITALITY = "Hospitality"  # 宾馆、酒店
    PROCURATORATE = "Procuratorate"  # 检察院
    DISCIPLINE_INSPECTION = "DisciplineInspection"  # 纪检监察
    LINKAGE_OFFICE = "LinkageOffice"  # 执行联动机制工作领导小组办公室 / 联席会议办公室
    HUB = "Hub"  # the reference broker's hub


K = UnitKind
_REGISTRIES = frozenset({K.NATURAL_RESOURCES, K.HOUSING_CONSTRUCTION})

MEASURE_UNIT_KINDS: Mapping[str, frozenset[UnitKind]] = MappingProxyType(
    {
        # 003 bank rules 9–15; 001 art. 14
        "BankFreeze": frozenset({K.BANK}),
        "BankRotatingFreeze": frozenset({K.BANK}),
        "BankContinuedFreeze": frozenset({K.BANK}),
        "BankDeduct": frozenset({K.BANK}),
        # 001 arts. 11–12; 002 四.13–14; 004 art. 21
        "PropertySeize": _REGISTRIES,
        "PropertyPreSeize": _REGISTRIES,
        "PropertyRotatingSeize": _REGISTRIES,
        "PropertyTransfer": _REGISTRIES,
        "RegistrationHalt": _REGISTRIES,
        # 001 art. 6; 002 四.7; 003 SPC–MPS 三
        "ExitRestriction": frozenset({K.PUBLIC_SECURITY}),
        "VehicleSeize": frozenset({K.PUBLIC_SECURITY}),
        "VehicleTransfer": frozenset({K.PUBLIC_SECURITY}),
        "LocatePerson": frozenset({K.PUBLIC_SECURITY}),
        "LocateVehicle": frozenset({K.PUBLIC_SECURITY}),
        # 001 art. 17; 002 四.17; 004 art. 20
        "EquityFreeze": frozenset({K.MARKET_REGULATION}),
        "EquityForcedTransfer": frozenset({K.MARKET_REGULATION}),
        # 004 arts. 29, 23, 31
        "HousingFundFreeze": frozenset({K.HOUSING_FUND}),
        "HousingFundExtract": frozenset({K.HOUSING_FUND}),
        "SocialInsuranceFreeze": frozenset({K.SOCIAL_INSURANCE}),
        "SocialInsuranceExtract": frozenset({K.SOCIAL_INSURANCE}),
        "InsuranceFreeze": frozenset({K.INSURER}),
        "InsuranceExtract": frozenset({K.INSURER}),
        # 001 art. 16; 004 art. 27
        "TaxRefundExtract": frozenset({K.TAX}),
        # 001 art. 15
        "SecuritiesFreeze": frozenset({K.SECURITIES_DEPOSITORY}),
        "SecuritiesDeduct": frozenset({K.SECURITIES_DEPOSITORY}),
        # 001 art. 9
        "ProjectApprovalHalt": frozenset({K.DEVELOPMENT_REFORM}),
        # 001 art. 13
        "CreditRecord": frozenset({K.CENTRAL_BANK}),
    }
)

Q = QueryKind
QUERY_UNIT_KINDS: Mapping[QueryKind, frozenset[UnitKind]] = MappingProxyType(
    {
        Q.BANK_DEPOSITS: frozenset({K.BANK}),  # 003 bank rules 6–7
        Q.BANK_TRANSACTIONS: frozenset({K.BANK}),  # 003 bank rules 6
        Q.IDENTITY: frozenset({K.PUBLIC_SECURITY}),  # 002 四.7(1); 003 SPC–MPS 二(二)
        Q.HOUSEHOLD: frozenset({K.PUBLIC_SECURITY}),
        Q.TRAVEL_DOCUMENTS: frozenset({K.PUBLIC_SECURITY}),
        Q.VEHICLES: frozenset({K.PUBLIC_SECURITY}),
        Q.HOTEL_STAYS: frozenset({K.PUBLIC_SECURITY}),
        Q.REAL_ESTATE: _REGISTRIES,  # 001 arts. 11–12; 004 art. 21
        Q.LAND_RIGHTS: frozenset({K.NATURAL_RESOURCES}),
        Q.MINING_RIGHTS: frozenset({K.NATURAL_RESOURCES}),
        Q.PLANNING_APPROVALS: _REGISTRIES,
        Q.HOUSE_RECORDS: frozenset({K.HOUSING_CONSTRUCTION}),
        Q.MORTGAGES: _REGISTRIES,
        Q.COMPANY_REGISTRATION: frozenset({K.MARKET_REGULATION}),  # 001 art. 17; 002 四.17
        Q.INVESTMENTS: frozenset({K.MARKET_REGULATION}),
        Q.TAX_RECORDS: frozenset({K.TAX}),  # 001 art. 16; 004 art. 27
        Q.TAX_REFUNDS: frozenset({K.TAX}),
        Q.SETTLEMENT_ACCOUNTS: frozenset({K.CENTRAL_BANK}),  # 001 art. 13
        Q.SECURITIES: frozenset({K.SECURITIES_DEPOSITORY}),  # 001 art. 15
        Q.HOUSING_FUND: frozenset({K.HOUSING_FUND}),  # 004 art. 29
        Q.SOCIAL_INSURANCE: frozenset({K.SOCIAL_INSURANCE}),  # 004 art. 23
        Q.INSURANCE_CLAIMS: frozenset({K.INSURER}),  # 004 art. 31
        Q.PROJECT_APPROVALS: frozenset({K.DEVELOPMENT_REFORM}),  # 001 art. 9
        Q.MARRIAGE_REGISTRATION: frozenset({K.CIVIL_AFFAIRS}),  # 004 art. 22
        Q.DISHONEST_STATUS: frozenset({K.CREDIT_PLATFORM}),  # 003 失信规定 arts. 7–8
    }
)

R = ReleaseKind
RELEASABLE: Mapping[ReleaseKind, frozenset[str]] = MappingProxyType(
    {
        R.BANK_UNFREEZE: frozenset({"BankFreeze", "BankRotatingFreeze", "BankContinuedFreeze"}),
        R.PROPERTY_UNSEIZE: frozenset({"PropertySeize", "PropertyPreSeize", "PropertyRotatingSeize"}),
        R.REGISTRATION_HALT_LIFT: frozenset({"RegistrationHalt"}),
        R.EXIT_RESTRICTION_LIFT: frozenset({"ExitRestriction"}),
        R.VEHICLE_UNSEIZE: frozenset({"VehicleSeize"}),
        R.LOCATE_CANCEL: frozenset({"LocatePerson", "LocateVehicle"}),
        R.EQUITY_UNFREEZE: frozenset({"EquityFreeze"}),
        R.HOUSING_FUND_UNFREEZE: frozenset({"HousingFundFreeze"}),
        R.SOCIAL_INSURANCE_UNFREEZE: frozenset({"SocialInsuranceFreeze"}),
        R.INSURANCE_UNFREEZE: frozenset({"InsuranceFreeze"}),
        R.SECURITIES_UNFREEZE: frozenset({"SecuritiesFreeze"}),
        R.PROJECT_APPROVAL_HALT_LIFT: frozenset({"ProjectApprovalHalt"}),
        R.CREDIT_RECORD_REMOVAL: frozenset({"CreditRecord"}),
    }
)
"""Which measure elements each release kind can lift; deductions, extractions and transfers
are final and cannot be released."""

RELEASE_UNIT_KINDS: Mapping[ReleaseKind, frozenset[UnitKind]] = MappingProxyType(
    {kind: frozenset().union(*(MEASURE_UNIT_KINDS[m] for m in measures)) for kind, measures in RELEASABLE.items()}
)

EXECUTING_KINDS: frozenset[UnitKind] = frozenset().union(*MEASURE_UNIT_KINDS.values(), *QUERY_UNIT_KINDS.values())
MEMBER_KINDS: frozenset[UnitKind] = frozenset(UnitKind) - {K.HUB}
NON_COURT_MEMBERS: frozenset[UnitKind] = MEMBER_KINDS - {K.COURT}
_COURT = frozenset({K.COURT})
_HUB_OR_OFFICE = frozenset({K.HUB, K.LINKAGE_OFFICE})


class Direction:
    """Allowed sender and recipient kinds of one document type."""

    __slots__ = ("senders", "recipients")

    def __init__(self, senders: frozenset[UnitKind], recipients: frozenset[UnitKind]):
        self.senders = senders
        self.recipients = recipients


DIRECTIONS: Mapping[str, Direction] = MappingProxyType(
    {
        "AssistanceNotice": Direction(_COURT, frozenset().union(*MEASURE_UNIT_KINDS.values())),
        # Courts query every unit; any member unit may ask the credit platform whether a subject is
        # listed (003 失信规定 art. 8) — RULE_STATUS_QUERY_ONLY keeps those queries to that.
        "QueryNotice": Direction(
            _COURT | (NON_COURT_MEMBERS - _HUB_OR_OFFICE), frozenset().union(*QUERY_UNIT_KINDS.values())
        ),
        "EnforcementRuling": Direction(_COURT, NON_COURT_MEMBERS | _COURT),
        "OfficerCredentials": Direction(_COURT, NON_COURT_MEMBERS | _COURT),
        "ReleaseNotice": Direction(_COURT, frozenset().union(*RELEASE_UNIT_KINDS.values())),
        "CaseCompletedNotice": Direction(_COURT, NON_COURT_MEMBERS | _COURT),
        # 003 失信规定 arts. 7–8; 004 art. 17: to the credit platform and the punishing units
        "DishonestListing": Direction(_COURT, NON_COURT_MEMBERS),
        "DishonestListingCorrection": Direction(_COURT, NON_COURT_MEMBERS),
        "DishonestListingRevocation": Direction(_COURT, NON_COURT_MEMBERS),
        "DishonestListingDeletion": Direction(_COURT, NON_COURT_MEMBERS),
        "ConsumptionRestrictionOrder": Direction(_COURT, NON_COURT_MEMBERS),
        "JudicialSuggestion": Direction(_COURT, NON_COURT_MEMBERS),  # 001 arts. 19, 24
        "ItemEntrustment": Direction(_COURT, _COURT),  # 003 事项委托
        "EntrustmentFeedback": Direction(_COURT, _COURT),
        # 003 事项委托 art. 13: rating to the entrusted court, complaint and explanation to its
        # superior court (RULE_NOT_SUPERIOR_COURT)
        "EntrustmentRating": Direction(_COURT, _COURT),
        "EntrustmentComplaint": Direction(_COURT, _COURT),
        "ComplaintExplanation": Direction(_COURT, _COURT),
        # Receipts go back to whoever asked: courts, or a unit that checked the dishonest list; the
        # hub routes every answer to the sender of the document it answers (ROUTE_REPLY_*).
        "ExecutionReceipt": Direction(EXECUTING_KINDS, _COURT | (NON_COURT_MEMBERS - _HUB_OR_OFFICE)),
        "ExtensionNotice": Direction(EXECUTING_KINDS | _COURT, _COURT),
        "ReviewSuggestion": Direction(EXECUTING_KINDS, _COURT),  # 001 art. 20
        "LeadReport": Direction(EXECUTING_KINDS, _COURT),  # 002 四.7(2)
        "MeasureStatusNotice": Direction(EXECUTING_KINDS, _COURT),
        # 003 memorandum 二: punishing units report to the SPC and NDRC
        "PunishmentReport": Direction(NON_COURT_MEMBERS - _HUB_OR_OFFICE, _COURT | {K.DEVELOPMENT_REFORM, K.CREDIT_PLATFORM}),
        "ServiceReceipt": Direction(frozenset({K.HUB}), MEMBER_KINDS),
        "RejectionNotice": Direction(frozenset({K.HUB}), MEMBER_KINDS),
        "NonDeliveryNotice": Direction(frozenset({K.HUB}), MEMBER_KINDS),
        "Reminder": Direction(_HUB_OR_OFFICE, MEMBER_KINDS),  # 003 事项委托 art. 14
        "Escalation": Direction(_HUB_OR_OFFICE, MEMBER_KINDS),
        "AnomalyNotice": Direction(frozenset({K.HUB}), MEMBER_KINDS),  # 003 SPC–MPS 四(五)
        "OutstandingMeasuresNotice": Direction(frozenset({K.HUB}), _COURT | {K.LINKAGE_OFFICE}),  # 004 art. 35
    }
)

PUNISHING_KINDS: frozenset[UnitKind] = frozenset(
    {
        K.BANK,  # measures 3, 7–8: financing, credit (银监会, 人民银行)
        K.CENTRAL_BANK,  # measure 2: bonds on the interbank market
        K.MARKET_REGULATION,  # measures on company officers and registration (工商总局)
        K.TAX,  # tax credit measures (税务总局)
        K.DEVELOPMENT_REFORM,  # measures 1, 3: approvals, bonds (国家发展改革委)
        K.TRANSPORT,  # measures 19–22: flights, high-speed rail (交通运输、铁路、民航)
        K.HOSPITALITY,  # consumption restrictions (hotels)
        K.NATURAL_RESOURCES,  # land use restrictions (国土资源部)
        K.HOUSING_CONSTRUCTION,  # real-estate and construction qualifications (住建部)
        K.SECURITIES_DEPOSITORY,  # securities measures (证监会)
        K.INSURER,  # insurance measures (保监会)
    }
)
"""Kinds of unit that carry out measures of the joint punishment memorandum and so report what
they did each quarter (003 联合惩戒备忘录 二、三). A registered unit of these kinds that receives
``DishonestListing`` is a punishing unit (:func:`broker.hub.punishment_reports.punishing_units`)."""

REPLY_TYPES: frozenset[str] = frozenset(
    {
        "ExecutionReceipt",
        "ExtensionNotice",
        "ReviewSuggestion",
        "MeasureStatusNotice",
        "EntrustmentFeedback",
        "EntrustmentRating",  # in reply to the feedback: back to the entrusted court
        "ServiceReceipt",
    }
)
"""Types that answer an earlier document and must name it in ``Header/InReplyTo``."""

CASE_TYPES: frozenset[str] = frozenset(
    {
        "AssistanceNotice",
        "QueryNotice",
        "EnforcementRuling",
        "ReleaseNotice",
        "CaseCompletedNotice",
        "DishonestListing",
        "DishonestListingCorrection",
        "DishonestListingRevocation",
        "DishonestListingDeletion",
        "ConsumptionRestrictionOrder",
        "ItemEntrustment",
        "EntrustmentFeedback",
        "EntrustmentRating",
        "EntrustmentComplaint",
        "ComplaintExplanation",
        "ExecutionReceipt",
        "ExtensionNotice",
        "ReviewSuggestion",
        "MeasureStatusNotice",
    }
)
"""Types that belong to an enforcement case and must carry its case number."""

OFFICER_TYPES: frozenset[str] = frozenset({"AssistanceNotice", "QueryNotice", "ReleaseNotice"})
"""Types that must name the officers (003 bank rules 3: name, phone, credentials; 002 四.7)."""


@lru_cache(maxsize=None)
def accepted_types(kind: UnitKind) -> frozenset[str]:
    """The document types a unit of ``kind`` can receive, by :data:`DIRECTIONS`."""
    return frozenset(t for t, d in DIRECTIONS.items() if kind in d.recipients)
