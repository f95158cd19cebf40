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
from .errors import DirectoryError

__all__ = ["ROLES", "StaffUser", "StaffError", "add_user", "set_password", "disable_user", "list_users", "authenticate",
           "open_session", "session_user", "close_session", "role_at_least", "SESSION_SECONDS"]

ROLES = ("lecteur", "editeur", "admin")  # each role can do what the ones before it can
SESSION_SECONDS = 8 * 3600
MIN_PASSWORD = 12
_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters


class StaffError(DirectoryError):
    code = "staff_error"


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


def _check_password(password: str) -> None:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise StaffError(f"le mot de passe doit faire au moins {MIN_PASSWORD} caractères", field="password")


def add_user(db: sqlite_utils.Database, username: str, password: str, role: str) -> int:
    username = (username or "").strip()
    if not username or len(username) > 64:
        raise StaffError("identifiant vide ou trop long (64 caractères au plus)", field="username")
    if role not in ROLES:
        raise StaffError(f"rôle « {role} » inconnu (possibles : {', '.join(ROLES)})", field="role")
    _check_password(password)
    with write_transaction(db):
        if db.execute("SELECT 1 FROM staff_user WHERE username = ?", [username]).fetchone():
            raise StaffError(f"l'identifiant « {username} » existe déjà", field="username")
        cur = db.execute("INSERT INTO staff_user (username, password_hash, role, active, created_at) VALUES (?, ?, ?, 1, ?)",
                         [username, _hasher.hash(password), role, datetime.now(timezone.utc).isoformat(timespec="seconds")])
        return cur.lastrowid


def set_password(db: sqlite_utils.Database, username: str, password: str) -> None:
    _check_password(password)
    with write_transaction(db):
        cur = db.execute("UPDATE staff_user SET password_hash = ? WHERE username = ?", [_hasher.hash(password), username])
        if cur.rowcount == 0:
            raise StaffError(f"aucun compte « {username} »", field="username")
        # a new password ends every open session of the account
        db.execute("DELETE FROM staff_session WHERE user_id = (SELECT id FROM staff_user WHERE username = ?)", [username])


def disable_user(db: sqlite_utils.Database, username: str) -> None:
    with write_transaction(db):
        cur = db.execute("UPDATE staff_user SET active = 0 WHERE username = ?", [username])
        if cur.rowcount == 0:
            raise StaffError(f"aucun compte « {username} »", field="username")
        db.execute("DELETE FROM staff_session WHERE user_id = (SELECT id FROM staff_user WHERE username = ?)", [username])


def list_users(db: sqlite_utils.Database) -> list[dict]:
    """Every account (username, role, active, created_at), never its password hash."""
    return [dict(r) for r in db.query("SELECT username, role, active, created_at FROM staff_user ORDER BY username")]


def authenticate(db: sqlite_utils.Database, username: str, password: str) -> StaffUser | None:
    row = db.execute("SELECT id, password_hash, role, active FROM staff_user WHERE username = ?", [username]).fetchone()
    if row is None:
        _hasher.hash(password or "x")  # same work either way: no user enumeration by timing
        return None
    try:
        _hasher.verify(row[1], password or "")
    except (VerificationError, InvalidHashError):
        return None
    if not row[3]:
        return None
    return StaffUser(row[0], username, row[2])


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
