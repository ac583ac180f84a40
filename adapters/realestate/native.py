"""The real-estate register (不动产登记簿) in SQLite: a reference stand-in that enforces the seeds.

It stands where a real registration centre's core system would be, and carries the rules the
seeds give registries (001 = 2010 national opinion, 002 = Yunfu rules, 003 = SPC compilation):

- seizure (查封), pre-seizure (预查封) and rotating seizure (轮候查封) are registered at once
  (001 art. 11: 协助人民法院及时办理…查封、预查封和轮候查封登记; art. 12 the same for houses;
  002 四.13, 四.14: 马上办理);
- the notice delivered first gets the seizure; later seizures of the same property are rotating
  seizures, queued in delivery order, and the court is told its place (001 art. 12; 002 四.7(3)
  states the rule for vehicles: 为首先送达协助执行通知书的人民法院办理查封…对后来…作轮候查封，
  并书面告知; 003 权力清单 59 轮候查封、扣押、冻结);
- a release (解封) by the seizing court lifts its seizure; when it was the effective one, the
  next rotating seizure takes effect at once (001 art. 21; 001 art. 12);
- only the first seizing court can have a transfer registered: 轮候查封的人民法院违法要求协助办理
  房屋登记手续的，依法不予办理 (001 art. 12). A transfer by that court registers the transferee as
  owner; its own seizures end, and other courts' rotating seizures lapse (they could only ever
  attach to the debtor's property) — their courts are told (002 四.7(3) 书面告知, by analogy);
- a court may halt pending change registrations of a property and planning approval procedures
  of a project (001 art. 11: 停止办理相关手续; art. 12 the same for houses and planning); the
  halting court lifts it (001 art. 21); while halted, or while the property is seized, a party's
  change registration cannot be completed;
- the register does not review the merits of a court's document (001 art. 20): a property
  registered in another name is still seized, and the adapter sends a review suggestion.

Operations take ``at`` (the caller's clock) and run in one transaction: inside the adapter's
:class:`~adapters.sdk.IdempotentLedger` transaction when there is one (same connection), else
their own.
"""

from __future__ import annotations

import sqlite3
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from adapters.realestate.model import (
    LIVE_SEIZURES,
    ChangeRegistration,
    ChangeState,
    CourtOrder,
    Halt,
    HaltOutcome,
    LiftOutcome,
    Mortgage,
    Party,
    PlanningApproval,
    Property,
    PropertyKind,
    PropertyRef,
    Refused,
    Registration,
    ReleaseOutcome,
    Seizure,
    SeizureOutcome,
    SeizureState,
    TransferOutcome,
)
from adapters.sdk.native_db import NativeDatabase
from adapters.sdk.rotating import RotatingQueue

