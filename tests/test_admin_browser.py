"""The staff pages in a real browser (Debian's Chromium driven by Playwright).

A module fixture serves a writable copy of the session database on a loopback port,
over plain http and without ORIENTATION_INSECURE_COOKIES: Chromium treats
http://127.0.0.1 as a secure context and keeps the Secure `__Host-session` cookie,
which these tests rely on. Browsers are never downloaded; the tests are skipped,
with the reason, when /usr/bin/chromium is absent.

The screenshots of docs/screenshots/ are taken here (README).
"""
from __future__ import annotations

import json
import os
import re
import urllib.request
from datetime import date, datetime
from pathlib import Path

import pytest

from conftest import CHROMIUM, axe_violations  # noqa: E402

if not CHROMIUM.exists():
    pytest.skip("Debian chromium absent: apt-get install chromium", allow_module_level=True)
pytest.importorskip("playwright.sync_api", reason="playwright absent: pip install playwright")

from conftest import serve  # noqa: E402
from directory import backup, connect  # noqa: E402
from directory.hours import PARIS  # noqa: E402
from directory.staff import add_user  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "docs" / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
TIMEOUT_MS = 10_000
PASSWORD = "un mot de passe assez long"
TARGET = "reseau-laon-chauny-la-fere"
OLD, NEW = "0323793014", "0323793099"


SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'


def _add_xss_entry(db: Path) -> None:
    """An entry for Laon whose every text field holds markup (Chauny's pages stay clean
    for the screenshots)."""
    from directory import Directory
    from directory.editing import save_service, service_entry

    d = Directory.open(db)
    entry = service_entry(d.service(TARGET))
    laon = f"commune-{d.resolve_commune('Laon').commune.insee}"
    save_service(d, {**entry, "id": "xss-navigateur", "name": f"{SCRIPT} Service XSS", "organization": IMG,
                     "description": f"{SCRIPT} {IMG}", "access": IMG, "area": [laon],
                     "url": "https://exemple.fr/" + IMG.replace(" ", ""),
                     "address": {"street": IMG, "postal_code": "02000", "city": SCRIPT}},
                 version=None, username="setup")
    d.db.conn.close()


@pytest.fixture(scope="module")
def site(db_path, model_dir, tmp_path_factory):
    """The server over a writable copy of the session database, with an editor and an
    admin account; yields (base URL, database path)."""
    work = tmp_path_factory.mktemp("admin-browser")
    db = work / "orientation.db"
    backup(connect(db_path), db)
    _add_xss_entry(db)
    conn = connect(db)
    add_user(conn, "claire.martin", PASSWORD, "editeur")
    add_user(conn, "admin", PASSWORD, "admin")
    add_user(conn, "sophie.assistante", PASSWORD, "lecteur")
    conn.conn.close()
    # without ORIENTATION_INSECURE_COOKIES: the Secure __Host- cookie, as in production
    os.environ.pop("ORIENTATION_INSECURE_COOKIES", None)
    with serve(db, model_dir, work / "server.log") as base:
        yield base, db


@pytest.fixture
def context(browser):
    ctx = browser.new_context(viewport=DESKTOP, locale="fr-FR")
    ctx.set_default_timeout(TIMEOUT_MS)
    yield ctx
    ctx.close()


# -- helpers ---------------------------------------------------------------------------------
def get_json(url: str):
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.loads(r.read())


def post_json(url: str, body: dict):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read()) if r.status != 204 else None


def chat_contacts(base: str, sender: str) -> list[dict]:
    """A new conversation on the REST channel; every contact it proposes."""
    found = []
    for message in ("mon mari me frappe", "oui", "Chauny", "à moi"):
        for reply in post_json(base + "/webhooks/rest/webhook", {"sender": sender, "message": message}):
            found += reply.get("custom", {}).get("contacts", [])
    post_json(base + "/webhooks/rest/webhook", {"sender": sender, "message": "/effacer"})
    return found


def login(page, base: str, username: str) -> None:
    page.goto(base + "/admin/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def reveal(page, selector: str) -> None:
    """Open the closed plan group (<details>) that holds `selector`, as a person would:
    by its summary (this works without JavaScript too)."""
    closed = page.locator("details.plan-group:not([open])", has=page.locator(selector))
    if closed.count():
        closed.first.locator(":scope > summary").click()


def shot(page, name: str, **kwargs) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), **kwargs)


