"""The corpus of conversations as data (tests/conversations/*.yml), played through the
real `Dialogue`.

Each conversation is a list of user turns (free text or a button payload) with, per
turn, optional expectations on the replies of that turn (the question asked, whether an
emergency message came, words that must or must not appear...), and final
expectations on the LAST recommendation (the contacts that must, must not, and must come
first). `load_corpus` reads and validates every file and lists every problem with its
file and line; `play` runs one conversation and says why it fails; `run` and `report`
give the pass rate by class (`orientation dialogue evaluate`).

The corpus is our own test data: its transcripts may be printed. Real users' messages
never go through this module.
"""
from __future__ import annotations

import re
import unicodedata
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from directory.yamlio import LineDict, YamlSyntaxError, line_of, load_yaml
from rules.errors import suggest

__all__ = ["CLASSES", "CORPUS_DIR", "Conversation", "CorpusError", "CorpusProblem", "Result", "Turn",
           "first_group", "load_corpus", "play", "run", "by_class", "report"]

CORPUS_DIR = Path(__file__).resolve().parent.parent / "tests" / "conversations"

# The failure classes of the issue on messy dialogue, then the themes that cover the rest.
CLASSES = {
    "overwrite": "1. Un message plus tardif écrase ce qui est connu",
    "places": "2. Des mots ordinaires pris pour des lieux hors de l'Aisne",
    "answers": "3. Les réponses lues dans le contexte de la question",
    "who": "4. Qui écrit n'est pas forcément qui subit",
    "danger": "5. Le danger est demandé, pas déclaré",
    "profiles": "6. Les profils changent le plan",
    "burglary": "7. Cambriolage et vol",
    "situations": "Chaque situation de bout en bout",
    "typing": "Façons d'écrire (SMS, sans accents, fautes, longs récits, un mot à la fois)",
}
FACTS = ("danger", "situation", "commune", "role", "age_group")
TYPING = ("sms", "no_accents", "typos", "long_story", "one_word", "hesitation", "correction", "english", "payload")
TURN_KEYS = {"say", "asks", "not_asks", "emergency", "recommends", "declares_danger", "shows", "not_shows",
             "text_contains", "text_contains_any", "text_excludes"}
KNOWN_FAILURES_FILE = "known-failures.yml"  # ids the dialogue does not pass yet, with why (not conversations)
FINAL_KEYS = {"must", "must_not", "first", "max_contacts", "situation", "serves_gender",
              "text_contains", "text_contains_any", "text_excludes"}
CONVERSATION_KEYS = {"id", "class", "description", "turns", "expect", "covers"}
COVERS_KEYS = {"situation", "role", "age_group", "profile", "gender", "typing"}
NOTHING = "nothing"  # `asks: nothing`: no question in this turn's replies
# "Vous êtes en danger" said as a fact about the person (not "si vous êtes en danger", not a question)
DECLARED_DANGER = re.compile(r"(?<!\bsi )(?<!\bquand )(?<!\bsi jamais )\bvous etes en danger\b(?!\s*\?)")


@dataclass(frozen=True)
class CorpusProblem:
    file: str
    line: int | None
    message: str
    suggestion: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        hint = f" Vouliez-vous dire « {self.suggestion} » ?" if self.suggestion else ""
        return f"{where} : {self.message}{hint}"


class CorpusError(Exception):
    """The corpus files hold problems; all of them are listed."""

    def __init__(self, problems: list[CorpusProblem]):
        self.problems = problems
        self.message = f"{len(problems)} problème(s) dans le corpus :\n" + "\n".join(f"  - {p}" for p in problems)
        super().__init__(self.message)


@dataclass(frozen=True)
class Turn:
    say: str
    expect: dict
    line: int | None


@dataclass(frozen=True)
class Conversation:
    id: str
    cls: str
    description: str
    turns: tuple[Turn, ...]
    expect: dict
    covers: dict
    file: str
    line: int | None


@dataclass
class Result:
    conversation: Conversation
    failures: list[str] = field(default_factory=list)
    transcript: list[tuple[str, list[dict]]] = field(default_factory=list)
    recommendation: dict | None = None  # the last recommendation message, if any

    @property
    def passed(self) -> bool:
        return not self.failures


# -- loading and validation ---------------------------------------------------------------
def _as_list(value) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


