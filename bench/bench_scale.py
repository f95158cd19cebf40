"""Scaling past one process, with conversations in Redis (a redis-server of its own):
chat throughput at 16 clients with 1 then 2 workers, measured by wrk (C, so the cores
stay with the server) driving real conversations (bench/chat.lua); a rolling restart
(kill -HUP) during a load run; and the long load test (50 conversations plus
searches for 60 s, bench/load.py). Bounded in count and time, loopback only."""
from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from load import run_load

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
CLIENTS, SECONDS, ROUNDS = 16, 15, 3


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _flush(port: int) -> None:
    """Forget every conversation kept in the bench's Redis."""
    import redis

    client = redis.Redis(host="127.0.0.1", port=port)
    try:
        client.flushdb()
    finally:
        client.close()


def _start(db: Path, workers: int, env: dict, log: Path):
    port = _free_port()
    out = log.open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "web.cli", "serve", "--port", str(port), "--workers", str(workers)],
                            cwd=ROOT, env={**env, "ORIENTATION_DB": str(db)}, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 300
    while log.read_text(errors="replace").count("Application startup complete") < workers:
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(log.read_text(errors="replace")[-2000:])
        time.sleep(0.2)
    base = f"http://127.0.0.1:{port}"
    httpx.get(base + "/webhooks/rest/", timeout=10)
    return proc, base


def _stop(proc) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()


def _wrk(base: str, seconds: int) -> tuple[float, str, str, int]:
    out = subprocess.run(["wrk", f"-t{CLIENTS}", f"-c{CLIENTS}", f"-d{seconds}s", "--latency", "-s",
                          str(HERE / "chat.lua"), base], capture_output=True, text=True, timeout=seconds + 60).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1])
    p50 = re.search(r"50%\s+(\S+)", out)[1]
    p99 = re.search(r"99%\s+(\S+)", out)[1]
    bad = int(re.search(r"non-200 answers: (\d+)", out)[1])
    errors = re.search(r"Socket errors: (.*)", out)
    return rate, p50, p99, bad + (sum(int(x) for x in re.findall(r"\d+", errors[1])) if errors else 0)


def run(directory) -> None:
    if not shutil.which("wrk") or not shutil.which("redis-server"):
        print("skipped: wrk and redis-server are needed (apt-get install wrk redis-server)")
        return
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        redis_port = _free_port()
        redis = subprocess.Popen(["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
                                  "--appendonly", "no", "--dir", str(tmp)], stdout=subprocess.DEVNULL)
        db = tmp / "bench.db"
        shutil.copy(directory.db.execute("PRAGMA database_list").fetchone()[2], db)
        env = {**os.environ, "ORIENTATION_SESSIONS": f"redis://127.0.0.1:{redis_port}/0",
               "ORIENTATION_SESSION_KEY": secrets.token_urlsafe(32),
               # every bench client comes from 127.0.0.1: lift the per-address budget of new conversations
               "ORIENTATION_NEW_CHATS_PER_CLIENT": "100000000"}
        try:
            memory = {**env, "ORIENTATION_SESSIONS": "memory"}
            proc, base = _start(db, 1, memory, tmp / "memory.log")
            try:
                _wrk(base, 3)  # warm-up
                runs = [_wrk(base, SECONDS) for _ in range(ROUNDS)]
            finally:
                _stop(proc)
            print(f"chat, {CLIENTS} clients, 1 worker, in memory (reference): "
                  f"{' / '.join(f'{r[0]:.0f}' for r in runs)} turns/s (median {statistics.median(r[0] for r in runs):.0f}); "
                  f"p50 {runs[-1][1]}, p99 {runs[-1][2]}; {sum(r[3] for r in runs)} errors")
            rates = {}
            for workers in (1, 2):
                proc, base = _start(db, workers, env, tmp / f"w{workers}.log")
                try:
                    _wrk(base, 3)  # warm-up
                    runs = [_wrk(base, SECONDS) for _ in range(ROUNDS)]
                finally:
                    _stop(proc)
                rates[workers] = statistics.median(r[0] for r in runs)
                print(f"chat, {CLIENTS} clients, {workers} worker(s), Redis: "
                      f"{' / '.join(f'{r[0]:.0f}' for r in runs)} turns/s (median {rates[workers]:.0f}); "
                      f"p50 {runs[-1][1]}, p99 {runs[-1][2]}; {sum(r[3] for r in runs)} errors")
            print(f"2 workers / 1 worker: {rates[2] / rates[1]:.2f}x (wrk, {ROUNDS} runs of {SECONDS} s each)")

            # each phase starts with no conversation kept: the thousands the wrk runs left (30 min
            # of life each) would reach ORIENTATION_MAX_SESSIONS, and new ones would be refused
            # (« service saturé », counted as lost) - a capacity limit, not what is measured here
            proc, base = _start(db, 2, env, tmp / "rolling.log")
            try:
                _flush(redis_port)
                timer = threading.Timer(3, lambda: os.kill(proc.pid, signal.SIGHUP))
                timer.start()
                result = run_load(base, talkers=16, searchers=2, seconds=60)
                replaced = (tmp / "rolling.log").read_text(errors="replace").count("Started server process") - 2
                print(f"rolling restart (kill -HUP, {replaced} workers replaced) during load: {result.line()}")
                _flush(redis_port)
                result = run_load(base, talkers=50, searchers=5, seconds=60)
                print(f"load, 50 conversations + 5 searchers for 60 s, 2 workers: {result.line()}")
            finally:
                _stop(proc)
        finally:
            redis.terminate()
            redis.wait(timeout=10)