def audit_rows(db: Path, entry: str) -> list[tuple]:
    conn = connect(db)
    try:
        return conn.execute("SELECT username, action, field, before, after FROM audit_log WHERE entry = ? ORDER BY id",
                            [entry]).fetchall()
    finally:
        conn.conn.close()


# -- the story of the issue ---------------------------------------------------------------------
def test_editor_changes_a_phone_and_everyone_sees_it(page, site, context):
    base, db = site
    assert OLD in json.dumps(get_json(f"{base}/api/services/{TARGET}"))

    # An editor logs in; the session cookie is __Host-, Secure, HttpOnly, SameSite=Strict.
    page.goto(base + "/admin/login")
    page.fill("#username", "claire.martin")
    page.fill("#password", PASSWORD)
    shot(page, "login")
    page.click("button[type=submit]")
    page.wait_for_url(base + "/admin")
    (cookie,) = context.cookies()
    assert (cookie["name"], cookie["secure"], cookie["httpOnly"], cookie["sameSite"], cookie["path"]) == \
        ("__Host-session", True, True, "Strict", "/")
    page.fill("#f-q", "Laon Chauny")
    page.click(".filters button[type=submit]")
    page.fill("#f-q", "")
    page.goto(base + "/admin")
    shot(page, "service-list")

    # An invalid phone is refused next to the field, and nothing changes.
    page.goto(f"{base}/admin/services/{TARGET}")
    page.fill("#field-phone-0", "03 23 79")
    page.click("#save-button")
    error = page.locator("#phones-error")
    assert error.is_visible() and "n'a pas la forme d'un numéro français" in error.inner_text()
    assert page.locator("#field-phone-0").get_attribute("aria-invalid") == "true"
    assert page.locator("#field-phone-0").input_value() == "03 23 79"  # what was typed is kept
    assert page.locator("#error-summary").is_visible()
    page.locator("#phones").scroll_into_view_if_needed()
    page.evaluate("window.scrollBy(0, -200)")
    shot(page, "edit-form-error")
    assert OLD in json.dumps(get_json(f"{base}/api/services/{TARGET}"))
    assert NEW not in json.dumps(get_json(f"{base}/api/services/{TARGET}"))
    assert not [r for r in audit_rows(db, TARGET) if r[1] == "modification"]

    # The right number is saved, then the entry is marked verified today.
    page.fill("#field-phone-0", "03 23 79 30 99")
    page.click("#save-button")
    page.wait_for_url(f"{base}/admin/services/{TARGET}?ok=saved")
    assert "Modifications enregistrées" in page.inner_text("main")
    page.click("#verify-button")
    page.wait_for_url(re.compile(r".*ok=verified"))
    assert "vérifiée aujourd'hui" in page.inner_text("main")

    # The public API and a new chat conversation give the new number.
    body = get_json(f"{base}/api/services/{TARGET}")
    assert body["phone"] == NEW and body["phone_display"] == "03 23 79 30 99" and OLD not in json.dumps(body)
    assert body["verified_on"] == date.today().isoformat()
    contacts = [c for c in chat_contacts(base, "navigateur-1") if c["id"] == TARGET]
    assert contacts and all(c["phone"] == NEW and c["tel"] == "tel:+33323793099" for c in contacts)

    # The journal says who, when, before and after.
    page.goto(f"{base}/admin/services/{TARGET}/journal")
    row = page.locator("table.audit tbody tr", has_text="Téléphones")
    text = row.inner_text()
    assert "claire.martin" in text and "03 23 79 30 14 (appel)" in text and "03 23 79 30 99 (appel)" in text
    # the journal shows Paris time: the day is Paris's, not the machine's (they differ near midnight)
    assert re.search(datetime.now(PARIS).strftime("%d/%m/%Y") + r" à \d\d:\d\d", text)
    verified = page.locator("table.audit tbody tr", has_text="vérification").inner_text()
    assert "claire.martin" in verified and "19/10/2021" in verified and date.today().strftime("%d/%m/%Y") in verified
    shot(page, "audit-log")
    assert audit_rows(db, TARGET)[-2:] == [
        ("claire.martin", "modification", "phones", f'[{{"number": "{OLD}", "type": "voice"}}]',
         f'[{{"number": "{NEW}", "type": "voice"}}]'),
        ("claire.martin", "vérification", "verified_on", '"2021-10-19"', f'"{date.today().isoformat()}"'),
    ]

    # Logging out revokes the session: the same cookie, sent again, opens nothing.
    page.click(".staff-account button")
    page.wait_for_url(re.compile(r".*/admin/login\?out=1"))
    context.add_cookies([{**cookie}])
    page.goto(base + "/admin")
    assert page.url.startswith(base + "/admin/login?next=")