_SCHEMA = """
CREATE TABLE IF NOT EXISTS properties (
    id                 INTEGER PRIMARY KEY,
    kind               TEXT NOT NULL,
    registration       TEXT NOT NULL,
    unit_number        TEXT UNIQUE,
    certificate_number TEXT UNIQUE,
    location           TEXT NOT NULL,
    owner_name         TEXT NOT NULL,
    owner_code         TEXT NOT NULL,
    area               TEXT,
    use                TEXT
);
CREATE INDEX IF NOT EXISTS properties_owner ON properties(owner_code);
CREATE TABLE IF NOT EXISTS mortgages (
    id            INTEGER PRIMARY KEY,
    property_id   INTEGER NOT NULL REFERENCES properties(id),
    holder        TEXT NOT NULL,
    amount        TEXT,
    registered_on TEXT
);
-- id is the queue order: seizures are registered in delivery order (001 art. 12)
CREATE TABLE IF NOT EXISTS seizures (
    id            INTEGER PRIMARY KEY,
    property_id   INTEGER NOT NULL REFERENCES properties(id),
    kind          TEXT NOT NULL,
    state         TEXT NOT NULL,
    court_order   TEXT NOT NULL,
    court         TEXT NOT NULL,
    document_id   TEXT,
    item_id       TEXT,
    period_start  TEXT NOT NULL,
    period_end    TEXT NOT NULL,
    registered_at TEXT NOT NULL,
    effective_at  TEXT,
    ended_at      TEXT,
    UNIQUE (document_id, item_id)
);
CREATE TABLE IF NOT EXISTS change_registrations (
    id             INTEGER PRIMARY KEY,
    property_id    INTEGER NOT NULL REFERENCES properties(id),
    kind           TEXT NOT NULL,
    applicant_name TEXT NOT NULL,
    applicant_code TEXT NOT NULL,
    filed_at       TEXT NOT NULL,
    state          TEXT NOT NULL,
    halted_by      INTEGER REFERENCES halts(id),
    decided_at     TEXT
);
CREATE TABLE IF NOT EXISTS halts (
    id            INTEGER PRIMARY KEY,
    property_id   INTEGER REFERENCES properties(id),
    project_code  TEXT,
    scope         TEXT NOT NULL,
    court_order   TEXT NOT NULL,
    court         TEXT NOT NULL,
    document_id   TEXT,
    item_id       TEXT,
    active        INTEGER NOT NULL,
    registered_at TEXT NOT NULL,
    lifted_at     TEXT,
    UNIQUE (document_id, item_id)
);
CREATE TABLE IF NOT EXISTS planning_approvals (
    id            INTEGER PRIMARY KEY,
    holder_name   TEXT NOT NULL,
    holder_code   TEXT NOT NULL,
    project_code  TEXT NOT NULL,
    project_name  TEXT NOT NULL,
    permit_number TEXT UNIQUE,
    state         TEXT NOT NULL,
    issued_on     TEXT,
    halted_by     INTEGER REFERENCES halts(id)
);
CREATE TABLE IF NOT EXISTS transfers (
    id            INTEGER PRIMARY KEY,
    property_id   INTEGER NOT NULL REFERENCES properties(id),
    from_name     TEXT NOT NULL,
    from_code     TEXT NOT NULL,
    to_name       TEXT NOT NULL,
    to_code       TEXT NOT NULL,
    court_order   TEXT NOT NULL,
    registered_at TEXT NOT NULL
);
"""

VOLUNTARY_BLOCKED_BY_SEIZURE = frozenset({"转移登记", "抵押权登记", "变更登记"})
"""Change registrations a seizure blocks: a seized property cannot be sold or mortgaged (001 arts. 11–12)."""

_SEIZURE_QUEUE = RotatingQueue(
    "seizures", "property_id=?", effective=SeizureState.EFFECTIVE.value, rotating=SeizureState.ROTATING.value
)
"""A property's seizures in delivery order (001 art. 12)."""


def _describe(p: Property | PropertyRef) -> str:
    return p.certificate_number or p.unit_number or p.location


