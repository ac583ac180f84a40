"""The demo's script: two courts (and the superior court of one) enforce their cases through the network, every document type
on the way. Each step publishes real signed documents and waits for the real answers.

The documents are the examples of ``examples/unsigned/`` with new ids and the current time
(:func:`broker.restamp.restamp`), changed where the story needs it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Callable
from uuid import UUID

from rich.console import Console

from broker.demo.network import (
    BANK,
    COURT_A,
    COURT_B,
    COURT_C,
    CREDIT,
    HOUSING_FUND,
    MARKET,
    POLICE,
    REGISTRY,
    LocalNetwork,
    Party,
)
from broker.documents.bodies import (
    AssistanceNotice,
    EntrustmentFeedback,
    PunishmentEntry,
    PunishmentReport,
    QueryNotice,
    ReleaseNotice,
)
from broker.documents.catalogue import RELEASABLE
from broker.documents.common import FundAccount, MeasureRef, Period, RulingRef
from broker.documents.document import Document, now
from broker.documents.measures import HousingFundFreeze, Release, ReleaseReason
from broker.documents.queries import Query, QueryKind
from broker.restamp import restamp
from broker.sandbox import ROOT
from broker.transport import topics
from broker.transport.unit import Received

EXAMPLES = ROOT / "examples" / "unsigned"
CASE_A = "（2026）粤53执123号"
CASE_B = "（2026）鄂1022执45号"
DESK_CASE = "（2026）粤53执130号"  # the freeze a clerk answers at the console's desk
RULING_B = RulingRef(ruling_number="（2026）鄂1022执45号之一")  # 公安县法院's ruling (003 bank rules 9)
WAIT = 30.0
_RELEASE_KIND = {measure: kind for kind, measures in RELEASABLE.items() for measure in measures}


def example(name: str, **header: Any) -> Document:
    return restamp(EXAMPLES / f"{name}.xml", **header)


def _body(document: Document, **fields: Any) -> Document:
    """``document`` with some fields of its body changed (the story links its own documents)."""
    return document.model_copy(update={"body": document.body.model_copy(update=fields)})


@dataclass
class Scenario:
    net: LocalNetwork
    console: Console
    notices: dict[str, Document] = field(default_factory=dict)
    steps: list[tuple[str, float]] = field(default_factory=list)

    @property
    def a(self) -> Party:
        return self.net.parties[COURT_A]

    @property
    def b(self) -> Party:
        return self.net.parties[COURT_B]

    # --- plumbing --------------------------------------------------------------------------

    def step(self, title: str, action: Callable[[], str | None]) -> None:
        started = time.monotonic()
        self.console.print(f"[bold]▶ {title}[/bold]")
        detail = action()
        elapsed = time.monotonic() - started
        self.steps.append((title, elapsed))
        self.console.print(f"  [green]✓[/green] {detail or 'done'}  [dim]({elapsed:.1f} s)[/dim]")

    def publish(self, court: Party, document: Document) -> str:
        """Seal, publish, and require the hub's service receipt; returns the document id."""
        assert court.court is not None
        answer = court.court.publish(document, timeout=WAIT)
        if not answer.accepted:
            raise AssertionError(f"{document.type} was rejected: {answer.errors}")
        return answer.document_id

    def receipt(self, court: Party, document_id: str) -> Document:
        return court.recorder.answer_to(document_id, "ExecutionReceipt", WAIT).document()

    def send_to(self, name: str, court: Party, recipient: str, **header: Any) -> tuple[str, Document]:
        document = example(name, sender=court.code, recipient=recipient, **header)
        document_id = self.publish(court, document)
        self.notices[document_id] = document
        return document_id, document

    @staticmethod
    def statuses(receipt: Document) -> str:
        results = getattr(receipt.body, "results", [])
        parts = []
        for r in results:
            item = getattr(r, "measure_id", None) or getattr(r, "query_id", None) or getattr(r, "release_id", None)
            parts.append(f"{item} {r.status.value}")
        return ", ".join(parts)

    # --- the story ----------------------------------------------------------------------------

    def run(self) -> None:
        self.step("法院查询被执行人财产 — the court queries banks, police and the registry", self.queries)
        self.step("执行依据与执行公务证 — ruling and officer credentials to the bank", self.basis)
        self.step("两院冻结同一账户 — two courts freeze one account (limit and rotating freezes, deduction)", self.freezes)
        self.step("查封不动产 — seizures at the registry, with a review suggestion", self.seizures)
        self.step("公安协助 — exit restriction, vehicle seizure, locating the debtor; a lead report", self.police)
        self.step("股权冻结并公示 — equity freeze with publicity", self.equity)
        self.step("住房公积金 — a query and a freeze at the housing fund centre, answered by curl through its gateway", self.housing_fund)
        self.step("失信被执行人名单 — listing, correction, a wrongful listing revoked, restriction order", self.listing)
        self.step("事项委托 — court-to-court entrustment and its feedback", self.entrustment)
        self.step("司法建议与惩戒反馈 — a judicial suggestion and a quarterly punishment report", self.suggestion)
        self.step("伪造文书 — a tampered document is rejected", self.forgery)
        self.step("解除冻结，轮候生效 — the first court's unfreeze lets the rotating freeze take effect", self.promotion)
        self.step("期限届满 — an offline unit: non-delivery, reminder, escalation, anomaly", self.deadline)
        self.step("结案与解除 — case completed: outstanding measures listed, then released", self.completion)
        self.step("人工办理台 — a branch without IT answers a freeze at the console's desk", self.desk)

    def queries(self) -> str:
        bank_id, _ = self.send_to("QueryNotice", self.a, BANK)
        police_id, _ = self.send_to("QueryNotice-PublicSecurity", self.a, POLICE)
        registry_id, _ = self.send_to("QueryNotice-NaturalResources", self.a, REGISTRY)
        bank = self.receipt(self.a, bank_id)
        police = self.receipt(self.a, police_id)
        extension = self.a.recorder.answer_to(registry_id, "ExtensionNotice", WAIT).document()
        registry = self.receipt(self.a, registry_id)
        return (
            f"bank: {self.statuses(bank)}; police: {self.statuses(police)}; registry asked for more time "
            f"(\u201c{extension.body.reason[:24]}…\u201d), then {self.statuses(registry)}"
        )

    def basis(self) -> str:
        self.send_to("EnforcementRuling", self.a, BANK)
        self.send_to("OfficerCredentials", self.a, BANK)
        return "served (the service receipt's time is the legal time of service)"

    def freezes(self) -> str:
        # 公安县法院 freezes first (one measure of the example notice), 云浮中院 second.
        officers = example("ItemEntrustment").header.officers  # 公安县法院's officers
        first = example("AssistanceNotice", sender=COURT_B, recipient=BANK, case_number=CASE_B, officers=officers)
        first = first.model_copy(
            update={"body": first.body.model_copy(update={"measures": first.body.measures[:1], "ruling": RULING_B})}
        )
        b_id = self.publish(self.b, first)
        self.notices[b_id] = first
        b_receipt = self.receipt(self.b, b_id)
        a_id, _ = self.send_to("AssistanceNotice", self.a, BANK)
        a_receipt = self.receipt(self.a, a_id)
        self.first_freeze = (b_id, first)
        self.bank_notice = a_id
        return f"公安县法院: {self.statuses(b_receipt)}; 云浮中院: {self.statuses(a_receipt)}"

    def seizures(self) -> str:
        document = example("AssistanceNotice-NaturalResources")
        document = document.model_copy(update={"body": document.body.model_copy(update={"ruling": None})})
        document_id = self.publish(self.a, document)
        self.notices[document_id] = document
        review = self.a.recorder.answer_to(document_id, "ReviewSuggestion", WAIT).document()
        receipt = self.receipt(self.a, document_id)
        return f"review suggestion (measure still carried out: {review.body.measure_carried_out}); {self.statuses(receipt)}"

    def police(self) -> str:
        document_id, notice = self.send_to("AssistanceNotice-PublicSecurity", self.a, POLICE)
        receipt = self.receipt(self.a, document_id)
        locate = next(m for m in notice.body.measures if m.xml_tag == "LocatePerson")
        self.net.adapters["police"].adapter.report_sighting(
            sighting_id=f"demo-{document_id[:8]}",
            location="云浮市云城区汽车客运站",
            seen_at=now(),
            id_number=locate.subject.id_number,
        )
        lead = self.a.recorder.wait_for(
            lambda r: next((x for x in r.of_type("LeadReport") if x.in_reply_to == document_id), None), WAIT, "a lead report"
        )
        return f"{self.statuses(receipt)}; lead report {lead.document_id[:8]} from public security"

    def equity(self) -> str:
        document_id, _ = self.send_to("AssistanceNotice-MarketRegulation", self.a, MARKET)
        receipt = self.receipt(self.a, document_id)
        published = [r.publicity_date for r in receipt.body.results if getattr(r, "publicity_date", None)]
        return f"{self.statuses(receipt)}; publicised {published[0].isoformat() if published else '—'}"

    def housing_fund(self) -> str:
        """The centre has no Python: its shell script reads the gateway's inbox with curl and
        answers; the gateway seals the receipts (004 art. 29: housing fund queried, frozen)."""
        bank_notice = example("AssistanceNotice")
        subject = bank_notice.body.measures[0].subject  # 陈国强
        officers = bank_notice.header.officers
        query = Document.create(
            QueryNotice(queries=[Query(query_id="Q1", kind=QueryKind.HOUSING_FUND, subject=subject)]),
            sender=COURT_A,
            recipient=HOUSING_FUND,
            case_number=CASE_A,
            officers=officers,
        )
        query_id = self.publish(self.a, query)
        self.notices[query_id] = query
        found = self.receipt(self.a, query_id)
        record = found.body.results[0].records[0]
        today = now().date()
        freeze = Document.create(
            AssistanceNotice(
                ruling=bank_notice.body.ruling,
                measures=[
                    HousingFundFreeze(
                        measure_id="M1",
                        subject=subject,
                        account=FundAccount(account_number=record.account.account_number),
                        amount=record.balance,
                        period=Period(start=today, end=today + timedelta(days=364)),
                    )
                ],
            ),
            sender=COURT_A,
            recipient=HOUSING_FUND,
            case_number=CASE_A,
            officers=officers,
        )
        freeze_id = self.publish(self.a, freeze)
        self.notices[freeze_id] = freeze
        frozen = self.receipt(self.a, freeze_id)
        return (
            f"query: {self.statuses(found)} (balance {record.balance.value} {record.balance.currency}); "
            f"freeze: {self.statuses(frozen)} — both receipts built and sealed by the centre's gateway"
        )

    def listing(self) -> str:
        # The platform's example data already lists 陈国强 in this case; the court now lists his
        # company, which the consumption restriction order names too (art. 6: with its legal
        # representative).
        company = example("ConsumptionRestrictionOrder").body.subject
        listing = example("DishonestListing")
        listing = listing.model_copy(update={"body": listing.body.model_copy(update={"subject": company})})
        listing_id = self.publish(self.a, listing)
        entered = self.receipt(self.a, listing_id)
        correction = example("DishonestListingCorrection")
        correction = correction.model_copy(update={"body": correction.body.model_copy(update={"listing": UUID(listing_id)})})
        self.receipt(self.a, self.publish(self.a, correction))
        status_id, _ = self.send_to("QueryNotice-CreditPlatform", self.a, CREDIT)
        status = self.receipt(self.a, status_id)
        wrongful = example("DishonestListing", sender=COURT_B, case_number=CASE_B)
        wrong_id = self.publish(self.b, wrongful)
        self.receipt(self.b, wrong_id)
        revocation = example("DishonestListingRevocation")
        revocation = revocation.model_copy(update={"body": revocation.body.model_copy(update={"listing": UUID(wrong_id)})})
        revoked = self.receipt(self.b, self.publish(self.b, revocation))
        order_id, _ = self.send_to("ConsumptionRestrictionOrder", self.a, CREDIT)
        order = self.receipt(self.a, order_id)
        self.listing_id = listing_id
        return (
            f"listed: {self.statuses(entered)}; status query: {self.statuses(status)}; "
            f"revoked: {self.statuses(revoked)}; restriction order: {self.statuses(order)}"
        )

    def entrustment(self) -> str:
        def feedback(received: Received) -> None:
            if received.doc_type != "ItemEntrustment":
                return
            body = example("EntrustmentFeedback").body
            assert isinstance(body, EntrustmentFeedback)
            reply = Document.create(
                body,
                sender=COURT_A,
                recipient=received.sender,
                case_number=received.case_number,
                in_reply_to=UUID(received.document_id),
            )
            assert self.a.court is not None
            self.a.court.send(reply)

        self.a.recorder.also = feedback
        entrustment = example("ItemEntrustment")
        entrustment = entrustment.model_copy(
            update={"header": entrustment.header.model_copy(update={"deadline": entrustment.header.issued_at + timedelta(days=15)})}
        )
        entrustment_id = self.publish(self.b, entrustment)
        answer = self.b.recorder.answer_to(entrustment_id, "EntrustmentFeedback", WAIT).document()
        self.a.recorder.also = None
        # 003 事项委托 art. 13: rated back to 云浮中院, complained about to its superior court, explained there
        about = UUID(entrustment_id)
        rating = example("EntrustmentRating", in_reply_to=answer.header.document_id)
        rating_id = self.publish(self.b, _body(rating, entrustment=about))
        complaint_id = self.publish(self.b, _body(example("EntrustmentComplaint"), entrustment=about))
        explanation = _body(example("ComplaintExplanation"), complaint=UUID(complaint_id))
        explanation_id = self.publish(self.a, explanation)
        self.a.recorder.wait_for(lambda r: r.counts[rating_id], WAIT, "the rating at the entrusted court")
        high = self.net.parties[COURT_C].recorder
        high.wait_for(lambda r: r.counts[complaint_id] and r.counts[explanation_id], WAIT, "the complaint and the explanation")
        return (
            f"公安县法院 entrusted {len(entrustment.body.items)} item(s); 云浮中院 answered: {answer.body.outcome.value}; "
            "rated, complained about to 广东高院, explained"
        )

    def suggestion(self) -> str:
        suggestion_id, _ = self.send_to("JudicialSuggestion", self.a, self.net.registry.office)
        self.net.office.recorder.wait_for(lambda r: r.counts[suggestion_id], WAIT, "the judicial suggestion at the office")
        report = PunishmentReport(
            year=2026, quarter=4, entries=[PunishmentEntry(measure="限制融资信贷（备忘录措施）", count=3)]
        )
        self.net.adapters["bank"].runtime.send(report, recipient=COURT_A)
        self.a.recorder.wait_for(lambda r: r.of_type("PunishmentReport"), WAIT, "the punishment report")
        return "the office received the suggestion; the bank reported its quarter's punishments"

    def forgery(self) -> str:
        court = self.a.court
        assert court is not None
        sealed = court.seal(example("AssistanceNotice"))
        forged = sealed.replace(b'<ld:Amount Currency="CNY">', b'<ld:Amount Currency="CNY">9', 1)
        court.unit.client.publish(topics.outbox(COURT_A), forged, qos=1)
        rejection = self.a.recorder.wait_for(lambda r: r.of_type("RejectionNotice"), WAIT, "the rejection")[-1]
        codes = [e.code for e in rejection.document().body.errors]
        return f"rejected with {', '.join(codes)}; nothing reached the bank"

    def promotion(self) -> str:
        b_id, first = self.first_freeze
        measure = first.body.measures[0]
        release = Release(
            release_id="R1",
            kind=_RELEASE_KIND[measure.xml_tag],
            releases=MeasureRef(document_id=UUID(b_id), measure_id=measure.measure_id),
            subject=measure.subject,
            reason=ReleaseReason.PERFORMED,
        )
        notice = Document.create(
            ReleaseNotice(ruling=first.body.ruling, releases=[release]),
            sender=COURT_B,
            recipient=BANK,
            case_number=CASE_B,
            officers=first.header.officers,
        )
        released = self.receipt(self.b, self.publish(self.b, notice))
        status = self.a.recorder.wait_for(lambda r: r.of_type("MeasureStatusNotice"), WAIT, "the measure-status notice")
        took = status[-1].document().body
        return (
            f"公安县法院 released: {self.statuses(released)}; 云浮中院's freeze {took.measure.measure_id} "
            f"now {took.status.value}"
        )

    def deadline(self) -> str:
        hub = self.net.hub
        assert hub is not None
        self.net.stop_adapter("market")  # the market regulator goes offline
        query_id, _ = self.send_to("QueryNotice-MarketRegulation", self.a, MARKET)
        supervisor: Any = hub.supervisor
        with hub.ledger.transaction() as tx:
            row = tx.get_deadline(query_id)
        assert row is not None and row.remind_at is not None
        self.console.print(
            f"  [dim]deadline {row.due_at:%Y-%m-%d %H:%M} ({row.rule[:60]}…); the clock jumps ahead[/dim]"
        )
        supervisor.clock.set(row.remind_at + timedelta(hours=1))
        supervisor.request_scan()
        office = self.net.office.recorder
        office.wait_for(lambda r: r.of_type("AnomalyNotice"), WAIT, "an anomaly notice at the office")
        self.a.recorder.wait_for(lambda r: r.of_type("NonDeliveryNotice"), WAIT, "a non-delivery notice")
        supervisor.clock.set(row.due_at + timedelta(hours=1))
        supervisor.request_scan()
        office.wait_for(lambda r: r.of_type("Escalation"), WAIT, "the escalation at the office")
        self.a.recorder.wait_for(lambda r: r.of_type("Escalation"), WAIT, "the escalation at the court")
        self.net.start_adapter("market")  # back online: the backlog, the reminder among it
        answer = self.receipt(self.a, query_id)
        with hub.ledger.transaction() as tx:
            row = tx.get_deadline(query_id)
        late = row is not None and row.answered_at is not None and row.answered_at > row.due_at
        return f"reminder, non-delivery notice, anomaly notice and escalation sent; answered {'late' if late else 'in time'}: {self.statuses(answer)}"

    def completion(self) -> str:
        units = {self.notices[i].header.recipient for i in self.notices if self.notices[i].header.sender == COURT_A}
        for unit in sorted(units - {self.net.registry.office}):
            self.publish(self.a, example("CaseCompletedNotice", recipient=unit))
        office = self.net.office.recorder
        listed = office.wait_for(lambda r: r.of_type("OutstandingMeasuresNotice"), WAIT, "the outstanding measures")
        outstanding = listed[-1].document().body.measures
        released = 0
        for unit in sorted({m.unit for m in outstanding}):
            items = [m for m in outstanding if m.unit == unit]
            releases = [
                Release(
                    release_id=f"R{i}",
                    kind=_RELEASE_KIND[m.measure_type],
                    releases=MeasureRef(document_id=m.document_id, measure_id=m.measure_id),
                    subject=self._subject_of(str(m.document_id), m.measure_id),
                    reason=ReleaseReason.CASE_COMPLETED,
                )
                for i, m in enumerate(items, 1)
            ]
            first = self.notices[str(items[0].document_id)]
            notice = Document.create(
                ReleaseNotice(ruling=getattr(first.body, "ruling", None), releases=releases),
                sender=COURT_A,
                recipient=unit,
                case_number=CASE_A,
                officers=first.header.officers,
            )
            self.receipt(self.a, self.publish(self.a, notice))
            released += len(releases)
        deletion = example("DishonestListingDeletion")
        deletion = deletion.model_copy(update={"body": deletion.body.model_copy(update={"listing": UUID(self.listing_id)})})
        deleted = self.receipt(self.a, self.publish(self.a, deletion))
        return (
            f"{len(outstanding)} measure(s) still in place were listed to the court and the office; "
            f"{released} released; listing deleted: {self.statuses(deleted)}"
        )

    def desk(self) -> str:
        """The bank's adapter stops; from now on a clerk answers at the console (issue 13). The
        clerk's answer is scripted through HTTP as a browser sends it (login, CSRF, the form)."""
        from broker.demo.desk import DEMO_PASSWORD, Browser

        self.net.stop_adapter("bank")
        desk = self.net.start_desk(BANK)
        self.console.print(f"  console: [bold]{desk.base}/login[/bold] (running until the demo stops)", soft_wrap=True)
        self.console.print(
            f"  demo accounts (password {DEMO_PASSWORD}): clerk (bank clerk), reviewer (bank reviewer), "
            "office (linkage office supervisor), admin (administrator)",
            soft_wrap=True,
        )
        notice = example("AssistanceNotice", sender=COURT_A, recipient=BANK, case_number=DESK_CASE)
        notice = notice.model_copy(update={"body": notice.body.model_copy(update={"measures": notice.body.measures[:1]})})
        document_id = self.publish(self.a, notice)
        deadline = time.monotonic() + WAIT
        while desk.runtime.store.get_received(document_id) is None:
            if time.monotonic() > deadline:
                raise AssertionError("the freeze did not reach the bank's desk")
            time.sleep(0.1)
        browser = Browser(desk.base)
        if not browser.login("clerk", DEMO_PASSWORD).endswith(f"/u/{BANK}/inbox"):
            raise AssertionError("the clerk could not log in to the console")
        measure = notice.body.measures[0].measure_id
        receipt_id = browser.answer_limit_freeze(BANK, document_id, measure, "1200.00", "账户可用余额不足，已按可用余额限额冻结。")
        receipt = self.receipt(self.a, document_id)
        if str(receipt.header.document_id) != receipt_id:
            raise AssertionError("the court received another receipt than the desk sent")
        return f"the clerk's receipt {receipt_id[:8]}…, sealed by the bank: {self.statuses(receipt)}"

    def _subject_of(self, document_id: str, measure_id: str) -> Any:
        notice = self.notices[document_id]
        return next(m.subject for m in notice.body.measures if m.measure_id == measure_id)

