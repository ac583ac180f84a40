"""The adapter SDK (issue 4, "SDK"): dispatch, failures, exactly-once, the harness, discovery,
configuration, and the same guarantees over a real Mosquitto and hub."""

from __future__ import annotations

import collections
import logging
import os
import sqlite3
import subprocess
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from uuid import uuid4

import pytest
import yaml
from pydantic import BaseModel, ConfigDict
from typer.testing import CliRunner

from adapters.sdk import (
    Adapter,
    AdapterService,
    Context,
    ExecutionSettings,
    IdempotentLedger,
    NeedsMoreTime,
    PermanentError,
    TransientError,
    config_model,
    handles,
    load_adapter,
    load_adapter_config,
    on_document,
)
from adapters.sdk.safe_log import REDACTED, SafeLogger
from adapters.sdk.discovery import available
from adapters.sdk.testing import (
    EXAMPLE_COURT,
    EXAMPLE_COURT2,
    EXAMPLE_OFFICERS,
    EXAMPLE_RULING,
    Harness,
    assert_not_executed,
    assert_receipt,
)
from broker.checking import DocumentChecker
from broker.documents.bodies import (
    AssistanceNotice,
    CaseCompletedNotice,
    CaseOutcome,
    LeadReport,
    MeasureStatusNotice,
    PersonSighting,
    QueryNotice,
    ReleaseNotice,
)
from broker.documents.catalogue import UnitKind
from broker.documents.common import BankAccount, EnforcementAccount, MeasureRef, Money, NaturalPerson, Period
from broker.documents.document import Document
from broker.documents.measures import (
    BankDeduct,
    BankFreeze,
    BankRotatingFreeze,
    Release,
    ReleaseKind,
    ReleaseReason,
)
from broker.documents.queries import Query, QueryKind
from broker.documents.results import (
    AccountStatus,
    BankAccountRecord,
    ListingRecord,
    MeasureResult,
    QueryResult,
    QueryStatus,
    ReleaseResult,
    ReleaseStatus,
    ResultStatus,
)
from broker.errors import LiandongError
from broker.hub.outbox import Job
from broker.hub.service import Hub
from broker.registry import load_registry
from broker.sandbox import EXAMPLE_CERTS, EXAMPLE_REGISTRY, unit_config
from broker.transport import topics
from tests.network import BANK, COURT, HUB, CourtClient, Recorder, hub_config, wait_until

ROOT = Path(__file__).resolve().parents[1]
SIGNED = ROOT / "examples" / "signed"
CREDIT = "11100000MB0000007D"
PERSON = NaturalPerson(name="陈国强", id_number="445302198004121232")
PERIOD = Period(start=date(2026, 3, 4), end=date(2027, 3, 3))
COURT_ACCOUNT = EnforcementAccount(
    bank_name="中国工商银行云浮分行", account_number="2017002119200088881", account_name="云浮市中级人民法院执行款专户"
)

INVOCATIONS: collections.Counter[str] = collections.Counter()
"""Handler calls by idempotency key, across adapter instances (restarts) in one test."""


@pytest.fixture(autouse=True)
def _reset_invocations():
    INVOCATIONS.clear()
    yield


# --- a test bank: a native stand-in in SQLite with the idempotent ledger ---------------------------


class NativeBank:
    """The bank's core system: every operation is recorded by idempotency key, in the same
    transaction as the key, so it happens at most once however often the adapter asks."""

    def __init__(self, path: Path):
        self.ledger = IdempotentLedger(path)
        self.ledger.db.execute("CREATE TABLE IF NOT EXISTS operations (key TEXT, account TEXT, amount TEXT)")

    def freeze(self, key: str, account: str, amount: Decimal) -> dict:
        def act(db: sqlite3.Connection) -> dict:
            db.execute("INSERT INTO operations VALUES (?,?,?)", (key, account, str(amount)))
            return {"frozen": str(amount)}

        return self.ledger.once(key, act)

    def operations(self) -> int:
        return int(self.ledger.db.execute("SELECT COUNT(*) FROM operations").fetchone()[0])

    def close(self) -> None:
        self.ledger.close()


class BankBehaviour(BaseModel):
    model_config = ConfigDict(extra="forbid")

    transient_failures: int = 0
    """Fail this many times with TransientError before succeeding (per adapter instance)."""
    outage_accounts: list[str] = []
    """Accounts whose freezes fail with TransientError while ``adapter.outage`` is on."""
    more_time_hours: float = 0
    """Ask for more time until this long after reception (for the accounts listed, else all)."""
    more_time_accounts: list[str] | None = None
    review: str | None = None
    deduct_refusal: str = "该账户已于2025年销户，无法扣划。"
    crash_after_native: bool = False
    """Raise SystemExit once, after the native operation and before returning the result."""
    hang_after_native: bool = False
    """Block forever after the native operation (the test kills the process there)."""
    status_notice: bool = False
    """Send a MeasureStatusNotice from the freeze handler (exactly once)."""


