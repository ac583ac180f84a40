"""The credit platform reference adapter (issue 4): the dishonest list's rules on the stand-in,
the document handlers and the status query through the harness, and the same over a real
Mosquitto and hub.

Seed: 003 最高人民法院关于公布失信被执行人名单信息的若干规定 (失信规定) arts. 1–13 — art. 2
period, art. 4 no minors, art. 5 the decision takes effect when made, art. 6 the record, art. 9
correction and revocation, art. 10 deletion and expiry; 003 joint punishment memorandum 二.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from uuid import UUID

import pytest

from adapters.credit import CreditAdapter, CreditPlatform, CreditSettings
from adapters.credit.adapter import RESULT_IDS
from adapters.credit.demo import CHEN_LISTING, LIU_LISTING, seed
from adapters.credit.native import Entry, Refusal, add_years, period_end
from adapters.sdk import AdapterService, ExecutionSettings, config_model
from adapters.sdk.testing import (
    EXAMPLE_COURT,
    EXAMPLE_COURT2,
    EXAMPLE_OFFICERS,
    Harness,
    assert_not_executed,
    assert_receipt,
)
from broker.documents.bodies import (
    BasisDocument,
    DeletionGround,
    DishonestConduct,
    DishonestListing,
    DishonestListingCorrection,
    DishonestListingDeletion,
    DishonestListingRevocation,
    ListingCorrection,
    ListingPeriod,
    QueryNotice,
)
from broker.documents.common import NaturalPerson, Organisation
from broker.documents.document import CHINA_TZ, Document
from broker.documents.identifiers import age_on, resident_id_check_char
from broker.documents.queries import Query, QueryKind
from broker.documents.results import ListingRecord, ReleaseStatus, ResultStatus
from broker.hub.service import Hub
from broker.sandbox import unit_config
from tests.network import COURT, HUB, CourtClient, Recorder, hub_config, wait_until

ROOT = Path(__file__).resolve().parents[1]
SIGNED = ROOT / "examples" / "signed"
CREDIT = "11100000MB0000007D"
CASE = "（2026）粤53执123号"
GONGAN_CASE = "（2026）鄂1022执45号"
CHEN = NaturalPerson(name="陈国强", id_number="445302198004121232", gender="M")
HENGDA = Organisation(
    name="云浮市恒达石材有限公司", unit_code="91445302MA4UH8QK2A", legal_representative="陈国强"
)


def resident_id(birth: date, sequence: str = "123", region: str = "445302") -> str:
    first17 = region + birth.strftime("%Y%m%d") + sequence
    return first17 + resident_id_check_char(first17)


def now() -> datetime:
    return datetime.now(CHINA_TZ).replace(microsecond=0)


def today() -> date:
    return now().date()


def turning_18_in(days: int) -> NaturalPerson:
    """A person who is 17 today and turns 18 in ``days`` days."""
    born = add_years(today() + timedelta(days=days), -18)
    return NaturalPerson(name="张小明", id_number=resident_id(born, "131"), gender="M")


def entry(
    listing_id: str = "L1",
    *,
    court: str = EXAMPLE_COURT,
    case: str = CASE,
    code: str = CHEN.id_number,
    kind: str = "person",
    decided: date | None = None,
    conducts: list[str] | None = None,
    base: int | None = 2,
    **kw,
) -> Entry:
    decided = decided or today() - timedelta(days=1)
    fields = {
        "listing_id": listing_id,
        "court": court,
        "court_name": "广东省云浮市中级人民法院",
        "case_number": case,
        "subject_kind": kind,
        "name": "陈国强",
        "code": code,
        "gender": "M" if kind == "person" else None,
        "legal_representative": None if kind == "person" else "陈国强",
        "obligation": "支付货款。",
        "performance": "全部未履行。",
        "conducts": conducts or ["AbleButRefuses", "ViolatesPropertyReporting"],
        "conduct_details": "拒不报告财产。",
        "basis_issuer": "广东省云浮市中级人民法院",
        "basis_number": "（2025）粤53民初88号",
        "filed_on": decided - timedelta(days=30),
        "decision_date": decided,
        "base_years": base,
    }
    return Entry(**{**fields, **kw})


@pytest.fixture
def native(tmp_path):
    platform = CreditPlatform(tmp_path / "credit.db")
    yield platform
    platform.close()


# --- the stand-in's rules ----------------------------------------------------------------------------


def test_the_period_is_two_years_from_the_decision_extendable_and_none_for_ground_one_alone():
    """003 失信规定 art. 2 (and art. 10: ground (1) alone lasts until deleted); the decision's day
    not counted (民法典 art. 201), so the example's 2026-03-09 decision ends 2028-03-09."""
    assert period_end(
        ["AbleButRefuses", "ViolatesPropertyReporting"], date(2026, 3, 9), 2, None, None
    ) == date(2028, 3, 9)
    assert period_end(["Obstructs"], date(2026, 3, 9), 2, 3, "暴力抗拒执行情节严重") == date(2031, 3, 9)
    assert period_end(["AbleButRefuses"], date(2026, 3, 9), None, None, None) is None
    assert add_years(date(2028, 2, 29), 2) == date(2030, 2, 28)
    for conducts, base, ext, reason in (
        (["AbleButRefuses"], 2, None, None),
        (["Evades"], None, None, None),
        (["Evades"], 3, None, None),
        (["Obstructs"], 2, 4, "x"),
        (["Obstructs"], 2, 1, None),
    ):
        with pytest.raises(Refusal, match="第二条"):
            period_end(conducts, date(2026, 3, 9), base, ext, reason)


