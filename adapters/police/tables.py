"""The police stand-in's tables, row types and the rules that run inside a transaction.

:mod:`adapters.police.native` is the bureau's API over these; this module holds what its
transactions share: the schema, the row types and the seizure queue rules — first come first served, rotating
seizures in arrival order, the next one taking effect when the one in effect ends (002 四.7(3);
001 art. 12).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from adapters.sdk.native_db import Refusal
from adapters.sdk.rotating import RotatingQueue

REPORT_WITHIN = timedelta(hours=24)
"""002 四.7(2): 公安机关发现被执行人下落后应当在24小时内及时通知人民法院."""

EXIT_RESTRICTION = "ExitRestriction"
VEHICLE_SEIZE = "VehicleSeize"
LOCATE_PERSON = "LocatePerson"
LOCATE_VEHICLE = "LocateVehicle"

IN_PLACE = ("active", "rotating")
"""States of a measure still in place; it ends as ``released`` (by the court), ``cancelled`` (a
watch, by the court), or ``lapsed`` (its period ended)."""

SCHEMA = """
CREATE TABLE IF NOT EXISTS persons (            -- population register (人口信息)
    id_number         TEXT PRIMARY KEY,
    name              TEXT NOT NULL,
    gender            TEXT,
    birth_date        TEXT,
    former_names      TEXT NOT NULL DEFAULT '[]',
    household_id      TEXT,                     -- 户号: members share it
    household_address TEXT,
    residence         TEXT,
    phone             TEXT
);
CREATE TABLE IF NOT EXISTS travel_documents (   -- 出入境证件
    number      TEXT PRIMARY KEY,
    id_number   TEXT NOT NULL,
    kind        TEXT NOT NULL,
    valid_until TEXT
);
CREATE TABLE IF NOT EXISTS border_crossings (   -- 出入境记录
    document_number TEXT NOT NULL,
    at              TEXT NOT NULL,
    direction       TEXT NOT NULL,
    port            TEXT,
    destination     TEXT,
    PRIMARY KEY (document_number, at, direction)
);
CREATE TABLE IF NOT EXISTS hotel_stays (        -- 旅店住宿
    id_number     TEXT NOT NULL,
    hotel_name    TEXT NOT NULL,
    hotel_address TEXT,
    check_in      TEXT NOT NULL,
    check_out     TEXT,
    PRIMARY KEY (id_number, hotel_name, check_in)
);
CREATE TABLE IF NOT EXISTS vehicles (           -- 机动车登记
    plate         TEXT PRIMARY KEY,
    vin           TEXT,
    brand         TEXT,
    model         TEXT,
    vehicle_type  TEXT,
    registered_on TEXT,
    authority     TEXT,
    mortgagee     TEXT,
    owner_code    TEXT NOT NULL,                -- ID number or unified social credit code
    owner_name    TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS vehicle_transfers (  -- 转移登记
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    plate      TEXT NOT NULL,
    from_code  TEXT NOT NULL,
    to_code    TEXT NOT NULL,
    to_name    TEXT NOT NULL,
    court      TEXT,                            -- NULL: an owner's own transfer
    at         TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS measures (           -- what courts ordered: border control, seizures, watch list
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,   -- arrival order (rotating seizures queue by it)
    kind          TEXT NOT NULL,                -- ExitRestriction | VehicleSeize | LocatePerson | LocateVehicle
    court         TEXT NOT NULL,
    court_name    TEXT NOT NULL,
    case_number   TEXT,
    document_id   TEXT,                         -- the notice; NULL for a paper notice
    measure_id    TEXT,
    target        TEXT NOT NULL,                -- ID number (persons) or plate (vehicles)
    subject_code  TEXT,
    subject_name  TEXT,
    subject_gender TEXT,
    period_start  TEXT,
    period_end    TEXT,
    detail        TEXT,                         -- control requirement, locate ground
    state         TEXT NOT NULL,                -- active | rotating | released | cancelled | lapsed
    registered_at TEXT NOT NULL,
    effective_at  TEXT,
    ended_at      TEXT,
    origin        TEXT NOT NULL DEFAULT 'network',  -- network | paper (a notice served before the network)
    UNIQUE (document_id, measure_id)
);
CREATE INDEX IF NOT EXISTS measures_target ON measures(kind, target, state);
CREATE TABLE IF NOT EXISTS promotions (         -- rotating seizures that took effect; the court is told
    measure_seq  INTEGER PRIMARY KEY,
    effective_at TEXT NOT NULL,
    cause        TEXT NOT NULL,                 -- released | lapsed
    document_id  TEXT,                          -- the MeasureStatusNotice, once handed over
    sent_at      TEXT
);
CREATE TABLE IF NOT EXISTS sightings (          -- 发现被执行人或车辆
    sighting_id TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,                  -- person | vehicle
    target      TEXT NOT NULL,
    location    TEXT NOT NULL,
    seen_at     TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    impounded   INTEGER NOT NULL DEFAULT 0,
    remark      TEXT
);
CREATE TABLE IF NOT EXISTS lead_reports (       -- one per sighting and court measure watching for it
    sighting_id TEXT NOT NULL,
    measure_seq INTEGER NOT NULL,
    due_at      TEXT NOT NULL,                  -- seen_at + 24 hours (002 四.7(2))
    document_id TEXT,                           -- the LeadReport, once handed over
    reported_at TEXT,
    PRIMARY KEY (sighting_id, measure_seq)
);
"""


@dataclass(frozen=True)
class CourtOrder:
    """Who ordered a measure, and where it came from: the court, its case, the notice and item."""

    court: str
    court_name: str
    case_number: str | None
    document_id: str | None
    measure_id: str | None
    at: datetime


@dataclass(frozen=True)
class Measure:
    """A row of the ``measures`` table."""

    seq: int
    kind: str
    court: str
    court_name: str
    case_number: str | None
    document_id: str | None
    measure_id: str | None
    target: str
    subject_code: str | None
    subject_name: str | None
    subject_gender: str | None
    period_start: date | None
    period_end: date | None
    detail: str | None
    state: str
    registered_at: datetime
    effective_at: datetime | None
    ended_at: datetime | None
    origin: str = "network"

    @property
    def via_network(self) -> bool:
        """The notice came over the network: the hub knows it, so notices may answer it."""
        return self.origin == "network" and self.document_id is not None and self.measure_id is not None

    def as_json(self) -> dict[str, Any]:
        """The fields a result needs about an earlier seizure (PriorMeasure)."""
        return {
            "court": self.court,
            "court_name": self.court_name,
            "case_number": self.case_number,
            "document_id": self.document_id,
            "period_start": to_iso(self.period_start),
            "period_end": to_iso(self.period_end),
        }


@dataclass(frozen=True)
class PendingLead:
    """A lead report owed to a court: the sighting and the measure it answers."""

    sighting_id: str
    kind: str
    target: str
    location: str
    seen_at: datetime
    impounded: bool
    remark: str | None
    due_at: datetime
    measure: Measure


@dataclass(frozen=True)
class Promotion:
    """A rotating seizure that took effect; its court must be told (002 四.7(3))."""

    measure: Measure
    effective_at: datetime
    cause: str


def to_iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def parse_date(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def parse_time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


MEASURE_COLS = (
    "seq, kind, court, court_name, case_number, document_id, measure_id, target, subject_code, subject_name, "
    "subject_gender, period_start, period_end, detail, state, registered_at, effective_at, ended_at, origin"
)


def measure_of(row: Sequence[Any]) -> Measure:
    values = list(row)
    for i in (11, 12):
        values[i] = parse_date(values[i])
    for i in (15, 16, 17):
        values[i] = parse_time(values[i])
    return Measure(*values)


# --- helpers running inside a transaction ----------------------------------------------------------

VEHICLE_COLS = (
    "plate, vin, brand, model, vehicle_type, registered_on, authority, mortgagee, owner_code, owner_name"
)


def vehicle_of(row: Sequence[Any]) -> dict[str, Any]:
    keys = [c.strip() for c in VEHICLE_COLS.split(",")]
    found = dict(zip(keys, row))
    found["registered_on"] = parse_date(found["registered_on"])
    return found


def person_of(row: Sequence[Any]) -> dict[str, Any]:
    keys = [
        "id_number",
        "name",
        "gender",
        "birth_date",
        "former_names",
        "household_id",
        "household_address",
        "residence",
        "phone",
    ]
    found = dict(zip(keys, row))
    found["birth_date"] = parse_date(found["birth_date"])
    found["former_names"] = json.loads(found["former_names"] or "[]")
    return found


def within(day: date, start: date | None, end: date | None) -> bool:
    return (start is None or day >= start) and (end is None or day <= end)


def identify_vehicle(db: sqlite3.Connection, plate: str, vin: str | None) -> dict[str, Any]:
    """The registered vehicle with this plate; the VIN, when the court gives one, must match:
    otherwise the vehicle meant cannot be told apart (a plate may have been reissued)."""
    row = db.execute(f"SELECT {VEHICLE_COLS} FROM vehicles WHERE plate=?", (plate,)).fetchone()
    if row is None:
        raise Refusal("车辆管理信息系统中无该号牌车辆登记。No vehicle with this plate is registered.")
    vehicle = vehicle_of(row)
    if vin and vehicle["vin"] and vin.upper() != vehicle["vin"].upper():
        raise Refusal(
            "号牌与车辆识别代号不符，无法确定所指车辆。The plate and the VIN do not belong to the same vehicle."
        )
    return vehicle


def insert_measure(
    db: sqlite3.Connection,
    kind: str,
    order: CourtOrder,
    *,
    target: str,
    subject: tuple[str | None, str | None, str | None],
    period: tuple[date | None, date | None],
    detail: str | None,
    state: str,
    effective: bool,
) -> int:
    cursor = db.execute(
        "INSERT INTO measures (kind, court, court_name, case_number, document_id, measure_id, target, subject_code,"
        " subject_name, subject_gender, period_start, period_end, detail, state, registered_at, effective_at)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (
            kind,
            order.court,
            order.court_name,
            order.case_number,
            order.document_id,
            order.measure_id,
            target,
            *subject,
            to_iso(period[0]),
            to_iso(period[1]),
            detail,
            state,
            order.at.isoformat(),
            order.at.isoformat() if effective else None,
        ),
    )
    return int(cursor.lastrowid or 0)


def seizure_queue(seizures: list[Measure], today: date) -> list[Measure]:
    live = [m for m in seizures if m.period_end is None or m.period_end >= today]
    return sorted(live, key=lambda m: (m.state != "active", m.seq))


def effective_seizure(db: sqlite3.Connection, plate: str, today: date) -> Measure | None:
    rows = db.execute(
        f"SELECT {MEASURE_COLS} FROM measures WHERE kind=? AND target=? AND state='active'",
        (VEHICLE_SEIZE, plate),
    ).fetchall()
    queue = seizure_queue([measure_of(r) for r in rows], today)
    return queue[0] if queue else None


_SEIZURES = RotatingQueue("measures", "kind=? AND target=?", id_column="seq", effective="active")
"""A vehicle's seizures in delivery order (002 四.7(3))."""


def promote_next(db: sqlite3.Connection, plate: str, at: datetime, cause: str) -> int | None:
    """The earliest rotating seizure on ``plate`` takes effect (002 四.7(3)); its court is owed a
    notice (the ``promotions`` outbox). Returns its seq, or None when none waits."""
    seq = _SEIZURES.promote_next(db, VEHICLE_SEIZE, plate, at=at)
    if seq is not None:
        db.execute(
            "INSERT INTO promotions (measure_seq, effective_at, cause) VALUES (?,?,?)",
            (seq, at.isoformat(), cause),
        )
    return seq


def lapse_expired(db: sqlite3.Connection, today: date, at: datetime) -> None:
    """Seizures and restrictions whose period ended before ``today`` lapse; on a vehicle whose
    seizure in effect lapsed, the next rotating seizure (still within its period) takes effect."""
    rows = db.execute(
        "SELECT seq, kind, target, state FROM measures WHERE kind IN (?,?) AND state IN ('active','rotating')"
        " AND period_end IS NOT NULL AND period_end < ? ORDER BY seq",
        (VEHICLE_SEIZE, EXIT_RESTRICTION, today.isoformat()),
    ).fetchall()
    for seq, kind, target, state in rows:
        db.execute("UPDATE measures SET state='lapsed', ended_at=? WHERE seq=?", (at.isoformat(), seq))
    plates = {target for _, kind, target, state in rows if kind == VEHICLE_SEIZE and state == "active"}
    for plate in sorted(plates):
        if (
            db.execute(
                "SELECT 1 FROM measures WHERE kind=? AND target=? AND state='active'", (VEHICLE_SEIZE, plate)
            ).fetchone()
            is None
        ):
            promote_next(db, plate, at, "lapsed")