class TestBank(Adapter):
    """A test bank adapter over :class:`NativeBank`."""

    __test__ = False
    name = "test-bank"
    unit_kinds = {UnitKind.BANK}
    settings_model = BankBehaviour

    def __init__(self, settings: BankBehaviour, runtime) -> None:
        super().__init__(settings, runtime)
        self.settings: BankBehaviour = settings
        self.native = NativeBank(runtime.data_dir / "native.db")
        self.handled: list[tuple[str, str]] = []
        self.failures = 0
        self.outage = bool(settings.outage_accounts)
        self.completed: list[str] = []

    def stop(self) -> None:
        self.native.close()

    @handles(BankFreeze, BankRotatingFreeze)
    def freeze(self, measure: BankFreeze, ctx: Context) -> MeasureResult:
        INVOCATIONS[ctx.idempotency_key] += 1
        self.handled.append(("freeze", ctx.item_id or ""))
        if self.failures < self.settings.transient_failures:
            self.failures += 1
            raise TransientError()
        if self.outage and measure.account.account_number in self.settings.outage_accounts:
            raise TransientError()
        ready_at = ctx.received_at + timedelta(hours=self.settings.more_time_hours)
        slow = self.settings.more_time_accounts is None or measure.account.account_number in self.settings.more_time_accounts
        if slow and ctx.runtime.now() < ready_at:
            raise NeedsMoreTime("核心系统批处理中，需人工复核后办理。", proposed_deadline=ready_at + timedelta(hours=1), retry_after=timedelta(hours=1))
        outcome = self.native.freeze(ctx.idempotency_key, measure.account.account_number, measure.amount.value)
        if self.settings.crash_after_native and not (ctx.runtime.data_dir / "crashed").exists():
            (ctx.runtime.data_dir / "crashed").touch()
            raise SystemExit("simulated crash after the native operation")
        while self.settings.hang_after_native:
            time.sleep(0.05)
        if self.settings.review:
            ctx.suggest_review(self.settings.review)
        if self.settings.status_notice:
            ctx.send(
                MeasureStatusNotice(
                    measure=MeasureRef(document_id=ctx.document.header.document_id, measure_id=measure.measure_id),
                    status=ResultStatus.EXECUTED,
                    effective_at=ctx.runtime.now().replace(microsecond=0),
                )
            )
        return MeasureResult(
            measure_id=measure.measure_id,
            status=ResultStatus.EXECUTED,
            requested_amount=measure.amount,
            actual_amount=Money.cny(outcome["frozen"]),
            period=measure.period,
        )

    @handles(BankDeduct)
    def deduct(self, measure: BankDeduct, ctx: Context) -> MeasureResult:
        self.handled.append(("deduct", ctx.item_id or ""))
        raise PermanentError(self.settings.deduct_refusal)

    @handles(Query, kinds={QueryKind.BANK_DEPOSITS})
    def deposits(self, query: Query, ctx: Context) -> QueryResult:
        self.handled.append(("deposits", ctx.item_id or ""))
        record = BankAccountRecord(
            account=BankAccount(account_number="6222022010001234567", account_name=PERSON.name),
            account_status=AccountStatus.NORMAL,
            balance=Money.cny("1000.00"),
        )
        return QueryResult(query_id=query.query_id, status=QueryStatus.FOUND, records=[record])

    @handles(Release, kinds={ReleaseKind.BANK_UNFREEZE})
    def unfreeze(self, release: Release, ctx: Context) -> ReleaseResult:
        self.handled.append(("unfreeze", ctx.item_id or ""))
        return ReleaseResult(release_id=release.release_id, status=ReleaseStatus.RELEASED)

    @on_document("CaseCompletedNotice")
    def case_completed(self, doc: Document, ctx: Context) -> None:
        self.completed.append(ctx.document_id)


def account(number: str = "6222022010001234567") -> BankAccount:
    return BankAccount(bank_name="中国工商银行云浮分行", account_number=number, account_name=PERSON.name, currency="CNY")


def freeze(measure_id: str = "M1", number: str = "6222022010001234567", cls: type = BankFreeze) -> BankFreeze:
    return cls(measure_id=measure_id, subject=PERSON, account=account(number), amount=Money.cny("500000.00"), period=PERIOD)


def assistance(*measures) -> AssistanceNotice:
    return AssistanceNotice(ruling=EXAMPLE_RULING, measures=list(measures))


@pytest.fixture
def bank(tmp_path):
    def make(**behaviour) -> Harness:
        return Harness(TestBank, BankBehaviour(**behaviour), directory=tmp_path / f"bank{len(made)}")

    made: list[Harness] = []

    def factory(**behaviour) -> Harness:
        h = make(**behaviour)
        made.append(h)
        return h

    yield factory
    for h in made:
        h.close()