def test_a_minor_is_never_listed_on_the_decision_date_nor_on_the_day_of_entry(native):
    """003 失信规定 art. 4: 被执行人为未成年人的，不得纳入. The day of entry counts too: a decision
    dated after the 18th birthday does not make a 17-year-old listable today."""
    at = now()
    minor = turning_18_in(30).id_number
    with pytest.raises(Refusal, match="未成年人"):
        native.enter("k1", entry(code=minor), at)
    with pytest.raises(Refusal, match="未成年人"):
        native.enter("k2", entry(code=minor, decided=today() + timedelta(days=30)), at)
    adult = resident_id(add_years(today(), -18), "131")  # 18 today
    assert native.enter("k3", entry("L3", code=adult, decided=today()), at)["period_end"]
    assert native.status(minor, today()) == [] and len(native.status(adult, today())) == 1


def test_the_record_carries_what_art_6_requires(native):
    """003 失信规定 art. 6: name, code, legal representative or gender and age, obligation and
    performance, conduct, basis, case number, filing date, court; the period (art. 2)."""
    native.enter("k1", entry("L1"), now())
    record = native.published_record("L1", today())
    assert record["gender"] == "M" and record["age"] == age_on(CHEN.id_number, today()) >= 18
    for key in (
        "name",
        "id_number",
        "obligation",
        "performance",
        "conducts",
        "conduct_details",
        "basis_issuer",
        "basis_number",
        "case_number",
        "filed_on",
        "court",
        "period_end",
    ):
        assert record[key], key
    native.enter("k2", entry("L2", kind="organisation", code=HENGDA.unit_code, name=HENGDA.name), now())
    assert native.published_record("L2", today())["legal_representative"] == "陈国强"
    with pytest.raises(Refusal, match="法定代表人"):
        native.enter(
            "k3", entry("L3", kind="organisation", code=HENGDA.unit_code, legal_representative=None), now()
        )
    with pytest.raises(Refusal, match="性别"):
        native.enter("k4", entry("L4", gender="F", case="（2026）粤53执124号"), now())
    with pytest.raises(Refusal, match="尚未生效"):  # art. 5: the decision takes effect when made
        native.enter(
            "k5", entry("L5", decided=today() + timedelta(days=2), case="（2026）粤53执125号"), now()
        )
    with pytest.raises(Refusal, match="已被纳入"):  # one listing in force per debtor and case
        native.enter("k6", entry("L6"), now())
    assert native.enter("k7", entry("L1"), now())["listing_id"] == "L1"  # the same listing again: the same


