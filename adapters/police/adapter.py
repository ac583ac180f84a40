"""The public-security adapter (公安): queries, exit restrictions, vehicles, locating debtors, leads.

What it does for courts (001 art. 6; 002 四.7; 003 SPC–MPS 二, 三; 004 art. 15), over
:class:`~adapters.police.native.PoliceSystem`:

- queries: identity, household, travel documents and crossings, vehicles, hotel stays
  (003 SPC–MPS 二(二); 002 四.7(1): answered at once, well inside 3 working days);
- ``ExitRestriction``: border control for the control period (003 SPC–MPS 三(一)); lifted by an
  ``ExitRestrictionLift`` release;
- ``VehicleSeize``: at once (002 四.7(3) 立即); first come first served, later courts get a
  rotating seizure and are told on the receipt (status ``Rotating``, queue position, earlier
  seizures); a ``VehicleUnseize`` of the seizure in effect promotes the next, whose court gets a
  ``MeasureStatusNotice`` (002 四.7(3); 001 art. 12);
- ``VehicleTransfer``: only for the court whose seizure is in effect, or for an unseized vehicle
  (001 art. 12; 002 四.7(3));
- ``LocatePerson`` and ``LocateVehicle``: watch entries until a ``LocateCancel`` release (002 四.7(2));
- :meth:`PoliceAdapter.report_sighting`: a person or vehicle found sends a ``LeadReport`` to each
  court watching for it, answering its notice, once per sighting, within 24 hours (002 四.7(2)).

The bureau carries out what the court ordered and does not review its merits (001 art. 20):
where the register disagrees with the notice (another owner, another name), it sends a review
suggestion and still carries the measure out. It refuses (NotExecuted, with the reason) only what
cannot be done: a vehicle not registered, a plate and VIN of different vehicles, a period already
over, a transfer of a vehicle another court seized first.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from adapters.police.demo import seed
from adapters.police.native import (
    EXIT_RESTRICTION,
    LOCATE_PERSON,
    LOCATE_VEHICLE,
    VEHICLE_SEIZE,
    CourtOrder,
    PendingLead,
    PoliceSystem,
    Promotion,
    Refusal,
)
from adapters.sdk import Adapter, Context, PermanentError, TransientError, handles
from broker.documents.bodies import LeadReport, MeasureStatusNotice, PersonSighting, VehicleSighting
from broker.documents.catalogue import UnitKind
from broker.documents.common import MeasureRef, NaturalPerson, Officer, Organisation, Period, Subject, Vehicle
from broker.documents.document import CHINA_TZ
from broker.documents.measures import (
    ExitRestriction,
    LocateGround,
    LocatePerson,
    LocateVehicle,
    Release,
    ReleaseKind,
    VehicleSeize,
    VehicleTransfer,
)
from broker.documents.queries import Query, QueryKind
from broker.documents.results import (
    BorderCrossing,
    HotelStayRecord,
    MeasureResult,
    PersonRecord,
    PriorMeasure,
    QueryResult,
    QueryStatus,
    ReleaseResult,
    ReleaseStatus,
    ResultStatus,
    TravelDocumentRecord,
    VehicleRecord,
)
from broker.errors import LiandongError

RELEASABLE = {
    ReleaseKind.EXIT_RESTRICTION_LIFT: {EXIT_RESTRICTION},
    ReleaseKind.VEHICLE_UNSEIZE: {VEHICLE_SEIZE},
    ReleaseKind.LOCATE_CANCEL: {LOCATE_PERSON, LOCATE_VEHICLE},
}
"""What each release kind lifts here (broker/documents/catalogue.py RELEASABLE)."""


class DutyOfficer(BaseModel):
    """The officer named on lead reports as the court's contact (002 四.7(2))."""

    model_config = ConfigDict(extra="forbid")

    name: str
    phone: str
    badge: str = Field(description="警号, the officer's credential number")


