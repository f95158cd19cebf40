"""What every process of the server must share: the conversations, the rate limits
and the staff sessions. In memory for one process (`make run`); in Redis with
`ORIENTATION_SESSIONS=redis://…`, so several workers (`orientation serve --workers N`)
see the same conversations and count the same failed sign-ins, and a restart loses
nothing.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import time
import uuid

from bot.session_redis import Keyring, RedisSessionStore, connect
from bot.sessions import SessionStore

__all__ = ["SharedState", "RedisLimiter", "build_shared_state"]


class RedisLimiter:
    """The interface of `web.staff.Limiter` (at most `limit` events per key within
    `window` seconds), as a sliding window in a Redis sorted set per key."""

    def __init__(self, client, name: str, limit: int, window: float, prefix: str = "orientation:"):
        self.client, self.limit, self.window = client, limit, window
        self.prefix = f"{prefix}limit:{name}:"

    def _count(self, key: str, now: float) -> tuple[int, float | None]:
        pipe = self.client.pipeline(transaction=True)
        pipe.zremrangebyscore(self.prefix + key, "-inf", now - self.window)
        pipe.zrange(self.prefix + key, 0, 0, withscores=True)
        pipe.zcard(self.prefix + key)
        _, oldest, count = pipe.execute()
        return int(count), (oldest[0][1] if oldest else None)

    def retry_after(self, key: str) -> int:
        now = time.time()
        count, oldest = self._count(key, now)
        if count < self.limit or oldest is None:
            return 0
        return max(1, int(oldest + self.window - now) + 1)

    def hit(self, key: str) -> None:
        now = time.time()
        pipe = self.client.pipeline(transaction=True)
        pipe.zadd(self.prefix + key, {uuid.uuid4().hex: now})
        pipe.expire(self.prefix + key, int(self.window) + 1)
        pipe.execute()

    def clear(self, key: str) -> None:
        self.client.delete(self.prefix + key)


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
