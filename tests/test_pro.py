"""The referral search (/pro), "signaler une erreur", and what never reaches the public:
pro-only entries, confidential addresses, and markup typed into an entry.

The module's database is a writable copy of the session one, with three extra
entries for Chauny (violences dans le couple): one full of XSS payloads, one shelter
with a confidential address, one reserved to professionals.
"""
from __future__ import annotations

import html
import json
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient

from directory import backup, connect
from web.app import create_app
from directory.editing import add_closure, save_service, service_entry
from directory.staff import add_user, session_user

PASSWORD = "un mot de passe assez long"
SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
SECRET_STREET = "12 rue du Refuge Secret"
PRO_NAME = "Cellule réservée aux pros (test)"
CONVERSATION = ["mon mari me frappe", "oui", "Chauny", "à moi"]


@pytest.fixture(scope="module")
def pro_app(db_path, model_dir, tmp_path_factory):
    """The app over a writable copy of the session database, with the XSS, shelter and
    pro-only entries, and the accounts lecteur and editeur."""
    from web.settings import Settings

    path = tmp_path_factory.mktemp("pro") / "orientation.db"
    backup(connect(db_path), path)
    app = create_app(Settings.from_env(db=path, model_dir=model_dir))
    d = app.state.directory
    chauny = f"commune-{d.resolve_commune('Chauny').commune.insee}"
    base = service_entry(d.service("reseau-laon-chauny-la-fere"))
    base.update(area=[chauny], situations=["violences_conjugales"], category="reseau_victimes")
    save_service(d, {**base, "id": "xss-test", "name": f"{SCRIPT} Service XSS", "organization": IMG,
                     "description": f"{SCRIPT} {IMG}", "access": IMG, "url": f"https://exemple.fr/{IMG.replace(' ', '')}",
                     "address": {"street": IMG, "postal_code": "02300", "city": SCRIPT},
                     "phones": [{"number": "0323000001", "type": "voice"}], "hours": "Mo-Fr 09:00-12:00"},
                 version=None, username=SCRIPT)
    add_closure(d, "xss-test", "2099-01-01", "2099-01-02", IMG, SCRIPT)
    save_service(d, {**base, "id": "refuge-secret", "name": "Refuge de test",
                     "address": {"street": SECRET_STREET, "postal_code": "02300", "city": "Chauny"},
                     "confidential_address": True, "phones": [{"number": "0323000002", "type": "voice"}]},
                 version=None, username="setup")
    save_service(d, {**base, "id": "pro-secret", "name": PRO_NAME, "visibility": "pro",
                     "phones": [{"number": "0323000003", "type": "voice"}]}, version=None, username="setup")
    add_user(d.db, "lecteur", PASSWORD, "lecteur")
    add_user(d.db, "editeur", PASSWORD, "editeur")
    return app


def client_for(app, role: str | None = None) -> TestClient:
    c = TestClient(app, base_url="https://testserver")
    if role:
        assert c.post("/admin/login", data={"username": role, "password": PASSWORD},
                      follow_redirects=False).status_code == 303
    return c


def chat(client, messages=CONVERSATION, sender="pro-test") -> list[dict]:
    replies = []
    for m in messages:
        r = client.post("/webhooks/rest/webhook", json={"sender": sender, "message": m})
        assert r.status_code == 200
        replies += r.json()
    client.post("/webhooks/rest/webhook", json={"sender": sender, "message": "/effacer"})
    return replies


