"""The reference bank adapter (issue 4, "Reference adapters: Bank"): the rules of 003
人民法院、银行业金融机构网络执行查控工作规范 6–17 ("rule N") on the core-banking stand-in, through
the SDK harness (signed documents, the real verifier) and over a real Mosquitto and hub."""

from __future__ import annotations

import importlib.util
import sys
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from uuid import UUID

import pytest

from adapters.bank import BankAdapter, BankSettings, demo
from adapters.bank.native import MeasureKey, NativeRefusal
from adapters.sdk import AdapterService, ExecutionSettings, config_model
from adapters.sdk.testing import (
    EXAMPLE_COURT,
    EXAMPLE_COURT2,
    EXAMPLE_OFFICERS,
    EXAMPLE_RULING,
    Harness,
    assert_not_executed,
    assert_receipt,
)
from broker.documents import codec
from broker.documents.bodies import (
    AssistanceNotice,
    CaseCompletedNotice,
    CaseOutcome,
    QueryNotice,
    ReleaseNotice,
)
from broker.documents.common import (
    BankAccount,
    EnforcementAccount,
    MeasureRef,
    Money,
    NaturalPerson,
    Officer,
    Organisation,
    Period,
    RulingRef,
)
from broker.documents.document import CHINA_TZ, Document
from broker.documents.measures import (
    BankContinuedFreeze,
    BankDeduct,
    BankFreeze,
    BankRotatingFreeze,
    Release,
    ReleaseKind,
    ReleaseReason,
)
from broker.documents.queries import Query, QueryKind
from broker.documents.results import ReleaseStatus, ResultStatus
from broker.hub.service import Hub
from broker.parsing.hardened import parse
from broker.sandbox import unit_config
from tests.network import BANK, COURT, COURT2, HUB, CourtClient, Recorder, hub_config, wait_until

ROOT = Path(__file__).resolve().parents[1]
SIGNED = ROOT / "examples" / "signed"
START = datetime(2026, 3, 4, 10, 0, tzinfo=CHINA_TZ)
"""The example documents' day: the seeded preservation freeze (ends 2026-03-15) is still live."""

CHEN = NaturalPerson(name="陈国强", id_number=demo.CHEN.id_code, gender="M")
HENGDA = Organisation(name=demo.HENGDA.name, unit_code=demo.HENGDA.id_code, legal_representative="陈国强")
LIU = NaturalPerson(name="刘建华", id_number="421022197603053152", gender="M")  # no account at this bank
YUNFU_CASE = "（2026）粤53执123号"
YUNFU_CASE2 = "（2026）粤53执200号"
GONGAN_CASE = "（2026）鄂1022执45号"
GONGAN_OFFICERS = (Officer(name="张伟", phone="0716-5226011", credential_number="鄂1022执证0031"),)
GONGAN_RULING = RulingRef(ruling_number="（2026）鄂1022执45号之一")
YUNFU_ACCOUNT = EnforcementAccount(
    bank_name="中国工商银行云浮分行", account_number="2017002119200088881", account_name="云浮市中级人民法院执行款专户"
)
PERIOD = Period(start=date(2026, 3, 4), end=date(2027, 3, 3))


def account(number: str = demo.CHEN_CARD, holder=CHEN, currency: str = "CNY") -> BankAccount:
    return BankAccount(bank_name="中国工商银行云浮分行", account_number=number, account_name=holder.name, currency=currency)


def freeze(measure_id="M1", number=demo.CHEN_CARD, amount="500000.00", *, holder=CHEN, cls=BankFreeze, period=PERIOD,
           currency="CNY"):
    return cls(
        measure_id=measure_id, subject=holder, account=account(number, holder), period=period,
        amount=Money(value=Decimal(amount), currency=currency),
    )


def deduct(measure_id, amount, number=demo.CHEN_CARD, *, holder=CHEN, from_freeze=None):
    return BankDeduct(
        measure_id=measure_id, subject=holder, account=account(number, holder), amount=Money.cny(amount),
        enforcement_account=YUNFU_ACCOUNT, from_freeze=from_freeze,
    )


def ref(notice: Document, measure_id: str = "M1") -> MeasureRef:
    return MeasureRef(document_id=notice.header.document_id, measure_id=measure_id)


def unfreeze(release_id, notice, measure_id="M1", *, holder=CHEN, amount=None):
    return Release(
        release_id=release_id, kind=ReleaseKind.BANK_UNFREEZE, releases=ref(notice, measure_id), subject=holder,
        amount=Money.cny(amount) if amount else None, reason=ReleaseReason.APPLICANT_AGREED,
    )


def yunfu(h: Harness, *measures, case=YUNFU_CASE) -> Document:
    return h.document(AssistanceNotice(ruling=EXAMPLE_RULING, measures=list(measures)), case_number=case)


def gongan(h: Harness, *measures) -> Document:
    return h.document(
        AssistanceNotice(ruling=GONGAN_RULING, measures=list(measures)),
        sender=EXAMPLE_COURT2, case_number=GONGAN_CASE, officers=GONGAN_OFFICERS,
    )


def release(h: Harness, *releases, court=EXAMPLE_COURT, case=YUNFU_CASE) -> Document:
    officers = GONGAN_OFFICERS if court == EXAMPLE_COURT2 else EXAMPLE_OFFICERS
    ruling = RulingRef(ruling_number=f"{case}之二")
    return h.document(ReleaseNotice(ruling=ruling, releases=list(releases)), sender=court, case_number=case, officers=officers)


