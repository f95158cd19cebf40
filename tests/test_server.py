"""The real server (`orientation serve`) against slow and greedy clients, on loopback:
half-sent requests are closed, connections are capped, a huge body never sits in
memory, and a forged log line cannot be written."""
from __future__ import annotations

import shutil
import socket
import time
from urllib.parse import urlsplit

import httpx
import pytest

from conftest import serve


@pytest.fixture(scope="module")
def server(db_path, model_dir, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("server")
    db = tmp / "orientation.db"
    shutil.copy(db_path, db)
    log = tmp / "server.log"
    with serve(db, model_dir, log, ORIENTATION_HEADER_TIMEOUT="1", ORIENTATION_MAX_CONNECTIONS="20",
               ORIENTATION_BODY_TIMEOUT="2") as base:
        yield base, log


def _connect(base: str) -> socket.socket:
    u = urlsplit(base)
    s = socket.create_connection((u.hostname, u.port), timeout=5)
    return s


def _closed_within(s: socket.socket, seconds: float) -> bool:
    s.settimeout(seconds)
    try:
        return s.recv(1024) == b""
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


def test_half_sent_headers_are_closed(server):
    base, _ = server
    s = _connect(base)
    s.sendall(b"GET /webhooks/rest/ HTTP/1.1\r\nHost: x\r\n")  # never finished
    assert _closed_within(s, 5)
    # and a slow keep-alive client: a first request answered, the second one never finished
    s = _connect(base)
    s.sendall(b"GET /webhooks/rest/ HTTP/1.1\r\nHost: x\r\n\r\n")
    time.sleep(0.3)
    assert b"200 OK" in s.recv(4096)
    s.sendall(b"GET /webhooks/rest/ HTTP/1.1\r\n")
    assert _closed_within(s, 8)


def test_a_body_that_trickles_in_is_refused(server):
    base, _ = server
    s = _connect(base)
    s.sendall(b"POST /api/understand HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"Content-Length: 100\r\n\r\n{\"text\"")
    s.settimeout(6)
    answer = s.recv(4096)
    assert b" 408 " in answer.split(b"\r\n")[0]


def test_connections_are_capped(server):
    base, _ = server
    held = [_connect(base) for _ in range(30)]
    try:
        time.sleep(0.5)
        closed = sum(_closed_within(s, 0.2) for s in held)
        assert closed >= 10  # the ones over the cap of 20 are closed at once
    finally:
        for s in held:
            s.close()
    time.sleep(1.5)  # the held ones time out; the server serves again
    assert httpx.get(base + "/webhooks/rest/", timeout=5).status_code == 200


def _rss_kb(pid: int) -> int:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _server_pid(base: str) -> int:
    port = urlsplit(base).port
    import subprocess

    out = subprocess.run(["ss", "-ltnpH", f"sport = :{port}"], capture_output=True, text=True).stdout
    return int(out.split("pid=")[1].split(",")[0])


def test_a_huge_chunked_body_is_refused_while_read(server):
    base, _ = server
    try:
        pid = _server_pid(base)
    except (IndexError, ValueError, FileNotFoundError):
        pytest.skip("ss (iproute2) absent: cannot find the server's memory")
    before = _rss_kb(pid)

    def chunks():
        for _ in range(200):  # 200 MiB, never sent in full
            yield b"a" * (1024 * 1024)

    for path in ("/webhooks/rest/webhook", "/api/understand", "/admin/login"):
        try:
            r = httpx.post(base + path, content=chunks(), headers={"content-type": "application/json"}, timeout=30)
            assert r.status_code == 413, path
        except (httpx.WriteError, httpx.RemoteProtocolError, httpx.ReadError):
            pass  # the server answered 413 and closed while we were still sending: refused all the same
    assert _rss_kb(pid) - before < 50 * 1024  # far from 200 MiB
    assert httpx.get(base + "/webhooks/rest/", timeout=5).status_code == 200


def test_a_newline_in_the_path_cannot_forge_a_log_line(server):
    base, log = server
    httpx.get(base + "/x%0A2026-01-01 INFO orientation.access GET /forged 200", timeout=5)
    time.sleep(0.2)
    text = log.read_text(errors="replace")
    assert "\\x0a2026-01-01" in text
    assert not any(line.startswith("2026-01-01 INFO orientation.access GET /forged") for line in text.splitlines())
