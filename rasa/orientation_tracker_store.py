"""A tracker store for Rasa 3.6 that forgets (runs inside .venv-rasa, Python 3.10).

Rasa's in-memory tracker store keeps every conversation, every session of it, until the
server stops. The people who use this chat may be watched by the person who hurts them:
a conversation lives in memory for as long as it is going on, and no longer.

* after `/effacer` or `/restart` (a `Restarted` event), the conversation is dropped;
* only the current session is kept (Rasa's session expiry starts a new one);
* a conversation idle for `ttl` seconds is dropped, even if nobody writes again;
* at most `max_conversations` are kept: the least recently used goes first.

Nothing is written anywhere, and nothing of a conversation is logged.
endpoints.yml: `tracker_store: {type: orientation_tracker_store.ForgetfulTrackerStore,
ttl: 1800, max_conversations: 10000}`, with this folder on PYTHONPATH.
"""
from __future__ import annotations

import logging
import time
from collections import OrderedDict
from typing import Any, Iterable, Optional

from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.constants import ACTION_SESSION_START_NAME
from rasa.shared.core.events import ActionExecuted, Restarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

logger = logging.getLogger(__name__)


class ForgetfulTrackerStore(InMemoryTrackerStore):
    def __init__(self, domain, event_broker=None, ttl: float = 1800, max_conversations: int = 10000,
                 **kwargs: Any) -> None:
        kwargs.pop("host", None)  # Rasa passes the endpoint's url as host
        super().__init__(domain, event_broker, **kwargs)
        self.ttl = float(ttl)
        self.max_conversations = int(max_conversations)
        self._seen: "OrderedDict[str, float]" = OrderedDict()
        # A line the checks look for: the forgetting store is the one in use.
        logger.warning("ForgetfulTrackerStore: conversations oubliées après %d s d'inactivité, à /effacer et "
                       "/restart (au plus %d en mémoire)", int(self.ttl), self.max_conversations)

    # -- forgetting --------------------------------------------------------------------
    def _purge(self) -> None:
        now = time.monotonic()
        while self._seen:
            sender, seen = next(iter(self._seen.items()))
            if now - seen < self.ttl and len(self._seen) <= self.max_conversations:
                break
            self._seen.pop(sender)
            self.store.pop(sender, None)

    def _drop(self, sender_id: str) -> None:
        self._seen.pop(sender_id, None)
        self.store.pop(sender_id, None)

    @staticmethod
    def _current(tracker: DialogueStateTracker) -> Optional[list]:
        """The events worth keeping: after the last restart, from the last session start.
        None when nothing of a conversation is left (only a restart)."""
        events = list(tracker.events)
        start = 0
        for i, e in enumerate(events):
            if isinstance(e, Restarted):
                start = i + 1
        for i in range(len(events) - 1, start - 1, -1):
            e = events[i]
            if isinstance(e, ActionExecuted) and e.action_name == ACTION_SESSION_START_NAME:
                start = i
                break
        kept = events[start:]
        if start and not any(isinstance(e, UserUttered) for e in kept):
            return None
        return kept

    # -- the store -----------------------------------------------------------------------
    async def save(self, tracker: DialogueStateTracker) -> None:
        self._purge()
        kept = self._current(tracker)
        if kept is None:
            self._drop(tracker.sender_id)
            return
        if len(kept) != len(tracker.events):
            tracker = DialogueStateTracker.from_events(tracker.sender_id, kept, slots=self.domain.slots)
        await super().save(tracker)
        self._seen.pop(tracker.sender_id, None)
        self._seen[tracker.sender_id] = time.monotonic()
        self._purge()

    async def retrieve(self, sender_id: str) -> Optional[DialogueStateTracker]:
        self._purge()
        return await super().retrieve(sender_id)

    async def retrieve_full_tracker(self, sender_id: str) -> Optional[DialogueStateTracker]:
        self._purge()
        return await super().retrieve_full_tracker(sender_id)

    async def keys(self) -> Iterable[str]:
        self._purge()
        return list(self.store.keys())

    async def delete(self, sender_id: str) -> None:
        self._drop(sender_id)
