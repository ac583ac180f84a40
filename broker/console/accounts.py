"""The console's people: accounts, sessions and the operator audit log, in one SQLite file
beside the gateway's own records (:mod:`broker.gateway.state` keeps its state the same way).

Passwords are hashed with Argon2id (argon2-cffi's defaults, RFC 9106): a person chooses them,
so a slow, salted hash is what stands between a stolen file and the passwords — unlike the API
tokens of :mod:`broker.gateway.tokens`, which are random. A second factor (TOTP, RFC 6238) is
optional per account. Five wrong passwords in a row lock the account until an administrator
unlocks it. Sessions are random ids that expire; each carries its own CSRF token.
"""

from __future__ import annotations

import secrets
import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from broker.errors import LiandongError

MAX_FAILURES = 5
"""Wrong passwords in a row before the account locks (issue 13: lockout after repeated failures)."""


class Role(StrEnum):
    """What a person does at their unit (issue 13, "Console")."""

    OFFICER = "officer"  # 执行法官/执行员: composes, seals, publishes and follows documents (courts)
    CLERK = "clerk"  # 协助单位经办人: the unit's inbox, answers through the manual desk
    REVIEWER = "reviewer"  # 审查人员: reads seals, chains, ledger stories; changes nothing
    SUPERVISOR = "supervisor"  # 联席会议办公室: overdue lists, cooperation, weekly report
    ADMIN = "admin"  # 管理员: manages accounts, reads the operator audit log


