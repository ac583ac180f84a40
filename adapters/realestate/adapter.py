"""The real-estate registry's adapter: notices in, register operations, receipts out.

Handlers (each rule is the register's, :mod:`adapters.realestate.native`, which cites the seeds):

- queries for real estate, land and mining rights, house records, mortgages and planning
  approvals (001 arts. 11–12; 002 四.13, 四.14; 004 art. 21);
- seizure, pre-seizure, rotating seizure, at once (001 arts. 11–12; 002 四.13, 四.14 马上办理):
  a property already seized gives a *Rotating* result with the queue position and the earlier
  seizures — the written notice to that court (001 art. 12; 002 四.7(3));
- release (PropertyUnseize): when the released seizure was effective, the next rotating one takes
  effect and its court gets a ``MeasureStatusNotice`` answering its own notice (001 arts. 12, 21);
- transfer, only for the court whose seizure is in effect (001 art. 12); rotating seizures of other
  courts lapse and those courts are told;
- halt of pending change registrations / planning procedures and its lift (001 arts. 11–12, 21).

Every register change runs through :class:`IdempotentLedger` under the item's idempotency key in
the register's own transaction, so a handler run again after a crash never repeats it, and the
documents it sends (status notices) keep the SDK's exactly-once keys.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import TypeVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from adapters.realestate.demo import seed
from adapters.realestate.model import (
    ChangeRegistration,
    ChangeState,
    CourtOrder,
    HaltOutcome,
    LiftOutcome,
    Party,
    Property,
    PropertyKind,
    PropertyRef,
    ReleaseOutcome,
    Seizure,
    SeizureOutcome,
    SeizureState,
    TransferOutcome,
)
from adapters.realestate.native import RealEstateRegister
from adapters.sdk import Adapter, Context, NeedsMoreTime, PermanentError, handles
from adapters.sdk.runtime import Runtime
from broker.deadlines.calendar import local_date
from broker.documents.bodies import AssistanceNotice, MeasureStatusNotice
from broker.documents.catalogue import UnitKind
from broker.documents.common import MeasureRef, Money, NaturalPerson, Period, RealEstate, Subject
from broker.documents.measures import (
    PropertyPreSeize,
    PropertyRotatingSeize,
    PropertySeize,
    PropertyTransfer,
    RegistrationHalt,
    Release,
    ReleaseKind,
)
from broker.documents.queries import Query, QueryKind
from broker.documents.results import (
    GenericRecord,
    MeasureResult,
    PriorityKind,
    PriorityRight,
    PriorMeasure,
    PropertyRecord,
    QueryResult,
    QueryStatus,
    Record,
    RecordField,
    ReleaseResult,
    ReleaseStatus,
    ResultStatus,
)

M = TypeVar("M", bound=BaseModel)

QUERY_KINDS: dict[QueryKind, frozenset[PropertyKind] | None] = {
    QueryKind.REAL_ESTATE: None,  # everything registered (001 arts. 11–12; 004 art. 21)
    QueryKind.LAND_RIGHTS: frozenset({PropertyKind.LAND}),  # 001 art. 11
    QueryKind.MINING_RIGHTS: frozenset({PropertyKind.MINING_RIGHT, PropertyKind.EXPLORATION_RIGHT}),  # 001 art. 11
    QueryKind.HOUSE_RECORDS: frozenset({PropertyKind.HOUSE}),  # 001 art. 12
    QueryKind.MORTGAGES: None,  # 001 art. 12: 查询有关房屋权属登记、变更、抵押等情况 (only mortgaged ones)
}

SEIZED_REMARK = {
    "PropertySeize": "已办理查封登记。",
    "PropertyPreSeize": "已办理预查封登记。",
    "PropertyRotatingSeize": "该不动产无在先查封，本次轮候查封即时生效，已办理查封登记。",
}


class RealEstateSettings(BaseModel):
    """``adapter:`` section: where the register lives, and whether to load the example data."""

    model_config = ConfigDict(extra="forbid")

    database: Path | None = None
    """The register's SQLite file; default ``<data_dir>/realestate.db``."""
    demo: bool = False
    """Load the example network's data at start (:mod:`adapters.realestate.demo`), once."""
    archive_retrieval_seconds: float | None = None
    """When set, planning files are kept in the paper archive: a planning query is answered
    only after the file is fetched (this many seconds), and the court is told why with an
    extension notice meanwhile (002 四.13). None: the files are online."""


