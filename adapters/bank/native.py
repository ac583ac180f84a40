"""A core-banking stand-in in SQLite that carries out the bank rules of the seeds.

It stands where a real bank's core system would be called: accounts, balances, priority rights,
transactions, freezes and deductions, persisted in one SQLite file. Every operation a court's
document causes is made through :class:`adapters.sdk.IdempotentLedger` with the item's
idempotency key, in the same transaction as the native writes, so it happens at most once
however often the adapter asks (docs/adapters.md §3).

The rules it enforces are those of 003 人民法院、银行业金融机构网络执行查控工作规范 ("rule N" below;
"003 规范N" in the messages to courts), with 001 第十四条 (banks freeze, rotating-freeze and
deduct deposits) and 001 第二十条 (no substantive review).

The freeze model (rule 10, 12)
------------------------------

Every freeze on an account has a *claim* (``amount``: what the court asked to be frozen,
冻结限额) and the money it actually holds (``frozen``). Freezes on one account form a queue in
the order the notices were delivered (rule 10 "轮候冻结 … 限制额度叠加"; 001 第十四条):

- **available balance** = balance − money held by live freezes − active priority rights
  (rule 10 "可用余额（本次冻结前尚未被冻结的金额）"; rule 12: pledges and margins are not counted as
  frozen value and cannot be frozen or deducted while the right exists);
- a **new freeze** holds ``min(claim, available)``. All of it: *Executed*. Part of it: a **limit
  freeze** (限额冻结, rule 10 para. 2), *PartiallyExecuted*, the receipt giving requested and
  actual amounts and the period. Nothing, behind earlier live freezes: a **rotating freeze**
  (轮候冻结, rule 10 para. 3), *Rotating*, with its queue position and the earlier freezes in
  order. Nothing and first in the queue (an empty account): a limit freeze of 0.00;
- **top-up** (decision, stated on the receipt as in examples/ExecutionReceipt.xml M1): money
  that *comes into* the account later — an incoming credit, or a priority right that ends —
  fills the claims still short, from the head of the queue down, during the freeze period.
  So a limit freeze grows to its claim before a rotating freeze behind it gets anything;
- **release** (解除冻结, a BankUnfreeze release; 001 第二十一条): the money a lifted freeze held
  flows *down* the queue, to the freezes after it that are still short — this is how the next
  rotating freeze takes effect ("前序冻结解除后依次自动生效"). A **partial** release of X lifts X of
  the freeze: its claim falls by X and up to X of the money it held is released (and flows
  down); the rest stays frozen and the reduced claim is still topped up by later income;
- a rotating freeze **takes effect** when it first holds money, or when no live freeze is left
  before it (then as a limit freeze of what it holds). Each time, for a freeze that came over the
  network, a status notice for its court is written to ``status_notices`` *in the same
  transaction*; the adapter sends it as a ``MeasureStatusNotice`` (an outbox: exactly once);
- **continued freeze** (续冻, rule 10 para. 4) moves the end date of the named freeze to the new
  period's end (it must be later), by the court that froze; a smaller continued amount lowers
  the claim to it (the excess money flows down), a larger one is not an enlargement (that needs a
  new freeze) and the receipt says so;
- **deduction** (扣划, rules 13–15) needs no prior unfreeze (rule 14): it takes the money the same
  court's freeze(s) on the account hold (the one named in ``FromFreeze``, else that court's live
  freezes in queue order), then the available balance — never money other courts' freezes hold,
  never priority-right amounts (rule 12: "审查处理期间，执行法院不得强制扣划"; the stand-in cannot see a
  review, so it never deducts a registered priority amount while the right exists). Deducted
  money satisfies the claim: the freeze's claim falls by what was taken from it. Not deducted
  (rule 15) = what the source freezes still hold (原冻结金额与本次实际扣划金额的差额), or what is left
  of the request when that is more. The money goes to the court's enforcement account (rule 13);
  the debit is a transaction of the account;
- **lapse**: a freeze whose period has ended lapses in the end-of-day run (:meth:`lapse`), like
  a release. Until that run, the stand-in keeps a freeze whose end date has passed;
- priority rights (rule 12) are listed in query results and on freeze and deduction results.
  The **five working days** of rule 12 are the *court's* duty (notify the holder after freezing);
  the bank reminds the court in the receipt's remark. No forced deduction during the holder's
  review: see deduction above.

What cannot be carried out (rule 17) raises :class:`NativeRefusal` with the reason for the
court: unknown account, closed account, holder (name or ID/USCC) not the debtor, currency
mismatch, an unknown or foreign freeze to continue, lift or deduct from.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from adapters.sdk.native_db import NativeDatabase, Refusal

_SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    number        TEXT PRIMARY KEY,
    holder_name   TEXT NOT NULL,
    holder_id     TEXT NOT NULL,          -- resident ID number or USCC
    account_type  TEXT NOT NULL,          -- 个人借记卡, 单位基本存款账户, ...
    status        TEXT NOT NULL,          -- Normal | Dormant | Closed (Frozen is derived)
    currency      TEXT NOT NULL,
    balance       INTEGER NOT NULL,       -- cents
    bank_name     TEXT NOT NULL,
    branch        TEXT NOT NULL,
    opened_on     TEXT NOT NULL,
    closed_on     TEXT,
    phone         TEXT
);
CREATE INDEX IF NOT EXISTS accounts_holder ON accounts(holder_id);
CREATE TABLE IF NOT EXISTS priority_rights (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    account   TEXT NOT NULL REFERENCES accounts(number),
    holder    TEXT NOT NULL,
    kind      TEXT NOT NULL,              -- Pledge | Margin | CoOwnership | Other
    amount    INTEGER NOT NULL,
    status    TEXT NOT NULL,              -- active | extinguished
    ended_at  TEXT
);
CREATE TABLE IF NOT EXISTS transactions (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    account              TEXT NOT NULL REFERENCES accounts(number),
    time                 TEXT NOT NULL,
    direction            TEXT NOT NULL,   -- Debit | Credit
    amount               INTEGER NOT NULL,
    balance_after        INTEGER NOT NULL,
    counterparty_name    TEXT,
    counterparty_account TEXT,
    counterparty_bank    TEXT,
    summary              TEXT
);
CREATE INDEX IF NOT EXISTS transactions_account ON transactions(account, time);
CREATE TABLE IF NOT EXISTS freezes (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,   -- queue order on the account
    account       TEXT NOT NULL REFERENCES accounts(number),
    court_name    TEXT NOT NULL,
    court_code    TEXT,
    case_number   TEXT,
    document_id   TEXT,
    measure_id    TEXT,
    measure_type  TEXT NOT NULL,
    origin        TEXT NOT NULL,          -- network | seed
    requested     INTEGER NOT NULL,       -- the claim as first asked
    amount        INTEGER NOT NULL,       -- the claim now (after partial releases, deductions)
    frozen        INTEGER NOT NULL,       -- money held
    currency      TEXT NOT NULL,
    start         TEXT NOT NULL,
    end           TEXT NOT NULL,
    state         TEXT NOT NULL,          -- effective | rotating | released | lapsed | satisfied
    registered_at TEXT NOT NULL,
    effective_at  TEXT,
    ended_at      TEXT
);
CREATE INDEX IF NOT EXISTS freezes_account ON freezes(account, state);
CREATE TABLE IF NOT EXISTS freeze_refs (       -- measures that name a freeze: the freeze, its continuations
    document_id TEXT NOT NULL,
    measure_id  TEXT NOT NULL,
    freeze_id   INTEGER NOT NULL REFERENCES freezes(id),
    PRIMARY KEY (document_id, measure_id)
);
CREATE TABLE IF NOT EXISTS continuations (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    freeze_id   INTEGER NOT NULL REFERENCES freezes(id),
    document_id TEXT, measure_id TEXT, old_end TEXT NOT NULL, new_end TEXT NOT NULL, at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS releases (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    freeze_id   INTEGER NOT NULL REFERENCES freezes(id),
    document_id TEXT, release_id TEXT, lifted INTEGER NOT NULL, released INTEGER NOT NULL,
    full        INTEGER NOT NULL, at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS deductions (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    account        TEXT NOT NULL, court_code TEXT, case_number TEXT, document_id TEXT, measure_id TEXT,
    requested      INTEGER NOT NULL, deducted INTEGER NOT NULL, from_frozen INTEGER NOT NULL,
    to_bank        TEXT NOT NULL, to_account TEXT NOT NULL, to_name TEXT NOT NULL,
    transaction_id INTEGER, at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS status_notices (    -- outbox: a rotating freeze took effect
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    freeze_id    INTEGER NOT NULL REFERENCES freezes(id),
    court_code   TEXT NOT NULL, case_number TEXT, document_id TEXT NOT NULL, measure_id TEXT NOT NULL,
    fully        INTEGER NOT NULL, frozen INTEGER NOT NULL, amount INTEGER NOT NULL, currency TEXT NOT NULL,
    effective_at TEXT NOT NULL, cause TEXT NOT NULL,
    sent_document_id TEXT, outcome TEXT    -- set once handed to the SDK
);
CREATE TABLE IF NOT EXISTS case_closures (     -- 004 第三十五条
    document_id TEXT PRIMARY KEY, court_code TEXT NOT NULL, case_number TEXT,
    completed_on TEXT NOT NULL, outcome TEXT NOT NULL, live_freezes INTEGER NOT NULL, at TEXT NOT NULL
);
"""

