"""The market regulator's adapter: company queries, equity freezes with publicity, unfreezes,
forced transfers with shareholder change.

The rules are the register's (:mod:`adapters.market.native`, which cites the seeds):

- company registration (registration data, shareholders, changes, publicity) and investment
  queries (001 art. 17; 002 四.17: within 3 working days — answered at once);
- equity freeze, published in the enterprise credit publicity system within 3 working days, the
  receipt reporting the PublicityDate (002 四.17); a second freeze of the same equity is a
  rotating freeze, the receipt giving its queue position and the earlier freezes (001 art. 12;
  002 四.7(3); 003 权力清单 59; 003 bank rules 10);
- unfreeze, published (002 四.17; 001 art. 21); the next rotating freeze takes effect and its court
  gets a ``MeasureStatusNotice`` answering its own notice;
- forced transfer: shareholder change registered without the company's application and
  published (002 四.17); frozen equity only for the court whose freeze is in effect.

Every register change runs once per idempotency key (:class:`IdempotentLedger`, same transaction).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import TypeVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from adapters.market.demo import seed
from adapters.market.model import (
    Company,
    CourtOrder,
    Freeze,
    FreezeOutcome,
    FreezeState,
    Holding,
    Party,
    PublicityEntry,
    TransferOutcome,
    UnfreezeOutcome,
)
from adapters.market.native import MarketRegister
from adapters.sdk import Adapter, Context, PermanentError, handles
from adapters.sdk.runtime import Runtime
from broker.documents.bodies import MeasureStatusNotice
from broker.documents.catalogue import UnitKind
from broker.documents.common import EquityHolding, MeasureRef, Money, NaturalPerson, Period, Subject
from broker.documents.measures import EquityForcedTransfer, EquityFreeze, Release, ReleaseKind
from broker.documents.queries import Query, QueryKind
from broker.documents.results import (
    CompanyRecord,
    EquityRecord,
    GenericRecord,
    MeasureResult,
    PriorMeasure,
    QueryResult,
    QueryStatus,
    Record,
    RecordField,
    ReleaseResult,
    ReleaseStatus,
    ResultStatus,
)

M = TypeVar("M", bound=BaseModel)


class MarketSettings(BaseModel):
    """``adapter:`` section: where the register lives, and whether to load the example data."""

    model_config = ConfigDict(extra="forbid")

    database: Path | None = None
    """The register's SQLite file; default ``<data_dir>/market.db``."""
    demo: bool = False
    """Load the example network's data at start (:mod:`adapters.market.demo`), once."""


def party(subject: Subject) -> Party:
    code = subject.id_number if isinstance(subject, NaturalPerson) else subject.unit_code
    return Party(name=subject.name, code=code)


def cny(value: Decimal | None, currency: str = "CNY") -> Money | None:
    return Money(value=value, currency=currency) if value is not None else None


def prior_measure(position: int, freeze: Freeze) -> PriorMeasure:
    """An earlier freeze as the receipt lists it (003 bank rules 10: 先前顺序冻结记录)."""
    return PriorMeasure(
        position=position,
        authority=freeze.order.court_name,
        authority_code=freeze.order.court,
        case_number=freeze.order.case_number,
        amount=cny(freeze.amount),
        period=Period(start=freeze.period_start, end=freeze.period_end),
    )


def equity(holding: Holding) -> EquityHolding:
    return EquityHolding(company_name=holding.company_name, company_code=holding.company_code,
                         contribution=cny(holding.contribution), ratio=holding.ratio)


def published(entry: PublicityEntry) -> str:
    text = f"已于{entry.published_on:%Y年%m月%d日}在国家企业信用信息公示系统司法协助栏目公示"
    if not entry.in_time and entry.due_by is not None:
        text += f"（晚于接收后3个工作日的期限{entry.due_by:%Y年%m月%d日}）"
    return text + "（002四.17）。"