def query(h: Harness, *queries) -> Document:
    return h.document(QueryNotice(queries=list(queries)))


def cny(value: str) -> Money:
    return Money.cny(value)


@pytest.fixture
def bank(tmp_path):
    with Harness(BankAdapter, BankSettings(demo=True), directory=tmp_path / "bank", start=START) as h:
        yield h


def frozen(h: Harness, number: str) -> list[tuple[str, str, Decimal, Decimal]]:
    """(court, state, claim, frozen) of the live freezes on the account, in queue order."""
    view = h.adapter.native.account(number)
    return [(f["authority_code"] or f["authority"], f["state"], f["amount"] / Decimal(100), f["frozen"] / Decimal(100))
            for f in view.freezes]


# --- the example data ------------------------------------------------------------------------------------


def test_demo_data_is_the_data_of_the_examples():
    spec = importlib.util.spec_from_file_location("liandong_examples_build", ROOT / "examples" / "build.py")
    build = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = build
    try:
        spec.loader.exec_module(build)
    finally:
        sys.modules.pop(spec.name, None)
    assert (build.CHEN.name, build.CHEN.id_number) == (demo.CHEN.name, demo.CHEN.id_code)
    assert (build.HENGDA.name, build.HENGDA.unit_code) == (demo.HENGDA.name, demo.HENGDA.id_code)
    assert build.CHEN_CARD.account_number == demo.CHEN_CARD and build.CHEN_SAVINGS.account_number == demo.CHEN_SAVINGS
    assert build.HENGDA_BASIC.account_number == demo.HENGDA_BASIC
    assert build.HENGDA_GENERAL.account_number == demo.HENGDA_GENERAL
    assert (build.HENGDA_USD.account_number, build.HENGDA_USD.currency) == (demo.HENGDA_USD, "USD")
    assert build.PRESERVATION_NOTICE == demo.PRESERVATION_NOTICE
    assert (build.YUNFU_COURT, build.GONGAN_COURT) == (demo.YUNFU_COURT.code, demo.GONGAN_COURT.code)


def _example(name: str) -> Document:
    return codec.from_element(parse((SIGNED / f"{name}.xml").read_bytes()))


def test_the_signed_examples_run_against_the_seeded_bank_as_the_example_receipts_say(bank):
    """QueryNotice, AssistanceNotice, ReleaseNotice and CaseCompletedNotice of examples/signed get
    the answers of the example receipts (rules 6–7, 10, 12–15, 17)."""
    h = bank
    receipt = h.deliver(SIGNED / "QueryNotice.xml").receipt
    expected = _example("ExecutionReceipt-BankQuery").body
    assert_receipt(receipt, answers=(SIGNED / "QueryNotice.xml").read_bytes(), statuses={"Q1": "Found", "Q2": "Found", "Q3": "Found"})
    for want in expected.results:
        got = receipt.result(want.query_id)
        if want.query_id == "Q3":  # transactions of the period (rule 6)
            assert [(t.time, t.direction, t.amount, t.balance_after, t.counterparty_name) for t in got.records] == [
                (t.time, t.direction, t.amount, t.balance_after, t.counterparty_name) for t in want.records
            ]
            continue
        found = {r.account.account_number: r for r in got.records}
        for record in want.records:  # every example account, with its balance, state, freezes, priority rights
            mine = found[record.account.account_number]
            assert (mine.balance, mine.account_status, mine.opened_on, mine.branch_name) == (
                record.balance, record.account_status, record.opened_on, record.branch_name
            )
            assert [(f.position, f.authority, f.case_number, f.amount, f.period) for f in mine.freezes] == [
                (f.position, f.authority, f.case_number, f.amount, f.period) for f in record.freezes
            ]
            assert mine.priority_rights == record.priority_rights
            if record.available_balance is not None:
                assert mine.available_balance == record.available_balance
    closed = [r for r in receipt.result("Q1").records if r.account_status.value == "Closed"]
    assert [r.account.account_number for r in closed] == [demo.CHEN_OLD_CARD]  # rule 7: 含已注销的账户

    notice = (SIGNED / "AssistanceNotice.xml").read_bytes()
    receipt = h.deliver(SIGNED / "AssistanceNotice.xml").receipt
    assert_receipt(
        receipt, answers=notice,
        statuses={"M1": "PartiallyExecuted", "M2": "Rotating", "M3": "Executed", "M4": "PartiallyExecuted", "M5": "Executed"},
    )
    for want in _example("ExecutionReceipt").body.results:
        got = receipt.result(want.measure_id)
        for name in ("requested_amount", "deducted_amount", "period", "queue_position", "priority_rights"):
            assert getattr(got, name) == getattr(want, name), (want.measure_id, name)
        if want.actual_amount is not None:
            assert got.actual_amount == want.actual_amount
        if want.deducted_amount is not None:  # rule 15: the receipt always states the amount not deducted
            assert got.not_deducted_amount == (want.not_deducted_amount or Money(value=Decimal(0), currency=want.deducted_amount.currency))
        assert [(p.position, p.authority, p.case_number, p.amount) for p in got.prior_measures] == [
            (p.position, p.authority, p.case_number, p.amount) for p in want.prior_measures
        ]
    assert "限额冻结" in receipt.result("M1").reason and "后续入账资金继续冻结" in receipt.result("M1").reason
    assert "轮候冻结" in receipt.result("M2").reason
    assert "2027-03-15" in receipt.result("M3").remark

    receipt = h.deliver(SIGNED / "ReleaseNotice.xml").receipt
    want = _example("ExecutionReceipt-BankRelease").body.results[0]
    got = receipt.result("R1")
    assert (got.status, got.released_amount) == (want.status, want.released_amount) == (ReleaseStatus.RELEASED, cny("100000.00"))
    assert frozen(h, demo.CHEN_CARD) == [(COURT, "effective", Decimal("400000.00"), Decimal("86432.57"))]

    assert h.deliver(SIGNED / "CaseCompletedNotice.xml").documents == []
    assert h.adapter.native.count("case_closures") == 1


