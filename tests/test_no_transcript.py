"""The no-transcript promise: a unique marker sent through the chat (and the other
endpoints that take text) is found nowhere afterwards: not in the database file, its
-wal/-shm files, nor in anything the server printed (logs, errors). Also checks the
running server against the shared contract checker."""
from __future__ import annotations

import shutil
import subprocess
import sys
import uuid

import httpx
import pytest

from conftest import SHARED, serve


def test_marker_is_found_nowhere(db_path, model_dir, tmp_path):
    db = tmp_path / "orientation.db"
    shutil.copy(db_path, db)
    log_file = tmp_path / "server.log"
    marker = "zq" + uuid.uuid4().hex
    with serve(db, model_dir, log_file) as base:
        sender = "s-" + uuid.uuid4().hex
        for message in [f"mon mari me frappe {marker}", f"j'habite à {marker}", marker,
                        f"il est devant la porte il va me tuer {marker}", f"je veux mourir {marker}",
                        "x" * 2100 + marker, "/effacer"]:
            httpx.post(base + "/webhooks/rest/webhook", json={"sender": sender, "message": message}, timeout=10)
        httpx.post(base + "/api/understand", json={"text": f"on m'a volé mon vélo {marker}"}, timeout=10)
        httpx.post(base + "/api/understand", json={"text": marker * 300}, timeout=10)
        httpx.get(base + "/api/communes", params={"q": marker}, timeout=10)
        httpx.post(base + "/api/orientation", json={"commune": marker}, timeout=10)
    files = [p for p in tmp_path.iterdir() if p.name.startswith("orientation.db")] + [log_file]
    assert len(files) >= 2
    for path in files:
        assert marker.encode() not in path.read_bytes(), path.name
    output = log_file.read_text(errors="replace")
    assert "POST /webhooks/rest/webhook 200" in output  # the log does work, without the text
    assert "127.0.0.1" not in output.replace(base, "")  # no client IP address


def test_shared_contract_checker_passes(db_path, model_dir, tmp_path):
    checker = SHARED / "tools" / "check_contracts.py"
    if not checker.exists():
        pytest.skip(f"contract checker absent: {checker}")
    db = tmp_path / "orientation.db"
    shutil.copy(db_path, db)
    with serve(db, model_dir, tmp_path / "server.log") as base:
        result = subprocess.run([sys.executable, str(checker), base], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 problem(s), 0 endpoint(s) missing" in result.stdout
