"""The staff administration (/admin) and the staff accounts, in-process.

Each module gets its own writable copy of the session database (SQLite backup API),
an app with the staff routers, and one account per role. Clients talk to
https://testserver, so the Secure `__Host-session` cookie goes back and forth as in
a browser.
"""
from __future__ import annotations

import csv
import html
import io
import re

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from directory import backup, connect
from web.app import create_app
from directory.editing import audit_of, report_error, save_service, service_entry
from directory.staff import add_user, authenticate, session_user

PASSWORD = "un mot de passe assez long"
ROLES = ("lecteur", "editeur", "admin")
TARGET = "reseau-laon-chauny-la-fere"  # a real entry: 03 23 79 30 14, shown for Chauny
STAFF_ROUTE_PREFIXES = ("/admin", "/pro", "/api/signalements")


# -- fixtures and helpers --------------------------------------------------------------------
@pytest.fixture(scope="module")
def staff_app(db_path, model_dir, tmp_path_factory):
    """The app over a writable copy of the session database, with the staff routers and
    the accounts lecteur, editeur and admin (password PASSWORD)."""
    from web.settings import Settings

    path = tmp_path_factory.mktemp("admin") / "orientation.db"
    backup(connect(db_path), path)
    app = create_app(Settings.from_env(db=path, model_dir=model_dir))
    for role in ROLES:
        add_user(app.state.directory.db, role, PASSWORD, role)
    return app


def client_for(app, role: str | None = None) -> TestClient:
    """A client logged in with `role` (None: anonymous)."""
    c = TestClient(app, base_url="https://testserver")
    if role:
        r = c.post("/admin/login", data={"username": role, "password": PASSWORD}, follow_redirects=False)
        assert r.status_code == 303, r.text
    return c


def csrf_of(app, client: TestClient) -> str:
    return session_user(app.state.directory.db, client.cookies.get("__Host-session")).csrf


def audit_count(app) -> int:
    return app.state.directory.db.execute("SELECT COUNT(*) FROM audit_log").fetchone()[0]


def entry_form(entry: dict, version, csrf: str, **changes) -> dict:
    """The edit form's fields for `entry` (as the page would send them), with changes."""
    from web.admin_forms import values_from_entry

    v = values_from_entry(entry, version)
    v.update(changes)
    data = {k: val for k, val in v.items() if not isinstance(val, (list, bool))}
    data.update({k: "1" for k in ("confidential_address", "emergency", "a_verifier") if v[k]})
    for k in ("phone_number", "phone_type", "situations", "ages", "roles", "genders"):
        data[k] = v[k]
    data["csrf"] = csrf
    return data


def field_error(page: str, name: str) -> str:
    m = re.search(rf'<p class="field-error" id="{re.escape(name)}-error">(.*?)</p>', page, re.S)
    return html.unescape(re.sub(r"<[^>]+>", "", m[1])) if m else ""


# -- deny by default: the role x endpoint matrix ----------------------------------------------
@pytest.fixture(scope="module")
def targets(staff_app):
    """Things the matrix may act on without disturbing other tests: a spare entry, a
    spare account, open reports."""
    d = staff_app.state.directory
    entry = service_entry(d.service(TARGET, include_pro=True))
    entry.update(id="matrice-cible", name="Fiche de test pour la matrice")
    save_service(d, entry, version=None, username="setup")
    add_user(d.db, "cible", PASSWORD, "lecteur")
    for _ in range(8):
        report_error(d, "matrice-cible", "telephone")
    first = d.db.execute("SELECT MIN(id) FROM error_report WHERE service_id = 'matrice-cible'").fetchone()[0]
    from directory.signals import add_signal

    for n in range(8):
        add_signal(d.db, subject="Service signalé pour la matrice", what="Essai", reporter="veille", ref=f"matrice-{n}")
    d.db.conn.commit()
    signal = d.db.execute("SELECT MIN(id) FROM signal WHERE ref LIKE 'matrice-%'").fetchone()[0]
    return {"report": first, "signal": signal}


