"""Conversations in Redis (a real redis-server): encrypted, expiring, shared by several
workers, kept across restarts and rolling restarts; a failing Redis gives the
emergency answer. Skips with the reason where redis-server cannot run."""
from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import threading
import time
import uuid

import httpx
import pytest

from bot.session_redis import Keyring, RedisSessionStore, SessionKeyError, connect
from bot.sessions import Session, SessionsFull
from conftest import free_port, serve

KEY = secrets.token_urlsafe(32)
COUPLE = ["mon mari me frappe", "oui", "Chauny", "à moi"]
EXPECTED = {"violences-femmes-info-3919", "reseau-laon-chauny-la-fere"}
EMERGENCY = {"police-secours-17", "numero-urgence-europeen-112", "urgence-sms-114"}


def ids(replies) -> set:
    return {c["id"] for r in replies for c in r.get("custom", {}).get("contacts", [])}


@pytest.fixture
def redis_client(redis_url):
    client = connect(redis_url)
    client.flushdb()
    return client


def store(client, **kw) -> RedisSessionStore:
    return RedisSessionStore(client, Keyring.from_setting(KEY), **{"ttl": 1800, "max_sessions": 100, **kw})


def test_session_round_trips_through_a_dict():
    s = Session(facts={"situation": "violences_conjugales", "commune": "02173", "danger": False,
                       "needs": ["plainte"], "out_of_area": False}, skipped={"age_group", "role"},
                pending="role", choices=["02173", "02408"], recommended=True)
    again = Session.from_dict(s.to_dict())
    assert (again.facts, again.skipped, again.pending, again.choices, again.recommended) == (
        s.facts, s.skipped, s.pending, s.choices, s.recommended)
    import json

    assert json.loads(json.dumps(s.to_dict())) == s.to_dict()


def test_nothing_readable_in_redis_and_the_idle_timeout_is_the_ttl(redis_client):
    st = store(redis_client, ttl=600)
    sender = "sender-" + uuid.uuid4().hex
    s = st.get(sender)
    s.facts.update(situation="violences_conjugales", commune="02173")
    st.save(sender, s)
    assert st.get(sender).facts == {"situation": "violences_conjugales", "commune": "02173"}
    dump = b""
    for key in redis_client.scan_iter():
        dump += key + b"=" + (redis_client.get(key) if redis_client.type(key) == b"string" else b"")
        if redis_client.type(key) == b"string":
            assert 590 <= redis_client.ttl(key) <= 600
    for secret in (sender.encode(), b"violences", b"02173", b"situation"):
        assert secret not in dump
    # another key cannot read it: the conversation starts over
    other = RedisSessionStore(redis_client, Keyring.from_setting(secrets.token_urlsafe(32)), ttl=600)
    assert other.get(sender).facts == {}
    st.forget(sender)
    assert sender not in st and st.get(sender).facts == {}


def test_a_full_store_refuses_new_senders_and_keeps_the_live_ones(redis_client):
    st = store(redis_client, max_sessions=3)
    for i in range(3):
        st.save(f"p{i}", st.get(f"p{i}"))
    assert not st.admits("newcomer")
    with pytest.raises(SessionsFull):
        st.get("newcomer")
    assert all(f"p{i}" in st for i in range(3)) and len(st) == 3


def test_the_key_is_required_and_checked():
    for bad in ("", "trop-court", "!" * 43):
        with pytest.raises(SessionKeyError):
            Keyring.from_setting(bad)


def _talk(base: str, sender: str, messages) -> list:
    replies = []
    for m in messages:  # a new connection each time: any worker may answer
        r = httpx.post(base + "/webhooks/rest/webhook", json={"sender": sender, "message": m}, timeout=30)
        assert r.status_code == 200, r.text
        replies += r.json()
    return replies


def _env(redis_url, **more):
    return {"ORIENTATION_SESSIONS": redis_url, "ORIENTATION_SESSION_KEY": KEY,
            "ORIENTATION_NEW_CHATS_PER_CLIENT": "100000", **more}


@pytest.fixture(scope="module")
def two_workers(db_path, model_dir, tmp_path_factory, redis_url):
    """One `orientation serve --workers 2` over Redis for the tests below (each worker
    loads the model: starting servers is the slow part, so they share this one)."""
    from directory import connect as db_connect
    from directory.staff import add_user

    connect(redis_url).flushdb()
    tmp = tmp_path_factory.mktemp("workers")
    db = tmp / "orientation.db"
    shutil.copy(db_path, db)
    add_user(db_connect(db), "claire", "un mot de passe assez long", "editeur")
    log = tmp / "server.log"
    with serve(db, model_dir, log, ("--workers", "2"), **_env(redis_url)) as base:
        yield {"base": base, "db": db, "log": log, "process": serve.process, "tmp": tmp}


