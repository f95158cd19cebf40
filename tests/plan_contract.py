"""An orientation answer shaped as the plan contract says (/work/notes/PLAN-CONTRACT.md,
issue 11), for the tests of the web rendering.

The plan itself is computed by the rules (rules/plan.py). When the rules give it
(`result.groups` exists), these helpers pass it through unchanged; until then they
add one to the real result, with the contract's shape and the real directory's
contacts, so that the pages are tested on every part of a plan: "first", two need
groups, "more", steps and "en cas de danger".
"""
from __future__ import annotations

from types import SimpleNamespace

# Titles as the rules side gives them (the contract's examples).
NEED_GROUPS = [("plainte", "Porter plainte"), ("hebergement", "Être mis à l'abri")]
STEPS = [{"text": "Vous pouvez porter plainte dans n'importe quel commissariat ou brigade de gendarmerie : "
                  "ils doivent prendre votre plainte.", "service": None},
         {"text": "Gardez en lieu sûr les preuves : messages, photos, certificats.", "service": None}]
THROUGH = "Une association peut vous aider à demander une mesure de protection."  # a step done through a service


def has_plan(result) -> bool:
    return getattr(result, "groups", None) is not None


def danger_contacts(orienter, request) -> list[dict]:
    """17, 112, SMS 114: what the danger flag adds to this request's answer."""
    from dataclasses import replace

    without = {c["id"] for c in orienter.orient(request).contacts}
    return [c for c in orienter.orient(replace(request, danger=True)).contacts if c["id"] not in without]


def with_plan(result, if_danger: list[dict]):
    """`result` itself when the rules give a plan; else the same contacts, in the same
    order, grouped as the contract says: three "first", two per need group, the rest
    "more", with steps and the danger numbers."""
    if has_plan(result):
        return result
    contacts, groups = [], [{"code": "first", "title": "À contacter d'abord"}]
    codes = ["first"] * 3 + [code for code, _ in NEED_GROUPS for _ in range(2)]
    for i, c in enumerate(result.contacts):
        contacts.append({**c, "group": codes[i] if i < len(codes) else "more"})
    used = {c["group"] for c in contacts}
    groups += [{"code": code, "title": title} for code, title in NEED_GROUPS if code in used]
    if "more" in used:
        groups.append({"code": "more", "title": "Voir tous les contacts"})
    steps = list(STEPS)
    through = next((c for c in result.contacts if c.get("phone")), None)
    if through:
        steps.append({"text": THROUGH, "service": through["id"], "contact": through})
    return SimpleNamespace(orientation=result.orientation, contacts=contacts, commune=result.commune,
                           territories=result.territories, groups=groups, steps=steps,
                           if_danger=list(if_danger))


class PlanOrienter:
    """The real orienter whose answers carry a plan (see with_plan); `last` is the
    latest answer, for the tests to compare the page with."""

    def __init__(self, real):
        self.real = real
        self.last = None

    def __getattr__(self, name):
        return getattr(self.real, name)

    def orient(self, request, **kwargs):
        result = self.real.orient(request, **kwargs)
        self.last = with_plan(result, [] if request.danger else danger_contacts(self.real, request))
        return self.last


def chat_message(orienter, request, intro: str = "Voici les contacts qui peuvent vous aider.") -> dict:
    """The final chat message as the dialogue sends it (the plan contract's dialogue side),
    with the rules' steps as they come ({text, service, contact?}); the widget also takes
    plain strings (tests/test_plan_browser.py checks both)."""
    result = PlanOrienter(orienter).orient(request)
    try:
        from rules.plan import plan_text
        text = plan_text(result, intro)
    except ImportError:  # the rules' plain-text plan is not there yet: its first line is the intro
        text = intro + "\n" + "\n".join("- " + c["name"] for c in result.contacts)
    return {"recipient_id": "test", "text": text,
            "custom": {"contacts": result.contacts, "groups": result.groups, "steps": list(result.steps),
                       "if_danger": result.if_danger, "rules": list(result.orientation.rules), "plan": True}}