LIVE = ("effective", "rotating")
"""Freeze states that hold or wait for money."""

CENT = Decimal("0.01")


def cents(value: Decimal | str | int) -> int:
    """Yuan (two decimals) to integer cents."""
    return int((Decimal(str(value)).quantize(CENT) * 100).to_integral_value())


def yuan(value: int) -> Decimal:
    return (Decimal(value) / 100).quantize(CENT)


def fmt(value: int, currency: str = "CNY") -> str:
    """``186432.57元`` / ``12000.00美元`` style for messages to courts."""
    unit = {"CNY": "元", "USD": "美元", "EUR": "欧元", "HKD": "港元", "JPY": "日元"}.get(currency, currency)
    return f"{yuan(value)}{unit}"


NativeRefusal = Refusal
"""The core system cannot carry the measure out; ``reason`` is for the court (003 规范17)."""


@dataclass(frozen=True)
class Party:
    """Who a measure names: the account holder's name and resident ID number or USCC."""

    name: str
    id_code: str


@dataclass(frozen=True)
class Court:
    """The authority that ordered a measure; ``code`` is None for one outside the network."""

    code: str | None
    name: str
    case_number: str | None


@dataclass(frozen=True)
class MeasureKey:
    """The network's name of a measure: its notice's document id and the measure id."""

    document_id: str
    measure_id: str


