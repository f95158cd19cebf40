"""kill -9 of the real server during staff edits and during a backup: the database
stays intact, every edit the server acknowledged is there, and a backup is either
complete and intact or absent, never truncated under its name."""
from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time

import httpx

from conftest import ROOT, serve
from directory import connect
from directory.staff import add_user, session_user

PASSWORD = "un mot de passe assez long"
TARGETS = ["utas-guise", "utas-laon", "reseau-thierache", "france-victimes-02"]


def _editor(base: str, db) -> tuple[httpx.Client, str]:
    c = httpx.Client(base_url=base, timeout=30)
    r = c.post("/admin/login", data={"username": "claire", "password": PASSWORD})
    assert r.status_code in (200, 303), r.text
    return c, session_user(db, c.cookies.get("session")).csrf


def test_kill_9_during_staff_edits_and_a_backup(db_path, model_dir, tmp_path):
    for attempt in range(1):  # one server start is most of this test's time; test_durability repeats
        db_file = tmp_path / f"k{attempt}.db"
        shutil.copy(db_path, db_file)
        db = connect(db_file)
        add_user(db, "claire", PASSWORD, "editeur")
        acknowledged: list[str] = []
        stop = threading.Event()
        with serve(db_file, model_dir, tmp_path / f"k{attempt}.log", ORIENTATION_INSECURE_COOKIES="1") as base:
            server = serve.process
            client, csrf = _editor(base, db)

            def edit_loop():
                i = 0
                while not stop.is_set():
                    sid = TARGETS[i % len(TARGETS)]
                    try:
                        r = client.post(f"/admin/services/{sid}/verify", data={"csrf": csrf}, follow_redirects=False)
                    except httpx.HTTPError:
                        return  # the server is gone: this one was never acknowledged
                    if r.status_code == 303:
                        acknowledged.append(sid)
                    i += 1

            writer = threading.Thread(target=edit_loop)
            writer.start()
            time.sleep(1.5 + random.random())
            backup_path = tmp_path / f"backup-{attempt}.db"
            backup = subprocess.Popen([sys.executable, "-m", "web.cli", "--db", str(db_file), "db", "backup",
                                       str(backup_path)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            time.sleep(random.random() * 0.3)
            os.kill(server.pid, signal.SIGKILL)  # during the edits, and (most likely) during the backup
            server.wait()
            stop.set()
            writer.join(30)
            backup.wait(60)
        assert len(acknowledged) >= 5, "the edits did not get going"
        check = connect(db_file)
        assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        verified = check.execute("SELECT COUNT(*) FROM verification WHERE username = 'claire'").fetchone()[0]
        audited = check.execute("SELECT COUNT(*) FROM audit_log WHERE username = 'claire' "
                                "AND action LIKE 'vérif%'").fetchone()[0]
        assert verified >= len(acknowledged) and audited >= len(acknowledged)
        # the backup finished (it does not need the server) and is whole
        assert backup.returncode == 0, backup.stdout.read()
        copy = connect(backup_path)
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert copy.execute("SELECT COUNT(*) FROM service").fetchone()[0] >= 50


def test_a_backup_killed_half_way_leaves_no_truncated_backup(db_path, tmp_path):
    for attempt in range(6):
        target = tmp_path / f"b{attempt}.db"
        proc = subprocess.Popen([sys.executable, "-m", "web.cli", "--db", str(db_path), "db", "backup", str(target)],
                                cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.3 + attempt * 0.15)
        proc.kill()
        proc.wait()
        if target.exists():  # complete: renamed only after the copy was synced
            assert connect(target).execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            assert connect(target).execute("SELECT COUNT(*) FROM commune").fetchone()[0] == 797
