"""Load and validate the rule files (`*.rules.yml`): every problem is collected with
its file and line before anything fails, like `spacy debug config`."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from directory import Snapshot, Vocabulary
from directory.yamlio import LineDict, YamlSyntaxError, line_of, load_yaml

from .errors import RuleProblem, RulesError, suggest
from .model import Condition, Output, Rule

__all__ = ["RULES_DIR", "RuleSet", "load_rules"]

RULES_DIR = Path(__file__).resolve().parent
RULE_KEYS = ("id", "description", "priority", "show", "when", "then")
SHOW_VALUES = ("contacts", "if_danger")
WHEN_KEYS = ("situation", "situation_known", "danger", "distress", "role", "age_group", "profile", "needs",
             "territory", "commune_known")
ITEM_KEYS = ("service", "select", "why", "step", "about")
SELECT_KEYS = ("category", "serving_situation", "local_only")
PLACEHOLDERS = re.compile(r"\{(\w*)\}")
_CODES = {"situation": "unknown_situation", "role": "unknown_role", "age_group": "unknown_age_group",
          "profile": "unknown_profile", "needs": "unknown_need", "territory": "unknown_territory",
          "category": "unknown_category"}
ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[Rule, ...]  # sorted by priority, then file order
    files: tuple[str, ...]
    # Problems that do not stop the rules from working but that a person would feel (a contact
    # that cannot be reached is never shown): `orientation rules check` lists them, exit status 1.
    warnings: tuple[RuleProblem, ...] = ()
    # roles given only the services that list them (data/taxonomy.yaml exclusive_roles)
    exclusive_roles: frozenset = frozenset()

    def by_id(self, rule_id: str) -> Rule:
        return next(r for r in self.rules if r.id == rule_id)


class _Checker:
    def __init__(self, vocabulary: Vocabulary, snapshot: Snapshot):
        self.v = vocabulary
        self.snap = snapshot
        self.problems: list[RuleProblem] = []
        self.warnings: list[RuleProblem] = []
        self.file = ""
        self.current: str | None = None

    def add(self, code, node, message, key=None, suggestion=None):
        self.problems.append(RuleProblem(code, self.file, line_of(node, key), message, self.current, suggestion))

    def warn(self, code, node, message, key=None, suggestion=None):
        self.warnings.append(RuleProblem(code, self.file, line_of(node, key), message, self.current, suggestion))

    def known_service(self, item, key) -> str | None:
        sid = item.get(key)
        if not isinstance(sid, str) or sid not in self.snap.services:
            self.add("unknown_service", item, f"service « {sid} » absent de l'annuaire", key,
                     suggest(sid, self.snap.services))
            return None
        return sid

    def text(self, item, key, what) -> str:
        text = item.get(key)
        if not isinstance(text, str) or not text.strip():
            self.add("missing_field", item, f"« {key} » ({what}) est obligatoire", key)
            return ""
        if re.search(r"\d", text):
            # every number a person reads comes from the directory, next to this text
            self.add(f"number_in_{key}", item, f"« {key} » ne doit pas contenir de chiffres : le numéro vient de l'annuaire", key)
        for name in PLACEHOLDERS.findall(text):
            if name not in ("territory", "commune"):
                self.add("unknown_placeholder", item, f"« {{{name}}} » inconnu dans {key} (possibles : {{territory}}, {{commune}})", key)
        return text.strip()

    def step(self, item) -> Output | None:
        """A step: `step` (the text), optional `service` (the reachable service through which one
        asks for it) and `about` (the directory entry it speaks of, usually not reachable itself)."""
        for key in ("why", "select"):
            if key in item:
                self.add("invalid_output", item, f"une étape (step) n'a pas de « {key} » : son texte est dans « step »", key)
        text = self.text(item, "step", "le texte de l'étape")
        if "{territory}" in text:
            self.add("unknown_placeholder", item, "{territory} n'a de sens que dans une sélection locale (select)", "step")
        through = about = None
        if "service" in item:
            through = self.known_service(item, "service")
            if through and not self.snap.services[through].reachable:
                self.warn("unreachable_contact", item,
                          f"l'étape passe par « {through} », qui n'a aucun moyen de contact (téléphone, SMS, site ou "
                          f"formulaire, e-mail, adresse avec horaires) : indiquez un service joignable, ou aucun",
                          "service", self._reachable_like(through))
        if "about" in item:
            about = self.known_service(item, "about")
        return Output(why=text, service=through, step=text, about=about)

    def _reachable_like(self, sid: str) -> str | None:
        reachable = [s.id for s in self.snap.services.values() if s.reachable]
        return suggest(sid, reachable)

    def keys(self, node: dict, allowed, what: str) -> None:
        for key in node:
            if key not in allowed:
                self.add("unknown_field", node, f"champ « {key} » inconnu dans {what} (possibles : {', '.join(allowed)})",
                         key, suggest(key, allowed))

    def values(self, node, key, allowed: dict | set, what: str) -> frozenset | None:
        raw = node.get(key)
        if raw is None:
            return None
        items = [raw] if isinstance(raw, str) else raw
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            self.add("wrong_type", node, f"« {key} » doit être un code ou une liste de codes", key)
            return None
        if not items:
            self.add("never_fires", node, f"« {key} » est une liste vide : la règle ne peut jamais s'appliquer", key)
        for item in items:
            if item not in allowed:
                self.add(_CODES.get(key, f"unknown_{key}"), node, f"{what} « {item} » inconnu(e) dans « {key} »", key, suggest(item, allowed))
        return frozenset(items)

    def boolean(self, node, key) -> bool | None:
        raw = node.get(key)
        if raw is None:
            return None
        if not isinstance(raw, bool):
            self.add("wrong_type", node, f"« {key} » doit valoir true ou false", key)
            return None
        return raw

    def condition(self, node) -> Condition:
        if node is None:
            return Condition()
        if not isinstance(node, dict):
            self.add("wrong_type", node, "« when » doit lister des conditions")
            return Condition()
        self.keys(node, WHEN_KEYS, "« when »")
        cond = Condition(
            situation=self.values(node, "situation", self.v.situations, "situation"),
            situation_known=self.boolean(node, "situation_known"),
            danger=self.boolean(node, "danger"),
            distress=self.boolean(node, "distress"),
            role=self.values(node, "role", self.v.roles, "role"),
            age_group=self.values(node, "age_group", self.v.age_groups, "age_group"),
            profile=self.values(node, "profile", self.v.profiles, "profile"),
            needs=self.values(node, "needs", self.v.needs, "besoin"),
            territory=self.values(node, "territory", self.snap.territories, "territoire"),
            commune_known=self.boolean(node, "commune_known"),
        )
        if cond.situation and cond.situation_known is False:
            self.add("never_fires", node, "« situation » et « situation_known: false » se contredisent : la règle ne peut jamais s'appliquer")
        if cond.territory and cond.commune_known is False:
            self.add("never_fires", node, "« territory » et « commune_known: false » se contredisent : la règle ne peut jamais s'appliquer")
        return cond

    def output(self, item, cond: Condition) -> Output | None:
        if not isinstance(item, dict):
            self.add("wrong_type", item, "chaque contact de « then » doit être un objet avec service ou select, et why")
            return None
        self.keys(item, ITEM_KEYS, "un contact de « then »")
        if "step" in item:
            return self.step(item)
        if "about" in item:
            self.add("invalid_output", item, "« about » ne sert qu'avec une étape (step)", "about")
        why = self.text(item, "why", "la raison montrée à la personne")
        if ("service" in item) == ("select" in item):
            self.add("invalid_output", item, "indiquez soit « service » (un identifiant), soit « select » (une sélection locale)")
            return None
        if "service" in item:
            sid = item["service"]
            if sid not in self.snap.services:
                self.add("unknown_service", item, f"service « {sid} » absent de l'annuaire", "service", suggest(sid, self.snap.services))
                return None
            if "{territory}" in why:
                self.add("unknown_placeholder", item, "{territory} n'a de sens que dans une sélection locale (select)", "why")
            if not self.snap.services[sid].reachable:
                self.warn("unreachable_contact", item,
                          f"« {sid} » n'a aucun moyen de contact (téléphone, SMS, site ou formulaire, e-mail, adresse "
                          f"avec horaires) : il ne sera jamais montré comme contact. Écrivez plutôt une étape "
                          f"(« step: » avec « about: {sid} » et, si une source le dit, « service: » le service "
                          f"joignable par lequel on le demande), ou complétez la fiche dans l'annuaire",
                          "service")
            return Output(why=why, service=sid)
        sel = item["select"]
        if not isinstance(sel, dict):
            self.add("wrong_type", item, "« select » doit être un objet (category, serving_situation, local_only)", "select")
            return None
        self.keys(sel, SELECT_KEYS, "« select »")
        categories = self.values(sel, "category", self.v.categories, "catégorie")
        serving = self.boolean(sel, "serving_situation") or False
        local_only = self.boolean(sel, "local_only")
        out = Output(why=why, category=categories, serving_situation=serving,
                     local_only=True if local_only is None else local_only)
        if not self._can_select(out, cond):
            self.add("never_fires", item, "cette sélection ne trouve aucun service de l'annuaire, dans aucune commune", "select")
        return out

    def _can_select(self, out: Output, cond: Condition) -> bool:
        situations = cond.situation or frozenset(self.v.situations)
        for s in self.snap.services.values():
            if out.category and s.category not in out.category:
                continue
            if out.serving_situation and not (set(s.situations) & situations):
                continue
            if out.local_only and all(self.snap.territories[t].kind == "national" for t in s.area):
                continue
            return True
        return False

    def rule(self, node, order: int, seen: dict) -> Rule | None:
        if not isinstance(node, dict):
            self.add("wrong_type", node, "chaque règle doit être un objet (id, when, then, ...)")
            return None
        rid = node.get("id")
        self.current = rid if isinstance(rid, str) else None
        self.keys(node, RULE_KEYS, "une règle")
        if not isinstance(rid, str) or not ID_RE.match(rid):
            self.add("invalid_id", node, "« id » obligatoire : minuscules, chiffres et tirets", "id")
        elif rid in seen:
            self.add("duplicate_id", node, f"identifiant déjà utilisé ({seen[rid]})", "id")
        else:
            seen[rid] = f"{self.file}:{line_of(node)}"
        priority = node.get("priority", 50)
        if not isinstance(priority, int) or isinstance(priority, bool):
            self.add("wrong_type", node, "« priority » doit être un nombre entier (0 = en premier)", "priority")
            priority = 50
        show = node.get("show", "contacts")
        if show not in SHOW_VALUES:
            self.add("unknown_show", node, f"« show » vaut {' ou '.join(SHOW_VALUES)}", "show", suggest(show, SHOW_VALUES))
            show = "contacts"
        cond = self.condition(node.get("when"))
        if show == "if_danger" and cond.danger is not False:
            # "En cas de danger" is shown only when the person is not in danger
            self.add("invalid_show", node, "« show: if_danger » vaut seulement sans danger : ajoutez « danger: false » dans « when »",
                     "show")
        then = node.get("then")
        if not isinstance(then, list) or not then:
            self.add("missing_field", node, "« then » doit lister au moins un contact", "then")
            then = []
        outputs = tuple(o for o in (self.output(item, cond) for item in then) if o)
        desc = node.get("description")
        return Rule(id=str(rid), file=self.file, line=line_of(node) or 0, priority=priority, when=cond,
                    outputs=outputs, description=desc, order=order, show=show)


def load_rules(snapshot: Snapshot, vocabulary: Vocabulary, rules_dir: Path = RULES_DIR) -> RuleSet:
    """Read every `*.rules.yml` of `rules_dir`; raise RulesError listing all problems."""
    checker = _Checker(vocabulary, snapshot)
    files = sorted(Path(rules_dir).glob("*.rules.yml"))
    if not files:
        raise RulesError([RuleProblem("no_rules", str(rules_dir), None, "aucun fichier *.rules.yml trouvé")])
    rules: list[Rule] = []
    seen: dict[str, str] = {}
    for path in files:
        checker.file, checker.current = path.name, None
        try:
            doc = load_yaml(path)
        except YamlSyntaxError as exc:
            checker.problems.append(RuleProblem("yaml_syntax", path.name, exc.line, exc.message))
            continue
        if not isinstance(doc, dict) or not isinstance(doc.get("rules"), list):
            checker.add("invalid_file", doc, "le fichier doit contenir une liste « rules: »")
            continue
        checker.keys(doc, ("rules",), "le fichier")
        for node in doc["rules"]:
            rule = checker.rule(node, len(rules), seen)
            if rule:
                rules.append(rule)
    named = {s for r in rules for s in (r.when.situation or ())}
    for code in vocabulary.situations:
        if code not in named:
            checker.problems.append(RuleProblem("situation_without_rule", "*.rules.yml", None,
                                                f"aucune règle ne traite la situation « {code} »"))
    if checker.problems:
        raise RulesError(checker.problems)
    ordered = tuple(sorted(rules, key=lambda r: (r.priority, r.order)))
    return RuleSet(ordered, tuple(p.name for p in files), tuple(checker.warnings), vocabulary.exclusive_roles)