@dataclass
class AccountView:
    """An account as the query result shows it (rule 7)."""

    number: str
    holder_name: str
    holder_id: str
    account_type: str
    status: str
    currency: str
    balance: int
    bank_name: str
    branch: str
    opened_on: str
    closed_on: str | None
    phone: str | None
    priority_rights: list[dict[str, Any]] = field(default_factory=list)
    freezes: list[dict[str, Any]] = field(default_factory=list)

    @property
    def priority_total(self) -> int:
        return sum(p["amount"] for p in self.priority_rights)

    @property
    def frozen_total(self) -> int:
        return sum(f["frozen"] for f in self.freezes)

    @property
    def available(self) -> int:
        """Balance not frozen and not under a priority right (rule 10 可用余额; rule 12)."""
        return max(0, self.balance - self.frozen_total - self.priority_total)


class CoreBanking(NativeDatabase):
    """The stand-in core system, in one SQLite file (``path``) shared with its idempotent ledger.

    Court operations (:meth:`freeze`, :meth:`continue_freeze`, :meth:`unfreeze`, :meth:`deduct`)
    and account events (:meth:`credit`, :meth:`withdraw`, :meth:`end_priority_right`,
    :meth:`lapse`) take an idempotency key: a key already used returns the recorded outcome and
    changes nothing. Back-office set-up (:meth:`open_account`, :meth:`add_priority_right`,
    :meth:`add_history`) is for seeding (:mod:`adapters.bank.demo`) and tests. Thread-safe.
    """

    def __init__(self, path: str | Path):
        super().__init__(path, _SCHEMA)

    def operations(self) -> int:
        """How many keyed operations the core system has carried out (tests count them)."""
        return len(self.ledger)

    def count(self, table: str, where: str = "1=1", *args: Any) -> int:
        if table not in {"accounts", "priority_rights", "transactions", "freezes", "releases", "deductions",
                         "continuations", "status_notices", "case_closures"}:
            raise ValueError(table)
        with self.lock:
            return int(self.db.execute(f"SELECT COUNT(*) FROM {table} WHERE {where}", args).fetchone()[0])

    # --- back office (seeding, tests) ---------------------------------------------------------------

    def open_account(
        self,
        number: str,
        *,
        holder: Party,
        account_type: str,
        bank_name: str,
        branch: str,
        opened_on: date,
        currency: str = "CNY",
        balance: Decimal | str = "0",
        phone: str | None = None,
        status: str = "Normal",
        closed_on: date | None = None,
    ) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO accounts VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (number, holder.name, holder.id_code, account_type, status, currency, cents(balance), bank_name,
                 branch, opened_on.isoformat(), closed_on.isoformat() if closed_on else None, phone),
            )

    def add_priority_right(self, account: str, *, holder: str, kind: str, amount: Decimal | str) -> int:
        """Register a pledge, margin or other priority right on the account (rule 12)."""
        with self.transaction() as db:
            cur = db.execute(
                "INSERT INTO priority_rights (account, holder, kind, amount, status) VALUES (?,?,?,?, 'active')",
                (account, holder, kind, cents(amount)),
            )
            return int(cur.lastrowid or 0)

    def add_history(
        self, account: str, *, time: datetime, direction: str, amount: Decimal | str, balance_after: Decimal | str,
        counterparty_name: str | None = None, counterparty_account: str | None = None,
        counterparty_bank: str | None = None, summary: str | None = None,
    ) -> None:
        """Record a past transaction as it was (the balance is set when the account is opened)."""
        with self.transaction() as db:
            db.execute(
                "INSERT INTO transactions (account, time, direction, amount, balance_after, counterparty_name,"
                " counterparty_account, counterparty_bank, summary) VALUES (?,?,?,?,?,?,?,?,?)",
                (account, time.isoformat(), direction, cents(amount), cents(balance_after), counterparty_name,
                 counterparty_account, counterparty_bank, summary),
            )

    def is_empty(self) -> bool:
        return self.count("accounts") == 0

    # --- reads --------------------------------------------------------------------------------------

    def account(self, number: str) -> AccountView | None:
        with self.lock:
            row = self.db.execute("SELECT * FROM accounts WHERE number=?", (number,)).fetchone()
            return self._view(self.db, row) if row else None

    def accounts_of(self, id_code: str) -> list[AccountView]:
        """Every account of the holder, closed ones included (rule 7 "含已注销的账户")."""
        with self.lock:
            rows = self.db.execute("SELECT * FROM accounts WHERE holder_id=? ORDER BY opened_on, number", (id_code,))
            return [self._view(self.db, r) for r in rows.fetchall()]

    def transactions(self, number: str, start: date, end: date) -> list[sqlite3.Row]:
        """Transactions of the account in the period, both ends included (rule 6)."""
        with self.lock:
            return self.db.execute(
                "SELECT * FROM transactions WHERE account=? AND substr(time,1,10) BETWEEN ? AND ? ORDER BY time, id",
                (number, start.isoformat(), end.isoformat()),
            ).fetchall()

    def freeze_row(self, freeze_id: int) -> sqlite3.Row:
        with self.lock:
            return self.db.execute("SELECT * FROM freezes WHERE id=?", (freeze_id,)).fetchone()

    def freeze_by_ref(self, ref: MeasureKey) -> sqlite3.Row | None:
        with self.lock:
            return self._freeze_by_ref(self.db, ref)

    def pending_status_notices(self) -> list[sqlite3.Row]:
        with self.lock:
            return self.db.execute("SELECT * FROM status_notices WHERE outcome IS NULL ORDER BY id").fetchall()

    def status_notices(self) -> list[sqlite3.Row]:
        with self.lock:
            return self.db.execute("SELECT * FROM status_notices ORDER BY id").fetchall()

    def mark_status_notice(self, notice_id: int, *, document_id: str | None, outcome: str) -> None:
        with self.transaction() as db:
            db.execute("UPDATE status_notices SET sent_document_id=?, outcome=? WHERE id=?", (document_id, outcome, notice_id))

    @staticmethod
    def _view(db: sqlite3.Connection, row: sqlite3.Row) -> AccountView:
        rights = db.execute(
            "SELECT id, holder, kind, amount FROM priority_rights WHERE account=? AND status='active' ORDER BY id",
            (row["number"],),
        ).fetchall()
        live = _live(db, row["number"])
        return AccountView(
            number=row["number"], holder_name=row["holder_name"], holder_id=row["holder_id"],
            account_type=row["account_type"], status=row["status"], currency=row["currency"],
            balance=row["balance"], bank_name=row["bank_name"], branch=row["branch"], opened_on=row["opened_on"],
            closed_on=row["closed_on"], phone=row["phone"],
            priority_rights=[dict(r) for r in rights],
            freezes=[_prior(f, i) for i, f in enumerate(live, 1)],
        )

    @staticmethod
    def _freeze_by_ref(db: sqlite3.Connection, ref: MeasureKey) -> sqlite3.Row | None:
        found = db.execute(
            "SELECT f.* FROM freeze_refs r JOIN freezes f ON f.id = r.freeze_id WHERE r.document_id=? AND r.measure_id=?",
            (ref.document_id, ref.measure_id),
        ).fetchone()
        return found

    # --- court operations (keyed) ---------------------------------------------------------------------

    def freeze(
        self,
        key: str,
        *,
        court: Court,
        measure: MeasureKey | None,
        measure_type: str,
        account: str,
        holder: Party,
        account_name: str,
        account_currency: str | None,
        amount: Decimal,
        currency: str,
        start: date,
        end: date,
        now: datetime,
        origin: str = "network",
    ) -> dict[str, Any]:
        """Freeze ``amount`` on ``account`` (rule 10): in full, as a limit freeze, or rotating
        behind the live freezes already on it. Returns the outcome recorded under ``key``."""

        def act(db: sqlite3.Connection) -> dict[str, Any]:
            acct = _usable_account(db, account, holder, account_name, account_currency, currency, "冻结")
            live = _live(db, account)
            view = self._view(db, acct)
            available = view.available
            claim = cents(amount)
            frozen = min(claim, available)
            state = "effective" if frozen > 0 or not live else "rotating"
            cur = db.execute(
                "INSERT INTO freezes (account, court_name, court_code, case_number, document_id, measure_id,"
                " measure_type, origin, requested, amount, frozen, currency, start, end, state, registered_at,"
                " effective_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (account, court.name, court.code, court.case_number, measure.document_id if measure else None,
                 measure.measure_id if measure else None, measure_type, origin, claim, claim, frozen, currency,
                 start.isoformat(), end.isoformat(), state, now.isoformat(),
                 now.isoformat() if state == "effective" else None),
            )
            freeze_id = int(cur.lastrowid or 0)
            if measure is not None:
                db.execute("INSERT INTO freeze_refs VALUES (?,?,?)", (measure.document_id, measure.measure_id, freeze_id))
            return {
                "freeze_id": freeze_id,
                "state": state,
                "position": len(live) + 1,
                "amount": claim,
                "frozen": frozen,
                "available": available,
                "currency": currency,
                "prior": [_prior(f, i) for i, f in enumerate(live, 1)],
                "priority": view.priority_rights,
                "at": now.isoformat(),
            }

        return self.once(key, act)

    def continue_freeze(
        self,
        key: str,
        *,
        court: Court,
        continues: MeasureKey | None,
        measure: MeasureKey | None,
        account: str,
        holder: Party,
        account_name: str,
        account_currency: str | None,
        amount: Decimal,
        currency: str,
        start: date,
        end: date,
        now: datetime,
    ) -> dict[str, Any]:
        """续冻: move the end date of the named freeze (rule 10 para. 4)."""

        def act(db: sqlite3.Connection) -> dict[str, Any]:
            _usable_account(db, account, holder, account_name, account_currency, currency, "续冻")
            if continues is None:
                raise NativeRefusal("续冻未载明原冻结事项，无法办理。（003 规范10）")
            row = self._freeze_by_ref(db, continues)
            if row is None or row["account"] != account:
                raise NativeRefusal("本行未查到该账户上被续冻的原冻结记录，无法续冻。（003 规范10、17）")
            _same_court(row, court, "续冻")
            if row["state"] not in LIVE:
                word = {"released": "已解除", "lapsed": "已到期失效", "satisfied": "已因扣划完毕而终止"}[row["state"]]
                raise NativeRefusal(f"原冻结{word}，无法续冻；如需冻结请重新发送冻结通知。（003 规范10、17）")
            if end.isoformat() <= row["end"]:
                raise NativeRefusal(
                    f"续冻截止日{end.isoformat()}不晚于原冻结截止日{row['end']}，不构成续行冻结。（003 规范10）"
                )
            claim = min(row["amount"], cents(amount))
            kept = min(row["frozen"], claim)
            freed = row["frozen"] - kept
            db.execute("UPDATE freezes SET end=?, amount=?, frozen=? WHERE id=?", (end.isoformat(), claim, kept, row["id"]))
            db.execute(
                "INSERT INTO continuations (freeze_id, document_id, measure_id, old_end, new_end, at) VALUES (?,?,?,?,?,?)",
                (row["id"], measure.document_id if measure else None, measure.measure_id if measure else None,
                 row["end"], end.isoformat(), now.isoformat()),
            )
            if measure is not None:
                db.execute("INSERT OR IGNORE INTO freeze_refs VALUES (?,?,?)", (measure.document_id, measure.measure_id, row["id"]))
            _flow_down(db, account, row["id"], freed)
            promoted = _settle(db, account, now, "在先冻结续冻金额减少")
            live = _live(db, account)
            position = next(i for i, f in enumerate(live, 1) if f["id"] == row["id"])
            after = db.execute("SELECT * FROM freezes WHERE id=?", (row["id"],)).fetchone()
            acct = db.execute("SELECT * FROM accounts WHERE number=?", (account,)).fetchone()
            return {
                "freeze_id": row["id"],
                "state": after["state"],
                "position": position,
                "asked": cents(amount),
                "amount": claim,
                "frozen": kept,
                "currency": currency,
                "old_end": row["end"],
                "others": [_prior(f, i) for i, f in enumerate(live, 1) if f["id"] != row["id"]],
                "priority": self._view(db, acct).priority_rights,
                "promoted": promoted,
                "at": now.isoformat(),
            }

        return self.once(key, act)

    def unfreeze(
        self,
        key: str,
        *,
        court: Court,
        releases: MeasureKey | None,
        release: MeasureKey | None,
        holder_id: str,
        amount: Decimal | None,
        currency: str | None,
        now: datetime,
    ) -> dict[str, Any]:
        """解除冻结, in full or (``amount``) in part; the money flows down the queue and the next
        rotating freeze takes effect (rule 10; 001 第二十一条)."""

        def act(db: sqlite3.Connection) -> dict[str, Any]:
            if releases is None:
                raise NativeRefusal("解除通知未载明要解除的冻结事项，无法办理。（001 第二十一条）")
            row = self._freeze_by_ref(db, releases)
            if row is None:
                raise NativeRefusal("本行未查到该冻结事项，无法解除。（003 规范17）")
            _same_court(row, court, "解除冻结")
            acct = db.execute("SELECT * FROM accounts WHERE number=?", (row["account"],)).fetchone()
            if acct["holder_id"] != holder_id:
                raise NativeRefusal("解除通知载明的被执行人与被冻结账户的户主不符，无法解除。（003 规范17）")
            if row["state"] not in LIVE:
                word = {"released": "已解除", "lapsed": "已到期失效", "satisfied": "已因扣划完毕而终止"}[row["state"]]
                raise NativeRefusal(f"该冻结{word}，无需解除。")
            if amount is not None and currency is not None and currency != row["currency"]:
                raise NativeRefusal(f"解除金额币种{currency}与冻结币种{row['currency']}不符，无法解除。（003 规范17）")
            lifted = row["amount"] if amount is None else min(cents(amount), row["amount"])
            full = lifted >= row["amount"]
            if full:
                released = row["frozen"]
                db.execute(
                    "UPDATE freezes SET state='released', frozen=0, ended_at=? WHERE id=?", (now.isoformat(), row["id"])
                )
            else:
                released = min(lifted, row["frozen"])
                db.execute(
                    "UPDATE freezes SET amount=amount-?, frozen=frozen-? WHERE id=?", (lifted, released, row["id"])
                )
            db.execute(
                "INSERT INTO releases (freeze_id, document_id, release_id, lifted, released, full, at) VALUES (?,?,?,?,?,?,?)",
                (row["id"], release.document_id if release else None, release.measure_id if release else None,
                 lifted, released, int(full), now.isoformat()),
            )
            _flow_down(db, row["account"], row["id"], released)
            promoted = _settle(db, row["account"], now, "在先冻结解除")
            after = db.execute("SELECT * FROM freezes WHERE id=?", (row["id"],)).fetchone()
            return {
                "freeze_id": row["id"],
                "full": full,
                "lifted": lifted,
                "released": released,
                "currency": row["currency"],
                "remaining_amount": 0 if full else after["amount"],
                "remaining_frozen": 0 if full else after["frozen"],
                "promoted": promoted,
                "at": now.isoformat(),
            }

        return self.once(key, act)

    def deduct(
        self,
        key: str,
        *,
        court: Court,
        measure: MeasureKey | None,
        account: str,
        holder: Party,
        account_name: str,
        account_currency: str | None,
        amount: Decimal,
        currency: str,
        to_bank: str,
        to_account: str,
        to_name: str,
        to_currency: str,
        from_freeze: MeasureKey | None,
        now: datetime,
    ) -> dict[str, Any]:
        """扣划 into the court's enforcement account without prior unfreeze (rules 13–15)."""

        def act(db: sqlite3.Connection) -> dict[str, Any]:
            acct = _usable_account(db, account, holder, account_name, account_currency, currency, "扣划")
            if to_currency != currency:
                raise NativeRefusal(
                    f"扣划币种{currency}与执行款专户币种{to_currency}不符；外币存款应扣划至法院外币执行款专户。（003 规范13）"
                )
            live = _live(db, account)
            if from_freeze is not None:
                named = self._freeze_by_ref(db, from_freeze)
                if named is None or named["account"] != account:
                    raise NativeRefusal("本行未查到该账户上扣划所依据的冻结记录，无法扣划。（003 规范14、17）")
                _same_court(named, court, "扣划")
                if named["state"] not in LIVE:
                    raise NativeRefusal("扣划所依据的冻结已解除或失效，请重新冻结或不指明冻结记录扣划。（003 规范17）")
                sources = [named]
            else:
                sources = [f for f in live if f["court_code"] == court.code]
            view = self._view(db, acct)
            available = view.available
            requested = cents(amount)
            remaining = requested
            from_frozen = 0
            for src in sources:
                take = min(remaining, src["frozen"])
                if take <= 0:
                    continue
                from_frozen += take
                remaining -= take
                left_claim = src["amount"] - take
                db.execute(
                    "UPDATE freezes SET frozen=frozen-?, amount=?, state=CASE WHEN ?=0 THEN 'satisfied' ELSE state END,"
                    " ended_at=CASE WHEN ?=0 THEN ? ELSE ended_at END WHERE id=?",
                    (take, left_claim, left_claim, left_claim, now.isoformat(), src["id"]),
                )
            from_available = min(remaining, available)
            deducted = from_frozen + from_available
            still_frozen = sum(
                db.execute("SELECT frozen FROM freezes WHERE id=?", (s["id"],)).fetchone()[0] for s in sources
            )
            not_deducted = max(requested - deducted, still_frozen)
            others = sum(f["frozen"] for f in live if f["id"] not in {s["id"] for s in sources})
            transaction_id = None
            if deducted:
                balance_after = acct["balance"] - deducted
                db.execute("UPDATE accounts SET balance=? WHERE number=?", (balance_after, account))
                cur = db.execute(
                    "INSERT INTO transactions (account, time, direction, amount, balance_after, counterparty_name,"
                    " counterparty_account, counterparty_bank, summary) VALUES (?,?,?,?,?,?,?,?,?)",
                    (account, now.isoformat(), "Debit", deducted, balance_after, to_name, to_account, to_bank,
                     "法院扣划"),
                )
                transaction_id = int(cur.lastrowid or 0)
            db.execute(
                "INSERT INTO deductions (account, court_code, case_number, document_id, measure_id, requested, deducted,"
                " from_frozen, to_bank, to_account, to_name, transaction_id, at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (account, court.code, court.case_number, measure.document_id if measure else None,
                 measure.measure_id if measure else None, requested, deducted, from_frozen, to_bank, to_account,
                 to_name, transaction_id, now.isoformat()),
            )
            promoted = _settle(db, account, now, "在先冻结因扣划完毕而终止")
            return {
                "requested": requested,
                "deducted": deducted,
                "from_frozen": from_frozen,
                "from_available": from_available,
                "still_frozen": still_frozen,
                "not_deducted": not_deducted,
                "others_frozen": others,
                "priority": view.priority_rights,
                "currency": currency,
                "balance": acct["balance"],
                "promoted": promoted,
                "at": now.isoformat(),
            }

        return self.once(key, act)

    def record_case_completed(
        self, key: str, *, court: Court, completed_on: date, outcome: str, document_id: str, now: datetime
    ) -> dict[str, Any]:
        """结案通报 (004 第三十五条): note it, and how many freezes of the case are still in place
        (they stay until the court's release notice: the bank does not lift them on its own)."""

        def act(db: sqlite3.Connection) -> dict[str, Any]:
            live = db.execute(
                "SELECT COUNT(*) FROM freezes WHERE court_code=? AND case_number IS ? AND state IN ('effective','rotating')",
                (court.code, court.case_number),
            ).fetchone()[0]
            db.execute(
                "INSERT OR IGNORE INTO case_closures VALUES (?,?,?,?,?,?,?)",
                (document_id, court.code, court.case_number, completed_on.isoformat(), outcome, live, now.isoformat()),
            )
            return {"live_freezes": int(live)}

        return self.once(key, act)

    # --- account events (keyed) -------------------------------------------------------------------------

    def credit(
        self, key: str, account: str, amount: Decimal | str, *, now: datetime, counterparty_name: str | None = None,
        counterparty_account: str | None = None, counterparty_bank: str | None = None, summary: str | None = "转入",
    ) -> dict[str, Any]:
        """Incoming money: booked, then it tops up the freezes still short, head of the queue
        first (limit freezes grow to their claim; then rotating freezes take effect)."""

        def act(db: sqlite3.Connection) -> dict[str, Any]:
            acct = db.execute("SELECT * FROM accounts WHERE number=?", (account,)).fetchone()
            if acct is None or acct["status"] == "Closed":
                raise NativeRefusal("账户不存在或已销户，不能入账。")
            value = cents(amount)
            balance_after = acct["balance"] + value
            db.execute("UPDATE accounts SET balance=? WHERE number=?", (balance_after, account))
            db.execute(
                "INSERT INTO transactions (account, time, direction, amount, balance_after, counterparty_name,"
                " counterparty_account, counterparty_bank, summary) VALUES (?,?,?,?,?,?,?,?,?)",
                (account, now.isoformat(), "Credit", value, balance_after, counterparty_name, counterparty_account,
                 counterparty_bank, summary),
            )
            topped = _fill_from_top(db, account)
            promoted = _settle(db, account, now, "账户新入账资金")
            return {"balance": balance_after, "topped_up": topped, "promoted": promoted}

        return self.once(key, act)

    def withdraw(self, key: str, account: str, amount: Decimal | str, *, now: datetime, summary: str = "取款") -> dict[str, Any]:
        """The holder takes money out: only from the available balance (frozen money and priority
        amounts stay). Refused when the available balance is short."""

        def act(db: sqlite3.Connection) -> dict[str, Any]:
            acct = db.execute("SELECT * FROM accounts WHERE number=?", (account,)).fetchone()
            if acct is None or acct["status"] == "Closed":
                raise NativeRefusal("账户不存在或已销户。")
            value = cents(amount)
            if value > self._view(db, acct).available:
                raise NativeRefusal("可用余额不足（冻结资金及优先受偿权金额不可支取）。")
            balance_after = acct["balance"] - value
            db.execute("UPDATE accounts SET balance=? WHERE number=?", (balance_after, account))
            db.execute(
                "INSERT INTO transactions (account, time, direction, amount, balance_after, summary) VALUES (?,?,?,?,?,?)",
                (account, now.isoformat(), "Debit", value, balance_after, summary),
            )
            return {"balance": balance_after}

        return self.once(key, act)

    def end_priority_right(self, key: str, right_id: int, *, now: datetime) -> dict[str, Any]:
        """A pledge or margin ends (rule 12 "优先受偿权消灭后"): its amount joins the available balance
        and tops up the freezes still short, head of the queue first."""

        def act(db: sqlite3.Connection) -> dict[str, Any]:
            row = db.execute("SELECT * FROM priority_rights WHERE id=? AND status='active'", (right_id,)).fetchone()
            if row is None:
                raise NativeRefusal("no such active priority right")
            db.execute("UPDATE priority_rights SET status='extinguished', ended_at=? WHERE id=?", (now.isoformat(), right_id))
            topped = _fill_from_top(db, row["account"])
            promoted = _settle(db, row["account"], now, "优先受偿权消灭后释放的资金")
            return {"topped_up": topped, "promoted": promoted}

        return self.once(key, act)

    def lapse(self, key: str, as_of: date, *, now: datetime) -> dict[str, Any]:
        """End of day: freezes whose period ended before ``as_of`` lapse; their money flows down
        the queue as on a release."""

        def act(db: sqlite3.Connection) -> dict[str, Any]:
            rows = db.execute(
                "SELECT * FROM freezes WHERE state IN ('effective','rotating') AND end < ? ORDER BY id", (as_of.isoformat(),)
            ).fetchall()
            promoted: list[int] = []
            for row in rows:
                db.execute("UPDATE freezes SET state='lapsed', frozen=0, ended_at=? WHERE id=?", (now.isoformat(), row["id"]))
                _flow_down(db, row["account"], row["id"], row["frozen"])
                promoted += _settle(db, row["account"], now, "在先冻结到期失效")
            return {"lapsed": [r["id"] for r in rows], "promoted": promoted}

        return self.once(key, act)


