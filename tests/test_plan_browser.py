"""The answer as a plan, in a real browser (Debian's Chromium driven by Playwright): the
chat widget, its printed view, and /pro with and without JavaScript (issue 11).

The chat's dialogue belongs to bot/; to test the widget on every part of a plan, the
browser's request to the chat endpoint is answered with a final message shaped as the
plan contract says (tests/plan_contract.py: the real rules' contacts, grouped by the
rules' plan when it exists), so the page's own code (fetch, rendering, printing) runs
unchanged. When the real dialogue sends a plan, one more test follows a real
conversation and takes the README screenshot of the answer.
"""
from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from conftest import CHROMIUM, axe_violations, serve

if not CHROMIUM.exists():
    pytest.skip("Debian chromium absent: apt-get install chromium", allow_module_level=True)
pytest.importorskip("playwright.sync_api", reason="playwright absent: pip install playwright")

from plan_contract import chat_message  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "docs" / "screenshots"
MOBILE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 900}
TIMEOUT_MS = 10_000
TRIGGER = "mon mari me frappe, j'habite à Chauny"
PRO = "/pro?commune=Chauny&situation=violences_conjugales"


@pytest.fixture(scope="module")
def server(db_path, model_dir, tmp_path_factory):
    log = tmp_path_factory.mktemp("plan-browser") / "server.log"
    with serve(db_path, model_dir, log) as base:
        yield base


@pytest.fixture(scope="module")
def plan_message(directory, orienter) -> dict:
    """The final answer for violences dans le couple at Chauny, with a need for shelter
    (a need group, and a step done through a service), as the dialogue sends it."""
    from rules import build_request

    request = build_request(directory.vocabulary, situation="violences_conjugales", needs=["hebergement"],
                            commune=directory.resolve_commune("Chauny").commune.insee)
    return chat_message(orienter, request)


@pytest.fixture
def context(browser):
    ctx = browser.new_context(viewport=MOBILE, locale="fr-FR")
    ctx.set_default_timeout(TIMEOUT_MS)
    yield ctx
    ctx.close()


# -- helpers ---------------------------------------------------------------------------------
def answer_with(page, replies: dict[str, list[dict]]) -> None:
    """The chat endpoint answers these messages with these replies; any other message
    goes to the real server."""
    def handle(route):
        body = route.request.post_data_json or {}
        if body.get("message") in replies:
            route.fulfill(status=200, content_type="application/json",
                          body=json.dumps(replies[body["message"]], ensure_ascii=False))
        else:
            route.continue_()
    page.route("**/webhooks/rest/webhook", handle)


def send(page, text: str) -> None:
    before = page.locator("#log .message-bot").count()
    page.fill("#message", text)
    page.press("#message", "Enter")
    page.wait_for_function(
        "n => document.querySelectorAll('#log .message-bot').length > n && document.getElementById('wait').hidden",
        arg=before)


def open_plan(page, server, message):
    page.goto(server + "/")
    page.locator("#chat").wait_for(state="visible")
    answer_with(page, {TRIGGER: [message]})
    send(page, TRIGGER)
    plan = page.locator("#log .message-plan").last
    plan.wait_for()
    return plan


def outline(locator) -> list[str]:
    """Section titles and group summaries of a plan, in document order."""
    return locator.evaluate("""el => Array.from(el.querySelectorAll('h3, details.plan-group > summary'))
        .map(n => n.textContent.trim())""")


def groups_of(message) -> tuple[list[dict], list[dict]]:
    custom = message["custom"]
    needs = [g for g in custom["groups"] if g["code"] not in ("first", "more")]
    return needs, custom["contacts"]


