"""The market regulator's reference adapter (issue 4): the register's rules (001 arts. 12, 17,
20–21; 002 四.7(3), 四.17; 003 权力清单 59), its handlers through the SDK harness, and equity
freeze with publicity, rotating freeze, unfreeze and forced transfer end to end over a real
Mosquitto and hub."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from adapters.market import MarketAdapter, MarketRegister, MarketSettings, demo, seed
from adapters.market.model import CompanyKind, CourtOrder, FreezeState, Refused
from adapters.sdk import AdapterService, ExecutionSettings, config_model
from adapters.sdk.testing import EXAMPLE_CASE, EXAMPLE_OFFICERS, Harness, assert_not_executed, assert_receipt
from broker.deadlines.calendar import WorkingCalendar
from broker.documents.bodies import AssistanceNotice, MeasureStatusNotice, QueryNotice, ReleaseNotice
from broker.documents.common import (
    EquityHolding,
    MeasureRef,
    Money,
    NaturalPerson,
    Officer,
    Organisation,
    Period,
    RulingRef,
)
from broker.documents.document import CHINA_TZ, Document
from broker.documents.measures import EquityForcedTransfer, EquityFreeze, Release, ReleaseKind, ReleaseReason
from broker.documents.measures import Party as TransferParty
from broker.documents.queries import Query, QueryKind
from broker.documents.results import QueryStatus, ReleaseStatus, ResultStatus
from broker.hub.service import Hub
from broker.sandbox import unit_config
from tests.network import COURT, COURT2, HUB, CourtClient, Recorder, hub_config, wait_until

ROOT = Path(__file__).resolve().parents[1]
SIGNED = ROOT / "examples" / "signed"
MARKET = "11445300MB0000006C"
CASE2 = "（2026）鄂1022执45号"
GONGAN_OFFICERS = [Officer(name="张伟", phone="0716-5226011", credential_number="鄂1022执证0031")]
RULINGS = {COURT: RulingRef(ruling_number="（2026）粤53执123号之一"), COURT2: RulingRef(ruling_number="（2026）鄂1022执45号之一")}
CASES = {COURT: EXAMPLE_CASE, COURT2: CASE2}
NAMES = {COURT: "广东省云浮市中级人民法院", COURT2: "湖北省公安县人民法院"}

HUANG = NaturalPerson(name="黄美玲", id_number="44538119850923246X", gender="F")
CHEN = NaturalPerson(name="陈国强", id_number="445302198004121232", gender="M")
HENGDA = Organisation(name="云浮市恒达石材有限公司", unit_code="91445302MA4UH8QK2A", legal_representative="陈国强")
CHENGTOU = Organisation(name="云浮市城建投资有限公司", unit_code="91445300MA4W2N8P6N", legal_representative="梁志明")
HUANG_IN_HENGDA = EquityHolding(company_name=HENGDA.name, company_code=HENGDA.unit_code,
                                contribution=Money.cny("600000.00"), ratio=Decimal(60))
PERIOD = Period(start=date(2026, 3, 4), end=date(2029, 3, 3))
FRIDAY = datetime(2026, 3, 6, 16, 0, tzinfo=CHINA_TZ)


# --- building notices ------------------------------------------------------------------------------------


def notice(body, sender: str = COURT) -> Document:
    return Document.create(body, sender=sender, recipient=MARKET, case_number=CASES[sender],
                           officers=list(EXAMPLE_OFFICERS) if sender == COURT else GONGAN_OFFICERS)


def freeze(sender: str = COURT, holding: EquityHolding = HUANG_IN_HENGDA, subject=HUANG, amount: str | None = "600000.00") -> Document:
    return notice(AssistanceNotice(ruling=RULINGS[sender], measures=[EquityFreeze(
        measure_id="E1", subject=subject, equity=holding, amount=Money.cny(amount) if amount else None, period=PERIOD,
    )]), sender)


def forced_transfer(sender: str, holding: EquityHolding = HUANG_IN_HENGDA, subject=HUANG, to=CHENGTOU) -> Document:
    return notice(AssistanceNotice(ruling=RULINGS[sender], measures=[EquityForcedTransfer(
        measure_id="E2", subject=subject, equity=holding, transferee=TransferParty(subject=to),
    )]), sender)


def unfreeze(of: Document, subject=HUANG, amount: str | None = None) -> Document:
    return notice(ReleaseNotice(ruling=RULINGS[of.header.sender], releases=[Release(
        release_id="R1", kind=ReleaseKind.EQUITY_UNFREEZE, releases=MeasureRef(document_id=of.header.document_id, measure_id="E1"),
        subject=subject, amount=Money.cny(amount) if amount else None, reason=ReleaseReason.PERFORMED,
    )]), of.header.sender)


# --- the register's rules ---------------------------------------------------------------------------------


def order(court: str = COURT, item: str = "E1") -> CourtOrder:
    return CourtOrder(court=court, court_name=NAMES[court], case_number=CASES[court], document_id=f"doc-{court}-{item}", item_id=item)


@pytest.fixture
def register(tmp_path):
    r = MarketRegister(tmp_path / "market.db")
    seed(r)
    yield r
    r.close()


def freeze_huang(register: MarketRegister, court: str, item: str = "E1", at: datetime = FRIDAY, amount: str | None = "600000.00"):
    return register.freeze(demo.HENGDA.code, demo.HUANG, Decimal(amount) if amount else None, period=(PERIOD.start, PERIOD.end),
                           order=order(court, item), received_at=at, at=at)


def test_a_freeze_is_published_within_three_working_days_of_receipt(register):
    """002 四.17: 在接收法律文书后3个工作日内通过企业信用公示系统公示."""
    out = freeze_huang(register, COURT)
    entry = out.publicity
    assert out.freeze.state is FreezeState.EFFECTIVE and out.frozen == Decimal("600000.00")
    assert entry.category == "股权冻结" and entry.published_on == date(2026, 3, 6)
    assert entry.due_by == date(2026, 3, 11)  # Friday's receipt: Mon, Tue, Wed
    assert entry.in_time and register.publicity(demo.HENGDA.code)[-1] == entry
    # the last day moves over holidays (2026: 劳动节 1–5 May, with make-up working days)
    assert register.due_by(datetime(2026, 4, 30, 9, 0, tzinfo=CHINA_TZ)) == WorkingCalendar.default().add_working_days(date(2026, 4, 30), 3)
    assert register.due_by(datetime(2026, 4, 30, 9, 0, tzinfo=CHINA_TZ)) > date(2026, 5, 5)
    # a year whose holidays are not published yet gives no date rather than a guess
    assert register.due_by(datetime(2031, 3, 3, tzinfo=CHINA_TZ)) is None


def test_a_second_freeze_of_the_same_equity_rotates_in_delivery_order_and_is_published(register):
    """003 权力清单 59; 001 art. 12, 002 四.7(3) (first delivered gets it, later ones rotate); 003 bank rules 10."""
    freeze_huang(register, COURT)
    second = freeze_huang(register, COURT2, at=FRIDAY + timedelta(hours=1))
    third = freeze_huang(register, COURT, "E9", at=FRIDAY + timedelta(hours=2))
    assert second.freeze.state is FreezeState.ROTATING and second.queue_position == 2
    assert [f.order.court for f in third.prior] == [COURT, COURT2] and third.queue_position == 3
    assert second.publicity.category == "股权轮候冻结"
    assert [f.order.court for f in register.live_freezes(demo.HENGDA.code, demo.HUANG.code)] == [COURT, COURT2, COURT]


def test_unfreeze_is_published_and_promotes_the_next_rotating_freeze(register):
    """002 四.17: 解除冻结的…同时通知该局予以公示; 001 art. 21."""
    freeze_huang(register, COURT)
    freeze_huang(register, COURT2)
    later = FRIDAY + timedelta(days=10)
    with pytest.raises(Refused, match="应由该院解除"):
        register.unfreeze(f"doc-{COURT}-E1", "E1", court=COURT2, order=order(COURT2, "R1"), received_at=later, at=later)
    out = register.unfreeze(f"doc-{COURT}-E1", "E1", court=COURT, order=order(COURT, "R1"), received_at=later, at=later)
    assert out.released.state is FreezeState.RELEASED and out.promoted is not None
    assert out.promoted.order.court == COURT2 and out.promoted.effective_at == later
    assert [e.category for e in out.publicity] == ["解除股权冻结", "股权轮候冻结生效"]
    assert all(e.published_on == later.date() for e in out.publicity)
    with pytest.raises(Refused, match="已终止"):
        register.unfreeze(f"doc-{COURT}-E1", "E1", court=COURT, order=order(COURT, "R1"), received_at=later, at=later)


def test_a_partial_unfreeze_keeps_the_rest_frozen(register):
    freeze_huang(register, COURT)
    out = register.unfreeze(f"doc-{COURT}-E1", "E1", court=COURT, amount=Decimal("100000.00"), order=order(COURT, "R1"),
                            received_at=FRIDAY, at=FRIDAY)
    assert out.released_amount == Decimal("100000.00") and out.released.state is FreezeState.EFFECTIVE
    assert out.released.amount == Decimal("500000.00") and out.publicity[0].category == "股权部分解除冻结"


def test_a_forced_transfer_changes_the_shareholder_register_and_is_published(register):
    """002 四.17: 协助公示并办理有限责任公司股东变更登记…不需要该有限责任公司另行申请."""
    out = register.forced_transfer(demo.HENGDA.code, demo.HUANG, demo.CHENGTOU, contribution=Decimal("100000.00"),
                                   order=order(COURT, "E2"), received_at=FRIDAY, at=FRIDAY)
    holders = {h.holder.code: (h.contribution, h.ratio) for h in register.shareholders(demo.HENGDA.code)}
    assert holders == {demo.HUANG.code: (Decimal("500000.00"), Decimal(50)),
                       demo.CHEN.code: (Decimal("400000.00"), Decimal(40)),
                       demo.CHENGTOU.code: (Decimal("100000.00"), Decimal(10))}
    assert out.publicity.category == "股东变更（强制转让）" and out.publicity.in_time
    assert register.changes(demo.HENGDA.code)[-1].item == "股东变更（人民法院强制转让）"
    # the rest goes to the same transferee, whose contribution adds up
    register.forced_transfer(demo.HENGDA.code, demo.HUANG, demo.CHENGTOU, contribution=None,
                             order=order(COURT, "E3"), received_at=FRIDAY, at=FRIDAY)
    assert register.holding(demo.HENGDA.code, demo.HUANG.code) is None
    assert register.holding(demo.HENGDA.code, demo.CHENGTOU.code).contribution == Decimal("600000.00")
    assert [h.company_code for h in register.holdings_of(demo.CHENGTOU.code)] == [demo.HENGDA.code]


def test_frozen_equity_can_be_transferred_only_by_the_court_whose_freeze_is_in_effect(register):
    """001 art. 12 applied to equity (003 权力清单 59): a rotating court, or a court without a
    freeze, cannot have frozen equity transferred; the freezing court can, and the rotating
    freezes of others lapse."""
    freeze_huang(register, COURT)
    freeze_huang(register, COURT2)
    with pytest.raises(Refused, match="轮候冻结（第2顺位）"):
        register.forced_transfer(demo.HENGDA.code, demo.HUANG, demo.CHENGTOU, contribution=None,
                                 order=order(COURT2, "E2"), received_at=FRIDAY, at=FRIDAY)
    stranger = CourtOrder(court="11445300MB0000008J", court_name="其他法院", document_id="d", item_id="E2")
    with pytest.raises(Refused, match="贵院未冻结该股权"):
        register.forced_transfer(demo.HENGDA.code, demo.HUANG, demo.CHENGTOU, contribution=None, order=stranger,
                                 received_at=FRIDAY, at=FRIDAY)
    assert register.holding(demo.HENGDA.code, demo.HUANG.code).contribution == Decimal("600000.00")
    out = register.forced_transfer(demo.HENGDA.code, demo.HUANG, demo.CHENGTOU, contribution=None,
                                   order=order(COURT, "E2"), received_at=FRIDAY, at=FRIDAY)
    assert [f.order.court for f in out.ended] == [COURT] and [f.order.court for f in out.lapsed] == [COURT2]
    assert register.live_freezes(demo.HENGDA.code, demo.HUANG.code) == []


def test_what_the_register_cannot_do_is_refused_with_the_reason(register):
    register.register_company("91445300MA4X00001B", "云浮示例股份有限公司", capital=Decimal("10000000.00"), kind=CompanyKind.JOINT_STOCK)
    register.register_holding("91445300MA4X00001B", demo.HUANG, Decimal("1000000.00"))
    with pytest.raises(Refused, match="股份有限公司"):
        register.forced_transfer("91445300MA4X00001B", demo.HUANG, demo.CHENGTOU, contribution=None, order=order(COURT, "E2"),
                                 received_at=FRIDAY, at=FRIDAY)
    with pytest.raises(Refused, match="不是云浮市城建投资有限公司的登记股东"):
        register.freeze(demo.CHENGTOU.code, demo.HUANG, None, period=(PERIOD.start, PERIOD.end), order=order(COURT),
                        received_at=FRIDAY, at=FRIDAY)
    with pytest.raises(Refused, match="超过被执行人持有的出资额"):
        register.forced_transfer(demo.HENGDA.code, demo.HUANG, demo.CHENGTOU, contribution=Decimal("700000.00"),
                                 order=order(COURT, "E2"), received_at=FRIDAY, at=FRIDAY)
    with pytest.raises(Refused, match="无统一社会信用代码为"):
        register.freeze("91445300MA4X00002X", demo.HUANG, None, period=(PERIOD.start, PERIOD.end), order=order(COURT),
                        received_at=FRIDAY, at=FRIDAY)


def test_the_demo_data_loads_once(register):
    assert seed(register) is False
    assert len(register.shareholders(demo.HENGDA.code)) == 2
    [gongan] = register.live_freezes(demo.XIANGSHUN.code, demo.CHEN.code)
    assert gongan.order.court == COURT2 and gongan.amount == Decimal("200000.00")


# --- the handlers, through the SDK harness --------------------------------------------------------------------


@pytest.fixture
def harness(tmp_path):
    with Harness(MarketAdapter, MarketSettings(demo=True), directory=tmp_path) as h:
        yield h


def test_the_example_notice_rotates_the_freeze_and_transfers_the_frozen_equity(harness):
    path = SIGNED / "AssistanceNotice-MarketRegulation.xml"
    out = harness.deliver(path)
    assert_receipt(out.receipt, answers=path.read_bytes(), statuses={"E1": "Rotating", "E2": "Executed"})
    e1, e2 = out.receipt.result("E1"), out.receipt.result("E2")
    today = harness.clock().date()
    assert e1.queue_position == 2 and e1.publicity_date == today and "轮候冻结" in e1.reason
    assert [(p.position, p.authority_code, p.case_number, p.amount.value) for p in e1.prior_measures] == [
        (1, COURT2, CASE2, Decimal("200000.00"))
    ]
    assert e2.publicity_date == today and "股东变更登记" in e2.remark
    holders = {h.holder.name for h in harness.adapter.native.shareholders(demo.HENGDA.code)}
    assert holders == {"黄美玲", "云浮市城建投资有限公司"}


def test_the_example_query_reports_registration_shareholders_changes_and_investments(harness):
    out = harness.deliver(SIGNED / "QueryNotice-MarketRegulation.xml")
    q1, q2 = out.receipt.result("Q1"), out.receipt.result("Q2")
    company = q1.records[0]
    assert company.unit_code == HENGDA.unit_code and company.registered_capital.value == Decimal("1000000.00")
    assert [i.company_code for i in company.investments] == [demo.HENGDA_SALES.code]
    assert {r.kind for r in q1.records[1:]} == {"股东及出资", "变更登记", "司法协助公示"}
    stakes = {r.equity.company_code: r for r in q2.records}
    assert set(stakes) == {demo.HENGDA.code, demo.XIANGSHUN.code}
    assert [f.authority_code for f in stakes[demo.XIANGSHUN.code].freezes] == [COURT2]
    # a person: the companies it represents; nobody: not found
    out = harness.deliver(notice(QueryNotice(queries=[
        Query(query_id="Q1", kind=QueryKind.COMPANY_REGISTRATION, subject=HUANG),
        Query(query_id="Q2", kind=QueryKind.INVESTMENTS, subject=CHENGTOU),
    ])))
    assert {r.unit_code for r in out.receipt.result("Q1").records if hasattr(r, "unit_code")} == {demo.HENGDA_SALES.code, demo.XIANGSHUN.code}
    assert out.receipt.result("Q2").status is QueryStatus.NOT_FOUND


def test_freeze_with_publicity_then_unfreeze_activates_the_rotating_freeze(harness):
    """002 四.17 (publicity, PublicityDate); the second court is told its place, then that its freeze took effect."""
    first, second = freeze(COURT), freeze(COURT2)
    out = harness.deliver(first)
    assert_receipt(out.receipt, answers=first, statuses={"E1": "Executed"})
    result = out.receipt.result("E1")
    assert result.publicity_date == harness.clock().date() and result.actual_amount.value == Decimal("600000.00")
    rotating = harness.deliver(second).receipt.result("E1")
    assert rotating.status is ResultStatus.ROTATING and rotating.queue_position == 2
    assert [(p.position, p.authority_code) for p in rotating.prior_measures] == [(1, COURT)]

    harness.advance(days=2)
    lifting = unfreeze(first)
    out = harness.deliver(lifting)  # EquityUnfreeze: the release of this adapter's measure kind
    assert_receipt(out.receipt, answers=lifting, statuses={"R1": "Released"})
    [status] = out.of_type("MeasureStatusNotice")
    assert status.recipient == COURT2 and status.in_reply_to == str(second.header.document_id)
    body = status.body
    assert isinstance(body, MeasureStatusNotice) and body.status is ResultStatus.EXECUTED
    assert body.measure == MeasureRef(document_id=second.header.document_id, measure_id="E1")
    assert body.actual_amount.value == Decimal("600000.00") and "公示" in body.reason
    categories = [e.category for e in harness.adapter.native.publicity(demo.HENGDA.code)]
    assert categories[-4:] == ["股权冻结", "股权轮候冻结", "解除股权冻结", "股权轮候冻结生效"]


def test_a_freeze_larger_than_the_holding_freezes_all_of_it(harness):
    out = harness.deliver(freeze(COURT, amount="900000.00"))
    result = out.receipt.result("E1")
    assert result.status is ResultStatus.PARTIALLY_EXECUTED
    assert result.requested_amount.value == Decimal("900000.00") and result.actual_amount.value == Decimal("600000.00")
    assert "全部股权" in result.reason


def test_forced_transfer_of_equity_frozen_by_another_court_is_refused_with_the_reason(harness):
    """The example's 翔顺 equity is frozen by the 公安县 court: the Yunfu court cannot have it transferred."""
    xiangshun = EquityHolding(company_name=demo.XIANGSHUN.name, company_code=demo.XIANGSHUN.code, contribution=Money.cny("600000.00"))
    out = harness.deliver(forced_transfer(COURT, holding=xiangshun, subject=CHEN))
    assert_not_executed(out.receipt, "E2", reason_contains="湖北省公安县人民法院")
    assert "贵院未冻结该股权" in out.receipt.result("E2").reason
    assert harness.adapter.native.holding(demo.XIANGSHUN.code, demo.CHEN.code).contribution == Decimal("600000.00")


