"""Staff accounts, roles and server-side sessions.

Passwords are hashed with argon2id (argon2-cffi). Sessions are random tokens; only
their SHA-256 is stored, so a copy of the database does not give a live session.
Logging out deletes the row: the session is revoked at once.
"""
from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timezone

import sqlite_utils
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from .db import write_transaction
from .audit import record as _audit
from .passwords import StaffError, check_password, check_username, normalize_password

__all__ = ["ROLES", "StaffUser", "StaffError", "add_user", "set_password", "disable_user", "list_users", "authenticate",
           "open_session", "session_user", "close_session", "role_at_least", "SESSION_SECONDS", "hash_password",
           "login_record", "verify_login", "ACCOUNT_ENTRY"]

ROLES = ("lecteur", "editeur", "admin")  # each role can do what the ones before it can
SESSION_SECONDS = 8 * 3600
MIN_PASSWORD = 12
ACCOUNT_ENTRY = "compte:"  # audit rows of account changes: entry "compte:<username>"
_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters


@dataclass(frozen=True)
class StaffUser:
    id: int
    username: str
    role: str
    csrf: str | None = None

    def can(self, role: str) -> bool:
        return role_at_least(self.role, role)


def role_at_least(role: str, needed: str) -> bool:
    return ROLES.index(role) >= ROLES.index(needed)


def hash_password(password: str, username: str = "") -> str:
    """Check the password against the policy (directory.passwords), then hash it.
    The slow part of an account change: the web runs it off the event loop."""
    return _hasher.hash(check_password(password, username))


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def add_user(db: sqlite_utils.Database, username: str, password: str | None, role: str, *, by: str = "cli",
             password_hash: str | None = None) -> int:
    """Create an account, audited under `by` (who did it). `password_hash` from
    `hash_password` when the caller hashed already (off the event loop)."""
    username = check_username(username)
    if role not in ROLES:
        raise StaffError(f"rôle « {role} » inconnu (possibles : {', '.join(ROLES)})", field="role")
    hashed = password_hash or hash_password(password, username)
    with write_transaction(db):
        if db.execute("SELECT 1 FROM staff_user WHERE username = ?", [username]).fetchone():
            raise StaffError(f"l'identifiant « {username} » existe déjà", field="username")
        cur = db.execute("INSERT INTO staff_user (username, password_hash, role, active, created_at) VALUES (?, ?, ?, 1, ?)",
                         [username, hashed, role, _now()])
        _audit(db, by, ACCOUNT_ENTRY + username, "compte créé", "role", None, role)
        return cur.lastrowid


def set_password(db: sqlite_utils.Database, username: str, password: str | None, *, by: str = "cli",
                 password_hash: str | None = None) -> None:
    """A new password (ends every open session of the account), audited under `by`;
    the audit row says that it changed, never anything of the password."""
    hashed = password_hash or hash_password(password, username)
    with write_transaction(db):
        cur = db.execute("UPDATE staff_user SET password_hash = ? WHERE username = ?", [hashed, username])
        if cur.rowcount == 0:
            raise StaffError(f"aucun compte « {username} »", field="username")
        db.execute("DELETE FROM staff_session WHERE user_id = (SELECT id FROM staff_user WHERE username = ?)", [username])
        _audit(db, by, ACCOUNT_ENTRY + username, "mot de passe changé", "password", None, "(nouveau)")


def disable_user(db: sqlite_utils.Database, username: str, *, by: str = "cli") -> None:
    with write_transaction(db):
        cur = db.execute("UPDATE staff_user SET active = 0 WHERE username = ?", [username])
        if cur.rowcount == 0:
            raise StaffError(f"aucun compte « {username} »", field="username")
        db.execute("DELETE FROM staff_session WHERE user_id = (SELECT id FROM staff_user WHERE username = ?)", [username])
        _audit(db, by, ACCOUNT_ENTRY + username, "compte désactivé", "active", True, False)


def list_users(db: sqlite_utils.Database) -> list[dict]:
    """Every account (username, role, active, created_at), never its password hash."""
    return [dict(r) for r in db.query("SELECT username, role, active, created_at FROM staff_user ORDER BY username")]


def login_record(db: sqlite_utils.Database, username: str):
    """(id, password_hash, role, active) of an account, or None: the quick, database part of a login."""
    return db.execute("SELECT id, password_hash, role, active FROM staff_user WHERE username = ?", [username]).fetchone()


def verify_login(row, username: str, password: str) -> StaffUser | None:
    """The slow part of a login (argon2id), without the database: safe in a worker thread."""
    password = password or ""
    if row is None:
        _hasher.hash(password or "x")  # same work either way: no user enumeration by timing
        return None
    # The typed password normalised, and as typed for accounts created before normalisation.
    if not any(_verifies(row[1], p) for p in dict.fromkeys((normalize_password(password), password))):
        return None
    if not row[3]:
        return None
    return StaffUser(row[0], username, row[2])


def _verifies(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


def authenticate(db: sqlite_utils.Database, username: str, password: str) -> StaffUser | None:
    return verify_login(login_record(db, username), username, password)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(db: sqlite_utils.Database, user: StaffUser, now: float | None = None) -> str:
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    now = time.time() if now is None else now
    with write_transaction(db):
        db.execute("DELETE FROM staff_session WHERE expires_at < ?", [now])
        db.execute("INSERT INTO staff_session (token_hash, user_id, csrf, expires_at) VALUES (?, ?, ?, ?)",
                   [_digest(token), user.id, csrf, now + SESSION_SECONDS])
    return token


def session_user(db: sqlite_utils.Database, token: str | None, now: float | None = None) -> StaffUser | None:
    if not token:
        return None
    now = time.time() if now is None else now
    row = db.execute(
        "SELECT u.id, u.username, u.role, s.csrf FROM staff_session s JOIN staff_user u ON u.id = s.user_id "
        "WHERE s.token_hash = ? AND s.expires_at > ? AND u.active = 1", [_digest(token), now]).fetchone()
    return StaffUser(row[0], row[1], row[2], row[3]) if row else None


def close_session(db: sqlite_utils.Database, token: str | None) -> None:
    if token:
        with write_transaction(db):
            db.execute("DELETE FROM staff_session WHERE token_hash = ?", [_digest(token)])
