"""The public-security reference adapter (issue 4): the stand-in's rules, the handlers through the
harness, and a lead report from a sighting over a real Mosquitto and hub.

Seeds: 002 四.7(1)–(3) (queries in 3 working days; locating a person, the court told within 24
hours, the court cancels; vehicle seizure at once, first come first served, rotating seizures);
003 SPC–MPS opinion 二(二) (what police tell), 三(一) exit restriction with a control period,
三(二) vehicles, 三(三) locating persons and pushing releases; 001 arts. 6, 12, 20, 21.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from adapters.police import DutyOfficer, PoliceAdapter, PoliceSettings, PoliceSystem
from adapters.police.demo import (
    CAR,
    CHEN,
    GONGAN_CASE,
    GONGAN_SEIZURE,
    HENGDA,
    HUANG,
    LI,
    SOLD_CAR,
    TRUCK,
    seed,
)
from adapters.police.native import CourtOrder, Refusal
from adapters.sdk import AdapterService, ExecutionSettings, config_model
from adapters.sdk.testing import (
    EXAMPLE_COURT,
    EXAMPLE_COURT2,
    EXAMPLE_RULING,
    Harness,
    assert_not_executed,
    assert_receipt,
)
from broker.documents import codec
from broker.documents.bodies import (
    AssistanceNotice,
    LeadReport,
    MeasureStatusNotice,
    QueryNotice,
    ReleaseNotice,
)
from broker.documents.common import MeasureRef, NaturalPerson, Organisation, Period, Vehicle
from broker.documents.document import CHINA_TZ, Document
from broker.documents.identifiers import resident_id_check_char
from broker.documents.measures import (
    ExitRestriction,
    LocateGround,
    LocatePerson,
    LocateVehicle,
    Party,
    Release,
    ReleaseKind,
    ReleaseReason,
    VehicleSeize,
    VehicleTransfer,
)
from broker.documents.queries import Query, QueryKind
from broker.documents.results import QueryStatus, ReleaseStatus, ResultStatus
from broker.hub.service import Hub
from broker.parsing.hardened import parse
from broker.sandbox import unit_config
from tests.network import COURT, COURT2, HUB, POLICE, CourtClient, Recorder, hub_config, wait_until

ROOT = Path(__file__).resolve().parents[1]
SIGNED = ROOT / "examples" / "signed"
UNSIGNED = ROOT / "examples" / "unsigned"

YUNFU, GONGAN = EXAMPLE_COURT, EXAMPLE_COURT2
CHEN_P = NaturalPerson(name="陈国强", id_number=CHEN, gender="M")
HENGDA_O = Organisation(name="云浮市恒达石材有限公司", unit_code=HENGDA, legal_representative="陈国强")
CAR_V = Vehicle(plate_number=CAR, vin="LFV2A21K6K4123456", brand="大众迈腾")
TRUCK_V = Vehicle(plate_number=TRUCK, vin="LGAX4DD39H1012345", brand="东风天龙")
CONTACT = DutyOfficer(name="周志强", phone="0766-8826110", badge="警号445301")


def resident_id(region: str, birth: str, sequence: str) -> str:
    return region + birth + sequence + resident_id_check_char(region + birth + sequence)


def today() -> date:
    return datetime.now(CHINA_TZ).date()


def period(days: int = 365, start_offset: int = 0) -> Period:
    start = today() + timedelta(days=start_offset)
    return Period(start=start, end=start + timedelta(days=days))


def order(
    court: str = YUNFU,
    name: str = "广东省云浮市中级人民法院",
    case: str = "（2026）粤53执123号",
    measure_id: str = "S1",
    at: datetime | None = None,
) -> CourtOrder:
    return CourtOrder(
        court=court,
        court_name=name,
        case_number=case,
        document_id=str(uuid.uuid4()),
        measure_id=measure_id,
        at=at or datetime.now(CHINA_TZ).replace(microsecond=0),
    )


def gongan(measure_id: str = "S1") -> CourtOrder:
    return order(GONGAN, "湖北省公安县人民法院", GONGAN_CASE, measure_id)


@pytest.fixture
def native(tmp_path):
    system = PoliceSystem(tmp_path / "police.db")
    seed(system)
    yield system
    system.close()


@pytest.fixture
def police(tmp_path):
    with Harness(
        PoliceAdapter, PoliceSettings(demo=True, poll_seconds=0, contact=CONTACT), directory=tmp_path / "h"
    ) as h:
        yield h


def notice(h: Harness, *measures, court: str = YUNFU, case: str = "（2026）粤53执123号") -> Document:
    return h.document(
        AssistanceNotice(ruling=EXAMPLE_RULING, measures=list(measures)), sender=court, case_number=case
    )


def release_of(
    h: Harness,
    *items: tuple[str, ReleaseKind, Document, str],
    court: str = YUNFU,
    case: str = "（2026）粤53执123号",
) -> Document:
    releases = [
        Release(
            release_id=rid,
            kind=kind,
            releases=MeasureRef(document_id=doc.header.document_id, measure_id=mid),
            subject=CHEN_P,
            reason=ReleaseReason.PERFORMED,
        )
        for rid, kind, doc, mid in items
    ]
    return h.document(ReleaseNotice(ruling=EXAMPLE_RULING, releases=releases), sender=court, case_number=case)


# --- the stand-in's rules ------------------------------------------------------------------------


def test_the_registers_answer_what_003_spc_mps_2_2_lists(native):
    """003 SPC–MPS 二(二): identity with former names, household, travel documents with crossings,
    vehicles with their seizures, hotel stays; the query period narrows crossings and stays."""
    assert native.person(CHEN)["former_names"] == ["陈强"]
    assert [p["id_number"] for p in native.household(CHEN)] == [CHEN, HUANG]
    assert native.household(LI)[0]["id_number"] == LI and len(native.household(LI)) == 1
    (passport,) = native.travel_documents(CHEN)
    assert passport["number"] == "E12345678" and len(passport["crossings"]) == 2
    assert len(native.travel_documents(CHEN, date(2025, 12, 21), date(2025, 12, 31))[0]["crossings"]) == 1
    assert len(native.hotel_stays(CHEN, date(2026, 1, 1), date(2026, 2, 28))) == 1
    assert native.hotel_stays(CHEN, date(2026, 3, 1), date(2026, 3, 31)) == []
    assert [v["plate"] for v in native.vehicles_of(HENGDA)] == [TRUCK, CAR]
    (gongan_first,) = native.seizures(TRUCK, date(2026, 3, 4))
    assert gongan_first.court == GONGAN and gongan_first.document_id == GONGAN_SEIZURE
    seed(native)  # loading the example data again changes nothing
    assert len(native.seizures(TRUCK, date(2026, 3, 4))) == 1


def test_first_notice_gets_the_seizure_later_ones_rotate_in_order_and_a_release_promotes_the_next(native):
    """002 四.7(3): 为首先送达协助执行通知书的人民法院办理查封，对后来的作轮候查封; releasing the
    seizure in effect lets the next take effect, and its court is owed a notice."""
    p = period()
    first = native.seize_vehicle(
        "k1", order(measure_id="S1"), plate=CAR, vin=None, start=p.start, end=p.end, today=today()
    )
    second = native.seize_vehicle(
        "k2", gongan("S9"), plate=CAR, vin=CAR_V.vin, start=p.start, end=p.end, today=today()
    )
    third = native.seize_vehicle(
        "k3", order(measure_id="S3"), plate=CAR, vin=None, start=p.start, end=p.end, today=today()
    )
    assert (first["rotating"], second["rotating"], third["rotating"]) == (False, True, True)
    assert (second["position"], third["position"]) == (2, 3)
    assert [e["court"] for e in third["prior"]] == [YUNFU, GONGAN]
    assert (
        native.seize_vehicle("k2", gongan("S9"), plate=CAR, vin=None, start=p.start, end=p.end, today=today())
        == second
    )

    queue = native.seizures(CAR, today())
    with pytest.raises(Refusal, match="只能|须由"):  # only the court that ordered it may lift it
        native.release(
            "r0",
            court=GONGAN,
            document_id=queue[0].document_id,
            measure_id="S1",
            kinds={"VehicleSeize"},
            at=datetime.now(CHINA_TZ),
        )
    with pytest.raises(Refusal, match="未登记"):
        native.release(
            "r1",
            court=YUNFU,
            document_id=str(uuid.uuid4()),
            measure_id="S1",
            kinds={"VehicleSeize"},
            at=datetime.now(CHINA_TZ),
        )
    out = native.release(
        "r2",
        court=YUNFU,
        document_id=queue[0].document_id,
        measure_id="S1",
        kinds={"VehicleSeize"},
        at=datetime.now(CHINA_TZ),
    )
    assert out["promoted"] is not None
    (promotion,) = native.pending_promotions()
    assert promotion.measure.court == GONGAN and promotion.cause == "released"
    assert [m.court for m in native.seizures(CAR, today())] == [GONGAN, YUNFU]
    # releasing a rotating seizure takes it out of the queue and promotes nobody
    native.release(
        "r3",
        court=YUNFU,
        document_id=queue[2].document_id,
        measure_id="S3",
        kinds={"VehicleSeize"},
        at=datetime.now(CHINA_TZ),
    )
    assert [m.court for m in native.seizures(CAR, today())] == [GONGAN] and len(
        native.pending_promotions()
    ) == 1


def test_a_seized_vehicle_is_transferred_only_for_the_first_seizing_court(native):
    """003 SPC–MPS 三(二): a seized vehicle cannot be transferred (限制其转让过户); 001 art. 12 /
    002 四.7(3): only the court whose seizure is in effect may have it transferred."""
    p = period()
    native.seize_vehicle("k1", order(), plate=CAR, vin=None, start=p.start, end=p.end, today=today())
    native.seize_vehicle("k2", gongan(), plate=CAR, vin=None, start=p.start, end=p.end, today=today())
    at = datetime.now(CHINA_TZ)
    with pytest.raises(Refusal, match="限制转让过户"):
        native.transfer_by_owner("own", plate=CAR, to_code=LI, to_name="李伟文", at=at)
    with pytest.raises(Refusal, match="首先查封"):
        native.transfer_vehicle(
            "t1", gongan("S2"), plate=CAR, vin=None, to_code=LI, to_name="李伟文", today=today()
        )
    native.transfer_vehicle(
        "t2", order(measure_id="S2"), plate=CAR, vin=None, to_code=LI, to_name="李伟文", today=today()
    )
    assert native.vehicle(CAR)["owner_code"] == LI and native.transfers(CAR)[-1]["court"] == YUNFU
    native.transfer_by_owner(
        "own2", plate=SOLD_CAR, to_code=LI, to_name="李伟文", at=at
    )  # not seized: allowed
    with pytest.raises(Refusal, match="识别代号"):
        native.seize_vehicle(
            "k3", order(), plate=CAR, vin="WRONGVIN000000000", start=p.start, end=p.end, today=today()
        )
    with pytest.raises(Refusal, match="无该号牌"):
        native.seize_vehicle(
            "k4", order(), plate="粤W00000", vin=None, start=p.start, end=p.end, today=today()
        )


def test_a_refusal_is_the_recorded_answer_for_its_key(native):
    """A handler asked again after a crash answers as it did the first time (docs/adapters.md §3)."""
    p = period()
    with pytest.raises(Refusal):
        native.seize_vehicle(
            "same", order(), plate="粤W12345", vin=None, start=p.start, end=p.end, today=today()
        )
    native.once(
        "add",
        lambda db: (
            db.execute(
                "INSERT INTO vehicles (plate, owner_code, owner_name) VALUES ('粤W12345', ?, '陈国强')",
                (CHEN,),
            )
            and {}
        ),
    )
    with pytest.raises(Refusal):
        native.seize_vehicle(
            "same", order(), plate="粤W12345", vin=None, start=p.start, end=p.end, today=today()
        )
    assert native.seizures("粤W12345", today()) == []


def test_exit_restriction_applies_within_its_control_period_and_not_once_lifted(native):
    """003 SPC–MPS 三(一): border control for the control period; a lifted or expired restriction
    no longer applies; a period already over cannot be enforced."""
    p = period(days=30, start_offset=5)
    o = order()
    native.restrict_exit(
        "x1",
        o,
        id_number=CHEN,
        name="陈国强",
        gender="M",
        start=p.start,
        end=p.end,
        requirement="阻止出境",
        today=today(),
    )
    assert native.may_leave(CHEN, today())  # not yet
    assert not native.may_leave(CHEN, p.start) and not native.may_leave(CHEN, p.end)
    assert native.may_leave(CHEN, p.end + timedelta(days=1))  # expired
    native.release(
        "x2",
        court=YUNFU,
        document_id=o.document_id,
        measure_id="S1",
        kinds={"ExitRestriction"},
        at=datetime.now(CHINA_TZ),
    )
    assert native.may_leave(CHEN, p.start)  # lifted
    old = Period(start=today() - timedelta(days=40), end=today() - timedelta(days=1))
    with pytest.raises(Refusal, match="届满"):
        native.restrict_exit(
            "x3",
            order(),
            id_number=CHEN,
            name="陈国强",
            gender="M",
            start=old.start,
            end=old.end,
            requirement=None,
            today=today(),
        )


def test_a_seizure_whose_period_ends_lapses_and_the_next_rotating_one_takes_effect(native):
    """002 四.7(3): a rotating seizure takes effect when the one before it ends; a seizure's period
    ending ends it as a release would."""
    native.seize_vehicle(
        "k1", order(), plate=CAR, vin=None, start=today(), end=today() + timedelta(days=2), today=today()
    )
    native.seize_vehicle(
        "k2", gongan(), plate=CAR, vin=None, start=today(), end=today() + timedelta(days=400), today=today()
    )
    later = today() + timedelta(days=3)
    native.lapse(later, datetime.now(CHINA_TZ) + timedelta(days=3))
    (promotion,) = native.pending_promotions()
    assert promotion.cause == "lapsed" and promotion.measure.court == GONGAN
    assert [(m.court, m.state) for m in native.seizures(CAR, later)] == [(GONGAN, "active")]


def test_a_sighting_owes_one_lead_report_per_court_watching_and_only_while_watched(native):
    """002 四.7(2): found persons are reported to the court within 24 hours, until the court
    cancels; 002 四.7(3) / 003 SPC–MPS 三(二): vehicles found are reported to the courts looking
    for them and to the court whose seizure is in effect."""
    yunfu, other = order(), gongan()
    native.watch_person("w1", yunfu, id_number=CHEN, name="陈国强", gender="M", ground="LargeAmount")
    native.watch_person("w2", other, id_number=CHEN, name="陈国强", gender="M", ground="LargeAmount")
    now = datetime.now(CHINA_TZ)
    seen = now - timedelta(hours=2)
    kw = {"kind": "person", "target": CHEN, "location": "云浮", "seen_at": seen, "recorded_at": now}
    assert native.record_sighting(sighting_id="s1", **kw) == 2
    assert native.record_sighting(sighting_id="s1", **kw) == 2  # the same sighting: nothing new
    assert len(native.pending_leads()) == 2
    assert all(lead["due_at"] == seen + timedelta(hours=24) for lead in native.leads("s1"))
    native.release(
        "c1",
        court=GONGAN,
        document_id=other.document_id,
        measure_id="S1",
        kinds={"LocatePerson", "LocateVehicle"},
        at=now,
    )
    assert native.record_sighting(sighting_id="s2", **kw) == 1  # cancelled: Gong'an is not told again
    with pytest.raises(ValueError):
        native.record_sighting(sighting_id="s3", **{**kw, "seen_at": now + timedelta(hours=1)})

    p = period()
    native.seize_vehicle(
        "v1", order(measure_id="S2"), plate=CAR, vin=None, start=p.start, end=p.end, today=today()
    )
    native.seize_vehicle(
        "v2", gongan("S2"), plate=CAR, vin=None, start=p.start, end=p.end, today=today()
    )  # rotating
    native.watch_vehicle("v3", gongan("S5"), plate=CAR, vin=None)
    assert (
        native.record_sighting(
            sighting_id="s4", kind="vehicle", target=CAR, location="G324", seen_at=seen, recorded_at=now
        )
        == 2
    )  # the seizure in effect and the watch; not the rotating one
    assert native.overdue_leads(now + timedelta(hours=25))  # not handed over within 24 hours: overdue


# --- the adapter through the harness ---------------------------------------------------------------


def test_the_example_query_notice_is_answered_from_the_registers(police):
    """002 四.7(1): identity, travel documents, hotel stays in the period, vehicles with the
    seizures in place (as examples/unsigned/ExecutionReceipt-PublicSecurity.xml)."""
    out = police.deliver(SIGNED / "QueryNotice-PublicSecurity.xml")
    receipt = out.receipt
    assert_receipt(
        receipt,
        answers=(SIGNED / "QueryNotice-PublicSecurity.xml").read_bytes(),
        statuses={"Q1": "Found", "Q2": "Found", "Q3": "Found", "Q4": "Found"},
    )
    example = codec.from_element(parse((UNSIGNED / "ExecutionReceipt-PublicSecurity.xml").read_bytes())).body
    expected = {r.query_id: r for r in example.results}
    for qid in ("Q1", "Q2", "Q3"):
        assert receipt.result(qid).records == expected[qid].records
    truck = receipt.result("Q4").records[0]
    assert truck.vehicle == TRUCK_V and truck.mortgagee == "东风汽车金融有限公司"
    assert [(s.position, s.authority_code, s.case_number) for s in truck.seizures] == [
        (1, GONGAN, GONGAN_CASE)
    ]

    more = police.document(
        QueryNotice(
            queries=[
                Query(query_id="Q1", kind=QueryKind.HOUSEHOLD, subject=CHEN_P),
                Query(query_id="Q2", kind=QueryKind.IDENTITY, subject=HENGDA_O),
                Query(
                    query_id="Q3",
                    kind=QueryKind.IDENTITY,
                    subject=NaturalPerson(name="李四", id_number=resident_id("110101", "19900307", "123")),
                ),
            ]
        )
    )
    out = police.deliver(more)
    assert [r.id_number for r in out.receipt.result("Q1").records] == [CHEN, HUANG]
    assert_not_executed(out.receipt, "Q2", reason_contains="自然人")
    assert out.receipt.result("Q3").status is QueryStatus.NOT_FOUND


def test_exit_restriction_and_its_lifting(police):
    """003 SPC–MPS 三(一): restricted for the control period; ExitRestrictionLift lifts it (001
    art. 21); only the restricting court may lift it; lifting again reports it released."""
    p = period()
    n = notice(
        police, ExitRestriction(measure_id="S1", subject=CHEN_P, period=p, control_requirement="阻止出境")
    )
    out = police.deliver(n)
    result = assert_receipt(out.receipt, answers=n, statuses={"S1": "Executed"}).results[0]
    assert result.period == p and result.effective_at is not None and not out.reviews
    native = police.adapter.native
    assert not native.may_leave(CHEN, today())

    wrong = release_of(
        police, ("R1", ReleaseKind.EXIT_RESTRICTION_LIFT, n, "S1"), court=GONGAN, case=GONGAN_CASE
    )
    assert_not_executed(police.deliver(wrong).receipt, "R1", reason_contains="法院")
    assert not native.may_leave(CHEN, today())

    lift = release_of(police, ("R1", ReleaseKind.EXIT_RESTRICTION_LIFT, n, "S1"))
    out = police.deliver(lift)
    lifted = assert_receipt(out.receipt, answers=lift, statuses={"R1": "Released"}).results[0]
    assert native.may_leave(CHEN, today())
    again = police.deliver(release_of(police, ("R1", ReleaseKind.EXIT_RESTRICTION_LIFT, n, "S1")))
    assert again.receipt.result("R1").status is ReleaseStatus.RELEASED
    assert again.receipt.result("R1").effective_at == lifted.effective_at  # released once, when first lifted


def test_two_courts_seizing_one_vehicle_rotate_and_the_release_promotes_the_second(police):
    """002 四.7(3): the Yunfu notice arrives first and gets the seizure; the Gong'an seizure is
    rotating, and its receipt says so with the earlier seizure; when Yunfu releases, the Gong'an
    seizure takes effect and the Gong'an court gets a MeasureStatusNotice answering its notice."""
    p = period()
    first = notice(police, VehicleSeize(measure_id="S2", subject=HENGDA_O, vehicle=CAR_V, period=p))
    assert (
        assert_receipt(police.deliver(first).receipt, answers=first, statuses={"S2": "Executed"})
        .results[0]
        .queue_position
        == 1
    )
    second = notice(
        police,
        VehicleSeize(measure_id="S7", subject=HENGDA_O, vehicle=CAR_V, period=p),
        court=GONGAN,
        case=GONGAN_CASE,
    )
    out = police.deliver(second)
    rotating = assert_receipt(out.receipt, answers=second, statuses={"S7": "Rotating"}).results[0]
    assert rotating.queue_position == 2 and "轮候" in rotating.remark
    (prior,) = rotating.prior_measures
    assert (prior.position, prior.authority_code, prior.document_id) == (1, YUNFU, first.header.document_id)

    release = release_of(police, ("R1", ReleaseKind.VEHICLE_UNSEIZE, first, "S2"))
    out = police.deliver(release)
    assert_receipt(out.receipt, answers=release, statuses={"R1": "Released"})
    (status,) = out.of_type("MeasureStatusNotice")
    body: MeasureStatusNotice = status.body
    assert status.recipient == GONGAN and status.in_reply_to == str(second.header.document_id)
    assert status.case_number == GONGAN_CASE
    assert body.measure == MeasureRef(document_id=second.header.document_id, measure_id="S7")
    assert body.status is ResultStatus.EXECUTED and body.effective_at is not None
    assert not police.redeliver(release).of_type("MeasureStatusNotice")  # told once
    assert police.adapter.flush() == 0

    query = police.deliver(
        police.document(
            QueryNotice(queries=[Query(query_id="Q1", kind=QueryKind.VEHICLES, subject=HENGDA_O)])
        )
    )
    car = next(r for r in query.receipt.result("Q1").records if r.vehicle.plate_number == CAR)
    assert [(s.position, s.authority_code) for s in car.seizures] == [(1, GONGAN)]