class _Checker:
    def __init__(self, services, vocabulary):
        self.services = set(services) if services is not None else None
        self.vocabulary = vocabulary
        self.problems: list[CorpusProblem] = []
        self.file = ""

    def add(self, node, message, key=None, suggestion=None):
        self.problems.append(CorpusProblem(self.file, line_of(node, key), message, suggestion))

    def keys(self, node, allowed, what):
        for key in node:
            if key not in allowed:
                self.add(node, f"clé « {key} » inconnue dans {what}", key, suggest(key, allowed))

    def service_ids(self, node, key):
        values = node.get(key)
        if values is None:
            return
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            self.add(node, f"« {key} » doit être une liste d'identifiants de services", key)
            return
        if self.services is not None:
            for sid in values:
                if sid not in self.services:
                    self.add(node, f"service « {sid} » absent de l'annuaire (data/services.yaml)", key,
                             suggest(sid, self.services))

    def facts(self, node, key):
        for value in _as_list(node.get(key)):
            if value not in (*FACTS, NOTHING):
                self.add(node, f"fait « {value} » inconnu dans « {key} » (attendu : {', '.join(FACTS)} ou {NOTHING})",
                         key, suggest(value, (*FACTS, NOTHING)))

    def texts(self, node, key):
        values = node.get(key)
        if values is not None and not (isinstance(values, list) and all(isinstance(v, str) and v for v in values)):
            self.add(node, f"« {key} » doit être une liste de textes", key)

    def booleans(self, node, *keys):
        for key in keys:
            if key in node and not isinstance(node[key], bool):
                self.add(node, f"« {key} » doit valoir true ou false", key)

    def turn(self, node) -> Turn | None:
        if isinstance(node, str):
            return Turn(node, {}, None)
        if not isinstance(node, dict):
            self.add(node, "un tour est un texte, ou un objet avec « say » et des attentes")
            return None
        self.keys(node, TURN_KEYS, "un tour")
        if not isinstance(node.get("say"), str) or not node.get("say").strip():
            self.add(node, "le tour n'a pas de message « say »", "say")
            return None
        self.facts(node, "asks")
        self.facts(node, "not_asks")
        self.booleans(node, "emergency", "recommends", "declares_danger")
        self.service_ids(node, "shows")
        self.service_ids(node, "not_shows")
        for key in ("text_contains", "text_contains_any", "text_excludes"):
            self.texts(node, key)
        return Turn(node["say"], {k: v for k, v in node.items() if k != "say"}, line_of(node))

    def final(self, node) -> dict:
        if node is None:
            return {}
        if not isinstance(node, dict):
            self.add(node, "« expect » doit être un objet (must, must_not, first, max_contacts...)")
            return {}
        self.keys(node, FINAL_KEYS, "« expect »")
        for key in ("must", "must_not", "first"):
            self.service_ids(node, key)
        for key in ("text_contains", "text_contains_any", "text_excludes"):
            self.texts(node, key)
        both = set(node.get("must") or ()) & set(node.get("must_not") or ())
        if both:
            self.add(node, f"services à la fois dans must et must_not : {', '.join(sorted(both))}", "must_not")
        if "max_contacts" in node and not (isinstance(node["max_contacts"], int) and node["max_contacts"] > 0):
            self.add(node, "« max_contacts » doit être un entier positif", "max_contacts")
        v = self.vocabulary
        if v is not None and "situation" in node and node["situation"] not in v.situations:
            self.add(node, f"situation « {node['situation']} » inconnue", "situation", suggest(node["situation"], v.situations))
        if v is not None and "serves_gender" in node and node["serves_gender"] not in v.genders:
            self.add(node, f"genre « {node['serves_gender']} » inconnu", "serves_gender", suggest(node["serves_gender"], v.genders))
        return dict(node)

    def covers(self, node) -> dict:
        if node is None:
            return {}
        if not isinstance(node, dict):
            self.add(node, "« covers » doit être un objet")
            return {}
        self.keys(node, COVERS_KEYS, "« covers »")
        v = self.vocabulary
        vocab = {"typing": TYPING}
        if v is not None:
            vocab.update(situation=v.situations, role=v.roles, age_group=v.age_groups, profile=v.profiles, gender=v.genders)
        for key, allowed in vocab.items():
            for value in _as_list(node.get(key)):
                if value not in allowed:
                    self.add(node, f"« {value} » inconnu dans covers.{key}", key, suggest(value, allowed))
        return {k: _as_list(val) for k, val in node.items()}

    def conversation(self, node, seen: dict) -> Conversation | None:
        if not isinstance(node, dict):
            self.add(node, "une conversation doit être un objet (id, class, description, turns, expect)")
            return None
        self.keys(node, CONVERSATION_KEYS, "une conversation")
        cid = node.get("id")
        if not isinstance(cid, str) or not re.fullmatch(r"[a-z0-9][a-z0-9-]*", cid):
            self.add(node, "« id » manquant ou invalide (minuscules, chiffres et tirets)", "id")
            cid = None
        elif cid in seen:
            self.add(node, f"id « {cid} » déjà utilisé ({seen[cid]})", "id")
        else:
            seen[cid] = f"{self.file}:{line_of(node)}"
        cls = node.get("class")
        if cls not in CLASSES:
            self.add(node, f"classe « {cls} » inconnue (attendu : {', '.join(CLASSES)})", "class", suggest(cls, CLASSES))
        if not isinstance(node.get("description"), str) or not node["description"].strip():
            self.add(node, "« description » manquante", "description")
        turns_node = node.get("turns")
        if not isinstance(turns_node, list) or not turns_node:
            self.add(node, "« turns » doit être une liste non vide de messages", "turns")
            turns_node = []
        turns = [self.turn(t) for t in turns_node]
        final = self.final(node.get("expect"))
        covers = self.covers(node.get("covers"))
        if cid is None or cls not in CLASSES or None in turns:
            return None
        return Conversation(cid, cls, node.get("description", ""), tuple(turns), final, covers, self.file, line_of(node))


