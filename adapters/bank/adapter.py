"""The reference bank adapter: court documents in, core-banking operations, sealed receipts out.

Each handler turns one item of a court's notice into one operation of the core-banking
stand-in (:mod:`adapters.bank.native`, where the rules are), made with the item's idempotency
key, and the outcome into the result the receipt carries. The rules are those of 003
人民法院、银行业金融机构网络执行查控工作规范 ("rule N"):

- queries (rules 6–7, 12): accounts with opening date, branch, holder, type, status (closed
  ones too), balance, phone, the freezes on them and the priority rights; "查无开户信息" when the
  debtor has no account; transactions in the period asked (rule 6);
- freezes (rule 10): in full, as a limit freeze when the available balance is short (requested
  and actual amounts and the period on the receipt), or rotating behind earlier freezes (status
  Rotating, queue position, the earlier freezes in order); continued freeze extends the end
  date; priority rights listed, not frozen, with the court's five-working-day duty (rule 12);
- deductions without prior unfreeze into the court's enforcement account (rules 13–15), with
  deducted and not-deducted amounts;
- unfreezes (BankUnfreeze releases, partial with an amount; 001 第二十一条), after which the next
  rotating freeze takes effect and *its* court is told with a ``MeasureStatusNotice`` answering
  that court's own notice (rule 10);
- what cannot be carried out is NotExecuted / NotReleased with the reason (rule 17); nothing is
  refused on the merits (001 第二十条) nor because the court is elsewhere (rule 18: 不受地域限制 —
  the Hubei court's freeze of a Yunfu account is executed like the Yunfu court's);
- a case-completed notice (004 第三十五条) is recorded; the bank lifts nothing on its own — the
  court's release notice does (the hub's OutstandingMeasuresNotice reminds it).

Status notices are written by the core system in the transaction that promotes the freeze and
sent from there by :meth:`BankAdapter.send_status_notices` with a key per promotion: exactly
once, also after a crash (they are sent again at the next start).
"""

from __future__ import annotations

import threading
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from adapters.bank.demo import seed
from adapters.bank.native import CoreBanking, Court, MeasureKey, NativeRefusal, Party, fmt, yuan
from adapters.sdk import Adapter, Context, PermanentError, handles, on_document
from adapters.sdk.runtime import Runtime
from broker.documents.bodies import CaseCompletedNotice, MeasureStatusNotice
from broker.documents.catalogue import UnitKind
from broker.documents.common import BankAccount, MeasureRef, Money, NaturalPerson, Period, Subject
from broker.documents.document import Document
from broker.documents.measures import (
    BankContinuedFreeze,
    BankDeduct,
    BankFreeze,
    BankRotatingFreeze,
    Release,
    ReleaseKind,
)
from broker.documents.queries import Query, QueryKind
from broker.documents.results import (
    AccountStatus,
    BankAccountRecord,
    Direction,
    MeasureResult,
    PriorityKind,
    PriorityRight,
    PriorMeasure,
    QueryResult,
    QueryStatus,
    Record,
    ReleaseResult,
    ReleaseStatus,
    ResultStatus,
    TransactionRecord,
)
from broker.errors import LiandongError


class BankSettings(BaseModel):
    """``adapter:`` section of the bank adapter's configuration."""

    model_config = ConfigDict(extra="forbid")

    core_db: str = Field("bank-core.db", description="the stand-in's SQLite file, relative to the store's directory")
    demo: bool = Field(False, description="load adapters.bank.demo's example data into an empty bank")


def party(subject: Subject) -> Party:
    """The debtor's name and resident ID number or USCC."""
    if isinstance(subject, NaturalPerson):
        return Party(subject.name, subject.id_number)
    return Party(subject.name, subject.unit_code)


def money(value: int, currency: str) -> Money:
    return Money(value=yuan(value), currency=currency)


PRIORITY_DUTY = (
    "该账户登记有优先受偿权，其金额不计入实际冻结金额、不予扣划；请执行法院在冻结后五个工作日内将冻结情况通知优先受偿权人，"
    "优先受偿权人主张权利的审查处理期间不得强制扣划。（003 规范12）"
)


