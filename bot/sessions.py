"""Conversations in memory: keyed by the sender id, forgotten after a period of
inactivity, bounded in number. Nothing is written anywhere: a restart forgets
everything, which is what the people using it need (`bot/session_redis.py` keeps
them, encrypted, in Redis when several processes serve the chat).

A store never forgets a conversation younger than its idle timeout to make room for
a new one: a flood of new senders would otherwise wipe a person's conversation in
the middle of it. When it is full, `get` refuses the new sender (`SessionsFull`) and
the chat answers "service saturé" with the emergency numbers.

The protocol every store follows: `get(sender) -> Session`, `save(sender, session)`
after every turn, `forget(sender)`, `sender in store`, `admits(sender)`, `len(store)`.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Callable

__all__ = ["Session", "SessionStore", "SessionsFull"]


class SessionsFull(Exception):
    """No room for a new conversation: every stored one is younger than its idle timeout."""


@dataclass
class Session:
    facts: dict = field(default_factory=dict)  # situation, commune, danger, distress, role, age_group, needs, profile
    # where each fact came from: "button", "answer" (to the question asked), "text" (said freely), "inference"
    sources: dict = field(default_factory=dict)
    skipped: set = field(default_factory=set)
    pending: str | None = None  # the fact the last question asked for
    choices: list = field(default_factory=list)  # commune candidates offered
    recommended: bool = False
    repeats: int = 0  # how many times in a row the pending question went unanswered
    evidence: dict = field(default_factory=dict)  # situation code -> score, while none is decided
    last_seen: float = 0.0

    def to_dict(self) -> dict:
        """JSON-safe: only the facts the dialogue keeps, never message text."""
        return {"facts": dict(self.facts), "sources": dict(self.sources), "skipped": sorted(self.skipped),
                "pending": self.pending,
                "choices": list(self.choices), "recommended": self.recommended, "repeats": self.repeats,
                "evidence": dict(self.evidence)}

    @classmethod
    def from_dict(cls, d: dict) -> "Session":
        return cls(facts=dict(d.get("facts") or {}), sources=dict(d.get("sources") or {}),
                   skipped=set(d.get("skipped") or ()), pending=d.get("pending"),
                   choices=list(d.get("choices") or ()), recommended=bool(d.get("recommended")),
                   repeats=int(d.get("repeats") or 0), evidence=dict(d.get("evidence") or {}))


class SessionStore:
    def __init__(self, ttl: float = 1800, max_sessions: int = 10000, clock: Callable[[], float] = time.monotonic):
        self.ttl = ttl
        self.max_sessions = max_sessions
        self.clock = clock
        self._sessions: OrderedDict[str, Session] = OrderedDict()
        self._lock = threading.RLock()  # chat turns run in a few threads (web.api_chat)

    def __len__(self) -> int:
        with self._lock:
            self._expire()
            return len(self._sessions)

    def __contains__(self, sender: str) -> bool:
        with self._lock:
            self._expire()
            return sender in self._sessions

    def _expire(self) -> None:
        now = self.clock()
        # ordered by last use: the stale ones are at the front
        while self._sessions:
            sender, session = next(iter(self._sessions.items()))
            if now - session.last_seen < self.ttl:
                break
            del self._sessions[sender]

    def admits(self, sender: str) -> bool:
        """Whether `get(sender)` will succeed: a known sender, or room for a new one."""
        with self._lock:
            self._expire()
            return sender in self._sessions or len(self._sessions) < self.max_sessions

    def get(self, sender: str) -> Session:
        """The sender's conversation (a new one if none, or if it expired).
        Raises SessionsFull rather than forget someone else's live conversation."""
        with self._lock:
            if not self.admits(sender):
                raise SessionsFull()
            session = self._sessions.pop(sender, None) or Session()
            session.last_seen = self.clock()
            self._sessions[sender] = session
            return session

    def save(self, sender: str, session: Session) -> None:
        """Nothing to do: the dialogue changed the very object this store holds."""

    def end_turn(self, sender: str) -> None:
        """Nothing to do here (the Redis store saves what the turn left unsaved)."""

    def forget(self, sender: str) -> None:
        with self._lock:
            self._sessions.pop(sender, None)