# --- the queue ---------------------------------------------------------------------------------------------


def _live(db: sqlite3.Connection, account: str) -> list[sqlite3.Row]:
    return db.execute(
        "SELECT * FROM freezes WHERE account=? AND state IN ('effective','rotating') ORDER BY id", (account,)
    ).fetchall()


def _prior(row: sqlite3.Row, position: int) -> dict[str, Any]:
    """A freeze as listed on receipts and query results (先前顺序冻结记录, rule 10): the claim is
    its amount (冻结限额), ``frozen`` what it holds."""
    return {
        "position": position,
        "freeze_id": row["id"],
        "authority": row["court_name"],
        "authority_code": row["court_code"],
        "case_number": row["case_number"],
        "document_id": row["document_id"],
        "amount": row["amount"],
        "frozen": row["frozen"],
        "currency": row["currency"],
        "start": row["start"],
        "end": row["end"],
        "state": row["state"],
    }


def _free(db: sqlite3.Connection, account: str) -> int:
    acct = db.execute("SELECT balance FROM accounts WHERE number=?", (account,)).fetchone()
    frozen = db.execute(
        "SELECT COALESCE(SUM(frozen),0) FROM freezes WHERE account=? AND state IN ('effective','rotating')", (account,)
    ).fetchone()[0]
    priority = db.execute(
        "SELECT COALESCE(SUM(amount),0) FROM priority_rights WHERE account=? AND status='active'", (account,)
    ).fetchone()[0]
    return max(0, acct["balance"] - frozen - priority)