def party(subject: Subject) -> Party:
    code = subject.id_number if isinstance(subject, NaturalPerson) else subject.unit_code
    return Party(name=subject.name, code=code)


def property_ref(estate: RealEstate) -> PropertyRef:
    return PropertyRef(unit_number=estate.unit_number, certificate_number=estate.certificate_number, location=estate.location)


def real_estate(prop: Property) -> RealEstate:
    return RealEstate(unit_number=prop.unit_number, certificate_number=prop.certificate_number, location=prop.location)


def prior_measure(position: int, seizure: Seizure) -> PriorMeasure:
    """An earlier seizure as the receipt lists it (003 bank rules 10 give the form: 先前顺序冻结记录)."""
    order = seizure.order
    return PriorMeasure(
        position=position,
        authority=order.court_name,
        authority_code=order.court,
        case_number=order.case_number,
        period=Period(start=seizure.period_start, end=seizure.period_end),
    )


class RealEstateAdapter(Adapter):
    """Real-estate registry (不动产登记/住建): queries, seizures with rotating seizures, releases, transfers, halts."""

    name = "realestate"
    unit_kinds = frozenset({UnitKind.NATURAL_RESOURCES, UnitKind.HOUSING_CONSTRUCTION})
    settings_model = RealEstateSettings

    def __init__(self, settings: RealEstateSettings, runtime: Runtime):
        super().__init__(settings, runtime)
        self.native = RealEstateRegister(settings.database or runtime.data_dir / "realestate.db")
        self.ledger = self.native.ledger
        if settings.demo and seed(self.native):
            runtime.log.info("realestate.demo_loaded")

    def stop(self) -> None:
        self.native.close()

    # --- helpers --------------------------------------------------------------------------------

    def _order(self, ctx: Context) -> CourtOrder:
        entry = self.runtime.registry.unit(ctx.court)
        return CourtOrder(
            court=ctx.court,
            court_name=entry.name if entry is not None else ctx.court,
            case_number=ctx.case_number,
            document_id=ctx.document_id,
            item_id=ctx.item_id,
        )

    def _once(self, ctx: Context, model: type[M], operation: Callable[[], M]) -> M:
        """Run a register change once per idempotency key, in the register's transaction."""
        return self.native.carry_out(ctx.idempotency_key, operation, model=model)

    @staticmethod
    def _check_materials(ctx: Context) -> None:
        """002 四.13, 四.14: a seizure or transfer comes with the ruling (执行裁定书 及协助执行通知书).
        A notice without one is still carried out at once (001 art. 20) and the court is told."""
        body = ctx.document.body
        if isinstance(body, AssistanceNotice) and body.ruling is None:
            ctx.suggest_review("协助执行通知书未载明所依据的执行裁定书（002 四.13、四.14 要求一并提供），"
                               "本中心已先行办理，请补充送达执行裁定书。")

    def _tell(self, ctx: Context, seizure: Seizure, status: ResultStatus, reason: str) -> None:
        """A seizure changed state without a notice of its own: tell its court, answering its
        notice (which was delivered to this unit, so the hub routes the answer back)."""
        order = seizure.order
        if not (order.via_network and order.document_id and order.item_id):
            ctx.log.warning("realestate.paper_notice_required", seizure=seizure.id, status=status.value)
            return
        ctx.send(
            MeasureStatusNotice(
                measure=MeasureRef(document_id=UUID(order.document_id), measure_id=order.item_id),
                status=status,
                effective_at=seizure.effective_at or seizure.ended_at or ctx.runtime.now(),
                reason=reason,
            ),
            recipient=order.court,
            in_reply_to=order.document_id,
            case_number=order.case_number,
        )

    # --- queries (001 arts. 11–12; 002 四.13, 四.14: within 3 working days) -----------------------

    @handles(Query, kinds=set(QUERY_KINDS))
    def properties(self, query: Query, ctx: Context) -> QueryResult:
        owned = self.native.properties_of(party(query.subject).code, QUERY_KINDS[query.kind])
        if query.kind is QueryKind.MORTGAGES:
            owned = [p for p in owned if p.mortgages]
        records: list[Record] = [self._record(p) for p in owned]
        if query.kind is QueryKind.REAL_ESTATE:
            records += [self._pending(p, c) for p in owned for c in p.pending_changes]
        ctx.log.info("realestate.query", kind=query.kind.value, found=len(owned))
        return QueryResult(query_id=query.query_id, status=QueryStatus.FOUND if records else QueryStatus.NOT_FOUND, records=records)

    @handles(Query, kinds={QueryKind.PLANNING_APPROVALS})
    def planning(self, query: Query, ctx: Context) -> QueryResult:
        """001 art. 12: 协助人民法院查询有关工程项目的规划审批情况. Files still on paper are fetched
        first; a unit that cannot answer in time tells the court why (002 四.13)."""
        wait = self.settings.archive_retrieval_seconds
        if wait is not None and ctx.attempt == 1:
            raise NeedsMoreTime(
                "规划审批档案存放于档案馆纸质卷宗，需调阅后答复（002 四.13）。"
                " The planning file is in the paper archive and is being retrieved.",
                proposed_deadline=ctx.runtime.now() + timedelta(days=5),
                retry_after=wait,
            )
        records: list[Record] = []
        for a in self.native.planning_of(party(query.subject).code):
            fields = [("许可证号", a.permit_number), ("项目代码", a.project_code), ("项目名称", a.project_name),
                      ("核发日期", a.issued_on.isoformat() if a.issued_on else None),
                      ("状态", {"Approved": "已核发", "Pending": "正在办理", "Halted": "已依法院通知停止办理"}[a.state])]
            records.append(GenericRecord(
                kind="建设工程规划许可" if a.state == "Approved" else "建设工程规划许可申请",
                fields=[RecordField(name=n, value=v) for n, v in fields if v],
            ))
        return QueryResult(query_id=query.query_id, status=QueryStatus.FOUND if records else QueryStatus.NOT_FOUND, records=records)

    @staticmethod
    def _record(p: Property) -> PropertyRecord:
        return PropertyRecord(
            property=real_estate(p),
            owner_name=p.owner.name,
            area=p.area,
            use=p.use,
            encumbrances=[
                PriorityRight(holder=m.holder, kind=PriorityKind.MORTGAGE, amount=Money.cny(m.amount) if m.amount else None)
                for m in p.mortgages
            ],
            seizures=[prior_measure(n, s) for n, s in enumerate(p.seizures, 1)],
        )

    @staticmethod
    def _pending(p: Property, change: ChangeRegistration) -> GenericRecord:
        state = "正在办理" if change.state is ChangeState.PENDING else "已依法院通知停止办理"
        return GenericRecord(kind="正在办理的变更登记", fields=[
            RecordField(name="不动产", value=p.certificate_number or p.unit_number or p.location),
            RecordField(name="登记类型", value=change.kind),
            RecordField(name="申请日期", value=local_date(change.filed_at).isoformat()),
            RecordField(name="状态", value=state),
        ])

    # --- seizures (001 arts. 11–12; 002 四.13, 四.14 马上办理) ---------------------------------------------

    @handles(PropertySeize, PropertyPreSeize, PropertyRotatingSeize)
    def seize(self, measure: PropertySeize, ctx: Context) -> MeasureResult:
        outcome = self._once(ctx, SeizureOutcome, lambda: self.native.seize(
            property_ref(measure.property), party(measure.subject), kind=measure.xml_tag,
            period=(measure.period.start, measure.period.end), order=self._order(ctx), at=ctx.runtime.now(),
        ))
        self._check_materials(ctx)
        if not outcome.owner_matches:  # 001 art. 20: no substantive review, but the court is told
            ctx.suggest_review("经查，该不动产登记权利人与协助执行通知书所列被执行人不一致，本中心已依通知办理登记，"
                               "建议贵院审查（001第二十条）。")
        seizure = outcome.seizure
        ctx.log.info("realestate.seized", state=seizure.state.value, position=outcome.queue_position)
        if seizure.state is SeizureState.EFFECTIVE:
            return MeasureResult(measure_id=measure.measure_id, status=ResultStatus.EXECUTED, period=measure.period,
                                 effective_at=seizure.effective_at, remark=SEIZED_REMARK[measure.xml_tag])
        first = outcome.prior[0].order
        return MeasureResult(
            measure_id=measure.measure_id,
            status=ResultStatus.ROTATING,
            period=measure.period,
            queue_position=outcome.queue_position,
            prior_measures=[prior_measure(n, s) for n, s in enumerate(outcome.prior, 1)],
            reason=f"该不动产已被{first.court_name}首先查封，本次登记为轮候查封（第{outcome.queue_position}顺位），"
                   "在先查封解除后依次自动生效，届时另行书面告知（001第十二条；002四.7(3)）。",
        )

    @handles(Release, kinds={ReleaseKind.PROPERTY_UNSEIZE})
    def unseize(self, release: Release, ctx: Context) -> ReleaseResult:
        ref = release.releases
        if ref is None:
            raise PermanentError("解除通知未载明所解除的查封（协助执行通知书及事项编号），无法办理。")
        outcome = self._once(ctx, ReleaseOutcome, lambda: self.native.release(
            str(ref.document_id), ref.measure_id, court=ctx.court, at=ctx.runtime.now()
        ))
        if outcome.promoted is not None:
            self._tell(ctx, outcome.promoted, ResultStatus.EXECUTED,
                       "在先查封已解除，贵院对该不动产的轮候查封依序转为查封，自解除之时起生效（001第十二条）。")
        ctx.log.info("realestate.released", promoted=outcome.promoted is not None)
        return ReleaseResult(release_id=release.release_id, status=ReleaseStatus.RELEASED, effective_at=outcome.released.ended_at)

    # --- transfer (001 art. 12; 002 四.13, 四.14 强制过户 马上办理) -------------------------------------------

    @handles(PropertyTransfer)
    def transfer(self, measure: PropertyTransfer, ctx: Context) -> MeasureResult:
        order = self._order(ctx)
        outcome = self._once(ctx, TransferOutcome, lambda: self.native.transfer(
            property_ref(measure.property), party(measure.subject), party(measure.transferee.subject),
            order=order, at=ctx.runtime.now(),
        ))
        self._check_materials(ctx)
        if not outcome.owner_matches:
            ctx.suggest_review("经查，该不动产登记权利人与协助执行通知书所列被执行人不一致，本中心已依通知办理转移登记，"
                               "建议贵院审查（001第二十条）。")
        for seizure in outcome.lapsed:
            self._tell(ctx, seizure, ResultStatus.NOT_EXECUTED,
                       f"该不动产已依首先查封法院{order.court_name}（{order.case_number or ''}）的协助执行通知书转移登记至受让人名下，"
                       "贵院的轮候查封因此不能生效（001第十二条）。")
        ctx.log.info("realestate.transferred", ended=len(outcome.ended), lapsed=len(outcome.lapsed))
        remark = "已将该不动产转移登记至受让人名下。"
        if outcome.ended:
            remark += "贵院对该不动产的查封随之终止。"
        if outcome.lapsed:
            remark += f"其他法院的{len(outcome.lapsed)}项轮候查封随之失效，已书面告知相关法院。"
        return MeasureResult(measure_id=measure.measure_id, status=ResultStatus.EXECUTED,
                             effective_at=outcome.registered_at, remark=remark)

    # --- halt of pending change registrations (001 arts. 11–12) -----------------------------------------

    @handles(RegistrationHalt)
    def halt(self, measure: RegistrationHalt, ctx: Context) -> MeasureResult:
        outcome = self._once(ctx, HaltOutcome, lambda: self.native.halt(
            property_ref(measure.property) if measure.property else None,
            measure.project.project_code if measure.project else None,
            scope=measure.scope, order=self._order(ctx), at=ctx.runtime.now(),
        ))
        halted = len(outcome.halted_changes) + len(outcome.halted_approvals)
        remark = (f"已停止办理{halted}件正在办理的登记或审批手续；" if halted else "目前无正在办理的变更登记或审批手续；")
        remark += "停止办理期间新提出的申请一并停止办理，直至贵院通知解除。"
        ctx.log.info("realestate.halted", halted=halted)
        return MeasureResult(measure_id=measure.measure_id, status=ResultStatus.EXECUTED,
                             effective_at=outcome.halt.registered_at, remark=remark)

    @handles(Release, kinds={ReleaseKind.REGISTRATION_HALT_LIFT})
    def lift_halt(self, release: Release, ctx: Context) -> ReleaseResult:
        ref = release.releases
        if ref is None:
            raise PermanentError("解除通知未载明所解除的停止办理措施（协助执行通知书及事项编号），无法办理。")
        outcome = self._once(ctx, LiftOutcome, lambda: self.native.lift_halt(
            str(ref.document_id), ref.measure_id, court=ctx.court, at=ctx.runtime.now()
        ))
        ctx.log.info("realestate.halt_lifted", resumed=outcome.resumed_changes + outcome.resumed_approvals)
        return ReleaseResult(release_id=release.release_id, status=ReleaseStatus.RELEASED, effective_at=outcome.halt.lifted_at)