def load_corpus(folder: Path = CORPUS_DIR, services=None, vocabulary=None) -> list[Conversation]:
    """Every conversation of folder/*.yml, in file order; raises CorpusError listing every
    problem (file and line). `services`: the known service ids (checked when given);
    `vocabulary`: the taxonomy (situations, roles... checked when given)."""
    checker = _Checker(services, vocabulary)
    conversations: list[Conversation] = []
    seen: dict = {}
    files = sorted(p for p in Path(folder).glob("*.yml") if p.name != KNOWN_FAILURES_FILE)
    if not files:
        raise CorpusError([CorpusProblem(str(folder), None, "aucun fichier *.yml de conversations")])
    for path in files:
        checker.file = path.name
        try:
            raw = load_yaml(path)
        except YamlSyntaxError as exc:
            checker.problems.append(CorpusProblem(path.name, exc.line, exc.message))
            continue
        if not isinstance(raw, LineDict) or not isinstance(raw.get("conversations"), list):
            checker.add(raw, "le fichier doit contenir « conversations: » suivi d'une liste")
            continue
        for node in raw["conversations"]:
            conv = checker.conversation(node, seen)
            if conv is not None:
                conversations.append(conv)
    if checker.problems:
        raise CorpusError(checker.problems)
    return conversations


# -- playing ----------------------------------------------------------------------------------
def _fold(text: str) -> str:
    """Lower case, no accents, straight apostrophes, single spaces: for word checks."""
    text = unicodedata.normalize("NFKD", text.replace("\u2019", "'").replace("\u00a0", " "))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    return re.sub(r"\s+", " ", text)


def _custom(reply: dict) -> dict:
    custom = reply.get("custom")
    return custom if isinstance(custom, dict) else {}


def _asked(replies) -> list[str]:
    return [_custom(r)["asks"] for r in replies if _custom(r).get("asks")]


def _shown(replies) -> list[str]:
    out = []
    for r in replies:
        c = _custom(r)
        out += [x.get("id") for x in (c.get("contacts") or []) + (c.get("if_danger") or []) if isinstance(x, dict)]
    return out


def _is_recommendation(reply: dict) -> bool:
    c = _custom(reply)
    return bool(c.get("plan") or ("rules" in c and "contacts" in c and not c.get("emergency")))


def first_group(contacts: list[dict]) -> list[str]:
    """The ids "to contact first": the contacts of group "first" (issue 11), else the first three."""
    if any("group" in c for c in contacts):
        return [c["id"] for c in contacts if c.get("group") == "first"]
    return [c["id"] for c in contacts[:3]]