# --- declaring adapters -------------------------------------------------------------------------------


def test_handler_table_is_checked_when_the_class_is_defined():
    with pytest.raises(TypeError, match="no unit of kind PublicSecurity"):

        class WrongKind(Adapter):
            unit_kinds = {UnitKind.PUBLIC_SECURITY}

            @handles(BankFreeze)
            def freeze(self, m, ctx): ...

    with pytest.raises(TypeError, match="handled by both"):

        class Twice(Adapter):
            @handles(BankFreeze)
            def a(self, m, ctx): ...

            @handles(BankFreeze)
            def b(self, m, ctx): ...

    with pytest.raises(TypeError, match="item by item"):
        on_document("AssistanceNotice")
    with pytest.raises(TypeError, match="only applies to Query and Release"):
        handles(BankFreeze, kinds={QueryKind.BANK_DEPOSITS})
    with pytest.raises(TypeError, match="not a QueryKind"):
        handles(Query, kinds={ReleaseKind.BANK_UNFREEZE})
    with pytest.raises(TypeError, match="takes"):

        class BadArity(Adapter):
            @handles(BankFreeze)
            def freeze(self, m): ...

    # exact element types: a rotating freeze is not dispatched to a BankFreeze-only handler
    class OnlyFreeze(Adapter):
        @handles(BankFreeze)
        def freeze(self, m, ctx): ...

    from adapters.sdk.adapter import ItemKey

    assert OnlyFreeze.handler_for(ItemKey("measure", "BankFreeze")).method == "freeze"
    assert OnlyFreeze.handler_for(ItemKey("measure", "BankRotatingFreeze")) is None


# --- harness-level: dispatch and results ---------------------------------------------------------------


def test_dispatch_by_measure_type_query_kind_and_release_kind(bank):
    h = bank()
    notice = h.document(assistance(freeze("M1"), freeze("M2", cls=BankRotatingFreeze)))
    receipt = h.deliver(notice).receipt
    assert_receipt(receipt, answers=notice, statuses={"M1": "Executed", "M2": "Executed"})

    query = h.document(QueryNotice(queries=[Query(query_id="Q1", kind=QueryKind.BANK_DEPOSITS, subject=PERSON)]))
    found = assert_receipt(h.deliver(query).receipt, answers=query, statuses={"Q1": QueryStatus.FOUND})
    assert isinstance(found.results[0].records[0], BankAccountRecord)

    release = h.document(
        ReleaseNotice(
            ruling=EXAMPLE_RULING,
            releases=[
                Release(
                    release_id="R1",
                    kind=ReleaseKind.BANK_UNFREEZE,
                    releases=MeasureRef(document_id=notice.header.document_id, measure_id="M1"),
                    subject=PERSON,
                    reason=ReleaseReason.PERFORMED,
                )
            ],
        )
    )
    assert_receipt(h.deliver(release).receipt, answers=release, statuses={"R1": ReleaseStatus.RELEASED})
    assert h.adapter.handled == [("freeze", "M1"), ("freeze", "M2"), ("deposits", "Q1"), ("unfreeze", "R1")]


def test_signed_example_notice_runs_and_items_without_handler_are_not_executed(bank):
    h = bank()
    out = h.deliver(SIGNED / "AssistanceNotice.xml")  # sealed by the example court
    receipt = out.receipt
    assert_receipt(
        receipt,
        answers=(SIGNED / "AssistanceNotice.xml").read_bytes(),
        statuses={"M1": "Executed", "M2": "Executed", "M3": "NotExecuted", "M4": "NotExecuted", "M5": "NotExecuted"},
    )
    assert_not_executed(receipt, "M3", reason_contains="BankContinuedFreeze")  # no handler: a clear reason
    assert_not_executed(receipt, "M4", reason_contains="销户")  # PermanentError: its reason (003 bank rules 17)

    query = h.document(
        QueryNotice(queries=[Query(query_id="Q1", kind=QueryKind.BANK_TRANSACTIONS, subject=PERSON, period=PERIOD)])
    )
    assert_not_executed(h.deliver(query).receipt, "Q1", reason_contains="No handler")


def test_receipt_is_sealed_by_the_unit_answers_the_notice_and_carries_the_case_number(bank):
    h = bank()
    notice = h.document(assistance(freeze()), case_number="（2026）粤53执456号")
    receipt = h.deliver(notice).receipt
    checked = DocumentChecker(h.trust, load_registry(EXAMPLE_REGISTRY)).check(receipt.raw)
    assert checked.ok, checked.codes
    assert checked.verified.signer.unit_code == BANK
    assert receipt.sender == BANK and receipt.recipient == EXAMPLE_COURT
    assert receipt.in_reply_to == str(notice.header.document_id)
    assert receipt.case_number == "（2026）粤53执456号"
    result = receipt.result("M1")
    assert result.requested_amount == result.actual_amount == Money.cny("500000.00")


