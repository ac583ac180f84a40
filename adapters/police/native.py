"""The public-security stand-in: the registers a police bureau keeps, in SQLite, and the rules
the seeds set for what it does for courts.

It stands where a real bureau's systems would be called (population register, vehicle
register, border control, watch list). It is a reference implementation of the rules, not a mock:

- population register: identity, household, travel documents with border crossings, hotel stays
  (003 SPC–MPS 二(二)1–3, 5; 002 四.7(1));
- vehicle register with its seizures (003 SPC–MPS 二(二)4): the court whose notice arrives first
  gets the seizure, later courts a rotating seizure in arrival order; releasing the seizure in
  effect promotes the next one, and that court is told (002 四.7(3); 001 art. 12). A seized
  vehicle cannot be transferred (003 SPC–MPS 三(二): 限制其转让过户), except for the court
  holding the seizure in effect (002 四.7(3); only the first seizing court, 001 art. 12);
- border-control list: exit restrictions with a control period (003 SPC–MPS 三(一)); a lifted or
  expired restriction no longer applies;
- watch list: persons and vehicles the courts asked police to find (002 四.7(2); 003 SPC–MPS
  三(二)–(三)), until the court cancels (002 四.7(2): 人民法院发现被执行人下落的，应当及时通知
  公安机关撤销协查); seized vehicles are looked for too (002 四.7(3) 路面排查拦截);
- sightings, and the lead reports they owe to each court watching: the court is told within
  24 hours (002 四.7(2)); the report time is kept beside the sighting time.

Every change a court orders is made through :class:`~adapters.sdk.IdempotentLedger` with the
item's idempotency key, in the same transaction as the key (docs/adapters.md §3). Notices owed to
courts (lead reports, rotating seizures taking effect) are written in the transaction that makes
them owed, and marked sent once the adapter has handed them to the network: an outbox, so a crash
in between sends them at the next start, once. The schema, row types and the seizure-queue rules
run inside these transactions are in :mod:`adapters.police.tables`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from adapters.police.tables import (
    EXIT_RESTRICTION,
    IN_PLACE,
    LOCATE_PERSON,
    LOCATE_VEHICLE,
    MEASURE_COLS,
    REPORT_WITHIN,
    SCHEMA,
    VEHICLE_COLS,
    VEHICLE_SEIZE,
    CourtOrder,
    Measure,
    PendingLead,
    Promotion,
    Refusal,
    effective_seizure,
    identify_vehicle,
    insert_measure,
    lapse_expired,
    measure_of,
    parse_date,
    parse_time,
    person_of,
    promote_next,
    seizure_queue,
    to_iso,
    vehicle_of,
    within,
)
from adapters.sdk.native_db import NativeDatabase

__all__ = [
    "EXIT_RESTRICTION",
    "LOCATE_PERSON",
    "LOCATE_VEHICLE",
    "REPORT_WITHIN",
    "VEHICLE_SEIZE",
    "CourtOrder",
    "Measure",
    "PendingLead",
    "PoliceSystem",
    "Promotion",
    "Refusal",
]

T = TypeVar("T")


class PoliceSystem(NativeDatabase):
    """The bureau's registers in one SQLite file (``path``). Thread-safe: writes go through the
    idempotent ledger (one lock), reads through a second connection (WAL snapshots)."""

    def __init__(self, path: str | Path):
        super().__init__(path, SCHEMA, rows=False, foreign_keys=False)

    # --- population register (003 SPC–MPS 二(二)1–3, 5; 002 四.7(1)) ---------------------------

    def person(self, id_number: str) -> dict[str, Any] | None:
        rows = self.read(
            "SELECT id_number, name, gender, birth_date, former_names, household_id, household_address, residence, phone"
            " FROM persons WHERE id_number=?",
            (id_number,),
        )
        return person_of(rows[0]) if rows else None

    def household(self, id_number: str) -> list[dict[str, Any]]:
        """The person and the members of the same household (户籍; 004 art. 15 家庭成员), the person first."""
        me = self.person(id_number)
        if me is None:
            return []
        if not me["household_id"]:
            return [me]
        rows = self.read(
            "SELECT id_number, name, gender, birth_date, former_names, household_id, household_address, residence, phone"
            " FROM persons WHERE household_id=? AND id_number<>? ORDER BY id_number",
            (me["household_id"], id_number),
        )
        return [me, *(person_of(r) for r in rows)]

    def travel_documents(
        self, id_number: str, start: date | None = None, end: date | None = None
    ) -> list[dict[str, Any]]:
        """Exit and entry documents with their crossings, within ``start``–``end`` when given
        (003 SPC–MPS 二(二)2–3)."""
        found = []
        for number, kind, valid_until in self.read(
            "SELECT number, kind, valid_until FROM travel_documents WHERE id_number=? ORDER BY number",
            (id_number,),
        ):
            crossings = [
                {"at": parse_time(at), "direction": direction, "port": port, "destination": destination}
                for at, direction, port, destination in self.read(
                    "SELECT at, direction, port, destination FROM border_crossings WHERE document_number=? ORDER BY at",
                    (number,),
                )
            ]
            crossings = [c for c in crossings if within(c["at"].date(), start, end)]
            found.append(
                {
                    "number": number,
                    "kind": kind,
                    "valid_until": parse_date(valid_until),
                    "crossings": crossings,
                }
            )
        return found

    def hotel_stays(
        self, id_number: str, start: date | None = None, end: date | None = None
    ) -> list[dict[str, Any]]:
        """Hotel stays checked in within ``start``–``end`` when given (003 SPC–MPS 二(二)5)."""
        rows = self.read(
            "SELECT hotel_name, hotel_address, check_in, check_out FROM hotel_stays WHERE id_number=? ORDER BY check_in",
            (id_number,),
        )
        stays = [
            {"hotel_name": n, "hotel_address": a, "check_in": parse_time(i), "check_out": parse_time(o)}
            for n, a, i, o in rows
        ]
        return [s for s in stays if within(s["check_in"].date(), start, end)]

    # --- vehicle register (003 SPC–MPS 二(二)4) ------------------------------------------------

    def vehicle(self, plate: str) -> dict[str, Any] | None:
        rows = self.read(f"SELECT {VEHICLE_COLS} FROM vehicles WHERE plate=?", (plate,))
        return vehicle_of(rows[0]) if rows else None

    def vehicles_of(self, owner_code: str) -> list[dict[str, Any]]:
        rows = self.read(
            f"SELECT {VEHICLE_COLS} FROM vehicles WHERE owner_code=? ORDER BY plate", (owner_code,)
        )
        return [vehicle_of(r) for r in rows]

    def seizures(self, plate: str, today: date) -> list[Measure]:
        """The seizures in place on a vehicle, the one in effect first, then the rotating ones
        in arrival order (002 四.7(3)); a seizure whose period has ended no longer counts."""
        rows = self.read(
            f"SELECT {MEASURE_COLS} FROM measures WHERE kind=? AND target=? AND state IN ('active','rotating')",
            (VEHICLE_SEIZE, plate),
        )
        return seizure_queue([measure_of(r) for r in rows], today)

    def transfers(self, plate: str) -> list[dict[str, Any]]:
        rows = self.read(
            "SELECT from_code, to_code, to_name, court, at FROM vehicle_transfers WHERE plate=? ORDER BY seq",
            (plate,),
        )
        return [{"from": f, "to": t, "to_name": n, "court": c, "at": parse_time(a)} for f, t, n, c, a in rows]

    # --- border control (003 SPC–MPS 三(一)) ---------------------------------------------------

    def exit_restrictions(self, id_number: str, on: date) -> list[Measure]:
        """The restrictions that apply on ``on``: in place, and ``on`` inside the control period.
        A lifted or expired restriction no longer applies."""
        rows = self.read(
            f"SELECT {MEASURE_COLS} FROM measures WHERE kind=? AND target=? AND state='active' ORDER BY seq",
            (EXIT_RESTRICTION, id_number),
        )
        return [m for m in map(measure_of, rows) if within(on, m.period_start, m.period_end)]

    def may_leave(self, id_number: str, on: date) -> bool:
        """What the border checkpoint asks: may this person leave the country on ``on``?"""
        return not self.exit_restrictions(id_number, on)

    # --- measures ordered by courts -----------------------------------------------------------

    def measure(self, document_id: str, measure_id: str) -> Measure | None:
        rows = self.read(
            f"SELECT {MEASURE_COLS} FROM measures WHERE document_id=? AND measure_id=?",
            (document_id, measure_id),
        )
        return measure_of(rows[0]) if rows else None

    def watch_list(self) -> list[Measure]:
        rows = self.read(
            f"SELECT {MEASURE_COLS} FROM measures WHERE kind IN (?,?) AND state='active' ORDER BY seq",
            (LOCATE_PERSON, LOCATE_VEHICLE),
        )
        return [measure_of(r) for r in rows]

    def restrict_exit(
        self,
        key: str,
        order: CourtOrder,
        *,
        id_number: str,
        name: str,
        gender: str | None,
        start: date,
        end: date,
        requirement: str | None,
        today: date,
    ) -> dict[str, Any]:
        """Put a person on the border-control list for the control period (003 SPC–MPS 三(一)).

        A period already over cannot be enforced any more: refused. A period starting later is
        registered now and applies from its first day."""

        def act(db: sqlite3.Connection) -> dict[str, Any]:
            if end < today:
                raise Refusal(
                    f"控制期限已于{end.isoformat()}届满，无法布控。The control period has already ended."
                )
            seq = insert_measure(
                db,
                EXIT_RESTRICTION,
                order,
                target=id_number,
                subject=(id_number, name, gender),
                period=(start, end),
                detail=requirement,
                state="active",
                effective=True,
            )
            registered = db.execute("SELECT name FROM persons WHERE id_number=?", (id_number,)).fetchone()
            return {
                "seq": seq,
                "effective_at": order.at.isoformat(),
                "register_name": registered[0] if registered else None,
            }

        return self.decide(key, act)

    def seize_vehicle(
        self, key: str, order: CourtOrder, *, plate: str, vin: str | None, start: date, end: date, today: date
    ) -> dict[str, Any]:
        """Seize a vehicle's record (查封车辆档案). The first notice to arrive gets the seizure, later
        ones a rotating seizure behind it, in arrival order, and are told so (002 四.7(3))."""

        def act(db: sqlite3.Connection) -> dict[str, Any]:
            vehicle = identify_vehicle(db, plate, vin)
            if end < today:
                raise Refusal(
                    f"查封期限已于{end.isoformat()}届满，无法查封。The seizure period has already ended."
                )
            lapse_expired(db, today, order.at)
            queue = seizure_queue(
                [
                    measure_of(r)
                    for r in db.execute(
                        f"SELECT {MEASURE_COLS} FROM measures WHERE kind=? AND target=? AND state IN ('active','rotating')",
                        (VEHICLE_SEIZE, plate),
                    )
                ],
                today,
            )
            first = not queue
            seq = insert_measure(
                db,
                VEHICLE_SEIZE,
                order,
                target=plate,
                subject=(None, None, None),
                period=(start, end),
                detail=None,
                state="active" if first else "rotating",
                effective=first,
            )
            return {
                "seq": seq,
                "rotating": not first,
                "position": len(queue) + 1,
                "prior": [m.as_json() for m in queue],
                "effective_at": order.at.isoformat() if first else None,
                "owner_code": vehicle["owner_code"],
            }

        return self.decide(key, act)

    def transfer_vehicle(
        self,
        key: str,
        order: CourtOrder,
        *,
        plate: str,
        vin: str | None,
        to_code: str,
        to_name: str,
        today: date,
    ) -> dict[str, Any]:
        """Register the transfer of a vehicle sold, auctioned or adjudged by the court (002 四.7(3)).

        A vehicle seized by another court in effect cannot be transferred for this one: only the
        court holding the first seizure may have a transfer registered (001 art. 12; DOMAIN.md).
        The court lifts its own seizure with a release; rotating seizures stay on record."""

        def act(db: sqlite3.Connection) -> dict[str, Any]:
            vehicle = identify_vehicle(db, plate, vin)
            lapse_expired(db, today, order.at)
            effective = effective_seizure(db, plate, today)
            if effective is not None and effective.court != order.court:
                raise Refusal(
                    f"该车辆已被{effective.court_name}（{effective.case_number or '案号不详'}）首先查封，"
                    "仅首先查封的法院可以办理转移登记。The vehicle is seized first by another court; only that court "
                    "may have it transferred (001 art. 12; 002 四.7(3))."
                )
            db.execute(
                "INSERT INTO vehicle_transfers (plate, from_code, to_code, to_name, court, at) VALUES (?,?,?,?,?,?)",
                (plate, vehicle["owner_code"], to_code, to_name, order.court, order.at.isoformat()),
            )
            db.execute(
                "UPDATE vehicles SET owner_code=?, owner_name=? WHERE plate=?", (to_code, to_name, plate)
            )
            return {"from_code": vehicle["owner_code"], "effective_at": order.at.isoformat()}

        return self.decide(key, act)

    def transfer_by_owner(self, key: str, *, plate: str, to_code: str, to_name: str, at: datetime) -> None:
        """An owner's own transfer at the vehicle office: refused while the vehicle is seized,
        effective or rotating (003 SPC–MPS 三(二): 限制其转让过户)."""

        def act(db: sqlite3.Connection) -> dict[str, Any]:
            vehicle = identify_vehicle(db, plate, None)
            lapse_expired(db, at.date(), at)
            if db.execute(
                "SELECT 1 FROM measures WHERE kind=? AND target=? AND state IN ('active','rotating')",
                (VEHICLE_SEIZE, plate),
            ).fetchone():
                raise Refusal(
                    "该车辆已被人民法院查封，限制转让过户。The vehicle is seized by a court: no transfer."
                )
            db.execute(
                "INSERT INTO vehicle_transfers (plate, from_code, to_code, to_name, court, at) VALUES (?,?,?,?,NULL,?)",
                (plate, vehicle["owner_code"], to_code, to_name, at.isoformat()),
            )
            db.execute(
                "UPDATE vehicles SET owner_code=?, owner_name=? WHERE plate=?", (to_code, to_name, plate)
            )
            return {"from_code": vehicle["owner_code"]}

        self.decide(key, act)

    def watch_person(
        self, key: str, order: CourtOrder, *, id_number: str, name: str, gender: str | None, ground: str
    ) -> dict[str, Any]:
        """Put a debtor on the watch list (协查被执行人下落, 002 四.7(2); 003 SPC–MPS 三(三))."""

        def act(db: sqlite3.Connection) -> dict[str, Any]:
            seq = insert_measure(
                db,
                LOCATE_PERSON,
                order,
                target=id_number,
                subject=(id_number, name, gender),
                period=(None, None),
                detail=ground,
                state="active",
                effective=True,
            )
            registered = db.execute("SELECT name FROM persons WHERE id_number=?", (id_number,)).fetchone()
            return {
                "seq": seq,
                "effective_at": order.at.isoformat(),
                "register_name": registered[0] if registered else None,
            }

        return self.decide(key, act)

    def watch_vehicle(self, key: str, order: CourtOrder, *, plate: str, vin: str | None) -> dict[str, Any]:
        """Put a vehicle in the vehicle system to be looked for (协助查找车辆, 003 SPC–MPS 三(二));
        the vehicle must be registered here."""

        def act(db: sqlite3.Connection) -> dict[str, Any]:
            vehicle = identify_vehicle(db, plate, vin)
            seq = insert_measure(
                db,
                LOCATE_VEHICLE,
                order,
                target=plate,
                subject=(None, None, None),
                period=(None, None),
                detail=None,
                state="active",
                effective=True,
            )
            return {"seq": seq, "effective_at": order.at.isoformat(), "owner_code": vehicle["owner_code"]}

        return self.decide(key, act)

    def release(
        self, key: str, *, court: str, document_id: str, measure_id: str, kinds: Iterable[str], at: datetime
    ) -> dict[str, Any]:
        """Lift a measure at the court's release (001 art. 21; 003 SPC–MPS 三(三)): lift an exit
        restriction, release a seizure (the next rotating one takes effect, 002 四.7(3)), cancel a
        watch (002 四.7(2)). Only the court that ordered it may lift it. A measure already ended
        is reported released, as of when it ended."""
        allowed = frozenset(kinds)

        def act(db: sqlite3.Connection) -> dict[str, Any]:
            row = db.execute(
                f"SELECT {MEASURE_COLS} FROM measures WHERE document_id=? AND measure_id=?",
                (document_id, measure_id),
            ).fetchone()
            if row is None:
                raise Refusal("本单位未登记该通知书所列措施，无从解除。No such measure is registered here.")
            m = measure_of(row)
            if m.kind not in allowed:
                raise Refusal(f"所指措施为{m.kind}，不能以此类解除通知解除。The measure named is a {m.kind}.")
            if m.court != court:
                raise Refusal(
                    "解除通知须由采取该措施的法院作出。Only the court that ordered the measure may lift it."
                )
            lapse_expired(db, at.date(), at)
            m = measure_of(
                db.execute(f"SELECT {MEASURE_COLS} FROM measures WHERE seq=?", (m.seq,)).fetchone()
            )
            if m.state not in IN_PLACE:
                return {"seq": m.seq, "released_at": to_iso(m.ended_at), "already": m.state}
            end_state = "cancelled" if m.kind in (LOCATE_PERSON, LOCATE_VEHICLE) else "released"
            db.execute(
                "UPDATE measures SET state=?, ended_at=? WHERE seq=?", (end_state, at.isoformat(), m.seq)
            )
            promoted = (
                promote_next(db, m.target, at, "released")
                if m.kind == VEHICLE_SEIZE and m.state == "active"
                else None
            )
            return {"seq": m.seq, "released_at": at.isoformat(), "already": None, "promoted": promoted}

        return self.decide(key, act)

    def lapse(self, today: date, at: datetime) -> None:
        """End the seizures whose period is over and let the next rotating seizure take effect
        (run daily; vehicle operations run it too)."""
        self.ledger.once(f"lapse/{today.isoformat()}", lambda db: lapse_expired(db, today, at))  # once a day

    # --- notices owed to courts (outbox) ----------------------------------------------------------

    def pending_promotions(self) -> list[Promotion]:
        rows = self.read(
            f"SELECT p.effective_at, p.cause, {', '.join('m.' + c.strip() for c in MEASURE_COLS.split(','))}"
            " FROM promotions p JOIN measures m ON m.seq = p.measure_seq WHERE p.sent_at IS NULL ORDER BY p.measure_seq"
        )
        return [Promotion(measure=measure_of(r[2:]), effective_at=parse_time(r[0]), cause=r[1]) for r in rows]  # type: ignore[arg-type]

    def promotion_sent(self, measure_seq: int, document_id: str | None, at: datetime) -> None:
        """``document_id`` None: the seizure came on paper, the court is told in writing."""

        def act(db: sqlite3.Connection) -> None:
            db.execute(
                "UPDATE promotions SET document_id=?, sent_at=? WHERE measure_seq=?",
                (document_id, at.isoformat(), measure_seq),
            )

        self.ledger.once(f"promotion-sent/{measure_seq}", act)

    def record_sighting(
        self,
        *,
        sighting_id: str,
        kind: str,
        target: str,
        location: str,
        seen_at: datetime,
        recorded_at: datetime,
        impounded: bool = False,
        remark: str | None = None,
    ) -> int:
        """Record a person or vehicle found, once per ``sighting_id``; a lead report becomes owed
        to every court watching for it (002 四.7(2)), and for a vehicle also to the court whose
        seizure is in effect (002 四.7(3); 003 SPC–MPS 三(二)). Returns how many are owed."""
        if kind not in ("person", "vehicle"):
            raise ValueError("a sighting is of a person or a vehicle")
        if seen_at.tzinfo is None:
            raise ValueError("seen_at must be timezone-aware")
        if seen_at > recorded_at + timedelta(minutes=5):
            raise ValueError("a sighting cannot lie in the future")

        def act(db: sqlite3.Connection) -> int:
            db.execute(
                "INSERT INTO sightings (sighting_id, kind, target, location, seen_at, recorded_at, impounded, remark)"
                " VALUES (?,?,?,?,?,?,?,?)",
                (
                    sighting_id,
                    kind,
                    target,
                    location,
                    seen_at.isoformat(),
                    recorded_at.isoformat(),
                    int(impounded),
                    remark,
                ),
            )
            if kind == "person":
                rows = db.execute(
                    "SELECT seq FROM measures WHERE kind=? AND target=? AND state='active' ORDER BY seq",
                    (LOCATE_PERSON, target),
                ).fetchall()
            else:
                lapse_expired(db, recorded_at.date(), recorded_at)
                rows = db.execute(
                    "SELECT seq FROM measures WHERE kind IN (?,?) AND target=? AND state='active' ORDER BY seq",
                    (LOCATE_VEHICLE, VEHICLE_SEIZE, target),
                ).fetchall()
            for (seq,) in rows:
                db.execute(
                    "INSERT INTO lead_reports (sighting_id, measure_seq, due_at) VALUES (?,?,?)",
                    (sighting_id, seq, (seen_at + REPORT_WITHIN).isoformat()),
                )
            return len(rows)

        return self.ledger.once(f"sighting/{sighting_id}", act)

    def pending_leads(self) -> list[PendingLead]:
        return self._leads("l.document_id IS NULL")

    def leads(self, sighting_id: str) -> list[dict[str, Any]]:
        """The lead reports owed for a sighting: the measure, the sighting time, when it was due
        and when it was reported (002 四.7(2))."""
        rows = self.read(
            "SELECT l.measure_seq, s.seen_at, l.due_at, l.document_id, l.reported_at FROM lead_reports l"
            " JOIN sightings s ON s.sighting_id = l.sighting_id WHERE l.sighting_id=? ORDER BY l.measure_seq",
            (sighting_id,),
        )
        return [
            {
                "measure_seq": seq,
                "seen_at": parse_time(seen),
                "due_at": parse_time(due),
                "document_id": doc,
                "reported_at": parse_time(rep),
            }
            for seq, seen, due, doc, rep in rows
        ]

    def overdue_leads(self, now: datetime) -> list[PendingLead]:
        """Lead reports not yet handed to the network 24 hours after the sighting (002 四.7(2))."""
        return [p for p in self.pending_leads() if p.due_at < now]

    def lead_reported(self, sighting_id: str, measure_seq: int, document_id: str, at: datetime) -> None:
        def act(db: sqlite3.Connection) -> None:
            db.execute(
                "UPDATE lead_reports SET document_id=?, reported_at=? WHERE sighting_id=? AND measure_seq=?",
                (document_id, at.isoformat(), sighting_id, measure_seq),
            )

        self.ledger.once(f"lead-reported/{sighting_id}/{measure_seq}", act)

    def _leads(self, where: str) -> list[PendingLead]:
        cols = ", ".join("m." + c.strip() for c in MEASURE_COLS.split(","))
        rows = self.read(
            f"SELECT s.sighting_id, s.kind, s.target, s.location, s.seen_at, s.impounded, s.remark, l.due_at, {cols}"
            f" FROM lead_reports l JOIN sightings s ON s.sighting_id = l.sighting_id JOIN measures m ON m.seq = l.measure_seq"
            f" WHERE {where} ORDER BY s.seen_at, l.measure_seq"
        )
        return [
            PendingLead(
                sighting_id=r[0],
                kind=r[1],
                target=r[2],
                location=r[3],
                seen_at=parse_time(r[4]),  # type: ignore[arg-type]
                impounded=bool(r[5]),
                remark=r[6],
                due_at=parse_time(r[7]),
                measure=measure_of(r[8:]),  # type: ignore[arg-type]
            )
            for r in rows
        ]