class RealEstateRegister(NativeDatabase):
    """The register. ``RealEstateRegister(path)``; share :attr:`db` with an IdempotentLedger and
    hold :attr:`lock` around it (see the module docstring)."""

    def __init__(self, path: str | Path):
        super().__init__(path, _SCHEMA)

    # --- registering what the register holds (the agency's own work; demo data) ------------------

    def register_property(
        self,
        *,
        kind: PropertyKind,
        location: str,
        owner: Party,
        unit_number: str | None = None,
        certificate_number: str | None = None,
        registration: Registration = Registration.REGISTERED,
        area: Decimal | None = None,
        use: str | None = None,
    ) -> int:
        with self.transaction() as db:
            cur = db.execute(
                "INSERT INTO properties (kind, registration, unit_number, certificate_number, location,"
                " owner_name, owner_code, area, use) VALUES (?,?,?,?,?,?,?,?,?)",
                (kind.value, registration.value, unit_number, certificate_number, location.strip(),
                 owner.name, owner.code, str(area) if area is not None else None, use),
            )
            return int(cur.lastrowid or 0)

    def register_mortgage(self, property_id: int, holder: str, amount: Decimal | None, registered_on: date | None) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO mortgages (property_id, holder, amount, registered_on) VALUES (?,?,?,?)",
                (property_id, holder, str(amount) if amount is not None else None,
                 registered_on.isoformat() if registered_on else None),
            )

    def register_planning(
        self, holder: Party, project_code: str, project_name: str, *, permit_number: str | None,
        state: str = "Approved", issued_on: date | None = None,
    ) -> int:
        with self.transaction() as db:
            cur = db.execute(
                "INSERT INTO planning_approvals (holder_name, holder_code, project_code, project_name,"
                " permit_number, state, issued_on) VALUES (?,?,?,?,?,?,?)",
                (holder.name, holder.code, project_code, project_name, permit_number, state,
                 issued_on.isoformat() if issued_on else None),
            )
            return int(cur.lastrowid or 0)

    # --- finding ----------------------------------------------------------------------------------

    def find(self, ref: PropertyRef) -> Property:
        """The property a notice names: by unit number, certificate number or location; the
        identifiers given must all name the same property."""
        with self.transaction() as db:
            found: dict[int, str] = {}
            for column, value in (("unit_number", ref.unit_number), ("certificate_number", ref.certificate_number)):
                if value:
                    row = db.execute(f"SELECT id FROM properties WHERE {column}=?", (value.strip(),)).fetchone()
                    if row is not None:
                        found[int(row["id"])] = column
            if not found:
                rows = db.execute("SELECT id FROM properties WHERE location=?", (ref.location.strip(),)).fetchall()
                if len(rows) == 1:
                    found[int(rows[0]["id"])] = "location"
            if not found:
                raise Refused(f"经查询，本中心无该不动产（{_describe(ref)}）的登记记录，无法办理。"
                              "No such property is registered here.")
            if len(found) > 1:
                raise Refused(f"通知书所列不动产单元号与不动产权证号指向不同的不动产（{_describe(ref)}），"
                              "请核实后重新送达。The unit number and the certificate number name different properties.")
            return self.property(next(iter(found)))

    def property(self, property_id: int) -> Property:
        with self.transaction() as db:
            row = db.execute("SELECT * FROM properties WHERE id=?", (property_id,)).fetchone()
            if row is None:
                raise KeyError(property_id)
            mortgages = [
                Mortgage(holder=m["holder"], amount=Decimal(m["amount"]) if m["amount"] else None,
                         registered_on=date.fromisoformat(m["registered_on"]) if m["registered_on"] else None)
                for m in db.execute("SELECT * FROM mortgages WHERE property_id=? ORDER BY id", (property_id,))
            ]
            return Property(
                id=row["id"],
                kind=PropertyKind(row["kind"]),
                registration=Registration(row["registration"]),
                unit_number=row["unit_number"],
                certificate_number=row["certificate_number"],
                location=row["location"],
                owner=Party(name=row["owner_name"], code=row["owner_code"]),
                area=Decimal(row["area"]) if row["area"] else None,
                use=row["use"],
                mortgages=mortgages,
                seizures=self.live_seizures(property_id),
                pending_changes=[c for c in self.changes(property_id) if c.state in (ChangeState.PENDING, ChangeState.HALTED)],
            )

    def properties_of(self, code: str, kinds: frozenset[PropertyKind] | None = None) -> list[Property]:
        """What is registered in the name of ``code`` (resident ID number or USCC)."""
        with self.transaction() as db:
            ids = [int(r["id"]) for r in db.execute("SELECT id, kind FROM properties WHERE owner_code=? ORDER BY id", (code,))
                   if kinds is None or PropertyKind(r["kind"]) in kinds]
            return [self.property(i) for i in ids]

    def seizures(self, property_id: int) -> list[Seizure]:
        """Every seizure of a property ever registered, in queue order."""
        with self.transaction() as db:
            return [_seizure(r) for r in db.execute("SELECT * FROM seizures WHERE property_id=? ORDER BY id", (property_id,))]

    def live_seizures(self, property_id: int) -> list[Seizure]:
        """The effective seizure and the rotating ones behind it, in queue order."""
        return [s for s in self.seizures(property_id) if s.state in LIVE_SEIZURES]

    def seizure_by_order(self, document_id: str, item_id: str) -> Seizure | None:
        with self.transaction() as db:
            row = db.execute("SELECT * FROM seizures WHERE document_id=? AND item_id=?", (document_id, item_id)).fetchone()
            return _seizure(row) if row else None

    def changes(self, property_id: int) -> list[ChangeRegistration]:
        with self.transaction() as db:
            return [_change(r) for r in db.execute("SELECT * FROM change_registrations WHERE property_id=? ORDER BY id", (property_id,))]

    def planning_of(self, code: str) -> list[PlanningApproval]:
        with self.transaction() as db:
            return [_approval(r) for r in db.execute("SELECT * FROM planning_approvals WHERE holder_code=? ORDER BY id", (code,))]

    def halts(self, *, active: bool | None = None) -> list[Halt]:
        with self.transaction() as db:
            rows = db.execute("SELECT * FROM halts ORDER BY id").fetchall()
            return [h for h in map(_halt, rows) if active is None or h.active is active]

    # --- seizures (001 arts. 11–12; 002 四.13, 四.14) ------------------------------------------------

    def seize(
        self, ref: PropertyRef, debtor: Party, *, kind: str, period: tuple[date, date], order: CourtOrder, at: datetime
    ) -> SeizureOutcome:
        """Register a seizure, pre-seizure or rotating seizure at once (马上办理, 002 四.13/四.14).

        With no live seizure it takes effect; otherwise it is a rotating seizure behind the live
        ones, in delivery order, whatever the notice called it (001 art. 12; 002 四.7(3)).
        """
        with self.transaction() as db:
            prop = self.find(ref)
            prior = self.live_seizures(prop.id)
            state = SeizureState.ROTATING if prior else SeizureState.EFFECTIVE
            cur = db.execute(
                "INSERT INTO seizures (property_id, kind, state, court_order, court, document_id, item_id,"
                " period_start, period_end, registered_at, effective_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (prop.id, kind, state.value, order.model_dump_json(), order.court, order.document_id, order.item_id,
                 period[0].isoformat(), period[1].isoformat(), at.isoformat(),
                 at.isoformat() if state is SeizureState.EFFECTIVE else None),
            )
            seizure = self._seizure_id(int(cur.lastrowid or 0))
            return SeizureOutcome(
                seizure=seizure, queue_position=len(prior) + 1, prior=prior, owner_matches=prop.owner.code == debtor.code
            )

    def release(self, document_id: str, item_id: str, *, court: str, at: datetime) -> ReleaseOutcome:
        """Lift the seizure registered for notice ``document_id`` item ``item_id`` (解封, 001 art. 21).

        Only the court that seized may lift it. When it was the effective seizure, the first
        rotating seizure behind it takes effect now (001 art. 12).
        """
        with self.transaction() as db:
            seizure = self.seizure_by_order(document_id, item_id)
            if seizure is None:
                raise Refused("经查，本中心无该协助执行通知书所办理的查封登记，无法解除。"
                              "No seizure was registered for the measure named.")
            if seizure.order.court != court:
                raise Refused(f"该查封系{seizure.order.court_name}办理，应由该院解除（001第二十一条）。"
                              "Only the seizing court can lift its seizure.")
            if seizure.state not in LIVE_SEIZURES:
                raise Refused(f"该查封已于{_day(seizure.ended_at)}终止（{_state_text(seizure.state)}），无需解除。"
                              "The seizure has already ended.")
            db.execute("UPDATE seizures SET state=?, ended_at=? WHERE id=?", (SeizureState.RELEASED.value, at.isoformat(), seizure.id))
            promoted = None
            if seizure.state is SeizureState.EFFECTIVE:
                next_id = _SEIZURE_QUEUE.promote_next(db, seizure.property_id, at=at)
                promoted = self._seizure_id(next_id) if next_id is not None else None
            return ReleaseOutcome(released=self._seizure_id(seizure.id), promoted=promoted)

    # --- transfer (过户, 001 art. 12; 002 四.13, 四.14 强制过户 马上办理) ----------------------------------

    def transfer(self, ref: PropertyRef, debtor: Party, transferee: Party, *, order: CourtOrder, at: datetime) -> TransferOutcome:
        """Register the transfer a court orders. A seized property can be transferred only at the
        request of the court whose seizure is in effect (001 art. 12)."""
        with self.transaction() as db:
            prop = self.find(ref)
            live = prop.seizures
            if live and live[0].order.court != order.court:
                first = live[0].order
                mine = [n for n, s in enumerate(live, 1) if s.order.court == order.court]
                if mine:
                    raise Refused(
                        f"贵院对该不动产（{_describe(prop)}）为轮候查封（第{mine[0]}顺位），首先查封法院为{first.court_name}"
                        f"（{first.case_number or '案号不详'}）。根据《关于建立和完善执行联动机制若干问题的意见》第十二条，"
                        "轮候查封的人民法院要求协助办理房屋登记手续的，依法不予办理。"
                        "A court holding only a rotating seizure cannot have a transfer registered (001 art. 12)."
                    )
                raise Refused(
                    f"该不动产（{_describe(prop)}）已被{first.court_name}（{first.case_number or '案号不详'}）查封，"
                    "贵院未查封该不动产，只有首先查封的人民法院可以要求办理转移登记（001第十二条），依法不予办理。"
                    "The property is seized by another court; only the first seizing court can have it transferred."
                )
            if prop.registration is Registration.PRE_REGISTERED:
                raise Refused(f"该房屋（{_describe(prop)}）尚未办理所有权首次登记（仅有预告登记），无法办理转移登记。"
                              "Only pre-registered: there is no ownership to transfer yet.")
            ended = [s for s in live if s.order.court == order.court]
            lapsed = [s for s in live if s.order.court != order.court]
            for seizure, state in [(s, SeizureState.TRANSFERRED) for s in ended] + [(s, SeizureState.LAPSED) for s in lapsed]:
                db.execute("UPDATE seizures SET state=?, ended_at=? WHERE id=?", (state.value, at.isoformat(), seizure.id))
            db.execute("UPDATE properties SET owner_name=?, owner_code=? WHERE id=?", (transferee.name, transferee.code, prop.id))
            db.execute(
                "INSERT INTO transfers (property_id, from_name, from_code, to_name, to_code, court_order, registered_at)"
                " VALUES (?,?,?,?,?,?,?)",
                (prop.id, prop.owner.name, prop.owner.code, transferee.name, transferee.code, order.model_dump_json(), at.isoformat()),
            )
            return TransferOutcome(
                property_id=prop.id,
                previous_owner=prop.owner,
                transferee=transferee,
                registered_at=at,
                ended=[self._seizure_id(s.id) for s in ended],
                lapsed=[self._seizure_id(s.id) for s in lapsed],
                owner_matches=prop.owner.code == debtor.code,
            )

    # --- halting change registrations and planning procedures (001 arts. 11–12) ------------------

    def halt(
        self, ref: PropertyRef | None, project_code: str | None, *, scope: str, order: CourtOrder, at: datetime
    ) -> HaltOutcome:
        """Stop the pending change registrations of a property and/or the planning approval
        procedures of a project (停止办理相关手续, 001 arts. 11–12). The halt also stops
        applications made while it lasts."""
        if ref is None and project_code is None:
            raise Refused("协助执行通知书未载明停止办理的不动产或项目，无法办理。The notice names neither a property nor a project.")
        with self.transaction() as db:
            prop = self.find(ref) if ref is not None else None
            approvals: list[PlanningApproval] = []
            if project_code is not None:
                approvals = [a for a in self._approvals_of_project(project_code)]
                if not approvals and prop is None:
                    raise Refused(f"经查，本单位无项目代码为{project_code}的规划审批记录，无法办理。No such project here.")
            cur = db.execute(
                "INSERT INTO halts (property_id, project_code, scope, court_order, court, document_id, item_id, active,"
                " registered_at) VALUES (?,?,?,?,?,?,?,1,?)",
                (prop.id if prop else None, project_code, scope, order.model_dump_json(), order.court,
                 order.document_id, order.item_id, at.isoformat()),
            )
            halt_id = int(cur.lastrowid or 0)
            changes = [c for c in (prop.pending_changes if prop else []) if c.state is ChangeState.PENDING]
            for change in changes:
                db.execute("UPDATE change_registrations SET state=?, halted_by=? WHERE id=?", (ChangeState.HALTED.value, halt_id, change.id))
            pending = [a for a in approvals if a.state == "Pending"]
            for approval in pending:
                db.execute("UPDATE planning_approvals SET state='Halted', halted_by=? WHERE id=?", (halt_id, approval.id))
            return HaltOutcome(
                halt=self._halt_id(halt_id),
                halted_changes=[c.model_copy(update={"state": ChangeState.HALTED, "halted_by": halt_id}) for c in changes],
                halted_approvals=[a.model_copy(update={"state": "Halted", "halted_by": halt_id}) for a in pending],
            )

    def lift_halt(self, document_id: str, item_id: str, *, court: str, at: datetime) -> LiftOutcome:
        """Lift a halt (001 art. 21): its halted procedures go on, unless another halt still covers them."""
        with self.transaction() as db:
            row = db.execute("SELECT * FROM halts WHERE document_id=? AND item_id=?", (document_id, item_id)).fetchone()
            if row is None:
                raise Refused("经查，本单位无该协助执行通知书所办理的停止办理登记，无法解除。No halt was registered for the measure named.")
            halt = _halt(row)
            if halt.order.court != court:
                raise Refused(f"该停止办理措施系{halt.order.court_name}通知办理，应由该院解除（001第二十一条）。"
                              "Only the court that ordered the halt can lift it.")
            if not halt.active:
                raise Refused(f"该停止办理措施已于{_day(halt.lifted_at)}解除，无需重复办理。The halt was already lifted.")
            db.execute("UPDATE halts SET active=0, lifted_at=? WHERE id=?", (at.isoformat(), halt.id))
            resumed_changes = resumed_approvals = 0
            for change in db.execute("SELECT * FROM change_registrations WHERE halted_by=?", (halt.id,)).fetchall():
                other = self._active_halt(property_id=change["property_id"])
                db.execute("UPDATE change_registrations SET state=?, halted_by=? WHERE id=?",
                           (ChangeState.HALTED.value if other else ChangeState.PENDING.value, other, change["id"]))
                resumed_changes += other is None
            for approval in db.execute("SELECT * FROM planning_approvals WHERE halted_by=?", (halt.id,)).fetchall():
                other = self._active_halt(project_code=approval["project_code"])
                db.execute("UPDATE planning_approvals SET state=?, halted_by=? WHERE id=?",
                           ("Halted" if other else "Pending", other, approval["id"]))
                resumed_approvals += other is None
            return LiftOutcome(halt=self._halt_id(halt.id), resumed_changes=resumed_changes, resumed_approvals=resumed_approvals)

    # --- a party's own change registrations (what a halt and a seizure stop) ---------------------

    def apply_change(self, property_id: int, kind: str, applicant: Party, *, at: datetime) -> ChangeRegistration:
        """A party applies for a change registration; under an active halt it is halted at once."""
        with self.transaction() as db:
            halt = self._active_halt(property_id=property_id)
            cur = db.execute(
                "INSERT INTO change_registrations (property_id, kind, applicant_name, applicant_code, filed_at, state, halted_by)"
                " VALUES (?,?,?,?,?,?,?)",
                (property_id, kind, applicant.name, applicant.code, at.isoformat(),
                 (ChangeState.HALTED if halt else ChangeState.PENDING).value, halt),
            )
            return _change(db.execute("SELECT * FROM change_registrations WHERE id=?", (cur.lastrowid,)).fetchone())

    def complete_change(self, change_id: int, *, at: datetime) -> ChangeRegistration:
        """Complete a party's change registration, which a halt (001 arts. 11–12) or, for a
        transfer or mortgage, a live seizure forbids."""
        with self.transaction() as db:
            row = db.execute("SELECT * FROM change_registrations WHERE id=?", (change_id,)).fetchone()
            if row is None:
                raise KeyError(change_id)
            change = _change(row)
            if change.state is ChangeState.HALTED:
                raise Refused("人民法院已通知停止办理该不动产的变更登记手续（001第十一条、第十二条），不予办理。")
            if change.state is not ChangeState.PENDING:
                raise Refused("该登记申请已办结。")
            if change.kind in VOLUNTARY_BLOCKED_BY_SEIZURE and self.live_seizures(change.property_id):
                raise Refused("该不动产已被人民法院查封，查封期间不予办理转移、抵押等变更登记（001第十一条、第十二条）。")
            db.execute("UPDATE change_registrations SET state=?, decided_at=? WHERE id=?",
                       (ChangeState.COMPLETED.value, at.isoformat(), change_id))
            return change.model_copy(update={"state": ChangeState.COMPLETED})

    # --- internals --------------------------------------------------------------------------------

    def _seizure_id(self, seizure_id: int) -> Seizure:
        return _seizure(self.db.execute("SELECT * FROM seizures WHERE id=?", (seizure_id,)).fetchone())

    def _halt_id(self, halt_id: int) -> Halt:
        return _halt(self.db.execute("SELECT * FROM halts WHERE id=?", (halt_id,)).fetchone())

    def _approvals_of_project(self, project_code: str) -> list[PlanningApproval]:
        return [_approval(r) for r in self.db.execute("SELECT * FROM planning_approvals WHERE project_code=? ORDER BY id", (project_code,))]

    def _active_halt(self, *, property_id: int | None = None, project_code: str | None = None) -> int | None:
        if property_id is not None:
            row = self.db.execute("SELECT id FROM halts WHERE active=1 AND property_id=? ORDER BY id", (property_id,)).fetchone()
        else:
            row = self.db.execute("SELECT id FROM halts WHERE active=1 AND project_code=? ORDER BY id", (project_code,)).fetchone()
        return int(row["id"]) if row else None


