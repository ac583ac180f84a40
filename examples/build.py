"""Build the unsigned example documents in ``examples/unsigned/`` from the document models.

Run from the project root::

    .venv/bin/python examples/build.py

One realistic example of every document type is written to ``unsigned/<Type>.xml``; variants that
show other unit kinds, records and sightings are ``unsigned/<Type>-<variant>.xml``. Together they
use every element of ``schemas/liandong-v1.xsd`` (``tests/test_schema.py`` checks this).

The examples follow one story in the units of ``examples/network.yaml``. 广东省云浮市中级人民法院
enforces （2026）粤53执123号 against 陈国强 and his company 云浮市恒达石材有限公司: it queries the
bank, police, real-estate registry, market regulation and the credit platform, freezes and deducts
deposits, seizes real estate, restricts exit, freezes equity, lists the debtor as dishonest, and
finally closes the case. 湖北省公安县人民法院 (case （2026）鄂1022执45号) entrusts an item to the
Yunfu court and holds an earlier freeze on the same account. Directions follow
``broker.documents.catalogue.DIRECTIONS``; identifiers carry valid check characters; amounts,
periods, officers, rulings and references satisfy the business rules.

``unsigned/coverage/`` holds the measures and records of unit kinds that have no unit in
``network.yaml`` (housing fund, social insurance, insurer, tax, securities depository, development
and reform, central bank). They are addressed to INVENTED unit codes (valid GB 32100-2015 check
characters, but not registered members), so routing rejects them with RULE_UNKNOWN_UNIT: they exist
only to show those elements of the schema.

Document ids are uuid5 of a fixed namespace and the file name, and every time is fixed (+08:00), so
rerunning gives identical bytes.
"""

from __future__ import annotations

import hashlib
import struct
import uuid
import zlib
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from broker.documents import codec
from broker.signing import DocumentSigner
from broker.documents.bodies import (
    AnomalyKind,
    AnomalyNotice,
    AssistanceNotice,
    Attachment,
    BasisDocument,
    CaseCompletedNotice,
    CaseOutcome,
    ConsumptionRestriction,
    ConsumptionRestrictionOrder,
    CredentialKind,
    CredentialScan,
    DeletionGround,
    DishonestConduct,
    DishonestListing,
    DishonestListingCorrection,
    DishonestListingDeletion,
    DishonestListingRevocation,
    EnforcementRuling,
    EntrustedItem,
    EntrustedItemKind,
    ComplaintExplanation,
    EntrustmentComplaint,
    EntrustmentFeedback,
    EntrustmentOutcome,
    EntrustmentRating,
    Escalation,
    ExecutionReceipt,
    ExtensionNotice,
    ItemEntrustment,
    JudicialSuggestion,
    LeadReport,
    ListingCorrection,
    ListingPeriod,
    MeasureStatusNotice,
    NonDeliveryNotice,
    OfficerCredential,
    OfficerCredentials,
    OutstandingMeasure,
    OutstandingMeasuresNotice,
    PersonSighting,
    PunishmentEntry,
    PunishmentReport,
    QueryNotice,
    RejectionError,
    RejectionNotice,
    ReleaseNotice,
    Reminder,
    ReviewSuggestion,
    ServiceReceipt,
    VehicleSighting,
)
from broker.documents.catalogue import UnitKind
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
from broker.documents.document import CHINA_TZ, Document
from broker.documents.identifiers import make_uscc, resident_id_check_char
from broker.documents.measures import (
    BankContinuedFreeze,
    BankDeduct,
    BankFreeze,
    BankRotatingFreeze,
    CreditRecord,
    EquityForcedTransfer,
    EquityFreeze,
    ExitRestriction,
    HousingFundExtract,
    HousingFundFreeze,
    InsuranceExtract,
    InsuranceFreeze,
    LocateGround,
    LocatePerson,
    LocateVehicle,
    Party,
    ProjectApprovalHalt,
    PropertyPreSeize,
    PropertyRotatingSeize,
    PropertySeize,
    PropertyTransfer,
    RegistrationHalt,
    Release,
    ReleaseKind,
    ReleaseReason,
    SecuritiesDeduct,
    SecuritiesFreeze,
    SocialInsuranceExtract,
    SocialInsuranceFreeze,
    TaxRefundExtract,
    VehicleSeize,
    VehicleTransfer,
)
from broker.documents.queries import Query, QueryKind
from broker.documents.results import (
    AccountStatus,
    BankAccountRecord,
    BorderCrossing,
    CompanyRecord,
    Direction,
    EquityRecord,
    FundRecord,
    GenericRecord,
    HotelStayRecord,
    InsuranceRecord,
    ListingRecord,
    MeasureResult,
    PersonRecord,
    PriorityKind,
    PriorityRight,
    PriorMeasure,
    PropertyRecord,
    QueryResult,
    QueryStatus,
    RecordField,
    ReleaseResult,
    ReleaseStatus,
    ResultStatus,
    SecuritiesRecord,
    TaxRefundRecord,
    TransactionRecord,
    TravelDocumentRecord,
    VehicleRecord,
)
from broker.documents.xmlmodel import XmlModel
from broker.errors import problem
from broker.registry import load_registry

HERE = Path(__file__).resolve().parent
OUT = HERE / "unsigned"
EXAMPLE_NS = uuid.UUID("3d6f0c52-8a4e-5b71-9c2d-6e4f1a0b7c93")
"""Namespace of the example document ids (uuid5 of this and the file name)."""

REGISTRY = load_registry(HERE / "network.yaml")


def doc_id(name: str) -> uuid.UUID:
    """The fixed id of the example written to ``unsigned/<name>.xml``."""
    return uuid.uuid5(EXAMPLE_NS, name)


def at(text: str) -> datetime:
    """``"2026-03-04 09:30"`` or ``"2026-03-04 09:30:02"`` in China Standard Time (+08:00)."""
    fmt = "%Y-%m-%d %H:%M:%S" if text.count(":") == 2 else "%Y-%m-%d %H:%M"
    return datetime.strptime(text, fmt).replace(tzinfo=CHINA_TZ)


def day(text: str) -> date:
    return date.fromisoformat(text)


def cny(amount: str) -> Money:
    return Money.cny(amount)


def period(start: str, end: str) -> Period:
    return Period(start=day(start), end=day(end))


def resident_id(region: str, birth: str, sequence: str) -> str:
    """A GB 11643-1999 number: region, birth date, sequence (odd: male) and check character."""
    first17 = region + birth + sequence
    return first17 + resident_id_check_char(first17)


# --- the network (examples/network.yaml) -------------------------------------------------------


def _code(kind: UnitKind, name_part: str = "") -> str:
    return next(u.code for u in REGISTRY.units if u.kind is kind and name_part in u.name)


YUNFU_COURT = _code(UnitKind.COURT, "云浮")  # 11445300MB0000001W
GONGAN_COURT = _code(UnitKind.COURT, "公安县")  # 11421022MB0000002J
GUANGDONG_HIGH_COURT = _code(UnitKind.COURT, "广东省高级")  # 11440000MB0000010D, the Yunfu court's superior
BANK = _code(UnitKind.BANK)  # 91445300MA5100003A
POLICE = _code(UnitKind.PUBLIC_SECURITY)  # 11445300MB00000046
REGISTRY_CENTRE = _code(UnitKind.NATURAL_RESOURCES)  # 12445300MB00000056
MARKET = _code(UnitKind.MARKET_REGULATION)  # 11445300MB0000006C
CREDIT = _code(UnitKind.CREDIT_PLATFORM)  # 11100000MB0000007D
OFFICE = REGISTRY.office  # 11445300MB0000008J
HUB = REGISTRY.hub.code  # 12100000MB0000009G