def test_the_example_notice_seizes_the_truck_behind_the_earlier_gongan_seizure(police):
    """The example network: the Gong'an court seized the truck first (demo data), so the Yunfu
    notice's seizure is rotating; the sold car is transferred; the rest is carried out."""
    out = police.deliver(SIGNED / "AssistanceNotice-PublicSecurity.xml")
    receipt = out.receipt
    assert {k: r.status.value for k, r in receipt.results.items()} == {
        "S1": "Executed",
        "S2": "Rotating",
        "S3": "Executed",
        "S4": "Executed",
        "S5": "Executed",
    }
    assert receipt.result("S2").prior_measures[0].document_id == uuid.UUID(GONGAN_SEIZURE)
    assert police.adapter.native.vehicle(SOLD_CAR)["owner_code"] == LI


def test_a_release_of_every_measure_kind_the_police_carry_out(police):
    """001 art. 21; 003 SPC–MPS 三(三): exit restriction lifted, seizure released, both watches
    cancelled (002 四.7(2)); a transfer is final and has no release; a release of the wrong kind
    is not carried out. After the cancellation a sighting is reported to nobody."""
    p = period()
    n = notice(
        police,
        ExitRestriction(measure_id="S1", subject=CHEN_P, period=p),
        VehicleSeize(measure_id="S2", subject=HENGDA_O, vehicle=CAR_V, period=p),
        LocatePerson(measure_id="S4", subject=CHEN_P, ground=LocateGround.LARGE_AMOUNT),
        LocateVehicle(measure_id="S5", subject=HENGDA_O, vehicle=TRUCK_V),
    )
    assert_receipt(
        police.deliver(n).receipt, answers=n, statuses={k: "Executed" for k in ("S1", "S2", "S4", "S5")}
    )
    assert {m.kind for m in police.adapter.native.watch_list()} == {"LocatePerson", "LocateVehicle"}

    wrong = release_of(police, ("R9", ReleaseKind.EXIT_RESTRICTION_LIFT, n, "S2"))
    assert_not_executed(police.deliver(wrong).receipt, "R9", reason_contains="VehicleSeize")
    r = release_of(
        police,
        ("R1", ReleaseKind.EXIT_RESTRICTION_LIFT, n, "S1"),
        ("R2", ReleaseKind.VEHICLE_UNSEIZE, n, "S2"),
        ("R4", ReleaseKind.LOCATE_CANCEL, n, "S4"),
        ("R5", ReleaseKind.LOCATE_CANCEL, n, "S5"),
    )
    assert_receipt(
        police.deliver(r).receipt, answers=r, statuses={k: "Released" for k in ("R1", "R2", "R4", "R5")}
    )
    native = police.adapter.native
    assert (
        native.may_leave(CHEN, today()) and native.seizures(CAR, today()) == [] and native.watch_list() == []
    )
    now = police.clock()
    assert (
        police.adapter.report_sighting(
            sighting_id="after-cancel", id_number=CHEN, location="云浮", seen_at=now
        )
        == []
    )
    (lead,) = police.adapter.report_sighting(
        sighting_id="truck-after", plate_number=TRUCK, location="G324", seen_at=now
    )
    # the truck is still seized in effect by the Gong'an court (demo data), so that court is told
    # (002 四.7(3)); its seizure was served on paper, so the report answers no network document
    assert police.sent[-1].document_id == lead and police.sent[-1].recipient == GONGAN
    assert police.sent[-1].in_reply_to is None and police.sent[-1].body.regarding.measure_id == "S1"


