"""The credit platform stand-in: the dishonest-debtor list (失信被执行人名单) in SQLite, with the
rules of 003 最高人民法院关于公布失信被执行人名单信息的若干规定 (失信规定).

It stands where the national credit information sharing platform's list would be (003 joint
punishment memorandum 二: the SPC supplies the list through the platform, the punishing units
take it from there). A reference implementation of the rules, not a mock:

- entry (纳入) with the record art. 6 requires, and its period (art. 2): two years for grounds
  (2)–(6) of art. 1, extendable by one to three; no period for ground (1) alone, which lasts until
  a deletion (art. 10). The period runs from the decision (art. 5: 决定书自作出之日起生效), the
  day of the decision not counted (民法典 art. 201), so two years from 2026-03-09 end 2028-03-09;
- a minor is never listed (art. 4) — on the decision date nor on the day of entry. The hub checks
  the decision date too (RULE_LISTING_MINOR); the platform checks again, as the last line: a
  wrong decision date or a correction of the ID number must not put a child on the list;
- correction (更正) of inaccurate information (art. 9 para. 2; art. 12), revocation (撤销) of a
  wrongful listing (art. 9 para. 1), deletion (删除) on the grounds of art. 10 para. 1, early
  deletion (art. 2 para. 2) and at the end of the period (art. 10 para. 2) — all within 3
  working days of the decision; here at once. Only the court that listed may change its listing;
- a listing whose period is over is no longer published (art. 10 para. 2), and the punishments
  end when it is deleted (003 tendering notice 四): :meth:`CreditPlatform.status` says who is listed.

Every change comes from a court document and is made once per idempotency key, in the same
transaction as the key (:class:`~adapters.sdk.IdempotentLedger`); each is kept in a history.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from adapters.sdk.native_db import NativeDatabase, Refusal
from broker.documents.identifiers import age_on, birth_date_of, gender_of, resident_id_is_valid, uscc_is_valid

ADULT_AGE = 18
"""003 失信规定 art. 4: 被执行人为未成年人的，人民法院不得将其纳入失信被执行人名单."""

ABLE_BUT_REFUSES = "AbleButRefuses"
"""Ground (1) of art. 1: the only one without a period (art. 2)."""

LISTED, REVOKED, DELETED, EXPIRED = "listed", "revoked", "deleted", "expired"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS listings (
    listing_id     TEXT PRIMARY KEY,        -- the DishonestListing's document id
    court          TEXT NOT NULL,
    court_name     TEXT NOT NULL,
    case_number    TEXT NOT NULL,
    subject_kind   TEXT NOT NULL,           -- person | organisation
    name           TEXT NOT NULL,
    code           TEXT NOT NULL,           -- ID number or unified social credit code
    gender         TEXT,
    legal_representative TEXT,
    obligation     TEXT NOT NULL,
    performance    TEXT NOT NULL,
    conducts       TEXT NOT NULL,           -- JSON list of art. 1 grounds
    conduct_details TEXT NOT NULL,
    basis_issuer   TEXT NOT NULL,
    basis_number   TEXT NOT NULL,
    filed_on       TEXT NOT NULL,
    decision_date  TEXT NOT NULL,
    base_years     INTEGER,
    extension_years INTEGER,
    extension_reason TEXT,
    period_end     TEXT,                    -- NULL: ground (1) alone, until deleted
    listed_at      TEXT NOT NULL,
    state          TEXT NOT NULL,           -- listed | revoked | deleted | expired
    ended_at       TEXT,
    end_ground     TEXT,
    end_reason     TEXT
);
CREATE INDEX IF NOT EXISTS listings_code ON listings(code, state);
CREATE TABLE IF NOT EXISTS consumption_restrictions (
    order_id       TEXT PRIMARY KEY,          -- the order's document id
    court          TEXT NOT NULL,
    case_number    TEXT,
    code           TEXT NOT NULL,             -- the debtor's ID number or USCC
    restrictions   TEXT NOT NULL,             -- JSON list (003 memorandum measures 19-22)
    persons        INTEGER NOT NULL,          -- responsible persons also restricted
    effective_from TEXT NOT NULL,
    received_at    TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS listing_history (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    listing_id TEXT NOT NULL,
    action     TEXT NOT NULL,               -- listed | corrected | revoked | deleted | expired
    field      TEXT,
    old_value  TEXT,
    new_value  TEXT,
    reason     TEXT,
    at         TEXT NOT NULL
);
"""