class MarketAdapter(Adapter):
    """Market regulation (市场监管): company queries, equity freeze with publicity, unfreeze, forced transfer."""

    name = "market"
    unit_kinds = frozenset({UnitKind.MARKET_REGULATION})
    settings_model = MarketSettings

    def __init__(self, settings: MarketSettings, runtime: Runtime):
        super().__init__(settings, runtime)
        self.native = MarketRegister(settings.database or runtime.data_dir / "market.db")
        self.ledger = self.native.ledger
        if settings.demo and seed(self.native):
            runtime.log.info("market.demo_loaded")

    def stop(self) -> None:
        self.native.close()

    # --- helpers --------------------------------------------------------------------------------------

    def _order(self, ctx: Context) -> CourtOrder:
        entry = self.runtime.registry.unit(ctx.court)
        return CourtOrder(court=ctx.court, court_name=entry.name if entry is not None else ctx.court,
                          case_number=ctx.case_number, document_id=ctx.document_id, item_id=ctx.item_id)

    def _once(self, ctx: Context, model: type[M], operation: Callable[[], M]) -> M:
        """Run a register change once per idempotency key, in the register's transaction."""
        return self.native.carry_out(ctx.idempotency_key, operation, model=model)

    def _tell(self, ctx: Context, freeze: Freeze, status: ResultStatus, reason: str, actual: Decimal | None = None) -> None:
        """A freeze changed state without a notice of its own: tell its court, answering its notice."""
        order = freeze.order
        if not (order.via_network and order.document_id and order.item_id):
            ctx.log.warning("market.paper_notice_required", freeze=freeze.id, status=status.value)
            return
        ctx.send(
            MeasureStatusNotice(
                measure=MeasureRef(document_id=UUID(order.document_id), measure_id=order.item_id),
                status=status,
                effective_at=freeze.effective_at or freeze.ended_at or ctx.runtime.now(),
                actual_amount=cny(actual),
                reason=reason,
            ),
            recipient=order.court,
            in_reply_to=order.document_id,
            case_number=order.case_number,
        )

    # --- queries (001 art. 17; 002 四.17) ---------------------------------------------------------------

    @handles(Query, kinds={QueryKind.COMPANY_REGISTRATION})
    def company_registration(self, query: Query, ctx: Context) -> QueryResult:
        """设立、变更、注销登记 (001 art. 17; 002 四.17): the company named, or the companies a person represents."""
        code = party(query.subject).code
        if isinstance(query.subject, NaturalPerson):
            companies = self.native.companies_represented_by(code)
        else:
            companies = [c for c in [self.native.company(code)] if c is not None]
        records: list[Record] = []
        for company in companies:
            records.append(self._company_record(company))
            records += [GenericRecord(kind="股东及出资", fields=[
                RecordField(name="股东", value=h.holder.name), RecordField(name="出资额", value=f"{h.contribution:.2f}"),
                RecordField(name="持股比例", value=f"{h.ratio}%"),
            ]) for h in self.native.shareholders(company.code)]
            records += [GenericRecord(kind="变更登记", fields=[
                RecordField(name="变更日期", value=c.changed_on.isoformat()), RecordField(name="变更事项", value=c.item),
                RecordField(name="变更前", value=c.before or "—"), RecordField(name="变更后", value=c.after or "—"),
            ]) for c in self.native.changes(company.code)]
            records += [GenericRecord(kind="司法协助公示", fields=[
                RecordField(name="公示日期", value=e.published_on.isoformat()), RecordField(name="类别", value=e.category),
                RecordField(name="执行法院", value=e.order.court_name), RecordField(name="执行案号", value=e.order.case_number or "—"),
            ]) for e in self.native.publicity(company.code)]
        ctx.log.info("market.query", kind=query.kind.value, found=len(companies))
        return QueryResult(query_id=query.query_id, status=QueryStatus.FOUND if records else QueryStatus.NOT_FOUND, records=records)

    @handles(Query, kinds={QueryKind.INVESTMENTS})
    def investments(self, query: Query, ctx: Context) -> QueryResult:
        """对外投资 (002 四.17): the subject's equity, each with its live freezes in order."""
        holdings = self.native.holdings_of(party(query.subject).code)
        records: list[Record] = [
            EquityRecord(equity=equity(h), freezes=[
                prior_measure(n, f) for n, f in enumerate(self.native.live_freezes(h.company_code, h.holder.code), 1)
            ])
            for h in holdings
        ]
        ctx.log.info("market.query", kind=query.kind.value, found=len(records))
        return QueryResult(query_id=query.query_id, status=QueryStatus.FOUND if records else QueryStatus.NOT_FOUND, records=records)

    def _company_record(self, company: Company) -> CompanyRecord:
        return CompanyRecord(
            name=company.name,
            unit_code=company.code,
            legal_representative=company.legal_representative.name if company.legal_representative else None,
            registered_capital=cny(company.registered_capital),
            status=company.status,
            established_on=company.established_on,
            address=company.address,
            investments=[equity(h) for h in self.native.holdings_of(company.code)],
        )

    # --- equity freeze with publicity (002 四.17) ------------------------------------------------------------

    @handles(EquityFreeze)
    def freeze(self, measure: EquityFreeze, ctx: Context) -> MeasureResult:
        amount = measure.amount.value if measure.amount is not None else None
        currency = measure.amount.currency if measure.amount is not None else "CNY"
        outcome = self._once(ctx, FreezeOutcome, lambda: self.native.freeze(
            measure.equity.company_code, party(measure.subject), amount,
            period=(measure.period.start, measure.period.end), order=self._order(ctx),
            received_at=ctx.received_at, at=ctx.runtime.now(),
        ))
        freeze = outcome.freeze
        ctx.log.info("market.frozen", state=freeze.state.value, position=outcome.queue_position)
        publicity = outcome.publicity
        if freeze.state is FreezeState.ROTATING:
            first = outcome.prior[0].order
            return MeasureResult(
                measure_id=measure.measure_id,
                status=ResultStatus.ROTATING,
                requested_amount=measure.amount,
                period=measure.period,
                queue_position=outcome.queue_position,
                prior_measures=[prior_measure(n, f) for n, f in enumerate(outcome.prior, 1)],
                publicity_date=publicity.published_on,
                reason=f"该股权已被{first.court_name}首先冻结，本次登记为轮候冻结（第{outcome.queue_position}顺位），"
                       "在先冻结解除后依次自动生效，届时另行书面告知（001第十二条；002四.7(3)；003权力清单59）。" + published(publicity),
            )
        if amount is not None and outcome.frozen < amount:  # the holding is smaller than the amount asked
            return MeasureResult(
                measure_id=measure.measure_id,
                status=ResultStatus.PARTIALLY_EXECUTED,
                requested_amount=measure.amount,
                actual_amount=cny(outcome.frozen, currency),
                period=measure.period,
                effective_at=freeze.effective_at,
                publicity_date=publicity.published_on,
                reason=f"被执行人在该公司的出资额为{outcome.frozen:.2f}元，低于要求冻结的数额，已冻结其全部股权。" + published(publicity),
            )
        return MeasureResult(
            measure_id=measure.measure_id,
            status=ResultStatus.EXECUTED,
            requested_amount=measure.amount,
            actual_amount=cny(amount, currency),
            period=measure.period,
            effective_at=freeze.effective_at,
            publicity_date=publicity.published_on,
            remark="已办理股权冻结。" + published(publicity),
        )

    @handles(Release, kinds={ReleaseKind.EQUITY_UNFREEZE})
    def unfreeze(self, release: Release, ctx: Context) -> ReleaseResult:
        """解除冻结, published (002 四.17; 001 art. 21); the next rotating freeze takes effect."""
        ref = release.releases
        if ref is None:
            raise PermanentError("解除通知未载明所解除的股权冻结（协助执行通知书及事项编号），无法办理。")
        amount = release.amount.value if release.amount is not None else None
        outcome = self._once(ctx, UnfreezeOutcome, lambda: self.native.unfreeze(
            str(ref.document_id), ref.measure_id, court=ctx.court, amount=amount, order=self._order(ctx),
            received_at=ctx.received_at, at=ctx.runtime.now(),
        ))
        promoted = outcome.promoted
        if promoted is not None:
            entry = outcome.publicity[-1]
            self._tell(ctx, promoted, ResultStatus.EXECUTED,
                       "在先冻结已解除，贵院对该股权的轮候冻结依序生效（001第十二条；003权力清单59），" + published(entry),
                       actual=entry.amount)
        ctx.log.info("market.unfrozen", partial=outcome.released_amount is not None, promoted=promoted is not None)
        return ReleaseResult(release_id=release.release_id, status=ReleaseStatus.RELEASED,
                             released_amount=cny(outcome.released_amount),
                             effective_at=outcome.released.ended_at or ctx.runtime.now())

    # --- forced transfer with shareholder change (002 四.17; 001 art. 17) --------------------------------------

    @handles(EquityForcedTransfer)
    def transfer(self, measure: EquityForcedTransfer, ctx: Context) -> MeasureResult:
        order = self._order(ctx)
        contribution = self._contribution(measure)
        outcome = self._once(ctx, TransferOutcome, lambda: self.native.forced_transfer(
            measure.equity.company_code, party(measure.subject), party(measure.transferee.subject),
            contribution=contribution, order=order, received_at=ctx.received_at, at=ctx.runtime.now(),
        ))
        for freeze in outcome.lapsed:
            self._tell(ctx, freeze, ResultStatus.NOT_EXECUTED,
                       f"该股权已依首先冻结法院{order.court_name}（{order.case_number or ''}）的协助执行通知书强制转让并办理股东变更登记，"
                       "贵院的轮候冻结因此不能生效。")
        ctx.log.info("market.transferred", ended=len(outcome.ended), lapsed=len(outcome.lapsed))
        remark = (f"已办理股东变更登记，被执行人出资{outcome.transferred:.2f}元的股权变更登记至受让人名下，无需公司另行申请；"
                  + published(outcome.publicity))
        if outcome.ended:
            remark += "贵院对该股权的冻结随之终止。"
        if outcome.lapsed:
            remark += f"其他法院的{len(outcome.lapsed)}项轮候冻结随之失效，已书面告知相关法院。"
        return MeasureResult(measure_id=measure.measure_id, status=ResultStatus.EXECUTED, effective_at=outcome.registered_at,
                             publicity_date=outcome.publicity.published_on, remark=remark)

    def _contribution(self, measure: EquityForcedTransfer) -> Decimal | None:
        """The contribution to transfer: as stated, or from the ratio; None: the whole holding."""
        if measure.equity.contribution is not None:
            return measure.equity.contribution.value
        if measure.equity.ratio is not None:
            company = self.native.company(measure.equity.company_code)
            if company is not None:
                return (company.registered_capital * measure.equity.ratio / 100).quantize(Decimal("0.01"))
        return None
