"""The rules bound to a directory: what the web, the bot and the CLI call."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from directory import Directory, Snapshot

from .engine import evaluate
from .errors import RulesError
from .loader import RULES_DIR, RuleSet, load_rules
from .model import Orientation, Request

__all__ = ["Orienter", "RequestError", "OrientationResult", "build_request"]


class RequestError(Exception):
    """A request names an unknown code; `field` says which."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field, self.message = field, message


@dataclass(frozen=True)
class OrientationResult:
    orientation: Orientation
    contacts: list[dict]
    commune: dict | None
    territories: list[dict]

    def as_dict(self) -> dict:
        return {"contacts": self.contacts, "commune": self.commune, "territories": self.territories,
                "rules": list(self.orientation.rules)}


def build_request(vocabulary, *, situation=None, commune=None, danger=False, distress=False, role=None,
                  age_group=None, profile=(), needs=()) -> Request:
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
        role=one("role", role, [r for r in vocabulary.roles if r != "auteur"]),
        age_group=one("age_group", age_group, vocabulary.age_groups),
        profile=many("profile", profile, vocabulary.profiles),
        needs=many("needs", needs, vocabulary.needs),
    )


class Orienter:
    """Rules loaded and checked against one directory; reloaded when the directory changes."""

    def __init__(self, directory: Directory, rules_dir: Path = RULES_DIR):
        self.directory = directory
        self.rules_dir = Path(rules_dir)
        self._ruleset: RuleSet | None = None
        self._snapshot: Snapshot | None = None
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
        o = self.evaluate(request, include_pro=include_pro)
        snap = self._snapshot
        contacts = [self.directory.contact(snap.services[r.service_id], r.why, now) for r in o.recommendations]
        commune = snap.communes.by_insee.get(request.commune) if request.commune else None
        territories = [t.as_dict() for t in snap.territories_of(request.commune)
                       if t.kind not in ("national", "commune")] if request.commune else []
        return OrientationResult(o, contacts, commune.as_dict() if commune else None, territories)


def check(directory: Directory, rules_dir: Path = RULES_DIR) -> RuleSet:
    """Load and validate; raise RulesError with every problem."""
    return load_rules(directory.snapshot, directory.vocabulary, rules_dir)


__all__ += ["check", "RulesError"]