CORRECTABLE = {
    "Name": "name",
    "IdNumber": "code",
    "UnitCode": "code",
    "Gender": "gender",
    "LegalRepresentative": "legal_representative",
    "Obligation": "obligation",
    "Performance": "performance",
    "ConductDetails": "conduct_details",
    "BasisIssuer": "basis_issuer",
    "BasisNumber": "basis_number",
    "FiledOn": "filed_on",
}
"""Fields a correction may name (the DishonestListing's element names) and their columns: the
art. 6 record. Grounds and period are the decision itself: a new decision, not a correction."""

_PERSON_ONLY = {"IdNumber", "Gender"}
_ORGANISATION_ONLY = {"UnitCode", "LegalRepresentative"}


@dataclass(frozen=True)
class Entry:
    """A listing decision as the platform records it (003 失信规定 art. 6)."""

    listing_id: str
    court: str
    court_name: str
    case_number: str | None
    subject_kind: str  # person | organisation
    name: str
    code: str
    gender: str | None
    legal_representative: str | None
    obligation: str
    performance: str
    conducts: list[str]
    conduct_details: str
    basis_issuer: str
    basis_number: str
    filed_on: date
    decision_date: date
    base_years: int | None = None
    extension_years: int | None = None
    extension_reason: str | None = None


@dataclass(frozen=True)
class Listing:
    """A row of the list."""

    listing_id: str
    court: str
    court_name: str
    case_number: str
    subject_kind: str
    name: str
    code: str
    gender: str | None
    legal_representative: str | None
    obligation: str
    performance: str
    conducts: list[str]
    conduct_details: str
    basis_issuer: str
    basis_number: str
    filed_on: date
    decision_date: date
    base_years: int | None
    extension_years: int | None
    extension_reason: str | None
    period_end: date | None
    listed_at: datetime
    state: str
    ended_at: datetime | None
    end_ground: str | None
    end_reason: str | None

    @property
    def listed_on(self) -> date:
        return self.listed_at.date()

    def in_force(self, on: date) -> bool:
        """Published on ``on``: listed, and its period (if any) not over (art. 10 para. 2)."""
        return self.state == LISTED and (self.period_end is None or on <= self.period_end)


_COLS = (
    "listing_id, court, court_name, case_number, subject_kind, name, code, gender, legal_representative, obligation,"
    " performance, conducts, conduct_details, basis_issuer, basis_number, filed_on, decision_date, base_years,"
    " extension_years, extension_reason, period_end, listed_at, state, ended_at, end_ground, end_reason"
)


def _listing(row: Sequence[Any]) -> Listing:
    v = list(row)
    v[11] = json.loads(v[11])
    v[15], v[16] = date.fromisoformat(v[15]), date.fromisoformat(v[16])
    v[20] = date.fromisoformat(v[20]) if v[20] else None
    v[21] = datetime.fromisoformat(v[21])
    v[23] = datetime.fromisoformat(v[23]) if v[23] else None
    return Listing(*v)


