"""The market-regulation register (企业登记 and the publicity system) in SQLite: a reference
stand-in that enforces the seeds (001 = 2010 national opinion, 002 = Yunfu rules, 003 = SPC
compilation, 004 = Gong'an county rules).

- Company queries: establishment, changes, deregistration, investments (001 art. 17: 协助人民法院
  查询有关企业的设立、变更、注销登记等情况; 002 四.17: 设立、变更、注销登记、对外投资…).
- Equity freeze with publicity: a freeze of equity held in the debtor's name (002 四.17: 查明属于被执行人
  名下的股权…可以冻结) is registered and published in the 司法协助 column of the enterprise credit
  publicity system within 3 working days of receipt (002 四.17: 在接收法律文书后3个工作日内通过企业信用
  公示系统公示); the entry keeps its date and the last day allowed. Published at once here.
- A second freeze of the same equity (same company, same holder) is a **rotating freeze**, queued in
  delivery order behind the effective one and published as such; the court is told its place.
  Seed basis: 003 权力清单 59 lists 轮候查封、扣押、冻结 as one enforcement measure for every kind of
  property; 001 art. 12 and 002 四.7(3) give the first-delivered rule for registries (为首先送达
  协助执行通知书的人民法院办理…对后来…作轮候查封，并书面告知); 003 bank rules 10 (rotating freezes
  stack and the earlier ones are listed). The register tracks freezes per holding, not per
  portion of it: a later freeze of a holding with a live freeze rotates, whatever the amounts.
- Unfreeze by the freezing court, published too (002 四.17: 解除冻结的…同时通知该局予以公示; 001
  art. 21); when the effective freeze is lifted the next rotating one takes effect and is published.
- Forced transfer with shareholder change (002 四.17: 协助公示并办理有限责任公司股东变更登记, within
  3 working days, 不需要该有限责任公司另行申请; 001 art. 17: 股权的冻结、转让登记手续): the
  shareholder register changes at once and the change is published. Only limited liability
  companies' shareholders are registered here. Frozen equity can be transferred only at the
  request of the court whose freeze is in effect (the rule of 001 art. 12 for rotating seizures,
  applied to equity as 003 权力清单 59 does); other courts' rotating freezes of a holding
  transferred in full lapse, and those courts are told.
- No substantive review (001 art. 20): the register checks facts it holds (is there such a
  company, is the equity in the debtor's name), never the merits.
"""

from __future__ import annotations

import sqlite3
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from adapters.market.model import (
    LIVE_FREEZES,
    Change,
    Company,
    CompanyKind,
    CourtOrder,
    Freeze,
    FreezeOutcome,
    FreezeState,
    Holding,
    Party,
    PublicityEntry,
    Refused,
    TransferOutcome,
    UnfreezeOutcome,
)
from adapters.sdk.native_db import NativeDatabase
from adapters.sdk.rotating import RotatingQueue
from broker.deadlines.calendar import WorkingCalendar, local_date
from broker.errors import LiandongError

PUBLICITY_WORKING_DAYS = 3
"""002 四.17: 在接收法律文书后3个工作日内通过企业信用公示系统公示 (and the shareholder change)."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS companies (
    code               TEXT PRIMARY KEY,
    name               TEXT NOT NULL,
    kind               TEXT NOT NULL,
    legal_rep_name     TEXT,
    legal_rep_code     TEXT,
    registered_capital TEXT NOT NULL,
    status             TEXT NOT NULL,
    established_on     TEXT,
    address            TEXT
);
CREATE TABLE IF NOT EXISTS holdings (
    company_code TEXT NOT NULL REFERENCES companies(code),
    holder_name  TEXT NOT NULL,
    holder_code  TEXT NOT NULL,
    contribution TEXT NOT NULL,
    PRIMARY KEY (company_code, holder_code)
);
CREATE INDEX IF NOT EXISTS holdings_holder ON holdings(holder_code);
CREATE TABLE IF NOT EXISTS changes (
    id           INTEGER PRIMARY KEY,
    company_code TEXT NOT NULL REFERENCES companies(code),
    changed_on   TEXT NOT NULL,
    item         TEXT NOT NULL,
    before       TEXT NOT NULL,
    after        TEXT NOT NULL,
    court_order  TEXT
);
-- id is the queue order: freezes are registered in delivery order
CREATE TABLE IF NOT EXISTS freezes (
    id            INTEGER PRIMARY KEY,
    company_code  TEXT NOT NULL REFERENCES companies(code),
    holder_name   TEXT NOT NULL,
    holder_code   TEXT NOT NULL,
    amount        TEXT,
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
CREATE TABLE IF NOT EXISTS publicity (
    id           INTEGER PRIMARY KEY,
    company_code TEXT NOT NULL REFERENCES companies(code),
    category     TEXT NOT NULL,
    holder_name  TEXT NOT NULL,
    amount       TEXT,
    court_order  TEXT NOT NULL,
    received_on  TEXT NOT NULL,
    due_by       TEXT,
    published_on TEXT NOT NULL
);
"""