class PoliceSettings(BaseModel):
    """``adapter:`` section of the police adapter's configuration."""

    model_config = ConfigDict(extra="forbid")

    demo: bool = Field(
        False, description="load the example network's registers at start (adapters/police/demo.py)"
    )
    contact: DutyOfficer | None = Field(None, description="named on lead reports")
    poll_seconds: float = Field(
        5.0,
        ge=0,
        description="how often to send lead reports for sightings other systems recorded, and to let "
        "expired seizures lapse; 0: only when report_sighting() or a document asks",
    )


class PoliceAdapter(Adapter):
    """Public security (公安): population and vehicle registers, border control, watch list, lead reports."""

    name = "police"
    unit_kinds = frozenset({UnitKind.PUBLIC_SECURITY})
    settings_model = PoliceSettings

    def __init__(self, settings: PoliceSettings, runtime) -> None:  # type: ignore[no-untyped-def]
        super().__init__(settings, runtime)
        self.settings: PoliceSettings = settings
        self.native = PoliceSystem(runtime.data_dir / "police.db")
        self._send_lock = threading.Lock()
        self._stopping = threading.Event()
        self._poller: threading.Thread | None = None

    def start(self) -> None:
        if self.settings.demo:
            seed(self.native)
        self.flush()  # what was owed when the process stopped (002 四.7(2): within 24 hours)
        if self.settings.poll_seconds > 0:
            self._poller = threading.Thread(target=self._poll, name="police-leads", daemon=True)
            self._poller.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._poller is not None:
            self._poller.join(timeout=10)
        self.native.close()

    # --- queries (003 SPC–MPS 二(二); 002 四.7(1)) ----------------------------------------------

    @handles(
        Query,
        kinds={QueryKind.IDENTITY, QueryKind.HOUSEHOLD, QueryKind.TRAVEL_DOCUMENTS, QueryKind.HOTEL_STAYS},
    )
    def population(self, query: Query, ctx: Context) -> QueryResult:
        """Identity (二(二)1), household members (户籍; 004 art. 15), travel documents with
        crossings (二(二)2–3) and hotel stays (二(二)5), in the query's period when it has one."""
        person = _natural_person(query.subject, "人口信息")
        start, end = (query.period.start, query.period.end) if query.period else (None, None)
        with _native():
            if query.kind is QueryKind.IDENTITY:
                found = self.native.person(person.id_number)
                records: list = [_person_record(found)] if found else []
            elif query.kind is QueryKind.HOUSEHOLD:
                records = [_person_record(p) for p in self.native.household(person.id_number)]
            elif query.kind is QueryKind.TRAVEL_DOCUMENTS:
                records = [
                    _travel_record(d) for d in self.native.travel_documents(person.id_number, start, end)
                ]
            else:
                records = [_hotel_record(s) for s in self.native.hotel_stays(person.id_number, start, end)]
        ctx.log.info("police.query", kind=query.kind, records=len(records))
        return QueryResult(
            query_id=query.query_id,
            status=QueryStatus.FOUND if records else QueryStatus.NOT_FOUND,
            records=records,
        )

    @handles(Query, kinds={QueryKind.VEHICLES})
    def vehicles(self, query: Query, ctx: Context) -> QueryResult:
        """Vehicles registered to the subject, with the seizures in place in order
        (003 SPC–MPS 二(二)4: 查封扣押机关名称)."""
        today = _today(ctx)
        with _native():
            records = [
                VehicleRecord(
                    vehicle=Vehicle(plate_number=v["plate"], vin=v["vin"], brand=v["brand"]),
                    model=v["model"],
                    vehicle_type=v["vehicle_type"],
                    registered_on=v["registered_on"],
                    registration_authority=v["authority"],
                    mortgagee=v["mortgagee"],
                    seizures=_prior([m.as_json() for m in self.native.seizures(v["plate"], today)]),
                )
                for v in self.native.vehicles_of(_code(query.subject))
            ]
        ctx.log.info("police.query", kind=query.kind, records=len(records))
        return QueryResult(
            query_id=query.query_id,
            status=QueryStatus.FOUND if records else QueryStatus.NOT_FOUND,
            records=records,
        )

    # --- measures (003 SPC–MPS 三; 002 四.7(2)–(3)) ------------------------------------------------

    @handles(ExitRestriction)
    def exit_restriction(self, measure: ExitRestriction, ctx: Context) -> MeasureResult:
        """Border control for the control period, with the court's requirements (003 SPC–MPS 三(一))."""
        person = _natural_person(measure.subject, "限制出境")
        with _native():
            outcome = self.native.restrict_exit(
                ctx.idempotency_key,
                self._order(ctx),
                id_number=person.id_number,
                name=person.name,
                gender=_gender(person),
                start=measure.period.start,
                end=measure.period.end,
                requirement=measure.control_requirement,
                today=_today(ctx),
            )
        _check_identity(ctx, person, outcome["register_name"])
        ctx.log.info("police.exit_restricted", measure_seq=outcome["seq"])
        return MeasureResult(
            measure_id=measure.measure_id,
            status=ResultStatus.EXECUTED,
            period=measure.period,
            effective_at=outcome["effective_at"],
            remark="已列入边控名单，控制期限内阻止出境。",
        )

    @handles(VehicleSeize)
    def vehicle_seize(self, measure: VehicleSeize, ctx: Context) -> MeasureResult:
        """Seize at once; a vehicle already seized gets a rotating seizure, and the receipt says
        so with the earlier seizures in order (002 四.7(3): 书面告知有关情况)."""
        with _native():
            outcome = self.native.seize_vehicle(
                ctx.idempotency_key,
                self._order(ctx),
                plate=measure.vehicle.plate_number,
                vin=measure.vehicle.vin,
                start=measure.period.start,
                end=measure.period.end,
                today=_today(ctx),
            )
        _check_owner(ctx, measure.subject, outcome["owner_code"])
        ctx.log.info(
            "police.vehicle_seized",
            measure_seq=outcome["seq"],
            rotating=outcome["rotating"],
            position=outcome["position"],
        )
        if not outcome["rotating"]:
            return MeasureResult(
                measure_id=measure.measure_id,
                status=ResultStatus.EXECUTED,
                period=measure.period,
                queue_position=1,
                effective_at=outcome["effective_at"],
            )
        return MeasureResult(
            measure_id=measure.measure_id,
            status=ResultStatus.ROTATING,
            period=measure.period,
            queue_position=outcome["position"],
            prior_measures=_prior(outcome["prior"]),
            remark=f"该车辆已被在先查封，本院查封登记为轮候查封（第{outcome['position']}顺位）；"
            "在先查封解除后自动生效，届时另行通知（002 四.7(3)）。",
        )

    @handles(VehicleTransfer)
    def vehicle_transfer(self, measure: VehicleTransfer, ctx: Context) -> MeasureResult:
        """Transfer registration after sale, auction or ruling (002 四.7(3): result within 3
        working days of completion; done at once here)."""
        with _native():
            outcome = self.native.transfer_vehicle(
                ctx.idempotency_key,
                self._order(ctx),
                plate=measure.vehicle.plate_number,
                vin=measure.vehicle.vin,
                to_code=_code(measure.transferee.subject),
                to_name=measure.transferee.subject.name,
                today=_today(ctx),
            )
        _check_owner(ctx, measure.subject, outcome["from_code"])
        ctx.log.info("police.vehicle_transferred")
        return MeasureResult(
            measure_id=measure.measure_id, status=ResultStatus.EXECUTED, effective_at=outcome["effective_at"]
        )

    @handles(LocatePerson)
    def locate_person(self, measure: LocatePerson, ctx: Context) -> MeasureResult:
        """A watch entry; the court is told within 24 hours of the person being found (002 四.7(2))."""
        person = _natural_person(measure.subject, "查找被执行人")
        with _native():
            outcome = self.native.watch_person(
                ctx.idempotency_key,
                self._order(ctx),
                id_number=person.id_number,
                name=person.name,
                gender=_gender(person),
                ground=measure.ground.value,
            )
        _check_identity(ctx, person, outcome["register_name"])
        if measure.ground is LocateGround.ABSCONDED_AFTER_DETENTION and not measure.detention_decision:
            # 003 SPC–MPS 三(三): the court pushes the detention decision with the notice.
            ctx.suggest_review("通知书以拘留决定后潜逃为由协查，但未载明拘留决定书，请补充。已先行布控。")
        ctx.log.info("police.watch_person", measure_seq=outcome["seq"])
        return MeasureResult(
            measure_id=measure.measure_id,
            status=ResultStatus.EXECUTED,
            effective_at=outcome["effective_at"],
            remark="已列入协查名单；发现下落后24小时内通知执行法院（002 四.7(2)）。",
        )

    @handles(LocateVehicle)
    def locate_vehicle(self, measure: LocateVehicle, ctx: Context) -> MeasureResult:
        """The vehicle is put in the vehicle system to be looked for (003 SPC–MPS 三(二))."""
        with _native():
            outcome = self.native.watch_vehicle(
                ctx.idempotency_key,
                self._order(ctx),
                plate=measure.vehicle.plate_number,
                vin=measure.vehicle.vin,
            )
        _check_owner(ctx, measure.subject, outcome["owner_code"])
        ctx.log.info("police.watch_vehicle", measure_seq=outcome["seq"])
        return MeasureResult(
            measure_id=measure.measure_id,
            status=ResultStatus.EXECUTED,
            effective_at=outcome["effective_at"],
            remark="已纳入车辆管理信息系统查找；发现后及时通知执行法院（003 SPC–MPS 三(二)）。",
        )

    # --- releases (001 art. 21; 003 SPC–MPS 三(三)) ----------------------------------------------------

    @handles(Release, kinds=set(RELEASABLE))
    def release(self, release: Release, ctx: Context) -> ReleaseResult:
        """Lift an exit restriction, release a vehicle seizure (the next rotating seizure takes
        effect and its court is told), cancel a watch entry (002 四.7(2))."""
        ref = release.releases
        if ref is None:  # the hub's RULE_MEASURE_REFERENCE makes this impossible; say so anyway
            raise PermanentError("解除通知未指明所解除的措施。The release does not name the measure.")
        with _native():
            outcome = self.native.release(
                ctx.idempotency_key,
                court=ctx.court,
                document_id=str(ref.document_id),
                measure_id=ref.measure_id,
                kinds=RELEASABLE[release.kind],
                at=_now(ctx),
            )
        ctx.log.info(
            "police.released", kind=release.kind, measure_seq=outcome["seq"], already=outcome["already"]
        )
        self.flush()  # the court whose rotating seizure took effect (002 四.7(3))
        return ReleaseResult(
            release_id=release.release_id, status=ReleaseStatus.RELEASED, effective_at=outcome["released_at"]
        )

    # --- the bureau's API: sightings (002 四.7(2)) -------------------------------------------------------

    def report_sighting(
        self,
        *,
        sighting_id: str,
        location: str,
        seen_at: datetime,
        id_number: str | None = None,
        plate_number: str | None = None,
        impounded: bool = False,
        remark: str | None = None,
    ) -> list[str]:
        """A person (``id_number``) or vehicle (``plate_number``) was found: record it and send a
        ``LeadReport`` to every court watching for it — once per ``sighting_id`` (the bureau's
        record number), however often this is called (002 四.7(2): within 24 hours; the sighting
        time and the report time are both kept). Returns the ids of the lead reports sent."""
        if (id_number is None) == (plate_number is None):
            raise ValueError("a sighting names either a person (id_number) or a vehicle (plate_number)")
        self.native.record_sighting(
            sighting_id=sighting_id,
            kind="person" if id_number else "vehicle",
            target=id_number or plate_number or "",
            location=location,
            seen_at=seen_at,
            recorded_at=self.runtime.now(),
            impounded=impounded,
            remark=remark,
        )
        self.flush()
        return [lead["document_id"] for lead in self.native.leads(sighting_id) if lead["document_id"]]

    def flush(self) -> int:
        """Send what is owed to courts: lead reports and rotating seizures that took effect.
        Each is sent once (keyed by the sighting or the seizure); returns how many were sent."""
        sent = 0
        with self._send_lock:
            for promotion in self.native.pending_promotions():
                sent += self._send_promotion(promotion)
            for lead in self.native.pending_leads():
                sent += self._send_lead(lead)
        return sent

    def _send_promotion(self, promotion: Promotion) -> int:
        m = promotion.measure
        now = self.runtime.now()
        if (
            not m.via_network
        ):  # a paper notice: a status notice must answer it, so the court is told in writing
            self.native.promotion_sent(m.seq, None, now)
            self.runtime.log.info("police.promotion_on_paper", measure_seq=m.seq)
            return 0
        reason = (
            "在先查封已解除，本院轮候查封依次生效（002 四.7(3)）。"
            if promotion.cause == "released"
            else "在先查封期限届满，本院轮候查封依次生效（002 四.7(3)）。"
        )
        body = MeasureStatusNotice(
            measure=MeasureRef(document_id=UUID(m.document_id), measure_id=m.measure_id),
            status=ResultStatus.EXECUTED,
            effective_at=promotion.effective_at.replace(microsecond=0),
            reason=reason,
        )
        return self._send(
            body,
            m.court,
            m.case_number,
            m.document_id,
            f"police/status/{m.seq}",
            lambda doc: self.native.promotion_sent(m.seq, doc, now),
        )

    def _send_lead(self, lead: PendingLead) -> int:
        m = lead.measure
        now = self.runtime.now()
        if lead.kind == "person":
            known = self.native.person(lead.target)
            person = NaturalPerson(
                name=known["name"] if known else m.subject_name or "",
                id_number=lead.target,
                gender=(known["gender"] if known else None) or m.subject_gender,
            )
            sighting: PersonSighting | VehicleSighting = PersonSighting(
                person=person, location=lead.location, seen_at=lead.seen_at, remark=lead.remark
            )
        else:
            vehicle = self.native.vehicle(lead.target) or {"vin": None, "brand": None}
            sighting = VehicleSighting(
                vehicle=Vehicle(plate_number=lead.target, vin=vehicle["vin"], brand=vehicle["brand"]),
                location=lead.location,
                seen_at=lead.seen_at,
                impounded=lead.impounded,
                remark=lead.remark,
            )
        contact = self.settings.contact
        body = LeadReport(
            regarding=MeasureRef(document_id=UUID(m.document_id), measure_id=m.measure_id)
            if m.document_id and m.measure_id
            else None,
            sighting=sighting,
            contact=Officer(name=contact.name, phone=contact.phone, credential_number=contact.badge)
            if contact
            else None,
        )

        def done(document_id: str) -> None:
            self.native.lead_reported(lead.sighting_id, m.seq, document_id, now)
            late = now > lead.due_at
            log = self.runtime.log.warning if late else self.runtime.log.info
            log(
                "police.lead_reported",
                measure_seq=m.seq,
                document_id=document_id,
                late=late,
                minutes_after_sighting=int((now - lead.seen_at).total_seconds() // 60),
            )

        # in reply to the notice, so the hub routes it to the court that asked (and keeps them together)
        notice = m.document_id if m.via_network else None
        return self._send(
            body, m.court, m.case_number, notice, f"police/lead/{lead.sighting_id}/{m.seq}", done
        )

    def _send(
        self,
        body: LeadReport | MeasureStatusNotice,
        court: str,
        case_number: str | None,
        notice: str | None,
        key: str,
        done: Callable[[str], None],
    ) -> int:
        """Seal and send once under ``key``, answering ``notice`` when the hub knows it."""
        try:
            document_id = self.runtime.send(
                body, recipient=court, case_number=case_number, in_reply_to=notice, key=key
            )
        except LiandongError as exc:  # the hub would reject it: bad data or a bug; keep it owed, alert
            self.runtime.log.error("police.send_refused", doc_type=body.xml_tag, errors=exc.codes)
            return 0
        done(document_id)
        return 1

    def _poll(self) -> None:
        while not self._stopping.wait(self.settings.poll_seconds):
            try:
                now = self.runtime.now()
                self.native.lapse(now.astimezone(CHINA_TZ).date(), now)
                self.flush()
                overdue = self.native.overdue_leads(now)
                if overdue:
                    self.runtime.log.error(
                        "police.leads_overdue", count=len(overdue)
                    )  # 002 四.7(2): 24 hours
            except Exception as exc:  # noqa: BLE001 - keep polling; the next round tries again
                self.runtime.log.error("police.poll_failed", error=type(exc).__name__)

    # --- helpers ---------------------------------------------------------------------------------------

    def _order(self, ctx: Context) -> CourtOrder:
        entry = self.runtime.registry.unit(ctx.court)
        return CourtOrder(
            court=ctx.court,
            court_name=entry.name if entry else ctx.court,
            case_number=ctx.case_number,
            document_id=ctx.document_id,
            measure_id=ctx.item_id,
            at=_now(ctx),
        )


@contextmanager
def _native() -> Iterator[None]:
    """Refusals become NotExecuted with the reason; a busy database is retried."""
    try:
        yield
    except Refusal as exc:
        raise PermanentError(exc.reason) from None
    except sqlite3.OperationalError as exc:
        raise TransientError() from exc


def _now(ctx: Context) -> datetime:
    return ctx.runtime.now().astimezone(CHINA_TZ).replace(microsecond=0)


def _today(ctx: Context) -> date:
    return _now(ctx).date()


def _code(subject: Subject) -> str:
    return subject.id_number if isinstance(subject, NaturalPerson) else subject.unit_code


def _gender(person: NaturalPerson) -> str | None:
    return person.gender.value if person.gender is not None else None


def _natural_person(subject: Subject, what: str) -> NaturalPerson:
    if isinstance(subject, Organisation):
        raise PermanentError(
            f"{what}仅适用于自然人。This applies to natural persons only (003 SPC–MPS 二(二), 三(一)、(三))."
        )
    return subject


def _check_identity(ctx: Context, person: NaturalPerson, register_name: str | None) -> None:
    """001 art. 20: the register disagreeing with the notice is a reason to suggest a review, not to refuse."""
    if register_name is None:
        ctx.suggest_review("人口信息系统中未查到该公民身份号码，请核实。已按通知书所列号码执行。")
    elif register_name != person.name:
        ctx.suggest_review("通知书所列姓名与人口信息登记不一致，请核实。已按公民身份号码执行。")


def _check_owner(ctx: Context, subject: Subject, owner_code: str) -> None:
    """001 art. 20: a vehicle registered to someone other than the debtor is carried out, with a review suggestion."""
    if owner_code != _code(subject):
        ctx.suggest_review("该车辆登记所有人与通知书所列被执行人不一致，请核实。已按通知书执行。")


def _prior(entries: list[dict]) -> list[PriorMeasure]:
    return [
        PriorMeasure(
            position=i,
            authority=e["court_name"],
            authority_code=e["court"],
            case_number=e["case_number"],
            document_id=e["document_id"],
            period=Period(start=e["period_start"], end=e["period_end"])
            if e["period_start"] and e["period_end"]
            else None,
        )
        for i, e in enumerate(entries, 1)
    ]


def _person_record(p: dict) -> PersonRecord:
    return PersonRecord(
        name=p["name"],
        id_number=p["id_number"],
        gender=p["gender"],
        birth_date=p["birth_date"],
        former_names=p["former_names"],
        household_address=p["household_address"],
        residence=p["residence"],
        phone=p["phone"],
    )


def _travel_record(d: dict) -> TravelDocumentRecord:
    return TravelDocumentRecord(
        document_kind=d["kind"],
        document_number=d["number"],
        valid_until=d["valid_until"],
        crossings=[
            BorderCrossing(
                time=c["at"], direction=c["direction"], port=c["port"], destination=c["destination"]
            )
            for c in d["crossings"]
        ],
    )


def _hotel_record(s: dict) -> HotelStayRecord:
    return HotelStayRecord(
        hotel_name=s["hotel_name"],
        hotel_address=s["hotel_address"],
        check_in=s["check_in"],
        check_out=s["check_out"],
    )
