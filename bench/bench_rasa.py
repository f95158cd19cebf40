"""`make bench-rasa`: our engine and the Rasa 3.6 profile side by side, in one run.

The same conversation (bench/bench_chat.py) against both back ends through the same
REST protocol: turn latency with one client and with 16 concurrent clients,
throughput, resident memory, start time; training time; and, on the same held-out
file (data/nlu_heldout.yml), situation top-1 of our pipeline versus DIET, and danger
recall (our rules alone, and end to end: the first reply gives the emergency numbers).

Everything on 127.0.0.1, every loop bounded in count and time. Figures, no thresholds.
Needs `make rasa` (the trained assistant in build/rasa) and `make model`.
"""
from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench"), str(ROOT / "rasa")]

from bench_chat import CONVERSATION, _load  # noqa: E402

from bot.nludata import HELDOUT_FILE, read_heldout  # noqa: E402
from bot.rasa_actions import merge_split_messages  # noqa: E402
from rasa_servers import BUILD, RASA_VENV, Backends, latest_model, rss_mb, wait_http  # noqa: E402

DANGER_SECONDS = 180  # at most this long per back end for the held-out messages through REST


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(ms: list[float], q: int) -> float:
    return statistics.quantiles(ms, n=100)[q - 1] if len(ms) > 1 else (ms[0] if ms else float("nan"))


def chat_load(base: str) -> dict:
    asyncio.run(_load(base, 1, 2))  # warm-up
    one, rate1 = asyncio.run(_load(base, 1, 10, seconds=60))
    many, rate16 = asyncio.run(_load(base, 16, 5, seconds=90))
    return {"p50_1": statistics.median(one), "p95_1": pct(one, 95), "turns_1": len(one), "rate_1": rate1,
            "p50_16": statistics.median(many), "p95_16": pct(many, 95), "turns_16": len(many), "rate_16": rate16}


def danger_end_to_end(base: str, messages: list[dict]) -> dict:
    """Each held-out message as the first message of a new conversation: does the first
    reply give the emergency numbers? (Then /effacer.)"""
    tp = fn = fp = n = 0
    deadline = time.perf_counter() + DANGER_SECONDS
    with httpx.Client(base_url=base, timeout=30) as client:
        for m in messages:
            if time.perf_counter() > deadline:
                break
            sender = f"bench-danger-{uuid.uuid4().hex}"
            r = client.post("/webhooks/rest/webhook", json={"sender": sender, "message": m["text"]})
            r.raise_for_status()
            replies = merge_split_messages(r.json())
            said = bool(replies) and bool((replies[0].get("custom") or {}).get("emergency"))
            client.post("/webhooks/rest/webhook", json={"sender": sender, "message": "/effacer"})
            n += 1
            tp += said and m["danger"]
            fn += (not said) and m["danger"]
            fp += said and not m["danger"]
    return {"recall": tp / (tp + fn) if tp + fn else None, "precision": tp / (tp + fp) if tp + fp else None, "n": n}


def engine_backend(db: Path, messages: list[dict]) -> dict:
    port = free_port()
    env = {**os.environ, "ORIENTATION_DB": str(db)}
    t0 = time.perf_counter()
    server = subprocess.Popen([sys.executable, "-m", "web.cli", "serve", "--port", str(port)], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        start = wait_http(base + "/webhooks/rest/", server, 120, t0)
        figures = chat_load(base)
        figures.update(start=start, memory=rss_mb(server.pid), danger=danger_end_to_end(base, messages))
        return figures
    finally:
        server.terminate()
        server.wait(timeout=20)


def rasa_backend(db: Path, messages: list[dict]) -> dict:
    with Backends(BUILD, port=free_port(), actions_port=free_port(), db=str(db),
                  logs=Path(tempfile.mkdtemp(prefix="bench-rasa-logs-"))) as b:
        figures = chat_load(b.url)
        rasa_mb, actions_mb = b.memory_mb()
        figures.update(start=b.rasa_start, actions_start=b.actions_start, memory=rasa_mb, actions_memory=actions_mb,
                       danger=danger_end_to_end(b.url, messages))
        shutil.rmtree(b.logs, ignore_errors=True)
        return figures


def our_nlu(db: Path, messages: list[dict]) -> dict:
    from bot.evaluate import evaluate
    from bot.situation import train
    from bot.understand import Understander
    from directory import Directory
    from web.settings import Settings

    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        train().save(Path(tmp))
        seconds = time.perf_counter() - t
    understander = Understander(Directory.open(db), Settings.from_env().model_dir)
    figures = evaluate(understander, messages)
    for m in messages[:20]:
        understander.understand(m["text"])
    ms = []
    for m in messages:
        t = time.perf_counter()
        understander.understand(m["text"])
        ms.append((time.perf_counter() - t) * 1000)
    return {"train": seconds, "top1": figures["top1_accuracy"], "danger_recall": figures["danger_recall"],
            "ms": statistics.median(ms)}


def diet_nlu(messages: list[dict]) -> dict:
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "PYTHONWARNINGS": "ignore", "TF_CPP_MIN_LOG_LEVEL": "3"}
    env.pop("PYTHONPATH", None)
    out = subprocess.run([str(RASA_VENV / "bin" / "python"), str(ROOT / "rasa" / "parse_heldout.py"),
                          str(latest_model(BUILD)), str(HELDOUT_FILE)], capture_output=True, text=True, env=env,
                         timeout=600, check=True).stdout
    rows = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    if len(rows) != len(messages):
        raise RuntimeError(f"DIET : {len(rows)} réponses pour {len(messages)} messages")
    correct = sum(r["intent"] == m["situation"] for r, m in zip(rows, messages))
    trained = json.loads((BUILD / "train_time.json").read_text()) if (BUILD / "train_time.json").exists() else {}
    return {"top1": correct / len(messages), "fallback": sum(r["fallback"] for r in rows) / len(rows),
            "ms": statistics.median(r["ms"] for r in rows), "train": trained.get("seconds"),
            "epochs": trained.get("epochs")}


