"""Evaluate the rules for one request: a pure function of (rules, directory snapshot,
request), giving an ordered, de-duplicated list of contacts with their reasons."""
from __future__ import annotations

from directory import Snapshot

from .loader import RuleSet
from .model import Condition, Orientation, Output, Recommendation, Request, Rule, Step

__all__ = ["evaluate", "matches", "DEFAULT_ROLE", "DEFAULT_AGE"]

# Rules read an unknown role as the person concerned and an unknown age as an adult:
# the most common case, and the one whose contacts are safest to give.
DEFAULT_ROLE = "victime"
DEFAULT_AGE = "adulte"


def matches(cond: Condition, req: Request, territories: frozenset[str]) -> bool:
    if cond.situation is not None and req.situation not in cond.situation:
        return False
    if cond.situation_known is not None and (req.situation is not None) != cond.situation_known:
        return False
    if cond.danger is not None and req.danger != cond.danger:
        return False
    if cond.distress is not None and req.distress != cond.distress:
        return False
    if cond.role is not None and (req.role or DEFAULT_ROLE) not in cond.role:
        return False
    if cond.age_group is not None and (req.age_group or DEFAULT_AGE) not in cond.age_group:
        return False
    if cond.profile is not None and not (cond.profile & req.profile):
        return False
    if cond.needs is not None and not (cond.needs & req.needs):
        return False
    if cond.commune_known is not None and (req.commune is not None) != cond.commune_known:
        return False
    if cond.territory is not None and not (cond.territory & territories):
        return False
    return True


def _select(out: Output, req: Request, snap: Snapshot, territories: frozenset[str]):
    """Local services of the wanted categories covering the commune, most local first."""
    if req.commune is None:
        return []
    found = {}
    for tid in territories:
        territory = snap.territories[tid]
        if out.local_only and territory.kind == "national":
            continue
        for sid in snap.by_territory.get(tid, ()):
            s = snap.services[sid]
            if out.category and s.category not in out.category:
                continue
            if out.serving_situation and req.situation not in s.situations:
                continue
            best = found.get(sid)
            if best is None or (territory.rank, territory.id) < (best.rank, best.id):
                found[sid] = territory
    return sorted(found.items(), key=lambda kv: (kv[1].rank, kv[0]))


def _visible(s, req: Request, include_pro: bool, exclusive: frozenset = frozenset()) -> bool:
    """Active, public (or asked by a professional), open to the person's gender, and,
    for an exclusive role (a person who says they are violent), listing that role."""
    if s is None or s.status != "active" or (s.visibility != "public" and not include_pro):
        return False
    if req.role in exclusive and req.role not in s.roles:
        return False
    # a service lists genders only when it is reserved to some (women victims only)
    return not (req.gender and s.genders and req.gender not in s.genders)


def evaluate(ruleset: RuleSet, snap: Snapshot, req: Request, *, include_pro: bool = False) -> Orientation:
    territories = frozenset(snap.commune_territories.get(req.commune, ())) if req.commune else frozenset()
    commune = snap.communes.by_insee.get(req.commune) if req.commune else None
    seen: dict[str, set[str]] = {"contacts": set(), "if_danger": set()}
    recs: dict[str, list[Recommendation]] = {"contacts": [], "if_danger": []}
    steps: list[Step] = []
    fired: list[str] = []

    def fill(text: str, scope=None) -> str:
        return text.replace("{territory}", scope.name if scope else "").replace(
            "{commune}", commune.name if commune else "votre commune")

    for rule in ruleset.rules:
        if not matches(rule.when, req, territories):
            continue
        fired.append(rule.id)
        for out in rule.outputs:
            if out.step is not None:
                about = snap.services.get(out.about) if out.about else None
                if out.about and (not _visible(about, req, include_pro, ruleset.exclusive_roles)
                                  or (req.commune and snap.covers(about, req.commune) is None)):
                    continue  # the measure is gone, not for this person, or not offered here
                through = snap.services.get(out.service) if out.service else None
                ok = through is not None and _visible(through, req, include_pro, ruleset.exclusive_roles) and through.reachable
                text = fill(out.step)
                # one step per text, and per entry spoken of (the first rule's wording wins)
                if all(st.text != text and (not out.about or st.about != out.about) for st in steps):
                    steps.append(Step(text, through.id if ok else None, out.about, rule.id, rule.priority))
                continue
            if out.service:
                picks = [(out.service, None)]
            else:
                picks = _select(out, req, snap, territories)
            for sid, scope in picks:
                s = snap.services.get(sid)
                # a contact nobody can reach (no phone, SMS, site, e-mail, or address with hours) is never shown
                if sid in seen[rule.show] or not _visible(s, req, include_pro, ruleset.exclusive_roles) or not s.reachable:
                    continue
                if s.ages and (req.age_group or DEFAULT_AGE) not in s.ages and out.service is None:
                    continue
                seen[rule.show].add(sid)
                recs[rule.show].append(Recommendation(sid, fill(out.why, scope), rule.id, rule.priority, rule.show))
    by_priority = lambda r: r.priority  # noqa: E731 - stable: rule and item order kept within a priority
    ordered = tuple(sorted(recs["contacts"], key=by_priority))
    # 17, 112, 114 once under the plan, unless already a contact of the plan itself
    if_danger = tuple(r for r in sorted(recs["if_danger"], key=by_priority) if r.service_id not in seen["contacts"])
    return Orientation(ordered, tuple(fired), req.commune, tuple(sorted(territories)), if_danger,
                       tuple(sorted(steps, key=by_priority)))