# -- the chat widget ---------------------------------------------------------------------------
def test_chat_renders_the_plan_in_order(page, server, plan_message):
    plan = open_plan(page, server, plan_message)
    needs, contacts = groups_of(plan_message)
    custom = plan_message["custom"]
    titles = {g["code"]: g["title"] for g in custom["groups"]}
    # the text's first line introduces the plan; the rest of the text is for plain-text clients
    assert plan.locator(":scope > .message-text").inner_text() == plan_message["text"].split("\n")[0]
    expected = [titles["first"]]
    if needs:
        expected += ["Ensuite, selon vos besoins"] + [g["title"] for g in needs]
    if "more" in titles:
        expected.append(titles["more"])
    expected += ["Ce que vous pouvez faire", "En cas de danger"]
    assert outline(plan) == expected
    # "À contacter d'abord": at most three, each with one visible line saying why
    first = [c for c in contacts if c["group"] == "first"]
    cards = plan.locator(".plan-first .contact")
    assert 1 <= cards.count() == len(first) <= 3
    for i, c in enumerate(first):
        assert cards.nth(i).locator("h4").inner_text() == c["name"]
        assert cards.nth(i).locator(".contact-because").inner_text() == c["why"]
        assert cards.nth(i).locator(".contact-because").is_visible()
    # every contact once, in the rules' order (the plan keeps it), and none lost
    names = plan.locator(".contact:not(.plan-danger .contact) h4").all_text_contents()
    assert names == [c["name"] for c in contacts]
    # need groups show their contacts; "Voir tous les contacts" starts closed
    for g in needs:
        group = plan.locator(f'details.plan-group[data-group="{g["code"]}"]')
        assert group.get_attribute("open") is not None
        assert group.locator(".contact").first.is_visible()
    steps = plan.locator(".plan-steps li")
    assert steps.count() == len(custom["steps"])
    for i, step in enumerate(custom["steps"]):
        assert steps.nth(i).inner_text().startswith(step["text"])
        if (step.get("contact") or {}).get("phone"):  # done through a service: its way in, as a link
            assert steps.nth(i).locator("a").get_attribute("href") == step["contact"]["tel"]
    # "En cas de danger": once, under the plan, numbers only (nothing to report there)
    danger = plan.locator(".plan-danger")
    assert danger.locator('a[href="tel:17"]').is_visible()
    assert danger.locator(".contact-report").count() == 0
    assert page.locator("#log h3", has_text="En cas de danger").count() == 1


def test_chat_groups_open_and_close_with_mouse_and_keyboard(page, server, plan_message):
    plan = open_plan(page, server, plan_message)
    more = plan.locator("details.plan-more")
    if not more.count():
        pytest.skip("this answer has no 'more' group")  # (it has one with the shipped data)
    card = more.locator(".contact").first
    assert not card.is_visible()
    more.locator(":scope > summary").click()
    assert card.is_visible()
    more.locator(":scope > summary").click()
    assert not card.is_visible()
    # keyboard: the summary is a Tab stop, and Enter toggles it
    more.locator(":scope > summary").focus()
    page.keyboard.press("Enter")
    assert more.get_attribute("open") is not None and card.is_visible()
    # the summary is not hidden under the sticky exit bar once focused
    top, bar = page.evaluate("""() => [document.activeElement.getBoundingClientRect().top,
                                      document.getElementById('exit-bar').getBoundingClientRect().bottom]""")
    assert top >= bar - 1