class BankAdapter(Adapter):
    """Bank (银行业金融机构): deposit queries, freezes, rotating and continued freezes, unfreezes and deductions."""

    name = "bank"
    unit_kinds: ClassVar = frozenset({UnitKind.BANK})
    settings_model = BankSettings

    def __init__(self, settings: BankSettings, runtime: Runtime):
        super().__init__(settings, runtime)
        self.settings: BankSettings = settings
        path = Path(settings.core_db)
        self.native = CoreBanking(path if path.is_absolute() else runtime.data_dir / path)
        if settings.demo:
            seed(self.native)
        self._notices = threading.Lock()

    def start(self) -> None:
        self.send_status_notices()  # promotions recorded before a crash

    def stop(self) -> None:
        self.native.close()

    # --- helpers --------------------------------------------------------------------------------------

    def _court(self, ctx: Context) -> Court:
        entry = self.runtime.registry.unit(ctx.court)
        return Court(ctx.court, entry.name if entry else ctx.court, ctx.case_number)

    def _prior(self, entries: list[dict[str, Any]]) -> list[PriorMeasure]:
        return [
            PriorMeasure(
                position=e["position"],
                authority=e["authority"],
                authority_code=e["authority_code"],
                case_number=e["case_number"],
                document_id=UUID(e["document_id"]) if e["document_id"] else None,
                amount=money(e["amount"], e["currency"]),
                period=Period(start=e["start"], end=e["end"]),
            )
            for e in entries
        ]

    @staticmethod
    def _rights(entries: list[dict[str, Any]], currency: str) -> list[PriorityRight]:
        return [
            PriorityRight(holder=p["holder"], kind=PriorityKind(p["kind"]), amount=money(p["amount"], currency))
            for p in entries
        ]

    def _call(self, fn: Any, **kwargs: Any) -> dict[str, Any]:
        try:
            return fn(**kwargs)
        except NativeRefusal as refusal:
            raise PermanentError(refusal.reason) from None

    # --- queries (003 规范6–7、12) ------------------------------------------------------------------

    @handles(Query, kinds={QueryKind.BANK_DEPOSITS})
    def deposits(self, query: Query, ctx: Context) -> QueryResult:
        """Accounts of the debtor with balances, freezes and priority rights (rules 7, 12)."""
        accounts = self.native.accounts_of(party(query.subject).id_code)
        if query.account is not None:
            accounts = [a for a in accounts if a.number == query.account.account_number]
        if not accounts:
            return QueryResult(query_id=query.query_id, status=QueryStatus.NOT_FOUND, reason="查无开户信息。（003 规范7）")
        records: list[Record] = []
        for a in accounts:
            if a.status == "Closed":
                status = AccountStatus.CLOSED
            elif a.status == "Dormant":
                status = AccountStatus.DORMANT
            else:
                status = AccountStatus.FROZEN if a.freezes else AccountStatus.NORMAL
            records.append(
                BankAccountRecord(
                    account=BankAccount(
                        bank_name=a.bank_name, account_number=a.number, account_name=a.holder_name, currency=a.currency
                    ),
                    branch_name=a.branch,
                    opened_on=date.fromisoformat(a.opened_on),
                    account_type=a.account_type,
                    account_status=status,
                    balance=money(a.balance, a.currency),
                    available_balance=money(a.available, a.currency),
                    phone=a.phone,
                    freezes=self._prior(a.freezes),
                    priority_rights=self._rights(a.priority_rights, a.currency),
                )
            )
        ctx.log.info("bank.query_deposits", accounts=len(records))
        return QueryResult(query_id=query.query_id, status=QueryStatus.FOUND, records=records)

    @handles(Query, kinds={QueryKind.BANK_TRANSACTIONS})
    def transactions(self, query: Query, ctx: Context) -> QueryResult:
        """Transaction details of the debtor's accounts in the period, with counterparties (rule 6)."""
        if query.period is None:
            raise PermanentError("查询交易明细须载明查询区间。（003 规范6）")
        accounts = self.native.accounts_of(party(query.subject).id_code)
        if query.account is not None:
            accounts = [a for a in accounts if a.number == query.account.account_number]
        if not accounts:
            return QueryResult(query_id=query.query_id, status=QueryStatus.NOT_FOUND, reason="查无开户信息。（003 规范7）")
        records: list[Record] = []
        for a in accounts:
            for t in self.native.transactions(a.number, query.period.start, query.period.end):
                records.append(
                    TransactionRecord(
                        account_number=a.number,
                        time=datetime.fromisoformat(t["time"]),
                        direction=Direction(t["direction"]),
                        amount=money(t["amount"], a.currency),
                        balance_after=money(t["balance_after"], a.currency),
                        counterparty_name=t["counterparty_name"],
                        counterparty_account=t["counterparty_account"],
                        counterparty_bank=t["counterparty_bank"],
                        summary=t["summary"],
                    )
                )
        ctx.log.info("bank.query_transactions", accounts=len(accounts), records=len(records))
        if not records:
            return QueryResult(
                query_id=query.query_id,
                status=QueryStatus.NOT_FOUND,
                reason=f"被执行人账户在{query.period.start}至{query.period.end}期间无交易明细。（003 规范6）",
            )
        return QueryResult(query_id=query.query_id, status=QueryStatus.FOUND, records=records)

    # --- freezes (003 规范10–12) -------------------------------------------------------------------------

    @handles(BankFreeze, BankRotatingFreeze)
    def freeze(self, measure: BankFreeze, ctx: Context) -> MeasureResult:
        """Freeze, limit freeze or rotating freeze of the named account (rule 10)."""
        now = ctx.runtime.now()
        out = self._call(
            self.native.freeze,
            key=ctx.idempotency_key,
            court=self._court(ctx),
            measure=MeasureKey(ctx.document_id, measure.measure_id),
            measure_type=measure.xml_tag,
            account=measure.account.account_number,
            holder=party(measure.subject),
            account_name=measure.account.account_name,
            account_currency=measure.account.currency,
            amount=measure.amount.value,
            currency=measure.amount.currency,
            start=measure.period.start,
            end=measure.period.end,
            now=now,
        )
        cur, claim, frozen, position = out["currency"], out["amount"], out["frozen"], out["position"]
        earlier = position - 1
        remarks = []
        reason = None
        if frozen >= claim:
            status = ResultStatus.EXECUTED
            if earlier:
                remarks.append(f"该账户另有{earlier}项在先冻结，本次冻结在在先冻结之后的可用余额内办理（第{position}顺位）。")
            elif measure.xml_tag == "BankRotatingFreeze":
                remarks.append("该账户无在先冻结，本次轮候冻结即时生效。")
        elif out["state"] == "rotating":
            status = ResultStatus.ROTATING
            reason = (
                f"该账户可用余额已被{earlier}项在先冻结全部冻结，本次冻结登记为轮候冻结（第{position}顺位）；"
                "在先冻结解除、到期或账户有新的可用资金时依序生效，届时另行通知。（003 规范10）"
            )
        else:
            status = ResultStatus.PARTIALLY_EXECUTED
            before = f"该账户另有{earlier}项在先冻结，" if earlier else ""
            reason = (
                f"{before}账户可用余额{fmt(out['available'], cur)}不足应冻结金额{fmt(claim, cur)}，已按可用余额限额冻结"
                f"{fmt(frozen, cur)}；冻结期限内后续入账资金继续冻结，直至达到应冻结金额。（003 规范10）"
            )
        if out["priority"]:
            remarks.append(PRIORITY_DUTY)
        ctx.log.info("bank.freeze", state=out["state"], position=position, status=status)
        return MeasureResult(
            measure_id=measure.measure_id,
            status=status,
            requested_amount=measure.amount,
            actual_amount=money(frozen, cur),
            period=measure.period,
            queue_position=position if earlier else None,
            prior_measures=self._prior(out["prior"]),
            priority_rights=self._rights(out["priority"], cur),
            effective_at=datetime.fromisoformat(out["at"]) if out["state"] == "effective" else None,
            reason=reason,
            remark="".join(remarks) or None,
        )

    @handles(BankContinuedFreeze)
    def continued_freeze(self, measure: BankContinuedFreeze, ctx: Context) -> MeasureResult:
        """续冻: the named freeze's end date moves to the new period's end (rule 10 para. 4); the
        receipt lists the freezes before and after it on the account."""
        now = ctx.runtime.now()
        continues = measure.continues
        out = self._call(
            self.native.continue_freeze,
            key=ctx.idempotency_key,
            court=self._court(ctx),
            continues=MeasureKey(str(continues.document_id), continues.measure_id) if continues else None,
            measure=MeasureKey(ctx.document_id, measure.measure_id),
            account=measure.account.account_number,
            holder=party(measure.subject),
            account_name=measure.account.account_name,
            account_currency=measure.account.currency,
            amount=measure.amount.value,
            currency=measure.amount.currency,
            start=measure.period.start,
            end=measure.period.end,
            now=now,
        )
        self.send_status_notices()
        cur, asked, claim, frozen = out["currency"], out["asked"], out["amount"], out["frozen"]
        reasons = []
        if asked > claim:
            reasons.append(f"续冻金额超过原冻结金额{fmt(claim, cur)}，超出部分未予续冻，如需冻结请另行发送冻结通知")
        if out["state"] == "rotating":
            status = ResultStatus.ROTATING
            reasons.append(f"原冻结仍为轮候冻结（第{out['position']}顺位），续冻后继续轮候")
        elif frozen >= asked:
            status = ResultStatus.EXECUTED
        else:
            status = ResultStatus.PARTIALLY_EXECUTED
            if frozen < claim:
                reasons.append(f"原冻结为限额冻结，实际冻结{fmt(frozen, cur)}，后续入账资金继续冻结至{fmt(claim, cur)}")
        remark = f"原冻结截止日{out['old_end']}已延长至{measure.period.end}。"
        if out["priority"]:
            remark += PRIORITY_DUTY
        ctx.log.info("bank.continued_freeze", state=out["state"], position=out["position"], status=status)
        return MeasureResult(
            measure_id=measure.measure_id,
            status=status,
            requested_amount=measure.amount,
            actual_amount=money(frozen, cur),
            period=measure.period,
            queue_position=out["position"] if out["others"] else None,
            prior_measures=self._prior(out["others"]),  # 前后顺序冻结记录 (rule 10 para. 4)
            priority_rights=self._rights(out["priority"], cur),
            effective_at=datetime.fromisoformat(out["at"]),
            reason="；".join(reasons) + "。（003 规范10）" if reasons else None,
            remark=remark,
        )

    # --- deductions (003 规范13–15) ------------------------------------------------------------------------

    @handles(BankDeduct)
    def deduct(self, measure: BankDeduct, ctx: Context) -> MeasureResult:
        """扣划 into the court's enforcement account, no prior unfreeze needed (rules 13–15)."""
        target = measure.enforcement_account
        if target is None:
            raise PermanentError("扣划通知未载明法院执行款专户，无法扣划。（003 规范13、14）")
        source = measure.from_freeze
        out = self._call(
            self.native.deduct,
            key=ctx.idempotency_key,
            court=self._court(ctx),
            measure=MeasureKey(ctx.document_id, measure.measure_id),
            account=measure.account.account_number,
            holder=party(measure.subject),
            account_name=measure.account.account_name,
            account_currency=measure.account.currency,
            amount=measure.amount.value,
            currency=measure.amount.currency,
            to_bank=target.bank_name,
            to_account=target.account_number,
            to_name=target.account_name,
            to_currency=target.currency,
            from_freeze=MeasureKey(str(source.document_id), source.measure_id) if source else None,
            now=ctx.runtime.now(),
        )
        self.send_status_notices()
        cur, requested, deducted = out["currency"], out["requested"], out["deducted"]
        if deducted >= requested:
            status, reason = ResultStatus.EXECUTED, None
        else:
            status = ResultStatus.PARTIALLY_EXECUTED if deducted else ResultStatus.NOT_EXECUTED
            parts = [f"账户余额{fmt(out['balance'], cur)}"]
            if out["priority"]:
                total = sum(p["amount"] for p in out["priority"])
                parts.append(f"其中优先受偿权（保证金、质押等）金额{fmt(total, cur)}不予扣划（003 规范12）")
            if out["others_frozen"]:
                parts.append(f"其他冻结在先的资金{fmt(out['others_frozen'], cur)}不予扣划")
            parts.append(
                f"已扣划{fmt(deducted, cur)}至法院执行款专户，{fmt(requested - deducted, cur)}因无可扣划余额未扣划"
                if deducted
                else "无可扣划余额，未扣划"
            )
            reason = "，".join(parts) + "。（003 规范14、15、17）"
        remark = None
        if out["from_frozen"]:
            remark = (
                f"已从本院冻结资金中扣划{fmt(out['from_frozen'], cur)}（无需先行解除冻结，003 规范14）"
                + (f"，原冻结资金余{fmt(out['still_frozen'], cur)}继续冻结，未扣划金额为原冻结金额与实际扣划金额之差（003 规范15）"
                   if out["still_frozen"] else "")
                + "。"
            )
        ctx.log.info("bank.deduct", status=status, from_frozen=yuan(out["from_frozen"]), deducted=yuan(deducted))
        return MeasureResult(
            measure_id=measure.measure_id,
            status=status,
            requested_amount=measure.amount,
            deducted_amount=money(deducted, cur),
            not_deducted_amount=money(out["not_deducted"], cur),
            priority_rights=self._rights(out["priority"], cur),
            effective_at=datetime.fromisoformat(out["at"]) if deducted else None,
            reason=reason,
            remark=remark,
        )

    # --- releases (001 第二十一条; 003 规范10) --------------------------------------------------------------

    @handles(Release, kinds={ReleaseKind.BANK_UNFREEZE})
    def unfreeze(self, release: Release, ctx: Context) -> ReleaseResult:
        """解除冻结 of a freeze, rotating freeze or continued freeze, in full or in part; the next
        rotating freeze takes effect and its court is told (rule 10)."""
        ref = release.releases
        out = self._call(
            self.native.unfreeze,
            key=ctx.idempotency_key,
            court=self._court(ctx),
            releases=MeasureKey(str(ref.document_id), ref.measure_id) if ref else None,
            release=MeasureKey(ctx.document_id, release.release_id),
            holder_id=party(release.subject).id_code,
            amount=release.amount.value if release.amount else None,
            currency=release.amount.currency if release.amount else None,
            now=ctx.runtime.now(),
        )
        sent = self.send_status_notices()
        ctx.log.info("bank.unfreeze", full=out["full"], promoted=len(out["promoted"]), notices=sent)
        cur = out["currency"]
        if out["full"]:
            remark = f"冻结已全部解除，解冻资金{fmt(out['released'], cur)}。"
        else:
            remark = (
                f"部分解除冻结{fmt(out['lifted'], cur)}，实际解冻资金{fmt(out['released'], cur)}；其余继续冻结："
                f"应冻结金额{fmt(out['remaining_amount'], cur)}，已冻结{fmt(out['remaining_frozen'], cur)}。"
            )
        if out["promoted"]:
            remark += f"解冻资金已依序转入在后的{len(out['promoted'])}项轮候冻结，已另行通知其执行法院。（003 规范10）"
        return ReleaseResult(
            release_id=release.release_id,
            status=ReleaseStatus.RELEASED,
            released_amount=money(out["released"], cur),
            effective_at=datetime.fromisoformat(out["at"]),
            remark=remark,
        )

    # --- whole documents ------------------------------------------------------------------------------------

    @on_document("CaseCompletedNotice")
    def case_completed(self, doc: Document, ctx: Context) -> None:
        """结案通报 (004 第三十五条): recorded; measures still in place stay until the court's
        release notice (a unit does not lift a court's measure on its own, 001 第二十一条)."""
        body = doc.body
        assert isinstance(body, CaseCompletedNotice)
        out = self.native.record_case_completed(
            ctx.idempotency_key,
            court=self._court(ctx),
            completed_on=body.completed_on,
            outcome=body.outcome.value,
            document_id=ctx.document_id,
            now=ctx.runtime.now(),
        )
        ctx.log.info("bank.case_completed", live_freezes=out["live_freezes"])

    # --- status notices (003 规范10) --------------------------------------------------------------------------

    def send_status_notices(self) -> int:
        """Send a ``MeasureStatusNotice`` for every rotating freeze that took effect and whose
        court has not been told: to that court, in its case, answering its own notice (which
        was delivered to this bank, so the hub routes the answer back). Keyed per promotion:
        sending again after a crash sends the same document. Returns how many were sent."""
        sent = 0
        with self._notices:
            for row in self.native.pending_status_notices():
                cur = row["currency"]
                if row["fully"]:
                    status = ResultStatus.EXECUTED
                    reason = f"{row['cause']}，本轮候冻结依序生效，实际冻结{fmt(row['frozen'], cur)}。（003 规范10）"
                else:
                    status = ResultStatus.PARTIALLY_EXECUTED
                    reason = (
                        f"{row['cause']}，本轮候冻结依序生效；账户可用余额不足，按可用余额限额冻结{fmt(row['frozen'], cur)}，"
                        f"冻结期限内后续入账资金继续冻结，直至达到应冻结金额{fmt(row['amount'], cur)}。（003 规范10）"
                    )
                body = MeasureStatusNotice(
                    measure=MeasureRef(document_id=UUID(row["document_id"]), measure_id=row["measure_id"]),
                    status=status,
                    effective_at=datetime.fromisoformat(row["effective_at"]).replace(microsecond=0),
                    actual_amount=money(row["frozen"], cur),
                    reason=reason,
                )
                try:
                    document_id = self.runtime.send(
                        body,
                        recipient=row["court_code"],
                        case_number=row["case_number"],
                        in_reply_to=row["document_id"],
                        key=f"bank-status/{row['id']}",
                    )
                except LiandongError as exc:
                    self.runtime.log.error("bank.status_notice_refused", notice=row["id"], errors=exc.codes)
                    self.native.mark_status_notice(row["id"], document_id=None, outcome="refused:" + ",".join(exc.codes))
                    continue
                self.native.mark_status_notice(row["id"], document_id=document_id, outcome="sent")
                self.runtime.log.info("bank.status_notice", notice=row["id"], document_id=document_id, status=status)
                sent += 1
        return sent

    # --- account events (the bank's own side; for the demo and tests) -------------------------------------------

    def credit(self, key: str, account: str, amount: Decimal | str, **details: Any) -> dict[str, Any]:
        """Incoming money: tops up limit freezes, then rotating ones take effect (and are told)."""
        out = self.native.credit(key, account, amount, now=self.runtime.now(), **details)
        self.send_status_notices()
        return out

    def end_priority_right(self, key: str, right_id: int) -> dict[str, Any]:
        """A pledge or margin ends (rule 12): its amount becomes available to the freezes."""
        out = self.native.end_priority_right(key, right_id, now=self.runtime.now())
        self.send_status_notices()
        return out

    def end_of_day(self, as_of: Any = None) -> dict[str, Any]:
        """Lapse freezes whose period ended before ``as_of`` (default: today); promotions are told."""
        day = as_of or self.runtime.now().date()
        out = self.native.lapse(f"end-of-day/{day.isoformat()}", day, now=self.runtime.now())
        self.send_status_notices()
        return out