def test_locate_person_and_a_sighting_send_one_lead_report_to_each_court_that_asked(police):
    """002 四.7(2): the court is told within 24 hours; the lead report answers the locate notice
    (so the hub routes it to that court), names the measure, the person and the contact; one
    sighting is reported once however often it is injected; times are kept."""
    yunfu = notice(
        police, LocatePerson(measure_id="S4", subject=CHEN_P, ground=LocateGround.MISSING_OVER_THREE_MONTHS)
    )
    gong = notice(
        police,
        LocatePerson(measure_id="S1", subject=CHEN_P, ground=LocateGround.LARGE_AMOUNT),
        court=GONGAN,
        case=GONGAN_CASE,
    )
    police.deliver(yunfu), police.deliver(gong)
    seen = police.clock().replace(microsecond=0) - timedelta(hours=3)
    ids = police.adapter.report_sighting(
        sighting_id="JQ-2026-0402-0017",
        id_number=CHEN,
        location="云浮市云城区河滨路1号云浮国际大酒店",
        seen_at=seen,
        remark="已告知其到庭。",
    )
    leads = police.sent[-2:]
    assert sorted(ids) == sorted(d.document_id for d in leads) and all(
        d.doc_type == "LeadReport" for d in leads
    )
    by_court = {d.recipient: d for d in leads}
    for court, doc, mid in ((YUNFU, yunfu, "S4"), (GONGAN, gong, "S1")):
        lead = by_court[court]
        body: LeadReport = lead.body
        assert lead.in_reply_to == str(doc.header.document_id) and lead.case_number == doc.header.case_number
        assert body.regarding == MeasureRef(document_id=doc.header.document_id, measure_id=mid)
        assert body.sighting.person.id_number == CHEN and body.sighting.person.name == "陈国强"
        assert body.sighting.seen_at == seen and body.sighting.location.startswith("云浮市")
        assert body.contact.name == CONTACT.name
    sent = len(police.sent)
    assert (
        police.adapter.report_sighting(
            sighting_id="JQ-2026-0402-0017", id_number=CHEN, location="x", seen_at=seen
        )
        == ids
    )
    assert len(police.sent) == sent  # once per sighting
    for lead in police.adapter.native.leads("JQ-2026-0402-0017"):
        assert lead["seen_at"] <= lead["reported_at"] <= lead["due_at"]  # within 24 hours


