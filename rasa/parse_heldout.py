"""DIET's intent for each held-out message (runs inside .venv-rasa): one JSON line per
message, {"intent", "confidence", "fallback", "ms"}, in the file's order. The texts are
read from the file and never printed. Used by bench/bench_rasa.py.

    .venv-rasa/bin/python rasa/parse_heldout.py build/rasa/models/orientation.tar.gz data/nlu_heldout.yml
"""
from __future__ import annotations

import asyncio
import json
import logging
import sys
import time

import yaml


async def main(model: str, heldout: str) -> None:
    logging.disable(logging.WARNING)
    from rasa.core.agent import Agent

    agent = Agent.load(model)
    messages = yaml.safe_load(open(heldout, encoding="utf-8"))["messages"]
    for m in messages[:20]:  # warm-up
        await agent.parse_message(m["text"])
    for m in messages:
        start = time.perf_counter()
        parsed = await agent.parse_message(m["text"])
        ms = (time.perf_counter() - start) * 1000
        ranking = [r for r in parsed.get("intent_ranking") or [] if r.get("name") != "nlu_fallback"]
        top = ranking[0] if ranking else parsed.get("intent") or {}
        print(json.dumps({"intent": top.get("name"), "confidence": top.get("confidence"),
                          "fallback": (parsed.get("intent") or {}).get("name") == "nlu_fallback", "ms": ms}),
              flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