def test_verification_queue_and_axe(page, site):
    base, _ = site
    post_json(base + "/api/signalements", {"service_id": "utas-la-fere", "kind": "telephone"})
    login(page, base, "claire.martin")
    page.goto(base + "/admin/verification")
    first = page.locator(".queue-item").first
    assert "UTAS de La Fère" in first.inner_text() and "Le numéro ne marche pas" in first.inner_text()
    shot(page, "verification-queue")
    found = axe_violations(page)
    assert not found, f"axe, verification queue:\n{found}"


def test_campaign_signals_per_territory_and_axe(page, site):
    """The watch's alert on the network of Laon, Chauny, La Fère shows with its source in
    its territory; "Vérifié aujourd'hui" closes it; axe finds nothing."""
    from directory import Directory
    from directory.watch import load_watch

    base, db = site
    d = Directory.open(db)
    load_watch(d, ROOT / "tests" / "data" / "veille-fixture.md")
    d.db.conn.close()
    login(page, base, "claire.martin")
    page.goto(base + "/admin/verification")
    page.select_option("#territoire", "arr-022")
    page.click("form.filters button[type=submit]")
    page.wait_for_load_state()
    assert page.url.endswith("/admin/verification?territoire=arr-022")
    card = page.locator(f"#fiche-{TARGET}")
    assert "Alerte : l'association a fermé" in card.inner_text()
    assert card.locator("a[href='https://exemple.fr/source-2']").count() == 1
    shot(page, "verification-signals")
    found = axe_violations(page)
    assert not found, f"axe, campaign:\n{found}"
    card.locator("button.button-call").click()
    page.wait_for_load_state()
    assert "fiche vérifiée aujourd'hui" in page.locator("[role=status]").first.inner_text()
    assert "l'association a fermé" not in page.content()
    page.goto(base + "/admin/verification?territoire=arr-024")
    assert "Accueil de test de Soissons" in page.locator("#hors-annuaire ~ ul").inner_text()
    found = axe_violations(page)
    assert not found, f"axe, campaign (Soissons):\n{found}"


@pytest.mark.parametrize("path", ["/admin/login", "/admin", f"/admin/services/{TARGET}",
                                  f"/admin/services/{TARGET}/journal", "/admin/audit", "/admin/services/new",
                                  "/admin/users", "/pro?commune=Chauny&situation=violences_conjugales"])
def test_staff_pages_have_no_wcag_violation(page, site, path):
    base, _ = site
    if path != "/admin/login":
        login(page, base, "admin")
    page.goto(base + path)
    found = axe_violations(page)
    assert not found, f"axe, {path}:\n{found}"


def test_edit_form_with_errors_has_no_wcag_violation(page, site):
    base, _ = site
    login(page, base, "claire.martin")
    page.goto(f"{base}/admin/services/{TARGET}")
    page.fill("#field-phone-0", "12")
    page.fill("#field-hours", "tous les jours")
    page.click("#save-button")
    assert page.locator("#hours-error").is_visible()
    found = axe_violations(page)
    assert not found, f"axe, edit form with errors:\n{found}"


