"""Chat turns through the real server on loopback: latency with one client, throughput
with 16 concurrent clients, and the server's resident memory. Bounded in count and time."""
from __future__ import annotations

import asyncio
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from _util import rss_mb

ROOT = Path(__file__).resolve().parent.parent
CONVERSATION = ["bonjour", "mon mari me frappe depuis des mois", "oui", "Chauny", "à moi", "/effacer"]
# issue 14: the language detector, the English classifier and the catalogs at work
CONVERSATION_EN = ["hello, my husband hits me, I live in Laon", '/informer{"danger": false}', "/effacer"]
CONVERSATION_AR = ["مرحبا، زوجي يضربني كل يوم", '/informer{"situation": "violences_conjugales"}',
                   '/informer{"danger": false}', "Laon", '/informer{"role": "victime"}', "/effacer"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _client(base: str, sender: str, rounds: int, latencies: list, deadline: float,
                  conversation: list[str] = CONVERSATION) -> int:
    turns = 0
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        for _ in range(rounds):
            for message in conversation:
                if time.perf_counter() > deadline:
                    return turns
                t = time.perf_counter()
                r = await client.post("/webhooks/rest/webhook", json={"sender": sender, "message": message})
                r.raise_for_status()
                latencies.append((time.perf_counter() - t) * 1000)
                turns += 1
    return turns


async def _load(base: str, clients: int, rounds: int, seconds: float = 60, conversation=CONVERSATION):
    latencies: list[float] = []
    start = time.perf_counter()
    deadline = start + seconds
    counts = await asyncio.gather(*[_client(base, f"bench-{clients}-{i}", rounds, latencies, deadline, conversation)
                                    for i in range(clients)])
    elapsed = time.perf_counter() - start
    return latencies, sum(counts) / elapsed


def _pct(ms):
    q = statistics.quantiles(ms, n=100)
    return f"p50 {statistics.median(ms):.1f} ms  p95 {q[94]:.1f} ms"


def run(directory) -> None:
    port = _free_port()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.db"
        shutil.copy(directory.db.execute("PRAGMA database_list").fetchone()[2], db)
        # every bench client comes from 127.0.0.1: lift the per-address budget of new conversations
        env = {**os.environ, "ORIENTATION_DB": str(db), "ORIENTATION_NEW_CHATS_PER_CLIENT": "1000000"}
        t0 = time.perf_counter()
        server = subprocess.Popen([sys.executable, "-m", "web.cli", "serve", "--port", str(port)], cwd=ROOT, env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(600):
                try:
                    httpx.get(base + "/webhooks/rest/", timeout=1)
                    break
                except httpx.HTTPError:
                    time.sleep(0.05)
            print(f"server start: {time.perf_counter() - t0:.1f} s")
            asyncio.run(_load(base, 1, 3))  # warm-up
            lat, rate = asyncio.run(_load(base, 1, 20))
            print(f"chat turn, 1 client ({len(lat)} turns): {_pct(lat)}  ({rate:.0f} turns/s)")
            for name, conversation in (("English", CONVERSATION_EN), ("Arabic", CONVERSATION_AR)):
                asyncio.run(_load(base, 1, 2, conversation=conversation))  # warm-up
                lat, rate = asyncio.run(_load(base, 1, 20, conversation=conversation))
                print(f"chat turn, 1 client, {name} ({len(lat)} turns): {_pct(lat)}  ({rate:.0f} turns/s)")
            lat, rate = asyncio.run(_load(base, 16, 10))
            print(f"chat turns, 16 concurrent clients ({len(lat)} turns): {rate:.0f} turns/s, {_pct(lat)}")
            print(f"server resident memory: {rss_mb(server.pid):.0f} MB")
        finally:
            server.terminate()
            server.wait(timeout=10)