def test_a_crash_while_handing_over_a_lead_report_sends_it_once_after_restart(police):
    """The lead report owed is kept in the register's outbox: a killed adapter sends it at the
    next start, under the same key, so the court gets it once."""
    n = notice(police, LocatePerson(measure_id="S4", subject=CHEN_P, ground=LocateGround.LARGE_AMOUNT))
    police.deliver(n)

    def crash(raw: bytes) -> None:
        if b"LeadReport" in raw:
            police.on_send = None
            raise SystemExit("killed while handing the lead report over")

    police.on_send = crash
    with pytest.raises(SystemExit):
        police.adapter.report_sighting(
            sighting_id="crash-1", id_number=CHEN, location="云浮", seen_at=police.clock()
        )
    assert not [d for d in police.sent if d.doc_type == "LeadReport"]
    police.restart()
    leads = [d for d in police.sent if d.doc_type == "LeadReport"]
    assert len(leads) == 1 and leads[0].in_reply_to == str(n.header.document_id)
    police.restart()
    assert len([d for d in police.sent if d.doc_type == "LeadReport"]) == 1


def test_the_register_disagreeing_with_the_notice_gives_a_review_suggestion_not_a_refusal(police):
    """001 art. 20: no substantive review — a vehicle registered to another owner is still
    seized, with a review suggestion; what cannot be identified is not executed (003 bank rules 17)."""
    n = notice(
        police,
        VehicleSeize(
            measure_id="S1", subject=CHEN_P, vehicle=CAR_V, period=period()
        ),  # the car is the company's
        VehicleSeize(
            measure_id="S2", subject=CHEN_P, vehicle=Vehicle(plate_number="粤W99999"), period=period()
        ),
        LocatePerson(
            measure_id="S3",
            subject=NaturalPerson(name="陈国", id_number=CHEN, gender="M"),
            ground=LocateGround.ABSCONDED_AFTER_DETENTION,
        ),
    )
    out = police.deliver(n)
    assert_receipt(out.receipt, answers=n, statuses={"S1": "Executed", "S2": "NotExecuted", "S3": "Executed"})
    assert_not_executed(out.receipt, "S2", reason_contains="无该号牌")
    grounds = sorted((tuple(r.body.items), r.body.grounds) for r in out.reviews)
    assert [items for items, _ in grounds] == [("S1",), ("S3",), ("S3",)]
    assert all(r.body.measure_carried_out for r in out.reviews)