def test_an_unfreeze_by_another_court_is_not_released(harness):
    placed = freeze(COURT)
    harness.deliver(placed)
    foreign = notice(ReleaseNotice(ruling=RULINGS[COURT2], releases=[Release(
        release_id="R1", kind=ReleaseKind.EQUITY_UNFREEZE, releases=MeasureRef(document_id=placed.header.document_id, measure_id="E1"),
        subject=HUANG, reason=ReleaseReason.PERFORMED)]), COURT2)
    result = assert_not_executed(harness.deliver(foreign).receipt, "R1", reason_contains="应由该院解除")
    assert result.status is ReleaseStatus.NOT_RELEASED


def test_a_partial_unfreeze_reports_the_released_amount(harness):
    placed = freeze(COURT)
    harness.deliver(placed)
    result = harness.deliver(unfreeze(placed, amount="100000.00")).receipt.result("R1")
    assert result.status is ReleaseStatus.RELEASED and result.released_amount.value == Decimal("100000.00")


def test_a_redelivered_freeze_is_executed_and_published_once(harness):
    placed = freeze(COURT)
    first = harness.deliver(placed)
    again = harness.redeliver(placed)
    assert [d.document_id for d in again.receipts] == [first.receipt.document_id]
    assert [e.category for e in harness.adapter.native.publicity(demo.HENGDA.code)].count("股权冻结") == 2  # the demo's and this one


