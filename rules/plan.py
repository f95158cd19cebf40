"""The answer as a plan: a few contacts first, the others grouped by need, the steps, and
the emergency numbers once under the plan when the person is not in danger.

The layout (how many first, group titles, which directory category answers which need)
is data, in `rules/plan.yml`; this module only applies it to an Orientation.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from directory import Snapshot, Vocabulary
from directory.yamlio import YamlSyntaxError, line_of, load_yaml

from .errors import RuleProblem, RulesError, suggest
from .loader import RULES_DIR, RuleSet
from .model import Orientation, Request

__all__ = ["PLAN_FILE", "PlanSpec", "load_plan_spec", "Plan", "build_plan", "plan_text", "contact_line",
           "WRITTEN_WAYS"]

PLAN_FILE = RULES_DIR / "plan.yml"
PLAN_KEYS = ("first_max", "needs_max", "headings", "titles", "category_needs", "written_first")
HEADINGS = ("first", "needs", "steps", "if_danger")
# Ways in that do not need a voice call (contacts.md: phone, sms, url, email, address)
WRITTEN_WAYS = ("sms", "url", "email")


@dataclass(frozen=True)
class PlanSpec:
    first_max: int
    needs_max: int
    headings: dict[str, str]
    titles: dict[str, str]  # group code -> title: "first", every need, "more"
    needs_order: tuple[str, ...]  # need codes, in the order of the taxonomy
    category_needs: dict[str, str]
    written_first: frozenset[str]


def load_plan_spec(vocabulary: Vocabulary, path: Path = PLAN_FILE) -> PlanSpec:
    """Read and check rules/plan.yml; raise RulesError listing every problem."""
    path = Path(path)
    problems: list[RuleProblem] = []

    def add(code, node, message, key=None, suggestion=None):
        problems.append(RuleProblem(code, path.name, line_of(node, key), message, None, suggestion))

    try:
        doc = load_yaml(path)
    except YamlSyntaxError as exc:
        raise RulesError([RuleProblem("yaml_syntax", path.name, exc.line, exc.message)]) from None
    if not isinstance(doc, dict):
        raise RulesError([RuleProblem("invalid_file", path.name, None, "le fichier doit être un objet (first_max, titles...)")])
    for key in doc:
        if key not in PLAN_KEYS:
            add("unknown_field", doc, f"champ « {key} » inconnu (possibles : {', '.join(PLAN_KEYS)})", key,
                suggest(key, PLAN_KEYS))
    counts = {}
    for key in ("first_max", "needs_max"):
        value = doc.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            add("wrong_type", doc, f"« {key} » doit être un nombre entier, au moins un", key)
            value = 1
        counts[key] = value
    needs = tuple(vocabulary.needs)
    groups = ("first", *needs, "more")

    def mapping(key, keys_allowed, values_allowed, what) -> dict:
        raw = doc.get(key) or {}
        if not isinstance(raw, dict):
            add("wrong_type", doc, f"« {key} » doit associer des codes à des valeurs", key)
            return {}
        for k, v in raw.items():
            if k not in keys_allowed:
                add(f"unknown_{what}", raw, f"« {k} » inconnu dans « {key} »", k, suggest(k, keys_allowed))
            if values_allowed is None:
                if not isinstance(v, str) or not v.strip():
                    add("wrong_type", raw, f"« {key}.{k} » doit être un texte", k)
            elif v not in values_allowed:
                add("unknown_need", raw, f"besoin « {v} » inconnu dans « {key} »", k, suggest(v, values_allowed))
        return dict(raw)

    headings = mapping("headings", HEADINGS, None, "heading")
    titles = mapping("titles", groups, None, "group")
    for code in HEADINGS:
        if code not in headings:
            add("missing_field", doc, f"« headings.{code} » manque", "headings")
    for code in groups:
        if code not in titles:
            add("missing_field", doc, f"« titles.{code} » manque : chaque groupe montré a un titre", "titles")
    category_needs = mapping("category_needs", tuple(vocabulary.categories), needs, "category")
    written = doc.get("written_first") or []
    if not isinstance(written, list):
        add("wrong_type", doc, "« written_first » doit lister des profils", "written_first")
        written = []
    for p in written:
        if p not in vocabulary.profiles:
            add("unknown_profile", doc, f"profil « {p} » inconnu dans « written_first »", "written_first",
                suggest(p, vocabulary.profiles))
    if problems:
        raise RulesError(problems)
    return PlanSpec(counts["first_max"], counts["needs_max"], headings, titles, needs, category_needs,
                    frozenset(written))


@dataclass(frozen=True)
class Plan:
    contacts: list[dict]  # each with "group"; first, then need groups in taxonomy order, then more
    groups: list[dict]  # [{"code", "title"}], non-empty groups only, in display order
    steps: list[dict]  # [{"text", "service", "contact"?}]
    if_danger: list[dict]  # contacts shown once under the plan, "En cas de danger" (in danger: 112, 114 after 17 first)


def _written(contact: dict) -> bool:
    return any(contact.get(w) for w in WRITTEN_WAYS)


def build_plan(spec: PlanSpec, ruleset: RuleSet, snap: Snapshot, request: Request, orientation: Orientation,
               contact_of) -> Plan:
    """Lay out an Orientation as a plan. `contact_of(service, why)` gives a Contact object."""
    recs = list(orientation.recommendations)
    contacts = [contact_of(snap.services[r.service_id], r.why) for r in recs]
    pairs = list(zip(recs, contacts))
    if spec.written_first & request.profile:
        # the emergency contacts keep their place at the head; then written ways before voice only
        head = 0
        while head < len(pairs) and snap.services[pairs[head][0].service_id].emergency:
            head += 1
        rest = sorted(pairs[head:], key=lambda p: not _written(p[1]))
        pairs = pairs[:head] + rest
    rules = {r.id: r for r in ruleset.rules}
    # In danger the emergency answer has already given 17, 112 and SMS 114: the plan keeps
    # the first of them first, and the others once under it ("En cas de danger"), so that
    # the situation's line and local help are not pushed behind "Voir tous les contacts".
    later_emergency: list[dict] = []
    if request.danger:
        emergency = [p for p in pairs if snap.services[p[0].service_id].emergency]
        if len(emergency) > 1:
            later_emergency = [c for _, c in emergency[1:]]
            pairs = [p for p in pairs if p not in emergency[1:]]

    def need_of(rec) -> str:
        rule = rules.get(rec.rule)
        stated = (rule.when.needs or frozenset()) & request.needs if rule else frozenset()
        for need in spec.needs_order:
            if need in stated:
                return need
        return spec.category_needs.get(snap.services[rec.service_id].category, "more")

    first = pairs[:spec.first_max]
    by_need: dict[str, list[dict]] = {n: [] for n in spec.needs_order}
    more: list[dict] = []
    for rec, contact in pairs[spec.first_max:]:
        need = need_of(rec)
        (by_need[need] if need in by_need else more).append(contact)
    ordered: list[tuple[str, dict]] = [("first", c) for _, c in first]
    shown = 0
    overflow: list[dict] = []
    for need in spec.needs_order:
        for c in by_need[need]:
            if shown < spec.needs_max:
                ordered.append((need, c))
                shown += 1
            else:
                overflow.append(c)
    # "more" keeps the rules' order among everything not shown above
    rank = {id(c): i for i, (_, c) in enumerate(pairs)}
    ordered += [("more", c) for c in sorted(more + overflow, key=lambda c: rank[id(c)])]
    out = [{**c, "group": g} for g, c in ordered]
    codes = []
    for g, _ in ordered:
        if g not in codes:
            codes.append(g)
    groups = [{"code": g, "title": spec.titles[g]} for g in codes]
    by_id = {c["id"]: c for c in out}
    steps = []
    for st in orientation.steps:
        step = {"text": st.text, "service": st.service}
        if st.service:
            # the way in of the service through which one does it, even when it is not a card of the plan
            step["contact"] = by_id.get(st.service) or contact_of(snap.services[st.service], st.text)
        steps.append(step)
    if_danger = later_emergency if request.danger else [
        contact_of(snap.services[r.service_id], r.why) for r in orientation.if_danger]
    return Plan(out, groups, steps, if_danger)


def _hours_note(contact: dict) -> str:
    if contact.get("closed"):
        return " (fermé temporairement)"
    if contact.get("hours") == "24/7":
        return " (jour et nuit)"
    if contact.get("open_now") is True:
        return " (ouvert maintenant)"
    if contact.get("open_now") is False:
        return " (fermé en ce moment)"
    return ""


def _reach(contact: dict) -> str:
    reach = []
    if contact.get("phone_display") and contact.get("phone"):
        reach.append(contact["phone_display"])
    if contact.get("sms"):
        reach.append(f"SMS {contact['sms']}")
    if not reach and contact.get("url"):
        reach.append(contact["url"])
    if not reach and contact.get("email"):
        reach.append(contact["email"])
    if not reach and contact.get("address"):
        reach.append(contact["address"])
    return " ou ".join(reach)


def contact_line(contact: dict) -> str:
    """One contact as a bullet: name, how to reach it, when, and why."""
    how = _reach(contact)
    how = f" : {how}" if how else ""
    return f"• {contact['name']}{how}{_hours_note(contact)}. {contact['why']}"


def plan_text(result, intro: str | None = None) -> str:
    """The plan as plain text (terminal chat, Rasa text), with the structure of the page.
    Bullets, not numbers: the only digits are the directory's phone numbers."""
    spec: PlanSpec = result.spec
    lines = [intro] if intro else []
    contacts = result.contacts
    first = [c for c in contacts if c.get("group") == "first"]
    if first:
        lines += ["", f"{spec.headings['first']} :"] + [contact_line(c) for c in first]
    needs = [g for g in result.groups if g["code"] not in ("first", "more")]
    if needs:
        lines += ["", f"{spec.headings['needs']} :"]
        for g in needs:
            lines.append(f"{g['title']} :")
            lines += [contact_line(c) for c in contacts if c.get("group") == g["code"]]
    for g in result.groups:
        if g["code"] == "more":
            lines += ["", f"{g['title']} :"] + [contact_line(c) for c in contacts if c.get("group") == "more"]
    if result.steps:
        lines += ["", f"{spec.headings['steps']} :"]
        for st in result.steps:
            c = st.get("contact")
            how = _reach(c) if c else ""
            lines.append(f"• {st['text']}" + (f" ({c['name']} : {how})" if c and how else ""))
    if result.if_danger:
        lines += ["", f"{spec.headings['if_danger']} :"] + [contact_line(c) for c in result.if_danger]
    return "\n".join(lines).strip("\n")