def test_permanent_error_gives_not_executed_with_the_reason(bank):
    h = bank(deduct_refusal="账户不存在。")
    deduct = BankDeduct(measure_id="D1", subject=PERSON, account=account(), amount=Money.cny("10.00"), enforcement_account=COURT_ACCOUNT)
    notice = h.document(assistance(freeze("M1"), deduct))
    receipt = h.deliver(notice).receipt
    assert_receipt(receipt, answers=notice, statuses={"M1": "Executed", "D1": "NotExecuted"})
    assert receipt.result("D1").reason == "账户不存在。"


def test_transient_errors_are_retried_with_backoff_then_succeed(bank):
    h = bank(transient_failures=3)
    notice = h.document(assistance(freeze()))
    start = h.clock()
    out = h.deliver(notice)
    assert_receipt(out.receipt, answers=notice, statuses={"M1": "Executed"})
    assert INVOCATIONS[f"{notice.header.document_id}/M1"] == 4
    assert h.adapter.native.operations() == 1
    # exponential backoff: 1 + 2 + 4 seconds of (virtual) waiting
    assert h.clock() - start == timedelta(seconds=7)


def test_a_failing_document_holds_up_later_ones_and_is_never_dropped(bank):
    h = bank(outage_accounts=["1111"])
    h.max_auto_retries = 3
    first = h.document(assistance(freeze("M1", number="1111")))
    second = h.document(assistance(freeze("M1", number="2222")))
    assert h.deliver(first).documents == []
    assert h.deliver(second).documents == []  # delivery order: waits behind the first
    assert h.job(first).state == "retrying" and h.job(second).state == "pending"
    assert [key for key in INVOCATIONS] == [f"{first.header.document_id}/M1"]

    h.restart()  # kept in the store across restarts
    h.adapter.outage = False
    out = h.advance(minutes=10)
    assert [r.in_reply_to for r in out.receipts] == [str(first.header.document_id), str(second.header.document_id)]


def test_needs_more_time_sends_an_extension_notice_once_then_the_receipt(bank):
    h = bank(more_time_hours=2, more_time_accounts=["6222022010001234567"])
    notice = h.document(assistance(freeze()), case_number="（2026）粤53执789号")
    out = h.deliver(notice)
    assert out.receipt is None
    [extension] = out.extensions
    assert extension.in_reply_to == str(notice.header.document_id)
    assert extension.case_number == "（2026）粤53执789号"
    assert extension.body.reason.startswith("核心系统批处理中")
    assert extension.body.items == ["M1"] and extension.body.proposed_deadline is not None
    assert h.job(notice).state == "waiting"

    # meanwhile a later document is not held up
    other = h.document(assistance(freeze("M1", number="3333")))
    assert h.advance(hours=0.5).documents == []  # nothing due yet
    assert h.deliver(other).receipt is not None

    assert h.advance(hours=1).documents == []  # asked again, same deadline: no second notice
    later = h.advance(hours=1)
    assert later.extensions == []
    assert_receipt(later.receipt, answers=notice, statuses={"M1": "Executed"})
    assert h.adapter.native.operations() == 2


def test_review_suggestion_is_sent_and_the_measure_still_carried_out(bank):
    h = bank(review="第三人主张该账户资金为其所有，建议法院审查。")
    notice = h.document(assistance(freeze()))
    out = h.deliver(notice)
    [review] = out.reviews
    assert review.body.measure_carried_out is True  # 001 art. 20
    assert review.body.items == ["M1"]
    assert review.body.grounds.startswith("第三人主张")
    assert review.in_reply_to == str(notice.header.document_id)
    assert_receipt(out.receipt, answers=notice, statuses={"M1": "Executed"})
    assert h.adapter.native.operations() == 1
    assert [d.doc_type for d in out.documents] == ["ReviewSuggestion", "ExecutionReceipt"]