def _give(db: sqlite3.Connection, rows: Sequence[sqlite3.Row], budget: int) -> dict[int, int]:
    given: dict[int, int] = {}
    for row in rows:
        if budget <= 0:
            break
        short = row["amount"] - row["frozen"]
        if short <= 0:
            continue
        take = min(short, budget)
        db.execute("UPDATE freezes SET frozen=frozen+? WHERE id=?", (take, row["id"]))
        given[row["id"]] = take
        budget -= take
    return given


def _fill_from_top(db: sqlite3.Connection, account: str) -> dict[str, int]:
    """New money in the account tops up the claims still short, head of the queue first."""
    given = _give(db, _live(db, account), _free(db, account))
    return {str(k): v for k, v in given.items()}


def _flow_down(db: sqlite3.Connection, account: str, after_id: int, freed: int) -> None:
    """Money released from freeze ``after_id`` goes to the freezes queued after it that are
    still short, in order (the released freeze's own claim, and those before it, do not take
    it back: the court lifted it)."""
    if freed > 0:
        rows = [r for r in _live(db, account) if r["id"] > after_id]
        _give(db, rows, min(freed, _free(db, account)))


def _settle(db: sqlite3.Connection, account: str, now: datetime, cause: str) -> list[int]:
    """Rotating freezes that now hold money, or have no live freeze before them, take effect;
    a status notice for each one that came over the network is written to the outbox."""
    promoted: list[int] = []
    first = True
    for row in _live(db, account):
        if row["state"] == "rotating" and (row["frozen"] > 0 or first):
            db.execute("UPDATE freezes SET state='effective', effective_at=? WHERE id=?", (now.isoformat(), row["id"]))
            promoted.append(int(row["id"]))
            if row["origin"] == "network" and row["court_code"] and row["document_id"] and row["measure_id"]:
                db.execute(
                    "INSERT INTO status_notices (freeze_id, court_code, case_number, document_id, measure_id, fully,"
                    " frozen, amount, currency, effective_at, cause) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                    (row["id"], row["court_code"], row["case_number"], row["document_id"], row["measure_id"],
                     int(row["frozen"] >= row["amount"]), row["frozen"], row["amount"], row["currency"],
                     now.isoformat(), cause),
                )
        first = False
    return promoted


