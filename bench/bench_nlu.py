"""Time to understand one message (held-out messages), and resident memory of a process
with the whole pipeline loaded."""
from __future__ import annotations

import os

from bot.nludata import read_heldout
from bot.understand import Understander

from _util import rss_mb, summary, timings


def run(directory) -> None:
    before = rss_mb()
    understander = Understander(directory, os.environ.get("ORIENTATION_MODEL", "var/nlu-model"))
    messages = [(m["text"],) for m in read_heldout()]
    timings(understander.understand, messages[:50])  # warm-up
    print("understand one message (319 held-out messages x3): "
          + summary(timings(understander.understand, messages, repeat=3)))
    print(f"resident memory with the pipeline loaded: {rss_mb():.0f} MB (before loading it: {before:.0f} MB)")
