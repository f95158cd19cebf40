"""Password hashing off the event loop, in a small bounded pool.

argon2id is slow on purpose (tens of milliseconds, 64 MiB): run on the event loop,
16 sign-ins at once stalled every request, the chat included. Here it runs in at
most `WORKERS` threads (argon2-cffi releases the GIL), the database work stays on
the event loop (one SQLite connection, one writer), and when `MAX_WAITING` hashes
are already queued the request is refused at once ("réessayez") instead of
piling up.
"""
from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

from directory.staff import add_user, hash_password, login_record, set_password, verify_login

__all__ = ["Busy", "off_loop", "authenticate_async", "add_user_async", "set_password_async", "WORKERS", "MAX_WAITING"]

WORKERS = 2
MAX_WAITING = 16
_pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="argon2")
_lock = threading.Lock()
_pending = 0


class Busy(Exception):
    """Too many password checks queued: the caller answers 503 with a French message."""

    message = "Le serveur vérifie déjà beaucoup de mots de passe : réessayez dans un instant."


async def off_loop(func, *args):
    global _pending
    with _lock:
        if _pending >= WORKERS + MAX_WAITING:
            raise Busy()
        _pending += 1
    try:
        return await asyncio.get_running_loop().run_in_executor(_pool, func, *args)
    finally:
        with _lock:
            _pending -= 1


async def authenticate_async(db, username: str, password: str):
    return await off_loop(verify_login, login_record(db, username), username, password)


async def add_user_async(db, username: str, password: str, role: str, by: str) -> int:
    hashed = await off_loop(hash_password, password, username)
    return add_user(db, username, None, role, by=by, password_hash=hashed)


async def set_password_async(db, username: str, password: str, by: str) -> None:
    hashed = await off_loop(hash_password, password, username)
    set_password(db, username, None, by=by, password_hash=hashed)
