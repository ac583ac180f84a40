"""Obligations of issue 17 over a real Mosquitto and a real hub (example network):

- 003 事项委托 第十三条: a completed entrustment is rated back to the entrusted court, complained
  about to that court's superior court, and explained there; the office report counts them.
- 003 联合惩戒备忘录 二: a punishing unit that has not sent its quarterly report by the quarter's
  deadline gets a reminder, the office an escalation, and the office report lists it.

Time is controlled as in tests/test_supervision.py (a :class:`SupervisionClock` the test sets;
scans run when the test calls them).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from uuid import UUID, uuid4

import pytest
from typer.testing import CliRunner

from broker.cli.main import app
from broker.court import CourtClient
from broker.deadlines.calendar import CHINA_TZ, WorkingCalendar
from broker.hub.deadlines import DeadlineSupervisor, SupervisionClock
from broker.hub.punishment_reports import Quarter, regarding
from broker.hub.report_output import text_report, to_html
from broker.hub.reports import report_from_ledger
from broker.hub.service import Hub
from broker.registry import load_registry
from broker.sandbox import EXAMPLE_REGISTRY
from broker.signing import DocumentSigner
from tests.network import BANK, COURT, COURT2, HUB, Recorder, fresh, hub_config, unit_client, unit_config

CERTS = Path(__file__).resolve().parents[1] / "certs-example"
HIGH = "11440000MB0000010D"  # 广东省高级人民法院, the Yunfu court's superior (examples/network.yaml)
MARKET = "11445300MB0000006C"
REGISTRY_CENTRE = "12445300MB00000056"
OFFICE = "11445300MB0000008J"
SUPERVISION = {"scan_interval_seconds": 3600, "hub_outage_after_minutes": 150}  # the tests scan explicitly
WAIT = 30


def at(y: int, m: int, d: int, h: int = 0) -> datetime:
    return datetime(y, m, d, h, tzinfo=CHINA_TZ)


@pytest.fixture
def hub(mosquitto, tmp_path):
    clock = SupervisionClock(start=at(2026, 3, 20, 10))
    config = hub_config(
        HUB, port=mosquitto.port, var=tmp_path / "hub", workers=0, delivery={"ack_timeout_seconds": 5},
        supervision=SUPERVISION,
    )  # fmt: skip
    h = Hub(config, supervisor_factory=lambda hub: DeadlineSupervisor(hub, clock=clock))
    h.start()
    h.clock = clock
    yield h
    h.stop()


def _court(mosquitto, tmp_path, code):
    recorder = Recorder()
    client = CourtClient(unit_config(code, port=mosquitto.port, var=tmp_path / "units"), handler=recorder)
    client.recorder = recorder
    return client


def _unit(mosquitto, tmp_path, code):
    recorder = Recorder()
    client = unit_client(unit_config(code, port=mosquitto.port, var=tmp_path / "units"), recorder)
    client.recorder = recorder
    client.start()
    return client


def _body(document, **fields):
    return document.model_copy(update={"body": document.body.model_copy(update=fields)})


def _report(hub: Hub, since: datetime, until: datetime, as_of: datetime):
    registry = load_registry(EXAMPLE_REGISTRY)
    return report_from_ledger(
        hub.ledger, since=since, until=until, as_of=as_of, calendar=WorkingCalendar.default(),
        names={u.code: u.name for u in registry.units}, registry=registry,
    )  # fmt: skip


def test_a_rating_and_a_complaint_travel_court_to_court_and_to_the_superior_court_and_are_counted(
    hub, mosquitto, tmp_path
):
    yunfu, gongan, high = (_court(mosquitto, tmp_path, c) for c in (COURT, COURT2, HIGH))
    with yunfu, gongan, high:
        # 公安县法院 entrusts an item to 云浮中院, which completes it and answers
        entrustment = fresh("ItemEntrustment")
        assert gongan.publish(entrustment, timeout=WAIT).accepted
        entrustment_id = entrustment.header.document_id
        yunfu.recorder.wait_for(lambda r: r.counts[str(entrustment_id)], WAIT, "the entrustment")
        feedback = fresh("EntrustmentFeedback", in_reply_to=entrustment_id)
        assert yunfu.publish(feedback, timeout=WAIT).accepted

        # only a completed entrustment is rated: the rating must name the one the feedback completed
        stray = _body(fresh("EntrustmentRating", in_reply_to=feedback.header.document_id), entrustment=uuid4())
        refused = gongan.publish(stray, timeout=WAIT)
        assert not refused.accepted and [code for code, *_ in refused.errors] == ["ROUTE_RATING_NOT_COMPLETED"]
        # the rating goes back to the entrusted court, in reply to its feedback
        rating = _body(fresh("EntrustmentRating", in_reply_to=feedback.header.document_id), entrustment=entrustment_id)
        assert gongan.publish(rating, timeout=WAIT).accepted
        got = yunfu.recorder.wait_for(lambda r: r.of_type("EntrustmentRating"), WAIT, "the rating")[0]
        assert got.sender == COURT2 and got.document().body.score == 4

        # a complaint to the entrusted court itself is refused: it goes to the superior court
        wrong = _body(fresh("EntrustmentComplaint", recipient=COURT), entrustment=entrustment_id)
        refused = gongan.publish(wrong, timeout=WAIT)
        assert not refused.accepted and "RULE_NOT_SUPERIOR_COURT" in {code for code, *_ in refused.errors}
        complaint = _body(fresh("EntrustmentComplaint"), entrustment=entrustment_id)
        assert complaint.header.recipient == HIGH
        assert gongan.publish(complaint, timeout=WAIT).accepted
        explanation = _body(fresh("ComplaintExplanation"), complaint=complaint.header.document_id)
        assert yunfu.publish(explanation, timeout=WAIT).accepted
        high.recorder.wait_for(
            lambda r: [x.doc_type for x in r.received] == ["EntrustmentComplaint", "ComplaintExplanation"],
            WAIT, "the complaint and the explanation at the superior court",
        )  # fmt: skip
        assert {x.sender for x in high.recorder.received} == {COURT2, COURT}

    now = datetime.now(CHINA_TZ)  # documents count at their real time of reception
    report = _report(hub, now - timedelta(days=1), now + timedelta(days=1), now + timedelta(hours=1))
    [yunfu_stats] = report.entrustments
    assert (yunfu_stats.court, yunfu_stats.ratings, yunfu_stats.mean_score) == (COURT, 1, 4.0)
    assert (yunfu_stats.complaints, yunfu_stats.explained) == (1, 1)
    text = text_report(report)
    assert "entrustment ratings and complaints" in text and "广东省云浮市中级人民法院" in text
    assert 'id="entrustments"' in to_html(report, None)
    # before the explanation arrived, the complaint was not explained
    early = _report(hub, now - timedelta(days=1), now + timedelta(days=1), now - timedelta(days=1) + timedelta(seconds=1))
    assert early.entrustments == []


def test_a_punishing_unit_without_its_quarterly_report_is_reminded_escalated_and_listed(hub, mosquitto, tmp_path):
    bank, market, office = (_unit(mosquitto, tmp_path, c) for c in (BANK, MARKET, OFFICE))
    try:
        hub.supervisor.scan()  # supervision starts watching on 2026-03-20: 2026Q1 is owed
        # the market regulator reports its first quarter (examples: PunishmentReport, 2026 Q1)
        seal = DocumentSigner.for_unit(CERTS / "units" / MARKET)
        report_id = market.send(seal.sign(fresh("PunishmentReport")))
        assert market.wait_answer(report_id, WAIT).doc_type == "ServiceReceipt"

        # 2026Q1 ends 4.1 00:00; 10 working days (Qingming 4.4–4.6 off) end at 24:00 on 4.15
        hub.clock.set(at(2026, 4, 15, 20))
        hub.supervisor.scan()
        early = _report(hub, at(2026, 3, 1), at(2026, 7, 1), at(2026, 4, 15, 20))
        assert early.punishment_missing == []

        hub.clock.set(at(2026, 4, 16, 9))
        hub.supervisor.scan()
        hub.supervisor.scan()  # once per unit and quarter
        with hub.ledger.transaction() as tx:  # every deadline passed: the quarter is settled
            assert tx.get_state("punishment.settled:2026Q1") is not None
        about = str(regarding(BANK, Quarter(2026, 1)))
        bank.recorder.wait_for(lambda r: r.of_type("Reminder"), WAIT, "the bank's reminder")
        reminder = bank.recorder.of_type("Reminder")[0].document().body
        assert str(reminder.regarding) == about and reminder.unit == BANK
        assert reminder.due_at == at(2026, 4, 16) and "第1季度惩戒执行情况" in reminder.message
        office.recorder.wait_for(lambda r: len(r.of_type("Escalation")) == 2, WAIT, "the office's escalations")
        escalated = {e.document().body.unit for e in office.recorder.of_type("Escalation")}
        assert escalated == {BANK, REGISTRY_CENTRE}  # the market regulator reported
        assert market.recorder.of_type("Reminder") == []
        assert len(bank.recorder.of_type("Reminder")) == 1 and isinstance(UUID(about), UUID)

        listed = _report(hub, at(2026, 4, 1), at(2026, 7, 1), at(2026, 4, 16, 9))
        assert [(m.unit, m.quarter.label) for m in listed.punishment_missing] == [
            (BANK, "2026Q1"), (REGISTRY_CENTRE, "2026Q1"),
        ]  # fmt: skip
        text = text_report(listed)
        assert "units that have not sent a quarterly punishment report" in text and "2026Q1" in text
        assert 'id="punishment-reports"' in to_html(listed, None)
        # the office's own command shows the same list
        out = CliRunner().invoke(app, [
            "report", "--url", hub.config.ledger.url, "--registry", str(EXAMPLE_REGISTRY),
            "--since", "2026-04-01", "--until", "2026-07-01", "--as-of", "2026-04-16T09:00+08:00",
        ])  # fmt: skip
        assert out.exit_code == 0, out.output
        listing = out.output.split("units that have not sent a quarterly punishment report")[1]
        assert BANK in listing and REGISTRY_CENTRE in listing and MARKET not in listing
    finally:
        for client in (bank, market, office):
            client.stop()