def _usable_account(
    db: sqlite3.Connection,
    number: str,
    holder: Party,
    account_name: str,
    account_currency: str | None,
    currency: str,
    action: str,
) -> sqlite3.Row:
    """The account a measure names, if the bank can act on it; else the reason (003 规范17)."""
    acct = db.execute("SELECT * FROM accounts WHERE number=?", (number,)).fetchone()
    if acct is None:
        raise NativeRefusal(f"本行查无账号为{number}的账户，无法{action}。（003 规范17）")
    if acct["status"] == "Closed":
        when = f"已于{acct['closed_on']}销户" if acct["closed_on"] else "已销户"
        raise NativeRefusal(f"该账户{when}，无法{action}。（003 规范17）")
    if acct["holder_id"] != holder.id_code or acct["holder_name"] != holder.name or acct["holder_name"] != account_name:
        raise NativeRefusal(
            f"该账户户名或证件号码与通知载明的被执行人不符，无法{action}；请核对被执行人信息。（003 规范5、17）"
        )
    if (account_currency and account_currency != acct["currency"]) or currency != acct["currency"]:
        raise NativeRefusal(
            f"通知载明的币种（{account_currency or currency}/{currency}）与该账户币种{acct['currency']}不符，无法{action}。（003 规范13、17）"
        )
    return acct


def _same_court(row: sqlite3.Row, court: Court, action: str) -> None:
    if row["court_code"] != court.code:
        raise NativeRefusal(f"该冻结由{row['court_name']}办理，本院无权{action}。（003 规范10、17）")
