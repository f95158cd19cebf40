"""The no-transcript promise: a unique marker sent through the chat (and the other
endpoints that take text) is found nowhere afterwards: not in the database file, its
-wal/-shm files, nor in anything the server printed (logs, errors)."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_marker_is_found_nowhere(db_path, model_dir, tmp_path):
    db = tmp_path / "orientation.db"
    shutil.copy(db_path, db)
    port = free_port()
    env = {**os.environ, "ORIENTATION_DB": str(db), "ORIENTATION_MODEL": str(model_dir)}
    log_file = tmp_path / "server.log"
    with log_file.open("wb") as log:
        server = subprocess.Popen([sys.executable, "-m", "web.cli", "serve", "--port", str(port)], env=env,
                                  stdout=log, stderr=subprocess.STDOUT, cwd=Path(__file__).resolve().parent.parent)
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(300):
                try:
                    httpx.get(base + "/webhooks/rest/", timeout=1)
                    break
                except httpx.HTTPError:
                    time.sleep(0.1)
            marker = "zq" + uuid.uuid4().hex
            sender = "s-" + uuid.uuid4().hex
            for message in [f"mon mari me frappe {marker}", f"j'habite à {marker}", marker,
                            f"il est devant la porte il va me tuer {marker}", f"je veux mourir {marker}",
                            "x" * 2100 + marker, "/effacer"]:
                httpx.post(base + "/webhooks/rest/webhook", json={"sender": sender, "message": message}, timeout=10)
            httpx.post(base + "/api/understand", json={"text": f"on m'a volé mon vélo {marker}"}, timeout=10)
            httpx.post(base + "/api/understand", json={"text": marker * 300}, timeout=10)
            httpx.get(base + "/api/communes", params={"q": marker}, timeout=10)
            httpx.post(base + "/api/orientation", json={"commune": marker}, timeout=10)
        finally:
            server.terminate()
            server.wait(timeout=10)
    files = [p for p in tmp_path.iterdir() if p.name.startswith("orientation.db")] + [log_file]
    assert len(files) >= 2
    for path in files:
        assert marker.encode() not in path.read_bytes(), path.name
    output = log_file.read_text(errors="replace")
    assert "POST /webhooks/rest/webhook 200" in output  # the log does work, without the text
    assert "127.0.0.1" not in output.replace(f"http://127.0.0.1:{port}", "")  # no client IP address