# --- freezes: rotating, limit, top-up, priority rights (rules 10, 12) -------------------------------------------


def test_two_courts_freeze_one_account_the_second_rotates_and_the_unfreeze_of_the_first_activates_it(bank):
    h = bank
    first = yunfu(h, freeze("M1", amount="500000.00"))
    result = h.deliver(first).receipt.result("M1")
    assert result.status is ResultStatus.PARTIALLY_EXECUTED and result.actual_amount == cny("186432.57")

    second = gongan(h, freeze("M1", amount="100000.00"))
    out = h.deliver(second)
    assert_receipt(out.receipt, answers=second, statuses={"M1": "Rotating"})
    rotating = out.receipt.result("M1")
    assert out.receipt.recipient == COURT2 and out.receipt.case_number == GONGAN_CASE
    assert rotating.queue_position == 2 and rotating.actual_amount == cny("0.00") and rotating.effective_at is None
    assert [(p.position, p.authority_code, p.case_number, p.document_id, p.amount) for p in rotating.prior_measures] == [
        (1, COURT, YUNFU_CASE, first.header.document_id, cny("500000.00"))
    ]
    assert "轮候冻结（第2顺位）" in rotating.reason

    third = yunfu(h, freeze("M1", amount="50000.00", cls=BankRotatingFreeze), case=YUNFU_CASE2)
    result = h.deliver(third).receipt.result("M1")
    assert result.status is ResultStatus.ROTATING and result.queue_position == 3
    assert [(p.position, p.authority_code, p.document_id) for p in result.prior_measures] == [  # earlier freezes, in order
        (1, COURT, first.header.document_id), (2, COURT2, second.header.document_id)
    ]

    lifted = release(h, unfreeze("R1", first))
    out = h.deliver(lifted)
    assert_receipt(out.receipt, answers=lifted, statuses={"R1": "Released"})
    assert out.receipt.result("R1").released_amount == cny("186432.57")
    # the money flows down the queue: both rotating freezes take effect, each court is told,
    # answering its own notice, in its own case, before the release receipt
    assert [d.doc_type for d in out.documents] == ["MeasureStatusNotice", "MeasureStatusNotice", "ExecutionReceipt"]
    to_gongan, to_yunfu = out.of_type("MeasureStatusNotice")
    assert (to_gongan.recipient, to_gongan.in_reply_to, to_gongan.case_number) == (
        COURT2, str(second.header.document_id), GONGAN_CASE
    )
    assert to_gongan.body.measure == ref(second) and to_gongan.body.status is ResultStatus.EXECUTED
    assert to_gongan.body.actual_amount == cny("100000.00") and "轮候冻结依序生效" in to_gongan.body.reason
    assert (to_yunfu.recipient, to_yunfu.in_reply_to, to_yunfu.case_number) == (COURT, str(third.header.document_id), YUNFU_CASE2)
    assert to_yunfu.body.actual_amount == cny("50000.00")
    assert frozen(h, demo.CHEN_CARD) == [
        (COURT2, "effective", Decimal("100000.00"), Decimal("100000.00")),
        (COURT, "effective", Decimal("50000.00"), Decimal("50000.00")),
    ]
    # and the account as a query shows it (rule 7: 被有权机关冻结的情况)
    record = h.deliver(query(h, Query(query_id="Q1", kind=QueryKind.BANK_DEPOSITS, subject=CHEN, account=account()))).receipt.result("Q1").records[0]
    assert [(f.position, f.authority_code) for f in record.freezes] == [(1, COURT2), (2, COURT)]
    assert record.available_balance == cny("36432.57")


def test_a_limit_freeze_is_topped_up_by_later_income_before_a_rotating_freeze_gets_any(bank):
    h = bank
    limit = yunfu(h, freeze("M1", amount="200000.00"))
    result = h.deliver(limit).receipt.result("M1")
    assert (result.status, result.requested_amount, result.actual_amount, result.period) == (
        ResultStatus.PARTIALLY_EXECUTED, cny("200000.00"), cny("186432.57"), PERIOD
    )
    assert "账户可用余额186432.57元不足应冻结金额200000.00元" in result.reason
    rotating = gongan(h, freeze("M1", amount="50000.00"))
    assert h.deliver(rotating).receipt.result("M1").status is ResultStatus.ROTATING

    start = len(h.sent)
    h.adapter.credit("core-txn-1", demo.CHEN_CARD, "10000.00", counterparty_name="云浮市恒达石材有限公司", summary="工资")
    assert frozen(h, demo.CHEN_CARD)[0][3] == Decimal("196432.57") and h.sent[start:] == []  # the limit freeze grows
    h.adapter.credit("core-txn-2", demo.CHEN_CARD, "20000.00")
    assert frozen(h, demo.CHEN_CARD) == [
        (COURT, "effective", Decimal("200000.00"), Decimal("200000.00")),
        (COURT2, "effective", Decimal("50000.00"), Decimal("16432.57")),
    ]
    [notice] = [d for d in h.sent[start:] if d.doc_type == "MeasureStatusNotice"]
    assert notice.recipient == COURT2 and notice.in_reply_to == str(rotating.header.document_id)
    assert notice.body.status is ResultStatus.PARTIALLY_EXECUTED and notice.body.actual_amount == cny("16432.57")
    h.adapter.credit("core-txn-2", demo.CHEN_CARD, "20000.00")  # the same booking again: nothing happens
    assert h.adapter.native.account(demo.CHEN_CARD).balance == 21643257
    with pytest.raises(NativeRefusal, match="可用余额不足"):  # frozen money cannot be taken out
        h.adapter.native.withdraw("atm-1", demo.CHEN_CARD, "100.00", now=h.clock())


