"""The example network's real-estate data (examples/build.py, examples/network.yaml).

:func:`seed` loads what 云浮市不动产登记中心 (12445300MB00000056) holds in the example story, so
that the example notices (``AssistanceNotice-NaturalResources.xml``, ``QueryNotice-NaturalResources.xml``)
run against it as the story tells:

- 陈国强's flat 兴云西路8号2栋502房 (mortgaged to 中国工商银行云浮分行), already seized by
  湖北省公安县人民法院 in （2026）鄂1022执45号 — the example's P3 becomes a rotating seizure behind it;
- 陈国强's flat 云浮大道中23号1栋1802房, seized by 云浮中院 in （2026）粤53执123号 and sold at auction —
  the example's P4 transfer to 李伟文 is registered, since that court seized first (001 art. 12);
- the presale flat 碧桂园·云浮府3栋1204房 bought by 陈国强 (pre-registration only: P2 pre-seizes it);
- 云浮市恒达石材有限公司's quarry land (P1 seizes it) with a pending mortgage registration (P5 halts
  it), its mining right, and its planning permit and pending planning application;
- 刘建华's shop (the debtor of the 公安县 court's entrustment to the Yunfu court).

Idempotent: a register that already holds the data is left as it is. The earlier seizures were
registered before the network (``via_network`` false), under fixed ids made like the examples'.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from adapters.realestate.model import CourtOrder, Party, PropertyKind, PropertyRef, Registration
from adapters.realestate.native import RealEstateRegister
from broker.documents.document import CHINA_TZ

EXAMPLE_NS = uuid.UUID("3d6f0c52-8a4e-5b71-9c2d-6e4f1a0b7c93")
"""The namespace of the example document ids (examples/build.py)."""

YUNFU_COURT = ("11445300MB0000001W", "广东省云浮市中级人民法院")
GONGAN_COURT = ("11421022MB0000002J", "湖北省公安县人民法院")
CASE = "（2026）粤53执123号"
GONGAN_CASE = "（2026）鄂1022执45号"

CHEN = Party(name="陈国强", code="445302198004121232")
LIU = Party(name="刘建华", code="421022197603053152")
HENGDA = Party(name="云浮市恒达石材有限公司", code="91445302MA4UH8QK2A")

FLAT = PropertyRef(
    unit_number="445302001002GB00088F00030502",
    certificate_number="粤（2021）云浮市不动产权第0034567号",
    location="云浮市云城区兴云西路8号2栋502房",
)
AUCTIONED_FLAT = PropertyRef(
    unit_number="445302001005GB00021F00011802",
    certificate_number="粤（2017）云浮市不动产权第0009876号",
    location="云浮市云城区云浮大道中23号1栋1802房",
)
PRESALE_FLAT = PropertyRef(location="云浮市云城区星岩四路18号碧桂园·云浮府3栋1204房（预售商品房）")
QUARRY_LAND = PropertyRef(
    unit_number="445302103001GB00012W00000000",
    certificate_number="粤（2019）云浮市不动产权第0012345号",
    location="云浮市云城区思劳镇石材工业园A区3号",
)
MINING_RIGHT = PropertyRef(
    certificate_number="C4453002011037120109876",
    location="云浮市云城区思劳镇大岗山饰面用花岗岩矿",
)
SHOP = PropertyRef(
    unit_number="445302001003GB00045F00010003",
    certificate_number="粤（2020）云浮市不动产权第0023456号",
    location="云浮市云城区建设北路56号首层03号商铺",
)
PROJECT_CODE = "2403-445302-04-01-123456"


def earlier_notice(name: str) -> str:
    """A fixed id for a notice served before the examples (as examples/build.py makes them)."""
    return str(uuid.uuid5(EXAMPLE_NS, f"earlier/{name}"))


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=CHINA_TZ)


def seed(native: RealEstateRegister) -> bool:
    """Load the example data; returns False when it was already there (nothing is changed)."""
    with native.transaction() as db:
        if db.execute("SELECT 1 FROM properties WHERE unit_number=?", (FLAT.unit_number,)).fetchone():
            return False
        _seed(native)
        return True


def _seed(native: RealEstateRegister) -> None:
    flat = native.register_property(
        kind=PropertyKind.HOUSE, owner=CHEN, area=Decimal("126.48"), use="住宅", **FLAT.model_dump()
    )
    native.register_mortgage(flat, "中国工商银行云浮分行", Decimal("450000.00"), date(2021, 8, 16))
    native.seize(
        FLAT, CHEN, kind="PropertySeize", period=(date(2026, 1, 22), date(2029, 1, 21)), at=_at("2026-01-22T10:30:00"),
        order=CourtOrder(court=GONGAN_COURT[0], court_name=GONGAN_COURT[1], case_number=GONGAN_CASE,
                         document_id=earlier_notice(f"AssistanceNotice-{GONGAN_CASE}"), item_id="P1", via_network=False),
    )
    native.register_property(kind=PropertyKind.HOUSE, owner=CHEN, area=Decimal("98.60"), use="住宅", **AUCTIONED_FLAT.model_dump())
    native.seize(
        AUCTIONED_FLAT, CHEN, kind="PropertySeize", period=(date(2026, 1, 15), date(2029, 1, 14)), at=_at("2026-01-15T15:00:00"),
        order=CourtOrder(court=YUNFU_COURT[0], court_name=YUNFU_COURT[1], case_number=CASE,
                         document_id=earlier_notice(f"AssistanceNotice-{CASE}-查封"), item_id="P1", via_network=False),
    )
    native.register_property(
        kind=PropertyKind.HOUSE, registration=Registration.PRE_REGISTERED, owner=CHEN, area=Decimal("112.35"),
        use="住宅（预售商品房，已办理预告登记）", **PRESALE_FLAT.model_dump(),
    )
    land = native.register_property(
        kind=PropertyKind.LAND, owner=HENGDA, area=Decimal("15600.00"), use="工业用地（国有建设用地使用权）",
        **QUARRY_LAND.model_dump(),
    )
    native.apply_change(land, "抵押权登记", HENGDA, at=_at("2026-02-26T09:40:00"))
    native.register_property(
        kind=PropertyKind.MINING_RIGHT, owner=HENGDA, use="采矿权：饰面用花岗岩，露天开采", **MINING_RIGHT.model_dump()
    )
    native.register_planning(HENGDA, PROJECT_CODE, "恒达石材加工厂房扩建项目", permit_number="建字第445302202400123号",
                             issued_on=date(2024, 6, 18))
    native.register_planning(HENGDA, PROJECT_CODE, "恒达石材加工厂房扩建项目（二期）", permit_number=None, state="Pending")
    native.register_property(kind=PropertyKind.HOUSE, owner=LIU, area=Decimal("68.20"), use="商业", **SHOP.model_dump())