def test_vehicle_transfer_only_for_the_court_whose_seizure_is_in_effect(police):
    """001 art. 12; 002 四.7(3): the Gong'an court, seizing the truck first, may have it
    transferred; the Yunfu court may not."""
    buyer = Party(subject=NaturalPerson(name="李伟文", id_number=LI, gender="M"))
    yunfu = notice(
        police, VehicleTransfer(measure_id="S3", subject=HENGDA_O, vehicle=TRUCK_V, transferee=buyer)
    )
    assert_not_executed(police.deliver(yunfu).receipt, "S3", reason_contains="首先查封")
    gong = notice(
        police,
        VehicleTransfer(measure_id="S3", subject=HENGDA_O, vehicle=TRUCK_V, transferee=buyer),
        court=GONGAN,
        case=GONGAN_CASE,
    )
    assert_receipt(police.deliver(gong).receipt, answers=gong, statuses={"S3": "Executed"})
    assert police.adapter.native.vehicle(TRUCK)["owner_code"] == LI


# --- live: a real Mosquitto, the hub, a court ----------------------------------------------------------


@pytest.fixture
def hub(mosquitto, tmp_path):
    h = Hub(
        hub_config(
            HUB, port=mosquitto.port, var=tmp_path / "hub", workers=0, delivery={"ack_timeout_seconds": 2}
        )
    )
    h.start()
    yield h
    h.stop()