def unit_name(code: str) -> str:
    unit = REGISTRY.unit(code)
    return unit.name if unit else REGISTRY.hub.name


def enforcement_account(court: str, currency: str = "CNY") -> EnforcementAccount:
    """The court's registered enforcement account (003 bank rules 4, 13–14)."""
    entry = next(a for a in REGISTRY.unit(court).enforcement_accounts if a.currency == currency)
    return EnforcementAccount(**entry.model_dump())


# --- parties, officers, cases ----------------------------------------------------------------------

CASE = "（2026）粤53执123号"
PRESERVATION_CASE = "（2025）粤53执保7号"
GONGAN_CASE = "（2026）鄂1022执45号"

CHEN = NaturalPerson(name="陈国强", id_number=resident_id("445302", "19800412", "123"), gender="M")
HUANG = NaturalPerson(name="黄美玲", id_number=resident_id("445381", "19850923", "246"), gender="F")
LI = NaturalPerson(name="李伟文", id_number=resident_id("445321", "19790617", "051"), gender="M")
LIU = NaturalPerson(name="刘建华", id_number=resident_id("421022", "19760305", "315"), gender="M")
HENGDA = Organisation(
    name="云浮市恒达石材有限公司", unit_code=make_uscc("91445302MA4UH8QK2"), legal_representative="陈国强"
)
XIANGSHUN = EquityHolding(
    company_name="云浮市新兴县翔顺建材贸易有限公司",
    company_code=make_uscc("91445321MA52K7D3X"),
    contribution=cny("600000.00"),
    ratio=Decimal("60"),
)
CHENGTOU = Organisation(
    name="云浮市城建投资有限公司", unit_code=make_uscc("91445300MA4W2N8P6"), legal_representative="梁志明"
)

YUNFU_OFFICERS = [
    Officer(name="李明", phone="0766-8923101", credential_number="粤53执证0012"),
    Officer(name="王芳", phone="0766-8923102", credential_number="粤53执证0027"),
]
GONGAN_OFFICERS = [Officer(name="张伟", phone="0716-5226011", credential_number="鄂1022执证0031")]

RULING = RulingRef(ruling_number="（2026）粤53执123号之一", document_id=doc_id("EnforcementRuling"))
PRESERVATION_NOTICE = doc_id("earlier/AssistanceNotice-（2025）粤53执保7号")
"""An earlier preservation freeze notice (not among the examples) that the bank notice continues."""

CHEN_CARD = BankAccount(
    bank_name="中国工商银行云浮分行",
    account_number="6222022010001234567",
    account_name="陈国强",
    currency="CNY",
)
CHEN_SAVINGS = BankAccount(
    bank_name="中国工商银行云浮分行",
    account_number="6222022010007654321",
    account_name="陈国强",
    currency="CNY",
)
HENGDA_BASIC = BankAccount(
    bank_name="中国工商银行云浮分行云城支行",
    account_number="2017002109000123456",
    account_name="云浮市恒达石材有限公司",
    currency="CNY",
)
HENGDA_GENERAL = BankAccount(
    bank_name="中国工商银行云浮分行云城支行",
    account_number="2017002109000234567",
    account_name="云浮市恒达石材有限公司",
    currency="CNY",
)

HENGDA_USD = BankAccount(
    bank_name="中国工商银行云浮分行云城支行",
    account_number="2017002129000345678",
    account_name="云浮市恒达石材有限公司",
    currency="USD",
)

TRUCK = Vehicle(plate_number="粤W3K218", vin="LGAX4DD39H1012345", brand="东风天龙")
CAR = Vehicle(plate_number="粤W5C907", vin="LFV2A21K6K4123456", brand="大众迈腾")
SOLD_CAR = Vehicle(plate_number="粤W8A661", vin="LVSHFFAC5JF654321", brand="福特蒙迪欧")

QUARRY_LAND = RealEstate(
    unit_number="445302103001GB00012W00000000",
    certificate_number="粤（2019）云浮市不动产权第0012345号",
    location="云浮市云城区思劳镇石材工业园A区3号",
)
FLAT = RealEstate(
    unit_number="445302001002GB00088F00030502",
    certificate_number="粤（2021）云浮市不动产权第0034567号",
    location="云浮市云城区兴云西路8号2栋502房",
)


class Book:
    """The examples being built, by file name (without ``.xml``)."""

    def __init__(self) -> None:
        self.docs: dict[str, Document] = {}

    def add(
        self, name: str, body: XmlModel, *, sender: str, recipient: str, issued: str, **header: Any
    ) -> Document:
        doc = Document.create(
            body, sender=sender, recipient=recipient, document_id=doc_id(name), issued_at=at(issued), **header
        )
        self.docs[name] = doc
        return doc


# --- the bank: ruling, credentials, query, notice, receipts, release --------------------------------