# -- /pro -------------------------------------------------------------------------------------
def test_pro_search_suggestions_copy_print_and_report(browser, site):
    base, db = site
    ctx = browser.new_context(viewport=DESKTOP, locale="fr-FR")
    ctx.set_default_timeout(TIMEOUT_MS)
    ctx.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
    try:
        page = ctx.new_page()
        page.goto(base + "/pro")
        page.fill("#commune", "chaun")
        page.wait_for_function("() => document.querySelectorAll('#commune-list option').length > 0")
        options = page.eval_on_selector_all("#commune-list option", "els => els.map(e => e.value)")
        assert "Chauny (02300)" in options
        page.fill("#commune", "Chauny (02300)")
        page.select_option("#situation", "violences_conjugales")
        page.click("#pro-form button[type=submit]")
        page.wait_for_load_state()
        assert "pour Chauny (02300)" in page.inner_text("#results-title")
        card = page.locator("#contact-reseau-laon-chauny-la-fere")
        assert "Pourquoi ce contact" in card.inner_text() and "Vérifié le" in card.inner_text()
        assert page.locator(".rules summary").is_visible()
        # copy to the clipboard
        page.click("#copy-contacts")
        page.wait_for_function("() => document.getElementById('copy-status').textContent.length > 0")
        assert "Contacts copiés" in page.inner_text("#copy-status")
        assert "Violences Femmes Info (3919)" in page.evaluate("navigator.clipboard.readText()")
        # the printed sheet: only it, under a neutral heading
        page.emulate_media(media="print")
        assert page.locator(".print-sheet").is_visible() and not page.locator("#pro-form").is_visible()
        assert page.locator(".print-sheet h2").first.inner_text() == "Contacts utiles"
        page.emulate_media(media="screen")
        assert not page.locator(".print-sheet").is_visible()
        # "signaler une erreur" without leaving the page
        reveal(page, "#contact-utas-la-fere")
        page.locator("#contact-utas-la-fere summary").click()
        page.locator("#contact-utas-la-fere input[value=horaires]").check()
        page.locator("#contact-utas-la-fere .report-form button").click()
        page.wait_for_function("() => document.querySelector('#contact-utas-la-fere .report-status').textContent.length > 0")
        assert "Merci" in page.inner_text("#contact-utas-la-fere .report-status")
        assert page.url.startswith(base + "/pro?")
        page.locator("#contact-utas-la-fere summary").click()
        page.set_viewport_size({"width": 1280, "height": 1500})
        # the answer (a plan: "À contacter d'abord", the groups...), from the results' title
        page.evaluate("document.getElementById('results').scrollIntoView()")
        shot(page, "pro-results")
        page.set_viewport_size(DESKTOP)
        conn = connect(db)
        assert conn.execute("SELECT COUNT(*) FROM error_report WHERE service_id = 'utas-la-fere' AND kind = 'horaires'"
                            ).fetchone()[0] >= 1
        conn.conn.close()
        assert ctx.cookies() == []  # anonymous use of /pro leaves nothing in the browser
    finally:
        ctx.close()


def test_pro_without_javascript(browser, site):
    base, _ = site
    ctx = browser.new_context(java_script_enabled=False, viewport=DESKTOP, locale="fr-FR")
    try:
        page = ctx.new_page()
        page.goto(base + "/pro")
        page.fill("#commune", "chony")
        page.select_option("#situation", "violences_conjugales")
        page.click("#pro-form button[type=submit]")
        page.wait_for_load_state()
        assert "pour Chauny (02300)" in page.inner_text("#results-title")
        assert page.locator("#result-tools").is_hidden()  # needs pro.js
        page.locator("#copy-box summary").click()
        assert "3919" in page.locator("#copy-text").input_value()
        # the last card of the answer (behind "Voir tous les contacts" when the plan has it)
        card = "#" + page.locator('#results article.contact[id^="contact-"]').last.get_attribute("id")
        reveal(page, card)
        page.locator(f"{card} .contact-report summary").click()
        page.locator(f"{card} input[value=autre]").check()
        page.locator(f"{card} .report-form button").click()
        page.wait_for_load_state()
        assert "Merci : votre signalement a été transmis" in page.inner_text("main")
        assert "pour Chauny (02300)" in page.inner_text("#results-title")  # back to the same search
    finally:
        ctx.close()