def _check_turn(n: int, turn: Turn, replies: list[dict]) -> list[str]:
    e, out = turn.expect, []
    where = f"tour {n} « {turn.say[:60]} »"
    asked = _asked(replies)
    text = _fold(" ".join(str(r.get("text") or "") for r in replies))
    if "asks" in e:
        wanted = _as_list(e["asks"])
        if NOTHING in wanted:
            if asked:
                out.append(f"{where} : aucune question attendue, demande {asked}")
        elif not set(wanted) & set(asked):
            out.append(f"{where} : devait demander {' ou '.join(wanted)}, demande {asked or 'rien'}")
    for fact in _as_list(e.get("not_asks")):
        if fact in asked:
            out.append(f"{where} : ne devait pas demander {fact}")
    if "emergency" in e:
        got = any(_custom(r).get("emergency") for r in replies)
        if got != e["emergency"]:
            out.append(f"{where} : message d'urgence {'absent' if e['emergency'] else 'donné à tort'}")
    if "recommends" in e:
        got = any(_is_recommendation(r) for r in replies)
        if got != e["recommends"]:
            out.append(f"{where} : recommandation {'absente' if e['recommends'] else 'donnée trop tôt'}")
    if "declares_danger" in e:
        got = bool(DECLARED_DANGER.search(text))
        if got != e["declares_danger"]:
            out.append(f"{where} : {'ne dit pas' if e['declares_danger'] else 'déclare à tort'} « vous êtes en danger »")
    shown = _shown(replies)
    missing = [s for s in e.get("shows") or () if s not in shown]
    if missing:
        out.append(f"{where} : contacts attendus absents {missing} (montrés : {shown})")
    wrong = [s for s in e.get("not_shows") or () if s in shown]
    if wrong:
        out.append(f"{where} : contacts à ne pas montrer {wrong}")
    return out + _check_text(where, e, text)


def _check_text(where: str, e: dict, text: str) -> list[str]:
    out = []
    for needle in e.get("text_contains") or ():
        if _fold(needle) not in text:
            out.append(f"{where} : le texte ne contient pas « {needle} »")
    if e.get("text_contains_any") and not any(_fold(x) in text for x in e["text_contains_any"]):
        out.append(f"{where} : le texte ne contient aucun de {e['text_contains_any']}")
    for needle in e.get("text_excludes") or ():
        if _fold(needle) in text:
            out.append(f"{where} : le texte contient à tort « {needle} »")
    return out


def _known_situation(dialogue, sender: str):
    """The situation the dialogue holds (a public accessor when there is one, else the
    session facts; a fact kept with its provenance gives its `value`)."""
    accessor = getattr(dialogue, "facts", None)
    if callable(accessor):
        facts = accessor(sender)
    else:
        facts = dialogue.store.get(sender).facts
    value = facts.get("situation") if isinstance(facts, dict) else None
    return getattr(value, "value", value)


def _check_final(conv: Conversation, recommendation: dict | None, with_it: list[dict], last_asked: str | None,
                 dialogue, sender, directory) -> list[str]:
    e, out = conv.expect, []
    if "situation" in e:
        got = _known_situation(dialogue, sender)
        if got != e["situation"]:
            out.append(f"situation retenue {got!r}, attendue {e['situation']!r}")
    contact_keys = {"must", "must_not", "first", "max_contacts", "serves_gender", "text_contains",
                    "text_contains_any", "text_excludes"}
    if not contact_keys & set(e):
        return out
    if recommendation is None:
        out.append(f"aucune recommandation à la fin (dernière question : {last_asked or 'aucune'})")
        return out
    # the texts of the turn that gave the last recommendation (the plan and the messages around it)
    out += _check_text("recommandation", e, _fold(" ".join(str(r.get("text") or "") for r in with_it)))
    contacts = [c for c in _custom(recommendation).get("contacts") or [] if isinstance(c, dict)]
    got = [c.get("id") for c in contacts]
    # the numbers shown once under the plan ("En cas de danger") are part of it
    under = [c.get("id") for c in _custom(recommendation).get("if_danger") or [] if isinstance(c, dict)]
    missing = [s for s in e.get("must") or () if s not in got + under]
    if missing:
        out.append(f"contacts manquants {missing} (reçus : {got})")
    wrong = [s for s in e.get("must_not") or () if s in got]
    if wrong:
        out.append(f"contacts à tort {wrong}")
    first = first_group(contacts)
    not_first = [s for s in e.get("first") or () if s not in first]
    if not_first:
        out.append(f"pas à contacter d'abord {not_first} (d'abord : {first})")
    if "max_contacts" in e and len(contacts) > e["max_contacts"]:
        out.append(f"{len(contacts)} contacts, au plus {e['max_contacts']} attendus")
    if "serves_gender" in e and directory is not None:
        gender = e["serves_gender"]
        reserved = []
        for sid in got:
            try:
                genders = directory.service(sid, include_pro=True).genders
            except Exception:  # an unknown id is reported by `must`/`must_not` checks elsewhere
                continue
            if genders and gender not in genders:
                reserved.append(sid)
        if reserved:
            out.append(f"services réservés à un autre public que « {gender} » : {reserved}")
    return out