# (method, path, minimum role or None for everyone, form data)
MATRIX = [
    ("GET", "/admin/login", None, None),
    ("GET", "/pro", None, None),
    ("GET", "/pro?commune=Chauny&situation=violences_conjugales", None, None),
    ("POST", "/pro/signalement", None, {"service_id": TARGET, "kind": "autre", "back": "/pro"}),
    ("GET", "/admin", "editeur", None),
    ("GET", "/admin/services/new", "editeur", None),
    ("POST", "/admin/services/new", "editeur", {"id": "x"}),
    ("GET", "/admin/services/matrice-cible", "editeur", None),
    ("POST", "/admin/services/matrice-cible", "editeur", {"name": ""}),
    ("POST", "/admin/services/matrice-cible/verify", "editeur", {}),
    ("POST", "/admin/services/matrice-cible/closures", "editeur", {"start": "x", "end": "y"}),
    ("POST", "/admin/services/matrice-cible/archive", "editeur", {}),
    ("GET", "/admin/services/matrice-cible/journal", "editeur", None),
    ("GET", "/admin/audit", "editeur", None),
    ("GET", "/admin/audit.csv", "editeur", None),
    ("GET", "/admin/verification", "editeur", None),
    ("POST", "/admin/reports/{report}/resolve", "editeur", {}),
    ("POST", "/admin/signals/{signal}/close", "editeur", {}),
    ("GET", "/admin/users", "admin", None),
    ("POST", "/admin/users", "admin", {"username": "", "role": "lecteur", "password": "", "password_again": ""}),
    ("POST", "/admin/users/disable", "admin", {"username": "cible"}),
    ("POST", "/admin/users/password", "admin", {"username": "cible", "password": "court"}),
    ("POST", "/admin/logout", "lecteur", {}),
]
RANK = {None: -1, "lecteur": 0, "editeur": 1, "admin": 2}


def _refused(response) -> bool:
    if response.status_code in (401, 403):
        return True
    return response.status_code == 303 and response.headers["location"].startswith("/admin/login?next=")


@pytest.mark.parametrize("role", [None, *ROLES], ids=lambda r: r or "anonyme")
@pytest.mark.parametrize("method,path,needed,data", MATRIX, ids=[f"{m} {p}" for m, p, _, _ in MATRIX])
def test_role_matrix(staff_app, targets, role, method, path, needed, data):
    c = client_for(staff_app, role)
    url = path.format(**targets)
    if method == "GET":
        r = c.get(url, follow_redirects=False)
    else:
        body = dict(data)
        if role:
            body["csrf"] = csrf_of(staff_app, c)
        r = c.post(url, data=body, follow_redirects=False)
    allowed = RANK[role] >= RANK[needed]
    assert _refused(r) is not allowed, (r.status_code, r.headers.get("location"), r.text[:300])
    assert r.status_code < 500
    if not allowed and r.status_code != 303:
        assert "text/html" in r.headers["content-type"]
        assert "Connectez-vous" in r.text or "Votre compte ne donne pas accès" in r.text


def test_anonymous_get_goes_to_the_login_form_and_back(staff_app):
    c = client_for(staff_app)
    r = c.get("/admin/verification", follow_redirects=False)
    assert r.headers["location"] == "/admin/login?next=%2Fadmin%2Fverification"
    r = c.post("/admin/login", data={"username": "editeur", "password": PASSWORD, "next": "/admin/verification"},
               follow_redirects=False)
    assert r.headers["location"] == "/admin/verification"


@pytest.mark.parametrize("next_url", ["https://ailleurs.example/", "//ailleurs.example/", "/\\ailleurs.example",
                                      "javascript:alert(1)"])
def test_login_never_redirects_elsewhere(staff_app, next_url):
    c = client_for(staff_app)
    r = c.post("/admin/login", data={"username": "editeur", "password": PASSWORD, "next": next_url},
               follow_redirects=False)
    assert r.headers["location"] == "/admin"


def staff_routes(app) -> list:
    """Every route of the app under /admin and /pro (included routers are lazy: walk their contexts)."""
    from fastapi.routing import iter_route_contexts

    return [r for r in iter_route_contexts(app.routes) if r.path.startswith(("/admin", "/pro"))]


def test_every_staff_route_is_in_the_matrix(staff_app):
    listed = {(m, p.split("?")[0].replace("matrice-cible", "{sid}").replace("{report}", "{report_id}")
              .replace("{signal}", "{signal_id}"))
              for m, p, _, _ in MATRIX}
    listed.add(("POST", "/admin/login"))  # open to everyone by design: the sign-in tests cover it
    routes = staff_routes(staff_app)
    assert len(routes) >= len(listed) - 1  # the walk does see the routes (two MATRIX lines share one)
    for route in routes:
        for method in route.methods - {"HEAD"}:
            assert (method, route.path) in listed, f"{method} {route.path} is missing from MATRIX"


def test_every_admin_route_requires_a_role(staff_app):
    routes = [r for r in staff_routes(staff_app) if r.path.startswith("/admin")]
    assert routes
    for route in routes:
        if route.path in ("/admin/login",):
            continue
        roles = [getattr(d.call, "required_role", None) for d in route.route.dependant.dependencies]
        assert any(roles), f"{route.methods} {route.path} has no require(role)"


# -- CSRF ----------------------------------------------------------------------------------
STATE_CHANGING = [(p, needed, data) for m, p, needed, data in MATRIX if m == "POST" and needed]


