"""A bounded load on a server of ours on loopback: concurrent realistic conversations
(each checked: it must end with the contacts its messages call for, so a lost
conversation is seen) plus referral and directory searches. Used by `make bench`
(50 conversations for 60 s) and by tests/test_load.py (a short version).

A request is retried once only when its keep-alive connection was closed or reset
before any answer (`httpx.RemoteProtocolError`, `httpx.ReadError`): a worker that
stops gracefully closes only idle connections, so the server never read that
request; browsers retry in that case too. Retries are counted and reported.
"""
from __future__ import annotations

import asyncio
import random
import statistics
import time
import uuid
from dataclasses import dataclass, field

import httpx

__all__ = ["CONVERSATIONS", "SEARCHES", "LoadResult", "run_load"]

# (messages, contact ids the conversation's answers must hold: a conversation lost on
# the way, started over at its last message, would not get them)
CONVERSATIONS = [
    (["bonjour", "mon mari me frappe depuis des mois", "oui", "Chauny", "à moi"],
     {"violences-femmes-info-3919", "reseau-laon-chauny-la-fere"}),
    (["on m'a cambriolé hier soir", "Soissons"], {"france-victimes-116006", "operation-tranquillite-vacances"}),
    (["le voisin frappe ses enfants tous les soirs", "oui", "/informer{\"role\": \"proche\"}", "Laon"],
     {"allo-enfance-en-danger-119", "utas-laon"}),
    (["au collège ils se moquent de moi tous les jours sur snap", "oui", "Vervins"], {"harcelement-3018"}),
    (["il est devant la porte il va me tuer"], {"police-secours-17", "numero-urgence-europeen-112"}),
]
SEARCHES = [
    ("/api/services", {"commune": "02173", "situation": "violences_conjugales"}),
    ("/api/communes", {"q": "chaunie"}),
    ("/pro", {"commune": "Hirson", "situation": "harcelement"}),
    ("/api/services", {"q": "aide aux victimes"}),
    ("/hsds/services", {"per_page": "20"}),
]


@dataclass
class LoadResult:
    seconds: float = 0.0
    requests: int = 0
    errors: dict = field(default_factory=dict)  # what went wrong -> how many
    retries: int = 0
    conversations: int = 0
    lost: int = 0  # conversations whose end did not hold the expected contacts
    searches: int = 0
    latencies: list = field(default_factory=list)

    def line(self) -> str:
        q = statistics.quantiles(self.latencies, n=100) if len(self.latencies) > 1 else [0] * 99
        errors = sum(self.errors.values())
        return (f"{self.requests} requests in {self.seconds:.0f} s ({self.requests / max(self.seconds, 1e-9):.0f}/s), "
                f"{errors} errors{' ' + str(self.errors) if errors else ''}, {self.retries} retried, "
                f"{self.conversations} conversations ({self.lost} lost), {self.searches} searches; "
                f"p50 {statistics.median(self.latencies or [0]):.0f} ms, p95 {q[94]:.0f} ms")


async def _request(client, result: LoadResult, method: str, url: str, **kw):
    for attempt in (1, 2):
        t = time.perf_counter()
        try:
            r = await client.request(method, url, **kw)
        except (httpx.RemoteProtocolError, httpx.ReadError):
            if attempt == 2:
                raise
            result.retries += 1
            continue
        result.latencies.append((time.perf_counter() - t) * 1000)
        result.requests += 1
        return r


async def _talker(base: str, result: LoadResult, deadline: float, rng: random.Random) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        while time.monotonic() < deadline:
            messages, expected = rng.choice(CONVERSATIONS)
            # a fresh id every time (not from the seed): a second run on the same server with the
            # same seed would otherwise continue the first run's conversations, kept in Redis
            sender, replies = f"load-{uuid.uuid4().hex}", []
            try:
                for m in messages:
                    r = await _request(client, result, "POST", "/webhooks/rest/webhook",
                                       json={"sender": sender, "message": m})
                    if r.status_code != 200:
                        result.errors[f"chat {r.status_code}"] = result.errors.get(f"chat {r.status_code}", 0) + 1
                        break
                    replies += r.json()
                else:
                    got = {c["id"] for msg in replies for c in msg.get("custom", {}).get("contacts", [])}
                    result.conversations += 1
                    result.lost += not expected <= got
            except httpx.HTTPError as exc:
                result.errors[type(exc).__name__] = result.errors.get(type(exc).__name__, 0) + 1


async def _searcher(base: str, result: LoadResult, deadline: float, rng: random.Random) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        while time.monotonic() < deadline:
            path, params = rng.choice(SEARCHES)
            try:
                r = await _request(client, result, "GET", path, params=params)
                if r.status_code != 200:
                    result.errors[f"{path} {r.status_code}"] = result.errors.get(f"{path} {r.status_code}", 0) + 1
                result.searches += 1
            except httpx.HTTPError as exc:
                result.errors[type(exc).__name__] = result.errors.get(type(exc).__name__, 0) + 1


async def _run(base: str, talkers: int, searchers: int, seconds: float, seed: int) -> LoadResult:
    result, rng = LoadResult(), random.Random(seed)
    start = time.monotonic()
    deadline = start + seconds
    await asyncio.gather(*[_talker(base, result, deadline, random.Random(rng.random())) for _ in range(talkers)],
                         *[_searcher(base, result, deadline, random.Random(rng.random())) for _ in range(searchers)])
    result.seconds = time.monotonic() - start
    return result


def run_load(base: str, talkers: int = 50, searchers: int = 5, seconds: float = 60, seed: int = 13) -> LoadResult:
    """Bounded in time: every client stops starting conversations at the deadline."""
    return asyncio.run(_run(base, talkers, searchers, seconds, seed))
