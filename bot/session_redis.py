"""Conversations in Redis, so that several processes share them and a restart loses none.

Selected by `ORIENTATION_SESSIONS=redis://host:port/db`. Nothing in Redis is
readable without `ORIENTATION_SESSION_KEY`:
- the key of a conversation is an HMAC of the sender id (the id itself is not stored);
- its value is `Session.to_dict()` (the facts the dialogue keeps, never a message)
  encrypted with AES-256-GCM (cryptography), the Redis key as associated data, so a
  value copied under another key does not decrypt;
- it expires after the idle timeout (Redis TTL, renewed at every turn).

Like the in-memory store, it never drops a live conversation to make room: a sorted
set indexes the live ones by last use, and a new sender is refused (SessionsFull)
when `max_sessions` are younger than the idle timeout. Several processes may each
admit one more at the same instant: the bound can be passed by the number of
processes, never by a flood.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import os
import time
import uuid

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .sessions import Session, SessionsFull

__all__ = ["RedisSessionStore", "RedisLimiter", "Keyring", "SessionKeyError", "connect"]

log = logging.getLogger("orientation.sessions")
VERSION = b"\x01"


class SessionKeyError(ValueError):
    """ORIENTATION_SESSION_KEY is missing or malformed (French message)."""


class Keyring:
    """Sub-keys derived from the one secret of the settings (HMAC-SHA256, one label each)."""

    def __init__(self, secret: bytes):
        self.secret = secret

    @classmethod
    def from_setting(cls, text: str) -> "Keyring":
        if not text:
            raise SessionKeyError("ORIENTATION_SESSION_KEY est obligatoire avec ORIENTATION_SESSIONS=redis://… ; "
                            "créez-en une avec : python3 -c \"import secrets; print(secrets.token_urlsafe(32))\"")
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        except (binascii.Error, ValueError):
            raw = b""
        if len(raw) != 32:
            raise SessionKeyError("ORIENTATION_SESSION_KEY doit faire 32 octets encodés en base64 urlsafe "
                            "(python3 -c \"import secrets; print(secrets.token_urlsafe(32))\")")
        return cls(raw)

    def derive(self, label: str) -> bytes:
        return hmac.new(self.secret, label.encode(), hashlib.sha256).digest()


def connect(url: str):
    """A Redis client with short timeouts: a stalled Redis must not stall the chat."""
    import redis

    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2, health_check_interval=30)


class RedisSessionStore:
    def __init__(self, client, keyring: Keyring, ttl: float = 1800, max_sessions: int = 10000,
                 prefix: str = "orientation:"):
        self.client, self.ttl, self.max_sessions = client, int(ttl), max_sessions
        self._aead = AESGCM(keyring.derive("sessions/aes-gcm"))
        self._name_key = keyring.derive("sessions/names")
        self.prefix = prefix
        self.index = prefix + "live"
        self._open: dict[str, Session] = {}  # handed out by get() and not saved yet (this turn)

    # -- keys and values ---------------------------------------------------------------------
    def _id(self, sender: str) -> str:
        return hmac.new(self._name_key, sender.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()[:40]

    def _key(self, ident: str) -> str:
        return self.prefix + "s:" + ident

    def _seal(self, key: str, session: Session) -> bytes:
        nonce = os.urandom(12)
        plain = json.dumps(session.to_dict(), ensure_ascii=False, separators=(",", ":")).encode()
        return VERSION + nonce + self._aead.encrypt(nonce, plain, key.encode())

    def _open_value(self, key: str, blob: bytes) -> Session | None:
        if not blob.startswith(VERSION) or len(blob) < 1 + 12 + 16:
            return None
        try:
            plain = self._aead.decrypt(blob[1:13], blob[13:], key.encode())
            return Session.from_dict(json.loads(plain))
        except (InvalidTag, ValueError, TypeError):
            # Another key, or a damaged value: a fresh conversation (nothing logged about it).
            log.warning("a stored conversation could not be decrypted: starting it over")
            return None

    # -- the store protocol -----------------------------------------------------------------
    def _prune(self, now: float) -> None:
        self.client.zremrangebyscore(self.index, "-inf", now - self.ttl)

    def __len__(self) -> int:
        self._prune(time.time())
        return int(self.client.zcard(self.index))

    def __contains__(self, sender: str) -> bool:
        return bool(self.client.exists(self._key(self._id(sender))))

    def admits(self, sender: str) -> bool:
        if sender in self:
            return True
        self._prune(time.time())
        return int(self.client.zcard(self.index)) < self.max_sessions

    def get(self, sender: str) -> Session:
        opened = self._open.get(sender)
        if opened is not None:  # the same turn asks again (the page's language after the reply): the same object
            return opened
        ident = self._id(sender)
        key = self._key(ident)
        blob = self.client.get(key)
        session = self._open_value(key, blob) if blob else None
        if session is None:
            if not self.admits(sender):
                raise SessionsFull()
            session = Session()
        session.last_seen = time.time()
        self._open[sender] = session
        return session

    def save(self, sender: str, session: Session) -> None:
        ident = self._id(sender)
        key = self._key(ident)
        now = time.time()
        pipe = self.client.pipeline(transaction=True)
        pipe.set(key, self._seal(key, session), ex=self.ttl)
        pipe.zadd(self.index, {ident: now})
        pipe.execute()
        self._open.pop(sender, None)

    def end_turn(self, sender: str) -> None:
        """Save what this turn got from `get` and did not save (a dialogue that returned early)."""
        session = self._open.pop(sender, None)
        if session is not None:
            self.save(sender, session)

    def forget(self, sender: str) -> None:
        ident = self._id(sender)
        pipe = self.client.pipeline(transaction=True)
        pipe.delete(self._key(ident))
        pipe.zrem(self.index, ident)
        pipe.execute()
        self._open.pop(sender, None)


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