def test_two_workers_share_conversations_and_a_restart_loses_none(two_workers, model_dir, redis_url):
    senders = [f"w-{i}-{uuid.uuid4().hex}" for i in range(6)]
    for s in senders:
        _talk(two_workers["base"], s, COUPLE[:2])  # half of each conversation, on either worker
    assert two_workers["log"].read_text().count("Started server process") == 2  # two workers served
    # another server, started afresh on the same Redis: the second half goes on where it was
    with serve(two_workers["db"], model_dir, two_workers["tmp"] / "again.log", **_env(redis_url)) as base:
        for s in senders:
            assert EXPECTED <= ids(_talk(base, s, COUPLE[2:])), s


def test_every_turn_is_kept_not_only_the_first(two_workers):
    """What the second message says (the situation) is still known at the fourth: each turn
    is saved, also when the page's language is read after the reply."""
    replies = _talk(two_workers["base"], f"t-{uuid.uuid4().hex}",
                    ["bonjour", "mon mari me frappe depuis des mois", "oui", "Chauny"])
    plans = [r for r in replies if (r.get("custom") or {}).get("plan")]
    assert plans and EXPECTED <= {c["id"] for c in plans[-1]["custom"]["contacts"]}


def test_failed_sign_ins_are_counted_across_workers(two_workers):
    codes = [httpx.post(two_workers["base"] + "/admin/login", data={"username": "claire", "password": "essai"},
                        timeout=30).status_code for _ in range(7)]  # new connections: either worker
    assert codes[:5] == [401] * 5 and codes[5:] == [429, 429]


def test_a_failing_redis_gives_the_emergency_answer(db_path, model_dir, tmp_path):
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server absent: Redis tests skipped")
    port = free_port()
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", str(tmp_path)], stdout=subprocess.DEVNULL)
    db = tmp_path / "orientation.db"
    shutil.copy(db_path, db)
    try:
        time.sleep(0.3)
        with serve(db, model_dir, tmp_path / "f.log", **_env(f"redis://127.0.0.1:{port}/0")) as base:
            assert _talk(base, "before", ["bonjour"])
            proc.kill()
            proc.wait()
            replies = _talk(base, "after", ["mon mari me frappe"])
            assert EMERGENCY <= ids(replies) and replies[0]["custom"].get("emergency") is True
    finally:
        if proc.poll() is None:
            proc.kill()
    log = (tmp_path / "f.log").read_text()
    assert "chat turn failed (ConnectionError)" in log and "mari" not in log


def test_rolling_restart_under_load_loses_no_request_and_no_conversation(two_workers):
    """8 clients talk without pause while `kill -HUP` replaces both workers one by one.
    A client retries a request once only when its keep-alive connection was closed or
    reset before any answer (what browsers do: a stopping worker closes only idle
    connections, so the request was never read)."""
    base, log = two_workers["base"], two_workers["log"]
    results = {"conversations": 0, "lost": 0, "errors": 0, "retries": 0}
    lock = threading.Lock()
    stop = threading.Event()

    def client_loop():
        with httpx.Client(base_url=base, timeout=30) as http:
            while not stop.is_set():
                sender, replies = uuid.uuid4().hex, []
                for m in COUPLE:
                    for attempt in (1, 2):
                        try:
                            r = http.post("/webhooks/rest/webhook", json={"sender": sender, "message": m})
                            break
                        except (httpx.RemoteProtocolError, httpx.ReadError):
                            if attempt == 2:
                                raise
                            with lock:
                                results["retries"] += 1
                    if r.status_code != 200:
                        with lock:
                            results["errors"] += 1
                        break
                    replies += r.json()
                with lock:
                    results["conversations"] += 1
                    results["lost"] += not EXPECTED <= ids(replies[-6:])

    started = log.read_text().count("Started server process")
    threads = [threading.Thread(target=client_loop) for _ in range(8)]
    for t in threads:
        t.start()
    time.sleep(2)
    os.kill(two_workers["process"].pid, signal.SIGHUP)
    deadline = time.monotonic() + 120
    while log.read_text().count("Started server process") < started + 2 and time.monotonic() < deadline:
        time.sleep(0.5)
    time.sleep(3)  # and some more load on the new workers
    stop.set()
    for t in threads:
        t.join(60)
    assert log.read_text().count("Started server process") >= started + 2  # both workers were replaced
    assert results["conversations"] > 20 and results["errors"] == 0 and results["lost"] == 0, results


def test_several_workers_need_redis(orientation_cli, db_path):
    r = orientation_cli("--db", db_path, "serve", "--workers", "2")
    assert r.exit_code == 1 and "ORIENTATION_SESSIONS=redis://" in r.output
