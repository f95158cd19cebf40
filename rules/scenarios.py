"""Scenario tests written next to the rules (`*.scenarios.yml`): given a request,
expect contacts included, excluded, and first. Run by `orientation rules test` and pytest."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from directory.yamlio import line_of, load_yaml

from .engine import evaluate
from .loader import RULES_DIR
from .model import Request

__all__ = ["Scenario", "load_scenarios", "run_scenario"]

GIVEN_KEYS = ("situation", "commune", "danger", "distress", "role", "age_group", "profile", "needs", "gender")
EXPECT_KEYS = ("first", "first_any", "includes", "excludes", "before", "rules", "count_max", "steps", "if_danger",
               "if_danger_excludes")


@dataclass(frozen=True)
class Scenario:
    name: str
    file: str
    line: int
    given: dict
    expect: dict

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


def load_scenarios(rules_dir: Path = RULES_DIR) -> list[Scenario]:
    scenarios = []
    for path in sorted(Path(rules_dir).glob("*.scenarios.yml")):
        doc = load_yaml(path)
        for node in doc.get("scenarios", []):
            unknown = [k for k in node.get("given", {}) if k not in GIVEN_KEYS] + \
                      [k for k in node.get("expect", {}) if k not in EXPECT_KEYS]
            if unknown:
                raise ValueError(f"{path.name}:{line_of(node)}: champ(s) inconnu(s) {unknown}")
            scenarios.append(Scenario(node["name"], path.name, line_of(node) or 0, dict(node.get("given", {})),
                                      dict(node.get("expect", {}))))
    return scenarios


def run_scenario(orienter, scenario: Scenario) -> list[str]:
    """Return the failures of one scenario (empty when it passes)."""
    g = scenario.given
    req = Request(situation=g.get("situation"), commune=g.get("commune"), danger=bool(g.get("danger")),
                  distress=bool(g.get("distress")), role=g.get("role"), age_group=g.get("age_group"),
                  profile=frozenset(g.get("profile", [])), needs=frozenset(g.get("needs", [])),
                  gender=g.get("gender"))
    o = evaluate(orienter.ruleset, orienter.directory.snapshot, req)
    ids = [r.service_id for r in o.recommendations]
    e, failures = scenario.expect, []
    if "first" in e and (not ids or ids[0] != e["first"]):
        failures.append(f"premier attendu {e['first']}, obtenu {ids[:1]}")
    if "first_any" in e and (not ids or ids[0] not in e["first_any"]):
        failures.append(f"premier attendu parmi {e['first_any']}, obtenu {ids[:1]}")
    for sid in e.get("includes", []):
        if sid not in ids:
            failures.append(f"{sid} attendu, absent")
    for sid in e.get("excludes", []):
        if sid in ids:
            failures.append(f"{sid} ne devrait pas être proposé")
    for a, b in e.get("before", []):
        if a in ids and b in ids and ids.index(a) > ids.index(b):
            failures.append(f"{a} devrait venir avant {b}")
        elif a not in ids or b not in ids:
            failures.append(f"ordre {a} avant {b} : l'un des deux est absent")
    for rid in e.get("rules", []):
        if rid not in o.rules:
            failures.append(f"la règle {rid} aurait dû s'appliquer")
    # steps: the entry a step speaks of (`about`) or the service through which one does it
    step_ids = {x for st in o.steps for x in (st.about, st.service) if x}
    for sid in e.get("steps", []):
        if sid not in step_ids:
            failures.append(f"étape sur {sid} attendue, absente")
    danger_ids = [r.service_id for r in o.if_danger]
    for sid in e.get("if_danger", []):
        if sid not in danger_ids:
            failures.append(f"{sid} attendu sous « En cas de danger », absent")
    for sid in e.get("if_danger_excludes", []):
        if sid in danger_ids:
            failures.append(f"{sid} ne devrait pas être sous « En cas de danger »")
    if "count_max" in e and len(ids) > e["count_max"]:
        failures.append(f"{len(ids)} contacts, au plus {e['count_max']} attendus")
    return failures