ROLE_NAMES = {
    Role.OFFICER: "执行法官",
    Role.CLERK: "协助单位经办人",
    Role.REVIEWER: "审查人员（只读）",
    Role.SUPERVISOR: "联动办公室督办人员",
    Role.ADMIN: "系统管理员",
}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    id        INTEGER PRIMARY KEY,
    username  TEXT NOT NULL UNIQUE,
    unit      TEXT NOT NULL,          -- the unit code the person works for
    role      TEXT NOT NULL,
    pw_hash   TEXT NOT NULL,          -- Argon2id, with its parameters and salt
    totp      TEXT,                   -- base32 TOTP secret; NULL: no second factor
    failures  INTEGER NOT NULL DEFAULT 0,
    locked    INTEGER NOT NULL DEFAULT 0,
    created   TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    id        TEXT PRIMARY KEY,       -- random, the cookie's value
    account   INTEGER NOT NULL REFERENCES accounts(id),
    csrf      TEXT NOT NULL,          -- the token every form of this session carries
    expires   TEXT NOT NULL           -- UTC ISO time; later requests push it on (idle expiry)
);
CREATE TABLE IF NOT EXISTS audit (
    seq       INTEGER PRIMARY KEY,
    at        TEXT NOT NULL,          -- UTC ISO time
    who       TEXT,                   -- username (NULL: not logged in)
    unit      TEXT,
    client    TEXT,                   -- address:port the request came from
    action    TEXT NOT NULL,          -- login, login_failed, publish, answer, account_add, ...
    target    TEXT,                   -- document id, case number, account name
    outcome   TEXT NOT NULL           -- ok or an error code
);
"""


@dataclass(frozen=True)
class Account:
    id: int
    username: str
    unit: str
    role: Role
    has_totp: bool
    failures: int
    locked: bool


@dataclass(frozen=True)
class Session:
    id: str
    csrf: str
    account: Account


@dataclass(frozen=True)
class AuditEntry:
    at: str
    who: str | None
    unit: str | None
    client: str | None
    action: str
    target: str | None
    outcome: str


def _now() -> datetime:
    return datetime.now(UTC)


class AccountStore:
    """Thread-safe; each method is one transaction."""

    def __init__(self, path: Path, session_minutes: float = 30.0, hasher: PasswordHasher | None = None):
        """``hasher``: argon2-cffi's defaults (RFC 9106's second recommendation: 3 passes over
        64 MiB) unless given; a hash keeps its own parameters, so accounts made with other
        settings still verify."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)
        self._lock = threading.RLock()
        self._hasher = hasher or PasswordHasher()
        self.session_ttl = timedelta(minutes=session_minutes)

    # --- accounts -----------------------------------------------------------------------------

    def add(
        self, username: str, unit: str, role: Role | str, password: str, *, totp: bool = False
    ) -> str | None:
        """Create an account; returns the TOTP secret when ``totp`` (shown once, to enrol an
        authenticator app). ``CONSOLE_ACCOUNT_INVALID`` for an empty name, a short password or
        an unknown role; ``CONSOLE_ACCOUNT_EXISTS`` for a name taken."""
        username = username.strip()
        try:
            role = Role(role)
        except ValueError:
            raise LiandongError.of(
                "CONSOLE_ACCOUNT_INVALID", detail=f"role must be one of {', '.join(r.value for r in Role)}"
            ) from None
        if not username or len(username) > 64:
            raise LiandongError.of(
                "CONSOLE_ACCOUNT_INVALID", detail="the user name must have 1 to 64 characters"
            )
        if len(password) < 8:
            raise LiandongError.of(
                "CONSOLE_ACCOUNT_INVALID", detail="the password must have at least 8 characters"
            )
        secret = pyotp.random_base32() if totp else None
        digest = self._hasher.hash(password)  # slow on purpose: outside the lock
        with self._lock:
            try:
                self._db.execute(
                    "INSERT INTO accounts (username, unit, role, pw_hash, totp, created) VALUES (?, ?, ?, ?, ?, ?)",
                    (username, unit, role.value, digest, secret, _now().isoformat()),
                )
            except sqlite3.IntegrityError:
                raise LiandongError.of("CONSOLE_ACCOUNT_EXISTS", username=username) from None
        return secret

    def accounts(self) -> list[Account]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id, username, unit, role, totp IS NOT NULL, failures, locked FROM accounts ORDER BY id"
            ).fetchall()
        return [_account(r) for r in rows]

    def account(self, username: str) -> Account | None:
        with self._lock:
            row = self._db.execute(
                "SELECT id, username, unit, role, totp IS NOT NULL, failures, locked FROM accounts WHERE username=?",
                (username,),
            ).fetchone()
        return _account(row) if row else None

    def unlock(self, username: str) -> None:
        with self._lock:
            self._db.execute("UPDATE accounts SET failures=0, locked=0 WHERE username=?", (username,))

    # --- logging in -----------------------------------------------------------------------------

    def login(self, username: str, password: str, code: str | None = None) -> Session:
        """A new session for the right password (and TOTP code, when the account has one).

        Raises ``CONSOLE_LOGIN_FAILED`` (the same for an unknown name and a wrong password: the
        page must not tell which names exist), ``CONSOLE_ACCOUNT_LOCKED`` once ``MAX_FAILURES``
        wrong passwords came in a row — the right password then opens nothing until an
        administrator unlocks — and ``CONSOLE_TOTP_INVALID``."""
        with self._lock:
            row = self._db.execute(
                "SELECT id, pw_hash, totp, locked FROM accounts WHERE username=?", (username.strip(),)
            ).fetchone()
        if row is None:
            self._hasher.hash(password)  # about the same time as a known name: no timing oracle
            raise LiandongError.of("CONSOLE_LOGIN_FAILED")
        account_id, digest, secret, locked = row
        if locked:
            raise LiandongError.of("CONSOLE_ACCOUNT_LOCKED")
        try:
            self._hasher.verify(digest, password)
        except (VerificationError, InvalidHashError):
            with self._lock:
                self._db.execute(
                    "UPDATE accounts SET failures=failures+1, locked=(failures+1>=?) WHERE id=?",
                    (MAX_FAILURES, account_id),
                )
                (locked,) = self._db.execute(
                    "SELECT locked FROM accounts WHERE id=?", (account_id,)
                ).fetchone()
            raise LiandongError.of("CONSOLE_ACCOUNT_LOCKED" if locked else "CONSOLE_LOGIN_FAILED") from None
        if secret is not None and not pyotp.TOTP(secret).verify((code or "").strip(), valid_window=1):
            raise LiandongError.of("CONSOLE_TOTP_INVALID")
        session = secrets.token_urlsafe(32)
        with self._lock:
            self._db.execute("UPDATE accounts SET failures=0 WHERE id=?", (account_id,))
            self._db.execute(
                "INSERT INTO sessions VALUES (?, ?, ?, ?)",
                (session, account_id, secrets.token_urlsafe(32), (_now() + self.session_ttl).isoformat()),
            )
        found = self.session(session)
        assert found is not None
        return found

    def session(self, session_id: str | None) -> Session | None:
        """The live session of the cookie, pushed on by the idle time; None when unknown, expired,
        or its account is locked."""
        if not session_id:
            return None
        now = _now()
        with self._lock:
            row = self._db.execute(
                "SELECT s.csrf, s.expires, a.id, a.username, a.unit, a.role, a.totp IS NOT NULL, a.failures, a.locked "
                "FROM sessions s JOIN accounts a ON a.id = s.account WHERE s.id=?",
                (session_id,),
            ).fetchone()
            if row is None:
                return None
            if datetime.fromisoformat(row[1]) <= now or row[8]:
                self._db.execute("DELETE FROM sessions WHERE id=?", (session_id,))
                return None
            self._db.execute(
                "UPDATE sessions SET expires=? WHERE id=?", ((now + self.session_ttl).isoformat(), session_id)
            )
        return Session(session_id, row[0], _account(row[2:]))

    def logout(self, session_id: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM sessions WHERE id=?", (session_id,))

    def expire_sessions(self, username: str) -> int:
        """End every session of ``username`` now (an administrator's "sign out everywhere")."""
        with self._lock:
            cur = self._db.execute(
                "UPDATE sessions SET expires=? WHERE account=(SELECT id FROM accounts WHERE username=?)",
                (_now().isoformat(), username),
            )
        return cur.rowcount

    # --- the operator audit log (003 SPC–MPS 五(二)) ------------------------------------------

    def record(
        self,
        action: str,
        outcome: str = "ok",
        *,
        who: str | None = None,
        unit: str | None = None,
        client: str | None = None,
        target: str | None = None,
    ) -> None:
        """One line of the operator audit log: who, when, from where, what, with what outcome."""
        with self._lock:
            self._db.execute(
                "INSERT INTO audit (at, who, unit, client, action, target, outcome) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (_now().isoformat(timespec="seconds"), who, unit, client, action, target, outcome),
            )

    def audit(self, limit: int = 500) -> list[AuditEntry]:
        """The newest entries first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT at, who, unit, client, action, target, outcome FROM audit ORDER BY seq DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [AuditEntry(*r) for r in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _account(row: tuple) -> Account:
    return Account(row[0], row[1], row[2], Role(row[3]), bool(row[4]), row[5], bool(row[6]))
