"""One value of a document in words: amounts in yuan, dates as 年月日, a person with their ID
number, an account with its bank and holder. Small models that read as one phrase are formatted
here; larger ones become rows (:mod:`broker.render.body`)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

from broker.documents.common import (
    BankAccount,
    EnforcementAccount,
    EquityHolding,
    FundAccount,
    InsurancePolicy,
    MeasureRef,
    Money,
    NaturalPerson,
    Officer,
    Organisation,
    Period,
    Project,
    RealEstate,
    RulingRef,
    SecuritiesAccount,
    Vehicle,
)
from broker.documents.document import CHINA_TZ
from broker.documents.measures import Party
from broker.documents.xmlmodel import XmlModel
from broker.render import labels

_CURRENCIES = {"CNY": "人民币", "USD": "美元", "EUR": "欧元", "HKD": "港币", "JPY": "日元", "GBP": "英镑"}


def money(m: Money) -> str:
    """``人民币 500,000.00 元``; another currency by its name or ISO code."""
    name = _CURRENCIES.get(m.currency, m.currency)
    unit = "元" if m.currency == "CNY" else ""
    return f"{name} {m.value:,.2f} {unit}".rstrip()


def day(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def moment(t: datetime) -> str:
    """A time in China Standard Time (documents carry +08:00; others are converted)."""
    try:
        local = t.astimezone(CHINA_TZ) if t.tzinfo else t
    except OverflowError:  # year 1 or 9999 at the edge of a day: shown as written (the seal check refuses it)
        local = t
    offset = "" if local.utcoffset() in (None, CHINA_TZ.utcoffset(None)) else f"（UTC{local:%z}）"
    return f"{day(local)} {local:%H:%M}{offset}"


def period(p: Period) -> str:
    # Both ends inclusive (broker/documents/common.py Period): 自…起至…止, as the paper forms say.
    return f"自{day(p.start)}起至{day(p.end)}止"


def _join(*parts: str | None) -> str:
    return "，".join(p for p in parts if p)


def _labelled(model: XmlModel, names: tuple[str, ...]) -> list[str]:
    out = []
    for name in names:
        v = getattr(model, name, None)
        if v is not None and v != []:
            out.append(f"{labels.field(name)} {format_value(v)}")
    return out


def phrase(model: XmlModel) -> str | None:
    """The model in one phrase when it reads as one (a person, an account, …), else None."""
    m = model
    if isinstance(m, NaturalPerson):
        gender = f"，{labels.value(m.gender)}" if m.gender else ""
        return f"{m.name}（公民身份号码 {m.id_number}{gender}）"
    if isinstance(m, Organisation):
        rep = f"，法定代表人 {m.legal_representative}" if m.legal_representative else ""
        return f"{m.name}（统一社会信用代码 {m.unit_code}{rep}）"
    if isinstance(m, Party):
        return format_value(m.subject)
    if isinstance(m, Money):
        return money(m)
    if isinstance(m, Period):
        return period(m)
    if isinstance(m, (BankAccount, EnforcementAccount)):
        currency = f"，币种 {m.currency}" if m.currency and m.currency != "CNY" else ""
        bank = f"{m.bank_name} " if m.bank_name else ""
        return f"{bank}账号 {m.account_number}（户名 {m.account_name}{currency}）"
    if isinstance(m, MeasureRef):
        return f"文书 {m.document_id} 第 {m.measure_id} 项措施"
    if isinstance(m, RulingRef):
        return m.ruling_number + (f"（文书编号 {m.document_id}）" if m.document_id else "")
    if isinstance(m, Officer):
        return f"{m.name}（电话 {m.phone}，执行公务证号 {m.credential_number}）"
    if isinstance(m, RealEstate):
        return _join(m.location, *_labelled(m, ("unit_number", "certificate_number")))
    if isinstance(m, Vehicle):
        return _join(f"号牌 {m.plate_number}", *_labelled(m, ("vin", "brand")))
    if isinstance(m, EquityHolding):
        ratio = f"持股比例 {m.ratio}%" if m.ratio is not None else None
        contribution = f"出资额 {money(m.contribution)}" if m.contribution else None
        return _join(f"{m.company_name}（统一社会信用代码 {m.company_code}）的股权", contribution, ratio)
    if isinstance(m, (FundAccount, SecuritiesAccount, InsurancePolicy, Project)):
        return _join(*_labelled(m, tuple(type(m).model_fields)))
    return None


def format_value(v: Any) -> str:
    """Any field value in words; a model without a phrase lists its fields."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, Enum):
        return labels.value(v)
    if isinstance(v, datetime):
        return moment(v)
    if isinstance(v, date):
        return day(v)
    if isinstance(v, (Decimal, int, float, UUID)):
        return str(v)
    if isinstance(v, bytes):
        return f"（{len(v)} 字节）"
    if isinstance(v, list):
        return "、".join(format_value(x) for x in v)
    if isinstance(v, XmlModel):
        said = phrase(v)
        if said is not None:
            return said
        return "；".join(f"{labels.field(k)}：{format_value(x)}" for k, x in _fields(v) if x is not None and x != [])
    return str(v)


def _fields(model: XmlModel) -> list[tuple[str, Any]]:
    return [(name, getattr(model, name)) for name in type(model).model_fields]