def _day(text: datetime | str | None) -> str:
    if text is None:
        return "此前"
    value = datetime.fromisoformat(text) if isinstance(text, str) else text
    return f"{value.year}年{value.month}月{value.day}日"


def _state_text(state: SeizureState) -> str:
    return {
        SeizureState.RELEASED: "已解封",
        SeizureState.TRANSFERRED: "已因过户终止",
        SeizureState.LAPSED: "已因不动产被处分而失效",
    }.get(state, state.value)


def _seizure(row: sqlite3.Row) -> Seizure:
    return Seizure(
        id=row["id"],
        property_id=row["property_id"],
        kind=row["kind"],
        state=SeizureState(row["state"]),
        order=CourtOrder.model_validate_json(row["court_order"]),
        period_start=date.fromisoformat(row["period_start"]),
        period_end=date.fromisoformat(row["period_end"]),
        registered_at=datetime.fromisoformat(row["registered_at"]),
        effective_at=datetime.fromisoformat(row["effective_at"]) if row["effective_at"] else None,
        ended_at=datetime.fromisoformat(row["ended_at"]) if row["ended_at"] else None,
    )


def _change(row: sqlite3.Row) -> ChangeRegistration:
    return ChangeRegistration(
        id=row["id"],
        property_id=row["property_id"],
        kind=row["kind"],
        applicant=Party(name=row["applicant_name"], code=row["applicant_code"]),
        filed_at=datetime.fromisoformat(row["filed_at"]),
        state=ChangeState(row["state"]),
        halted_by=row["halted_by"],
    )


def _approval(row: sqlite3.Row) -> PlanningApproval:
    return PlanningApproval(
        id=row["id"],
        holder=Party(name=row["holder_name"], code=row["holder_code"]),
        project_code=row["project_code"],
        project_name=row["project_name"],
        permit_number=row["permit_number"],
        state=row["state"],
        issued_on=date.fromisoformat(row["issued_on"]) if row["issued_on"] else None,
        halted_by=row["halted_by"],
    )


def _halt(row: sqlite3.Row) -> Halt:
    return Halt(
        id=row["id"],
        property_id=row["property_id"],
        project_code=row["project_code"],
        scope=row["scope"],
        order=CourtOrder.model_validate_json(row["court_order"]),
        active=bool(row["active"]),
        registered_at=datetime.fromisoformat(row["registered_at"]),
        lifted_at=datetime.fromisoformat(row["lifted_at"]) if row["lifted_at"] else None,
    )
