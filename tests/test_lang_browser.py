"""The Arabic page in Chromium (issue 14): it reads right to left, the chat sends its
language, and axe finds no WCAG 2.2 AA violation before or after an Arabic conversation
through the buttons. Same set-up as tests/test_browser.py (Debian's Chromium, a local
`orientation serve`)."""
from __future__ import annotations

import json

import pytest

from conftest import CHROMIUM, axe_violations, serve

if not CHROMIUM.exists():
    pytest.skip("Debian chromium absent: apt-get install chromium", allow_module_level=True)
pytest.importorskip("playwright.sync_api", reason="playwright absent: pip install playwright")

TIMEOUT_MS = 10_000


@pytest.fixture(scope="module")
def server(db_path, model_dir, tmp_path_factory):
    log = tmp_path_factory.mktemp("server-lang") / "server.log"
    with serve(db_path, model_dir, log) as base:
        yield base


@pytest.fixture
def context(browser):
    ctx = browser.new_context(viewport={"width": 360, "height": 740}, locale="ar")
    ctx.set_default_timeout(TIMEOUT_MS)
    yield ctx
    ctx.close()


def bot_count(page) -> int:
    return page.locator("#log .message-bot").count()


def send(page, text: str) -> None:
    before = bot_count(page)
    page.fill("#message", text)
    page.press("#message", "Enter")
    page.wait_for_function(f"() => document.querySelectorAll('#log .message-bot').length > {before}"
                           " && document.getElementById('wait').hidden")


def click(page, payload_part: str) -> None:
    """The latest question's button whose payload (as sent) contains `payload_part`."""
    before = bot_count(page)
    buttons = page.locator("#log .choices button")
    for i in range(buttons.count()):
        b = buttons.nth(i)
        if payload_part in (page.evaluate("(b) => b.textContent", b.element_handle()) or ""):
            b.click()
            break
    else:
        raise AssertionError(f"no button {payload_part!r}")
    page.wait_for_function(f"() => document.querySelectorAll('#log .message-bot').length > {before}"
                           " && document.getElementById('wait').hidden")


def test_arabic_page_reads_right_to_left_and_passes_axe(page, server):
    bodies = []
    page.on("request", lambda r: bodies.append(json.loads(r.post_data)) if r.url.endswith("/webhook") and r.post_data else None)
    page.goto(server + "/?lang=ar")
    page.locator("#chat").wait_for(state="visible")
    assert page.evaluate("() => document.documentElement.lang") == "ar"
    for selector in ("html", "#notice", "#chat", "#message"):
        assert page.evaluate(f"() => getComputedStyle(document.querySelector('{selector}')).direction") == "rtl", selector
    found = axe_violations(page)
    assert not found, f"axe, Arabic page before a conversation:\n{found}"

    send(page, "مرحبا، زوجي يضربني كل يوم")
    click(page, "عنف من الزوج")          # Violences dans le couple
    click(page, "نعم، أنا في أمان")        # Oui, je suis en sécurité
    send(page, "Laon")
    page.locator("#log .message-plan").first.wait_for()  # the plan, then who it happens to
    click(page, "لي أنا")                  # À moi: the plan again, with the advice for the person concerned
    page.locator("#log .message-plan").nth(1).wait_for()
    plan = page.locator("#log .message-plan").last
    assert plan.get_attribute("lang") == "ar" and plan.get_attribute("dir") == "rtl"
    assert "3919" in plan.inner_text()
    assert all(b.get("lang") == "ar" for b in bodies) and bodies
    page.locator(".contact details").first.locator("summary").click()
    found = axe_violations(page)
    assert not found, f"axe, Arabic page after a conversation:\n{found}"