def test_professional_logs_in_and_sees_pro_only_entries(page, site):
    base, _ = site
    page.goto(base + "/pro?q=p%C3%A9diatrique")
    assert "UAPED" not in page.inner_text("main")
    page.click("text=se connecter")
    page.fill("#username", "sophie.assistante")
    page.fill("#password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(base + "/pro")
    page.goto(base + "/pro?q=p%C3%A9diatrique")
    assert "UAPED" in page.inner_text("main") and "Réservé aux professionnels" in page.inner_text("main")
    # a lecteur cannot open the administration
    page.goto(base + "/admin")
    assert "Votre compte ne donne pas accès à cette page" in page.inner_text("main")


# -- the public chat's "signaler une erreur" ------------------------------------------------------
def test_chat_cards_offer_an_anonymous_report(browser, site):
    base, db = site
    ctx = browser.new_context(viewport={"width": 360, "height": 740}, locale="fr-FR")
    ctx.set_default_timeout(TIMEOUT_MS)
    try:
        page = ctx.new_page()
        page.goto(base + "/")
        page.locator("#chat").wait_for(state="visible")
        for message in ("mon mari me frappe", "Chauny"):
            before = page.locator("#log .message-bot").count()
            page.fill("#message", message)
            page.press("#message", "Enter")
            page.wait_for_function("n => document.querySelectorAll('#log .message-bot').length > n && "
                                   "document.getElementById('wait').hidden", arg=before)
        # in danger the plan keeps 17 first: the network may be in a closed group; open it as a person would
        group = page.locator("#log details:has(.contact:has-text('Réseau de Laon')):not([open]) > summary")
        if group.count():
            group.last.click()
        card = page.locator(".message-contacts .contact", has_text="Réseau de Laon").first
        card.wait_for()
        # nothing to report in the emergency block, only the numbers
        assert page.locator(".message-emergency .contact-report").count() == 0
        card.locator(".contact-report summary").click()
        card.locator("button[data-kind=telephone]").click()
        status = card.locator(".report-status")
        page.wait_for_function("el => el.textContent.length > 0", arg=status.element_handle())
        assert "Merci" in status.inner_text()
        conn = connect(db)
        assert conn.execute("SELECT COUNT(*) FROM error_report WHERE service_id = ? AND kind = 'telephone'",
                            [TARGET]).fetchone()[0] >= 1
        conn.conn.close()
        assert ctx.cookies() == [] and page.evaluate("localStorage.length + sessionStorage.length") == 0
    finally:
        ctx.close()


# -- markup typed into an entry stays text, in every page that shows it --------------------------
def _no_markup(page, scope: str) -> None:
    assert page.locator(f"{scope} img, {scope} script").count() == 0
    page.wait_for_timeout(200)
    assert page.dialogs == [], f"a dialog fired: {page.dialogs}"


def test_xss_payloads_render_as_text_everywhere(page, site):
    base, _ = site
    # the public chat draws the contact cards with textContent
    page.goto(base + "/")
    page.locator("#chat").wait_for(state="visible")
    for message in ("mon mari me frappe", "Laon"):
        before = page.locator("#log .message-bot").count()
        page.fill("#message", message)
        page.press("#message", "Enter")
        page.wait_for_function("n => document.querySelectorAll('#log .message-bot').length > n && "
                               "document.getElementById('wait').hidden", arg=before)
    card = page.locator(".contact", has_text="Service XSS").first
    card.wait_for()
    assert card.locator(".contact-name").text_content() == f"{SCRIPT} Service XSS"
    _no_markup(page, "#log")
    # /pro, anonymous
    page.goto(base + "/pro?commune=Laon&situation=violences_conjugales")
    card = page.locator("#contact-xss-navigateur")
    assert card.locator(".contact-name").text_content() == f"{SCRIPT} Service XSS"
    assert card.locator(".contact-url a").get_attribute("href") == "https://exemple.fr/" + IMG.replace(" ", "")
    _no_markup(page, "main")
    # the administration: list, form, journal
    login(page, base, "claire.martin")
    for path in ("/admin?q=xss", "/admin/services/xss-navigateur", "/admin/services/xss-navigateur/journal",
                 "/admin/audit"):
        page.goto(base + path)
        assert "Service XSS" in page.inner_text("main")
        _no_markup(page, "main")
    page.goto(base + "/admin/services/xss-navigateur")
    assert page.locator("#field-organization").input_value() == IMG