def test_priority_rights_are_listed_not_frozen_and_the_court_is_reminded_of_its_five_days(bank):
    h = bank
    notice = yunfu(h, freeze("M1", demo.HENGDA_GENERAL, "300000.00", holder=HENGDA))
    result = h.deliver(notice).receipt.result("M1")
    assert result.status is ResultStatus.PARTIALLY_EXECUTED
    assert result.actual_amount == cny("212500.00")  # 262500.00 less the 50000.00 margin (rule 12)
    assert [(p.holder, p.kind.value, p.amount) for p in result.priority_rights] == [("中国工商银行云浮分行", "Margin", cny("50000.00"))]
    assert "五个工作日" in result.remark and "不得强制扣划" in result.remark
    # no forced deduction of the margin either
    taken = h.deliver(yunfu(h, deduct("D1", "300000.00", demo.HENGDA_GENERAL, holder=HENGDA))).receipt.result("D1")
    assert taken.deducted_amount == cny("212500.00") and taken.priority_rights
    assert h.adapter.native.account(demo.HENGDA_GENERAL).balance == 5000000
    # the margin ends: its value becomes available and tops the freeze up
    [right] = h.adapter.native.account(demo.HENGDA_GENERAL).priority_rights
    h.adapter.end_priority_right("margin-released", right["id"])
    assert frozen(h, demo.HENGDA_GENERAL) == [(COURT, "effective", Decimal("87500.00"), Decimal("50000.00"))]


def test_continued_freeze_extends_the_end_date_and_lists_the_freezes_before_and_after(bank):
    h = bank
    preservation = MeasureRef(document_id=demo.PRESERVATION_NOTICE, measure_id="F1")
    new_period = Period(start=date(2026, 3, 16), end=date(2027, 3, 15))
    continued = BankContinuedFreeze(
        measure_id="M1", subject=CHEN, continues=preservation, account=account(demo.CHEN_SAVINGS),
        amount=cny("120000.00"), period=new_period,
    )
    notice = yunfu(h, continued)
    result = h.deliver(notice).receipt.result("M1")
    assert (result.status, result.actual_amount, result.period, result.queue_position) == (
        ResultStatus.EXECUTED, cny("120000.00"), new_period, None  # alone on the account
    )
    assert "原冻结截止日2026-03-15已延长至2027-03-15" in result.remark
    assert h.adapter.native.freeze_by_ref(MeasureKey(str(demo.PRESERVATION_NOTICE), "F1"))["end"] == "2027-03-15"

    # Gong'an continues its own (seeded) freeze of Hengda's basic account; Yunfu's rotating freeze is behind it
    h.deliver(yunfu(h, freeze("M1", demo.HENGDA_BASIC, "600000.00", holder=HENGDA, cls=BankRotatingFreeze)))
    own = BankContinuedFreeze(
        measure_id="M1", subject=HENGDA, continues=MeasureRef(document_id=demo.GONGAN_NOTICE, measure_id="F1"),
        account=account(demo.HENGDA_BASIC, HENGDA), amount=cny("350000.00"),
        period=Period(start=date(2027, 1, 20), end=date(2028, 1, 19)),
    )
    result = h.deliver(gongan(h, own)).receipt.result("M1")
    assert result.status is ResultStatus.EXECUTED and result.queue_position == 1
    assert [(p.position, p.authority) for p in result.prior_measures] == [  # 前后顺序冻结记录 (rule 10 para. 4)
        (2, "云浮市云城区人民法院"), (3, "广东省云浮市中级人民法院")
    ]

    # not the freezing court, not later than the current end, an unknown freeze: rule 17
    foreign = continued.model_copy(update={"period": Period(start=date(2027, 3, 16), end=date(2028, 3, 15))})
    assert_not_executed(h.deliver(gongan(h, foreign)).receipt, "M1", reason_contains="本院无权续冻")
    earlier = continued.model_copy(update={"period": Period(start=date(2026, 3, 16), end=date(2026, 12, 31))})
    assert_not_executed(h.deliver(yunfu(h, earlier)).receipt, "M1", reason_contains="不构成续行冻结")
    unknown = continued.model_copy(update={"continues": MeasureRef(document_id=UUID(int=7), measure_id="F9")})
    assert_not_executed(h.deliver(yunfu(h, unknown)).receipt, "M1", reason_contains="未查到")


# --- deductions (rules 13–15) ---------------------------------------------------------------------------------------


