"""The findings of the security review, in-process: each test failed before its fix.

Bodies are capped while read, bad characters and deep JSON get a French 422,
account changes and loads are audited, CSV cells cannot run as formulas, hashing
leaves the event loop free, a flood of new senders cannot wipe a conversation,
passwords and usernames follow the policy, sign-in failures slow an address (never
an account), proxy headers count only from configured proxies, logs cannot be
forged, and the Host header drives no redirect.
"""
from __future__ import annotations

import csv
import json
import logging
import threading

import pytest
from fastapi.testclient import TestClient

from directory import DATA_DIR, backup, connect
from directory.csvio import export_csv, import_csv
from directory.editing import audit_of
from directory.staff import StaffError, add_user, authenticate, disable_user, set_password

PASSWORD = "un mot de passe assez long"
SECURITY_HEADERS = ("content-security-policy", "x-content-type-options", "referrer-policy", "cache-control")


@pytest.fixture(scope="module")
def hard_app(db_path, model_dir, tmp_path_factory):
    """An app over a writable copy of the database, small limits, one admin account."""
    from web.app import create_app
    from web.settings import Settings

    path = tmp_path_factory.mktemp("hard") / "orientation.db"
    backup(connect(db_path), path)
    app = create_app(Settings.from_env(db=path, model_dir=model_dir, max_sessions=5, new_chats_per_client=3))
    add_user(app.state.directory.db, "admin", PASSWORD, "admin")
    return app


@pytest.fixture
def hc(hard_app):
    with TestClient(hard_app, base_url="https://testserver", raise_server_exceptions=False) as c:
        yield c


def chat(c, sender, message, **kw):
    return c.post("/webhooks/rest/webhook", json={"sender": sender, "message": message}, **kw)


# -- request bodies ----------------------------------------------------------------------------
def test_declared_body_over_the_limit_is_refused_before_reading(hc):
    r = hc.post("/api/understand", content=b"x", headers={"content-length": str(10**9),
                                                         "content-type": "application/json"})
    assert r.status_code == 413 and r.json()["detail"] == "Requête trop volumineuse."


def test_chunked_body_is_cut_while_it_is_read(hc):
    sent = []

    def chunks():
        for _ in range(400):  # 400 × 4 KiB = 1.6 MiB, far over the 64 KiB limit
            sent.append(1)
            yield b" " * 4096

    for path in ("/api/understand", "/webhooks/rest/webhook", "/admin/login", "/api/orientation"):
        r = hc.post(path, content=chunks(), headers={"content-type": "application/json"})
        assert r.status_code == 413, path
        assert all(h in r.headers for h in SECURITY_HEADERS)


def test_multipart_uploads_are_refused_on_public_forms(hc):
    files = {"file": ("x.bin", b"0" * 1000, "application/octet-stream")}
    for path in ("/admin/login", "/pro/signalement", "/api/signalements"):
        r = hc.post(path, files=files, data={"username": "a", "password": "b"})
        assert r.status_code == 415 and "fichiers" in r.json()["detail"], path


# -- bad inputs ---------------------------------------------------------------------------------
@pytest.mark.parametrize("method,path,kwargs,field", [
    ("GET", "/api/services", {"params": {"page": 2**70}}, "page"),
    ("GET", "/hsds/services", {"params": {"page": 2**64}}, "page"),
    ("GET", "/api/services", {"params": {"q": "viol\x00ences"}}, "q"),
    ("GET", "/api/communes", {"params": {"q": "\x00"}}, "q"),
    ("POST", "/webhooks/rest/webhook", {"content": b'{"sender": "a\\ud800", "message": "bonjour"}'}, "sender"),
    ("POST", "/api/understand", {"content": b'{"text": "\\udfff"}'}, "text"),
    ("POST", "/api/orientation", {"content": b'{"commune": "Laon\\u0000"}'}, "commune"),
    ("POST", "/api/orientation", {"content": b"[" * 1000 + b"]" * 1000}, None),
    ("POST", "/webhooks/rest/webhook", {"content": b'{"a":' * 1000 + b"1" + b"}" * 1000}, None),
])
def test_bad_input_gets_a_french_422_not_a_500(hc, method, path, kwargs, field):
    headers = {"content-type": "application/json"} if "content" in kwargs else {}
    r = hc.request(method, path, headers=headers, **kwargs)
    assert r.status_code == 422, r.text
    body = r.json()
    assert body.get("field") == field and body["detail"].endswith(".")
    assert any(w in body["detail"] for w in ("Champ", "corps"))
    assert all(h in r.headers for h in SECURITY_HEADERS)