# --- end to end: a real Mosquitto, the hub, two courts, the adapter service ------------------------------------------


@pytest.fixture
def hub(mosquitto, tmp_path):
    h = Hub(hub_config(HUB, port=mosquitto.port, var=tmp_path / "hub", workers=0, delivery={"ack_timeout_seconds": 2}))
    h.start()
    yield h
    h.stop()


@pytest.fixture
def courts(mosquitto, tmp_path):
    clients = []
    for code in (COURT, COURT2):
        recorder = Recorder()
        client = CourtClient(unit_config(code, port=mosquitto.port, var=tmp_path / "units", resend_after_seconds=2), handler=recorder)
        client.recorder = recorder
        clients.append(client.__enter__())
    yield clients
    for client in clients:
        client.__exit__(None, None, None)


def answer(court: CourtClient, doc_type: str, to: Document, timeout: float = 20) -> Document:
    notice_id = str(to.header.document_id)

    def found() -> list:
        return [r for r in court.recorder.of_type(doc_type) if r.in_reply_to == notice_id]

    wait_until(found, timeout, f"a {doc_type} answering {notice_id}")
    return found()[0].document()


def test_live_freeze_with_publicity_rotating_freeze_unfreeze_and_forced_transfer(hub, courts, mosquitto, tmp_path):
    court, court2 = courts
    config = config_model(MarketAdapter)(
        unit=unit_config(MARKET, port=mosquitto.port, var=tmp_path / "units", resend_after_seconds=2),
        adapter=MarketSettings(demo=True),
        execution=ExecutionSettings(idle_poll_seconds=0.2),
    )
    with AdapterService(MarketAdapter, config) as service:
        first = freeze(COURT)
        assert court.publish(first, timeout=30).accepted
        frozen = answer(court, "ExecutionReceipt", first).body.results[0]
        assert frozen.status is ResultStatus.EXECUTED and frozen.publicity_date is not None

        second = freeze(COURT2)
        assert court2.publish(second, timeout=30).accepted
        rotating = answer(court2, "ExecutionReceipt", second).body.results[0]
        assert rotating.status is ResultStatus.ROTATING and rotating.queue_position == 2

        too_early = forced_transfer(COURT2)
        assert court2.publish(too_early, timeout=30).accepted
        refused = answer(court2, "ExecutionReceipt", too_early).body.results[0]
        assert refused.status is ResultStatus.NOT_EXECUTED and "轮候冻结（第2顺位）" in refused.reason

        lifting = unfreeze(first)
        assert court.publish(lifting, timeout=30).accepted
        assert answer(court, "ExecutionReceipt", lifting).body.results[0].status is ReleaseStatus.RELEASED
        status = answer(court2, "MeasureStatusNotice", second)
        assert status.body.status is ResultStatus.EXECUTED and status.header.case_number == CASE2

        moving = forced_transfer(COURT2)
        assert court2.publish(moving, timeout=30).accepted
        moved = answer(court2, "ExecutionReceipt", moving).body.results[0]
        assert moved.status is ResultStatus.EXECUTED and moved.publicity_date is not None
        holders = {h.holder.code for h in service.adapter.native.shareholders(demo.HENGDA.code)}
        assert holders == {demo.CHEN.code, demo.CHENGTOU.code}
