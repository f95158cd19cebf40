"""The rules bound to a directory: what the web, the bot and the CLI call."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from directory import Directory, Snapshot

from .engine import evaluate
from .errors import RulesError
from .loader import RULES_DIR, RuleSet, load_rules
from .model import Orientation, Request
from .plan import PLAN_FILE, PlanSpec, build_plan, load_plan_spec

__all__ = ["Orienter", "RequestError", "OrientationResult", "build_request"]


class RequestError(Exception):
    """A request names an unknown code; `field` says which."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field, self.message = field, message


@dataclass(frozen=True)
class OrientationResult:
    """The answer: the contacts (rules' order, each with its plan `group`), the groups shown,
    the steps, and the emergency contacts shown once under the plan when there is no danger."""

    orientation: Orientation
    contacts: list[dict]
    commune: dict | None
    territories: list[dict]
    groups: list[dict] = field(default_factory=list)
    steps: list[dict] = field(default_factory=list)
    if_danger: list[dict] = field(default_factory=list)
    spec: PlanSpec | None = None  # the layout, for plan_text()

    def as_dict(self) -> dict:
        # groups, steps, if_danger and each contact's group are optional additions (contracts.md)
        return {"contacts": self.contacts, "commune": self.commune, "territories": self.territories,
                "rules": list(self.orientation.rules), "groups": self.groups, "steps": self.steps,
                "if_danger": self.if_danger}


def build_request(vocabulary, *, situation=None, commune=None, danger=False, distress=False, role=None,
                  age_group=None, profile=(), needs=(), gender=None) -> Request:
    """Check codes against the vocabulary and build a Request (commune: INSEE code)."""
    def one(field, value, allowed):
        if value is not None and value not in allowed:
            raise RequestError(field, f"Champ « {field} » : « {value} » inconnu. Valeurs possibles : {', '.join(allowed)}.")
        return value

    def many(field, values, allowed):
        values = list(values or ())
        for v in values:
            one(field, v, allowed)
        return frozenset(values)

    return Request(
        situation=one("situation", situation, vocabulary.situations),
        commune=commune,
        danger=bool(danger), distress=bool(distress),
        role=one("role", role, list(vocabulary.roles)),
        age_group=one("age_group", age_group, vocabulary.age_groups),
        profile=many("profile", profile, vocabulary.profiles),
        needs=many("needs", needs, vocabulary.needs),
        gender=one("gender", gender, vocabulary.genders),
    )


class Orienter:
    """Rules loaded and checked against one directory; reloaded when the directory changes."""

    def __init__(self, directory: Directory, rules_dir: Path = RULES_DIR):
        self.directory = directory
        self.rules_dir = Path(rules_dir)
        self._ruleset: RuleSet | None = None
        self._snapshot: Snapshot | None = None
        plan_file = self.rules_dir / "plan.yml"
        self.plan_spec = load_plan_spec(directory.vocabulary, plan_file if plan_file.exists() else PLAN_FILE)
        self.ruleset  # fail now, with every problem listed, if the rules are invalid

    @property
    def ruleset(self) -> RuleSet:
        snap = self.directory.snapshot
        if self._ruleset is None or self._snapshot is not snap:
            ruleset = load_rules(snap, self.directory.vocabulary, self.rules_dir)
            self._ruleset, self._snapshot = ruleset, snap
        return self._ruleset

    def evaluate(self, request: Request, *, include_pro: bool = False) -> Orientation:
        ruleset = self.ruleset
        return evaluate(ruleset, self._snapshot, request, include_pro=include_pro)

    def orient(self, request: Request, *, include_pro: bool = False, now: datetime | None = None) -> OrientationResult:
        ruleset = self.ruleset
        snap = self._snapshot
        o = evaluate(ruleset, snap, request, include_pro=include_pro)
        plan = build_plan(self.plan_spec, ruleset, snap, request, o,
                          lambda service, why: self.directory.contact(service, why, now))
        commune = snap.communes.by_insee.get(request.commune) if request.commune else None
        territories = [t.as_dict() for t in snap.territories_of(request.commune)
                       if t.kind not in ("national", "commune")] if request.commune else []
        return OrientationResult(o, plan.contacts, commune.as_dict() if commune else None, territories,
                                 plan.groups, plan.steps, plan.if_danger, self.plan_spec)


def check(directory: Directory, rules_dir: Path = RULES_DIR) -> RuleSet:
    """Load and validate (rules and plan layout); raise RulesError with every problem.
    The returned RuleSet's `warnings` list what does not stop the rules but a person would feel."""
    plan_file = Path(rules_dir) / "plan.yml"
    load_plan_spec(directory.vocabulary, plan_file if plan_file.exists() else PLAN_FILE)
    return load_rules(directory.snapshot, directory.vocabulary, rules_dir)


__all__ += ["check", "RulesError"]