def test_messages_without_groups_render_as_today(page, server, plan_message):
    contacts = plan_message["custom"]["contacts"][:4]
    flat = {"recipient_id": "t", "text": "Voici des contacts.\n1. ...", "custom": {"contacts": contacts}}
    emergency = {"recipient_id": "t", "text": "Vous êtes en danger : appelez.",
                 "custom": {"contacts": plan_message["custom"]["if_danger"], "emergency": True,
                            "groups": [{"code": "first", "title": "À contacter d'abord"}]}}
    page.goto(server + "/")
    page.locator("#chat").wait_for(state="visible")
    answer_with(page, {"plat": [flat], "urgence": [emergency]})
    send(page, "plat")
    message = page.locator("#log .message-bot").last
    assert message.locator(".plan").count() == 0
    assert message.locator(":scope > .contacts > .contact").count() == len(contacts)
    assert message.locator(".contact h3").all_text_contents() == [c["name"] for c in contacts]
    assert message.locator(".contact-because").count() == 0  # the reason stays behind "Pourquoi ce contact ?"
    # a plan whose steps are plain strings (the dialogue's side of the contract) shows them as they are
    texts = [{**plan_message, "custom": {**plan_message["custom"], "steps": ["Première étape.", "Seconde étape."]}}]
    answer_with(page, {"plat": [flat], "urgence": [emergency], "textes": texts})
    send(page, "textes")
    assert page.locator("#log .message-plan").last.locator(".plan-steps li").all_inner_texts() == [
        "Première étape.", "Seconde étape."]
    send(page, "urgence")
    message = page.locator("#log .message-bot").last
    assert "message-emergency" in message.get_attribute("class")
    assert message.locator(".plan").count() == 0 and message.locator(".contact-report").count() == 0
    assert message.locator('a[href="tel:17"]').is_visible()


def test_chat_print_view_follows_the_plan(page, server, plan_message):
    open_plan(page, server, plan_message)
    needs, contacts = groups_of(plan_message)
    custom = plan_message["custom"]
    assert page.locator("#print").is_visible()
    page.emulate_media(media="print")
    try:
        assert page.locator("#print-summary").is_visible() and not page.locator("#log").is_visible()
        assert not page.locator("#emergency").is_visible()  # on paper, only the sheet
        sheet = page.locator("#print-plan")
        expected = [g["title"] for g in custom["groups"] if g["code"] != "more"]
        if any(c["group"] == "more" for c in contacts):
            expected.append("Autres contacts")  # every group written out, under a title that means something on paper
        expected += ["Ce que vous pouvez faire", "En cas de danger"]
        assert sheet.locator("h3").all_inner_texts() == expected
        text = sheet.inner_text()
        for c in contacts:
            assert c["name"] in text
        assert "17" in sheet.locator("ul").last.inner_text()  # the emergency numbers close the sheet
        assert not page.locator("#print-list").is_visible()  # the flat list gives way to the plan
        assert page.locator("#print-summary h2").inner_text() == "Numéros utiles"  # neutral heading
    finally:
        page.emulate_media(media="screen")
    # "Tout effacer" forgets the plan on paper too
    page.click("#erase")
    page.wait_for_function("() => document.getElementById('print-plan').hidden")
    page.emulate_media(media="print")
    try:
        assert page.locator("#print-list").is_visible() and "17" in page.locator("#print-list").inner_text()
        assert not page.locator("#print-plan").is_visible()
    finally:
        page.emulate_media(media="screen")


@pytest.mark.parametrize("viewport", [MOBILE, DESKTOP], ids=["mobile", "desktop"])
def test_chat_plan_has_no_wcag_violation(browser, server, plan_message, viewport):
    ctx = browser.new_context(viewport=viewport, locale="fr-FR")
    ctx.set_default_timeout(TIMEOUT_MS)
    try:
        page = ctx.new_page()
        plan = open_plan(page, server, plan_message)
        found = axe_violations(page)
        assert not found, f"axe, chat with a plan:\n{found}"
        for summary in plan.locator("details.plan-group:not([open]) > summary").all():
            summary.click()
        plan.locator(".contact-why > summary").first.click()
        found = axe_violations(page)
        assert not found, f"axe, chat with a plan, every group open:\n{found}"
    finally:
        ctx.close()