def test_head_is_answered_like_get_without_body(hc):
    for path in ("/", "/pro", "/api/communes?q=Laon"):
        r = hc.head(path)
        assert r.status_code == 200 and r.content == b"", path


def test_host_header_drives_no_redirect(hc):
    r = hc.get("/api/services/", headers={"host": "evil.example"}, follow_redirects=False)
    assert r.status_code == 404 and "evil" not in r.headers.get("location", "")


def test_a_500_is_french_json_with_the_security_headers(hard_app, hc, monkeypatch, caplog):
    def broken(*a, **k):
        raise RuntimeError("zqsecret")

    monkeypatch.setattr(hard_app.state.directory, "resolve_commune", broken)
    with caplog.at_level(logging.INFO):
        r = hc.get("/api/communes", params={"q": "Laon"})
    assert r.status_code == 500
    assert r.json()["detail"].startswith("Erreur interne") and "17" in r.json()["detail"]
    assert all(h in r.headers for h in SECURITY_HEADERS)
    assert "GET /api/communes 500" in caplog.text  # logged with its status, not 0


# -- audit of account changes and of loads ----------------------------------------------------
def test_every_account_change_is_audited(fresh_db):
    db = fresh_db
    add_user(db, "claire", PASSWORD, "editeur", by="admin")
    set_password(db, "claire", "une toute autre phrase secrète", by="admin")
    disable_user(db, "claire", by="admin")
    rows = [dict(r) for r in db.query("SELECT * FROM audit_log ORDER BY id")]
    assert [(r["username"], r["entry"], r["action"]) for r in rows] == [
        ("admin", "compte:claire", "compte créé"), ("admin", "compte:claire", "mot de passe changé"),
        ("admin", "compte:claire", "compte désactivé")]
    assert "argon2" not in json.dumps(rows) and "phrase" not in json.dumps(rows)