def test_a_document_from_a_non_court_sender_is_refused_and_not_executed(tmp_path, caplog):
    class Credit(Adapter):
        unit_kinds = {UnitKind.CREDIT_PLATFORM}
        called: list[str] = []

        @on_document("PunishmentReport")
        def punishment(self, doc, ctx):
            self.called.append(ctx.document_id)

        @handles(Query, kinds={QueryKind.DISHONEST_STATUS})
        def status(self, query, ctx):
            return QueryResult(query_id=query.query_id, status=QueryStatus.FOUND, records=[ListingRecord(listed=False)])

    with caplog.at_level(logging.WARNING, logger="liandong.adapter"), Harness(Credit, directory=tmp_path) as h:
        assert h.unit == CREDIT
        out = h.deliver(SIGNED / "PunishmentReport.xml")  # genuinely sealed by the market regulator
        assert out.refused == ["ADAPTER_SENDER_REFUSED"]
        assert out.documents == [] and Credit.called == []
        assert h.job((SIGNED / "PunishmentReport.xml").read_bytes()).state == "refused"
        # while the court's query to the same adapter is answered
        assert h.deliver(SIGNED / "QueryNotice-CreditPlatform.xml").receipt is not None
    refused = [r for r in caplog.records if r.getMessage() == "adapter.refused"]
    assert refused and refused[0].fields["code"] == "ADAPTER_SENDER_REFUSED"


def test_a_tampered_document_is_never_handed_to_the_adapter(bank):
    h = bank()
    raw = h.seal(h.document(assistance(freeze())))
    out = h.deliver(raw.replace(b"500000.00", b"5.00"))
    assert out.refused and out.documents == [] and INVOCATIONS == {}


def test_document_handlers_get_the_whole_document(bank):
    h = bank()
    notice = h.document(CaseCompletedNotice(completed_on=date(2026, 6, 1), outcome=CaseOutcome.PERFORMED))
    assert h.deliver(notice).documents == []
    assert h.adapter.completed == [str(notice.header.document_id)]
    assert h.job(notice).state == "done"
    # a type the adapter does not handle is recorded and left alone
    ruling = h.deliver(SIGNED / "EnforcementRuling.xml")
    assert ruling.documents == [] and h.job((SIGNED / "EnforcementRuling.xml").read_bytes()).state == "noted"


def test_a_handler_breaking_its_contract_is_retried_not_misreported(tmp_path, caplog):
    class Broken(Adapter):
        unit_kinds = {UnitKind.BANK}
        answer_id = "WRONG"

        @handles(BankFreeze)
        def freeze(self, m, ctx):
            return MeasureResult(measure_id=self.answer_id, status=ResultStatus.EXECUTED)

    with caplog.at_level(logging.ERROR, logger="liandong.adapter"), Harness(Broken, directory=tmp_path, max_auto_retries=2) as h:
        notice = h.document(assistance(freeze()))
        assert h.deliver(notice).documents == []
        assert h.job(notice).state == "retrying"
        assert any(r.getMessage() == "adapter.handler_error" for r in caplog.records)
        Broken.answer_id = "M1"  # the operator fixes the adapter
        assert_receipt(h.advance(minutes=5).receipt, answers=notice, statuses={"M1": "Executed"})


# --- exactly once ----------------------------------------------------------------------------------------


def test_a_document_delivered_twice_is_executed_once_and_gets_the_stored_receipt(bank):
    h = bank()
    notice = h.seal(h.document(assistance(freeze())))
    first = h.deliver(notice).receipt
    again = h.redeliver(notice)
    assert again.receipt is not None and again.receipt.raw == first.raw  # the stored receipt, same bytes
    assert len(INVOCATIONS) == 1 and sum(INVOCATIONS.values()) == 1
    assert h.adapter.native.operations() == 1


def test_crash_after_the_native_operation_resends_the_receipt_without_repeating_it(bank):
    h = bank(crash_after_native=True)
    notice = h.document(assistance(freeze()))
    with pytest.raises(SystemExit):
        h.deliver(notice)
    assert h.adapter.native.operations() == 1 and h.sent == []
    out = h.restart()  # a new process: the handler runs again, the ledger returns the recorded outcome
    assert_receipt(out.receipt, answers=notice, statuses={"M1": "Executed"})
    assert out.receipt.result("M1").actual_amount == Money.cny("500000.00")
    assert INVOCATIONS[f"{notice.header.document_id}/M1"] == 2
    assert h.adapter.native.operations() == 1


def test_crash_while_handing_the_receipt_over_sends_the_same_receipt_after_restart(bank):
    h = bank()
    notice = h.document(assistance(freeze()))

    def crash(raw: bytes) -> None:
        raise SystemExit("killed while handing the receipt to the transport")

    h.on_send = crash
    with pytest.raises(SystemExit):
        h.deliver(notice)
    stored = h.store.get_outbound(f"receipt/{notice.header.document_id}")
    assert stored is not None and stored.handed_at is None
    h.on_send = None
    out = h.restart()
    assert out.receipt is not None and out.receipt.document_id == stored.document_id
    assert sum(INVOCATIONS.values()) == 1  # results were recorded: no handler ran again