@pytest.mark.parametrize("path,needed,data", STATE_CHANGING, ids=[p for p, _, _ in STATE_CHANGING])
@pytest.mark.parametrize("token", ["absent", "faux", "autre-session"])
def test_csrf_is_required_on_every_state_changing_route(staff_app, targets, path, needed, data, token):
    c = client_for(staff_app, "admin")
    before = audit_count(staff_app)
    body = dict(data)
    if token == "faux":
        body["csrf"] = "x" * 43
    elif token == "autre-session":
        body["csrf"] = csrf_of(staff_app, client_for(staff_app, "admin"))
    r = c.post(path.format(**targets), data=body, follow_redirects=False)
    assert r.status_code == 403
    assert "Ce formulaire a expiré ou ne vient pas de ce site" in r.text
    assert audit_count(staff_app) == before
    # the session is still open: the refusal changed nothing
    assert c.get("/admin", follow_redirects=False).status_code == 200


@pytest.mark.parametrize("path,needed,data", STATE_CHANGING, ids=[p for p, _, _ in STATE_CHANGING])
def test_cross_site_requests_are_refused_even_with_the_token(staff_app, targets, path, needed, data):
    c = client_for(staff_app, "admin")
    body = {**data, "csrf": csrf_of(staff_app, c)}
    r = c.post(path.format(**targets), data=body, headers={"Sec-Fetch-Site": "cross-site"}, follow_redirects=False)
    assert r.status_code == 403
    r = c.post(path.format(**targets), data=body, headers={"Origin": "https://ailleurs.example"},
               follow_redirects=False)
    assert r.status_code == 403


def test_login_form_from_another_site_is_refused(staff_app):
    c = client_for(staff_app)
    r = c.post("/admin/login", data={"username": "editeur", "password": PASSWORD},
               headers={"Sec-Fetch-Site": "cross-site"}, follow_redirects=False)
    assert r.status_code == 403 and "__Host-session" not in r.headers.get("set-cookie", "")


def test_same_origin_browser_posts_pass(staff_app):
    """Our pages send no Referer and Origin "null" (no-referrer): Sec-Fetch-Site decides."""
    c = client_for(staff_app, "editeur")
    r = c.post("/admin/services/matrice-cible/verify", data={"csrf": csrf_of(staff_app, c)},
               headers={"Sec-Fetch-Site": "same-origin", "Origin": "null"}, follow_redirects=False)
    assert r.status_code == 303


# -- login, cookie, logout, rate limit ------------------------------------------------------
def test_session_cookie_attributes(staff_app):
    c = TestClient(staff_app, base_url="https://testserver")
    r = c.post("/admin/login", data={"username": "lecteur", "password": PASSWORD}, follow_redirects=False)
    cookie = r.headers["set-cookie"]
    assert cookie.startswith("__Host-session=")
    attrs = {a.strip().lower() for a in cookie.split(";")[1:]}
    assert {"httponly", "secure", "path=/", "samesite=strict"} <= attrs
    assert not any(a.startswith(("domain", "max-age", "expires")) for a in attrs)
    assert r.headers["location"] == "/pro"  # a lecteur's home is the referral search


@pytest.fixture
def settings_with(staff_app):
    """`settings_with(name=value)`: the app's settings changed for one test (they are read once, at start)."""
    from dataclasses import replace

    original = staff_app.state.settings

    def change(**changes):
        staff_app.state.settings = replace(original, **changes)
    yield change
    staff_app.state.settings = original


def test_insecure_cookies_only_when_asked_and_without_the_host_prefix(staff_app, settings_with):
    settings_with(insecure_cookies=True)
    c = TestClient(staff_app, base_url="http://testserver")
    r = c.post("/admin/login", data={"username": "editeur", "password": PASSWORD}, follow_redirects=False)
    cookie = r.headers["set-cookie"]
    assert cookie.startswith("session=") and "secure" not in cookie.lower()
    assert c.get("/admin", follow_redirects=False).status_code == 200
    # https stays Secure whatever the variable says
    s = TestClient(staff_app, base_url="https://testserver")
    r = s.post("/admin/login", data={"username": "editeur", "password": PASSWORD}, follow_redirects=False)
    assert r.headers["set-cookie"].startswith("__Host-session=")


def test_secure_cookie_is_not_sent_back_over_plain_http(staff_app, settings_with):
    settings_with(insecure_cookies=False)
    c = TestClient(staff_app, base_url="http://testserver")
    c.post("/admin/login", data={"username": "editeur", "password": PASSWORD})
    assert c.get("/admin", follow_redirects=False).status_code == 303


def test_logout_revokes_the_session_on_the_server(staff_app):
    c = client_for(staff_app, "editeur")
    token = c.cookies.get("__Host-session")
    r = c.post("/admin/logout", data={"csrf": csrf_of(staff_app, c)}, follow_redirects=False)
    assert r.headers["location"] == "/admin/login?out=1"
    assert 'max-age=0' in r.headers["set-cookie"].lower() or "expires" in r.headers["set-cookie"].lower()
    assert session_user(staff_app.state.directory.db, token) is None
    # the old cookie, replayed, opens nothing
    replay = TestClient(staff_app, base_url="https://testserver")
    replay.cookies.set("__Host-session", token, domain="testserver")
    assert replay.get("/admin", follow_redirects=False).status_code == 303
    assert "Vous êtes déconnecté" in c.get("/admin/login?out=1").text