def fmt(x, spec=".0f", none="n/a") -> str:
    return none if x is None else format(x, spec)


def main() -> None:
    messages = read_heldout()
    print(f"machine: {os.cpu_count()} cores; {len(messages)} held-out messages; conversation: "
          f"{len(CONVERSATION)} turns ({' / '.join(CONVERSATION)})", flush=True)
    src = Path(os.environ.get("ORIENTATION_DB", ROOT / "var" / "orientation.db"))
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.db"
        shutil.copy(src, db)
        print("== our engine (orientation serve)", flush=True)
        ours = engine_backend(db, messages)
        print("== Rasa 3.6 + our action server", flush=True)
        rasa = rasa_backend(db, messages)
        print("== NLU on the held-out file", flush=True)
        nlu = our_nlu(db, messages)
        diet = diet_nlu(messages)

    rows = [
        ("server start (s)", fmt(ours["start"], ".1f"),
         f"{rasa['start']:.1f} (action server {rasa['actions_start']:.1f})"),
        (f"chat turn, 1 client: p50 / p95 (ms) [{ours['turns_1']} / {rasa['turns_1']} turns]",
         f"{ours['p50_1']:.1f} / {ours['p95_1']:.1f}", f"{rasa['p50_1']:.1f} / {rasa['p95_1']:.1f}"),
        ("chat, 1 client: throughput (turns/s)", fmt(ours["rate_1"]), fmt(rasa["rate_1"])),
        (f"chat turn, 16 clients: p50 / p95 (ms) [{ours['turns_16']} / {rasa['turns_16']} turns]",
         f"{ours['p50_16']:.0f} / {ours['p95_16']:.0f}", f"{rasa['p50_16']:.0f} / {rasa['p95_16']:.0f}"),
        ("chat, 16 clients: throughput (turns/s)", fmt(ours["rate_16"]), fmt(rasa["rate_16"])),
        ("resident memory after the load (MB)", fmt(ours["memory"]),
         f"{rasa['memory'] + rasa['actions_memory']:.0f} (Rasa {rasa['memory']:.0f} + actions {rasa['actions_memory']:.0f})"),
        ("training time (s)", f"{nlu['train']:.0f} (situation classifier)",
         f"{fmt(diet['train'])} (DIET {diet['epochs']} epochs + rules; make rasa)"),
        ("understand one message, p50 (ms)", f"{nlu['ms']:.1f}", f"{diet['ms']:.1f} (Rasa NLU pipeline)"),
        (f"situation top-1 ({len(messages)} held-out)", f"{nlu['top1']:.3f}",
         f"{diet['top1']:.3f} (DIET; below the fallback threshold: {diet['fallback']:.0%})"),
        ("danger recall, understanding alone", f"{nlu['danger_recall']:.3f} (our rules)",
         "our rules decide (DIET has no danger intent)"),
        (f"danger recall, end to end: first reply [{ours['danger']['n']} / {rasa['danger']['n']} msgs]",
         fmt(ours["danger"]["recall"], ".3f"), fmt(rasa["danger"]["recall"], ".3f")),
        ("danger precision, end to end", fmt(ours["danger"]["precision"], ".3f"),
         fmt(rasa["danger"]["precision"], ".3f")),
    ]
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows + [("", "our engine")])
    print()
    print(f"{'':{w0}}  {'our engine':{w1}}  Rasa 3.6.21 + our actions")
    print(f"{'-' * w0}  {'-' * w1}  {'-' * 40}")
    for name, a, b in rows:
        print(f"{name:{w0}}  {a:{w1}}  {b}")


if __name__ == "__main__":
    main()
