"""Who is writing, about whom, and what they ask for: role, age group, needs, profile.

Rules are regular expressions kept as data in `bot/profile.yml` and matched against
`normalize(text)`. The file is loaded and validated once; a broken rule fails loudly
with the file name and the rule id.

- role: the lowest `tier` with a hit decides (1: the writer is hurt, 2: a relative of
  the writer is, 3: the writer is a professional, 4: someone else is, 5-6: fallbacks on
  who the writer speaks of). So "mon mari me frappe et frappe les enfants" is a victim.
- age_group: of the person concerned. A stated age first (the writer's own age when
  they are the victim, someone else's otherwise), then markers (strong before weak,
  mineur before senior before adulte).
- needs and profile flags: any rule hit not preceded by a negation ("je ne veux pas
  porter plainte"), unless the rule embeds the negation itself (`negatable: false`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot.normalize import normalize

__all__ = ["Profile", "extract_profile", "load_rules", "ProfileRulesError", "RULES_PATH",
           "ROLES", "AGE_GROUPS", "NEEDS", "PROFILE_FLAGS", "GENDERS"]

RULES_PATH = Path(__file__).resolve().parent / "profile.yml"
ROLES = ("victime", "proche", "professionnel", "auteur")  # auteur: the writer says they are violent
AGE_GROUPS = ("mineur", "adulte", "senior")
NEEDS = ("hebergement", "plainte", "soutien_psy", "juridique", "medical")
PROFILE_FLAGS = ("sourd", "handicap", "enceinte", "avec_enfants")
GENDERS = ("homme", "femme")  # of the writer, when they say so: a man is never sent to a women-only service
GUESS_TIER = 5  # roles from this tier on are fallbacks on whom the writer speaks of: a guess
MARKER_ORDER = ("mineur", "senior", "adulte")  # among markers of equal strength
SCOPES = ("self", "other", "any")

_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_FRAGMENT_REF = re.compile(r"@([a-z_]+)")
_NUMBER_WORDS = {
    "un": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6, "sept": 7, "huit": 8, "neuf": 9,
    "dix": 10, "onze": 11, "douze": 12, "treize": 13, "quatorze": 14, "quinze": 15, "seize": 16,
    "vingt": 20, "trente": 30, "quarante": 40, "cinquante": 50, "soixante": 60, "quatrevingt": 80,
}


@dataclass(frozen=True)
class Profile:
    role: str | None        # "victime" | "proche" | "professionnel" | "auteur" | None when unclear
    age_group: str | None   # "mineur" | "adulte" | "senior" | None: the age group of the person CONCERNED (the victim), not of the writer
    needs: tuple[str, ...]  # subset of ("hebergement", "plainte", "soutien_psy", "juridique", "medical"), in that order
    profile: tuple[str, ...]  # subset of ("sourd", "handicap", "enceinte", "avec_enfants")
    gender: str | None = None  # "homme" | "femme": the writer's, only when stated
    role_guessed: bool = False  # the role comes only from a fallback (who the writer speaks of, tiers 5-6)


class ProfileRulesError(ValueError):
    """bot/profile.yml holds a problem; the message names the file and the rule id."""


@dataclass(frozen=True)
class Rule:
    id: str
    value: str                # output value ("victime", "mineur", "plainte"...); "" for stated ages
    regex: re.Pattern[str]
    note: str
    tier: int = 0             # roles only
    scope: str = "any"        # age rules only: self, other or any
    weak: bool = False        # age markers only
    negatable: bool = True    # needs and profile flags only
    unless: re.Pattern[str] | None = None  # roles only: the rule does not apply when this matches


@dataclass(frozen=True)
class Rules:
    roles: tuple[Rule, ...]        # sorted by tier, file order within a tier
    ages: tuple[Rule, ...]         # stated ages, in file order
    age_markers: tuple[Rule, ...]  # sorted by strength then MARKER_ORDER
    needs: tuple[Rule, ...]        # in NEEDS order
    flags: tuple[Rule, ...]        # in PROFILE_FLAGS order
    genders: tuple[Rule, ...]      # in GENDERS order
    negators: frozenset[str]
    boundaries: frozenset[str]
    window: int


# ---------------------------------------------------------------- loading


class _Loader:
    """Validates the raw YAML and compiles every rule; errors name the file and the id."""

    def __init__(self, path: Path):
        self.path = path
        self.seen: set[str] = set()
        self.fragments: dict[str, str] = {}

    def fail(self, message: str, rule_id: str | None = None) -> ProfileRulesError:
        where = f"{self.path}: rule '{rule_id}'" if rule_id else str(self.path)
        return ProfileRulesError(f"{where}: {message}")

    def load(self) -> Rules:
        try:
            raw = yaml.safe_load(self.path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise self.fail(f"cannot read the rules: {exc}") from exc
        sections = ("fragments", "negation", "role", "age_group", "needs", "profile", "gender")
        self.mapping(raw, sections, "the file")
        self.fragments = self.mapping(raw.get("fragments") or {}, None, "fragments")
        negation = self.mapping(raw.get("negation"), ("window", "negators", "boundaries"), "negation")
        window = negation.get("window")
        if not isinstance(window, int) or window < 1:
            raise self.fail("negation.window must be a positive integer")
        words = {k: negation.get(k) for k in ("negators", "boundaries")}
        for key, value in words.items():
            if not isinstance(value, list) or not all(isinstance(w, str) for w in value):
                raise self.fail(f"negation.{key} must be a list of words")
        role = self.grouped(raw.get("role"), ROLES, "role", ("tier", "unless"))
        ages_raw = self.mapping(raw.get("age_group"), ("ages", *AGE_GROUPS), "age_group")
        ages = tuple(self.rule(e, "", "age_group.ages", ("scope",)) for e in self.entries(ages_raw.get("ages"), "age_group.ages"))
        for rule in ages:
            if "age" not in rule.regex.groupindex:
                raise self.fail("a stated-age pattern must capture (?P<age>...), e.g. with @number", rule.id)
        markers = self.grouped({k: v for k, v in ages_raw.items() if k != "ages"}, AGE_GROUPS, "age_group", ("scope", "weak"))
        needs = self.grouped(raw.get("needs"), NEEDS, "needs", ("negatable",))
        flags = self.grouped(raw.get("profile"), PROFILE_FLAGS, "profile", ("negatable",))
        genders = self.grouped(raw.get("gender"), GENDERS, "gender", ("negatable",))
        return Rules(
            roles=tuple(sorted(role, key=lambda r: r.tier)),
            ages=ages,
            age_markers=tuple(sorted(markers, key=lambda r: (r.weak, MARKER_ORDER.index(r.value)))),
            needs=tuple(sorted(needs, key=lambda r: NEEDS.index(r.value))),
            flags=tuple(sorted(flags, key=lambda r: PROFILE_FLAGS.index(r.value))),
            genders=tuple(sorted(genders, key=lambda r: GENDERS.index(r.value))),
            negators=frozenset(words["negators"]),
            boundaries=frozenset(words["boundaries"]),
            window=window,
        )

    def mapping(self, node: Any, allowed: tuple[str, ...] | None, what: str) -> dict:
        if not isinstance(node, dict):
            raise self.fail(f"{what} must be a mapping")
        unknown = [k for k in node if allowed is not None and k not in allowed]
        if unknown:
            raise self.fail(f"unknown key(s) {unknown} in {what} (allowed: {', '.join(allowed or ())})")
        return node

    def entries(self, node: Any, what: str) -> list[dict]:
        if not isinstance(node, list) or not node:
            raise self.fail(f"{what} must be a non-empty list of rules")
        return node

    def grouped(self, node: Any, values: tuple[str, ...], what: str, extra: tuple[str, ...]) -> list[Rule]:
        groups = self.mapping(node, values, what)
        return [self.rule(entry, value, f"{what}.{value}", extra)
                for value in values if value in groups
                for entry in self.entries(groups[value], f"{what}.{value}")]

    def rule(self, entry: Any, value: str, what: str, extra: tuple[str, ...]) -> Rule:
        if not isinstance(entry, dict):
            raise self.fail(f"every entry of {what} must be a mapping with id, pattern and note")
        rule_id = entry.get("id")
        if not isinstance(rule_id, str) or not _ID.match(rule_id):
            raise self.fail(f"an entry of {what} has a missing or malformed id ({rule_id!r}; use kebab-case)")
        if rule_id in self.seen:
            raise self.fail("duplicate id", rule_id)
        self.seen.add(rule_id)
        unknown = [k for k in entry if k not in ("id", "pattern", "note", *extra)]
        if unknown:
            raise self.fail(f"unknown key(s) {unknown} (allowed: id, pattern, note, {', '.join(extra)})", rule_id)
        pattern, note = entry.get("pattern"), entry.get("note")
        if not isinstance(pattern, str) or not pattern.strip():
            raise self.fail("missing pattern", rule_id)
        if not isinstance(note, str) or not note.strip():
            raise self.fail("missing note", rule_id)
        regex = self.compile(pattern, rule_id, "")
        tier, scope = entry.get("tier", 0), entry.get("scope", "any")
        weak, negatable = entry.get("weak", False), entry.get("negatable", True)
        if "tier" in extra and (not isinstance(tier, int) or tier < 1):
            raise self.fail("tier must be a positive integer", rule_id)
        if scope not in SCOPES:
            raise self.fail(f"scope must be one of {SCOPES}", rule_id)
        if not isinstance(weak, bool) or not isinstance(negatable, bool):
            raise self.fail("weak and negatable must be true or false", rule_id)
        unless = entry.get("unless")
        if unless is not None:
            if not isinstance(unless, str) or not unless.strip():
                raise self.fail("unless must be a pattern", rule_id)
            unless = self.compile(unless, rule_id, " in unless")
        return Rule(rule_id, value, regex, note.strip(), tier, scope, weak, negatable, unless)

    def compile(self, pattern: str, rule_id: str, where: str) -> re.Pattern[str]:
        try:
            return re.compile(_space_anchored(self.expand(pattern, rule_id, ())))
        except re.error as exc:
            raise self.fail(f"invalid regular expression{where}: {exc}", rule_id) from exc

    def expand(self, pattern: str, rule_id: str, stack: tuple[str, ...]) -> str:
        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in self.fragments or not isinstance(self.fragments[name], str):
                raise self.fail(f"unknown fragment @{name}", rule_id)
            if name in stack:
                raise self.fail(f"fragment @{name} refers to itself", rule_id)
            return "(?:" + self.expand(self.fragments[name].strip(), rule_id, (*stack, name)) + ")"

        return _FRAGMENT_REF.sub(replace, pattern)


def _space_anchored(pattern: str) -> str:
    """Compile a `\\b` that opens a top-level branch as a literal space.

    Rules run on " " + normalize(text) + " ", where words are separated by single
    spaces, so both mean the same; a literal first character lets the regex engine
    jump straight to candidate positions (about five times faster on long messages)."""
    branches, depth, start, i = [], 0, 0, 0
    in_class = False
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            i += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            branches.append(pattern[start:i])
            start = i + 1
        i += 1
    branches.append(pattern[start:])
    return "|".join(" " + b[2:] if b.startswith("\\b") else b for b in branches)


def load_rules(path: Path = RULES_PATH) -> Rules:
    """Load and validate a rules file (raises ProfileRulesError naming the file and the id)."""
    return _Loader(Path(path)).load()


@lru_cache(maxsize=1)
def _rules() -> Rules:
    return load_rules(RULES_PATH)


# ---------------------------------------------------------------- extraction


def extract_profile(text: str) -> Profile:
    """Role, age group, needs and profile flags of a message. Pure and deterministic."""
    rules = _rules()
    norm = f" {normalize(text or '')} "  # padded: see _space_anchored
    role, tier = _role(rules, norm)
    return Profile(
        role=role,
        role_guessed=tier is not None and tier >= GUESS_TIER,
        age_group=_age_group(rules, norm, role),
        needs=_values(rules, rules.needs, norm),
        profile=_values(rules, rules.flags, norm),
        gender=next(iter(_values(rules, rules.genders, norm)), None),
    )


def _role(rules: Rules, norm: str) -> tuple[str | None, int | None]:
    """The role and the tier of the rule that gave it."""
    for rule in rules.roles:  # sorted by tier: the first hit is in the lowest tier
        if rule.regex.search(norm) and not (rule.unless and rule.unless.search(norm)):
            return rule.value, rule.tier
    return None, None


def _age_group(rules: Rules, norm: str, role: str | None) -> str | None:
    scopes = ("any", "other") if role in ("proche", "professionnel") else ("any", "self")
    for rule in rules.ages:
        if rule.scope in scopes:
            match = rule.regex.search(norm)
            age = _parse_age(match.group("age")) if match else None
            if age is not None:
                return "mineur" if age < 18 else "adulte" if age < 65 else "senior"
    for rule in rules.age_markers:  # strong before weak, then mineur, senior, adulte
        if rule.scope in scopes and rule.regex.search(norm):
            return rule.value
    return None


def _values(rules: Rules, candidates: tuple[Rule, ...], norm: str) -> tuple[str, ...]:
    found: list[str] = []
    for rule in candidates:
        if rule.value in found:
            continue
        for match in rule.regex.finditer(norm):
            if not (rule.negatable and _negated(rules, norm, match.start())):
                found.append(rule.value)
                break
    return tuple(found)


def _negated(rules: Rules, norm: str, start: int) -> bool:
    """A negation word among the few words before `start`, within the same clause."""
    before = norm[max(0, start - 80):start].split()
    for word in reversed(before[-rules.window:]):
        if word in rules.boundaries:
            return False
        if word in rules.negators:
            return True
    return False


def _parse_age(raw: str) -> int | None:
    if raw.isdigit():
        age = int(raw)
    else:
        age = sum(_NUMBER_WORDS.get(w, 0) for w in raw.replace("quatre vingt", "quatrevingt").split())
    return age if 0 < age < 120 else None