def test_documents_sent_from_handlers_and_by_the_unit_are_sent_once(bank):
    h = bank(status_notice=True, crash_after_native=True)
    notice = h.document(assistance(freeze()))
    with pytest.raises(SystemExit):
        h.deliver(notice)  # crash after the native operation, before the status notice
    out = h.restart()
    assert [d.doc_type for d in out.documents] == ["MeasureStatusNotice", "ExecutionReceipt"]
    assert out.of_type("MeasureStatusNotice")[0].in_reply_to == str(notice.header.document_id)

    sighting = LeadReport(
        sighting=PersonSighting(person=PERSON, location="云浮市云城区", seen_at=h.clock().replace(microsecond=0))
    )
    first = h.runtime.send(sighting, recipient=EXAMPLE_COURT2, case_number="（2026）鄂1022执5号", key="sighting-42")
    second = h.runtime.send(sighting, recipient=EXAMPLE_COURT2, case_number="（2026）鄂1022执5号", key="sighting-42")
    assert first == second
    leads = [d for d in h.sent if d.doc_type == "LeadReport"]
    assert len({d.document_id for d in leads}) == 1 and leads[0].recipient == EXAMPLE_COURT2
    with pytest.raises(LiandongError) as refused:  # what the hub would reject fails in the caller
        h.runtime.send(sighting, recipient=BANK)
    assert "RULE_DIRECTION" in refused.value.codes or "RULE_SELF_ADDRESSED" in refused.value.codes


def test_idempotent_ledger_runs_each_key_once_and_rolls_back_failures(tmp_path):
    ledger = IdempotentLedger(tmp_path / "native.db")
    ledger.db.execute("CREATE TABLE t (v TEXT)")
    calls = []

    def act(db):
        calls.append(1)
        db.execute("INSERT INTO t VALUES ('x')")
        return {"n": len(calls)}

    assert ledger.once("k", act) == {"n": 1}
    assert ledger.once("k", act) == {"n": 1} and len(calls) == 1

    def fail(db):
        db.execute("INSERT INTO t VALUES ('y')")
        raise TransientError()

    with pytest.raises(TransientError):
        ledger.once("k2", fail)
    assert "k2" not in ledger and ledger.db.execute("SELECT COUNT(*) FROM t").fetchone()[0] == 1
    result = ledger.once("k3", lambda db: MeasureResult(measure_id="M1", status=ResultStatus.EXECUTED), model=MeasureResult)
    assert ledger.get("k3", model=MeasureResult) == result and len(ledger) == 2
    ledger.close()


def test_the_context_logger_never_prints_personal_data(caplog):
    log = SafeLogger(logging.getLogger("liandong.adapter.test"), document_id=str(uuid4()))
    with caplog.at_level(logging.INFO, logger="liandong.adapter.test"):
        log.info(
            "native.freeze",
            name="陈国强",
            id_number="445302198004121232",
            account="6222022010001234567",
            phone="13800138000",
            address="云浮市云城区河滨路1号",
            model=PERSON,
            amount=Decimal("500000.00"),
            state="frozen",
            unit="91445300MA5100003A",
            key=f"{uuid4()}/M1",
        )
        log.info("陈国强 445302198004121232")
    first, second = (r.fields | {"event": r.getMessage()} for r in caplog.records)
    for field in ("name", "id_number", "account", "phone", "address", "model"):
        assert first[field] == REDACTED, field
    assert first["amount"] == Decimal("500000.00") and first["state"] == "frozen"
    assert first["unit"] == "91445300MA5100003A" and first["key"].endswith("/M1")
    assert second["event"] == "adapter.event"


# --- discovery, configuration, CLI -----------------------------------------------------------------------


def test_adapters_are_discovered_through_entry_points(tmp_path, monkeypatch):
    dist = tmp_path / "liandong_adapter_fake-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: liandong-adapter-fake\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[liandong.adapters]\ntest-bank = tests.test_adapter_sdk:TestBank\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert "test-bank" in [e.name for e in available()]
    assert load_adapter("test-bank") is TestBank
    assert load_adapter("tests.test_adapter_sdk:TestBank") is TestBank
    with pytest.raises(LookupError, match="test-bank"):
        load_adapter("nope")

    from broker.cli.main import app

    listed = CliRunner().invoke(app, ["adapter", "list"])
    assert listed.exit_code == 0 and "test-bank" in listed.output and "Bank" in listed.output