def play(dialogue, conv: Conversation, sender: str | None = None) -> Result:
    """Play one conversation through `dialogue` (a fresh sender) and check its expectations."""
    sender = sender or f"corpus-{conv.id}-{uuid.uuid4().hex[:8]}"
    result = Result(conv)
    recommendation, with_it, last_asked = None, [], None
    try:
        for n, turn in enumerate(conv.turns, 1):
            replies = dialogue.handle(sender, turn.say)
            result.transcript.append((turn.say, replies))
            result.failures += _check_turn(n, turn, replies)
            for r in replies:
                if _is_recommendation(r):
                    recommendation, with_it = r, replies
            asked = _asked(replies)
            if asked:
                last_asked = asked[-1]
        result.recommendation = recommendation
        result.failures += _check_final(conv, recommendation, with_it, last_asked, dialogue, sender,
                                        getattr(dialogue, "directory", None))
    except Exception as exc:  # one broken conversation must not stop the others (corpus text only)
        result.failures.append(f"erreur pendant la conversation : {type(exc).__name__}: {exc}")
    finally:
        forget = getattr(getattr(dialogue, "store", None), "forget", None)
        if forget:
            forget(sender)
    return result


def run(dialogue, conversations, only_class: str | None = None) -> list[Result]:
    return [play(dialogue, c) for c in conversations if only_class in (None, c.cls)]


def by_class(results: list[Result]) -> dict[str, tuple[int, int]]:
    """class -> (passed, total), in the order of CLASSES."""
    total, passed = Counter(), Counter()
    for r in results:
        total[r.conversation.cls] += 1
        passed[r.conversation.cls] += r.passed
    return {c: (passed[c], total[c]) for c in CLASSES if total[c]}


def _transcript(result: Result) -> list[str]:
    lines = []
    for said, replies in result.transcript:
        lines.append(f"    > {said}")
        for r in replies:
            c = _custom(r)
            tags = []
            if c.get("asks"):
                tags.append(f"asks={c['asks']}")
            if c.get("emergency"):
                tags.append("URGENCE")
            if _is_recommendation(r):
                tags.append("RECOMMANDATION")
            ids = [x.get("id") for x in c.get("contacts") or [] if isinstance(x, dict)]
            if ids:
                groups = [x.get("group") for x in c.get("contacts") or [] if isinstance(x, dict)]
                ids = [f"{i}[{g}]" if g else i for i, g in zip(ids, groups)]
                tags.append("contacts=" + ",".join(ids))
            text = str(r.get("text") or "").replace("\n", " | ")
            lines.append(f"      < {text[:240]}{'…' if len(text) > 240 else ''}" + (f"  ({'; '.join(tags)})" if tags else ""))
    return lines


def report(results: list[Result], verbose: bool = False) -> str:
    lines = []
    if verbose:
        for r in results:
            if r.passed:
                continue
            c = r.conversation
            lines.append(f"ÉCHEC {c.id} [{c.cls}] ({c.file}:{c.line}) — {c.description.strip()}")
            lines += [f"  - {f}" for f in r.failures]
            lines += _transcript(r)
            lines.append("")
    width = max((len(c) for c in CLASSES), default=10)
    lines.append(f"{'classe':<{width}}  réussies / total")
    for cls, (ok, total) in by_class(results).items():
        lines.append(f"{cls:<{width}}  {ok:>3} / {total:<3}  {100 * ok / total:5.1f} %  {CLASSES[cls]}")
    ok, total = sum(r.passed for r in results), len(results)
    if total:
        lines.append(f"{'total':<{width}}  {ok:>3} / {total:<3}  {100 * ok / total:5.1f} %")
    return "\n".join(lines)
