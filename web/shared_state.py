"""What every process of the server must share: the conversations and the rate
limits. In memory for one process (`make run`); in Redis with
`ORIENTATION_SESSIONS=redis://…`, so several workers (`orientation serve --workers N`)
see the same conversations and count the same failed sign-ins, and a restart loses
nothing. Staff sessions are rows of the SQLite directory, which every worker of the
host already shares.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import time

from bot.session_redis import Keyring, RedisLimiter, RedisSessionStore, connect
from bot.sessions import SessionStore

__all__ = ["SharedState", "build_shared_state"]


class SharedState:
    """The session store, a limiter factory and the secret that hashes client addresses."""

    def __init__(self, store, client_secret: bytes, redis=None):
        self.store, self.client_secret, self.redis = store, client_secret, redis

    def limiter(self, name: str, limit: int, window: float, clock=time.monotonic):
        from .staff import Limiter

        if self.redis is not None:
            return RedisLimiter(self.redis, name, limit, window)
        return Limiter(limit, window, clock)

    def client_key(self, address: str) -> str:
        """A keyed hash of a client address: rate limits never hold the address itself."""
        return hmac.new(self.client_secret, address.encode(), hashlib.sha256).hexdigest()[:24]


def build_shared_state(settings) -> SharedState:
    if settings.sessions in ("", "memory"):
        store = SessionStore(ttl=settings.session_ttl, max_sessions=settings.max_sessions)
        return SharedState(store, secrets.token_bytes(32))  # per process, never stored
    if not settings.sessions.startswith(("redis://", "rediss://", "unix://")):
        raise ValueError(f"ORIENTATION_SESSIONS : « {settings.sessions} » n'est ni memory ni une adresse redis://")
    keyring = Keyring.from_setting(settings.session_key)
    client = connect(settings.sessions)
    store = RedisSessionStore(client, keyring, ttl=settings.session_ttl, max_sessions=settings.max_sessions)
    # The same hash of an address in every worker, so that they count together.
    return SharedState(store, keyring.derive("clients"), client)
