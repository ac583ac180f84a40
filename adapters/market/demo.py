"""The example network's company data (examples/build.py, examples/network.yaml).

:func:`seed` loads what 云浮市市场监督管理局 (11445300MB0000006C) holds in the example story, so
that ``AssistanceNotice-MarketRegulation.xml`` and ``QueryNotice-MarketRegulation.xml`` run as
the story tells:

- 云浮市恒达石材有限公司 (legal representative 陈国强; capital 1,000,000): 陈国强 40 %, 黄美玲 60 %;
  it owns all of 云浮市恒达石材销售有限公司. 陈国强's 40 % was frozen by 云浮中院 in
  （2026）粤53执123号, so the example's E2 (forced transfer to 云浮市城建投资有限公司) is allowed;
- 云浮市新兴县翔顺建材贸易有限公司: 陈国强 60 % (600,000), frozen for 200,000 by 湖北省公安县人民法院
  in （2026）鄂1022执45号 — the example's E1 becomes a rotating freeze behind it;
- 云浮市城建投资有限公司, the transferee, owned by the municipal SASAC.

Idempotent: a register that already holds the data is left as it is. The earlier freezes were
registered before the network (``via_network`` false), with their publicity entries.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from adapters.market.model import CourtOrder, Party
from adapters.market.native import MarketRegister
from broker.documents.document import CHINA_TZ

EXAMPLE_NS = uuid.UUID("3d6f0c52-8a4e-5b71-9c2d-6e4f1a0b7c93")
"""The namespace of the example document ids (examples/build.py)."""

YUNFU_COURT = ("11445300MB0000001W", "广东省云浮市中级人民法院")
GONGAN_COURT = ("11421022MB0000002J", "湖北省公安县人民法院")
CASE = "（2026）粤53执123号"
GONGAN_CASE = "（2026）鄂1022执45号"

CHEN = Party(name="陈国强", code="445302198004121232")
HUANG = Party(name="黄美玲", code="44538119850923246X")
LIANG = Party(name="梁志明", code="445302197102150032")
HENGDA = Party(name="云浮市恒达石材有限公司", code="91445302MA4UH8QK2A")
HENGDA_SALES = Party(name="云浮市恒达石材销售有限公司", code="91445302MA53C1FT4K")
XIANGSHUN = Party(name="云浮市新兴县翔顺建材贸易有限公司", code="91445321MA52K7D3XD")
CHENGTOU = Party(name="云浮市城建投资有限公司", code="91445300MA4W2N8P6N")
SASAC = Party(name="云浮市人民政府国有资产监督管理委员会", code="11445300MB2C74952N")


def earlier_notice(name: str) -> str:
    """A fixed id for a notice served before the examples (as examples/build.py makes them)."""
    return str(uuid.uuid5(EXAMPLE_NS, f"earlier/{name}"))


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=CHINA_TZ)


def seed(native: MarketRegister) -> bool:
    """Load the example data; returns False when it was already there (nothing is changed)."""
    with native.transaction():
        if native.company(HENGDA.code) is not None:
            return False
        _seed(native)
        return True


def _seed(native: MarketRegister) -> None:
    native.register_company(
        HENGDA.code, HENGDA.name, capital=Decimal("1000000.00"), legal_representative=CHEN,
        established_on=date(2016, 7, 28), address="云浮市云城区思劳镇石材工业园A区3号",
    )
    native.register_holding(HENGDA.code, CHEN, Decimal("400000.00"))
    native.register_holding(HENGDA.code, HUANG, Decimal("600000.00"))
    native.record_change(HENGDA.code, date(2019, 5, 10), "注册资本变更", "500,000.00元", "1,000,000.00元")
    native.register_company(
        HENGDA_SALES.code, HENGDA_SALES.name, capital=Decimal("300000.00"), legal_representative=HUANG,
        established_on=date(2020, 3, 12), address="云浮市云城区石材大道88号",
    )
    native.register_holding(HENGDA_SALES.code, HENGDA, Decimal("300000.00"))
    native.register_company(
        XIANGSHUN.code, XIANGSHUN.name, capital=Decimal("1000000.00"), legal_representative=HUANG,
        established_on=date(2018, 11, 2), address="云浮市新兴县新城镇翔顺路12号",
    )
    native.register_holding(XIANGSHUN.code, CHEN, Decimal("600000.00"))
    native.register_holding(XIANGSHUN.code, HUANG, Decimal("400000.00"))
    native.register_company(
        CHENGTOU.code, CHENGTOU.name, capital=Decimal("500000000.00"), legal_representative=LIANG,
        established_on=date(2003, 9, 1), address="云浮市云城区世纪大道中1号",
    )
    native.register_holding(CHENGTOU.code, SASAC, Decimal("500000000.00"))

    gongan = CourtOrder(court=GONGAN_COURT[0], court_name=GONGAN_COURT[1], case_number=GONGAN_CASE,
                        document_id=earlier_notice(f"AssistanceNotice-{GONGAN_CASE}-股权"), item_id="E1", via_network=False)
    native.freeze(XIANGSHUN.code, CHEN, Decimal("200000.00"), period=(date(2026, 1, 23), date(2029, 1, 22)),
                  order=gongan, received_at=_at("2026-01-23T09:00:00"), at=_at("2026-01-23T16:00:00"))
    yunfu = CourtOrder(court=YUNFU_COURT[0], court_name=YUNFU_COURT[1], case_number=CASE,
                       document_id=earlier_notice(f"AssistanceNotice-{CASE}-股权"), item_id="E1", via_network=False)
    native.freeze(HENGDA.code, CHEN, Decimal("400000.00"), period=(date(2026, 1, 12), date(2029, 1, 11)),
                  order=yunfu, received_at=_at("2026-01-12T10:00:00"), at=_at("2026-01-13T11:00:00"))
