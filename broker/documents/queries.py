"""Queries (协助查询事项): what an assistance-in-query notice asks a unit to look up.

Which unit kind answers which query is in :mod:`broker.documents.catalogue`.
"""

from __future__ import annotations

from enum import StrEnum

from broker.documents.common import BankAccount, Period, Subject, Token
from broker.documents.xmlmodel import XmlModel, attribute


class QueryKind(StrEnum):
    # banks (003 bank rules 6–7, 12): accounts with balances, freezes and priority rights
    BANK_DEPOSITS = "BankDeposits"
    BANK_TRANSACTIONS = "BankTransactions"
    # public security (002 四.7(1); 003 SPC–MPS 二(二))
    IDENTITY = "Identity"
    HOUSEHOLD = "Household"
    TRAVEL_DOCUMENTS = "TravelDocuments"
    VEHICLES = "Vehicles"
    HOTEL_STAYS = "HotelStays"
    # natural resources / real estate (001 art. 11; 004 art. 21)
    REAL_ESTATE = "RealEstate"
    LAND_RIGHTS = "LandRights"
    MINING_RIGHTS = "MiningRights"
    PLANNING_APPROVALS = "PlanningApprovals"
    # housing and construction (001 art. 12)
    HOUSE_RECORDS = "HouseRecords"
    MORTGAGES = "Mortgages"
    # market regulation (001 art. 17; 002 四.17)
    COMPANY_REGISTRATION = "CompanyRegistration"
    INVESTMENTS = "Investments"
    # tax (001 art. 16; 004 art. 27)
    TAX_RECORDS = "TaxRecords"
    TAX_REFUNDS = "TaxRefunds"
    # PBOC (001 art. 13)
    SETTLEMENT_ACCOUNTS = "SettlementAccounts"
    # securities depository (001 art. 15)
    SECURITIES = "Securities"
    # funds and insurance (004 arts. 23, 29, 31)
    HOUSING_FUND = "HousingFund"
    SOCIAL_INSURANCE = "SocialInsurance"
    INSURANCE_CLAIMS = "InsuranceClaims"
    # development and reform (001 art. 9)
    PROJECT_APPROVALS = "ProjectApprovals"
    # civil affairs (004 art. 22)
    MARRIAGE_REGISTRATION = "MarriageRegistration"
    # credit platform: is this subject on the dishonest list? (003 失信规定 arts. 7–8)
    DISHONEST_STATUS = "DishonestStatus"


class Query(XmlModel):
    """One query item; ``period`` is required for transaction details (003 bank rules 6)."""

    xml_tag = "Query"
    query_id: Token = attribute()
    kind: QueryKind
    subject: Subject
    period: Period | None = None
    account: BankAccount | None = None
    remark: str | None = None