def bank_examples(book: Book) -> None:
    court = dict(sender=YUNFU_COURT, case_number=CASE)
    book.add(
        "EnforcementRuling",
        EnforcementRuling(
            ruling_number=RULING.ruling_number,
            ruling_date=day("2026-03-04"),
            court_name=unit_name(YUNFU_COURT),
            decision="冻结、划拨被执行人陈国强、云浮市恒达石材有限公司在金融机构的存款人民币1100000元，"
            "或者查封、扣押、冻结其相应价值的其他财产。本裁定立即执行。",
            legal_basis="《中华人民共和国民事诉讼法》关于查询、冻结、划拨被执行人存款的规定；"
            "《最高人民法院关于人民法院民事执行中查封、扣押、冻结财产的规定》",
        ),
        recipient=BANK,
        issued="2026-03-04 09:00",
        **court,
    )
    book.add(
        "OfficerCredentials",
        OfficerCredentials(
            officers=[
                OfficerCredential(
                    **o.model_dump(),
                    credential_kind=CredentialKind.ENFORCEMENT_CERTIFICATE,
                    scan=CredentialScan(content=_scan_image(i), mime_type="image/png"),
                )
                for i, o in enumerate(YUNFU_OFFICERS)
            ]
        ),
        recipient=BANK,
        issued="2026-03-04 09:05",
        **court,
    )

    # 003 bank rules 6–7: accounts of both debtors, transaction details of one card.
    book.add(
        "QueryNotice",
        QueryNotice(
            queries=[
                Query(query_id="Q1", kind=QueryKind.BANK_DEPOSITS, subject=CHEN),
                Query(query_id="Q2", kind=QueryKind.BANK_DEPOSITS, subject=HENGDA),
                Query(
                    query_id="Q3",
                    kind=QueryKind.BANK_TRANSACTIONS,
                    subject=CHEN,
                    period=period("2025-09-01", "2026-02-28"),
                    account=CHEN_CARD,
                    remark="请提供交易对手户名、账号及开户行。",
                ),
            ],
            remark="请在三个工作日内通过联动网络反馈查询结果。",
        ),
        recipient=BANK,
        issued="2026-03-02 09:00",
        deadline=at("2026-03-05 17:30"),
        officers=YUNFU_OFFICERS,
        **court,
    )
    book.add(
        "ExecutionReceipt-BankQuery",
        ExecutionReceipt(
            results=[
                QueryResult(
                    query_id="Q1",
                    status=QueryStatus.FOUND,
                    records=[
                        BankAccountRecord(
                            account=CHEN_CARD,
                            branch_name="中国工商银行云浮分行营业部",
                            opened_on=day("2012-05-18"),
                            account_type="个人借记卡",
                            account_status=AccountStatus.NORMAL,
                            balance=cny("186432.57"),
                            available_balance=cny("186432.57"),
                            phone="13802660412",
                        ),
                        BankAccountRecord(
                            account=CHEN_SAVINGS,
                            branch_name="中国工商银行云浮分行营业部",
                            opened_on=day("2015-11-02"),
                            account_type="个人储蓄账户",
                            account_status=AccountStatus.FROZEN,
                            balance=cny("120000.00"),
                            freezes=[
                                PriorMeasure(
                                    position=1,
                                    authority=unit_name(YUNFU_COURT),
                                    authority_code=YUNFU_COURT,
                                    case_number=PRESERVATION_CASE,
                                    document_id=PRESERVATION_NOTICE,
                                    amount=cny("120000.00"),
                                    period=period("2025-03-16", "2026-03-15"),
                                )
                            ],
                        ),
                    ],
                ),
                QueryResult(
                    query_id="Q2",
                    status=QueryStatus.FOUND,
                    records=[
                        BankAccountRecord(
                            account=HENGDA_BASIC,
                            branch_name="中国工商银行云浮分行云城支行",
                            opened_on=day("2016-08-09"),
                            account_type="单位基本存款账户",
                            account_status=AccountStatus.FROZEN,
                            balance=cny("412600.00"),
                            freezes=[
                                PriorMeasure(
                                    position=1,
                                    authority=unit_name(GONGAN_COURT),
                                    authority_code=GONGAN_COURT,
                                    case_number=GONGAN_CASE,
                                    amount=cny("350000.00"),
                                    period=period("2026-01-20", "2027-01-19"),
                                ),
                                PriorMeasure(
                                    position=2,
                                    authority="云浮市云城区人民法院",
                                    case_number="（2025）粤5302执1234号",
                                    amount=cny("62600.00"),
                                    period=period("2026-02-03", "2027-02-02"),
                                ),
                            ],
                        ),
                        BankAccountRecord(
                            account=HENGDA_GENERAL,
                            branch_name="中国工商银行云浮分行云城支行",
                            opened_on=day("2018-03-27"),
                            account_type="单位一般存款账户",
                            account_status=AccountStatus.NORMAL,
                            balance=cny("262500.00"),
                            available_balance=cny("212500.00"),
                            priority_rights=[
                                PriorityRight(
                                    holder="中国工商银行云浮分行",
                                    kind=PriorityKind.MARGIN,
                                    amount=cny("50000.00"),
                                )
                            ],
                        ),
                    ],
                ),
                QueryResult(
                    query_id="Q3",
                    status=QueryStatus.FOUND,
                    records=[
                        TransactionRecord(
                            account_number=CHEN_CARD.account_number,
                            time=at("2026-01-15 10:22:41"),
                            direction=Direction.CREDIT,
                            amount=cny("80000.00"),
                            balance_after=cny("266432.57"),
                            counterparty_name="云浮市恒达石材有限公司",
                            counterparty_account=HENGDA_GENERAL.account_number,
                            counterparty_bank="中国工商银行云浮分行云城支行",
                            summary="往来款",
                        ),
                        TransactionRecord(
                            account_number=CHEN_CARD.account_number,
                            time=at("2026-02-06 16:05:09"),
                            direction=Direction.DEBIT,
                            amount=cny("50000.00"),
                            balance_after=cny("216432.57"),
                            counterparty_name="黄美玲",
                            counterparty_account="6217002870012345678",
                            counterparty_bank="中国建设银行云浮分行",
                            summary="转账",
                        ),
                        TransactionRecord(
                            account_number=CHEN_CARD.account_number,
                            time=at("2026-02-25 09:47:33"),
                            direction=Direction.DEBIT,
                            amount=cny("30000.00"),
                            balance_after=cny("186432.57"),
                            summary="ATM取款",
                        ),
                    ],
                ),
            ],
        ),
        sender=BANK,
        recipient=YUNFU_COURT,
        issued="2026-03-02 11:20",
        case_number=CASE,
        in_reply_to=doc_id("QueryNotice"),
    )

    # 003 bank rules 9–15: freeze, rotating freeze, continued freeze, deduction, with the ruling.
    notice = book.add(
        "AssistanceNotice",
        AssistanceNotice(
            ruling=RULING,
            measures=[
                BankFreeze(
                    measure_id="M1",
                    subject=CHEN,
                    account=CHEN_CARD,
                    amount=cny("500000.00"),
                    period=period("2026-03-04", "2027-03-03"),
                ),
                BankRotatingFreeze(
                    measure_id="M2",
                    subject=HENGDA,
                    account=HENGDA_BASIC,
                    amount=cny("600000.00"),
                    period=period("2026-03-04", "2027-03-03"),
                ),
                BankContinuedFreeze(
                    measure_id="M3",
                    subject=CHEN,
                    continues=MeasureRef(document_id=PRESERVATION_NOTICE, measure_id="F1"),
                    account=CHEN_SAVINGS,
                    amount=cny("120000.00"),
                    period=period("2026-03-16", "2027-03-15"),
                ),
                BankDeduct(
                    measure_id="M4",
                    subject=HENGDA,
                    account=HENGDA_GENERAL,
                    amount=cny("300000.00"),
                    enforcement_account=enforcement_account(YUNFU_COURT),
                ),
                # 003 bank rules 13: a foreign-currency deduction goes to the foreign-currency account.
                BankDeduct(
                    measure_id="M5",
                    subject=HENGDA,
                    account=HENGDA_USD,
                    amount=Money(value=Decimal("12000.00"), currency="USD"),
                    enforcement_account=enforcement_account(YUNFU_COURT, "USD"),
                ),
            ],
            remark="请立即办理，并将执行结果通过联动网络回执本院。",
        ),
        recipient=BANK,
        issued="2026-03-04 09:30",
        officers=YUNFU_OFFICERS,
        **court,
    )
    book.add(
        "ServiceReceipt",
        ServiceReceipt(
            served_document_id=notice.header.document_id,
            served_document_type=notice.type,
            served_sender=YUNFU_COURT,
            served_recipient=BANK,
            payload_digest=hashlib.sha256(codec.to_bytes(notice)).hexdigest(),
            received_at=at("2026-03-04 09:30:01"),
        ),
        sender=HUB,
        recipient=YUNFU_COURT,
        issued="2026-03-04 09:30:02",
        in_reply_to=notice.header.document_id,
    )
    book.add(
        "ExecutionReceipt",
        ExecutionReceipt(
            results=[
                MeasureResult(
                    measure_id="M1",
                    status=ResultStatus.PARTIALLY_EXECUTED,
                    requested_amount=cny("500000.00"),
                    actual_amount=cny("186432.57"),
                    period=period("2026-03-04", "2027-03-03"),
                    effective_at=at("2026-03-04 10:12:31"),
                    reason="账户可用余额不足，已按可用余额限额冻结；冻结期限内后续入账资金继续冻结，直至达到应冻结金额。",
                ),
                MeasureResult(
                    measure_id="M2",
                    status=ResultStatus.ROTATING,
                    requested_amount=cny("600000.00"),
                    period=period("2026-03-04", "2027-03-03"),
                    queue_position=3,
                    prior_measures=[
                        PriorMeasure(
                            position=1,
                            authority=unit_name(GONGAN_COURT),
                            authority_code=GONGAN_COURT,
                            case_number=GONGAN_CASE,
                            amount=cny("350000.00"),
                            period=period("2026-01-20", "2027-01-19"),
                        ),
                        PriorMeasure(
                            position=2,
                            authority="云浮市云城区人民法院",
                            case_number="（2025）粤5302执1234号",
                            amount=cny("62600.00"),
                            period=period("2026-02-03", "2027-02-02"),
                        ),
                    ],
                    reason="该账户已被冻结，本次冻结登记为轮候冻结，前序冻结解除后依次自动生效。",
                ),
                MeasureResult(
                    measure_id="M3",
                    status=ResultStatus.EXECUTED,
                    requested_amount=cny("120000.00"),
                    actual_amount=cny("120000.00"),
                    period=period("2026-03-16", "2027-03-15"),
                    effective_at=at("2026-03-04 10:12:35"),
                ),
                MeasureResult(
                    measure_id="M4",
                    status=ResultStatus.PARTIALLY_EXECUTED,
                    requested_amount=cny("300000.00"),
                    deducted_amount=cny("212500.00"),
                    not_deducted_amount=cny("87500.00"),
                    priority_rights=[
                        PriorityRight(
                            holder="中国工商银行云浮分行", kind=PriorityKind.MARGIN, amount=cny("50000.00")
                        )
                    ],
                    effective_at=at("2026-03-04 10:13:02"),
                    reason="账户余额262500.00元，其中银行承兑汇票保证金50000.00元享有优先受偿权不予扣划，"
                    "已扣划可用余额212500.00元至法院执行款专户。",
                ),
                MeasureResult(
                    measure_id="M5",
                    status=ResultStatus.EXECUTED,
                    requested_amount=Money(value=Decimal("12000.00"), currency="USD"),
                    deducted_amount=Money(value=Decimal("12000.00"), currency="USD"),
                    effective_at=at("2026-03-04 10:13:09"),
                    remark="已划至法院外币执行款专户。",
                ),
            ],
            remark="本回执加盖本行电子印章。",
        ),
        sender=BANK,
        recipient=YUNFU_COURT,
        issued="2026-03-04 15:10",
        case_number=CASE,
        in_reply_to=notice.header.document_id,
    )
    # 003 bank rules 10: the rotating freeze took effect when the earlier ones were lifted.
    book.add(
        "MeasureStatusNotice",
        MeasureStatusNotice(
            measure=MeasureRef(document_id=notice.header.document_id, measure_id="M2"),
            status=ResultStatus.PARTIALLY_EXECUTED,
            effective_at=at("2026-04-15 09:20"),
            actual_amount=cny("412600.00"),
            reason="前序冻结均已解除，本院轮候冻结依序生效；账户余额不足，按余额限额冻结。",
        ),
        sender=BANK,
        recipient=YUNFU_COURT,
        issued="2026-04-15 09:25",
        case_number=CASE,
        in_reply_to=notice.header.document_id,
    )
    book.add(
        "ReleaseNotice",
        ReleaseNotice(
            ruling=RulingRef(ruling_number="（2026）粤53执123号之二"),
            releases=[
                Release(
                    release_id="R1",
                    kind=ReleaseKind.BANK_UNFREEZE,
                    releases=MeasureRef(document_id=notice.header.document_id, measure_id="M1"),
                    subject=CHEN,
                    amount=cny("100000.00"),
                    reason=ReleaseReason.GUARANTEE_PROVIDED,
                    remark="被执行人提供等额担保，部分解除冻结100000.00元，其余继续冻结。",
                )
            ],
        ),
        recipient=BANK,
        issued="2026-05-20 10:00",
        officers=YUNFU_OFFICERS,
        **court,
    )
    book.add(
        "ExecutionReceipt-BankRelease",
        ExecutionReceipt(
            results=[
                ReleaseResult(
                    release_id="R1",
                    status=ReleaseStatus.RELEASED,
                    released_amount=cny("100000.00"),
                    effective_at=at("2026-05-20 10:41:17"),
                )
            ]
        ),
        sender=BANK,
        recipient=YUNFU_COURT,
        issued="2026-05-20 14:00",
        case_number=CASE,
        in_reply_to=doc_id("ReleaseNotice"),
    )
    book.add(
        "CaseCompletedNotice",
        CaseCompletedNotice(
            completed_on=day("2026-06-30"),
            outcome=CaseOutcome.PERFORMED,
            remark="本案已执行完毕，请停止一切执行措施；尚未解除的措施另行通知解除。",
        ),
        recipient=BANK,
        issued="2026-06-30 16:00",
        **court,
    )


