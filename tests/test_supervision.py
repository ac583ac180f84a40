"""Deadlines, reminders, escalations, non-delivery and anomalies (issue 5) over a real Mosquitto.

Time is controlled: each hub gets a :class:`SupervisionClock` the test sets and advances, so a
deadline three working days away passes in a millisecond. Documents travel in real time (their
IssuedAt and signatures are real); the hub maps the instant a document reached the network onto
the test's timeline, which is when its clock starts. Scans run when a test calls
``hub.supervisor.scan()`` (the scheduled interval is an hour) and when the hub wakes one up
itself (status changes, completed cases), so assertions count what arrived, never what one scan
returned.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from broker.court import CourtClient
from broker.deadlines.calendar import CHINA_TZ
from broker.documents.common import MeasureRef
from broker.documents.measures import ReleaseKind
from broker.documents.queries import QueryKind
from broker.documents.results import ResultStatus
from broker.hub import deadlines as deadlines_mod
from broker.hub.clock import SupervisionClock
from broker.hub.deadlines import DeadlineSupervisor
from broker.hub.ledger.schema import audit, documents
from broker.hub.service import Hub
from broker.signing import DocumentSigner
from tests.network import (
    BANK,
    COURT,
    COURT2,
    HUB,
    POLICE,
    Recorder,
    fresh,
    hub_config,
    unit_client,
    unit_config,
    wait_until,
)
from tests.pg import pg_url  # noqa: F401

CERTS = Path(__file__).resolve().parents[1] / "certs-example"
OFFICE = "11445300MB0000008J"
SUPERVISION = {
    "scan_interval_seconds": 3600,  # tests scan explicitly
    "hub_outage_after_minutes": 150,
    "non_delivery_after_hours": 4,
    "unit_offline_after_minutes": 60,
}
POLICE_SEAL = DocumentSigner.for_unit(CERTS / "units" / POLICE)
BANK_SEAL = DocumentSigner.for_unit(CERTS / "units" / BANK)


def at(y: int, m: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, m, d, h, mi, tzinfo=CHINA_TZ)


# --- the network ------------------------------------------------------------------------------------


class Network:
    """Hubs sharing one clock, started on demand and all stopped at the end of the test."""

    def __init__(self, mosquitto, tmp_path: Path):
        self.mosquitto = mosquitto
        self.tmp_path = tmp_path
        self.clock = SupervisionClock()
        self.hubs: list[Hub] = []

    def config(self, **overrides):
        supervision = {**SUPERVISION, **overrides.pop("supervision", {})}
        return hub_config(
            HUB,
            port=self.mosquitto.port,
            var=self.tmp_path / "hub",
            workers=0,
            delivery={"ack_timeout_seconds": 5},
            supervision=supervision,
            **overrides,
        )

    def hub(self, config=None, *, start: bool = True, **overrides) -> Hub:
        h = Hub(
            config or self.config(**overrides),
            supervisor_factory=lambda hub: DeadlineSupervisor(hub, clock=self.clock),
        )
        if start:
            h.start()
            self.hubs.append(h)
        return h

    def stop(self, hub: Hub) -> None:
        self.hubs.remove(hub)
        hub.stop()

    def close(self) -> None:
        for h in reversed(self.hubs):
            h.stop()


@pytest.fixture
def net(mosquitto, tmp_path):
    n = Network(mosquitto, tmp_path)
    yield n
    n.close()


def _unit(mosquitto, tmp_path, code):
    recorder = Recorder()
    client = unit_client(
        unit_config(code, port=mosquitto.port, var=tmp_path / "units", resend_after_seconds=5), recorder
    )
    client.recorder = recorder
    return client


@pytest.fixture
def court(mosquitto, tmp_path):
    recorder = Recorder()
    client = CourtClient(
        unit_config(COURT, port=mosquitto.port, var=tmp_path / "units", resend_after_seconds=5),
        handler=recorder,
    )
    client.recorder = recorder
    with client:
        yield client


def _started(mosquitto, tmp_path, code):
    client = _unit(mosquitto, tmp_path, code)
    client.start()
    yield client
    client.stop()


@pytest.fixture
def police(mosquitto, tmp_path):
    yield from _started(mosquitto, tmp_path, POLICE)


@pytest.fixture
def bank(mosquitto, tmp_path):
    yield from _started(mosquitto, tmp_path, BANK)


@pytest.fixture
def office(mosquitto, tmp_path):
    yield from _started(mosquitto, tmp_path, OFFICE)


# --- helpers -----------------------------------------------------------------------------------------


def police_query(**header):
    return fresh("QueryNotice-PublicSecurity", deadline=None, **header)


def publish(court, document) -> str:
    answer = court.publish(document, timeout=30)
    assert answer.accepted, answer.errors
    return str(document.header.document_id)


def deadline(hub: Hub, document_id: str):
    with hub.ledger.transaction() as tx:
        return tx.get_deadline(document_id)


def issued(hub: Hub, doc_type: str) -> list:
    """Documents of ``doc_type`` the hub(s) of this ledger issued: (id, recipient, in_reply_to, client)."""
    with hub.ledger.engine.connect() as conn:
        docs = conn.execute(
            select(documents.c.document_id, documents.c.recipient, documents.c.in_reply_to).where(
                documents.c.doc_type == doc_type, documents.c.origin == "hub"
            )
        ).all()
        clients = dict(
            conn.execute(select(audit.c.document_id, audit.c.client).where(audit.c.action == "issued")).all()
        )
    return [(d.document_id, d.recipient, d.in_reply_to, clients.get(d.document_id)) for d in docs]


def audit_entries(hub: Hub, action: str, document_id: str) -> list:
    return [e for e in hub.ledger.story(document_id) if e.action == action]


def regarding(recorder: Recorder, doc_type: str) -> list[str]:
    """The ``Regarding`` of every notice of ``doc_type`` a unit received (verified, sealed by the hub)."""
    found = []
    for received in recorder.of_type(doc_type):
        assert received.sender == HUB
        found.append(str(received.document().body.regarding))
    return found


def close_to(a: datetime, b: datetime, seconds: float = 60) -> bool:
    return abs((a - b).total_seconds()) <= seconds


def police_receipt(notice_id: str) -> bytes:
    return POLICE_SEAL.sign(fresh("ExecutionReceipt-PublicSecurity", in_reply_to=notice_id, recipient=COURT))


# --- the calendar -------------------------------------------------------------------------------------


def test_deadlines_land_on_working_days_across_spring_festival_and_national_day(net, court):
    """Rows the hub wrote for queries served just before the 2026 breaks (chinese_calendar 2026:
    Spring Festival off 2.15–2.23 with make-up Saturdays 2.14 and 2.28; National Day off 10.1–10.7
    with make-up Sunday 9.20 and Saturday 10.10)."""
    net.clock.set(at(2026, 2, 13, 10))  # Friday before the Spring Festival
    hub = net.hub()
    spring = publish(court, police_query())
    planning = fresh("QueryNotice-NaturalResources", deadline=None)
    only_planning = [q for q in planning.body.queries if q.kind == QueryKind.PLANNING_APPROVALS]
    planning = planning.model_copy(
        update={"body": planning.body.model_copy(update={"queries": only_planning})}
    )
    planning_id = publish(court, planning)
    bank_id = publish(court, fresh())  # bank freezes: at once, max 24 hours, holidays or not

    net.clock.set(at(2026, 2, 12, 10))  # Thursday
    thursday = publish(court, police_query())
    net.clock.set(at(2026, 9, 18, 10))  # Friday before the make-up Sunday 9.20
    september = publish(court, police_query())
    net.clock.set(at(2026, 9, 30, 10))  # Wednesday before National Day
    national = publish(court, police_query())

    # 3 working days (002 四.7(1)): 2.14 (make-up Saturday), then 2.24 and 2.25 after the break
    row = deadline(hub, spring)
    assert close_to(row.served_at, at(2026, 2, 13, 10))
    assert row.due_at == row.original_due_at == at(2026, 2, 26)  # 24:00 of 2.25
    assert row.remind_at == at(2026, 2, 25, 9)  # one office day (8 working hours) before
    assert (row.court, row.unit, row.unit_kind, row.state) == (COURT, POLICE, "PublicSecurity", "open")
    assert "002 四.7(1)" in row.rule and row.case_number
    assert deadline(hub, thursday).due_at == at(2026, 2, 25)  # 2.13, 2.14, 2.24
    # 15 working days (002 四.13): 2.14, 2.24–2.27, 2.28 (make-up Saturday), 3.2–3.6, 3.9–3.12
    row = deadline(hub, planning_id)
    assert row.due_at == at(2026, 3, 13) and "002 四.13" in row.rule and row.unit_kind == "NaturalResources"
    row = deadline(hub, bank_id)
    assert close_to(row.due_at, at(2026, 2, 14, 10)) and "at once, max 24 hours" in row.rule
    # 9.20 is a working Sunday, 9.19 a Saturday off
    assert deadline(hub, september).due_at == at(2026, 9, 23)  # 9.20, 9.21, 9.22
    # 10.1–10.7 off; 10.8, 10.9 and the make-up Saturday 10.10
    row = deadline(hub, national)
    assert row.due_at == at(2026, 10, 11) and row.remind_at == at(2026, 10, 10, 9)


def test_unknown_calendar_year_gives_a_provisional_deadline_and_is_fixed_when_the_year_is_added(
    net, court, tmp_path, caplog
):
    """CAL_YEAR_UNKNOWN: the document is accepted and delivered as always; its deadline is counted
    Monday to Friday, marked provisional, logged as an error — and recomputed once the override
    file gets the year (re-read while the hub runs)."""
    holidays = tmp_path / "holidays.yaml"
    holidays.write_text("# no 2027 yet\n", encoding="utf-8")
    net.clock.set(at(2026, 12, 30, 10))  # Wednesday; chinese_calendar 1.11 ends with 2026
    hub = net.hub(supervision={"holidays": str(holidays)})
    with caplog.at_level(logging.ERROR, logger="liandong.hub.supervision"):
        query = publish(court, police_query())
    row = deadline(hub, query)
    # 12.31, then 2027-01-01 (a Friday, assumed working) and 01-04
    assert row.due_at == at(2027, 1, 5) and row.rule.startswith("PROVISIONAL (CAL_YEAR_UNKNOWN")
    errors = [r for r in caplog.records if r.getMessage() == "deadline.calendar_unknown"]
    assert errors and errors[0].fields["code"] == "CAL_YEAR_UNKNOWN"
    assert [e.detail["code"] for e in audit_entries(hub, "deadline.provisional", query)] == [
        "CAL_YEAR_UNKNOWN"
    ]
    with hub.ledger.transaction() as tx:
        assert tx.delivery_of(query, POLICE) is not None  # not lost: queued for the police

    # TEST DATA, not the official 2027 arrangement: a New Year's Day off is enough to show the fix.
    holidays.write_text('2027:\n  source: "test data"\n  holidays: [2027-01-01]\n', encoding="utf-8")
    hub.supervisor.scan()
    row = deadline(hub, query)
    assert row.due_at == row.original_due_at == at(2027, 1, 6)  # 12.31, 01-04, 01-05
    assert "PROVISIONAL" not in row.rule and row.remind_at == at(2027, 1, 5, 9)
    assert audit_entries(hub, "deadline.recomputed", query)


# --- reminders and escalations -----------------------------------------------------------------------------


def test_reminder_before_and_escalation_after_the_deadline_once_and_not_when_answered(
    net, court, police, office, monkeypatch
):
    net.clock.set(at(2026, 3, 2, 10))  # Monday: 3 working days end at 24:00 on Thursday 3.5
    hub = net.hub()
    answered, silent, late = (publish(court, police_query()) for _ in range(3))
    police.recorder.wait_for(
        lambda r: all(r.counts[i] == 1 for i in (answered, silent, late)), 30, "the queries"
    )
    assert deadline(hub, silent).remind_at == at(2026, 3, 5, 9)
    assert police.wait_answer(police.send(police_receipt(answered)), 30).doc_type == "ServiceReceipt"
    row = deadline(hub, answered)
    assert row.state == "answered" and close_to(row.answered_at, at(2026, 3, 2, 10))

    net.clock.set(at(2026, 3, 4, 12))
    hub.supervisor.scan()
    assert issued(hub, "Reminder") == []

    # a crash between claim and commit: the claim is rolled back with the transaction...
    net.clock.set(at(2026, 3, 5, 10))

    def crash(*args, **kw):
        raise RuntimeError("simulated crash before commit")

    monkeypatch.setattr(deadlines_mod, "record_issued", crash)
    hub.supervisor.scan()
    assert deadline(hub, silent).reminded_at is None and issued(hub, "Reminder") == []
    monkeypatch.undo()
    # ...so the next scan sends it; scanning again sends nothing more
    hub.supervisor.scan()
    hub.supervisor.scan()
    police.recorder.wait_for(
        lambda r: sorted(regarding(r, "Reminder")) == sorted([silent, late]), 30, "two reminders"
    )
    reminder = police.recorder.of_type("Reminder")[0].document().body
    assert reminder.unit == POLICE and reminder.due_at == at(2026, 3, 6)
    assert close_to(deadline(hub, silent).reminded_at, at(2026, 3, 5, 10))

    assert police.wait_answer(police.send(police_receipt(late)), 30).doc_type == "ServiceReceipt"
    net.clock.set(at(2026, 3, 6, 1))
    hub.supervisor.scan()
    hub.supervisor.scan()
    office.recorder.wait_for(
        lambda r: regarding(r, "Escalation") == [silent], 30, "the escalation at the office"
    )
    court.recorder.wait_for(
        lambda r: regarding(r, "Escalation") == [silent], 30, "the escalation at the court"
    )
    escalation = court.recorder.of_type("Escalation")[0].document().body
    assert escalation.unit == POLICE and escalation.due_at == escalation.overdue_since == at(2026, 3, 6)

    hub.supervisor.scan()
    assert sorted(r[2] for r in issued(hub, "Reminder")) == sorted([silent, late])
    assert sorted((r[1], r[2]) for r in issued(hub, "Escalation")) == sorted(
        [(OFFICE, silent), (COURT, silent)]
    )
    assert deadline(hub, late).state == "answered" and deadline(hub, late).escalated_at is None
    assert deadline(hub, answered).reminded_at is None and deadline(hub, answered).escalated_at is None
    assert max(police.recorder.counts.values()) == 1 and max(office.recorder.counts.values()) == 1


def test_a_hub_restart_between_document_and_deadline_still_reminds_and_escalates_once(
    net, court, police, office
):
    net.clock.set(at(2026, 3, 2, 10))
    hub = net.hub()
    query = publish(court, police_query())
    police.recorder.wait_for(lambda r: r.counts[query] == 1, 30, "the query")
    net.stop(hub)

    net.clock.set(at(2026, 3, 5, 10))  # down across the reminder time
    hub = net.hub()  # its first scan runs at start
    police.recorder.wait_for(
        lambda r: regarding(r, "Reminder") == [query], 30, "the reminder after the restart"
    )
    net.stop(hub)

    net.clock.set(at(2026, 3, 6, 1))  # and across the deadline
    hub = net.hub()
    office.recorder.wait_for(
        lambda r: regarding(r, "Escalation") == [query], 30, "the escalation at the office"
    )
    court.recorder.wait_for(
        lambda r: regarding(r, "Escalation") == [query], 30, "the escalation at the court"
    )
    hub.supervisor.scan()
    assert len(issued(hub, "Reminder")) == 1 and len(issued(hub, "Escalation")) == 2

    # each restart came after an outage longer than the threshold: the office was told, once each
    office.recorder.wait_for(lambda r: len(r.of_type("AnomalyNotice")) == 2, 30, "two outage notices")
    notices = [r.document().body for r in office.recorder.of_type("AnomalyNotice")]
    assert [n.kind.value for n in notices] == ["HubRestarted", "HubRestarted"]
    assert close_to(notices[0].since, at(2026, 3, 2, 10)) and close_to(notices[1].since, at(2026, 3, 5, 10))

    net.stop(hub)  # a quick restart is no outage
    hub = net.hub()
    assert len(issued(hub, "AnomalyNotice")) == 2


def test_two_hubs_on_one_postgresql_ledger_send_each_reminder_once(pg_url, net, court, police, office):  # noqa: F811
    """Two full hubs (instances a and b of the registry, each with its own TLS identity, in one
    shared group: docs/deployment.md, "Several hubs"), their scans racing; each publishes the
    notices it recorded."""
    url, schema = pg_url
    net.clock.set(at(2026, 3, 2, 10))
    first, second = (
        net.hub(
            ledger_url=url,
            ledger_schema=schema,
            supervision={"scan_batch": 2},
            instance=name,
            broker={"shared_group": "hubs"},
        )
        for name in ("a", "b")
    )
    try:
        queries = [publish(court, police_query()) for _ in range(8)]
        police.recorder.wait_for(lambda r: all(r.counts[q] == 1 for q in queries), 30, "the queries")

        def race() -> None:
            threads = [
                threading.Thread(target=lambda h=h: [h.supervisor.scan() for _ in range(3)])
                for h in (first, second) * 2
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join(60)

        net.clock.set(at(2026, 3, 5, 10))
        race()
        police.recorder.wait_for(
            lambda r: sorted(regarding(r, "Reminder")) == sorted(queries), 30, "eight reminders"
        )
        net.clock.set(at(2026, 3, 6, 1))
        race()
        office.recorder.wait_for(
            lambda r: sorted(regarding(r, "Escalation")) == sorted(queries), 30, "escalations"
        )
        court.recorder.wait_for(
            lambda r: sorted(regarding(r, "Escalation")) == sorted(queries), 30, "escalations"
        )

        reminders = issued(first, "Reminder")
        assert sorted(r[2] for r in reminders) == sorted(queries)  # exactly one each, in the ledger
        assert len(issued(first, "Escalation")) == 16
        assert {r[3] for r in reminders} <= {f"{HUB}-a", f"{HUB}-b"}  # the audit names the instance
        assert max(police.recorder.counts.values()) == 1
        assert max(office.recorder.counts.values()) == 1
        assert first.ledger.verify().ok
    finally:  # before the schema is dropped
        net.stop(second)
        net.stop(first)


# --- extensions and review suggestions ----------------------------------------------------------------------


def test_an_extension_with_a_reason_moves_the_deadline_and_a_review_suggestion_does_not_stop_it(
    net, court, police, office
):
    net.clock.set(at(2026, 3, 2, 10))
    hub = net.hub()
    query = publish(court, police_query())
    police.recorder.wait_for(lambda r: r.counts[query] == 1, 30, "the query")

    review = fresh("ReviewSuggestion", sender=POLICE, recipient=COURT, in_reply_to=query)
    assert police.wait_answer(police.send(POLICE_SEAL.sign(review)), 30).doc_type == "ServiceReceipt"
    row = deadline(hub, query)
    assert (row.review_suggestions, row.state, row.due_at) == (1, "open", at(2026, 3, 6))

    offset = net.clock.now() - datetime.now(CHINA_TZ)
    wanted = at(2026, 3, 10, 17, 30)

    def extension(reason, proposed):
        doc = fresh("ExtensionNotice", sender=POLICE, recipient=COURT, in_reply_to=query)
        body = doc.body.model_copy(update={"reason": reason, "proposed_deadline": proposed - offset})
        doc = doc.model_copy(update={"body": body})
        return str(doc.header.document_id), police.wait_answer(police.send(POLICE_SEAL.sign(doc)), 30)

    # no reason: the hub refuses the notice itself (RULE_EXTENSION_REASON), the clock does not move
    _, answer = extension(None, wanted)
    assert answer.doc_type == "RejectionNotice" and "RULE_EXTENSION_REASON" in answer.root.xpath(
        "string(//*[local-name()='Code'])"
    )
    row = deadline(hub, query)
    assert (row.due_at, row.extensions) == (at(2026, 3, 6), 0)
    # a reason, but beyond what the policy allows anyone to state (30 working days): counted, not moved
    too_long, answer = extension("另需调取外省档案。", at(2026, 6, 30, 17))
    assert answer.doc_type == "ServiceReceipt"
    row = deadline(hub, query)
    assert (row.due_at, row.extensions) == (at(2026, 3, 6), 1)
    reason = "户籍档案需调取原始纸质底册，须报经上级审批，无法在三个工作日内反馈。"
    with_reason, answer = extension(reason, wanted)
    assert answer.doc_type == "ServiceReceipt"
    row = deadline(hub, query)
    assert close_to(row.due_at, wanted, 1) and row.original_due_at == at(2026, 3, 6) and row.extensions == 2
    outcomes = {e.detail["extension"]: e.detail for e in audit_entries(hub, "deadline.extension", query)}
    assert outcomes[too_long]["outcome"] == "refused_beyond_maximum"
    recorded = outcomes[with_reason]
    assert recorded["outcome"] == "moved" and recorded["reason_recorded"]
    assert recorded["reason_sha256"] == hashlib.sha256(reason.encode()).hexdigest()
    assert row.remind_at == at(2026, 3, 10, 9) and row.reminded_at is None

    net.clock.set(at(2026, 3, 6, 1))  # the original deadline has passed: nothing, it was extended
    hub.supervisor.scan()
    assert issued(hub, "Escalation") == []
    net.clock.set(at(2026, 3, 10, 18))  # the extended one too: the review suggestion stopped nothing
    hub.supervisor.scan()
    office.recorder.wait_for(lambda r: regarding(r, "Escalation") == [query], 30, "the escalation")
    assert close_to(office.recorder.of_type("Escalation")[0].document().body.due_at, wanted, 1)


# --- non-delivery and liveness --------------------------------------------------------------------------------


def test_non_delivery_and_unit_offline_notices(net, court, office, mosquitto, tmp_path):
    net.clock.set(at(2026, 3, 2, 10))
    hub = net.hub()
    court2 = _unit(mosquitto, tmp_path, COURT2)  # a court that connected to publish, then left
    court2.start()
    court2.stop()
    police = _unit(mosquitto, tmp_path, POLICE)
    police.start()
    police.stop()  # its retained status now says offline
    wait_until(lambda: _state(hub, "unit.offline:" + POLICE) is not None, 30, "the hub to note the outage")
    # Courts are exempt (supervision.offline_exempt_kinds): connecting only to publish is normal.
    assert _state(hub, "unit.offline:" + COURT2) is None
    query = publish(court, police_query())

    net.clock.set(at(2026, 3, 2, 10, 50))  # under both thresholds (60 min offline, 4 h unpicked)
    hub.supervisor.scan()
    assert issued(hub, "AnomalyNotice") == [] and issued(hub, "NonDeliveryNotice") == []

    net.clock.set(at(2026, 3, 2, 14, 30))
    hub.supervisor.scan()
    hub.supervisor.scan()
    court.recorder.wait_for(
        lambda r: regarding(r, "NonDeliveryNotice") == [query], 30, "the non-delivery notice"
    )
    notice = court.recorder.of_type("NonDeliveryNotice")[0].document().body
    assert notice.undelivered_to == POLICE and close_to(notice.first_sent_at, at(2026, 3, 2, 10))
    office.recorder.wait_for(lambda r: len(r.of_type("AnomalyNotice")) == 1, 30, "the offline notice")
    anomaly = office.recorder.of_type("AnomalyNotice")[0].document().body
    assert (anomaly.kind.value, anomaly.unit) == ("UnitOffline", POLICE)
    assert close_to(anomaly.since, at(2026, 3, 2, 10)) and close_to(
        anomaly.detected_at, at(2026, 3, 2, 14, 30)
    )

    police = _unit(mosquitto, tmp_path, POLICE)  # back: it picks the query up, the office hears of it
    police.start()
    try:
        police.recorder.wait_for(lambda r: r.counts[query] == 1, 30, "the query after the outage")
        wait_until(lambda: deadline(hub, query).picked_up_at is not None, 30, "the pickup to be recorded")
        office.recorder.wait_for(lambda r: len(r.of_type("AnomalyNotice")) == 2, 30, "the back-online notice")
        back = office.recorder.of_type("AnomalyNotice")[1].document().body
        assert (back.kind.value, back.unit) == ("UnitBackOnline", POLICE)
        hub.supervisor.scan()
        kinds = sorted(r[1] for r in issued(hub, "AnomalyNotice"))
        assert kinds == [OFFICE, OFFICE] and len(issued(hub, "NonDeliveryNotice")) == 1
    finally:
        police.stop()


def _state(hub: Hub, key: str):
    with hub.ledger.transaction() as tx:
        return tx.get_state(key)


# --- case completed -------------------------------------------------------------------------------------------


def test_case_completed_lists_exactly_the_measures_not_released(net, court, bank, office):
    case = "（2026）粤53执777号"
    net.clock.set(at(2026, 3, 2, 10))
    hub = net.hub()
    # bank: M1 freeze, M2 rotating freeze, M3 continued freeze, M4/M5 deductions (final)
    bank_notice = fresh("AssistanceNotice", case_number=case)
    bank_id = publish(court, bank_notice)
    # police: S1 exit restriction, S2 vehicle seizure, S3 vehicle transfer (final), S4/S5 searches
    police_notice = fresh("AssistanceNotice-PublicSecurity", case_number=case, deadline=None)
    police_id = publish(court, police_notice)

    bank_release = fresh("ReleaseNotice", case_number=case)
    template = bank_release.body.releases[0]
    releases = [
        template.model_copy(
            update={
                "release_id": "R1",
                "releases": MeasureRef(document_id=bank_id, measure_id="M1"),
                "amount": None,
            }
        ),
        # 100000.00 of the 600000.00 rotating freeze: the rest stays frozen
        template.model_copy(
            update={"release_id": "R2", "releases": MeasureRef(document_id=bank_id, measure_id="M2")}
        ),
    ]
    publish(
        court,
        bank_release.model_copy(update={"body": bank_release.body.model_copy(update={"releases": releases})}),
    )
    police_release = fresh("ReleaseNotice", case_number=case, recipient=POLICE)
    lift = template.model_copy(
        update={
            "release_id": "R1",
            "kind": ReleaseKind.EXIT_RESTRICTION_LIFT,
            "releases": MeasureRef(document_id=police_id, measure_id="S1"),
            "subject": police_notice.body.measures[0].subject,
            "amount": None,
        }
    )
    body = police_release.body.model_copy(update={"releases": [lift], "ruling": None})
    publish(court, police_release.model_copy(update={"body": body}))

    # the bank answers: the continued freeze M3 was not executed, so nothing of it is in place
    receipt = fresh("ExecutionReceipt", in_reply_to=bank_id, case_number=case)
    results = [
        r.model_copy(
            update={
                "status": ResultStatus.NOT_EXECUTED,
                "actual_amount": None,
                "period": None,
                "effective_at": None,
                "reason": "该账户已销户，无法续冻。",
            }
        )
        if r.measure_id == "M3"
        else r
        for r in receipt.body.results
    ]
    receipt = receipt.model_copy(update={"body": receipt.body.model_copy(update={"results": results})})
    assert bank.wait_answer(bank.send(BANK_SEAL.sign(receipt)), 30).doc_type == "ServiceReceipt"

    # 结案通报 to each unit that acted (004 art. 35)
    for unit in (BANK, POLICE):
        publish(court, fresh("CaseCompletedNotice", case_number=case, recipient=unit))

    court.recorder.wait_for(
        lambda r: r.of_type("OutstandingMeasuresNotice"), 30, "the outstanding measures at the court"
    )
    office.recorder.wait_for(
        lambda r: r.of_type("OutstandingMeasuresNotice"), 30, "the outstanding measures at the office"
    )
    wait_until(lambda: not _pending_completions(hub), 30, "both completions to be processed")
    hub.supervisor.scan()
    for recorder in (court.recorder, office.recorder):
        [notice] = recorder.of_type("OutstandingMeasuresNotice")  # once, not once per completion notice
        assert notice.case_number == case
        listed = {
            (str(m.document_id), m.measure_id, m.unit, m.measure_type)
            for m in notice.document().body.measures
        }
        assert listed == {
            (bank_id, "M2", BANK, "BankRotatingFreeze"),
            (police_id, "S2", POLICE, "VehicleSeize"),
            (police_id, "S4", POLICE, "LocatePerson"),
            (police_id, "S5", POLICE, "LocateVehicle"),
        }
    assert deadline(hub, bank_id).state == "answered"
    assert deadline(hub, police_id).state == "closed"  # the case is completed: no reminder, no escalation


def _pending_completions(hub: Hub) -> list:
    with hub.ledger.transaction() as tx:
        return tx.states("case.completed:")


# --- small pieces, no network -----------------------------------------------------------------------------


def test_the_clock_maps_real_instants_and_moves():
    clock = SupervisionClock(start=at(2026, 2, 13, 10))
    real = datetime.now(CHINA_TZ)
    assert close_to(clock.at(real), at(2026, 2, 13, 10), 5)
    clock.advance(timedelta(days=1))
    assert close_to(clock.now(), at(2026, 2, 14, 10), 5)
    fast = SupervisionClock(speed=60, start=at(2026, 1, 5, 9))
    assert close_to(fast.at(datetime.now(CHINA_TZ) + timedelta(minutes=1)), at(2026, 1, 5, 10), 60)
    with pytest.raises(ValueError):
        clock.at(datetime(2026, 1, 1))


def test_reminder_time_for_day_periods_and_at_once_periods():
    from broker.deadlines import WorkingCalendar
    from broker.hub.reminder_times import reminder_time

    cal = WorkingCalendar.default()
    remind = lambda served, due: reminder_time(served, due, cal, before_working_hours=8, after_fraction=0.5)  # noqa: E731
    # 3 working days: the morning of the last day
    assert remind(at(2026, 3, 2, 10), at(2026, 3, 6)) == at(2026, 3, 5, 9)
    # across the Spring Festival, the last office day before the deadline is after the break
    assert remind(at(2026, 2, 13, 10), at(2026, 2, 26)) == at(2026, 2, 25, 9)
    # at once, max 24 hours, served in the evening: the next office morning, not at once
    assert remind(at(2026, 3, 2, 20), at(2026, 3, 3, 20)) == at(2026, 3, 3, 9)
    # ... served in the morning: not before half the period has run
    assert remind(at(2026, 3, 2, 10), at(2026, 3, 3, 10)) == at(2026, 3, 2, 22)


def test_a_continued_freeze_is_released_with_the_freeze_it_continues_and_partial_releases_add_up():
    from broker.documents import codec
    from broker.documents.common import Money
    from broker.hub.ledger import DocumentRecord
    from broker.hub.ledger_documents import outstanding_measures

    def record(document, **kw) -> DocumentRecord:
        now = datetime.now(CHINA_TZ)
        h = document.header
        return DocumentRecord(
            document_id=str(h.document_id), doc_type=h.document_type.value, sender=h.sender, recipient=h.recipient,
            issued_at=now, received_at=now, raw=codec.to_bytes(document), origin="unit", client_unit=h.sender,
            state="accepted", **kw,
        )  # fmt: skip

    notice = fresh("AssistanceNotice")  # M3 continues the freeze F1 of an earlier notice
    notice_id = str(notice.header.document_id)
    continued = notice.body.measures[2].continues
    release = fresh("ReleaseNotice")
    template = release.body.releases[0]
    items = [
        template.model_copy(update={"release_id": "R1", "releases": continued, "amount": None}),
        # two partial releases of the 500000.00 freeze M1 that add up to all of it
        template.model_copy(update={"release_id": "R2", "releases": MeasureRef(document_id=notice_id, measure_id="M1"), "amount": Money.cny("300000.00")}),
        template.model_copy(update={"release_id": "R3", "releases": MeasureRef(document_id=notice_id, measure_id="M1"), "amount": Money.cny("200000.00")}),
        # one that does not: 100000.00 of the 600000.00 rotating freeze M2
        template.model_copy(update={"release_id": "R4", "releases": MeasureRef(document_id=notice_id, measure_id="M2")}),
    ]  # fmt: skip
    release = release.model_copy(update={"body": release.body.model_copy(update={"releases": items})})
    left = outstanding_measures([record(notice), record(release, case_number="x", in_reply_to=None)])
    assert [(m.measure_id, m.measure_type) for m in left] == [("M2", "BankRotatingFreeze")]
    # and a measure that later lapsed (a rotating freeze or seizure whose asset was transferred
    # by the first court, reported with a measure-status notice) is no longer outstanding
    lapsed = fresh("MeasureStatusNotice")
    lapsed = lapsed.model_copy(
        update={
            "body": lapsed.body.model_copy(
                update={
                    "measure": MeasureRef(document_id=notice_id, measure_id="M2"),
                    "status": "NotExecuted",
                    "reason": "首先查封法院已办理过户，轮候查封失效",
                }
            )
        }
    )
    left = outstanding_measures([record(notice), record(release, in_reply_to=None), record(lapsed)])
    assert left == []