_CENT = Decimal("0.01")


def ratio(contribution: Decimal, capital: Decimal) -> Decimal:
    """Per cent of the registered capital, two decimals at most (60.00 → 60)."""
    value = (contribution * 100 / capital).quantize(_CENT) if capital else Decimal(0)
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value


def _money(value: Decimal | None) -> str:
    return f"{value:,.2f}元" if value is not None else "全部"

_FREEZE_QUEUE = RotatingQueue(
    "freezes", "company_code=? AND holder_code=?", effective=FreezeState.EFFECTIVE.value, rotating=FreezeState.ROTATING.value
)
"""A holding's freezes in delivery order (see the module docstring for the seed basis)."""


class MarketRegister(NativeDatabase):
    """The register; its keyed operations go through :meth:`once` (:class:`~adapters.sdk.native_db.NativeDatabase`)."""

    def __init__(self, path: str | Path, calendar: WorkingCalendar | None = None):
        self.calendar = calendar or WorkingCalendar.default()
        super().__init__(path, _SCHEMA)

    # --- registering (the agency's own work; demo data) -----------------------------------------------

    def register_company(
        self, code: str, name: str, *, capital: Decimal, kind: CompanyKind = CompanyKind.LLC,
        legal_representative: Party | None = None, status: str = "存续", established_on: date | None = None,
        address: str | None = None,
    ) -> None:
        rep = legal_representative
        with self.transaction() as db:
            db.execute(
                "INSERT INTO companies VALUES (?,?,?,?,?,?,?,?,?)",
                (code, name, kind.value, rep.name if rep else None, rep.code if rep else None, str(capital), status,
                 established_on.isoformat() if established_on else None, address),
            )

    def register_holding(self, company_code: str, holder: Party, contribution: Decimal) -> None:
        with self.transaction() as db:
            db.execute("INSERT INTO holdings VALUES (?,?,?,?)", (company_code, holder.name, holder.code, str(contribution)))

    def record_change(self, company_code: str, changed_on: date, item: str, before: str, after: str,
                      order: CourtOrder | None = None) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO changes (company_code, changed_on, item, before, after, court_order) VALUES (?,?,?,?,?,?)",
                (company_code, changed_on.isoformat(), item, before, after, order.model_dump_json() if order else None),
            )

    # --- reading ------------------------------------------------------------------------------------------

    def company(self, code: str) -> Company | None:
        with self.transaction() as db:
            row = db.execute("SELECT * FROM companies WHERE code=?", (code,)).fetchone()
            return _company(row) if row else None

    def companies_represented_by(self, code: str) -> list[Company]:
        with self.transaction() as db:
            return [_company(r) for r in db.execute("SELECT * FROM companies WHERE legal_rep_code=? ORDER BY code", (code,))]

    def shareholders(self, company_code: str) -> list[Holding]:
        with self.transaction() as db:
            return self._holdings(db.execute(
                "SELECT * FROM holdings WHERE company_code=? ORDER BY CAST(contribution AS REAL) DESC, holder_code", (company_code,)))

    def holdings_of(self, holder_code: str) -> list[Holding]:
        """The holder's investments (对外投资): its equity in companies registered here."""
        with self.transaction() as db:
            return self._holdings(db.execute("SELECT * FROM holdings WHERE holder_code=? ORDER BY company_code", (holder_code,)))

    def holding(self, company_code: str, holder_code: str) -> Holding | None:
        with self.transaction() as db:
            found = self._holdings(db.execute(
                "SELECT * FROM holdings WHERE company_code=? AND holder_code=?", (company_code, holder_code)))
            return found[0] if found else None

    def freezes(self, company_code: str, holder_code: str) -> list[Freeze]:
        """Every freeze of a holding ever registered, in queue order."""
        with self.transaction() as db:
            return [_freeze(r) for r in db.execute(
                "SELECT * FROM freezes WHERE company_code=? AND holder_code=? ORDER BY id", (company_code, holder_code))]

    def live_freezes(self, company_code: str, holder_code: str) -> list[Freeze]:
        """The effective freeze and the rotating ones behind it, in queue order."""
        return [f for f in self.freezes(company_code, holder_code) if f.state in LIVE_FREEZES]

    def freeze_by_order(self, document_id: str, item_id: str) -> Freeze | None:
        with self.transaction() as db:
            row = db.execute("SELECT * FROM freezes WHERE document_id=? AND item_id=?", (document_id, item_id)).fetchone()
            return _freeze(row) if row else None

    def publicity(self, company_code: str) -> list[PublicityEntry]:
        """The 司法协助 column of the publicity system for a company (002 四.17)."""
        with self.transaction() as db:
            return [_entry(r) for r in db.execute("SELECT * FROM publicity WHERE company_code=? ORDER BY id", (company_code,))]

    def changes(self, company_code: str) -> list[Change]:
        with self.transaction() as db:
            return [
                Change(company_code=r["company_code"], changed_on=date.fromisoformat(r["changed_on"]), item=r["item"],
                       before=r["before"], after=r["after"])
                for r in db.execute("SELECT * FROM changes WHERE company_code=? ORDER BY id", (company_code,))
            ]

    # --- publicity (002 四.17: within 3 working days of receipt) ------------------------------------------

    def due_by(self, received_at: datetime) -> date | None:
        """The last day for publicity: 3 working days after the day of receipt (002 四.17)."""
        try:
            return self.calendar.add_working_days(received_at, PUBLICITY_WORKING_DAYS)
        except LiandongError:  # CAL_YEAR_UNKNOWN: the holiday arrangement is not published yet
            return None

    def publish(self, company_code: str, category: str, holder: Party, amount: Decimal | None, *,
                order: CourtOrder, received_at: datetime, at: datetime) -> PublicityEntry:
        """Publish an entry now (the register publishes at once, well within the 3 working days)."""
        with self.transaction() as db:
            due = self.due_by(received_at)
            cur = db.execute(
                "INSERT INTO publicity (company_code, category, holder_name, amount, court_order, received_on, due_by,"
                " published_on) VALUES (?,?,?,?,?,?,?,?)",
                (company_code, category, holder.name, str(amount) if amount is not None else None, order.model_dump_json(),
                 local_date(received_at).isoformat(), due.isoformat() if due else None, local_date(at).isoformat()),
            )
            return _entry(db.execute("SELECT * FROM publicity WHERE id=?", (cur.lastrowid,)).fetchone())

    # --- equity freeze (002 四.17; 001 art. 17) -----------------------------------------------------------

    def freeze(
        self, company_code: str, holder: Party, amount: Decimal | None, *, period: tuple[date, date],
        order: CourtOrder, received_at: datetime, at: datetime,
    ) -> FreezeOutcome:
        """Freeze the holder's equity and publish it. With a live freeze of the same holding the
        new one is a rotating freeze behind it (see the module docstring for the seed basis)."""
        with self.transaction() as db:
            company = self._registered(company_code)
            holding = self.holding(company_code, holder.code)
            if holding is None:
                raise Refused(f"经查，被执行人不是{company.name}的登记股东，其名下无该公司股权，无法办理冻结"
                              "（002四.17：冻结查明属于被执行人名下的股权）。The debtor holds no equity in this company.")
            prior = self.live_freezes(company_code, holder.code)
            state = FreezeState.ROTATING if prior else FreezeState.EFFECTIVE
            cur = db.execute(
                "INSERT INTO freezes (company_code, holder_name, holder_code, amount, state, court_order, court, document_id,"
                " item_id, period_start, period_end, registered_at, effective_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (company_code, holding.holder.name, holder.code, str(amount) if amount is not None else None, state.value,
                 order.model_dump_json(), order.court, order.document_id, order.item_id, period[0].isoformat(),
                 period[1].isoformat(), at.isoformat(), at.isoformat() if state is FreezeState.EFFECTIVE else None),
            )
            frozen = min(amount, holding.contribution) if amount is not None else holding.contribution
            entry = self.publish(company_code, "股权冻结" if state is FreezeState.EFFECTIVE else "股权轮候冻结", holding.holder,
                                 frozen, order=order, received_at=received_at, at=at)
            return FreezeOutcome(freeze=self._freeze_id(int(cur.lastrowid or 0)), queue_position=len(prior) + 1,
                                 prior=prior, frozen=frozen, publicity=entry)

    def unfreeze(
        self, document_id: str, item_id: str, *, court: str, amount: Decimal | None = None,
        order: CourtOrder, received_at: datetime, at: datetime,
    ) -> UnfreezeOutcome:
        """Lift the freeze registered for notice ``document_id`` item ``item_id`` and publish it
        (002 四.17; 001 art. 21). Only the freezing court may lift it. ``amount`` less than the
        frozen contribution releases that part; the rest stays frozen. When an effective freeze
        ends, the next rotating freeze takes effect and is published."""
        with self.transaction() as db:
            freeze = self.freeze_by_order(document_id, item_id)
            if freeze is None:
                raise Refused("经查，本局无该协助执行通知书所办理的股权冻结，无法解除。No equity freeze was registered for the measure named.")
            if freeze.order.court != court:
                raise Refused(f"该股权冻结系{freeze.order.court_name}办理，应由该院解除（001第二十一条）。"
                              "Only the freezing court can lift its freeze.")
            if freeze.state not in LIVE_FREEZES:
                raise Refused("该股权冻结已终止（已解除或因股权转让而终止），无需解除。The freeze has already ended.")
            holding = self.holding(freeze.company_code, freeze.holder.code)
            frozen = freeze.amount if freeze.amount is not None else (holding.contribution if holding else None)
            if amount is not None and frozen is not None and amount < frozen:
                db.execute("UPDATE freezes SET amount=? WHERE id=?", (str(frozen - amount), freeze.id))
                entry = self.publish(freeze.company_code, "股权部分解除冻结", freeze.holder, amount, order=order,
                                     received_at=received_at, at=at)
                return UnfreezeOutcome(released=self._freeze_id(freeze.id), released_amount=amount, publicity=[entry])
            db.execute("UPDATE freezes SET state=?, ended_at=? WHERE id=?", (FreezeState.RELEASED.value, at.isoformat(), freeze.id))
            entries = [self.publish(freeze.company_code, "解除股权冻结", freeze.holder, frozen, order=order,
                                    received_at=received_at, at=at)]
            promoted = None
            if freeze.state is FreezeState.EFFECTIVE:
                next_id = _FREEZE_QUEUE.promote_next(db, freeze.company_code, freeze.holder.code, at=at)
                if next_id is not None:
                    promoted = self._freeze_id(next_id)
                    entries.append(self.publish(
                        freeze.company_code, "股权轮候冻结生效", promoted.holder,
                        min(promoted.amount, holding.contribution) if promoted.amount is not None and holding else promoted.amount,
                        order=promoted.order, received_at=at, at=at,
                    ))
            return UnfreezeOutcome(released=self._freeze_id(freeze.id), promoted=promoted, publicity=entries)

    # --- forced transfer with shareholder change (002 四.17; 001 art. 17) ---------------------------------

    def forced_transfer(
        self, company_code: str, holder: Party, transferee: Party, *, contribution: Decimal | None,
        order: CourtOrder, received_at: datetime, at: datetime,
    ) -> TransferOutcome:
        """Register the shareholder change a court orders, without an application by the company,
        and publish it (002 四.17). ``contribution`` None transfers the whole holding."""
        with self.transaction() as db:
            company = self._registered(company_code)
            if company.kind is not CompanyKind.LLC:
                raise Refused(f"{company.name}为股份有限公司，其股份不在本局办理股东变更登记；002四.17所称股东变更登记"
                              "限于有限责任公司。Shares of a joint-stock company are not registered here.")
            holding = self.holding(company_code, holder.code)
            if holding is None:
                raise Refused(f"经查，被执行人不是{company.name}的登记股东，无法办理股权转让登记。The debtor holds no equity here.")
            moved = contribution if contribution is not None else holding.contribution
            if moved > holding.contribution or moved <= 0:
                raise Refused(f"通知书所列转让出资额{_money(moved)}超过被执行人持有的出资额{_money(holding.contribution)}，"
                              "无法办理。The contribution to transfer exceeds the holding.")
            live = self.live_freezes(company_code, holder.code)
            if live and live[0].order.court != order.court:
                first = live[0].order
                mine = [n for n, f in enumerate(live, 1) if f.order.court == order.court]
                where = f"贵院对该股权为轮候冻结（第{mine[0]}顺位）" if mine else "贵院未冻结该股权"
                raise Refused(
                    f"该股权已被{first.court_name}（{first.case_number or '案号不详'}）首先冻结，{where}。只有冻结生效的人民法院"
                    "可以要求强制转让并办理股东变更登记（参照001第十二条：轮候查封的人民法院要求办理登记手续的，依法不予办理；"
                    "003权力清单59），依法不予办理。Only the court whose freeze is in effect can have frozen equity transferred."
                )
            before = self.shareholders(company_code)
            remaining = holding.contribution - moved
            if remaining:
                db.execute("UPDATE holdings SET contribution=? WHERE company_code=? AND holder_code=?",
                           (str(remaining), company_code, holder.code))
            else:
                db.execute("DELETE FROM holdings WHERE company_code=? AND holder_code=?", (company_code, holder.code))
            existing = self.holding(company_code, transferee.code)
            if existing is not None:
                db.execute("UPDATE holdings SET contribution=? WHERE company_code=? AND holder_code=?",
                           (str(existing.contribution + moved), company_code, transferee.code))
            else:
                db.execute("INSERT INTO holdings VALUES (?,?,?,?)", (company_code, transferee.name, transferee.code, str(moved)))
            ended: list[Freeze] = []
            lapsed: list[Freeze] = []
            if not remaining:  # the frozen holding is gone: its freezes end (partial: they stay on the rest)
                for freeze in live:
                    state = FreezeState.TRANSFERRED if freeze.order.court == order.court else FreezeState.LAPSED
                    db.execute("UPDATE freezes SET state=?, ended_at=? WHERE id=?", (state.value, at.isoformat(), freeze.id))
                    (ended if state is FreezeState.TRANSFERRED else lapsed).append(self._freeze_id(freeze.id))
            after = self.shareholders(company_code)
            self.record_change(company_code, local_date(at), "股东变更（人民法院强制转让）", _register_text(before), _register_text(after), order)
            entry = self.publish(company_code, "股东变更（强制转让）", holding.holder, moved, order=order,
                                 received_at=received_at, at=at)
            return TransferOutcome(company_code=company_code, transferred=moved, before=before, after=after,
                                   ended=ended, lapsed=lapsed, publicity=entry, registered_at=at)

    # --- internals ------------------------------------------------------------------------------------------

    def _registered(self, company_code: str) -> Company:
        company = self.company(company_code)
        if company is None:
            raise Refused(f"经查，本局无统一社会信用代码为{company_code}的市场主体登记，无法办理。No such company is registered here.")
        if company.status in ("注销", "吊销"):
            raise Refused(f"{company.name}已{company.status}，无法办理。The company is {company.status}.")
        return company

    def _holdings(self, rows: sqlite3.Cursor) -> list[Holding]:
        result = []
        for r in rows.fetchall():
            company = self.company(r["company_code"])
            assert company is not None
            contribution = Decimal(r["contribution"])
            result.append(Holding(company_code=company.code, company_name=company.name,
                                  holder=Party(name=r["holder_name"], code=r["holder_code"]),
                                  contribution=contribution, ratio=ratio(contribution, company.registered_capital)))
        return result

    def _freeze_id(self, freeze_id: int) -> Freeze:
        return _freeze(self.db.execute("SELECT * FROM freezes WHERE id=?", (freeze_id,)).fetchone())


