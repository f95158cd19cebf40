"""Understanding and chat turns, one at a time, in a thread of their own, with a deadline.

spaCy, the classifier and the cue tables are not made for several threads at once,
so every call to them goes through `run`, one after the other. The event loop
waits for at most `seconds`: past that it answers without the result (the caller
gives the emergency answer) and the next calls get a fresh thread, leaving the
stuck one behind.
"""
from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor

__all__ = ["run", "TurnTimeout", "TURN_SECONDS"]

log = logging.getLogger("orientation.turns")
TURN_SECONDS = 5.0
_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="turn")


class TurnTimeout(Exception):
    """The call took longer than its deadline; it goes on, unheeded, in its old thread."""


async def run(func, *args, seconds: float | None = None):
    global _pool
    pool = _pool
    try:
        return await asyncio.wait_for(asyncio.get_running_loop().run_in_executor(pool, func, *args),
                                      TURN_SECONDS if seconds is None else seconds)
    except asyncio.TimeoutError:
        log.error("a turn took more than %s s: answered without it", TURN_SECONDS if seconds is None else seconds)
        if _pool is pool:  # stuck: later calls get a new thread
            _pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="turn")
            pool.shutdown(wait=False)
        raise TurnTimeout() from None
