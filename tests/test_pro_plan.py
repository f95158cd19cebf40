"""/pro shows the rules' answer as a plan, server-rendered (issue 11).

"À contacter d'abord" first, then the need groups and "Voir tous les contacts" as
<details> (open and closed by the browser, without JavaScript), the steps, "En cas de
danger"; `?tout=1` renders every group open. The printed sheet and the text to copy
follow the same groups. The in-browser checks are in tests/test_plan_browser.py.
"""
from __future__ import annotations

import html
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient

from plan_contract import PlanOrienter, has_plan

SEARCH = {"commune": "Chauny", "situation": "violences_conjugales"}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Node:
    def __init__(self, tag: str, attrs: dict, parent=None):
        self.tag, self.attrs, self.parent, self.children, self.text = tag, attrs, parent, [], ""

    def classes(self) -> set[str]:
        return set((self.attrs.get("class") or "").split())

    def all(self, tag=None, cls=None, **attrs) -> list["Node"]:
        found = []
        for child in self.children:
            if ((tag is None or child.tag == tag) and (cls is None or cls in child.classes())
                    and all(child.attrs.get(k.replace("_", "-")) == v for k, v in attrs.items())):
                found.append(child)
            found += child.all(tag, cls, **attrs)
        return found

    def one(self, *args, **kwargs) -> "Node":
        (node,) = self.all(*args, **kwargs)
        return node

    def child(self, tag: str) -> "Node":
        (node,) = [c for c in self.children if c.tag == tag]
        return node

    def ancestors(self):
        node = self.parent
        while node is not None:
            yield node
            node = node.parent

    def content(self) -> str:
        return " ".join((self.text + " " + " ".join(c.content() for c in self.children)).split())