def test_a_new_login_gets_a_new_session(staff_app):
    c = client_for(staff_app, "editeur")
    old = c.cookies.get("__Host-session")
    c.post("/admin/login", data={"username": "editeur", "password": PASSWORD})
    assert c.cookies.get("__Host-session") != old
    assert session_user(staff_app.state.directory.db, old) is None


def test_wrong_password_is_refused_in_french(staff_app):
    c = client_for(staff_app)
    r = c.post("/admin/login", data={"username": "lecteur", "password": "pas le bon"})
    assert r.status_code == 401 and "Identifiant ou mot de passe incorrect." in r.text
    assert "set-cookie" not in r.headers
    assert 'value="lecteur"' in r.text  # the username is kept, never the password


def test_login_rate_limit_per_username(staff_app, caplog):
    add_user(staff_app.state.directory.db, "limite", PASSWORD, "editeur")
    c = client_for(staff_app)
    for _ in range(5):
        assert c.post("/admin/login", data={"username": "limite", "password": "essai"}).status_code == 401
    r = c.post("/admin/login", data={"username": "limite", "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 429
    assert "Trop de tentatives de connexion" in r.text and "15 minutes" in r.text
    assert "set-cookie" not in r.headers
    # other accounts are not locked by it
    assert client_for(staff_app, "lecteur").get("/pro").status_code == 200
    # no IP address kept or logged (the test client's address is "testclient")
    limiter = staff_app.state.login_limiter
    keys = list(limiter.users.events) + list(limiter.clients.events)
    assert keys and not any("testclient" in k for k in keys)
    assert "testclient" not in caplog.text


def test_login_rate_limit_per_client(staff_app):
    from web.staff import LoginLimiter

    saved = staff_app.state.login_limiter
    staff_app.state.login_limiter = LoginLimiter()
    try:
        c = client_for(staff_app)
        for i in range(20):
            c.post("/admin/login", data={"username": f"inconnu{i}", "password": "essai"})
        r = c.post("/admin/login", data={"username": "admin", "password": PASSWORD}, follow_redirects=False)
        assert r.status_code == 429
    finally:
        staff_app.state.login_limiter = saved


def test_rate_limit_window_passes():
    from web.staff import LoginLimiter

    now = [0.0]
    limiter = LoginLimiter(clock=lambda: now[0])
    for _ in range(5):
        limiter.failed("Marie", "k")
    assert limiter.retry_after("marie ", "k") > 0  # same account, however it is typed
    assert limiter.retry_after("marie", "other") == 0  # from elsewhere the account is not locked
    now[0] += 15 * 60
    assert limiter.retry_after("marie", "k") == 0


def test_disabled_account_cannot_log_in_and_loses_its_sessions(staff_app):
    db = staff_app.state.directory.db
    add_user(db, "partie", PASSWORD, "editeur")
    c = client_for(staff_app, "partie")
    a = client_for(staff_app, "admin")
    r = a.post("/admin/users/disable", data={"username": "partie", "csrf": csrf_of(staff_app, a)}, follow_redirects=False)
    assert r.headers["location"] == "/admin/users?ok=user_disabled"
    assert c.get("/admin", follow_redirects=False).status_code == 303
    r = client_for(staff_app).post("/admin/login", data={"username": "partie", "password": PASSWORD})
    assert r.status_code == 401


# -- services: create, edit, validation, conflict, archive, verify, closures ---------------
@pytest.fixture
def editor(staff_app):
    c = client_for(staff_app, "editeur")
    c.csrf = csrf_of(staff_app, c)
    return c


def _entry(app, sid):
    s = app.state.directory.service(sid, include_pro=True)
    return service_entry(s), s.version


def _new_entry(app, sid: str) -> dict:
    entry, _ = _entry(app, TARGET)
    return {**entry, "id": sid, "name": f"Service {sid}"}


def test_create_a_service(staff_app, editor):
    entry = _new_entry(staff_app, "nouveau-service")
    data = entry_form(entry, None, editor.csrf, area="arr-024\nChauny\nLaon (02000)", hours="Mo-Fr 09:00-12:00")
    r = editor.post("/admin/services/new", data=data, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/admin/services/nouveau-service?ok=created"
    s = staff_app.state.directory.service("nouveau-service", include_pro=True)
    d = staff_app.state.directory
    communes = tuple(f"commune-{d.resolve_commune(n).commune.insee}" for n in ("Chauny", "Laon"))
    assert s.area == ("arr-024", *communes) and s.hours == "Mo-Fr 09:00-12:00"
    page = editor.get(r.headers["location"]).text
    assert "La fiche a été créée" in page
    # the public API sees it at once
    assert TestClient(staff_app).get("/api/services/nouveau-service").json()["name"] == "Service nouveau-service"


def test_email_and_genders_are_edited_in_the_form(staff_app, editor):
    entry = _new_entry(staff_app, "accueil-femmes-essai")
    data = entry_form(entry, None, editor.csrf, email="accueil@exemple.fr", genders=["femme"])
    assert editor.post("/admin/services/new", data=data, follow_redirects=False).status_code == 303
    s = staff_app.state.directory.service("accueil-femmes-essai", include_pro=True)
    assert (s.email, s.genders) == ("accueil@exemple.fr", ("femme",))
    page = editor.get("/admin/services/accueil-femmes-essai").text
    assert 'value="accueil@exemple.fr"' in page
    assert re.search(r'name="genders" value="femme"[^>]*checked', page)
    assert TestClient(staff_app).get("/api/services/accueil-femmes-essai").json()["email"] == "accueil@exemple.fr"


def test_create_refuses_an_existing_id(staff_app, editor):
    data = entry_form(_new_entry(staff_app, TARGET), None, editor.csrf)
    r = editor.post("/admin/services/new", data=data)
    assert r.status_code == 422 and "cet identifiant existe déjà" in field_error(r.text, "id")


def test_invalid_input_is_refused_next_to_each_field_and_nothing_changes(staff_app, editor):
    entry, version = _entry(staff_app, TARGET)
    before = audit_count(staff_app)
    data = entry_form(entry, version, editor.csrf, phone_number=["12", "03 23 79 30 14"],
                      phone_type=["voice", "voice"], hours="lundi 9h-12h", area="arr-999\nParis\nNulle-Part-Ici",
                      name="Nom changé", postal_code="2300")
    r = editor.post(f"/admin/services/{TARGET}", data=data)
    assert r.status_code == 422
    assert "« 12 » n'est pas un numéro court valide" in field_error(r.text, "phones")
    assert "illisibles" in field_error(r.text, "hours")
    area = field_error(r.text, "area")
    assert "« arr-999 » : territoire inconnu" in area and "« Paris »" in area and "« Nulle-Part-Ici »" in area
    assert "5 chiffres" in field_error(r.text, "address")
    assert "Rien n'a été enregistré : 4 champs à corriger" in html.unescape(r.text)
    # what was typed is still there
    assert 'value="12"' in r.text and 'value="Nom changé"' in r.text and "lundi 9h-12h" in r.text
    assert _entry(staff_app, TARGET) == (entry, version)
    assert audit_count(staff_app) == before
    # only the wrong number's field is marked, and read with its message
    assert re.search(r'id="field-phone-0"[^>]*aria-invalid="true" aria-describedby="hint-phones phones-error"', r.text)
    assert re.search(r'id="field-phone-1"[^>]*aria-describedby="hint-phones">', r.text)
    assert 'href="#field-phone-0"' in r.text  # the summary links to it


@pytest.mark.parametrize("changes,field,message", [
    ({"name": ""}, "name", "champ obligatoire manquant"),
    ({"situations": []}, "situations", "champ obligatoire manquant"),
    ({"url": "ftp://exemple.fr"}, "url", "https://"),
    ({"verified_on": "hier"}, "verified_on", "AAAA-MM-JJ"),
    ({"description": "x" * 4001}, "description", "trop long"),
    ({"category": "inconnue"}, "category", "inconnue"),
    ({"email": "accueil chez exemple.fr"}, "email", "adresse e-mail attendue"),
])
def test_each_invalid_field_has_its_message(staff_app, editor, changes, field, message):
    entry, version = _entry(staff_app, TARGET)
    r = editor.post(f"/admin/services/{TARGET}", data=entry_form(entry, version, editor.csrf, **changes))
    assert r.status_code == 422 and message in field_error(r.text, field)
    assert _entry(staff_app, TARGET) == (entry, version)


def test_concurrent_edit_is_refused_with_what_changed(staff_app):
    d = staff_app.state.directory
    save_service(d, _new_entry(staff_app, "conflit"), version=None, username="setup")
    alice, bob = client_for(staff_app, "editeur"), client_for(staff_app, "admin")
    entry, version = _entry(staff_app, "conflit")
    # both open the form at the same version
    first = entry_form(entry, version, csrf_of(staff_app, alice), phone_number=["03 23 79 30 99"], phone_type=["voice"])
    second = entry_form(entry, version, csrf_of(staff_app, bob), hours="Mo-Fr 10:00-12:00")
    assert alice.post("/admin/services/conflit", data=first, follow_redirects=False).status_code == 303
    saved = _entry(staff_app, "conflit")
    r = bob.post("/admin/services/conflit", data=second)
    assert r.status_code == 409
    text = html.unescape(r.text)
    assert "Quelqu'un a modifié cette fiche pendant que vous l'éditiez" in text and "Rien n'a été enregistré" in text
    conflict = r.text[r.text.index('id="conflict"'):r.text.index("</table>")]
    assert "Téléphones" in conflict and "03 23 79 30 14 (appel)" in conflict and "03 23 79 30 99 (appel)" in conflict
    assert "Horaires" in conflict and "Mo-Fr 10:00-12:00" in conflict
    assert "editeur" in conflict  # who changed it
    assert _entry(staff_app, "conflit") == saved  # never a silent overwrite
    assert "Mo-Fr 10:00-12:00" in r.text[r.text.index('id="field-hours"') - 200:]  # bob's input kept
    # the form now carries the current version: saving again is a deliberate choice
    assert f'name="version" value="{saved[1]}"' in r.text


def test_a_form_without_version_never_overwrites(staff_app, editor):
    entry, version = _entry(staff_app, TARGET)
    data = entry_form(entry, version, editor.csrf, name="Sans version")
    data["version"] = ""
    assert editor.post(f"/admin/services/{TARGET}", data=data).status_code == 409
    assert _entry(staff_app, TARGET) == (entry, version)


def test_audit_entry_for_each_kind_of_change(staff_app, editor):
    d = staff_app.state.directory
    sid = "journal-complet"
    entry = _new_entry(staff_app, sid)
    editor.post("/admin/services/new", data=entry_form(entry, None, editor.csrf))
    entry, version = _entry(staff_app, sid)
    editor.post(f"/admin/services/{sid}", data=entry_form(entry, version, editor.csrf, phone_number=["03 23 79 30 99"],
                                                          phone_type=["voice"], visibility="pro"))
    editor.post(f"/admin/services/{sid}/verify", data={"csrf": editor.csrf})
    editor.post(f"/admin/services/{sid}/closures", data={"csrf": editor.csrf, "start": "2030-01-01",
                                                        "end": "2030-01-15", "reason": "Travaux"})
    report_error(d, sid, "horaires")
    rid = d.db.execute("SELECT id FROM error_report WHERE service_id = ?", [sid]).fetchone()[0]
    editor.post(f"/admin/reports/{rid}/resolve", data={"csrf": editor.csrf})
    editor.post(f"/admin/services/{sid}/archive", data={"csrf": editor.csrf})
    rows = audit_of(d, sid)
    by_action = {}
    for r in rows:
        by_action.setdefault(r["action"], []).append(r)
    assert set(by_action) == {"création", "modification", "vérification", "fermeture temporaire",
                              "signalement traité", "archivage"}
    assert all(r["username"] == "editeur" and r["at"] for r in rows)
    changes = {r["field"]: (r["before"], r["after"]) for r in by_action["modification"]}
    assert changes["phones"] == ('[{"number": "0323793014", "type": "voice"}]', '[{"number": "0323793099", "type": "voice"}]')
    assert changes["visibility"] == ('"public"', '"pro"')
    assert by_action["archivage"][0]["before"] == '"active"' and by_action["archivage"][0]["after"] == '"archived"'
    # the journal page shows who, when, field, before and after
    page = editor.get(f"/admin/services/{sid}/journal").text
    assert "03 23 79 30 14 (appel)" in page and "03 23 79 30 99 (appel)" in page and "Téléphones" in page
    assert "editeur" in page and re.search(r"\d\d/\d\d/\d{4} à \d\d:\d\d", page)
    # and the CSV export holds every row
    r = editor.get("/admin/audit.csv")
    assert r.headers["content-type"].startswith("text/csv") and "attachment" in r.headers["content-disposition"]
    table = list(csv.DictReader(io.StringIO(r.text.lstrip("\ufeff"))))
    mine = [row for row in table if row["entry"] == sid]
    assert len(mine) == len(rows)
    assert {"id", "at", "username", "entry", "action", "field", "before", "after"} == set(table[0])


def test_csv_export_cannot_inject_spreadsheet_formulas(staff_app, editor):
    sid = "formule"
    entry = {**_new_entry(staff_app, sid), "name": "=HYPERLINK(\"https://x.example\")"}
    save_service(staff_app.state.directory, entry, version=None, username="@setup")
    text = editor.get("/admin/audit.csv").text
    rows = [r for r in csv.DictReader(io.StringIO(text.lstrip("\ufeff"))) if r["entry"] == sid]
    assert rows and all(r["username"] == "'@setup" for r in rows)
    assert not any(v.startswith(("=", "+", "-", "@")) for r in rows for v in r.values() if v)


def test_archive_removes_the_entry_from_public_outputs(staff_app, editor):
    save_service(staff_app.state.directory, _new_entry(staff_app, "a-archiver"), version=None, username="setup")
    public = TestClient(staff_app)
    assert public.get("/api/services/a-archiver").status_code == 200
    r = editor.post("/admin/services/a-archiver/archive", data={"csrf": editor.csrf}, follow_redirects=False)
    assert r.headers["location"] == "/admin/services/a-archiver?ok=archived"
    assert public.get("/api/services/a-archiver").status_code == 404
    assert "a-archiver" not in editor.get("/admin").text  # the list shows active entries by default
    assert "a-archiver" in editor.get("/admin?status=archived").text


def test_verified_today(staff_app, editor):
    from datetime import date

    save_service(staff_app.state.directory, _new_entry(staff_app, "a-verifier"), version=None, username="setup")
    r = editor.post("/admin/services/a-verifier/verify", data={"csrf": editor.csrf, "next": "/admin/verification"},
                    follow_redirects=False)
    assert r.headers["location"] == "/admin/verification?ok=verified"
    s = staff_app.state.directory.service("a-verifier", include_pro=True)
    assert s.verified_on == date.today().isoformat() and not s.a_verifier
    assert "a-verifier" not in editor.get("/admin/verification").text


@pytest.mark.parametrize("start,end,field,message", [
    ("2030-02-10", "2030-02-01", "end", "la fin doit venir après le début"),
    ("demain", "2030-02-01", "start", "AAAA-MM-JJ"),
])
def test_closure_errors(staff_app, editor, start, end, field, message):
    r = editor.post(f"/admin/services/{TARGET}/closures", data={"csrf": editor.csrf, "start": start, "end": end})
    assert r.status_code == 422 and message in field_error(r.text, field)
    assert f'value="{start}"' in r.text


def test_closure_is_shown_in_the_chat_contract(staff_app, editor):
    from datetime import date, timedelta

    save_service(staff_app.state.directory, _new_entry(staff_app, "ferme-un-temps"), version=None, username="setup")
    today = date.today()
    r = editor.post("/admin/services/ferme-un-temps/closures", follow_redirects=False, data={
        "csrf": editor.csrf, "start": today.isoformat(), "end": (today + timedelta(days=3)).isoformat(),
        "reason": "Congés"})
    assert r.status_code == 303
    body = TestClient(staff_app).get("/api/services/ferme-un-temps").json()
    assert body["open_now"] is False and body["closed"]["reason"] == "Congés"


def test_verification_queue(staff_app, editor, settings_with):
    d = staff_app.state.directory
    save_service(d, {**_new_entry(staff_app, "signalee"), "verified_on": "2099-01-01"}, version=None, username="setup")
    report_error(d, "signalee", "telephone")
    page = editor.get("/admin/verification").text
    assert "signalee" in page and "Le numéro ne marche pas" in page
    assert "6 mois" in page and "reseau-soissonnais" in page  # verified in 2021
    settings_with(verify_months=1200)
    page = editor.get("/admin/verification").text
    assert "1200 mois" in page and "reseau-soissonnais" not in page and "signalee" in page


@pytest.mark.parametrize("env,value,parsed", [
    ("ORIENTATION_VERIFY_MONTHS", None, 6), ("ORIENTATION_VERIFY_MONTHS", "12", 12),
    ("ORIENTATION_INSECURE_COOKIES", None, False), ("ORIENTATION_INSECURE_COOKIES", "1", True),
])
def test_staff_settings_are_read_from_the_environment(monkeypatch, env, value, parsed):
    from web.settings import SETTINGS_HELP, Settings

    name = next(k for k, v in SETTINGS_HELP.items() if v[0] == env)
    if value is None:
        monkeypatch.delenv(env, raising=False)
    else:
        monkeypatch.setenv(env, value)
    assert getattr(Settings.from_env(), name) == parsed


@pytest.mark.parametrize("env,value", [("ORIENTATION_VERIFY_MONTHS", "douze"), ("ORIENTATION_VERIFY_MONTHS", "0"),
                                       ("ORIENTATION_INSECURE_COOKIES", "oui"), ("ORIENTATION_SESSION_TTL", "-5")])
def test_an_unreadable_setting_stops_the_start_with_its_name(monkeypatch, orientation_cli, env, value):
    from web.settings import Settings, SettingsError

    monkeypatch.setenv(env, value)
    with pytest.raises(SettingsError) as err:
        Settings.from_env()
    assert f"{env}={value!r}" in err.value.message and "attendu" in err.value.message
    result = orientation_cli("rules", "check")
    assert result.exit_code == 1 and env in result.output


def test_services_list_filters(staff_app, editor):
    page = editor.get("/admin?visibility=pro").text
    assert "uaped-ch-soissons" in page and TARGET not in page
    page = editor.get("/admin?q=laon+chauny").text
    assert TARGET in page and "uaped-ch-soissons" not in page


def test_unknown_entry_is_a_french_404(staff_app, editor):
    r = editor.get("/admin/services/nexiste-pas")
    assert r.status_code == 404 and "Cette fiche n'existe pas" in html.unescape(r.text)


# -- users ----------------------------------------------------------------------------------
@pytest.fixture
def admin_client(staff_app):
    c = client_for(staff_app, "admin")
    c.csrf = csrf_of(staff_app, c)
    return c


def test_admin_adds_a_user_who_can_log_in(staff_app, admin_client):
    r = admin_client.post("/admin/users", follow_redirects=False, data={
        "csrf": admin_client.csrf, "username": "nouvelle", "role": "lecteur",
        "password": PASSWORD, "password_again": PASSWORD})
    assert r.headers["location"] == "/admin/users?ok=user_added"
    assert authenticate(staff_app.state.directory.db, "nouvelle", PASSWORD).role == "lecteur"
    assert "nouvelle" in admin_client.get("/admin/users").text


@pytest.mark.parametrize("data,field,message", [
    ({"username": "x", "password": "court", "password_again": "court"}, "password", "au moins 12 caractères"),
    ({"username": "x", "password": PASSWORD, "password_again": PASSWORD + "!"}, "password", "pas identiques"),
    ({"username": "admin", "password": PASSWORD, "password_again": PASSWORD}, "username", "existe déjà"),
    ({"username": "", "password": PASSWORD, "password_again": PASSWORD}, "username", "identifiant vide"),
])
def test_add_user_errors(staff_app, admin_client, data, field, message):
    r = admin_client.post("/admin/users", data={"csrf": admin_client.csrf, "role": "editeur", **data})
    assert r.status_code == 422 and message in field_error(r.text, field)
    assert PASSWORD not in r.text  # a password is never sent back


def test_admin_resets_a_password(staff_app, admin_client):
    add_user(staff_app.state.directory.db, "oubli", PASSWORD, "editeur")
    old = client_for(staff_app, "oubli")
    r = admin_client.post("/admin/users/password", follow_redirects=False,
                          data={"csrf": admin_client.csrf, "username": "oubli", "password": "un tout nouveau mot"})
    assert r.headers["location"] == "/admin/users?ok=password"
    assert old.get("/admin", follow_redirects=False).status_code == 303  # sessions closed
    assert authenticate(staff_app.state.directory.db, "oubli", "un tout nouveau mot")


def test_admin_cannot_disable_themselves(staff_app, admin_client):
    r = admin_client.post("/admin/users/disable", data={"csrf": admin_client.csrf, "username": "admin"})
    assert r.status_code == 422 and "vous ne pouvez pas désactiver votre propre compte" in html.unescape(r.text)
    assert admin_client.get("/admin/users").status_code == 200


# -- command line ------------------------------------------------------------------------------
@pytest.fixture
def cli_settings(tmp_path):
    from directory import migrate
    from web.settings import Settings

    path = tmp_path / "cli.db"
    migrate(connect(path))
    return Settings.from_env(db=path)


def _run(settings, args, stdin=None):
    from web.cli_users import users_group

    return CliRunner().invoke(users_group, args, input=stdin, obj=settings)


def test_cli_users_add_with_prompt(cli_settings):
    r = _run(cli_settings, ["add", "camille", "--role", "editeur"], f"{PASSWORD}\n{PASSWORD}\n")
    assert r.exit_code == 0, r.output
    assert "Compte « camille » créé (rôle : editeur)." in r.output
    assert PASSWORD not in r.output
    assert authenticate(connect(cli_settings.db), "camille", PASSWORD).role == "editeur"


def test_cli_users_add_mismatch(cli_settings):
    r = _run(cli_settings, ["add", "camille", "--role", "editeur"], f"{PASSWORD}\nautre chose encore\n")
    assert r.exit_code == 1 and "Les deux mots de passe ne sont pas identiques" in r.output
    assert authenticate(connect(cli_settings.db), "camille", PASSWORD) is None


def test_cli_users_add_from_stdin_and_errors(cli_settings):
    assert _run(cli_settings, ["add", "dom", "--role", "admin", "--password-stdin"], PASSWORD + "\n").exit_code == 0
    r = _run(cli_settings, ["add", "dom", "--role", "admin", "--password-stdin"], PASSWORD + "\n")
    assert r.exit_code == 1 and "L'identifiant « dom » existe déjà." in r.output
    r = _run(cli_settings, ["add", "eve", "--role", "admin", "--password-stdin"], "court\n")
    assert r.exit_code == 1 and "au moins 12 caractères" in r.output
    r = _run(cli_settings, ["add", "eve", "--role", "chef", "--password-stdin"], PASSWORD + "\n")
    assert r.exit_code == 2


def test_cli_users_passwd_and_disable(cli_settings):
    db = connect(cli_settings.db)
    add_user(db, "fred", PASSWORD, "lecteur")
    r = _run(cli_settings, ["passwd", "fred", "--password-stdin"], "nouveau mot de passe\n")
    assert r.exit_code == 0 and authenticate(db, "fred", "nouveau mot de passe")
    r = _run(cli_settings, ["disable", "fred"])
    assert r.exit_code == 0 and "désactivé" in r.output
    assert authenticate(db, "fred", "nouveau mot de passe") is None
    r = _run(cli_settings, ["disable", "personne"])
    assert r.exit_code == 1 and "Aucun compte « personne »." in r.output
