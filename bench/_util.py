"""Small helpers for the benchmarks: medians and percentiles, resident memory."""
from __future__ import annotations

import statistics
import time
from pathlib import Path


def timings(fn, args_list, repeat: int = 1) -> list[float]:
    """Milliseconds per call of fn(*args) for each args in args_list."""
    out = []
    for _ in range(repeat):
        for args in args_list:
            t = time.perf_counter()
            fn(*args)
            out.append((time.perf_counter() - t) * 1000)
    return out


def summary(ms: list[float]) -> str:
    q = statistics.quantiles(ms, n=100)
    return f"p50 {statistics.median(ms):.3f} ms  p95 {q[94]:.3f} ms  (n={len(ms)})"


def rss_mb(pid: int | str = "self") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")