def add_years(day: date, years: int) -> date:
    """The same day ``years`` later; 29 February falls back to the 28th (民法典 art. 203: no
    corresponding day, the last day of the month)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def period_end(
    conducts: Iterable[str], decision_date: date, base: int | None, extension: int | None, reason: str | None
) -> date | None:
    """The end of the listing period (art. 2), or None for ground (1) alone; :class:`Refusal`
    when the period stated contradicts art. 2 (the hub's RULE_LISTING_PERIOD checks this too)."""
    grounds = set(conducts)
    if not grounds:
        raise Refusal("纳入决定未载明失信情形（失信规定第一条）。No ground of art. 1 is given.")
    if grounds == {ABLE_BUT_REFUSES}:
        if base is not None:
            raise Refusal(
                "仅因有履行能力而拒不履行纳入的，不设纳入期限（失信规定第二条、第十条）。Ground (1) alone has no period."
            )
        return None
    if base != 2:
        raise Refusal(
            "具有第一条第二项至第六项情形的，纳入期限为二年（失信规定第二条）。The period is two years."
        )
    years = 2
    if extension:
        if extension not in (1, 2, 3) or not reason:
            raise Refusal(
                "纳入期限可以延长一至三年，并须说明理由（失信规定第二条）。An extension is one to three years, with a reason."
            )
        years += extension
    return add_years(decision_date, years)


class CreditPlatform(NativeDatabase):
    """The dishonest-debtor list in one SQLite file. Thread-safe: writes through the idempotent
    ledger (one lock), reads through a second connection."""

    def __init__(self, path: str | Path):
        super().__init__(path, _SCHEMA, rows=False, foreign_keys=False)

    # --- reading the list -----------------------------------------------------------------------

    def listing(self, listing_id: str) -> Listing | None:
        rows = self.read(f"SELECT {_COLS} FROM listings WHERE listing_id=?", (listing_id,))
        return _listing(rows[0]) if rows else None

    def status(self, code: str, on: date) -> list[Listing]:
        """The listings of a subject (ID number or unified social credit code) in force on ``on``:
        what punishing units check (003 joint punishment memorandum 二)."""
        rows = self.read(
            f"SELECT {_COLS} FROM listings WHERE code=? AND state=? ORDER BY listed_at", (code, LISTED)
        )
        return [x for x in map(_listing, rows) if x.in_force(on)]

    def published_record(self, listing_id: str, on: date) -> dict[str, Any] | None:
        """The record published for a listing in force (003 失信规定 arts. 6–7), or None."""
        x = self.listing(listing_id)
        if x is None or not x.in_force(on):
            return None
        record: dict[str, Any] = {"name": x.name}
        if x.subject_kind == "organisation":  # art. 6(一)
            record |= {"unit_code": x.code, "legal_representative": x.legal_representative}
        else:  # art. 6(二)
            record |= {"gender": x.gender, "age": age_on(x.code, on), "id_number": x.code}
        return record | {
            "obligation": x.obligation,  # art. 6(三)
            "performance": x.performance,
            "conducts": x.conducts,  # art. 6(四)
            "conduct_details": x.conduct_details,
            "basis_issuer": x.basis_issuer,  # art. 6(五)
            "basis_number": x.basis_number,
            "case_number": x.case_number,
            "filed_on": x.filed_on,
            "court": x.court_name,
            "listed_on": x.listed_on,
            "period_end": x.period_end,  # art. 2
        }

    def history(self, listing_id: str) -> list[dict[str, Any]]:
        rows = self.read(
            "SELECT action, field, old_value, new_value, reason, at FROM listing_history WHERE listing_id=? ORDER BY seq",
            (listing_id,),
        )
        return [dict(zip(("action", "field", "old", "new", "reason", "at"), r)) for r in rows]

    # --- changes ordered by courts ----------------------------------------------------------------

    def enter(self, key: str, entry: Entry, at: datetime) -> dict[str, Any]:
        """Put a debtor on the list (纳入). Refused: a minor (art. 4); a record missing what art. 6
        requires; a decision dated after its delivery or before the case was filed (art. 5); a
        period contradicting art. 2; a second listing of the subject in force in the same case.
        The same listing delivered again is the same listing."""
        today = at.date()

        def act(db: sqlite3.Connection) -> dict[str, Any]:
            known = db.execute(
                f"SELECT {_COLS} FROM listings WHERE listing_id=?", (entry.listing_id,)
            ).fetchone()
            if known is not None:
                return _entered(_listing(known))
            gender = _check_subject(entry, today)
            if not entry.case_number:
                raise Refusal(
                    "纳入决定未载明执行案号（失信规定第六条第五项）。The case number is missing (art. 6(五))."
                )
            if entry.decision_date > today:
                raise Refusal(
                    "纳入决定书的作出日期晚于送达之日，决定尚未生效（失信规定第五条）。The decision is dated in the future."
                )
            if entry.filed_on > entry.decision_date:
                raise Refusal(
                    "立案时间晚于纳入决定日期，记载不准确（失信规定第六条）。The filing date is after the decision."
                )
            end = period_end(
                entry.conducts,
                entry.decision_date,
                entry.base_years,
                entry.extension_years,
                entry.extension_reason,
            )
            for row in db.execute(
                f"SELECT {_COLS} FROM listings WHERE code=? AND case_number=? AND state=?",
                (entry.code, entry.case_number, LISTED),
            ):
                if _listing(row).in_force(today):
                    raise Refusal(
                        "该被执行人在本案中已被纳入失信被执行人名单，名单在有效期内。The debtor is already listed in this case."
                    )
            db.execute(
                f"INSERT INTO listings ({_COLS}) VALUES ({','.join('?' * 26)})",
                (
                    entry.listing_id,
                    entry.court,
                    entry.court_name,
                    entry.case_number,
                    entry.subject_kind,
                    entry.name,
                    entry.code,
                    gender,
                    entry.legal_representative,
                    entry.obligation,
                    entry.performance,
                    json.dumps(entry.conducts),
                    entry.conduct_details,
                    entry.basis_issuer,
                    entry.basis_number,
                    entry.filed_on.isoformat(),
                    entry.decision_date.isoformat(),
                    entry.base_years,
                    entry.extension_years,
                    entry.extension_reason,
                    end.isoformat() if end else None,
                    at.isoformat(),
                    LISTED,
                    None,
                    None,
                    None,
                ),
            )
            _history(db, entry.listing_id, "listed", at)
            return _entered(
                _listing(
                    db.execute(
                        f"SELECT {_COLS} FROM listings WHERE listing_id=?", (entry.listing_id,)
                    ).fetchone()
                )
            )

        return self.decide(key, act)

    def correct(
        self,
        key: str,
        *,
        listing_id: str,
        court: str,
        corrections: Sequence[tuple[str, str]],
        reason: str,
        at: datetime,
    ) -> dict[str, Any]:
        """Correct inaccurate information (更正, art. 9 para. 2; art. 12), every field or none.
        A corrected ID number is checked like a new entry: never a minor (art. 4)."""

        def act(db: sqlite3.Connection) -> dict[str, Any]:
            x = _own(db, listing_id, court)
            if x.state != LISTED:
                raise Refusal(
                    f"该失信信息已{_STATE_ZH[x.state]}，不能更正。The listing has ended ({x.state})."
                )
            changes = _corrections(x, corrections, at.date())
            for name, value in changes.items():
                column = CORRECTABLE[name]
                old = db.execute(
                    f"SELECT {column} FROM listings WHERE listing_id=?", (listing_id,)
                ).fetchone()[0]
                db.execute(f"UPDATE listings SET {column}=? WHERE listing_id=?", (value, listing_id))
                _history(db, listing_id, "corrected", at, field=name, old=old, new=value, reason=reason)
            return {"corrected_at": at.isoformat(), "fields": sorted(changes)}

        return self.decide(key, act)

    def revoke(self, key: str, *, listing_id: str, court: str, reason: str, at: datetime) -> dict[str, Any]:
        """Revoke a listing that should never have been made (撤销, art. 9 para. 1)."""
        return self._end(
            key, listing_id=listing_id, court=court, state=REVOKED, ground=None, reason=reason, at=at
        )

    def delete(
        self, key: str, *, listing_id: str, court: str, ground: str, reason: str | None, at: datetime
    ) -> dict[str, Any]:
        """Delete a listing (删除): on a ground of art. 10 para. 1, early (art. 2 para. 2), or when
        the period is over (art. 10 para. 2) — which it must be for that ground.

        A listing with a period is deleted on an art. 10 para. 1 ground too: art. 10 para. 2
        excludes those grounds for period listings, but a court deleting because the debtor
        performed has decided an early deletion (art. 2 para. 2), and the platform does not
        review the merits of the decision (001 art. 20)."""

        def check(x: Listing) -> None:
            if ground != "PeriodExpired":
                return
            if x.period_end is None:
                raise Refusal(
                    "该名单未设纳入期限，不能以期限届满为由删除（失信规定第十条）。The listing has no period."
                )
            if x.period_end >= at.date():
                raise Refusal(
                    f"纳入期限至{x.period_end.isoformat()}届满，尚未届满（失信规定第十条第二款）。The period is not over yet."
                )

        return self._end(
            key,
            listing_id=listing_id,
            court=court,
            state=DELETED,
            ground=ground,
            reason=reason,
            at=at,
            check=check,
        )

    def expire(self, on: date, at: datetime) -> int:
        """Listings whose period ended before ``on`` stop being published (art. 10 para. 2); the
        court still deletes them within 3 working days. Returns how many expired now."""

        def act(db: sqlite3.Connection) -> int:
            rows = db.execute(
                "SELECT listing_id FROM listings WHERE state=? AND period_end IS NOT NULL AND period_end < ?",
                (LISTED, on.isoformat()),
            ).fetchall()
            for (listing_id,) in rows:
                db.execute(
                    "UPDATE listings SET state=?, ended_at=?, end_ground='PeriodExpired' WHERE listing_id=?",
                    (EXPIRED, at.isoformat(), listing_id),
                )
                _history(db, listing_id, "expired", at)
            return len(rows)

        return int(self.ledger.once(f"expire/{on.isoformat()}", act))

    def awaiting_deletion(self) -> list[Listing]:
        """Expired listings the court has not deleted yet (art. 10 para. 2: within 3 working days)."""
        return [
            _listing(r)
            for r in self.read(f"SELECT {_COLS} FROM listings WHERE state=? ORDER BY period_end", (EXPIRED,))
        ]

    def _end(
        self,
        key: str,
        *,
        listing_id: str,
        court: str,
        state: str,
        ground: str | None,
        reason: str | None,
        at: datetime,
        check: Any = None,
    ) -> dict[str, Any]:
        def act(db: sqlite3.Connection) -> dict[str, Any]:
            x = _own(db, listing_id, court)
            if x.state in (REVOKED, DELETED):
                return {
                    "ended_at": x.ended_at.isoformat() if x.ended_at else at.isoformat(),
                    "already": x.state,
                }
            if check is not None:
                check(x)
            db.execute(
                "UPDATE listings SET state=?, ended_at=?, end_ground=?, end_reason=? WHERE listing_id=?",
                (state, at.isoformat(), ground, reason, listing_id),
            )
            _history(db, listing_id, state, at, reason=reason, new=ground)
            return {"ended_at": at.isoformat(), "already": None}

        return self.decide(key, act)


def record_restriction(
    native: "CreditPlatform", key: str, *, order_id: str, court: str, case_number: str | None, code: str,
    restrictions: list[str], persons: int, effective_from: str, at: datetime,
) -> dict[str, Any]:
    """Keep a consumption restriction order (限制消费令) for distribution to the punishing units —
    transport, aviation, rail, hotels (003 memorandum measures 19-22) — once per order."""

    def act(db: sqlite3.Connection) -> dict[str, Any]:
        db.execute(
            "INSERT OR IGNORE INTO consumption_restrictions VALUES (?,?,?,?,?,?,?,?)",
            (order_id, court, case_number, code, json.dumps(restrictions), persons, effective_from, at.isoformat()),
        )
        return {"recorded_at": at.isoformat()}

    return native.decide(key, act)


_STATE_ZH = {REVOKED: "撤销", DELETED: "删除", EXPIRED: "因纳入期限届满停止公布", LISTED: "纳入"}


def _entered(x: Listing) -> dict[str, Any]:
    return {
        "listing_id": x.listing_id,
        "listed_at": x.listed_at.isoformat(),
        "decision_date": x.decision_date.isoformat(),
        "period_end": x.period_end.isoformat() if x.period_end else None,
    }


def _check_subject(entry: Entry, today: date) -> str | None:
    """Art. 4 and art. 6(一)–(二); returns the gender to record (from the ID number if not given)."""
    if entry.subject_kind == "organisation":
        if not uscc_is_valid(entry.code):
            raise Refusal(
                "统一社会信用代码校验不通过（失信规定第六条第一项）。The unified social credit code is invalid."
            )
        if not entry.legal_representative:
            raise Refusal(
                "单位被执行人须记载法定代表人或者负责人姓名（失信规定第六条第一项）。The legal representative is missing."
            )
        return None
    _check_adult(entry.code, entry.decision_date, today)
    derived = gender_of(entry.code)
    if entry.gender and entry.gender != derived:
        raise Refusal(
            "性别与公民身份号码不符，记载不准确（失信规定第六条第二项）。The gender contradicts the ID number."
        )
    return entry.gender or derived


def _check_adult(id_number: str, decided: date, today: date) -> None:
    """003 失信规定 art. 4: never a minor — on the decision date, nor on the day of entry."""
    if not resident_id_is_valid(id_number) or birth_date_of(id_number) is None:
        raise Refusal(
            "公民身份号码校验不通过，无法确定年龄（失信规定第四条、第六条第二项）。The ID number is invalid."
        )
    ages = [age_on(id_number, decided), age_on(id_number, today)]
    if any(age is None or age < ADULT_AGE for age in ages):
        raise Refusal(
            "被执行人为未成年人，不得纳入失信被执行人名单（失信规定第四条）。A minor may not be listed (art. 4)."
        )


def _own(db: sqlite3.Connection, listing_id: str, court: str) -> Listing:
    row = db.execute(f"SELECT {_COLS} FROM listings WHERE listing_id=?", (listing_id,)).fetchone()
    if row is None:
        raise Refusal("名单库中无此失信信息（名单编号不存在）。No such listing.")
    x = _listing(row)
    if x.court != court:
        raise Refusal(
            "失信信息只能由作出纳入决定的法院更正、撤销或删除（失信规定第九条、第十条）。Only the listing court may change it."
        )
    return x


def _corrections(x: Listing, corrections: Sequence[tuple[str, str]], today: date) -> dict[str, str]:
    changes: dict[str, str] = {}
    for name, value in corrections:
        value = value.strip()
        if name not in CORRECTABLE:
            raise Refusal(
                f"“{name}”不是可更正的记载事项（失信规定第六条）。{name} is not a field of the record."
            )
        if not value:
            raise Refusal(f"更正后的“{name}”不能为空。{name} cannot be empty.")
        if (
            x.subject_kind == "person"
            and name in _ORGANISATION_ONLY
            or x.subject_kind == "organisation"
            and name in _PERSON_ONLY
        ):
            raise Refusal(
                f"“{name}”不适用于该被执行人（失信规定第六条）。{name} does not apply to this debtor."
            )
        changes[name] = value
    if "FiledOn" in changes:
        try:
            filed = date.fromisoformat(changes["FiledOn"])
        except ValueError:
            raise Refusal("立案时间应为日期（YYYY-MM-DD）。FiledOn is a date.") from None
        if filed > x.decision_date:
            raise Refusal(
                "立案时间晚于纳入决定日期（失信规定第六条）。The filing date is after the decision."
            )
    if x.subject_kind == "person":
        id_number = changes.get("IdNumber", x.code)
        _check_adult(id_number, x.decision_date, today)  # art. 4: a correction cannot list a minor
        gender = changes.get("Gender", x.gender if "IdNumber" not in changes else gender_of(id_number))
        if gender != gender_of(id_number):
            raise Refusal(
                "性别与公民身份号码不符（失信规定第六条第二项）。The gender contradicts the ID number."
            )
        if "IdNumber" in changes:
            changes["Gender"] = gender
    elif "UnitCode" in changes and not uscc_is_valid(changes["UnitCode"]):
        raise Refusal(
            "统一社会信用代码校验不通过（失信规定第六条第一项）。The unified social credit code is invalid."
        )
    return changes


def _history(
    db: sqlite3.Connection,
    listing_id: str,
    action: str,
    at: datetime,
    *,
    field: str | None = None,
    old: str | None = None,
    new: str | None = None,
    reason: str | None = None,
) -> None:
    db.execute(
        "INSERT INTO listing_history (listing_id, action, field, old_value, new_value, reason, at) VALUES (?,?,?,?,?,?,?)",
        (listing_id, action, field, old, new, reason, at.isoformat()),
    )
