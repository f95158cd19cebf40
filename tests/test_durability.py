"""kill -9 during a stream of writes: the database stays intact and no acknowledged
write is lost (WAL + synchronous=FULL + BEGIN IMMEDIATE)."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time

from directory import connect

WRITER = r"""
import sys
from directory import Directory
from directory.editing import verify_service
d = Directory.open(sys.argv[1])
i = 0
while True:
    verify_service(d, "utas-guise", f"writer-{i}")
    print(i, flush=True)  # acknowledged: committed before this line is printed
    i += 1
"""


def test_kill_9_loses_no_acknowledged_write(db_path, tmp_path):
    for attempt in range(4):
        path = tmp_path / f"k{attempt}.db"
        shutil.copy(db_path, path)
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True,
                                cwd=os.path.dirname(os.path.dirname(__file__)))
        acknowledged = -1
        deadline = time.monotonic() + 30
        while acknowledged < 20 + attempt * 15 and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            acknowledged = int(line)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert acknowledged >= 20, "the writer did not get going"
        db = connect(path)
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        written = {r[0] for r in db.execute("SELECT username FROM verification")}
        assert {f"writer-{i}" for i in range(acknowledged + 1)} <= written
