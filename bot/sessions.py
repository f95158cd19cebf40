"""Conversations in memory only: keyed by the sender id, forgotten after a period of
inactivity, bounded in number (the oldest is forgotten first). Nothing is written
anywhere: a restart forgets everything, which is what the people using it need."""
from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Callable

__all__ = ["Session", "SessionStore"]


@dataclass
class Session:
    facts: dict = field(default_factory=dict)  # situation, commune, danger, distress, role, age_group, needs, profile
    skipped: set = field(default_factory=set)
    pending: str | None = None  # the fact the last question asked for
    choices: list = field(default_factory=list)  # commune candidates offered
    recommended: bool = False
    last_seen: float = 0.0


class SessionStore:
    def __init__(self, ttl: float = 1800, max_sessions: int = 10000, clock: Callable[[], float] = time.monotonic):
        self.ttl = ttl
        self.max_sessions = max_sessions
        self.clock = clock
        self._sessions: OrderedDict[str, Session] = OrderedDict()

    def __len__(self) -> int:
        return len(self._sessions)

    def __contains__(self, sender: str) -> bool:
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

    def get(self, sender: str) -> Session:
        """The sender's conversation (a new one if none, or if it expired)."""
        self._expire()
        session = self._sessions.pop(sender, None) or Session()
        session.last_seen = self.clock()
        self._sessions[sender] = session
        while len(self._sessions) > self.max_sessions:
            self._sessions.popitem(last=False)
        return session

    def forget(self, sender: str) -> None:
        self._sessions.pop(sender, None)