def court_client(mosquitto, tmp_path, unit: str) -> CourtClient:
    client = CourtClient(
        unit_config(unit, port=mosquitto.port, var=tmp_path / "units", resend_after_seconds=2),
        handler=(recorder := Recorder()),
    )
    client.recorder = recorder
    return client


def police_config(mosquitto, tmp_path):
    return config_model(PoliceAdapter)(
        unit=unit_config(POLICE, port=mosquitto.port, var=tmp_path / "units", resend_after_seconds=2),
        adapter=PoliceSettings(demo=True, poll_seconds=0.2, contact=CONTACT),
        execution=ExecutionSettings(idle_poll_seconds=0.2),
    )


def live_notice(*measures, court: str = COURT, case: str = "（2026）粤53执123号") -> Document:
    from adapters.sdk.testing import EXAMPLE_OFFICERS

    return Document.create(
        AssistanceNotice(ruling=EXAMPLE_RULING, measures=list(measures)),
        sender=court,
        recipient=POLICE,
        case_number=case,
        officers=list(EXAMPLE_OFFICERS),
    )


def arrived(court: CourtClient, doc_type: str, in_reply_to: str):
    return [r for r in court.recorder.of_type(doc_type) if r.in_reply_to == in_reply_to]


def test_live_locate_person_and_a_sighting_reach_the_court_through_mosquitto_and_the_hub(
    hub, mosquitto, tmp_path
):
    """End to end: the court's locate notice goes through the hub to the police adapter, the
    receipt comes back; a sighting injected through the adapter's API, and one recorded by the
    bureau's own systems (picked up by the adapter within poll_seconds), each reach the court as a
    LeadReport answering the notice, accepted by the hub (002 四.7(2))."""
    config = police_config(mosquitto, tmp_path)
    with court_client(mosquitto, tmp_path, COURT) as court, AdapterService(PoliceAdapter, config) as service:
        n = live_notice(
            LocatePerson(measure_id="S4", subject=CHEN_P, ground=LocateGround.MISSING_OVER_THREE_MONTHS)
        )
        nid = str(n.header.document_id)
        assert court.publish(n, timeout=30).accepted
        wait_until(lambda: arrived(court, "ExecutionReceipt", nid), 30, "the receipt of the locate notice")
        assert (
            arrived(court, "ExecutionReceipt", nid)[0].document().body.results[0].status
            is ResultStatus.EXECUTED
        )

        seen = datetime.now(CHINA_TZ).replace(microsecond=0) - timedelta(minutes=40)
        (lead_id,) = service.adapter.report_sighting(
            sighting_id="JQ-live-1",
            id_number=CHEN,
            location="云浮市云城区河滨路1号云浮国际大酒店",
            seen_at=seen,
        )
        wait_until(lambda: arrived(court, "LeadReport", nid), 30, "the lead report at the court")
        (got,) = arrived(court, "LeadReport", nid)
        lead = got.document()
        assert got.document_id == lead_id and lead.header.sender == POLICE and lead.header.recipient == COURT
        assert lead.body.regarding == MeasureRef(document_id=n.header.document_id, measure_id="S4")
        assert lead.body.sighting.person.id_number == CHEN and lead.body.sighting.seen_at == seen
        wait_until(
            lambda: (s := service.store.get_sent(lead_id)) is not None and s.state == "receipted",
            30,
            "the hub's service receipt for the lead report",
        )

        # the bureau's own system records a sighting in its register (adapters/police/demo.py does this)
        other = PoliceSystem(Path(config.unit.store).parent / "police.db")
        try:
            other.record_sighting(
                sighting_id="JQ-live-2",
                kind="person",
                target=CHEN,
                location="云浮站",
                seen_at=seen,
                recorded_at=datetime.now(CHINA_TZ),
            )
        finally:
            other.close()
        wait_until(
            lambda: len(arrived(court, "LeadReport", nid)) == 2, 30, "the polled sighting's lead report"
        )

        # the truck, seized on paper by the Gong'an court before the network: the lead report goes to
        # that court without InReplyTo, and the hub accepts it (the court picks it up when it connects)
        (truck_lead,) = service.adapter.report_sighting(
            sighting_id="JQ-live-3",
            plate_number=TRUCK,
            location="G324国道云城收费站",
            seen_at=seen,
            impounded=True,
        )
        wait_until(
            lambda: (s := service.store.get_sent(truck_lead)) is not None and s.state == "receipted",
            30,
            "the hub's service receipt for the lead report to the Gong'an court",
        )
    assert len(court.recorder.of_type("LeadReport")) == 2


