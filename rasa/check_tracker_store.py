"""Check, inside .venv-rasa, that the tracker store of the Rasa profile forgets:
after /effacer (Restarted), after inactivity, beyond the maximum count, and keeps only
the current session. Exit 1 on the first failure.

    PYTHONPATH=rasa .venv-rasa/bin/python rasa/check_tracker_store.py
"""
from __future__ import annotations

import asyncio
import sys
import time

from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, Restarted, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from orientation_tracker_store import ForgetfulTrackerStore

DOMAIN = Domain.from_yaml("version: '3.1'\nintents: [saluer]\n")


def conversation(sender: str, *extra) -> DialogueStateTracker:
    events = [ActionExecuted(ACTION_SESSION_START_NAME), SessionStarted(), ActionExecuted(ACTION_LISTEN_NAME),
              UserUttered("MARQUEUR-UN", {"name": "saluer"}), BotUttered("bonjour"), ActionExecuted(ACTION_LISTEN_NAME),
              *extra]
    return DialogueStateTracker.from_events(sender, events)


async def main() -> list[str]:
    failures = []
    store = ForgetfulTrackerStore(DOMAIN, ttl=0.5, max_conversations=3)
    await store.save(conversation("a"))
    if await store.retrieve("a") is None:
        failures.append("une conversation en cours doit être gardée")
    await store.save(conversation("a", UserUttered("/effacer", {"name": "effacer"}), Restarted(),
                                  ActionExecuted(ACTION_LISTEN_NAME)))
    if "a" in await store.keys() or await store.retrieve("a") is not None:
        failures.append("après /effacer (Restarted), la conversation doit être oubliée")
    second = [ActionExecuted(ACTION_SESSION_START_NAME), SessionStarted(), ActionExecuted(ACTION_LISTEN_NAME),
              UserUttered("deuxième session", {"name": "saluer"})]
    await store.save(conversation("b", *second))
    full = await store.retrieve_full_tracker("b")
    texts = [e.text for e in full.events if isinstance(e, UserUttered)] if full else []
    if "MARQUEUR-UN" in texts or "deuxième session" not in texts:
        failures.append(f"seule la session en cours doit être gardée (messages gardés : {len(texts)})")
    for sender in ("c", "d", "e", "f"):
        await store.save(conversation(sender))
    if len(list(await store.keys())) > 3:
        failures.append("au plus max_conversations conversations doivent être gardées")
    time.sleep(0.6)
    if list(await store.keys()):
        failures.append("une conversation inactive plus de ttl secondes doit être oubliée")
    return failures


if __name__ == "__main__":
    problems = asyncio.run(main())
    for p in problems:
        print(f"ÉCHEC tracker store : {p}")
    if problems:
        sys.exit(1)
    print("ok     tracker store : oublie après /effacer, après inactivité, au-delà du maximum ; garde la session en cours")
