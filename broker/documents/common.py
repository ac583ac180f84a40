"""Value types shared by every document: money, periods, officers, subjects, assets, references.

Structure and lexical form (patterns, lengths) are the XSD's job; the business rules in
:mod:`broker.rules` check meaning (check characters, positive amounts, date order). These models
keep what a Python author needs to build and read documents with the right types.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Union
from uuid import UUID

from pydantic import AfterValidator, Field, StringConstraints

from broker.documents.xmlmodel import XmlModel, attribute

_CENT = Decimal("0.01")


def _two_decimals(value: Decimal) -> Decimal:
    # Amounts are yuan with two decimals (DOMAIN.md "Identifiers"); more digits are an error,
    # fewer are padded so every amount is written the same way.
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        raise ValueError("amounts have at most two decimals")
    return value.quantize(_CENT)


Amount = Annotated[Decimal, AfterValidator(_two_decimals)]
Token = Annotated[str, StringConstraints(strip_whitespace=True)]
"""A short single-line string (names, numbers); surrounding blanks removed as xs:token does."""


class Gender(StrEnum):
    MALE = "M"
    FEMALE = "F"


class Money(XmlModel):
    """An amount in yuan (or ``currency``) with two decimals, e.g. ``<Amount Currency="CNY">10.00</Amount>``."""

    value: Amount = Field(json_schema_extra={"xml_text": True})
    currency: Token = attribute("CNY", pattern=r"^[A-Z]{3}$")

    @classmethod
    def cny(cls, value: str | int | Decimal) -> "Money":
        return cls(value=Decimal(str(value)), currency="CNY")


class Period(XmlModel):
    """A date range, both ends inclusive (freeze and seizure periods, control periods)."""

    start: date
    end: date


class Officer(XmlModel):
    """An enforcement officer as the seeds require on notices (003 bank rules 3; 002 四.7)."""

    name: Token
    phone: Token
    credential_number: Token


class NaturalPerson(XmlModel):
    """A natural person identified by the 18-character resident ID number (GB 11643-1999)."""

    xml_tag = "NaturalPerson"

    name: Token
    id_number: Token
    gender: Gender | None = None


class Organisation(XmlModel):
    """A legal person or other organisation identified by its USCC (GB 32100-2015)."""

    xml_tag = "Organisation"

    name: Token
    unit_code: Token
    legal_representative: Token | None = None


Subject = Union[NaturalPerson, Organisation]


class BankAccount(XmlModel):
    """A bank account or card (003 bank rules 9: a measure names a definite account)."""

    bank_name: Token | None = None
    account_number: Token
    account_name: Token
    currency: Token | None = None


class RealEstate(XmlModel):
    """A real-estate unit (不动产单元), land use right, or mining right."""

    unit_number: Token | None = None
    certificate_number: Token | None = None
    location: Token


class Vehicle(XmlModel):
    plate_number: Token
    vin: Token | None = None
    brand: Token | None = None


class EquityHolding(XmlModel):
    """Equity in a company (股权) held by the debtor (001 art. 17; 002 四.17)."""

    company_name: Token
    company_code: Token
    contribution: Money | None = None
    ratio: Decimal | None = None


class SecuritiesAccount(XmlModel):
    account_number: Token
    custodian: Token | None = None
    security_code: Token | None = None
    quantity: int | None = None


class FundAccount(XmlModel):
    """A housing-fund or social-insurance account."""

    account_number: Token
    holder_name: Token | None = None


class InsurancePolicy(XmlModel):
    policy_number: Token
    insurer: Token | None = None


class Project(XmlModel):
    """An investment project under approval (001 art. 9)."""

    project_code: Token
    project_name: Token


class EnforcementAccount(XmlModel):
    """The court's registered enforcement account (执行款专户, 003 bank rules 4, 13–14)."""

    bank_name: Token
    account_number: Token
    account_name: Token
    currency: Token = "CNY"


class MeasureRef(XmlModel):
    """Names one measure of an earlier notice: the notice's document id and the measure id."""

    document_id: UUID
    measure_id: Token


class RulingRef(XmlModel):
    """The enforcement ruling (执行裁定书) a measure rests on (003 bank rules 9)."""

    ruling_number: Token
    document_id: UUID | None = None