def test_a_deduction_after_a_freeze_needs_no_unfreeze_and_reports_deducted_and_not_deducted(bank):
    h = bank
    first = yunfu(h, freeze("M1", amount="100000.00"))
    assert h.deliver(first).receipt.result("M1").status is ResultStatus.EXECUTED
    other = h.deliver(gongan(h, freeze("M1", amount="50000.00"))).receipt.result("M1")
    assert other.status is ResultStatus.EXECUTED and other.queue_position == 2  # stacked behind the first (rule 10)

    notice = yunfu(h, deduct("D1", "60000.00", from_freeze=ref(first)))
    out = h.deliver(notice)
    assert_receipt(out.receipt, answers=notice, statuses={"D1": "Executed"})
    result = out.receipt.result("D1")
    # rule 15: part of a frozen deposit deducted -> not deducted = original frozen − deducted
    assert (result.deducted_amount, result.not_deducted_amount) == (cny("60000.00"), cny("40000.00"))
    assert "无需先行解除冻结" in result.remark
    assert frozen(h, demo.CHEN_CARD) == [
        (COURT, "effective", Decimal("40000.00"), Decimal("40000.00")),
        (COURT2, "effective", Decimal("50000.00"), Decimal("50000.00")),
    ]

    # more than is there: the rest of its own freeze and the available balance, never Gong'an's frozen money
    result = h.deliver(yunfu(h, deduct("D2", "200000.00"))).receipt.result("D2")
    assert result.status is ResultStatus.PARTIALLY_EXECUTED
    assert (result.deducted_amount, result.not_deducted_amount) == (cny("76432.57"), cny("123567.43"))
    assert "其他冻结在先的资金50000.00元不予扣划" in result.reason
    assert frozen(h, demo.CHEN_CARD) == [(COURT2, "effective", Decimal("50000.00"), Decimal("50000.00"))]
    assert h.adapter.native.account(demo.CHEN_CARD).balance == 5000000

    # the money went to the court's enforcement account (rules 13–14): the debits are on the account
    q = Query(query_id="Q1", kind=QueryKind.BANK_TRANSACTIONS, subject=CHEN, account=account(), period=Period(start=START.date(), end=START.date()))
    records = h.deliver(query(h, q)).receipt.result("Q1").records
    assert [(t.direction.value, t.amount, t.counterparty_account, t.counterparty_name) for t in records] == [
        ("Debit", cny("60000.00"), YUNFU_ACCOUNT.account_number, YUNFU_ACCOUNT.account_name),
        ("Debit", cny("76432.57"), YUNFU_ACCOUNT.account_number, YUNFU_ACCOUNT.account_name),
    ]
    assert records[-1].balance_after == cny("50000.00")


def test_foreign_currency_is_deducted_to_the_foreign_currency_account_only(bank):
    h = bank
    usd = YUNFU_ACCOUNT.model_copy(update={"account_number": "2017002119200088899", "account_name": "云浮市中级人民法院外币执行款专户", "currency": "USD"})
    ok = BankDeduct(measure_id="D1", subject=HENGDA, account=account(demo.HENGDA_USD, HENGDA, "USD"),
                    amount=Money(value=Decimal("12000.00"), currency="USD"), enforcement_account=usd)
    result = h.deliver(yunfu(h, ok)).receipt.result("D1")
    assert result.status is ResultStatus.EXECUTED and result.deducted_amount == Money(value=Decimal("12000.00"), currency="USD")
    cny_on_usd = ok.model_copy(update={"measure_id": "D2", "amount": cny("100.00"), "enforcement_account": YUNFU_ACCOUNT})
    assert_not_executed(h.deliver(yunfu(h, cny_on_usd)).receipt, "D2", reason_contains="币种")


# --- what cannot be done (rule 17) -------------------------------------------------------------------------


def test_measures_that_cannot_be_carried_out_are_not_executed_with_the_reason(bank):
    h = bank
    notice = yunfu(
        h,
        freeze("M1", "6222022010009999999"),                                  # no such account
        freeze("M2", demo.CHEN_OLD_CARD),                                     # closed
        freeze("M3", demo.HENGDA_BASIC),                                      # not the debtor's account
        freeze("M4", demo.CHEN_CARD, "100.00", currency="USD"),               # currency mismatch
        deduct("M5", "100.00", demo.CHEN_OLD_CARD),
    )
    receipt = h.deliver(notice).receipt
    assert_receipt(receipt, answers=notice, statuses={m: "NotExecuted" for m in ("M1", "M2", "M3", "M4", "M5")})
    assert_not_executed(receipt, "M1", reason_contains="查无账号")
    assert_not_executed(receipt, "M2", reason_contains="已于2025-06-30销户")
    assert_not_executed(receipt, "M3", reason_contains="户名或证件号码")
    assert_not_executed(receipt, "M4", reason_contains="币种")
    assert_not_executed(receipt, "M5", reason_contains="销户")
    assert h.adapter.native.count("freezes", "origin='network'") == 0 and h.adapter.native.count("deductions") == 0

    # a release naming another court's freeze, or no known freeze, is not released
    theirs = gongan(h, freeze("M1", amount="1000.00"))
    h.deliver(theirs)
    lifted = release(h, unfreeze("R1", theirs), unfreeze("R2", notice, "M9"))
    receipt = h.deliver(lifted).receipt
    assert_receipt(receipt, answers=lifted, statuses={"R1": "NotReleased", "R2": "NotReleased"})
    assert_not_executed(receipt, "R1", reason_contains="本院无权解除冻结")
    assert_not_executed(receipt, "R2", reason_contains="未查到")


# --- releases: every bank measure that can be released -----------------------------------------------------------