class Tags(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.script_text = ""
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.script_text += data


def assert_inert(page: str) -> None:
    """No payload became markup: no <img>, no on* attribute, no inline script, and the
    payload text is there, escaped."""
    assert SCRIPT not in page and "<img src=x" not in page
    parser = Tags()
    parser.feed(page)
    assert not [t for t, _ in parser.tags if t == "img"]
    assert not [(t, a) for t, attrs in parser.tags for a in attrs if a.startswith("on")]
    assert all("src" in attrs for t, attrs in parser.tags if t == "script") and not parser.script_text.strip()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page or "&lt;img src=x onerror=alert(1)&gt;" in page


# -- the search -----------------------------------------------------------------------------
def test_pro_works_as_a_plain_get_form(pro_app):
    c = client_for(pro_app)
    r = c.get("/pro", params={"commune": "chony", "situation": "violences_conjugales"})
    assert r.status_code == 200
    page = html.unescape(r.text)
    assert '<form method="get" action="/pro"' in r.text
    assert "pour Chauny (02300)" in page  # the typo was understood
    assert "Violences Femmes Info (3919)" in page and "Appeler le 03 23 79 30 14" in page.replace(
        '<span class="nowrap">', "").replace("</span>", "")
    assert "Pourquoi ce contact :" in page and "Vérifié le 19/10/2021" in page
    assert "24h/24, 7j/7" in page and ("ouvert maintenant" in page or "fermé en ce moment" in page)
    assert "Règles d'orientation appliquées" in page and "local-reseau-victimes" in page
    assert "Signaler une erreur" in page and 'action="/pro/signalement"' in r.text
    # no quick exit here, and no cookie set for anonymous visitors
    assert "exit-link" not in r.text and "set-cookie" not in r.headers


def test_pro_uses_the_same_rules_as_the_chat(pro_app):
    c = client_for(pro_app)
    page = c.get("/pro", params={"commune": "Chauny", "situation": "violences_conjugales"}).text
    shown = [line.split('id="contact-')[1].split('"')[0] for line in page.splitlines() if 'id="contact-' in line]
    lists = [r["custom"]["contacts"] for r in chat(c) if r.get("custom", {}).get("contacts")]
    from web.pages import emergency_contacts

    # The chat may add the emergency numbers first (it heard danger); /pro has no danger flag.
    emergency = {x["id"] for x in emergency_contacts(pro_app)}
    assert shown == [x["id"] for x in lists[-1] if x["id"] not in emergency]


def test_pro_free_text_uses_the_directory_search(pro_app):
    page = html.unescape(client_for(pro_app).get("/pro", params={"q": "juriste", "commune": "Laon"}).text)
    assert "Recherche par mots-clés : aucune règle d'orientation n'a été appliquée." in page
    assert "contact" in page


@pytest.mark.parametrize("params,message", [
    ({"commune": "02300"}, "peut désigner plusieurs communes"),
    ({"commune": "Paris"}, "n'est pas dans le territoire couvert"),
    ({"commune": "Zzzzzzzz"}, "introuvable"),
    ({"situation": "inconnue"}, "Situation inconnue"),
    ({"besoin": "argent"}, "Besoin inconnu"),
    ({"q": "x" * 201}, "Texte trop long"),
])
def test_pro_explains_bad_input_in_french(pro_app, params, message):
    r = client_for(pro_app).get("/pro", params=params)
    assert r.status_code == 200 and message in html.unescape(r.text)
    assert 'id="results"' not in r.text


def test_ambiguous_postal_code_offers_the_communes(pro_app):
    c = client_for(pro_app)
    page = c.get("/pro", params={"commune": "02300", "situation": "violences_conjugales"}).text
    assert "Chauny (02300)" in page and "Sinceny" in page
    link = html.unescape(page.split('aria-label="Communes possibles"')[1].split('href="')[1].split('"')[0])
    assert "pour Chauny (02300)" in html.unescape(c.get(link).text)


def test_print_sheet_and_copy_text(pro_app):
    c = client_for(pro_app, "lecteur")
    page = html.unescape(c.get("/pro", params={"commune": "Chauny", "situation": "violences_conjugales"}).text)
    sheet = page.split('<section class="print-sheet"')[1].split("</section>")[0]
    assert "<h2>Contacts utiles</h2>" in sheet and "Et ensuite" in sheet
    assert "Téléphone : 3919" in sheet and "appelez le 17" in sheet and "SMS au 114" in sheet
    assert PRO_NAME not in sheet  # nothing reserved to professionals on the person's sheet
    assert "Violences dans le couple" not in sheet and "situation" not in sheet.lower()  # neutral
    copy = page.split('<textarea id="copy-text"')[1].split("</textarea>")[0]
    assert "Violences Femmes Info (3919)\n  Tél. : 3919" in copy and PRO_NAME not in copy
    assert 'id="result-tools" hidden' in page  # the buttons need pro.js, which shows them


# -- "signaler une erreur" -------------------------------------------------------------------
def _reports(app, sid):
    return [dict(r) for r in app.state.directory.db.query("SELECT * FROM error_report WHERE service_id = ?", [sid])]


@pytest.fixture
def fresh_limits(pro_app):
    pro_app.state.report_limiter = None
    yield
    pro_app.state.report_limiter = None


def test_report_is_anonymous(pro_app, fresh_limits):
    r = TestClient(pro_app).post("/api/signalements", json={"service_id": "reseau-soissonnais", "kind": "horaires"})
    assert r.status_code == 204 and "set-cookie" not in r.headers
    (row,) = _reports(pro_app, "reseau-soissonnais")
    assert set(row) == {"id", "service_id", "kind", "at", "resolved_at", "resolved_by"} and row["kind"] == "horaires"


@pytest.mark.parametrize("body,field", [
    ({"service_id": "reseau-soissonnais", "kind": "insulte"}, "kind"),
    ({"service_id": "nexiste-pas", "kind": "autre"}, "service_id"),
    ({"service_id": "pro-secret", "kind": "autre"}, "service_id"),  # the public cannot see it
    ({"service_id": "", "kind": "autre"}, "service_id"),
    ({"service_id": ["x"], "kind": "autre"}, "service_id"),
])
def test_report_errors_are_422_in_french(pro_app, fresh_limits, body, field):
    r = TestClient(pro_app).post("/api/signalements", json=body)
    assert r.status_code == 422 and r.json()["field"] == field and r.json()["detail"].startswith("Champ « ")


@pytest.mark.parametrize("content", [
    {"json": {"service_id": "reseau-soissonnais", "kind": "autre", "texte": "un message libre"}},
    {"data": {"service_id": "reseau-soissonnais", "kind": "autre"}},
    {"content": b"pas du json", "headers": {"Content-Type": "application/json"}},
    {"content": b"[]", "headers": {"Content-Type": "application/json"}},
])
def test_report_accepts_no_free_text_and_only_json(pro_app, fresh_limits, content):
    before = len(_reports(pro_app, "reseau-soissonnais"))
    r = TestClient(pro_app).post("/api/signalements", **content)
    assert r.status_code == 422 and "detail" in r.json()
    assert len(_reports(pro_app, "reseau-soissonnais")) == before


def test_report_from_another_site_is_refused(pro_app, fresh_limits):
    r = TestClient(pro_app).post("/api/signalements", json={"service_id": "reseau-soissonnais", "kind": "autre"},
                                 headers={"Sec-Fetch-Site": "cross-site"})
    assert r.status_code == 403
    r = TestClient(pro_app).post("/pro/signalement", data={"service_id": "reseau-soissonnais", "kind": "autre"},
                                 headers={"Sec-Fetch-Site": "cross-site"})
    assert r.status_code == 403


def test_staff_may_report_pro_only_entries(pro_app, fresh_limits):
    c = client_for(pro_app, "lecteur")
    assert c.post("/api/signalements", json={"service_id": "pro-secret", "kind": "telephone"}).status_code == 204


def test_reports_are_rate_limited(pro_app, fresh_limits):
    c = TestClient(pro_app)
    codes = [c.post("/api/signalements", json={"service_id": "cdad-aisne", "kind": "autre"}).status_code
             for _ in range(21)]
    assert codes[:20] == [204] * 20 and codes[20] == 429


def test_report_without_javascript_goes_back_to_the_search(pro_app, fresh_limits):
    c = client_for(pro_app)
    back = "/pro?commune=Chauny&situation=violences_conjugales"
    r = c.post("/pro/signalement", data={"service_id": "utas-la-fere", "kind": "ferme", "back": back},
               follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == back + "&signale=1"
    assert "Merci : votre signalement a été transmis" in c.get(r.headers["location"]).text
    assert _reports(pro_app, "utas-la-fere")[-1]["kind"] == "ferme"
    r = c.post("/pro/signalement", data={"service_id": "utas-la-fere", "kind": "ferme", "back": "https://ailleurs.example/"},
               follow_redirects=False)
    assert r.headers["location"] == "/pro?signale=1"
    r = c.post("/pro/signalement", data={"service_id": "utas-la-fere", "kind": "bof", "back": back})
    assert r.status_code == 422 and "type d&#39;erreur inconnu" in r.text


def test_reported_entries_reach_the_verification_queue(pro_app, fresh_limits):
    TestClient(pro_app).post("/api/signalements", json={"service_id": "ordonnance-de-protection", "kind": "adresse"})
    page = client_for(pro_app, "editeur").get("/admin/verification").text
    (item,) = [li for li in page.split('<li class="queue-item') if "/admin/services/ordonnance-de-protection" in li]
    assert "L&#39;adresse est fausse" in item and "queue-item-flagged" in item


# -- pro-only entries and confidential addresses ---------------------------------------------
def public_outputs(app) -> dict[str, str]:
    """Every public output for Chauny's "violences dans le couple", as text."""
    c = TestClient(app)
    outputs = {
        "api service": c.get("/api/services/refuge-secret").text,
        "api search": c.get("/api/services", params={"commune": "Chauny", "per_page": 500}).text,
        "api search text": c.get("/api/services", params={"q": "refuge test cellule", "per_page": 500}).text,
        "api orientation": c.post("/api/orientation", json={"situation": "violences_conjugales", "commune": "Chauny",
                                                            "needs": ["hebergement"]}).text,
        "chat": json.dumps(chat(c), ensure_ascii=False),
        "chat page": c.get("/").text,
        "pro": c.get("/pro", params={"commune": "Chauny", "situation": "violences_conjugales"}).text,
        "pro text": c.get("/pro", params={"q": "cellule"}).text,
        "pro hebergement": c.get("/pro", params={"commune": "Chauny", "besoin": "hebergement"}).text,
    }
    from fastapi.routing import iter_route_contexts

    for route in iter_route_contexts(app.routes):  # the HSDS endpoints (included routers are lazy)
        path = route.path
        if "hsds" in path.lower() and "{" not in path and "GET" in (route.methods or ()):
            outputs[path] = c.get(path).text
    assert "/hsds/services" in outputs
    return outputs


def test_public_outputs_hold_no_pro_only_entry_nor_confidential_address(pro_app):
    outputs = public_outputs(pro_app)
    assert "Refuge de test" in outputs["api service"]  # the shelter itself is public...
    assert "Refuge de test" in html.unescape(outputs["pro"]) and "Refuge de test" in outputs["chat"]
    for name, text in outputs.items():
        text = html.unescape(text)
        assert SECRET_STREET not in text, name  # ...its address never is
        assert PRO_NAME not in text and "pro-secret" not in text and "0323000003" not in text, name
        assert "uaped-ch-soissons" not in text, name
    assert TestClient(pro_app).get("/api/services/pro-secret").status_code == 404
    assert json.loads(outputs["api service"])["address"] is None


def test_logged_in_professionals_see_pro_only_entries(pro_app):
    c = client_for(pro_app, "lecteur")
    page = html.unescape(c.get("/pro", params={"commune": "Chauny", "situation": "violences_conjugales"}).text)
    assert PRO_NAME in page and "Réservé aux professionnels : ne pas donner à la personne" in page
    assert "UAPED" in html.unescape(c.get("/pro", params={"q": "pédiatrique"}).text)
    assert "UAPED" not in html.unescape(client_for(pro_app).get("/pro", params={"q": "pédiatrique"}).text)
    # even professionals do not get a shelter's address here
    assert SECRET_STREET not in page and "Adresse confidentielle : la personne l'obtient auprès du service." in page


def test_a_disabled_session_sees_the_public_view(pro_app):
    c = client_for(pro_app, "lecteur")
    token = c.cookies.get("__Host-session")
    c.post("/admin/logout", data={"csrf": session_user(pro_app.state.directory.db, token).csrf})
    c.cookies.set("__Host-session", token, domain="testserver")
    assert PRO_NAME not in html.unescape(c.get("/pro", params={"commune": "Chauny", "situation": "violences_conjugales"}).text)


# -- markup typed into an entry stays text -----------------------------------------------------
def test_xss_payloads_are_inert_in_the_admin(pro_app):
    c = client_for(pro_app, "editeur")
    pages = {
        "list": c.get("/admin", params={"q": "xss"}).text,
        "edit": c.get("/admin/services/xss-test").text,
        "journal": c.get("/admin/services/xss-test/journal").text,
        "audit": c.get("/admin/audit").text,
    }
    assert "Service XSS" in pages["list"]
    for name, page in pages.items():
        assert_inert(page)
    # the form gives the values back as typed, for editing
    assert 'value="&#34;&gt;&lt;img src=x onerror=alert(1)&gt;"' in pages["edit"]
    # and a refused save shows them again, still inert
    from web.admin_forms import values_from_entry

    s = pro_app.state.directory.service("xss-test", include_pro=True)
    values = values_from_entry(service_entry(s), s.version)
    data = {k: v for k, v in values.items() if isinstance(v, str)}
    data.update(situations=values["situations"], ages=values["ages"], roles=values["roles"],
                phone_number=["12"], phone_type=["voice"], hours=SCRIPT,
                csrf=session_user(pro_app.state.directory.db, c.cookies.get("__Host-session")).csrf)
    r = c.post("/admin/services/xss-test", data=data)
    assert r.status_code == 422
    assert_inert(r.text)


def test_xss_payloads_are_inert_on_pro(pro_app):
    for role in (None, "lecteur"):
        c = client_for(pro_app, role)
        for params in ({"commune": "Chauny", "situation": "violences_conjugales"}, {"q": "XSS"}):
            page = c.get("/pro", params=params).text
            assert "Service XSS" in page, params
            assert_inert(page)
            assert 'href="https://exemple.fr/&#34;&gt;&lt;img' in page  # the link stays one attribute


def test_xss_payloads_stay_data_in_the_public_api_and_the_chat(pro_app):
    c = TestClient(pro_app)
    r = c.get("/api/services/xss-test")
    assert r.headers["content-type"] == "application/json" and r.headers["x-content-type-options"] == "nosniff"
    assert r.json()["name"] == f"{SCRIPT} Service XSS"  # data, never markup
    replies = chat(c)
    names = [x["name"] for rep in replies for x in rep.get("custom", {}).get("contacts", [])]
    assert f"{SCRIPT} Service XSS" in names
    # the chat page itself holds none of it (contacts are drawn by chat.js as text)
    assert SCRIPT not in c.get("/").text