def _register_text(holdings: list[Holding]) -> str:
    return "；".join(f"{h.holder.name} 出资{h.contribution:,.2f}元（{h.ratio}%）" for h in holdings)


def _company(row: sqlite3.Row) -> Company:
    rep = Party(name=row["legal_rep_name"], code=row["legal_rep_code"]) if row["legal_rep_name"] else None
    return Company(
        code=row["code"], name=row["name"], kind=CompanyKind(row["kind"]), legal_representative=rep,
        registered_capital=Decimal(row["registered_capital"]), status=row["status"],
        established_on=date.fromisoformat(row["established_on"]) if row["established_on"] else None, address=row["address"],
    )


def _freeze(row: sqlite3.Row) -> Freeze:
    return Freeze(
        id=row["id"],
        company_code=row["company_code"],
        holder=Party(name=row["holder_name"], code=row["holder_code"]),
        amount=Decimal(row["amount"]) if row["amount"] is not None else None,
        state=FreezeState(row["state"]),
        order=CourtOrder.model_validate_json(row["court_order"]),
        period_start=date.fromisoformat(row["period_start"]),
        period_end=date.fromisoformat(row["period_end"]),
        registered_at=datetime.fromisoformat(row["registered_at"]),
        effective_at=datetime.fromisoformat(row["effective_at"]) if row["effective_at"] else None,
        ended_at=datetime.fromisoformat(row["ended_at"]) if row["ended_at"] else None,
    )


def _entry(row: sqlite3.Row) -> PublicityEntry:
    return PublicityEntry(
        id=row["id"],
        company_code=row["company_code"],
        category=row["category"],
        holder_name=row["holder_name"],
        amount=Decimal(row["amount"]) if row["amount"] is not None else None,
        order=CourtOrder.model_validate_json(row["court_order"]),
        received_on=date.fromisoformat(row["received_on"]),
        due_by=date.fromisoformat(row["due_by"]) if row["due_by"] else None,
        published_on=date.fromisoformat(row["published_on"]),
    )