class Tree(HTMLParser):
    """The page as a tree of Nodes (stdlib only: the project has no HTML library)."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.root = self.current = Node("#document", {})
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        node = Node(tag, dict(attrs), self.current)
        self.current.children.append(node)
        if tag not in VOID:
            self.current = node

    def handle_endtag(self, tag):
        node = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent

    def handle_data(self, data):
        self.current.text += data


@pytest.fixture
def planned(app):
    """The app whose orienter's answers carry a plan (the rules' own once they give one)."""
    real = app.state.orienter
    wrapper = app.state.orienter = PlanOrienter(real)
    try:
        yield wrapper
    finally:
        app.state.orienter = real  # (monkeypatch cannot restore an attribute of Starlette's State)


def pro(app, **params):
    r = TestClient(app).get("/pro", params={**SEARCH, **params})
    assert r.status_code == 200
    return Tree(r.text).root, r.text


def card_ids(node: Node) -> list[str]:
    return [a.attrs["id"].removeprefix("contact-") for a in node.all("article", cls="contact")]


def test_pro_shows_the_plan_in_order_with_every_contact_once(app, planned):
    root, _ = pro(app)
    result = planned.last
    results = root.one("section", id="results")
    first = results.one("section", cls="plan-first")
    assert first.child("h3").content() == "À contacter d'abord"
    first_ids = card_ids(first)
    assert 1 <= len(first_ids) <= 3
    assert first_ids == [c["id"] for c in result.contacts if c["group"] == "first"]
    # the groups, in the contract's display order, each a <details> with its title
    groups = results.all("details", cls="plan-group")
    expected = [g for g in result.groups if g["code"] != "first"]
    assert [d.attrs["data-group"] for d in groups] == [g["code"] for g in expected]
    for d, g in zip(groups, expected):
        assert d.child("summary").content().startswith(g["title"])
        assert card_ids(d) == [c["id"] for c in result.contacts if c["group"] == g["code"]]
        # need groups show their few contacts; "Voir tous les contacts" starts closed
        assert ("open" in d.attrs) == (g["code"] != "more")
    if any(g["code"] not in ("first", "more") for g in result.groups):
        assert results.one("section", cls="plan-needs").child("h3").content() == "Ensuite, selon vos besoins"
    # every contact exactly once, in the rules' order (the plan keeps it)
    plan_ids = [i for i in card_ids(results) if not i.startswith("danger-")]
    assert plan_ids == [c["id"] for c in result.contacts]


def test_pro_steps_and_danger_come_after_the_contacts(app, planned):
    root, text = pro(app, besoin="hebergement")  # (shelter: a step done through the 115)
    result = planned.last
    steps = root.one("section", cls="plan-steps")
    assert steps.child("h3").content() == "Ce que vous pouvez faire"
    items = steps.child("ul").all("li")
    assert len(items) == len(result.steps)
    for li, step in zip(items, result.steps):
        assert li.content().startswith(" ".join(step["text"].split()))
        contact = step.get("contact")
        if contact and contact.get("phone"):  # done through a service: its way in, as a link
            assert li.one("a").attrs["href"] == contact["tel"] and contact["name"] in li.content()
    assert any(s.get("contact") for s in result.steps), "the test answer has a step done through a service"
    danger = root.one("section", cls="plan-danger")
    assert danger.child("h3").content() == "En cas de danger"
    assert {a.attrs["href"] for a in danger.all("a", cls="button-call")} >= {"tel:17", "tel:112", "sms:114"}
    # once, under the plan: after the last group, after the steps
    titles = [h.content() for h in root.one("section", id="results").all("h3")]
    assert titles.count("En cas de danger") == 1 and titles[-1] == "En cas de danger"
    assert titles.index("Ce que vous pouvez faire") == len(titles) - 2
    page = html.unescape(text)
    assert page.index("Voir tous les contacts") < page.index('id="plan-steps-title"')
    # ids stay unique although 17 may be in the plan too
    ids = [n.attrs["id"] for n in root.all() if "id" in n.attrs]
    assert len(ids) == len(set(ids))


def test_tout_renders_every_group_open_and_links_back(app, planned):
    root, _ = pro(app)
    link = root.one("p", cls="plan-expand").one("a")
    assert link.content() == "Tout afficher" and "tout=1" in link.attrs["href"]
    assert link.attrs["href"].startswith("/pro?") and "situation=violences_conjugales" in link.attrs["href"]
    opened, _ = pro(app, tout="1")
    groups = opened.all("details", cls="plan-group")
    assert groups and all("open" in d.attrs for d in groups)
    back = opened.one("p", cls="plan-expand").one("a")
    assert back.content() == "Replier les groupes" and "tout" not in back.attrs["href"]
    assert "situation=violences_conjugales" in back.attrs["href"]
    # the same contacts either way: ?tout=1 only opens
    assert card_ids(opened) == card_ids(root)
    # after a report (?signale=1), the links do not repeat the thank-you
    reported, _ = pro(app, signale="1")
    assert "signale" not in reported.one("p", cls="plan-expand").one("a").attrs["href"]


def test_print_sheet_and_copy_text_follow_the_plan(app, planned):
    _, text = pro(app)
    result = planned.last
    sheet = html.unescape(text.split('<section class="print-sheet"')[1].split("</section>")[0])
    titles = [g["title"] for g in result.groups if g["code"] != "more"]
    positions = [sheet.index(f"<h3>{t}</h3>") for t in titles]
    assert positions == sorted(positions), "the sheet keeps the plan's order"
    assert "Voir tous les contacts" not in sheet  # on paper: every group written out...
    if any(c["group"] == "more" for c in result.contacts):
        assert "<h3>Autres contacts</h3>" in sheet  # ...under a title that means something there
    for c in result.contacts:
        assert c["name"] in sheet
    if result.steps:
        assert "<h3>Ce que vous pouvez faire</h3>" in sheet
    assert "appelez le 17" in sheet  # "Et ensuite" keeps the emergency numbers
    copy = html.unescape(text.split('<textarea id="copy-text"')[1].split("</textarea>")[0])
    assert copy.split("\n")[0].endswith("À contacter d'abord")
    assert all(t in copy for t in titles)


def test_free_text_search_stays_a_flat_list(app, planned):
    root, text = pro(app, q="victimes", situation="")
    assert not root.all("section", cls="plan-first") and not root.all("details", cls="plan-group")
    assert root.all("ol", cls="contact-list") and "Tout afficher" not in text


def test_plan_without_the_rules_plan_still_reads_as_a_plan(app):
    """The page's own reading of an answer: with the rules' plan, its groups; without it
    (rules older than rules/plan.py), the first three contacts first and the rest behind
    "Voir tous les contacts", so nothing is lost and the top stays short."""
    root, _ = pro(app)
    from rules import build_request

    d = app.state.directory
    result = app.state.orienter.orient(build_request(d.vocabulary, situation="violences_conjugales",
                                                     commune=d.resolve_commune("Chauny").commune.insee))
    first = card_ids(root.one("section", cls="plan-first"))
    if has_plan(result):
        assert first == [c["id"] for c in result.contacts if c.get("group") == "first"]
    else:
        assert first == [c["id"] for c in result.contacts][:3]
        more = root.one("details", cls="plan-more")
        assert "open" not in more.attrs and card_ids(more) == [c["id"] for c in result.contacts][3:]
