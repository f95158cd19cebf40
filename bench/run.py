"""`make bench`: prints figures (medians and p95); no pass/fail thresholds."""
from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from directory import Directory  # noqa: E402

import bench_directory  # noqa: E402
import bench_rules  # noqa: E402


def main() -> None:
    print(f"machine: {os.cpu_count()} cores; figures are medians and 95th percentiles")
    print("== directory")
    bench_directory.run()
    directory = Directory.open(os.environ.get("ORIENTATION_DB", "var/orientation.db"))
    print("== rules")
    bench_rules.run(directory)
    for name in ("bench_nlu", "bench_chat", "bench_scale"):
        try:
            module = __import__(name)
        except ModuleNotFoundError:
            continue
        print(f"== {name[6:]}")
        module.run(directory)


if __name__ == "__main__":
    main()