def _scan_image(seed: int) -> bytes:
    """A tiny grey PNG standing in for a credential scan (deterministic bytes)."""
    width, height = 16, 10
    rows = b"".join(
        b"\x00" + bytes((seed * 40 + x * 8 + y * 4) % 256 for x in range(width)) for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


# --- the real-estate registry (001 arts. 11–12; 002 四.13–14) ----------------------------------------


def registry_examples(book: Book) -> None:
    court = dict(sender=YUNFU_COURT, recipient=REGISTRY_CENTRE, case_number=CASE)
    book.add(
        "AssistanceNotice-NaturalResources",
        AssistanceNotice(
            ruling=RULING,
            measures=[
                PropertySeize(
                    measure_id="P1",
                    subject=HENGDA,
                    property=QUARRY_LAND,
                    period=period("2026-03-04", "2029-03-03"),
                ),
                PropertyPreSeize(
                    measure_id="P2",
                    subject=CHEN,
                    property=RealEstate(
                        location="云浮市云城区星岩四路18号碧桂园·云浮府3栋1204房（预售商品房）"
                    ),
                    period=period("2026-03-04", "2029-03-03"),
                ),
                PropertyRotatingSeize(
                    measure_id="P3", subject=CHEN, property=FLAT, period=period("2026-03-04", "2029-03-03")
                ),
                PropertyTransfer(
                    measure_id="P4",
                    subject=CHEN,
                    property=RealEstate(
                        certificate_number="粤（2017）云浮市不动产权第0009876号",
                        location="云浮市云城区云浮大道中23号1栋1802房",
                    ),
                    transferee=Party(subject=LI),
                ),
                RegistrationHalt(
                    measure_id="P5",
                    subject=HENGDA,
                    property=QUARRY_LAND,
                    scope="停止办理该宗地的抵押、转让等变更登记手续",
                ),
            ],
            remark="P4 所涉房产已经本院依法拍卖成交，请凭拍卖成交确认裁定书办理转移登记。",
        ),
        issued="2026-03-04 10:00",
        officers=YUNFU_OFFICERS,
        **court,
    )
    book.add(
        "QueryNotice-NaturalResources",
        QueryNotice(
            queries=[
                Query(query_id="Q1", kind=QueryKind.REAL_ESTATE, subject=CHEN),
                Query(query_id="Q2", kind=QueryKind.PLANNING_APPROVALS, subject=HENGDA),
            ]
        ),
        issued="2026-03-02 09:10",
        deadline=at("2026-03-05 17:30"),
        officers=YUNFU_OFFICERS,
        **court,
    )
    reply = dict(sender=REGISTRY_CENTRE, recipient=YUNFU_COURT, case_number=CASE)
    book.add(
        "ExtensionNotice",
        ExtensionNotice(
            reason="规划审批档案尚在市档案馆调阅，无法在三个工作日内反馈，预计于2026年3月13日前反馈。",
            proposed_deadline=at("2026-03-13 17:30"),
            items=["Q2"],
        ),
        issued="2026-03-05 11:00",
        in_reply_to=doc_id("QueryNotice-NaturalResources"),
        **reply,
    )
    book.add(
        "ExecutionReceipt-NaturalResources",
        ExecutionReceipt(
            results=[
                QueryResult(
                    query_id="Q1",
                    status=QueryStatus.FOUND,
                    records=[
                        PropertyRecord(
                            property=FLAT,
                            owner_name="陈国强",
                            area=Decimal("126.48"),
                            use="住宅",
                            encumbrances=[
                                PriorityRight(
                                    holder="中国工商银行云浮分行",
                                    kind=PriorityKind.MORTGAGE,
                                    amount=cny("450000.00"),
                                )
                            ],
                            seizures=[
                                PriorMeasure(
                                    position=1,
                                    authority=unit_name(GONGAN_COURT),
                                    authority_code=GONGAN_COURT,
                                    case_number=GONGAN_CASE,
                                    period=period("2026-01-22", "2029-01-21"),
                                )
                            ],
                        )
                    ],
                ),
                QueryResult(
                    query_id="Q2",
                    status=QueryStatus.FOUND,
                    records=[
                        GenericRecord(
                            kind="建设工程规划许可",
                            fields=[
                                RecordField(name="许可证号", value="建字第445302202400123号"),
                                RecordField(name="项目名称", value="恒达石材加工厂房扩建项目"),
                                RecordField(name="核发日期", value="2024-06-18"),
                            ],
                        )
                    ],
                ),
            ]
        ),
        issued="2026-03-12 15:30",
        in_reply_to=doc_id("QueryNotice-NaturalResources"),
        **reply,
    )


# --- public security (002 四.7; 003 SPC–MPS 二–三) ----------------------------------------------


def police_examples(book: Book) -> None:
    notice = book.add(
        "AssistanceNotice-PublicSecurity",
        AssistanceNotice(
            ruling=RULING,
            measures=[
                ExitRestriction(
                    measure_id="S1",
                    subject=CHEN,
                    period=period("2026-03-04", "2027-03-03"),
                    control_requirement="边控：阻止出境，并立即通知执行法院",
                ),
                VehicleSeize(
                    measure_id="S2", subject=HENGDA, vehicle=TRUCK, period=period("2026-03-04", "2028-03-03")
                ),
                VehicleTransfer(
                    measure_id="S3", subject=CHEN, vehicle=SOLD_CAR, transferee=Party(subject=LI)
                ),
                LocatePerson(measure_id="S4", subject=CHEN, ground=LocateGround.MISSING_OVER_THREE_MONTHS),
                LocateVehicle(measure_id="S5", subject=HENGDA, vehicle=CAR),
            ],
        ),
        sender=YUNFU_COURT,
        recipient=POLICE,
        issued="2026-03-04 10:10",
        case_number=CASE,
        officers=YUNFU_OFFICERS,
    )
    book.add(
        "QueryNotice-PublicSecurity",
        QueryNotice(
            queries=[
                Query(query_id="Q1", kind=QueryKind.IDENTITY, subject=CHEN),
                Query(query_id="Q2", kind=QueryKind.TRAVEL_DOCUMENTS, subject=CHEN),
                Query(
                    query_id="Q3",
                    kind=QueryKind.HOTEL_STAYS,
                    subject=CHEN,
                    period=period("2026-01-01", "2026-02-28"),
                ),
                Query(query_id="Q4", kind=QueryKind.VEHICLES, subject=HENGDA),
            ]
        ),
        sender=YUNFU_COURT,
        recipient=POLICE,
        issued="2026-03-02 09:20",
        case_number=CASE,
        deadline=at("2026-03-05 17:30"),
        officers=YUNFU_OFFICERS,
    )
    book.add(
        "ExecutionReceipt-PublicSecurity",
        ExecutionReceipt(
            results=[
                QueryResult(
                    query_id="Q1",
                    status=QueryStatus.FOUND,
                    records=[
                        PersonRecord(
                            name=CHEN.name,
                            id_number=CHEN.id_number,
                            gender="M",
                            birth_date=day("1980-04-12"),
                            former_names=["陈强"],
                            household_address="广东省云浮市云城区云城街道新平路12号",
                            residence="广东省云浮市云城区兴云西路8号2栋502房",
                            phone="13802660412",
                        )
                    ],
                ),
                QueryResult(
                    query_id="Q2",
                    status=QueryStatus.FOUND,
                    records=[
                        TravelDocumentRecord(
                            document_kind="普通护照",
                            document_number="E12345678",
                            valid_until=day("2031-07-08"),
                            crossings=[
                                BorderCrossing(
                                    time=at("2025-12-20 08:15"),
                                    direction="出境",
                                    port="珠海拱北口岸",
                                    destination="澳门",
                                ),
                                BorderCrossing(
                                    time=at("2025-12-23 19:42"), direction="入境", port="珠海拱北口岸"
                                ),
                            ],
                        )
                    ],
                ),
                QueryResult(
                    query_id="Q3",
                    status=QueryStatus.FOUND,
                    records=[
                        HotelStayRecord(
                            hotel_name="云浮国际大酒店",
                            hotel_address="云浮市云城区河滨路1号",
                            check_in=at("2026-02-10 22:31"),
                            check_out=at("2026-02-12 11:05"),
                        )
                    ],
                ),
                QueryResult(
                    query_id="Q4",
                    status=QueryStatus.FOUND,
                    records=[
                        VehicleRecord(
                            vehicle=TRUCK,
                            model="DFH4250A",
                            vehicle_type="重型半挂牵引车",
                            registered_on=day("2017-09-14"),
                            registration_authority="云浮市公安局交通警察支队车辆管理所",
                            mortgagee="东风汽车金融有限公司",
                            seizures=[
                                PriorMeasure(
                                    position=1,
                                    authority=unit_name(GONGAN_COURT),
                                    authority_code=GONGAN_COURT,
                                    case_number=GONGAN_CASE,
                                    period=period("2026-01-21", "2028-01-20"),
                                )
                            ],
                        ),
                        VehicleRecord(vehicle=CAR, model="FV7187TATG", vehicle_type="小型轿车"),
                    ],
                ),
            ]
        ),
        sender=POLICE,
        recipient=YUNFU_COURT,
        issued="2026-03-03 16:40",
        case_number=CASE,
        in_reply_to=doc_id("QueryNotice-PublicSecurity"),
    )
    contact = Officer(name="周志强", phone="0766-8826110", credential_number="警号445301")
    sightings = {
        "LeadReport": (
            "S4",
            PersonSighting(
                person=CHEN,
                location="云浮市云城区河滨路1号云浮国际大酒店",
                seen_at=at("2026-04-02 21:40"),
                remark="已告知其次日到执行法院接受询问。",
            ),
            "2026-04-02 22:15",  # within 24 hours (002 四.7(2))
        ),
        "LeadReport-VehicleSighting": (
            "S5",
            VehicleSighting(
                vehicle=CAR, location="G324国道云城收费站", seen_at=at("2026-04-03 14:05"), impounded=True
            ),
            "2026-04-03 15:00",
        ),
    }
    for name, (measure_id, sighting, issued) in sightings.items():
        book.add(
            name,
            LeadReport(
                regarding=MeasureRef(document_id=notice.header.document_id, measure_id=measure_id),
                sighting=sighting,
                contact=contact,
            ),
            sender=POLICE,
            recipient=YUNFU_COURT,
            issued=issued,
            case_number=CASE,
        )


# --- market regulation (002 四.17; 004 art. 20) and the hub's deadline watch ----------------------


def market_examples(book: Book) -> None:
    notice = book.add(
        "AssistanceNotice-MarketRegulation",
        AssistanceNotice(
            ruling=RULING,
            measures=[
                EquityFreeze(
                    measure_id="E1",
                    subject=CHEN,
                    equity=XIANGSHUN,
                    amount=cny("600000.00"),
                    period=period("2026-03-04", "2029-03-03"),
                ),
                EquityForcedTransfer(
                    measure_id="E2",
                    subject=CHEN,
                    equity=EquityHolding(
                        company_name="云浮市恒达石材有限公司",
                        company_code=HENGDA.unit_code,
                        contribution=cny("400000.00"),
                        ratio=Decimal("40"),
                    ),
                    transferee=Party(subject=CHENGTOU),
                ),
            ],
            remark="请于三个工作日内在国家企业信用信息公示系统公示股权冻结信息。",
        ),
        sender=YUNFU_COURT,
        recipient=MARKET,
        issued="2026-03-04 10:20",
        case_number=CASE,
        deadline=at("2026-03-09 17:30"),
        officers=YUNFU_OFFICERS,
    )
    notice_id = notice.header.document_id
    book.add(
        "QueryNotice-MarketRegulation",
        QueryNotice(
            queries=[
                Query(query_id="Q1", kind=QueryKind.COMPANY_REGISTRATION, subject=HENGDA),
                Query(query_id="Q2", kind=QueryKind.INVESTMENTS, subject=CHEN),
            ]
        ),
        sender=YUNFU_COURT,
        recipient=MARKET,
        issued="2026-03-02 09:30",
        case_number=CASE,
        deadline=at("2026-03-05 17:30"),
        officers=YUNFU_OFFICERS,
    )
    book.add(
        "ExecutionReceipt-MarketRegulation",
        ExecutionReceipt(
            results=[
                QueryResult(
                    query_id="Q1",
                    status=QueryStatus.FOUND,
                    records=[
                        CompanyRecord(
                            name=HENGDA.name,
                            unit_code=HENGDA.unit_code,
                            legal_representative="陈国强",
                            registered_capital=cny("1000000.00"),
                            status="存续",
                            established_on=day("2016-07-28"),
                            address="云浮市云城区思劳镇石材工业园A区3号",
                            investments=[
                                EquityHolding(
                                    company_name="云浮市恒达石材销售有限公司",
                                    company_code=make_uscc("91445302MA53C1FT4"),
                                    contribution=cny("300000.00"),
                                    ratio=Decimal("100"),
                                )
                            ],
                        )
                    ],
                ),
                QueryResult(
                    query_id="Q2",
                    status=QueryStatus.FOUND,
                    records=[
                        EquityRecord(
                            equity=XIANGSHUN,
                            freezes=[
                                PriorMeasure(
                                    position=1,
                                    authority=unit_name(GONGAN_COURT),
                                    authority_code=GONGAN_COURT,
                                    case_number=GONGAN_CASE,
                                    amount=cny("200000.00"),
                                    period=period("2026-01-23", "2029-01-22"),
                                )
                            ],
                        )
                    ],
                ),
            ]
        ),
        sender=MARKET,
        recipient=YUNFU_COURT,
        issued="2026-03-04 09:10",
        case_number=CASE,
        in_reply_to=doc_id("QueryNotice-MarketRegulation"),
    )
    # The market regulator's adapter went offline while the equity notice was on its way.
    book.add(
        "AnomalyNotice",
        AnomalyNotice(
            kind=AnomalyKind.UNIT_OFFLINE,
            unit=MARKET,
            detected_at=at("2026-03-04 10:35"),
            since=at("2026-03-04 10:18:44"),
            description="成员单位适配器连接中断，待其恢复后将补发积压文书。",
        ),
        sender=HUB,
        recipient=YUNFU_COURT,
        issued="2026-03-04 10:35:05",
    )
    book.add(
        "NonDeliveryNotice",
        NonDeliveryNotice(
            regarding=notice_id,
            undelivered_to=MARKET,
            first_sent_at=at("2026-03-04 10:20:01"),
            reason="接收单位二十四小时内未签收该文书（适配器离线）。",
        ),
        sender=HUB,
        recipient=YUNFU_COURT,
        issued="2026-03-05 10:20:01",
        case_number=CASE,
    )
    book.add(
        "Reminder",
        Reminder(
            regarding=notice_id,
            unit=MARKET,
            due_at=at("2026-03-09 17:30"),
            message="股权冻结公示期限将于今日届满，请及时办理并反馈。",
        ),
        sender=HUB,
        recipient=MARKET,
        issued="2026-03-09 09:00",
    )
    book.add(
        "Escalation",
        Escalation(
            regarding=notice_id,
            unit=MARKET,
            due_at=at("2026-03-09 17:30"),
            overdue_since=at("2026-03-09 17:30"),
            message="云浮市市场监督管理局逾期未反馈股权冻结公示结果，请予督办。",
        ),
        sender=HUB,
        recipient=OFFICE,
        issued="2026-03-10 09:00",
    )
    book.add(
        "ReviewSuggestion",
        ReviewSuggestion(
            grounds="第三人黄美玲主张其为该股权的实际出资人，对强制转让提出异议，建议法院予以审查。"
            "本局已依法协助办理股东变更登记，不因本建议停止执行。",
            items=["E2"],
            measure_carried_out=True,
        ),
        sender=MARKET,
        recipient=YUNFU_COURT,
        issued="2026-03-10 15:20",
        case_number=CASE,
        in_reply_to=notice_id,
    )
    book.add(
        "PunishmentReport",
        PunishmentReport(
            year=2026,
            quarter=1,
            entries=[
                PunishmentEntry(
                    measure="限制担任法定代表人、董事、监事、高级管理人员",
                    count=3,
                    listings=[doc_id("DishonestListing")],
                ),
                PunishmentEntry(measure="限制登记注册新企业", count=1, listings=[doc_id("DishonestListing")]),
                PunishmentEntry(measure="限制参与政府采购", count=0),
            ],
        ),
        sender=MARKET,
        recipient=CREDIT,
        issued="2026-04-08 10:00",
    )


# --- the dishonest-debtor list and consumption restrictions (003 失信规定) ----------------------------


def listing_examples(book: Book) -> None:
    court = dict(sender=YUNFU_COURT, recipient=CREDIT, case_number=CASE)
    listing = book.add(
        "DishonestListing",
        DishonestListing(
            subject=CHEN,
            obligation="支付货款人民币1100000元及逾期付款利息（以1100000元为基数，自2024年9月1日起按LPR计至付清之日止）。",
            performance="全部未履行。",
            conducts=[DishonestConduct.ABLE_BUT_REFUSES, DishonestConduct.VIOLATES_PROPERTY_REPORTING],
            conduct_details="被执行人名下银行账户有资金进出且于2026年2月转出款项，有履行能力而拒不履行；"
            "收到报告财产令后拒不报告财产。",
            basis=BasisDocument(issuer=unit_name(YUNFU_COURT), number="（2025）粤53民初88号"),
            filed_on=day("2026-01-08"),
            decision_date=day("2026-03-09"),
            period=ListingPeriod(base_years=2),
        ),
        issued="2026-03-10 09:00",
        **court,
    )
    listing_id = listing.header.document_id
    book.add(
        "ConsumptionRestrictionOrder",
        ConsumptionRestrictionOrder(
            subject=HENGDA,
            responsible_persons=[CHEN],
            restrictions=[
                ConsumptionRestriction.FLIGHTS,
                ConsumptionRestriction.RAIL_PREMIUM_SEATS,
                ConsumptionRestriction.STAR_HOTELS,
                ConsumptionRestriction.REAL_ESTATE_PURCHASE,
                ConsumptionRestriction.LUXURY_VEHICLES,
            ],
            effective_from=day("2026-03-10"),
        ),
        issued="2026-03-10 09:10",
        **court,
    )
    book.add(
        "DishonestListingCorrection",
        DishonestListingCorrection(
            listing=listing_id,
            corrections=[
                ListingCorrection(
                    field="Performance", value="已履行人民币398932.57元（银行冻结、扣划款项），其余未履行。"
                )
            ],
            reason="纳入时未计入已扣划及冻结款项，履行情况记载不准确，依法更正。",
        ),
        issued="2026-03-12 10:00",
        **court,
    )
    book.add(
        "DishonestListingDeletion",
        DishonestListingDeletion(
            listing=listing_id,
            ground=DeletionGround.PERFORMED,
            remark="被执行人已履行全部义务，本案执行完毕。",
        ),
        issued="2026-06-30 16:30",
        **court,
    )
    book.add(
        "DishonestListingRevocation",
        DishonestListingRevocation(
            listing=doc_id(f"earlier/DishonestListing-{GONGAN_CASE}"),
            reason="被执行人在纳入决定作出前已提供足额财产担保，不应纳入失信被执行人名单，依法撤销。",
        ),
        sender=GONGAN_COURT,
        recipient=CREDIT,
        issued="2026-03-18 11:00",
        case_number=GONGAN_CASE,
    )
    book.add(
        "QueryNotice-CreditPlatform",
        QueryNotice(queries=[Query(query_id="Q1", kind=QueryKind.DISHONEST_STATUS, subject=CHEN)]),
        issued="2026-03-16 09:00",
        officers=YUNFU_OFFICERS,
        **court,
    )
    book.add(
        "ExecutionReceipt-CreditPlatform",
        ExecutionReceipt(
            results=[
                QueryResult(
                    query_id="Q1",
                    status=QueryStatus.FOUND,
                    records=[
                        ListingRecord(
                            listed=True,
                            listing_document_id=listing_id,
                            court=unit_name(YUNFU_COURT),
                            case_number=CASE,
                            listed_on=day("2026-03-10"),
                            period_end=day("2028-03-09"),
                        )
                    ],
                )
            ]
        ),
        sender=CREDIT,
        recipient=YUNFU_COURT,
        issued="2026-03-16 09:00:04",
        case_number=CASE,
        in_reply_to=doc_id("QueryNotice-CreditPlatform"),
    )


# --- court to court, supervision, the hub ----------------------------------------------------------


def court_and_hub_examples(book: Book) -> None:
    entrustment = book.add(
        "ItemEntrustment",
        ItemEntrustment(
            items=[
                EntrustedItem(
                    kind=EntrustedItemKind.INVESTIGATION,
                    description=f"调查被执行人刘建华（身份证号{LIU.id_number}）在云浮市辖区内的不动产及车辆登记情况。",
                ),
                EntrustedItem(
                    kind=EntrustedItemKind.SEIZURE,
                    description="查封被执行人刘建华名下位于云浮市云城区的不动产，查封期限三年。",
                ),
            ],
            urgent=False,
            attachments=[
                Attachment(
                    name="执行裁定书（2026）鄂1022执45号之一",
                    document_id=doc_id(f"earlier/EnforcementRuling-{GONGAN_CASE}"),
                ),
                Attachment(name="协助执行通知书"),
            ],
        ),
        sender=GONGAN_COURT,
        recipient=YUNFU_COURT,
        issued="2026-03-16 10:00",
        case_number=GONGAN_CASE,
        deadline=at("2026-03-31 17:00"),
        officers=GONGAN_OFFICERS,
    )
    feedback = book.add(
        "EntrustmentFeedback",
        EntrustmentFeedback(
            outcome=EntrustmentOutcome.COMPLETED,
            result="经查，被执行人刘建华在云浮市名下有不动产一处（云浮市云城区建设北路66号3栋701房），"
            "本院已于2026年3月25日予以查封，查封期限三年；名下无登记车辆。",
            attachments=[Attachment(name="不动产查封登记回执"), Attachment(name="车辆登记查询结果")],
        ),
        sender=YUNFU_COURT,
        recipient=GONGAN_COURT,
        issued="2026-03-27 16:00",
        case_number=GONGAN_CASE,
        in_reply_to=entrustment.header.document_id,
    )
    # 003 事项委托 art. 13: the entrusting court rates the completed entrustment (to the entrusted
    # court, in reply to its feedback), complains to the entrusted court's superior court, and
    # the entrusted court explains itself there.
    book.add(
        "EntrustmentRating",
        EntrustmentRating(
            entrustment=entrustment.header.document_id,
            score=4,
            comment="查封及时，反馈完整；车辆查询结果未附查询时间。",
        ),
        sender=GONGAN_COURT,
        recipient=YUNFU_COURT,
        issued="2026-03-30 09:30",
        case_number=GONGAN_CASE,
        in_reply_to=feedback.header.document_id,
    )
    complaint = book.add(
        "EntrustmentComplaint",
        EntrustmentComplaint(
            entrustment=entrustment.header.document_id,
            entrusted_court=YUNFU_COURT,
            reasons="委托事项于2026年3月16日送达，受托法院至3月27日方反馈，期间未按委托要求同步告知查封进展。",
        ),
        sender=GONGAN_COURT,
        recipient=GUANGDONG_HIGH_COURT,
        issued="2026-03-30 10:00",
        case_number=GONGAN_CASE,
    )
    book.add(
        "ComplaintExplanation",
        ComplaintExplanation(
            complaint=complaint.header.document_id,
            explanation="本院于2026年3月25日完成查封并于3月27日一并反馈，均在委托期限（3月31日）内；已改进进展告知流程。",
        ),
        sender=YUNFU_COURT,
        recipient=GUANGDONG_HIGH_COURT,
        issued="2026-04-01 15:00",
        case_number=GONGAN_CASE,
    )
    book.add(
        "JudicialSuggestion",
        JudicialSuggestion(
            addressee=unit_name(OFFICE),
            concern="部分成员单位未在规定期限内反馈股权冻结公示结果，且未说明延期理由。",
            suggestion="建议将成员单位反馈时效纳入执行联动考评，并对逾期单位予以督办通报。",
        ),
        sender=YUNFU_COURT,
        recipient=OFFICE,
        issued="2026-03-16 15:00",
    )
    rejected = doc_id("rejected/AssistanceNotice")
    errors = [
        problem(
            "RULE_ID_NUMBER",
            path="/ld:Document/ld:AssistanceNotice/ld:BankFreeze[1]/ld:NaturalPerson/ld:IdNumber",
        ),
        problem("RULE_OFFICERS_REQUIRED", doc_type="AssistanceNotice"),
    ]
    book.add(
        "RejectionNotice",
        RejectionNotice(
            rejected_document_id=rejected,
            payload_digest=hashlib.sha256(rejected.bytes).hexdigest(),
            payload_size=4731,
            received_at=at("2026-03-11 14:02:17"),
            errors=[
                RejectionError(code=p.code, message_zh=p.message_zh, message_en=p.message_en, location=p.path)
                for p in errors
            ],
        ),
        sender=HUB,
        recipient=GONGAN_COURT,
        issued="2026-03-11 14:02:18",
    )
    book.add(
        "OutstandingMeasuresNotice",
        OutstandingMeasuresNotice(
            measures=[
                OutstandingMeasure(
                    document_id=doc_id("AssistanceNotice"),
                    measure_id="M2",
                    unit=BANK,
                    measure_type="BankRotatingFreeze",
                ),
                OutstandingMeasure(
                    document_id=doc_id("AssistanceNotice"),
                    measure_id="M3",
                    unit=BANK,
                    measure_type="BankContinuedFreeze",
                ),
                OutstandingMeasure(
                    document_id=doc_id("AssistanceNotice-PublicSecurity"),
                    measure_id="S1",
                    unit=POLICE,
                    measure_type="ExitRestriction",
                ),
            ]
        ),
        sender=HUB,
        recipient=YUNFU_COURT,
        issued="2026-07-02 09:00",
        case_number=CASE,
    )


# --- coverage: unit kinds without a unit in network.yaml ------------------------------------------
# INVENTED unit codes: valid GB 32100-2015 check characters, but not members of examples/network.yaml.

INVENTED_UNITS = {
    "HousingFund": make_uscc("12445300MB0000010"),  # 云浮市住房公积金管理中心
    "SocialInsurance": make_uscc("11445300MB0000011"),  # 云浮市人力资源和社会保障局
    "Insurer": make_uscc("91445300MA5100012"),  # 中国人寿保险股份有限公司云浮分公司
    "Tax": make_uscc("11445300MB0000013"),  # 国家税务总局云浮市税务局
    "SecuritiesDepository": make_uscc("91440300MA5100014"),  # 中国证券登记结算有限责任公司深圳分公司
    "DevelopmentReform": make_uscc("11445300MB0000015"),  # 云浮市发展和改革局
    "CentralBank": make_uscc("11445300MB0000016"),  # 中国人民银行云浮市分行
}


def coverage_examples(book: Book) -> None:
    account = enforcement_account(YUNFU_COURT)
    fund = FundAccount(account_number="445300100012345", holder_name="陈国强")
    policy = InsurancePolicy(
        policy_number="P445300202300012345", insurer="中国人寿保险股份有限公司云浮分公司"
    )
    securities = SecuritiesAccount(
        account_number="0123456789",
        custodian="某证券股份有限公司云浮营业部",
        security_code="002345",
        quantity=20000,
    )
    halt_project = Project(project_code="2403-445302-04-01-123456", project_name="恒达石材加工厂房扩建项目")
    span = period("2026-03-04", "2027-03-03")
    measures = {
        "HousingFund": [
            HousingFundFreeze(
                measure_id="H1", subject=CHEN, account=fund, amount=cny("85000.00"), period=span
            ),
            HousingFundExtract(
                measure_id="H2",
                subject=CHEN,
                account=fund,
                amount=cny("20000.00"),
                enforcement_account=account,
            ),
        ],
        "SocialInsurance": [
            SocialInsuranceFreeze(
                measure_id="I1", subject=CHEN, account=fund, amount=cny("30000.00"), period=span
            ),
            SocialInsuranceExtract(
                measure_id="I2",
                subject=CHEN,
                account=fund,
                amount=cny("10000.00"),
                enforcement_account=account,
            ),
        ],
        "Insurer": [
            InsuranceFreeze(
                measure_id="N1", subject=CHEN, policy=policy, amount=cny("150000.00"), period=span
            ),
            InsuranceExtract(
                measure_id="N2",
                subject=CHEN,
                policy=policy,
                amount=cny("48000.00"),
                enforcement_account=account,
            ),
        ],
        "Tax": [
            TaxRefundExtract(
                measure_id="T1", subject=HENGDA, amount=cny("36512.40"), enforcement_account=account
            )
        ],
        "SecuritiesDepository": [
            SecuritiesFreeze(
                measure_id="X1", subject=CHEN, account=securities, amount=cny("260000.00"), period=span
            ),
            SecuritiesDeduct(
                measure_id="X2",
                subject=CHEN,
                account=securities,
                amount=cny("50000.00"),
                enforcement_account=account,
            ),
        ],
        "DevelopmentReform": [ProjectApprovalHalt(measure_id="D1", subject=HENGDA, project=halt_project)],
        "CentralBank": [
            CreditRecord(
                measure_id="C1",
                subject=HENGDA,
                obligation="支付货款人民币1100000元及逾期付款利息。",
                amount=cny("1100000.00"),
            )
        ],
    }
    for i, (kind, items) in enumerate(measures.items()):
        book.add(
            f"coverage/AssistanceNotice-{kind}",
            AssistanceNotice(ruling=RULING, measures=items),
            sender=YUNFU_COURT,
            recipient=INVENTED_UNITS[kind],
            issued=f"2026-03-04 11:{i:02d}",
            case_number=CASE,
            officers=YUNFU_OFFICERS,
        )

    queries = {
        "Tax": (
            QueryKind.TAX_REFUNDS,
            HENGDA,
            TaxRefundRecord(
                refund_account=HENGDA_BASIC, refund_amount=cny("36512.40"), refund_date=day("2025-12-18")
            ),
        ),
        "HousingFund": (
            QueryKind.HOUSING_FUND,
            CHEN,
            FundRecord(account=fund, balance=cny("85432.10"), status="正常缴存"),
        ),
        "SecuritiesDepository": (
            QueryKind.SECURITIES,
            CHEN,
            SecuritiesRecord(
                account=securities, market_value=cny("258400.00"), settlement_funds=cny("1520.36")
            ),
        ),
        "Insurer": (
            QueryKind.INSURANCE_CLAIMS,
            CHEN,
            InsuranceRecord(policy=policy, claim_amount=cny("48000.00"), cash_value=cny("102300.00")),
        ),
    }
    for i, (kind, (query_kind, subject, record)) in enumerate(queries.items()):
        unit = INVENTED_UNITS[kind]
        notice = book.add(
            f"coverage/QueryNotice-{kind}",
            QueryNotice(queries=[Query(query_id="Q1", kind=query_kind, subject=subject)]),
            sender=YUNFU_COURT,
            recipient=unit,
            issued=f"2026-03-02 10:{i:02d}",
            case_number=CASE,
            officers=YUNFU_OFFICERS,
        )
        book.add(
            f"coverage/ExecutionReceipt-{kind}",
            ExecutionReceipt(
                results=[QueryResult(query_id="Q1", status=QueryStatus.FOUND, records=[record])]
            ),
            sender=unit,
            recipient=YUNFU_COURT,
            issued=f"2026-03-03 10:{i:02d}",
            case_number=CASE,
            in_reply_to=notice.header.document_id,
        )


def build() -> Book:
    book = Book()
    bank_examples(book)
    registry_examples(book)
    police_examples(book)
    market_examples(book)
    listing_examples(book)
    court_and_hub_examples(book)
    coverage_examples(book)
    return book


SIGNED = HERE / "signed"
UNIT_CERTS = HERE.parent / "certs-example" / "units"


def _write(directory: Path, wanted: dict[Path, bytes]) -> None:
    for stale in set(directory.glob("**/*.xml")) - set(wanted):
        stale.unlink()
    for path, data in sorted(wanted.items()):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        print(f"{len(data):6d}  {path.relative_to(HERE)}")
    print(f"{len(wanted)} documents written to {directory.relative_to(HERE.parent)}/")


def signed_copies(book: Book) -> dict[Path, bytes]:
    """Each example sealed with its sender's example key (certs-example/units/<sender>/sign.*).

    Examples from the invented units of coverage/ have no keys and are left unsigned.
    """
    signers: dict[str, DocumentSigner] = {}
    out = {}
    for name, doc in book.docs.items():
        sender = doc.header.sender
        directory = UNIT_CERTS / sender
        if not (directory / "sign.key").exists():
            continue
        signer = signers.get(sender) or signers.setdefault(sender, DocumentSigner.for_unit(directory))
        out[SIGNED / f"{name}.xml"] = signer.sign(doc)
    return out


def main() -> None:
    book = build()
    _write(OUT, {OUT / f"{name}.xml": codec.to_bytes(doc) for name, doc in book.docs.items()})
    _write(SIGNED, signed_copies(book))


if __name__ == "__main__":
    main()