def test_correction_by_the_listing_court_all_or_nothing_and_never_to_a_minor(native):
    """003 失信规定 art. 9 para. 2 (更正, 3 working days), art. 12; art. 4 applies to a corrected
    ID number too; only the listing court changes its listing; the old values are kept."""
    native.enter("k1", entry("L1"), now())
    with pytest.raises(Refusal, match="作出纳入决定的法院"):
        native.correct(
            "c1",
            listing_id="L1",
            court=EXAMPLE_COURT2,
            corrections=[("Performance", "已履行一半")],
            reason="r",
            at=now(),
        )
    with pytest.raises(Refusal, match="不是可更正"):
        native.correct(
            "c2",
            listing_id="L1",
            court=EXAMPLE_COURT,
            corrections=[("Performance", "已履行一半"), ("Conduct", "x")],
            reason="r",
            at=now(),
        )
    assert native.listing("L1").performance == "全部未履行。"  # nothing of a refused correction is applied
    with pytest.raises(Refusal, match="未成年人"):
        native.correct(
            "c3",
            listing_id="L1",
            court=EXAMPLE_COURT,
            corrections=[("IdNumber", turning_18_in(10).id_number)],
            reason="身份证号码录入错误",
            at=now(),
        )
    with pytest.raises(Refusal, match="不适用"):
        native.correct(
            "c4",
            listing_id="L1",
            court=EXAMPLE_COURT,
            corrections=[("LegalRepresentative", "某")],
            reason="r",
            at=now(),
        )
    out = native.correct(
        "c5",
        listing_id="L1",
        court=EXAMPLE_COURT,
        corrections=[("Performance", "已履行398932.57元")],
        reason="履行情况记载不准确",
        at=now(),
    )
    assert out["fields"] == ["Performance"] and native.listing("L1").performance == "已履行398932.57元"
    assert [h["action"] for h in native.history("L1")] == ["listed", "corrected"]
    assert native.history("L1")[1]["old"] == "全部未履行。"


def test_revocation_deletion_and_expiry_take_a_listing_out_of_force(native):
    """003 失信规定 art. 9 para. 1 (撤销), art. 10 (删除; at the end of the period, and not
    before), art. 2 para. 2 (early deletion); the punishments end with it (003 tendering notice 四)."""
    at = now()
    native.enter("a", entry("L1", conducts=["AbleButRefuses"], base=None), at)
    native.enter("b", entry("L2", case="（2026）粤53执124号"), at)
    native.enter(
        "c",
        entry(
            "L3",
            case="（2026）粤53执125号",
            decided=add_years(today(), -2) - timedelta(days=3),
            filed_on=add_years(today(), -2) - timedelta(days=40),
        ),
        at - timedelta(days=700),
    )
    assert {x.listing_id for x in native.status(CHEN.id_number, today())} == {
        "L1",
        "L2",
    }  # L3's period is over
    with pytest.raises(Refusal, match="无纳入期限|未设纳入期限"):
        native.delete("d0", listing_id="L1", court=EXAMPLE_COURT, ground="PeriodExpired", reason=None, at=at)
    with pytest.raises(Refusal, match="尚未届满"):
        native.delete("d1", listing_id="L2", court=EXAMPLE_COURT, ground="PeriodExpired", reason=None, at=at)
    with pytest.raises(Refusal, match="作出纳入决定的法院"):
        native.revoke("r0", listing_id="L1", court=EXAMPLE_COURT2, reason="x", at=at)
    native.delete("d2", listing_id="L1", court=EXAMPLE_COURT, ground="Performed", reason="已履行完毕", at=at)
    native.revoke("r1", listing_id="L2", court=EXAMPLE_COURT, reason="不应纳入", at=at)
    assert native.status(CHEN.id_number, today()) == []
    assert (
        native.revoke("r2", listing_id="L2", court=EXAMPLE_COURT, reason="again", at=at + timedelta(hours=1))[
            "already"
        ]
        == "revoked"
    )
    with pytest.raises(Refusal, match="不能更正"):
        native.correct(
            "c9", listing_id="L2", court=EXAMPLE_COURT, corrections=[("Performance", "x")], reason="r", at=at
        )

    assert native.expire(today(), at) == 1 and [x.listing_id for x in native.awaiting_deletion()] == ["L3"]
    native.delete("d3", listing_id="L3", court=EXAMPLE_COURT, ground="PeriodExpired", reason=None, at=at)
    assert native.awaiting_deletion() == [] and native.listing("L3").state == "deleted"


def test_the_example_listings_load_through_the_rules(native):
    seed(native)
    seed(native)
    (chen,) = native.status(CHEN.id_number, date(2026, 3, 16))
    assert chen.listing_id == CHEN_LISTING and chen.period_end == date(2028, 3, 9)
    assert native.listing(LIU_LISTING).period_end is None  # ground (1) alone