def test_real_conversation_ends_with_a_plan(page, server):
    """The dialogue's own final answer (once bot/dialogue.py sends the plan), and the
    README screenshot of it."""
    sender, final = "plan-browser-probe", None
    for message in ("mon mari me frappe", "oui", "Chauny", "à moi", "/effacer"):
        for reply in httpx.post(server + "/webhooks/rest/webhook", json={"sender": sender, "message": message},
                                timeout=10).json():
            if reply.get("custom", {}).get("groups"):
                final = reply
    if final is None:
        pytest.skip("the dialogue does not send a plan yet (custom.groups): bot/dialogue.py, on the lead's side")
    from test_browser import converse

    page.set_viewport_size({"width": 400, "height": 900})
    page.goto(server + "/")
    page.locator("#chat").wait_for(state="visible")
    converse(page, "mon mari me frappe")
    plan = page.locator("#log .message-plan").last
    plan.wait_for()
    assert plan.locator(".plan-first .contact").count() <= 3
    assert plan.locator("h3", has_text="En cas de danger").count() <= 1
    plan.scroll_into_view_if_needed()
    SHOTS.mkdir(parents=True, exist_ok=True)
    plan.screenshot(path=str(SHOTS / "chat-plan.png"))


# -- /pro ----------------------------------------------------------------------------------------
def test_pro_groups_work_without_javascript(browser, server):
    ctx = browser.new_context(java_script_enabled=False, viewport=DESKTOP, locale="fr-FR")
    ctx.set_default_timeout(TIMEOUT_MS)
    try:
        page = ctx.new_page()
        page.goto(server + PRO)
        first = page.locator(".plan-first .contact")
        assert 1 <= first.count() <= 3 and first.first.is_visible()
        for group in page.locator("details.plan-group[open]").all():  # need groups: shown
            assert group.locator(".contact").first.is_visible()
        more = page.locator("details.plan-more")
        card = more.locator(".contact").first
        assert more.get_attribute("open") is None and not card.is_visible()
        more.locator(":scope > summary").click()  # the browser's own disclosure: no script
        assert card.is_visible()
        more.locator(":scope > summary").click()
        assert not card.is_visible()
        # "Tout afficher": the server renders every group open
        total = page.locator("#results article.contact").count()
        page.click("text=Tout afficher")
        page.wait_for_load_state()
        assert "tout=1" in page.url and "situation=violences_conjugales" in page.url
        assert page.locator("details.plan-group:not([open])").count() == 0
        cards = page.locator("#results article.contact")
        assert cards.count() == total and all(c.is_visible() for c in cards.all())
        page.click("text=Replier les groupes")
        page.wait_for_load_state()
        assert "tout=" not in page.url
        assert page.locator("details.plan-more").get_attribute("open") is None
    finally:
        ctx.close()


def test_pro_print_view_and_axe(browser, server):
    ctx = browser.new_context(viewport=DESKTOP, locale="fr-FR")
    ctx.set_default_timeout(TIMEOUT_MS)
    try:
        page = ctx.new_page()
        for path in (PRO, PRO + "&tout=1"):
            page.goto(server + path)
            found = axe_violations(page)
            assert not found, f"axe, {path}:\n{found}"
        page.emulate_media(media="print")
        sheet = page.locator(".print-sheet")
        assert sheet.is_visible() and not page.locator("#results").is_visible()
        titles = sheet.locator("h3").all_inner_texts()
        assert titles[0] == page.locator(".plan-first > h3").inner_text()  # the plan's order on paper
        if page.locator("details.plan-more").count():
            assert "Autres contacts" in titles
        for name in page.locator("#results .plan-first .contact-name").all_text_contents():
            assert name in sheet.inner_text()
        page.emulate_media(media="screen")
        assert not sheet.is_visible()
        # with JavaScript: "Tout afficher" is still a link (the same server rendering)
        assert page.locator(".plan-expand a").get_attribute("href").startswith("/pro?")
    finally:
        ctx.close()


def test_a_card_names_the_languages_its_service_speaks(page, server, plan_message):
    """`languages` (ISO codes, where a source says so) reads as language names in the page's
    language; a contact without it shows no such line."""
    message = json.loads(json.dumps(plan_message))
    first = message["custom"]["contacts"][0]
    first["languages"] = ["en", "ar"]
    open_plan(page, server, message)
    cards = page.locator("#log .message-plan .contact")
    assert "Langues parlées : anglais, arabe" in cards.first.inner_text()
    assert page.locator("#log .message-plan .contact-languages").count() == 1