def test_configuration_from_a_yaml_file_and_the_environment(tmp_path, monkeypatch):
    unit_dir = EXAMPLE_CERTS / "units" / BANK
    config = {
        "unit": {
            "unit": BANK,
            "registry": str(EXAMPLE_REGISTRY),
            "broker": {"host": "127.0.0.1", "port": 8883, "ca": str(EXAMPLE_CERTS / "chain.pem"),
                       "cert": str(unit_dir / "tls.pem"), "key": str(unit_dir / "tls.key")},
            "seal": {"key": str(unit_dir / "sign.key"), "cert": str(unit_dir / "sign.pem")},
            "trust": {"anchors": [str(EXAMPLE_CERTS / "root-ca.pem")]},
            "store": "var/bank.db",
        },
        "adapter": {"review": "异议"},
        "execution": {"retry_max_seconds": 60},
    }
    path = tmp_path / "bank.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("LIANDONG_UNIT__BROKER__HOST", "10.0.0.5")
    monkeypatch.setenv("LIANDONG_ADAPTER__TRANSIENT_FAILURES", "2")
    loaded = load_adapter_config(TestBank, path)
    assert loaded.unit.broker.host == "10.0.0.5" and loaded.unit.broker.port == 8883  # environment wins
    assert isinstance(loaded.adapter, BankBehaviour)
    assert loaded.adapter.transient_failures == 2 and loaded.adapter.review == "异议"
    assert loaded.unit.store == tmp_path / "var" / "bank.db"  # relative to the file
    assert loaded.execution.retry_max_seconds == 60

    config["adapter"]["transient_failures"] = "many"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    monkeypatch.delenv("LIANDONG_ADAPTER__TRANSIENT_FAILURES")
    with pytest.raises(LiandongError) as bad:
        load_adapter_config(TestBank, path)
    assert bad.value.codes == ["UNIT_CONFIG_INVALID"] and "adapter.transient_failures" in str(bad.value.problems[0].message_en)


def test_a_unit_of_another_kind_cannot_run_the_adapter(tmp_path):
    with pytest.raises(Exception, match="serves Bank"):
        Harness(TestBank, unit=CREDIT, directory=tmp_path)


def test_the_scaffold_creates_a_package_whose_tests_pass(tmp_path):
    from broker.cli.main import app

    made = CliRunner().invoke(app, ["adapter", "new", "demo", "--dir", str(tmp_path)])
    assert made.exit_code == 0, made.output
    root = tmp_path / "liandong-adapter-demo"
    pyproject = (root / "pyproject.toml").read_text(encoding="utf-8")
    assert '[project.entry-points."liandong.adapters"]' in pyproject
    assert 'demo = "liandong_adapter_demo.adapter:DemoAdapter"' in pyproject
    assert (root / "README.md").exists() and (root / "config.example.yaml").exists()
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=root,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))},
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "4 passed" in run.stdout
    again = CliRunner().invoke(app, ["adapter", "new", "demo", "--dir", str(tmp_path)])
    assert again.exit_code == 2  # never overwrites


# --- live: a real Mosquitto, the hub, a court ----------------------------------------------------------------


@pytest.fixture
def hub(mosquitto, tmp_path):
    h = Hub(hub_config(HUB, port=mosquitto.port, var=tmp_path / "hub", workers=0, delivery={"ack_timeout_seconds": 2}))
    h.start()
    yield h
    h.stop()


@pytest.fixture
def court(mosquitto, tmp_path):
    recorder = Recorder()
    client = CourtClient(unit_config(COURT, port=mosquitto.port, var=tmp_path / "units", resend_after_seconds=2), handler=recorder)
    client.recorder = recorder
    with client:
        yield client


def bank_config(mosquitto, tmp_path, **behaviour):
    model = config_model(TestBank)
    return model(
        unit=unit_config(BANK, port=mosquitto.port, var=tmp_path / "units", resend_after_seconds=2),
        adapter=BankBehaviour(**behaviour),
        execution=ExecutionSettings(idle_poll_seconds=0.2),
    )


def notice_for_bank(number: str = "6222022010001234567") -> Document:
    return Document.create(
        assistance(freeze(number=number)),
        sender=COURT,
        recipient=BANK,
        case_number="（2026）粤53执123号",
        officers=list(EXAMPLE_OFFICERS),
    )


def receipts_for(court, notice_id: str):
    return [r for r in court.recorder.of_type("ExecutionReceipt") if r.in_reply_to == notice_id]


def native_operations(config) -> int:
    db = sqlite3.connect(Path(config.unit.store).parent / "native.db")
    try:
        return int(db.execute("SELECT COUNT(*) FROM operations").fetchone()[0])
    finally:
        db.close()


def test_live_notice_goes_court_hub_adapter_and_the_receipt_comes_back(hub, court, mosquitto, tmp_path):
    config = bank_config(mosquitto, tmp_path)
    with AdapterService(TestBank, config) as service:
        notice = notice_for_bank()
        answer = court.publish(notice, timeout=30)
        assert answer.accepted, answer.errors
        notice_id = str(notice.header.document_id)
        wait_until(lambda: receipts_for(court, notice_id), 30, "the receipt at the court")
        received = receipts_for(court, notice_id)[0].document()
        assert received.header.sender == BANK and received.header.case_number == "（2026）粤53执123号"
        assert received.body.results[0].status is ResultStatus.EXECUTED
        receipt_id = str(received.header.document_id)
        wait_until(lambda: (s := service.store.get_sent(receipt_id)) is not None and s.state == "receipted", 30,
                   "the hub's service receipt for the receipt")
        assert service.store.get_job(notice_id).answer_id == receipt_id
        assert service.unit.connected
    assert native_operations(config) == 1