# --- the adapter through the harness --------------------------------------------------------------------


@pytest.fixture
def platform(tmp_path):
    with Harness(CreditAdapter, CreditSettings(), directory=tmp_path / "h") as h:
        yield h


TWO_YEARS = ListingPeriod(base_years=2)


def listing_body(
    subject=CHEN, *, decided: date | None = None, conducts=None, period: ListingPeriod | None = TWO_YEARS
):
    decided = decided or today() - timedelta(days=1)
    return DishonestListing(
        subject=subject,
        obligation="支付货款人民币1100000元及逾期付款利息。",
        performance="全部未履行。",
        conducts=conducts
        or [DishonestConduct.ABLE_BUT_REFUSES, DishonestConduct.VIOLATES_PROPERTY_REPORTING],
        conduct_details="收到报告财产令后拒不报告财产。",
        basis=BasisDocument(issuer="广东省云浮市中级人民法院", number="（2025）粤53民初88号"),
        filed_on=decided - timedelta(days=60),
        decision_date=decided,
        period=period,
    )


def status_query(h: Harness, subject=CHEN) -> Document:
    return h.document(
        QueryNotice(queries=[Query(query_id="Q1", kind=QueryKind.DISHONEST_STATUS, subject=subject)])
    )


def test_a_minor_is_never_listed_whatever_the_decision_date(platform):
    """003 失信规定 art. 4. The hub (RULE_LISTING_MINOR) and the SDK refuse a listing of a person
    under 18 on its decision date. Dating the decision after the 18th birthday does not get a
    minor through either: a decision dated after the document is refused (RULE_LISTING_DATES,
    arts. 5–6), and the platform itself checks the age on the day of entry too (tested on the
    native platform above). A correction of the ID number to a minor's is refused."""
    minor = turning_18_in(20)
    plain = platform.document(listing_body(minor))
    out = platform.deliver(platform.seal(plain))
    assert "RULE_LISTING_MINOR" in out.refused and not out.documents  # the SDK never hands it over

    misdated = platform.document(listing_body(minor, decided=today() + timedelta(days=20)))
    out = platform.deliver(platform.seal(misdated))
    assert out.refused == ["RULE_LISTING_DATES"] and not out.documents
    assert platform.adapter.status(minor) == [ListingRecord(listed=False)]

    adult = platform.document(listing_body())
    assert_receipt(platform.deliver(adult).receipt, answers=adult, statuses={"DishonestListing": "Executed"})
    fix = platform.document(
        DishonestListingCorrection(
            listing=adult.header.document_id,
            reason="身份证号码录入错误",
            corrections=[ListingCorrection(field="IdNumber", value=minor.id_number)],
        )
    )
    out = platform.deliver(fix)
    assert_not_executed(out.receipt, "DishonestListingCorrection", reason_contains="未成年人")
    assert platform.adapter.native.listing(str(adult.header.document_id)).code == CHEN.id_number


