"""The chat page without a browser: what the server sends must already be safe.

The quick exit, the notice and the emergency numbers are in the HTML itself (they
work without JavaScript); the headers forbid caching, cookies and third parties;
the page and its CSS/JS only point at this site (or at tel:/sms: links).
"""
from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest

BASE = "http://testserver/"
ALARMING = ("violence", "victime", "viol", "abus", "agression", "danger", "urgence", "plainte",
            "harcèlement", "harcelement", "maltraitance", "coups", "battue", "police", "secours", "aide")


class Page(HTMLParser):
    """Every element with its attributes, the <title>, and the text of inline scripts."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict]] = []
        self.title = ""
        self.inline_scripts: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))
        if tag in ("title", "script"):
            self._in = tag
            if tag == "script":
                self.inline_scripts.append("")

    def handle_startendtag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        if tag == self._in:
            self._in = None

    def handle_data(self, data):
        if self._in == "title":
            self.title += data
        elif self._in == "script":
            self.inline_scripts[-1] += data

    def find(self, tag=None, **attrs) -> list[dict]:
        return [a for t, a in self.elements if (tag is None or t == tag)
                and all(a.get(k.rstrip("_")) == v for k, v in attrs.items())]


@pytest.fixture(scope="module")
def response(client):
    return client.get("/")


@pytest.fixture(scope="module")
def page(response) -> Page:
    p = Page()
    p.feed(response.text)
    return p


@pytest.fixture(scope="module")
def exit_url(app) -> str:
    return app.state.settings.exit_url


@pytest.fixture(scope="module")
def emergency_services(directory):
    """The directory's services reached at 17, 112 (voice) and 114 (SMS)."""
    found = {}
    for service in directory.snapshot.services.values():
        for phone in service.phones:
            if phone.number in ("17", "112", "114") and service.is_public:
                found[phone.number] = (service, phone)
    assert set(found) == {"17", "112", "114"}, f"the directory should hold 17, 112 and 114, found {sorted(found)}"
    return found


def test_page_is_french_and_neutral(response, page):
    assert response.status_code == 200
    assert re.search(r"<html[^>]*\blang=\"fr\"", response.text)
    title = page.title.strip().lower()
    assert title, "the page needs a title"
    assert not [w for w in ALARMING if w in title], f"alarming word in the title: {page.title!r}"


def test_quick_exit_is_a_real_link_first(page, exit_url):
    links = page.find("a", id="exit-link")
    assert len(links) == 1
    link = links[0]
    assert link["href"] == exit_url
    assert "noreferrer" in link.get("rel", "").split()
    # First focusable element of the page: reached before anything else with Tab.
    first = next(a for t, a in page.elements if t in ("a", "button", "input", "textarea", "select"))
    assert first is link


def test_interruption_notice_comes_before_the_chat(response):
    html = response.text
    notice = html.find('id="notice"')
    log = html.find('role="log"')
    assert 0 < notice < log
    text = re.sub(r"<[^>]+>", "", html[notice:log])
    for must in ("Quitter vite", "n'efface pas l'historique", "navigation privée", "surveille",
                 "appels", "Maj"):
        assert must in text, f"the notice should mention {must!r}"


def test_emergency_block_uses_directory_links(page, response, emergency_services):
    block = response.text.split('id="emergency"', 1)[1].split("</section>", 1)[0]
    hrefs = set(re.findall(r'href="([^"]+)"', block))
    for number in ("17", "112"):
        service, phone = emergency_services[number]
        assert phone.tel in hrefs, f"{service.name}: missing {phone.tel}"
        assert f">Appeler le {phone.display}<" in block
    service, phone = emergency_services["114"]
    assert {phone.sms, f"sms:{phone.number}"} & hrefs, f"{service.name}: missing the sms: link"
    assert f">SMS au {phone.number}<" in block
    # Server-rendered before the chat, so it works without JavaScript.
    assert response.text.find('id="emergency"') < response.text.find('id="chat"')


def test_noscript_note_points_to_the_emergency_numbers(response):
    note = response.text.split("<noscript>", 1)[1].split("</noscript>", 1)[0]
    assert "sans JavaScript" in note and "urgence" in note


def test_chat_structure(page):
    log = page.find(id="log")[0]
    assert log["role"] == "log" and log["aria-live"] == "polite"
    field = page.find("input", id="message")[0]
    assert field["autocomplete"] == "off"
    assert page.find("label", for_="message"), "the chat input needs a label"
    assert page.find("button", id="send") and page.find("button", id="erase")
    assert page.find("button", id="print")
    assert page.find("script", src="/static/chat.js")


def test_headers_forbid_cache_cookies_and_third_parties(response):
    h = response.headers
    assert "default-src 'self'" in h["content-security-policy"]
    assert "no-store" in h["cache-control"]
    assert h["referrer-policy"] == "no-referrer"
    assert "set-cookie" not in h


def test_no_inline_script_or_style(page, response):
    assert not [s for s in page.inline_scripts if s.strip()], "inline <script> code is blocked by the CSP"
    assert not [a for _, a in page.elements if "style" in a], "style= attributes are blocked by the CSP"
    assert "<style" not in response.text
    assert not [a for _, a in page.elements if any(k.startswith("on") for k in a)], "inline event handlers"


def test_every_url_is_same_origin(client, page, exit_url):
    """A small crawler: the page, then each same-origin resource, then the CSS/JS text."""
    seen, queue = set(), []

    def check(url: str, where: str) -> None:
        if url.startswith(("tel:", "sms:", "#", "data:")):
            return
        absolute = urljoin(BASE, url)
        parts = urlsplit(absolute)
        assert (parts.scheme, parts.netloc) == ("http", "testserver"), f"third-party URL {url!r} in {where}"
        if absolute not in seen:
            seen.add(absolute)
            queue.append(absolute)

    for tag, attrs in page.elements:
        for name in ("src", "href", "action", "srcset", "poster", "data"):
            if name in attrs and attrs[name] is not None:
                if tag == "a" and attrs.get("id") == "exit-link" and attrs[name] == exit_url:
                    continue  # the one way out, on purpose
                check(attrs[name], f"<{tag} {name}>")
    assert any(u.endswith(".css") for u in queue) and any(u.endswith(".js") for u in queue)

    while queue:
        url = queue.pop()
        r = client.get(url)
        if url.endswith((".css", ".js")):
            assert r.status_code == 200, url
            assert "set-cookie" not in r.headers
            if url.endswith(".css"):
                for ref in re.findall(r"url\(\s*['\"]?([^'\")]+)", r.text) + re.findall(r"@import\s+['\"]([^'\"]+)", r.text):
                    check(ref, url)
            # Neither file may name another site (scripts, fonts, analytics, CDNs).
            assert not re.search(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", r.text, re.I), f"absolute URL in {url}"


def test_script_keeps_nothing_and_never_uses_html(client):
    js = client.get("/static/chat.js").text
    code = re.sub(r"/\*.*?\*/|(?<![:\\])//[^\n]*", "", js, flags=re.S)  # comments may name what is forbidden
    for forbidden in ("localStorage", "sessionStorage", "indexedDB", "document.cookie", "innerHTML",
                      "outerHTML", "insertAdjacentHTML", "document.write", "pushState", "eval("):
        assert forbidden not in code, f"chat.js uses {forbidden}"
    assert "location.replace" in code and "randomUUID" in code