def test_account_changes_from_the_admin_pages_name_the_admin(hard_app, hc):
    r = hc.post("/admin/login", data={"username": "admin", "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 303
    from directory.staff import session_user

    csrf = session_user(hard_app.state.directory.db, hc.cookies.get("__Host-session")).csrf
    hc.post("/admin/users", data={"csrf": csrf, "username": "dora", "role": "editeur", "password": PASSWORD,
                                  "password_again": PASSWORD})
    hc.post("/admin/users/password", data={"csrf": csrf, "username": "dora", "password": "encore une autre phrase"})
    hc.post("/admin/users/disable", data={"csrf": csrf, "username": "dora"})
    log = [(r["username"], r["action"]) for r in audit_of(hard_app.state.directory, "compte:dora")]
    assert log == [("admin", "compte créé"), ("admin", "mot de passe changé"), ("admin", "compte désactivé")]


def test_db_load_is_audited_from_the_command_line(orientation_cli, tmp_path):
    path = tmp_path / "o.db"
    r = orientation_cli("--db", path, "db", "load", "--user", "claire")
    assert r.exit_code == 0, r.output
    rows = [dict(x) for x in connect(path).query("SELECT * FROM audit_log")]
    assert [(x["username"], x["entry"], x["action"]) for x in rows] == [
        ("db-load:claire", "annuaire", "chargement des données")]


# -- CSV formula injection --------------------------------------------------------------------------
def test_csv_export_cells_cannot_run_as_formulas_and_import_restores_them(db_path, tmp_path):
    from directory import Directory
    from directory.editing import save_service, service_entry

    path = tmp_path / "o.db"
    backup(connect(db_path), path)
    directory = Directory.open(path)
    s = directory.service("reseau-laon-chauny-la-fere")
    entry = {**service_entry(s), "name": "=HYPERLINK(\"http://evil\",\"x\")", "organization": "+1+2",
             "access": "@SUM(A1)", "description": "-2+3 et '=déjà cité"}
    save_service(directory, entry, version=s.version, username="t")
    out = tmp_path / "services.csv"
    export_csv(directory, out)
    with out.open(encoding="utf-8") as fh:
        row = next(r for r in csv.DictReader(fh) if r["id"] == s.id)
    for column in ("name", "organization", "access", "description"):
        assert row[column][0] == "'", column  # shown as text by spreadsheets
    cells = [c for line in csv.reader(out.open(encoding="utf-8")) for c in line]
    assert not any(c[:1] in ("=", "+", "-", "@") for c in cells)
    import_csv(directory.db, out, DATA_DIR, username="t")
    directory.invalidate()
    again = directory.service(s.id)
    assert (again.name, again.organization, again.access, again.description) == (
        entry["name"], entry["organization"], entry["access"], entry["description"])


# -- hashing off the event loop ------------------------------------------------------------------
def test_password_hashing_does_not_block_other_requests(hard_app, hc, monkeypatch):
    import directory.staff as staff

    entered, release = threading.Event(), threading.Event()

    class SlowHasher:
        def verify(self, *_):
            entered.set()
            release.wait(20)
            return False

        def hash(self, *_):
            return self.verify()

    monkeypatch.setattr(staff, "_hasher", SlowHasher())
    login = threading.Thread(target=lambda: hc.post("/admin/login", data={"username": "admin", "password": "x" * 12}))
    login.start()
    try:
        assert entered.wait(10)
        answered = []
        other = threading.Thread(target=lambda: answered.append(hc.get("/webhooks/rest/").status_code))
        other.start()
        other.join(10)  # before the fix, this waited for the hash, i.e. for `release`
        assert answered == [200]
    finally:
        release.set()
        login.join(20)


def test_hashing_queue_is_bounded():
    import asyncio

    from web import hashing

    gate = threading.Event()

    async def flood():
        tasks = [asyncio.ensure_future(hashing.off_loop(gate.wait, 20))
                 for _ in range(hashing.WORKERS + hashing.MAX_WAITING)]
        await asyncio.sleep(0.05)
        with pytest.raises(hashing.Busy):
            await hashing.off_loop(gate.wait, 20)
        gate.set()
        await asyncio.gather(*tasks)

    asyncio.run(flood())


# -- conversations cannot be wiped by a flood ------------------------------------------------------
def test_a_flood_of_senders_never_evicts_a_live_conversation(hard_app, db_path, model_dir, tmp_path):
    from web.app import create_app
    from web.settings import Settings

    app = create_app(Settings.from_env(db=db_path, model_dir=model_dir, max_sessions=5, new_chats_per_client=1000))
    clients = [TestClient(app, client=(f"10.0.0.{i}", 1000)) for i in range(8)]
    chat(clients[0], "person", "mon mari me frappe")
    for i in range(1, 8):
        r = chat(clients[i], f"flood-{i}", "bonjour")
    body = r.json()
    assert body[0]["custom"]["saturated"] is True and "saturé" in body[0]["text"]
    assert {"police-secours-17", "numero-urgence-europeen-112", "urgence-sms-114"} <= {
        c["id"] for c in body[0]["custom"]["contacts"]}
    # the person's conversation is still there: the next answer goes on, not over
    replies = chat(clients[0], "person", "oui je suis en sécurité").json()
    assert "saturé" not in json.dumps(replies, ensure_ascii=False)
    assert app.state.dialogue.store.get("person").facts.get("situation") == "violences_conjugales"


def test_a_client_has_a_budget_of_new_conversations(hard_app):
    c = TestClient(hard_app, client=("192.0.2.7", 1000))
    answers = [chat(c, f"budget-{i}", "bonjour").json()[0] for i in range(4)]
    assert [a.get("custom", {}).get("saturated", False) for a in answers] == [False, False, False, True]
    assert chat(c, "budget-0", "bonjour").json()[0].get("custom", {}).get("saturated") is None  # ongoing ones go on
    other = TestClient(hard_app, client=("192.0.2.8", 1000))
    assert chat(other, "budget-other", "bonjour").json()[0].get("custom", {}).get("saturated") is None


# -- passwords and usernames ---------------------------------------------------------------------
@pytest.mark.parametrize("password,words", [
    (" " * 12, "espaces"), ("aaaaaaaaaaaa", "facile à deviner"), ("claireclaire!", "identifiant"),
    ("azertyuiop123", "facile à deviner"), ("motdepasse1234", "facile à deviner"), ("court", "au moins 12"),
    ("une phrase " * 12, "au plus 128"), ("abc\u200bdefghijklmn", "invisibles"),
])
def test_weak_passwords_are_refused(fresh_db, password, words):
    with pytest.raises(StaffError) as exc:
        add_user(fresh_db, "claire", password, "editeur")
    assert words in exc.value.message and exc.value.field == "password"
    assert fresh_db.execute("SELECT COUNT(*) FROM staff_user").fetchone()[0] == 0


@pytest.mark.parametrize("username", ["Claire", "clаire", "claire\u200b", "cla ire", "a\nb", "é", "x" * 33, "-x"])
def test_usernames_are_restricted_to_a_safe_alphabet(fresh_db, username):
    with pytest.raises(StaffError) as exc:
        add_user(fresh_db, username, PASSWORD, "editeur")
    assert exc.value.field == "username"


def test_passwords_are_unicode_normalised(fresh_db):
    composed, decomposed = "un été très réussi à Laon", "un e\u0301te\u0301 tre\u0300s re\u0301ussi a\u0300 Laon"
    add_user(fresh_db, "claire", decomposed, "editeur")
    assert authenticate(fresh_db, "claire", composed) and authenticate(fresh_db, "claire", decomposed)


def test_a_max_length_password_can_sign_in(hard_app, hc):
    longest = ("une longue phrase de passe " * 5)[:128]
    add_user(hard_app.state.directory.db, "maxi", longest, "lecteur")
    r = hc.post("/admin/login", data={"username": "maxi", "password": longest}, follow_redirects=False)
    assert r.status_code == 303


# -- sign-in limits by address, proxies ---------------------------------------------------------
def test_failures_from_one_address_do_not_lock_the_account_elsewhere(hard_app):
    add_user(hard_app.state.directory.db, "cible", PASSWORD, "editeur")
    attacker = TestClient(hard_app, base_url="https://testserver", client=("203.0.113.9", 1000))
    for _ in range(5):
        assert attacker.post("/admin/login", data={"username": "cible", "password": "essai"}).status_code == 401
    assert attacker.post("/admin/login", data={"username": "cible", "password": PASSWORD}).status_code == 429
    owner = TestClient(hard_app, base_url="https://testserver", client=("198.51.100.4", 1000))
    r = owner.post("/admin/login", data={"username": "cible", "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 303


def test_forwarded_for_counts_only_from_a_trusted_proxy(db_path, model_dir):
    from web.app import create_app
    from web.settings import Settings

    def budget_spent(app, peer, forwarded):
        c = TestClient(app, client=(peer, 1000))
        out = []
        for i, xff in enumerate(forwarded):
            out.append(chat(c, f"{peer}-{xff}-{i}", "bonjour", headers={"x-forwarded-for": xff}).json()[0]
                       .get("custom", {}).get("saturated", False))
        return out

    spoofs = ["1.1.1.1", "2.2.2.2", "3.3.3.3"]
    untrusted = create_app(Settings.from_env(db=db_path, model_dir=model_dir, new_chats_per_client=2))
    assert budget_spent(untrusted, "192.0.2.50", spoofs) == [False, False, True]  # the header changes nothing
    trusted = create_app(Settings.from_env(db=db_path, model_dir=model_dir, new_chats_per_client=2,
                                           trusted_proxies="10.0.0.0/8"))
    assert budget_spent(trusted, "10.1.2.3", spoofs) == [False, False, False]  # each client its own budget
    # the left of the header is what the client wrote: only the right-most untrusted hop counts
    assert budget_spent(trusted, "10.1.2.3", ["6.6.6.6, 9.9.9.9", "7.7.7.7, 9.9.9.9", "8.8.8.8, 9.9.9.9"]) == [
        False, False, True]


# -- logs ----------------------------------------------------------------------------------------------
def test_access_log_escapes_control_characters(hc, caplog):
    with caplog.at_level(logging.INFO, logger="orientation.access"):
        hc.get("/x%0AINFO%20orientation.access%20GET%20/forged%20200")
    lines = [r.getMessage() for r in caplog.records if r.name == "orientation.access"]
    assert lines and all("\n" not in line for line in lines) and "\\x0a" in lines[-1]


def test_log_formatter_keeps_the_exception_type_not_its_message():
    from web.logs import SafeFormatter

    try:
        {}["zqmarker mon mari me frappe"]
    except KeyError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed\nforged line", None, sys.exc_info())
    line = SafeFormatter().format(record)
    assert "zqmarker" not in line and "KeyError" in line and "\n" not in line


def test_understanding_failure_logs_the_type_only(understander, monkeypatch, caplog):
    def broken(*a, **k):
        raise ValueError("zqmarker mon mari me frappe")

    monkeypatch.setattr(understander.model, "predict", broken)
    with caplog.at_level(logging.INFO):
        u = understander.understand("mon mari me frappe tous les jours")
    assert u.danger and u.failed
    assert "zqmarker" not in caplog.text and "ValueError" in caplog.text
    assert all(r.exc_info is None for r in caplog.records)