def test_listing_correction_revocation_deletion_and_status_answer_with_receipts(platform):
    """Every listing document gets a receipt with one result named after its type (the module
    docstring of adapters/credit/adapter.py): Executed / Released, or not, with the reason."""
    q = status_query(platform)
    assert platform.deliver(q).receipt.result("Q1").records == [ListingRecord(listed=False)]

    listing = platform.document(listing_body())
    out = platform.deliver(listing)
    result = assert_receipt(
        out.receipt, answers=listing, statuses={RESULT_IDS["DishonestListing"]: "Executed"}
    ).results[0]
    assert result.period.start == today() - timedelta(days=1) and result.period.end == add_years(
        result.period.start, 2
    )
    (record,) = platform.deliver(status_query(platform)).receipt.result("Q1").records
    assert (
        record.listed
        and record.listing_document_id == listing.header.document_id
        and record.case_number == CASE
    )
    assert record.court == "广东省云浮市中级人民法院" and record.period_end == result.period.end

    lid = listing.header.document_id
    fix = platform.document(
        DishonestListingCorrection(
            listing=lid,
            reason="履行情况记载不准确",
            corrections=[ListingCorrection(field="Performance", value="已履行部分。")],
        )
    )
    assert_receipt(
        platform.deliver(fix).receipt, answers=fix, statuses={"DishonestListingCorrection": "Executed"}
    )
    foreign = platform.document(
        DishonestListingRevocation(listing=lid, reason="不应纳入"),
        sender=EXAMPLE_COURT2,
        case_number=GONGAN_CASE,
    )
    assert_not_executed(
        platform.deliver(foreign).receipt, "DishonestListingRevocation", reason_contains="法院"
    )
    early = platform.document(DishonestListingDeletion(listing=lid, ground=DeletionGround.PERIOD_EXPIRED))
    assert_not_executed(
        platform.deliver(early).receipt, "DishonestListingDeletion", reason_contains="尚未届满"
    )
    delete = platform.document(
        DishonestListingDeletion(
            listing=lid,
            ground=DeletionGround.EARLY_DELETION,
            remark="被执行人积极履行（失信规定第二条第二款）",
        )
    )
    out = platform.deliver(delete)
    assert_receipt(out.receipt, answers=delete, statuses={"DishonestListingDeletion": "Released"})
    assert out.receipt.result("DishonestListingDeletion").status is ReleaseStatus.RELEASED
    assert platform.deliver(status_query(platform)).receipt.result("Q1").records == [
        ListingRecord(listed=False)
    ]
    assert platform.redeliver(delete).receipt.document_id == out.receipt.document_id  # executed once

    # an organisation, listed on ground (1) alone: no period, until deleted (art. 2, art. 10)
    org = platform.document(listing_body(HENGDA, conducts=[DishonestConduct.ABLE_BUT_REFUSES], period=None))
    result = assert_receipt(
        platform.deliver(org).receipt, answers=org, statuses={"DishonestListing": "Executed"}
    ).results[0]
    assert result.period is None and "未设纳入期限" in result.remark
    assert platform.adapter.status(HENGDA.unit_code)[0].listed


def test_the_example_documents_run_against_the_example_listings(tmp_path):
    """The signed examples: the status query finds 陈国强 listed (as ExecutionReceipt-CreditPlatform.xml),
    the correction and deletion change his listing, the Gong'an court revokes its earlier listing."""
    with Harness(CreditAdapter, CreditSettings(demo=True), directory=tmp_path / "h") as h:
        (record,) = h.deliver(SIGNED / "QueryNotice-CreditPlatform.xml").receipt.result("Q1").records
        assert record.listing_document_id == UUID(CHEN_LISTING) and record.period_end == date(2028, 3, 9)
        assert (
            h.deliver(SIGNED / "DishonestListing.xml").receipt.result("DishonestListing").status
            is ResultStatus.EXECUTED
        )
        for name, item in (
            ("DishonestListingCorrection", "Executed"),
            ("DishonestListingRevocation", "Released"),
            ("DishonestListingDeletion", "Released"),
        ):
            out = h.deliver(SIGNED / f"{name}.xml")
            assert out.receipt.result(name).status.value == item, name
        assert h.adapter.native.listing(CHEN_LISTING).state == "deleted"
        assert h.adapter.native.listing(LIU_LISTING).state == "revoked"


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