def test_live_a_redelivered_notice_is_executed_once_and_the_stored_receipt_sent_again(hub, court, mosquitto, tmp_path):
    config = bank_config(mosquitto, tmp_path)
    with AdapterService(TestBank, config) as service:
        notice = notice_for_bank()
        notice_id = str(notice.header.document_id)
        assert court.publish(notice, timeout=30).accepted
        wait_until(lambda: receipts_for(court, notice_id), 30, "the receipt at the court")
        receipt_id = receipts_for(court, notice_id)[0].document_id
        wait_until(lambda: service.store.get_sent(receipt_id).state == "receipted", 30, "the receipt served")
        attempts = service.store.get_sent(receipt_id).attempts

        # the hub delivers the same notice again (as after a lost acknowledgement)
        with hub.ledger.transaction() as tx:
            delivery_id = tx.rearm_delivery(notice_id, BANK)
        assert delivery_id is not None
        duplicates = hub.stats.duplicates
        hub.enqueue([Job(delivery_id, notice_id, topics.inbox(BANK))])
        wait_until(lambda: hub.stats.duplicates > duplicates, 30, "the stored receipt to reach the hub again")
        assert service.store.get_sent(receipt_id).attempts > attempts
        assert sum(INVOCATIONS.values()) == 1
    assert native_operations(config) == 1
    assert len(receipts_for(court, notice_id)) == 1  # the court got it once: the hub saw a duplicate


def test_live_a_killed_adapter_resends_its_receipt_after_restart_without_a_second_operation(hub, court, mosquitto, tmp_path):
    config = bank_config(mosquitto, tmp_path, crash_after_native=True)
    notice = notice_for_bank()
    notice_id = str(notice.header.document_id)
    service = AdapterService(TestBank, config).start()
    try:
        assert court.publish(notice, timeout=30).accepted
        wait_until(lambda: not service.alive, 30, "the adapter to crash after the native operation")
        assert native_operations(config) == 1 and not receipts_for(court, notice_id)
    finally:
        service.stop()
    with AdapterService(TestBank, config):
        wait_until(lambda: receipts_for(court, notice_id), 30, "the receipt after the restart")
    assert native_operations(config) == 1
    assert INVOCATIONS[f"{notice_id}/M1"] == 2
    assert receipts_for(court, notice_id)[0].document().body.results[0].status is ResultStatus.EXECUTED


def test_live_adapter_process_killed_by_sigkill_resends_its_receipt_after_restart(hub, court, mosquitto, tmp_path):
    """``liandong adapter run`` as a real process, SIGKILLed between the native operation and the
    receipt; restarted with an environment override, it answers without a second operation."""
    config = bank_config(mosquitto, tmp_path, hang_after_native=True)
    path = tmp_path / "bank.yaml"
    path.write_text(yaml.safe_dump(config.model_dump(mode="json"), allow_unicode=True), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}

    def start(log_name: str, **extra: str) -> tuple[subprocess.Popen, Path]:
        log = tmp_path / log_name
        proc = subprocess.Popen(
            [sys.executable, "-m", "broker.cli.main", "adapter", "run", "tests.test_adapter_sdk:TestBank", "--config", str(path)],
            cwd=ROOT, env={**env, **extra}, stdout=log.open("wb"), stderr=subprocess.STDOUT,
        )
        wait_until(lambda: "adapter.started" in log.read_text(errors="replace") or proc.poll() is not None, 60, "the adapter to start")
        assert proc.poll() is None, log.read_text(errors="replace")
        return proc, log

    first, first_log = start("first.log")
    notice = notice_for_bank()
    notice_id = str(notice.header.document_id)
    try:
        assert court.publish(notice, timeout=30).accepted
        wait_until(lambda: (Path(config.unit.store).parent / "native.db").exists() and native_operations(config) == 1,
                   30, "the native operation")
    finally:
        first.kill()  # SIGKILL: no cleanup, no receipt
        first.wait(30)
    assert not receipts_for(court, notice_id)
    assert "adapter.handler_error" not in first_log.read_text(errors="replace")  # killed mid-handler, as planned

    second, log = start("second.log", LIANDONG_ADAPTER__HANG_AFTER_NATIVE="false")
    try:
        wait_until(lambda: receipts_for(court, notice_id), 30, "the receipt after the restart")
    finally:
        second.terminate()
        assert second.wait(30) == 0, log.read_text(errors="replace")
    assert native_operations(config) == 1
    assert '"adapter.answered"' in log.read_text(errors="replace")