def test_every_releasable_bank_measure_can_be_released(bank):
    """BankUnfreeze lifts BankFreeze, BankRotatingFreeze (waiting or in effect) and
    BankContinuedFreeze (catalogue.RELEASABLE), in full or in part; deductions are final."""
    h = bank
    plain = yunfu(h, freeze("M1", amount="500000.00"))
    h.deliver(plain)
    waiting = gongan(h, freeze("M1", amount="100000.00", cls=BankRotatingFreeze))
    assert h.deliver(waiting).receipt.result("M1").status is ResultStatus.ROTATING
    behind = gongan(h, freeze("M2", amount="1000.00", cls=BankRotatingFreeze))
    assert h.deliver(behind).receipt.result("M2").queue_position == 3
    continued = yunfu(h, BankContinuedFreeze(
        measure_id="C1", subject=CHEN, continues=ref(plain), account=account(), amount=cny("500000.00"),
        period=Period(start=date(2027, 3, 4), end=date(2028, 3, 3)),
    ))
    result = h.deliver(continued).receipt.result("C1")
    assert result.status is ResultStatus.PARTIALLY_EXECUTED and "限额冻结" in result.reason

    # a rotating freeze while still waiting: lifted, the queue closes up, nothing moves
    out = h.deliver(release(h, unfreeze("R1", waiting), court=EXAMPLE_COURT2, case=GONGAN_CASE))
    assert out.receipt.result("R1").status is ReleaseStatus.RELEASED
    assert out.receipt.result("R1").released_amount == cny("0.00") and out.of_type("MeasureStatusNotice") == []
    assert [f[0] for f in frozen(h, demo.CHEN_CARD)] == [COURT, COURT2]

    # the continued freeze, in part (named by the continuation): 100000.00 of it
    out = h.deliver(release(h, unfreeze("R1", continued, "C1", amount="100000.00")))
    assert out.receipt.result("R1").released_amount == cny("100000.00")
    assert "其余继续冻结" in out.receipt.result("R1").remark and "轮候冻结" in out.receipt.result("R1").remark
    assert frozen(h, demo.CHEN_CARD)[0] == (COURT, "effective", Decimal("400000.00"), Decimal("86432.57"))
    # the released money flowed down the queue: the rotating 1000.00 took effect
    [notice] = out.of_type("MeasureStatusNotice")
    assert notice.in_reply_to == str(behind.header.document_id) and notice.body.measure.measure_id == "M2"

    # the plain freeze, in full (named by the original notice)
    out = h.deliver(release(h, unfreeze("R1", plain)))
    assert out.receipt.result("R1").released_amount == cny("86432.57")
    assert frozen(h, demo.CHEN_CARD) == [(COURT2, "effective", Decimal("1000.00"), Decimal("1000.00"))]

    # the effective rotating freeze, in full; a second release of the same freeze is refused
    out = h.deliver(release(h, unfreeze("R1", behind, "M2"), court=EXAMPLE_COURT2, case=GONGAN_CASE))
    assert out.receipt.result("R1").released_amount == cny("1000.00")
    again = h.deliver(release(h, unfreeze("R1", plain)))
    assert_not_executed(again.receipt, "R1", reason_contains="已解除")
    assert h.adapter.native.account(demo.CHEN_CARD).available == 18643257


# --- queries (rules 6–7) --------------------------------------------------------------------------------------


def test_transaction_query_returns_the_period_asked_and_no_account_is_said_plainly(bank):
    h = bank
    notice = query(
        h,
        Query(query_id="Q1", kind=QueryKind.BANK_TRANSACTIONS, subject=CHEN,
              period=Period(start=date(2025, 9, 1), end=date(2026, 2, 28))),
        Query(query_id="Q2", kind=QueryKind.BANK_TRANSACTIONS, subject=CHEN,
              period=Period(start=date(2025, 7, 10), end=date(2025, 7, 10))),
        Query(query_id="Q3", kind=QueryKind.BANK_TRANSACTIONS, subject=CHEN, account=account(demo.CHEN_SAVINGS),
              period=Period(start=date(2025, 1, 1), end=date(2026, 2, 28))),
        Query(query_id="Q4", kind=QueryKind.BANK_DEPOSITS, subject=LIU),
        Query(query_id="Q5", kind=QueryKind.BANK_TRANSACTIONS, subject=LIU, period=PERIOD),
    )
    receipt = h.deliver(notice).receipt
    assert_receipt(receipt, answers=notice, statuses={"Q1": "Found", "Q2": "Found", "Q3": "NotFound", "Q4": "NotFound", "Q5": "NotFound"})
    assert [t.time.date().isoformat() for t in receipt.result("Q1").records] == ["2026-01-15", "2026-02-06", "2026-02-25"]
    [salary] = receipt.result("Q2").records
    assert (salary.direction.value, salary.amount, salary.counterparty_name) == ("Credit", cny("20000.00"), HENGDA.name)
    assert "无交易明细" in receipt.result("Q3").reason
    assert receipt.result("Q4").reason.startswith("查无开户信息") and receipt.result("Q5").reason.startswith("查无开户信息")


# --- exactly once ----------------------------------------------------------------------------------------------


def test_a_document_delivered_twice_is_executed_once(bank):
    h = bank
    notice = h.seal(yunfu(h, freeze("M1", amount="1000.00"), deduct("D1", "500.00")))
    operations = h.adapter.native.operations()
    first = h.deliver(notice).receipt
    again = h.redeliver(notice)
    assert again.receipt.raw == first.raw  # the stored receipt, the same bytes
    assert h.adapter.native.operations() == operations + 2
    assert h.adapter.native.count("freezes", "origin='network'") == 1 and h.adapter.native.count("deductions") == 1
    assert h.adapter.native.account(demo.CHEN_CARD).balance == 18593257