def test_live_listing_correction_deletion_status_and_a_rejected_minor_over_mosquitto_and_the_hub(
    hub, mosquitto, tmp_path
):
    """End to end through the hub: a listing, the status query (listed), a correction, a deletion,
    the status query again (not listed), each answered by the platform's sealed receipt; a listing
    of a minor, plainly or with a decision dated after the 18th birthday, is rejected by the hub."""
    recorder = Recorder()
    court = CourtClient(
        unit_config(COURT, port=mosquitto.port, var=tmp_path / "units", resend_after_seconds=2),
        handler=recorder,
    )
    config = config_model(CreditAdapter)(
        unit=unit_config(CREDIT, port=mosquitto.port, var=tmp_path / "units", resend_after_seconds=2),
        adapter=CreditSettings(),
        execution=ExecutionSettings(idle_poll_seconds=0.2),
    )

    def ask(body, officers: bool = False):
        doc = Document.create(
            body,
            sender=COURT,
            recipient=CREDIT,
            case_number=CASE,
            officers=list(EXAMPLE_OFFICERS) if officers else None,
        )
        answer = court.publish(doc, timeout=30)
        assert answer.accepted, answer.errors
        did = str(doc.header.document_id)
        wait_until(
            lambda: [r for r in recorder.of_type("ExecutionReceipt") if r.in_reply_to == did],
            30,
            f"the receipt of {body.xml_tag}",
        )
        (got,) = [r for r in recorder.of_type("ExecutionReceipt") if r.in_reply_to == did]
        receipt = got.document()
        assert receipt.header.sender == CREDIT and receipt.header.case_number == CASE
        return doc, receipt.body.results[0]

    def status() -> list[ListingRecord]:
        return ask(
            QueryNotice(queries=[Query(query_id="Q1", kind=QueryKind.DISHONEST_STATUS, subject=CHEN)]),
            officers=True,
        )[1].records

    with court, AdapterService(CreditAdapter, config):
        listing, result = ask(listing_body())
        assert result.status is ResultStatus.EXECUTED and result.measure_id == "DishonestListing"
        (record,) = status()
        assert record.listed and record.listing_document_id == listing.header.document_id
        lid = listing.header.document_id
        _, result = ask(
            DishonestListingCorrection(
                listing=lid,
                reason="履行情况记载不准确",
                corrections=[ListingCorrection(field="Performance", value="已履行部分。")],
            )
        )
        assert result.status is ResultStatus.EXECUTED
        _, result = ask(DishonestListingDeletion(listing=lid, ground=DeletionGround.EARLY_DELETION))
        assert result.status is ReleaseStatus.RELEASED
        assert status() == [ListingRecord(listed=False)]
        for decided, code in ((None, "RULE_LISTING_MINOR"), (today() + timedelta(days=20), "RULE_LISTING_DATES")):
            minor = Document.create(listing_body(turning_18_in(20), decided=decided), sender=COURT, recipient=CREDIT, case_number=CASE)
            answer = court.publish(minor, timeout=30)
            assert not answer.accepted and code in [e[0] for e in answer.errors]
        assert status()[0].listed is False


def test_a_consumption_restriction_order_is_recorded_for_the_punishing_units(tmp_path):
    """限制消费令 (003 memorandum 19-22): the platform records it and answers Executed, once."""
    from adapters.credit import CreditAdapter
    from adapters.credit.adapter import CreditSettings
    from adapters.sdk.testing import Harness

    signed = Path(__file__).resolve().parents[1] / "examples" / "signed" / "ConsumptionRestrictionOrder.xml"
    with Harness(CreditAdapter, CreditSettings(demo=True), directory=tmp_path) as h:
        out = h.deliver(signed)
        result = out.receipt.result("ConsumptionRestrictionOrder")
        assert result.status.value == "Executed" and "限制消费令" in result.remark
        rows = h.adapter.native.ledger.db.execute("SELECT count(*) FROM consumption_restrictions").fetchone()[0]
        assert rows == 1
        again = h.redeliver(signed)
        assert again.receipt is not None
        assert h.adapter.native.ledger.db.execute("SELECT count(*) FROM consumption_restrictions").fetchone()[0] == 1


def test_any_unit_may_ask_the_platform_whether_a_subject_is_listed(tmp_path):
    """003 失信规定 art. 8: banks check borrowers against the list; other queries from units are refused."""
    from adapters.credit import CreditAdapter
    from adapters.credit.adapter import CreditSettings
    from adapters.sdk.testing import Harness
    from broker.documents import codec
    from broker.parsing.hardened import parse

    bank = "91445300MA5100003A"
    example = Path(__file__).resolve().parents[1] / "examples" / "unsigned" / "QueryNotice-CreditPlatform.xml"
    body = codec.from_element(parse(example.read_bytes())).body
    with Harness(CreditAdapter, CreditSettings(demo=True), directory=tmp_path) as h:
        answered = h.deliver(h.document(body, sender=bank, case_number=None))
        assert answered.receipt is not None
        assert answered.receipt.result("Q1").status.value == "Found"
        # any other query from a unit never reaches the platform: the hub's rules refuse it
        other = body.model_copy(update={"queries": [body.queries[0].model_copy(update={"kind": "Identity"})]})
        with pytest.raises(AssertionError, match="RULE_STATUS_QUERY_ONLY"):
            h.deliver(h.document(other, sender=bank, case_number=None))
