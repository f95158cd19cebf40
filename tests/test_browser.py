"""The chat page in a real browser (Debian's Chromium driven by Playwright).

A module fixture starts `orientation serve` on a free loopback port, with the quick
exit pointing at a second tiny local server (a "Météo" page), so nothing needs the
internet. Browsers are never downloaded: Debian's /usr/bin/chromium is used, and the
tests are skipped, with the reason, when it is absent.
"""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from conftest import CHROMIUM, axe_violations, serve

if not CHROMIUM.exists():
    pytest.skip("Debian chromium absent: apt-get install chromium", allow_module_level=True)
pytest.importorskip("playwright.sync_api", reason="playwright absent: pip install playwright")

ROOT = Path(__file__).resolve().parent.parent
MOBILE = {"width": 360, "height": 740}
# The answer buttons this conversation uses, whichever questions the bot asks.
PREFERRED = ["Oui, je suis en sécurité", "À moi", "Non, adulte", "Violences dans le couple"]
TIMEOUT_MS = 10_000


class _Weather(BaseHTTPRequestHandler):
    """The neutral site the quick exit opens. Records the Referer headers it receives."""

    referers: list[str | None] = []
    PAGE = ("<!doctype html><html lang=\"fr\"><head><meta charset=\"utf-8\"><title>Météo</title></head>"
            "<body><h1>Météo</h1><p>Ensoleillé.</p></body></html>").encode()

    def do_GET(self):
        if self.path.startswith("/meteo"):  # not /favicon.ico, asked by the weather page itself
            type(self).referers.append(self.headers.get("Referer"))
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(self.PAGE)))
        self.end_headers()
        self.wfile.write(self.PAGE)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def exit_site():
    """A local "Météo" page on its own loopback port: the quick exit's destination."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Weather)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/meteo"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def server(db_path, model_dir, exit_site, tmp_path_factory):
    """`orientation serve` in a subprocess over the session database; yields its base URL."""
    log = tmp_path_factory.mktemp("server") / "server.log"
    with serve(db_path, model_dir, log, ORIENTATION_EXIT_URL=exit_site) as base:
        yield base


@pytest.fixture
def context(browser):
    """A fresh browser profile (no cookies, no storage), phone-sized, in French."""
    ctx = browser.new_context(viewport=MOBILE, locale="fr-FR")
    ctx.set_default_timeout(TIMEOUT_MS)
    yield ctx
    ctx.close()


# -- helpers -----------------------------------------------------------------------------
def open_chat(page, server):
    page.goto(server + "/")
    page.locator("#chat").wait_for(state="visible")  # chat.js has started


def bot_count(page) -> int:
    return page.locator("#log .message-bot").count()


def wait_reply(page, before: int) -> None:
    page.wait_for_function(
        "n => document.querySelectorAll('#log .message-bot').length > n && document.getElementById('wait').hidden",
        arg=before)


def log_text(page) -> str:
    return page.locator("#log").inner_text()


def tab_until(page, js_test: str, key: str = "Tab", limit: int = 60) -> None:
    """Press `key` until the focused element passes `js_test` (a function of the element)."""
    for _ in range(limit):
        page.keyboard.press(key)
        if page.evaluate(f"(({js_test}))(document.activeElement)"):
            return
    pytest.fail(f"{key} never reached the element ({js_test}); the log says:\n{log_text(page)}")


def converse(page, first: str, keyboard: bool = False) -> int:
    """Tell the bot `first`, then answer its questions (buttons when offered, "Chauny" for
    the commune) until a recommendation with the 3919 appears. Returns how many answer
    buttons were used. With keyboard=True, only the keyboard is used."""
    before = bot_count(page)
    if keyboard:
        tab_until(page, "el => el.id === 'message'")
        page.keyboard.type(first)
        page.keyboard.press("Enter")
    else:
        page.fill("#message", first)
        page.click("#send")
    wait_reply(page, before)
    used = 0
    for turn in range(8):
        if page.locator(".contact", has_text="3919").count():
            return used
        before = bot_count(page)
        choices = page.locator("#log .choices button")
        if choices.count():
            titles = choices.all_inner_texts()
            title = next((t for t in PREFERRED if t in titles), None)
            assert title, f"no expected answer among the buttons {titles}"
            if keyboard:
                # The buttons come before the text field: go back to them.
                tab_until(page, f"el => el.tagName === 'BUTTON' && el.textContent.trim() === {title!r}",
                          key="Shift+Tab")
                page.keyboard.press("Enter" if turn % 2 == 0 else " ")
            else:
                choices.filter(has_text=title).click()
            used += 1
            # The button's title is shown as the person's answer.
            page.locator("#log .message-user", has_text=title).wait_for()
        elif page.locator("#log .message-bot").last.get_attribute("data-asks") == "commune":
            if keyboard:
                if not page.evaluate("document.activeElement.id === 'message'"):
                    tab_until(page, "el => el.id === 'message'", key="Shift+Tab")
                page.keyboard.type("Chauny")
                page.keyboard.press("Enter")
            else:
                page.fill("#message", "Chauny")
                page.press("#message", "Enter")
        else:
            pytest.fail(f"unexpected turn; the log says:\n{log_text(page)}")
        wait_reply(page, before)
    pytest.fail(f"no recommendation after 8 turns; the log says:\n{log_text(page)}")


# -- tests -------------------------------------------------------------------------------
def test_full_conversation(page, server):
    open_chat(page, server)
    converse(page, "mon mari me frappe")
    cards = page.locator("#log .contact")
    text = cards.all_inner_texts()
    assert any("3919" in t for t in text) and any("03 23 79 30 14" in t for t in text)
    assert page.locator('.contact a[href="tel:3919"]').count() >= 1
    assert page.locator('.contact a[href="tel:+33323793014"]').count() >= 1
    assert page.locator('.contact a[href^="tel:"]').first.is_visible()
    # "Pourquoi ce contact ?" opens on the reason; printing is offered.
    details = page.locator(".contact details").first
    details.locator("summary").click()
    assert details.locator("[data-field=why]").is_visible()
    assert page.locator("#print").is_visible()
    # The message never went into the URL.
    assert page.url == server + "/"


def test_shift_three_times_leaves_for_good(page, server, exit_site):
    page.goto("about:blank")
    open_chat(page, server)
    referers = len(_Weather.referers)
    page.locator("#message").click()
    for _ in range(3):
        page.keyboard.press("Shift")
    page.wait_for_url(lambda url: url.startswith(exit_site))
    assert "Météo" in page.content()
    assert _Weather.referers[referers:] == [None], "the exit sent a Referer"
    page.go_back()
    page.wait_for_load_state()
    assert not page.url.startswith(server), f"Back returned to the site: {page.url}"


def test_shift_with_other_keys_does_not_leave(page, server):
    """Typing capitals (Shift+letter) must not count as the exit shortcut."""
    open_chat(page, server)
    page.locator("#message").click()
    page.keyboard.type("Mon Mari Est Là")
    page.keyboard.press("Shift+A")
    page.wait_for_timeout(300)
    assert page.url.startswith(server)


def test_exit_link_leaves_for_good(page, server, exit_site):
    page.goto("about:blank")
    open_chat(page, server)
    referers = len(_Weather.referers)
    page.locator("#exit-link").click()
    page.wait_for_url(lambda url: url.startswith(exit_site))
    assert _Weather.referers[referers:] == [None], "the exit sent a Referer"
    page.go_back()
    page.wait_for_load_state()
    assert not page.url.startswith(server), f"Back returned to the site: {page.url}"


def test_exit_blanks_the_page_before_leaving(page, server, exit_site):
    """What the person sees while the weather page loads: nothing of the chat."""
    open_chat(page, server)
    before = bot_count(page)
    page.fill("#message", "bonjour")
    page.press("#message", "Enter")
    wait_reply(page, before)
    # Click and look in the same task, before the browser can start the next page.
    seen = page.evaluate("""() => {
        document.getElementById('exit-link').click();
        return {
            exiting: document.documentElement.classList.contains('exiting'),
            pageShown: getComputedStyle(document.getElementById('page')).display !== 'none',
            overlay: !document.getElementById('exit-overlay').hidden,
            messages: document.querySelectorAll('#log .message').length,
        };
    }""")
    assert seen == {"exiting": True, "pageShown": False, "overlay": True, "messages": 0}
    page.wait_for_url(lambda url: url.startswith(exit_site))


def test_without_javascript_the_link_and_numbers_work(browser, server, exit_site):
    ctx = browser.new_context(java_script_enabled=False, viewport=MOBILE, locale="fr-FR")
    try:
        page = ctx.new_page()
        page.goto(server + "/")
        link = page.locator("#exit-link")
        assert link.get_attribute("href") == exit_site and link.is_visible()
        assert "noreferrer" in link.get_attribute("rel")
        emergency = page.locator("#emergency")
        assert emergency.is_visible()
        assert emergency.locator('a[href="tel:17"]').count() == 1
        assert emergency.locator('a[href="tel:112"]').count() == 1
        assert emergency.locator('a[href="sms:114"]').count() == 1
        note = page.locator(".noscript-note")  # (Playwright's text search skips <noscript>)
        assert note.is_visible() and "fonctionnent sans JavaScript" in note.inner_text()
        assert page.locator("#chat").is_hidden()  # no form that would put a message in a URL
        referers = len(_Weather.referers)
        link.click()
        page.wait_for_url(lambda url: url.startswith(exit_site))
        assert _Weather.referers[referers:] == [None]
    finally:
        ctx.close()


def test_nothing_stays_in_the_browser(context, page, server):
    open_chat(page, server)
    length = page.evaluate("history.length")
    converse(page, "mon mari me frappe")
    assert context.cookies() == []
    assert page.evaluate("localStorage.length") == 0
    assert page.evaluate("sessionStorage.length") == 0
    assert page.evaluate("indexedDB.databases().then(dbs => dbs.length)") == 0
    assert page.evaluate("history.length") == length, "the chat added history entries"
    assert page.url == server + "/"


def test_keyboard_only(page, server):
    open_chat(page, server)
    used = converse(page, "mon conjoint m'insulte", keyboard=True)
    assert used >= 1, "the conversation should have used at least one answer button"
    assert page.locator(".contact", has_text="3919").count()
    # A recommendation's call link is reachable with the keyboard, and not hidden
    # under the sticky exit bar once focused.
    tab_until(page, "el => el.matches('.contact a[href^=\"tel:\"]')", key="Shift+Tab", limit=120)
    box = page.evaluate("(() => { const r = document.activeElement.getBoundingClientRect();"
                        " const bar = document.getElementById('exit-bar').getBoundingClientRect();"
                        " return [r.top, bar.bottom]; })()")
    assert box[0] >= box[1], f"the focused link is under the exit bar: {box}"
    # Then every stop of the Tab order, forward, stays visible below the bar.
    for _ in range(80):
        page.keyboard.press("Tab")
        where = page.evaluate("""() => {
            const el = document.activeElement, bar = document.getElementById('exit-bar');
            if (!el || el === document.body || bar.contains(el)) return null;
            const r = el.getBoundingClientRect();
            return [el.outerHTML.slice(0, 80), r.top, bar.getBoundingClientRect().bottom];
        }""")
        if where:
            assert where[1] >= where[2] - 1, f"focus hidden under the exit bar: {where}"


def test_erase_clears_the_screen_and_starts_a_new_conversation(page, server):
    bodies = []
    page.on("request", lambda r: bodies.append(r.post_data_json) if r.url.endswith("/webhooks/rest/webhook") else None)
    open_chat(page, server)
    before = bot_count(page)
    page.fill("#message", "mon mari me frappe")
    page.press("#message", "Enter")
    wait_reply(page, before)
    assert page.locator("#print").is_visible()
    page.click("#erase")
    page.wait_for_function("() => document.getElementById('log').textContent.includes('effacé')")
    assert page.locator("#log .message").count() == 1 and "mari" not in log_text(page)
    assert page.locator("#print").is_hidden()
    before = bot_count(page)
    page.fill("#message", "bonjour")
    page.press("#message", "Enter")
    wait_reply(page, before)
    assert [b["message"] for b in bodies] == ["mon mari me frappe", "/effacer", "bonjour"]
    assert bodies[0]["sender"] == bodies[1]["sender"] != bodies[2]["sender"]
    assert len(bodies[0]["sender"]) >= 32


@pytest.mark.parametrize("viewport", [MOBILE, {"width": 1280, "height": 900}], ids=["mobile", "desktop"])
def test_axe_wcag22_aa(browser, server, viewport):
    ctx = browser.new_context(viewport=viewport, locale="fr-FR")
    ctx.set_default_timeout(TIMEOUT_MS)
    try:
        page = ctx.new_page()
        open_chat(page, server)
        found = axe_violations(page)
        assert not found, f"axe, page before a conversation:\n{found}"
        converse(page, "mon conjoint m'insulte")
        page.locator(".contact details").first.locator("summary").click()
        found = axe_violations(page)
        assert not found, f"axe, page after a conversation:\n{found}"
    finally:
        ctx.close()


def test_xss_payloads_render_as_text(page, server):
    open_chat(page, server)
    for payload in ("<img src=x onerror=alert(1)>", "\"><script>alert(1)</script>"):
        before = bot_count(page)
        page.fill("#message", payload)
        page.press("#message", "Enter")
        wait_reply(page, before)
        assert page.locator("#log .message-user .message-text").last.text_content() == payload
    assert page.locator("#log img, #log script").count() == 0
    page.wait_for_timeout(200)
    assert page.dialogs == [], f"a dialog fired: {page.dialogs}"
