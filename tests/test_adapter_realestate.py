"""The real-estate registry's reference adapter (issue 4): the register's rules (001 arts. 11–12,
20–21; 002 四.7(3), 四.13, 四.14), its handlers through the SDK harness, and two courts seizing one
property end to end over a real Mosquitto and hub."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from adapters.realestate import RealEstateAdapter, RealEstateRegister, RealEstateSettings, demo, seed
from adapters.realestate.model import (
    ChangeState,
    CourtOrder,
    Party,
    PropertyKind,
    PropertyRef,
    Refused,
    SeizureState,
)
from adapters.sdk import AdapterService, ExecutionSettings, config_model
from adapters.sdk.testing import EXAMPLE_CASE, EXAMPLE_OFFICERS, Harness, assert_not_executed, assert_receipt
from broker.documents.bodies import AssistanceNotice, MeasureStatusNotice, QueryNotice, ReleaseNotice
from broker.documents.common import (
    MeasureRef,
    NaturalPerson,
    Officer,
    Organisation,
    Period,
    Project,
    RealEstate,
    RulingRef,
)
from broker.documents.document import CHINA_TZ, Document
from broker.documents.measures import (
    Party as TransferParty,
)
from broker.documents.measures import (
    PropertyPreSeize,
    PropertyRotatingSeize,
    PropertySeize,
    PropertyTransfer,
    RegistrationHalt,
    Release,
    ReleaseKind,
    ReleaseReason,
)
from broker.documents.queries import Query, QueryKind
from broker.documents.results import QueryStatus, ReleaseStatus, ResultStatus
from broker.hub.service import Hub
from broker.sandbox import unit_config
from tests.network import COURT, COURT2, HUB, CourtClient, Recorder, hub_config, wait_until

ROOT = Path(__file__).resolve().parents[1]
SIGNED = ROOT / "examples" / "signed"
REGISTRY = "12445300MB00000056"
CASE2 = "（2026）鄂1022执45号"
GONGAN_OFFICERS = [Officer(name="张伟", phone="0716-5226011", credential_number="鄂1022执证0031")]
RULINGS = {COURT: RulingRef(ruling_number="（2026）粤53执123号之一"), COURT2: RulingRef(ruling_number="（2026）鄂1022执45号之一")}
CASES = {COURT: EXAMPLE_CASE, COURT2: CASE2}
NAMES = {COURT: "广东省云浮市中级人民法院", COURT2: "湖北省公安县人民法院"}

LIU = NaturalPerson(name="刘建华", id_number="421022197603053152", gender="M")
CHEN = NaturalPerson(name="陈国强", id_number="445302198004121232", gender="M")
LI = NaturalPerson(name="李伟文", id_number="445321197906170513", gender="M")
HENGDA = Organisation(name="云浮市恒达石材有限公司", unit_code="91445302MA4UH8QK2A", legal_representative="陈国强")
SHOP = RealEstate(**demo.SHOP.model_dump())
QUARRY = RealEstate(**demo.QUARRY_LAND.model_dump())
PERIOD = Period(start=date(2026, 3, 4), end=date(2029, 3, 3))
AT = datetime(2026, 3, 4, 10, 0, tzinfo=CHINA_TZ)


# --- building notices ------------------------------------------------------------------------------------


def notice(body, sender: str = COURT) -> Document:
    return Document.create(body, sender=sender, recipient=REGISTRY, case_number=CASES[sender],
                           officers=list(EXAMPLE_OFFICERS) if sender == COURT else GONGAN_OFFICERS)


def measures(*items, sender: str = COURT) -> Document:
    return notice(AssistanceNotice(ruling=RULINGS[sender], measures=list(items)), sender)


def seizure(sender: str = COURT, prop: RealEstate = SHOP, subject=LIU, cls: type = PropertySeize, mid: str = "P1") -> Document:
    return measures(cls(measure_id=mid, subject=subject, property=prop, period=PERIOD), sender=sender)


def transfer(sender: str, prop: RealEstate = SHOP, subject=LIU, to=LI) -> Document:
    return measures(PropertyTransfer(measure_id="T1", subject=subject, property=prop, transferee=TransferParty(subject=to)), sender=sender)


def release(of: Document, kind: ReleaseKind = ReleaseKind.PROPERTY_UNSEIZE, measure_id: str = "P1", subject=LIU) -> Document:
    return notice(ReleaseNotice(ruling=RULINGS[of.header.sender], releases=[Release(
        release_id="R1", kind=kind, releases=MeasureRef(document_id=of.header.document_id, measure_id=measure_id),
        subject=subject, reason=ReleaseReason.PERFORMED,
    )]), of.header.sender)


# --- the register's rules ---------------------------------------------------------------------------------


def order(court: str = COURT, item: str = "P1", doc: str | None = None) -> CourtOrder:
    return CourtOrder(court=court, court_name=NAMES[court], case_number=CASES[court], document_id=doc or f"doc-{court}-{item}", item_id=item)


@pytest.fixture
def register(tmp_path):
    r = RealEstateRegister(tmp_path / "register.db")
    seed(r)
    yield r
    r.close()


OWNER = Party(name="刘建华", code="421022197603053152")


def test_first_delivered_seizure_takes_effect_and_later_ones_rotate_in_order(register):
    """001 art. 12; 002 四.7(3): the first notice delivered gets the seizure, later ones rotate."""
    first = register.seize(demo.SHOP, OWNER, kind="PropertySeize", period=(PERIOD.start, PERIOD.end), order=order(COURT), at=AT)
    second = register.seize(demo.SHOP, OWNER, kind="PropertySeize", period=(PERIOD.start, PERIOD.end),
                            order=order(COURT2), at=AT + timedelta(minutes=5))
    third = register.seize(demo.SHOP, OWNER, kind="PropertyPreSeize", period=(PERIOD.start, PERIOD.end),
                           order=order(COURT, "P9"), at=AT + timedelta(minutes=9))
    assert first.seizure.state is SeizureState.EFFECTIVE and first.queue_position == 1 and first.prior == []
    assert second.seizure.state is SeizureState.ROTATING and second.queue_position == 2
    assert [s.order.court for s in second.prior] == [COURT]
    assert third.seizure.state is SeizureState.ROTATING and third.queue_position == 3
    assert [s.order.court for s in third.prior] == [COURT, COURT2]
    # a "rotating seizure" asked for a property nobody has seized takes effect at once
    lone = register.seize(demo.QUARRY_LAND, Party(name="x", code="91445302MA4UH8QK2A"), kind="PropertyRotatingSeize",
                          period=(PERIOD.start, PERIOD.end), order=order(COURT2, "P2"), at=AT)
    assert lone.seizure.state is SeizureState.EFFECTIVE


def test_releasing_the_effective_seizure_promotes_the_next_rotating_one(register):
    """001 arts. 12, 21: when a seizure is released the next rotating seizure takes effect."""
    for court, item in ((COURT, "P1"), (COURT2, "P1"), (COURT, "P2")):
        register.seize(demo.SHOP, OWNER, kind="PropertySeize", period=(PERIOD.start, PERIOD.end), order=order(court, item), at=AT)
    later = AT + timedelta(days=30)
    # lifting a rotating seizure promotes nothing; the queue closes up
    out = register.release(f"doc-{COURT}-P2", "P2", court=COURT, at=later)
    assert out.released.state is SeizureState.RELEASED and out.promoted is None
    out = register.release(f"doc-{COURT}-P1", "P1", court=COURT, at=later)
    assert out.promoted is not None and out.promoted.order.court == COURT2
    assert out.promoted.state is SeizureState.EFFECTIVE and out.promoted.effective_at == later
    assert [s.order.court for s in register.find(demo.SHOP).seizures] == [COURT2]


def test_only_the_seizing_court_releases_its_seizure_and_only_once(register):
    register.seize(demo.SHOP, OWNER, kind="PropertySeize", period=(PERIOD.start, PERIOD.end), order=order(COURT), at=AT)
    with pytest.raises(Refused, match="应由该院解除"):
        register.release(f"doc-{COURT}-P1", "P1", court=COURT2, at=AT)
    register.release(f"doc-{COURT}-P1", "P1", court=COURT, at=AT)
    with pytest.raises(Refused, match="已于2026年3月4日终止"):
        register.release(f"doc-{COURT}-P1", "P1", court=COURT, at=AT)
    with pytest.raises(Refused, match="无该协助执行通知书所办理的查封"):
        register.release("no-such-notice", "P1", court=COURT, at=AT)


def test_only_the_first_seizing_court_can_have_a_transfer_registered(register):
    """001 art. 12: 轮候查封的人民法院违法要求协助办理房屋登记手续的，依法不予办理."""
    new_owner = Party(name="李伟文", code="445321197906170513")
    register.seize(demo.SHOP, OWNER, kind="PropertySeize", period=(PERIOD.start, PERIOD.end), order=order(COURT), at=AT)
    register.seize(demo.SHOP, OWNER, kind="PropertySeize", period=(PERIOD.start, PERIOD.end), order=order(COURT2), at=AT)
    with pytest.raises(Refused, match="轮候查封（第2顺位）.*第十二条"):
        register.transfer(demo.SHOP, OWNER, new_owner, order=order(COURT2, "T1"), at=AT)
    stranger = CourtOrder(court="11445300MB0000008J", court_name="其他法院", document_id="d", item_id="T1")
    with pytest.raises(Refused, match="贵院未查封该不动产"):
        register.transfer(demo.SHOP, OWNER, new_owner, order=stranger, at=AT)
    assert register.find(demo.SHOP).owner == OWNER

    done = register.transfer(demo.SHOP, OWNER, new_owner, order=order(COURT, "T1"), at=AT)
    prop = register.find(demo.SHOP)
    assert prop.owner == new_owner and prop.seizures == []
    assert [s.state for s in register.seizures(prop.id)] == [SeizureState.TRANSFERRED, SeizureState.LAPSED]
    assert [s.order.court for s in done.lapsed] == [COURT2] and done.owner_matches
    assert register.properties_of(OWNER.code) == [] and [p.id for p in register.properties_of(new_owner.code)] == [prop.id]


def test_transfer_of_an_unseized_property_is_registered_but_not_of_a_pre_registration(register):
    """001 art. 12: 债权人持生效法律文书申请办理房屋转移登记手续的，依法予以办理; a presale flat has no ownership yet."""
    buyer = Party(name="李伟文", code="445321197906170513")
    assert register.transfer(demo.SHOP, OWNER, buyer, order=order(COURT2, "T1"), at=AT).transferee == buyer
    with pytest.raises(Refused, match="预告登记"):
        register.transfer(demo.PRESALE_FLAT, Party(name="陈国强", code="445302198004121232"), buyer, order=order(COURT, "T2"), at=AT)


def test_a_halt_stops_pending_and_new_change_registrations_until_the_court_lifts_it(register):
    """001 arts. 11–12: 停止办理相关手续; 001 art. 21: the court lifts its measures."""
    land = register.find(demo.QUARRY_LAND)
    [pending] = land.pending_changes
    assert pending.state is ChangeState.PENDING and pending.kind == "抵押权登记"
    halted = register.halt(demo.QUARRY_LAND, None, scope="停止办理变更登记", order=order(COURT, "P5"), at=AT)
    assert [c.id for c in halted.halted_changes] == [pending.id]
    later = register.apply_change(land.id, "变更登记", Party(name="云浮市恒达石材有限公司", code="91445302MA4UH8QK2A"), at=AT)
    assert later.state is ChangeState.HALTED
    with pytest.raises(Refused, match="停止办理"):
        register.complete_change(pending.id, at=AT)
    with pytest.raises(Refused, match="应由该院解除"):
        register.lift_halt(f"doc-{COURT}-P5", "P5", court=COURT2, at=AT)
    lifted = register.lift_halt(f"doc-{COURT}-P5", "P5", court=COURT, at=AT)
    assert lifted.resumed_changes == 2 and not lifted.halt.active
    assert register.complete_change(pending.id, at=AT).state is ChangeState.COMPLETED
    with pytest.raises(Refused, match="已于"):
        register.lift_halt(f"doc-{COURT}-P5", "P5", court=COURT, at=AT)


def test_a_project_halt_stops_planning_procedures(register):
    """001 art. 12: 被执行人正在申请办理涉案项目规划审批手续的…停止办理相关手续."""
    out = register.halt(None, demo.PROJECT_CODE, scope="停止办理规划审批", order=order(COURT, "P6"), at=AT)
    assert [a.project_name for a in out.halted_approvals] == ["恒达石材加工厂房扩建项目（二期）"]
    with pytest.raises(Refused, match="无项目代码"):
        register.halt(None, "0000-000000-00-00-000000", scope="x", order=order(COURT, "P7"), at=AT)
    assert register.lift_halt(f"doc-{COURT}-P6", "P6", court=COURT, at=AT).resumed_approvals == 1


def test_a_seized_property_cannot_be_sold_or_mortgaged_by_its_owner(register):
    """001 arts. 11–12: a seizure registration stops voluntary transfers and mortgages."""
    shop = register.find(demo.SHOP)
    sale = register.apply_change(shop.id, "转移登记", OWNER, at=AT)
    register.seize(demo.SHOP, OWNER, kind="PropertySeize", period=(PERIOD.start, PERIOD.end), order=order(COURT), at=AT)
    with pytest.raises(Refused, match="查封期间不予办理"):
        register.complete_change(sale.id, at=AT)


def test_unknown_and_contradictory_property_references_are_refused(register):
    with pytest.raises(Refused, match="无该不动产"):
        register.find(PropertyRef(location="云浮市不存在路1号"))
    with pytest.raises(Refused, match="指向不同的不动产"):
        register.find(PropertyRef(unit_number=demo.SHOP.unit_number, certificate_number=demo.FLAT.certificate_number, location="x"))
    assert register.find(PropertyRef(location=demo.PRESALE_FLAT.location)).kind is PropertyKind.HOUSE


def test_the_demo_data_loads_once(register):
    before = len(register.properties_of(demo.CHEN.code))
    assert seed(register) is False
    assert len(register.properties_of(demo.CHEN.code)) == before == 3


# --- the handlers, through the SDK harness --------------------------------------------------------------------


@pytest.fixture
def harness(tmp_path):
    with Harness(RealEstateAdapter, RealEstateSettings(demo=True), directory=tmp_path) as h:
        yield h


def test_the_example_notice_seizes_pre_seizes_rotates_transfers_and_halts(harness):
    notice_path = SIGNED / "AssistanceNotice-NaturalResources.xml"
    out = harness.deliver(notice_path)
    statuses = {"P1": "Executed", "P2": "Executed", "P3": "Rotating", "P4": "Executed", "P5": "Executed"}
    assert_receipt(out.receipt, answers=notice_path.read_bytes(), statuses=statuses)
    p3 = out.receipt.result("P3")
    assert p3.queue_position == 2 and p3.period is not None
    assert [(p.position, p.authority_code, p.case_number) for p in p3.prior_measures] == [(1, COURT2, CASE2)]
    assert "轮候查封" in p3.reason
    native = harness.adapter.native
    assert native.find(demo.AUCTIONED_FLAT).owner.code == LI.id_number  # P4: the court that seized first
    assert native.find(demo.QUARRY_LAND).pending_changes[0].state is ChangeState.HALTED  # P5
    assert not out.reviews


def test_the_example_query_reports_properties_mortgages_seizures_and_planning(harness):
    out = harness.deliver(SIGNED / "QueryNotice-NaturalResources.xml")
    q1, q2 = out.receipt.result("Q1"), out.receipt.result("Q2")
    assert q1.status is QueryStatus.FOUND and q2.status is QueryStatus.FOUND
    flat = next(r for r in q1.records if r.property.unit_number == demo.FLAT.unit_number)
    assert flat.encumbrances[0].holder == "中国工商银行云浮分行" and flat.encumbrances[0].amount.value == Decimal("450000.00")
    assert [(s.position, s.authority_code) for s in flat.seizures] == [(1, COURT2)]
    assert {r.kind for r in q2.records} == {"建设工程规划许可", "建设工程规划许可申请"}


def test_query_kinds_select_what_they_ask_for(harness):
    queries = [
        Query(query_id="Q1", kind=QueryKind.LAND_RIGHTS, subject=HENGDA),
        Query(query_id="Q2", kind=QueryKind.MINING_RIGHTS, subject=HENGDA),
        Query(query_id="Q3", kind=QueryKind.MORTGAGES, subject=CHEN),
        Query(query_id="Q4", kind=QueryKind.REAL_ESTATE, subject=LI),
    ]
    out = harness.deliver(notice(QueryNotice(queries=queries)))
    r = out.receipt.results
    assert [x.property.unit_number for x in r["Q1"].records] == [demo.QUARRY_LAND.unit_number]
    assert [x.property.certificate_number for x in r["Q2"].records] == [demo.MINING_RIGHT.certificate_number]
    assert [x.property.unit_number for x in r["Q3"].records] == [demo.FLAT.unit_number]
    assert r["Q4"].status is QueryStatus.NOT_FOUND
    # the pending mortgage registration of the land is reported with a real-estate query
    out = harness.deliver(notice(QueryNotice(queries=[Query(query_id="Q1", kind=QueryKind.REAL_ESTATE, subject=HENGDA)])))
    assert any(getattr(x, "kind", None) == "正在办理的变更登记" for x in out.receipt.result("Q1").records)


def test_two_courts_seize_one_property_the_second_rotates_and_takes_effect_on_release(harness):
    """001 art. 12; 002 四.7(3): the second court is told in the receipt; the release of the first
    activates its seizure and it is told with a MeasureStatusNotice answering its own notice."""
    first, second = seizure(COURT), seizure(COURT2)
    assert_receipt(harness.deliver(first).receipt, answers=first, statuses={"P1": "Executed"})
    out = harness.deliver(second)
    assert_receipt(out.receipt, answers=second, statuses={"P1": "Rotating"})
    rotating = out.receipt.result("P1")
    assert rotating.queue_position == 2
    assert [(p.position, p.authority, p.authority_code, p.case_number) for p in rotating.prior_measures] == [
        (1, NAMES[COURT], COURT, EXAMPLE_CASE)
    ]

    refused = harness.deliver(transfer(COURT2))  # 001 art. 12: not for a rotating court
    assert_not_executed(refused.receipt, "T1", reason_contains="轮候查封的人民法院要求协助办理房屋登记手续的，依法不予办理")

    harness.advance(days=1)
    lifting = release(first)
    out = harness.deliver(lifting)
    assert_receipt(out.receipt, answers=lifting, statuses={"R1": "Released"})
    [status] = out.of_type("MeasureStatusNotice")
    assert status.recipient == COURT2 and status.in_reply_to == str(second.header.document_id)
    assert status.case_number == CASE2
    body = status.body
    assert isinstance(body, MeasureStatusNotice) and body.status is ResultStatus.EXECUTED
    assert body.measure == MeasureRef(document_id=second.header.document_id, measure_id="P1")
    assert body.effective_at == harness.clock()
    assert out.receipts[0].document_id != status.document_id

    moving = transfer(COURT2)  # now the first seizing court: the transfer is registered
    assert_receipt(harness.deliver(moving).receipt, answers=moving, statuses={"T1": "Executed"})
    assert harness.adapter.native.find(demo.SHOP).owner.code == LI.id_number


def test_a_transfer_by_the_first_court_lapses_other_courts_rotating_seizures_and_tells_them(harness):
    first, second = seizure(COURT), seizure(COURT2)
    harness.deliver(first)
    harness.deliver(second)
    out = harness.deliver(transfer(COURT))
    assert out.receipt.result("T1").status is ResultStatus.EXECUTED
    [lapsed] = out.of_type("MeasureStatusNotice")
    assert lapsed.recipient == COURT2 and lapsed.in_reply_to == str(second.header.document_id)
    assert lapsed.body.status is ResultStatus.NOT_EXECUTED and "不能生效" in lapsed.body.reason


def test_a_release_of_every_measure_kind(harness):
    """PropertyUnseize (seize, pre-seize, rotating seize) and RegistrationHaltLift (001 art. 21)."""
    for cls in (PropertySeize, PropertyPreSeize, PropertyRotatingSeize):
        placed = seizure(COURT, cls=cls)
        assert harness.deliver(placed).receipt.result("P1").status is ResultStatus.EXECUTED
        lifting = release(placed)
        assert_receipt(harness.deliver(lifting).receipt, answers=lifting, statuses={"R1": "Released"})
        assert harness.adapter.native.find(demo.SHOP).seizures == []

    halt = measures(RegistrationHalt(measure_id="H1", subject=HENGDA, property=QUARRY, scope="停止办理该宗地的抵押、转让等变更登记手续"),
                    RegistrationHalt(measure_id="H2", subject=HENGDA, project=Project(project_code=demo.PROJECT_CODE,
                                                                                        project_name="恒达石材加工厂房扩建项目"),
                                     scope="停止办理规划审批手续"))
    out = harness.deliver(halt)
    assert_receipt(out.receipt, answers=halt, statuses={"H1": "Executed", "H2": "Executed"})
    assert "已停止办理1件" in out.receipt.result("H1").remark
    native = harness.adapter.native
    land = native.find(demo.QUARRY_LAND)
    assert land.pending_changes[0].state is ChangeState.HALTED
    for measure_id in ("H1", "H2"):
        lifting = release(halt, ReleaseKind.REGISTRATION_HALT_LIFT, measure_id, subject=HENGDA)
        assert_receipt(harness.deliver(lifting).receipt, answers=lifting, statuses={"R1": "Released"})
    assert native.find(demo.QUARRY_LAND).pending_changes[0].state is ChangeState.PENDING
    assert native.halts(active=True) == []


def test_a_release_by_another_court_or_of_an_unknown_seizure_is_not_released(harness):
    placed = seizure(COURT)
    harness.deliver(placed)
    foreign = notice(ReleaseNotice(ruling=RULINGS[COURT2], releases=[Release(
        release_id="R1", kind=ReleaseKind.PROPERTY_UNSEIZE, releases=MeasureRef(document_id=placed.header.document_id, measure_id="P1"),
        subject=LIU, reason=ReleaseReason.APPLICANT_AGREED)]), COURT2)
    assert_not_executed(harness.deliver(foreign).receipt, "R1", reason_contains="应由该院解除")
    unknown = release(placed, measure_id="P9")
    result = assert_not_executed(harness.deliver(unknown).receipt, "R1", reason_contains="无该协助执行通知书")
    assert result.status is ReleaseStatus.NOT_RELEASED


def test_an_unknown_property_is_not_executed_with_the_reason(harness):
    out = harness.deliver(seizure(COURT, prop=RealEstate(location="云浮市云城区不存在路1号")))
    assert_not_executed(out.receipt, "P1", reason_contains="无该不动产")


def test_a_property_in_another_name_is_seized_with_a_review_suggestion(harness):
    """001 art. 20: no substantive review; the unit may suggest a review but still acts."""
    out = harness.deliver(seizure(COURT, subject=CHEN))  # the shop is 刘建华's
    assert out.receipt.result("P1").status is ResultStatus.EXECUTED
    [review] = out.reviews
    assert review.body.measure_carried_out and "不一致" in review.body.grounds


def test_a_seizure_without_the_ruling_is_carried_out_and_the_ruling_asked_for(harness):
    """002 四.13, 四.14 ask for the ruling with the notice; 001 art. 20: the measure is still carried out."""
    bare = notice(AssistanceNotice(measures=[PropertySeize(measure_id="P1", subject=LIU, property=SHOP, period=PERIOD)]))
    out = harness.deliver(bare)
    assert out.receipt.result("P1").status is ResultStatus.EXECUTED
    [review] = out.reviews
    assert "执行裁定书" in review.body.grounds and review.body.items == ["P1"]


def test_a_crash_after_the_release_resends_the_status_notice_once_without_a_second_promotion(harness):
    first, second = seizure(COURT), seizure(COURT2)
    harness.deliver(first)
    harness.deliver(second)

    def crash(raw: bytes) -> None:
        if b"MeasureStatusNotice" in raw:
            raise SystemExit("killed while handing the status notice over")

    harness.on_send = crash
    with pytest.raises(SystemExit):
        harness.deliver(release(first))
    harness.on_send = None
    out = harness.restart()
    assert out.receipt.result("R1").status is ReleaseStatus.RELEASED
    # the stored notice is handed over again (the hub answers a repeat as a duplicate): one document
    statuses = {d.document_id: d for d in harness.sent if d.doc_type == "MeasureStatusNotice"}
    assert len(statuses) == 1
    [status] = statuses.values()
    native = harness.adapter.native
    shop = native.find(demo.SHOP)
    assert [s.state for s in native.seizures(shop.id)] == [SeizureState.RELEASED, SeizureState.EFFECTIVE]
    assert len(harness.adapter.ledger) == 3  # two seizures and one release, each once
    assert status.in_reply_to == str(second.header.document_id)


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


def test_live_two_courts_seize_one_property_and_the_release_activates_the_rotating_seizure(hub, courts, mosquitto, tmp_path):
    court, court2 = courts
    config = config_model(RealEstateAdapter)(
        unit=unit_config(REGISTRY, port=mosquitto.port, var=tmp_path / "units", resend_after_seconds=2),
        adapter=RealEstateSettings(demo=True),
        execution=ExecutionSettings(idle_poll_seconds=0.2),
    )
    with AdapterService(RealEstateAdapter, config):
        first = seizure(COURT)
        assert court.publish(first, timeout=30).accepted
        assert answer(court, "ExecutionReceipt", first).body.results[0].status is ResultStatus.EXECUTED

        second = seizure(COURT2)
        assert court2.publish(second, timeout=30).accepted
        rotating = answer(court2, "ExecutionReceipt", second).body.results[0]
        assert rotating.status is ResultStatus.ROTATING and rotating.queue_position == 2
        assert [(p.position, p.authority_code) for p in rotating.prior_measures] == [(1, COURT)]

        refused = transfer(COURT2)
        assert court2.publish(refused, timeout=30).accepted
        result = answer(court2, "ExecutionReceipt", refused).body.results[0]
        assert result.status is ResultStatus.NOT_EXECUTED and "第十二条" in result.reason

        lifting = release(first)
        assert court.publish(lifting, timeout=30).accepted
        assert answer(court, "ExecutionReceipt", lifting).body.results[0].status is ReleaseStatus.RELEASED
        status = answer(court2, "MeasureStatusNotice", second)
        assert status.header.sender == REGISTRY and status.header.case_number == CASE2
        assert status.body.status is ResultStatus.EXECUTED
        assert status.body.measure == MeasureRef(document_id=second.header.document_id, measure_id="P1")
    assert not court.recorder.of_type("MeasureStatusNotice")


def test_a_planning_file_in_the_paper_archive_is_answered_after_an_extension_notice(tmp_path):
    """002 四.13: a unit that cannot answer in time tells the court why; the answer follows."""
    settings = RealEstateSettings(demo=True, archive_retrieval_seconds=3600)
    with Harness(RealEstateAdapter, settings, directory=tmp_path) as h:
        first = h.deliver(SIGNED / "QueryNotice-NaturalResources.xml")
        assert first.receipt is None
        [extension] = first.extensions
        notice = extension.document.body
        assert "纸质" in notice.reason and notice.proposed_deadline is not None
        later = h.advance(hours=2)
        assert later.receipt is not None and not later.extensions
        assert later.receipt.result("Q2").status.value == "Found"