def test_live_a_release_promotes_a_rotating_seizure_and_the_hub_routes_the_status_notice(
    hub, mosquitto, tmp_path
):
    """End to end, two courts: Yunfu seizes the car, Gong'an's seizure rotates; Yunfu's release
    makes it take effect and the hub routes the MeasureStatusNotice to the Gong'an court."""
    config = police_config(mosquitto, tmp_path)
    with (
        court_client(mosquitto, tmp_path, COURT) as yunfu,
        court_client(mosquitto, tmp_path, COURT2) as gong,
        AdapterService(PoliceAdapter, config),
    ):
        p = period()
        first = live_notice(VehicleSeize(measure_id="S2", subject=HENGDA_O, vehicle=CAR_V, period=p))
        second = live_notice(
            VehicleSeize(measure_id="S7", subject=HENGDA_O, vehicle=CAR_V, period=p),
            court=COURT2,
            case=GONGAN_CASE,
        )
        for client, doc in ((yunfu, first), (gong, second)):
            assert client.publish(doc, timeout=30).accepted
            did = str(doc.header.document_id)
            wait_until(lambda c=client, d=did: arrived(c, "ExecutionReceipt", d), 30, "a receipt")
        assert (
            arrived(gong, "ExecutionReceipt", str(second.header.document_id))[0]
            .document()
            .body.results[0]
            .status
            is ResultStatus.ROTATING
        )
        from adapters.sdk.testing import EXAMPLE_OFFICERS

        release = Document.create(
            ReleaseNotice(
                ruling=EXAMPLE_RULING,
                releases=[
                    Release(
                        release_id="R1",
                        kind=ReleaseKind.VEHICLE_UNSEIZE,
                        subject=HENGDA_O,
                        reason=ReleaseReason.PERFORMED,
                        releases=MeasureRef(document_id=first.header.document_id, measure_id="S2"),
                    )
                ],
            ),
            sender=COURT,
            recipient=POLICE,
            case_number="（2026）粤53执123号",
            officers=list(EXAMPLE_OFFICERS),
        )
        assert yunfu.publish(release, timeout=30).accepted
        sid = str(second.header.document_id)
        wait_until(
            lambda: arrived(gong, "MeasureStatusNotice", sid), 30, "the status notice at the Gong'an court"
        )
        body = arrived(gong, "MeasureStatusNotice", sid)[0].document().body
        assert body.measure.measure_id == "S7" and body.status is ResultStatus.EXECUTED
        assert not yunfu.recorder.of_type("MeasureStatusNotice")