def _crash_after(h: Harness, method: str) -> None:
    """Make the adapter's core call ``method`` die (SystemExit) right after committing."""
    real = getattr(h.adapter.native, method)

    def dying(*args, **kwargs):
        real(*args, **kwargs)
        raise SystemExit(f"killed after {method}")

    setattr(h.adapter.native, method, dying)


def test_a_killed_adapter_resends_its_receipt_after_restart_without_a_second_native_operation(bank):
    h = bank
    notice = yunfu(h, freeze("M1", amount="500000.00"))
    _crash_after(h, "freeze")
    with pytest.raises(SystemExit):
        h.deliver(notice)
    assert h.sent == [] and h.adapter.native.count("freezes", "origin='network'") == 1
    out = h.restart()  # a new process over the same store and core: the handler runs again
    assert_receipt(out.receipt, answers=notice, statuses={"M1": "PartiallyExecuted"})
    assert out.receipt.result("M1").actual_amount == cny("186432.57")  # the recorded outcome, not a second freeze
    assert h.adapter.native.count("freezes", "origin='network'") == 1
    assert frozen(h, demo.CHEN_CARD) == [(COURT, "effective", Decimal("500000.00"), Decimal("186432.57"))]


def test_a_kill_between_the_unfreeze_and_the_status_notice_tells_the_next_court_exactly_once(bank):
    h = bank
    first = yunfu(h, freeze("M1", amount="500000.00"))
    h.deliver(first)
    second = gongan(h, freeze("M1", amount="100000.00"))
    h.deliver(second)
    lifted = release(h, unfreeze("R1", first))
    _crash_after(h, "unfreeze")
    with pytest.raises(SystemExit):
        h.deliver(lifted)
    assert [d.doc_type for d in h.sent if d.in_reply_to == str(lifted.header.document_id)] == []
    before = len(h.sent)
    out = h.restart()  # start() sends the recorded promotion; the handler gets the recorded unfreeze
    assert [d.doc_type for d in h.sent[before:]] == ["MeasureStatusNotice", "ExecutionReceipt"]
    assert h.sent[before].in_reply_to == str(second.header.document_id)
    assert out.receipt.result("R1").released_amount == cny("186432.57")
    assert h.adapter.native.count("releases") == 1

    # killed while handing the notice over: the same stored notice goes out after restart
    waiting = gongan(h, freeze("M2", demo.CHEN_SAVINGS, "50000.00"))
    assert h.deliver(waiting).receipt.result("M2").status is ResultStatus.ROTATING  # behind the preservation freeze
    crashed = {"done": False}

    def die_once(raw: bytes) -> None:
        if not crashed["done"] and b"MeasureStatusNotice" in raw:
            crashed["done"] = True
            raise SystemExit("killed while handing the status notice over")

    preservation = Release(
        release_id="R1", kind=ReleaseKind.BANK_UNFREEZE, subject=CHEN, reason=ReleaseReason.PERFORMED,
        releases=MeasureRef(document_id=demo.PRESERVATION_NOTICE, measure_id="F1"),
    )
    h.on_send = die_once
    with pytest.raises(SystemExit):
        h.deliver(release(h, preservation))
    h.on_send = None
    h.restart()
    notices = [d for d in h.sent if d.doc_type == "MeasureStatusNotice" and d.in_reply_to == str(waiting.header.document_id)]
    assert notices and len({d.document_id for d in notices}) == 1  # handed again, never sealed twice
    assert notices[0].body.measure.measure_id == "M2" and notices[0].body.actual_amount == cny("50000.00")
    assert [row["outcome"] for row in h.adapter.native.status_notices()] == ["sent", "sent"]


# --- closure, lapse -------------------------------------------------------------------------------------------------


def test_a_case_completed_notice_is_recorded_and_lifts_nothing_by_itself(bank):
    h = bank
    h.deliver(yunfu(h, freeze("M1", amount="1000.00")))
    done = h.document(CaseCompletedNotice(completed_on=date(2026, 3, 4), outcome=CaseOutcome.PERFORMED), case_number=YUNFU_CASE)
    assert h.deliver(done).documents == [] and h.job(done).state == "done"
    assert h.adapter.native.count("case_closures", "live_freezes=1") == 1
    assert frozen(h, demo.CHEN_CARD) == [(COURT, "effective", Decimal("1000.00"), Decimal("1000.00"))]  # 004 art. 35: a release notice lifts it


def test_end_of_day_lapses_ended_freezes_and_the_next_one_takes_effect(bank):
    h = bank
    short = Period(start=date(2026, 3, 4), end=date(2026, 3, 10))
    h.deliver(yunfu(h, freeze("M1", amount="500000.00", period=short)))
    waiting = gongan(h, freeze("M1", amount="100000.00"))
    h.deliver(waiting)
    h.adapter.end_of_day(date(2026, 3, 10))
    assert [f[1] for f in frozen(h, demo.CHEN_CARD)] == ["effective", "rotating"]  # ends that day: still in force
    start = len(h.sent)
    out = h.adapter.end_of_day(date(2026, 3, 11))
    assert len(out["lapsed"]) == 1
    [notice] = h.sent[start:]
    assert notice.doc_type == "MeasureStatusNotice" and notice.in_reply_to == str(waiting.header.document_id)
    assert "到期失效" in notice.body.reason


# --- live: a real Mosquitto, the hub, two courts, the bank adapter -----------------------------------------------------


@pytest.fixture
def hub(mosquitto, tmp_path):
    h = Hub(hub_config(HUB, port=mosquitto.port, var=tmp_path / "hub", workers=0, delivery={"ack_timeout_seconds": 2}))
    h.start()
    yield h
    h.stop()


def _court(mosquitto, tmp_path, code: str) -> CourtClient:
    recorder = Recorder()
    client = CourtClient(unit_config(code, port=mosquitto.port, var=tmp_path / "courts", resend_after_seconds=2), handler=recorder)
    client.recorder = recorder
    return client


def _answers(court: CourtClient, doc_type: str, notice: Document):
    notice_id = str(notice.header.document_id)
    return [r for r in court.recorder.of_type(doc_type) if r.in_reply_to == notice_id]


def test_live_two_courts_freeze_one_account_and_the_unfreeze_activates_the_rotating_freeze(hub, mosquitto, tmp_path):
    config = config_model(BankAdapter)(
        unit=unit_config(BANK, port=mosquitto.port, var=tmp_path / "bank", resend_after_seconds=2),
        adapter=BankSettings(demo=True),
        execution=ExecutionSettings(idle_poll_seconds=0.2),
    )
    yunfu_court, gongan_court = _court(mosquitto, tmp_path, COURT), _court(mosquitto, tmp_path, COURT2)
    with yunfu_court, gongan_court, AdapterService(BankAdapter, config) as service:
        def publish(court: CourtClient, body, *, sender: str, case: str, officers) -> Document:
            doc = Document.create(body, sender=sender, recipient=BANK, case_number=case, officers=list(officers))
            answer = court.publish(doc, timeout=30)
            assert answer.accepted, answer.errors
            return doc

        def receipt(court: CourtClient, notice: Document):
            wait_until(lambda: _answers(court, "ExecutionReceipt", notice), 30, "the bank's receipt")
            return _answers(court, "ExecutionReceipt", notice)[0].document().body.results[0]

        first = publish(yunfu_court, AssistanceNotice(ruling=EXAMPLE_RULING, measures=[freeze("M1")]),
                        sender=COURT, case=YUNFU_CASE, officers=EXAMPLE_OFFICERS)
        result = receipt(yunfu_court, first)
        assert result.status is ResultStatus.PARTIALLY_EXECUTED and result.actual_amount == cny("186432.57")

        second = publish(gongan_court, AssistanceNotice(ruling=GONGAN_RULING, measures=[freeze("M1", amount="100000.00")]),
                         sender=COURT2, case=GONGAN_CASE, officers=GONGAN_OFFICERS)
        result = receipt(gongan_court, second)
        assert result.status is ResultStatus.ROTATING and result.queue_position == 2
        assert [(p.position, p.authority_code, p.document_id) for p in result.prior_measures] == [
            (1, COURT, first.header.document_id)
        ]

        lifted = publish(
            yunfu_court,
            ReleaseNotice(ruling=RulingRef(ruling_number=f"{YUNFU_CASE}之二"), releases=[unfreeze("R1", first)]),
            sender=COURT, case=YUNFU_CASE, officers=EXAMPLE_OFFICERS,
        )
        assert receipt(yunfu_court, lifted).status is ReleaseStatus.RELEASED
        wait_until(lambda: _answers(gongan_court, "MeasureStatusNotice", second), 30, "the status notice at Gong'an")
        [notice] = _answers(gongan_court, "MeasureStatusNotice", second)
        document = notice.document()
        assert document.header.sender == BANK and document.header.case_number == GONGAN_CASE
        assert document.body.measure == ref(second) and document.body.status is ResultStatus.EXECUTED
        assert document.body.actual_amount == cny("100000.00")
        assert yunfu_court.recorder.of_type("MeasureStatusNotice") == []  # the hub routed it to Gong'an only
        [row] = service.adapter.native.status_notices()
        wait_until(lambda: (sent := service.store.get_sent(row["sent_document_id"])) is not None
                   and sent.state == "receipted", 30, "the hub's service receipt for the status notice")


def test_live_a_killed_bank_adapter_answers_after_restart_without_freezing_twice(hub, mosquitto, tmp_path):
    """The worker dies (SystemExit) right after the core committed the freeze; the restarted
    adapter gets the recorded outcome from the core and sends the receipt."""
    config = config_model(BankAdapter)(
        unit=unit_config(BANK, port=mosquitto.port, var=tmp_path / "bank", resend_after_seconds=2),
        adapter=BankSettings(demo=True),
        execution=ExecutionSettings(idle_poll_seconds=0.2),
    )
    court = _court(mosquitto, tmp_path, COURT)
    notice = Document.create(
        AssistanceNotice(ruling=EXAMPLE_RULING, measures=[freeze("M1")]),
        sender=COURT, recipient=BANK, case_number=YUNFU_CASE, officers=list(EXAMPLE_OFFICERS),
    )
    with court:
        service = AdapterService(BankAdapter, config)
        real = service.adapter.native.freeze

        def dying(*args, **kwargs):
            real(*args, **kwargs)
            raise SystemExit("killed after the core committed the freeze")

        service.adapter.native.freeze = dying
        service.start()
        try:
            assert court.publish(notice, timeout=30).accepted
            wait_until(lambda: not service.alive, 30, "the adapter to die after the native operation")
        finally:
            service.stop()
        assert not _answers(court, "ExecutionReceipt", notice)
        with AdapterService(BankAdapter, config) as again:
            wait_until(lambda: _answers(court, "ExecutionReceipt", notice), 30, "the receipt after the restart")
            assert again.adapter.native.count("freezes", "origin='network'") == 1
        result = _answers(court, "ExecutionReceipt", notice)[0].document().body.results[0]
        assert result.status is ResultStatus.PARTIALLY_EXECUTED and result.actual_amount == cny("186432.57")
