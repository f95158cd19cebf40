"""Danger and distress in English and Arabic: reviewed patterns, deterministic matching.

The lexicons are data (bot/danger_en.yml, bot/danger_ar.yml), in the format of
bot/danger.yml: pattern entries with ids and notes, and guards (negation, present
markers, past or habitual time, safety, fiction or hypothesis, idioms). This module is
small and self-contained: it answers `Flags(danger, distress, evidence)` for a message in
one of these languages; the evidence is made of pattern ids, never of the person's words.
French keeps its own, richer engine (bot/danger.py).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from .lang import _AR_MAP, _AR_MARKS, normalize_ar

__all__ = ["Flags", "detect", "normalize_en", "LANGUAGES"]

HERE = Path(__file__).resolve().parent
LANGUAGES = {"en": HERE / "danger_en.yml", "ar": HERE / "danger_ar.yml"}


@dataclass(frozen=True)
class Flags:
    danger: bool = False
    distress: bool = False
    evidence: tuple[str, ...] = field(default=())


# ---------------------------------------------------------------- English normalisation
_CONTRACTIONS = [
    (re.compile(r"\b(can)'?t\b"), r"\1 not"), (re.compile(r"\bwon'?t\b"), "will not"),
    (re.compile(r"\b(\w+)n't\b"), r"\1 not"), (re.compile(r"\b(i)'m\b"), r"\1 am"),
    (re.compile(r"\b(\w+)'re\b"), r"\1 are"), (re.compile(r"\b(\w+)'ll\b"), r"\1 will"),
    (re.compile(r"\b(\w+)'ve\b"), r"\1 have"), (re.compile(r"\b(he|she|it|that|there|someone|somebody|what)'s\b"), r"\1 is"),
    (re.compile(r"\b(i|he|she|they|we|you)'d\b"), r"\1 would"),
]
# SMS and apostrophe-less spellings (unambiguous ones only)
_EN_WORDS = {
    "im": "i am", "ive": "i have", "dont": "do not", "doesnt": "does not", "didnt": "did not",
    "cant": "can not", "cannot": "can not", "wont": "will not", "isnt": "is not", "arent": "are not",
    "wasnt": "was not", "hes": "he is", "shes": "she is", "theyre": "they are", "youre": "you are",
    "thats": "that is", "theres": "there is", "u": "you", "ur": "your", "r": "are", "pls": "please",
    "plz": "please", "gonna": "going to", "gona": "going to", "wanna": "want to", "gotta": "got to",
    "tryna": "trying to", "rn": "right now", "nd": "and", "n": "and", "coz": "because", "cuz": "because",
    "bc": "because", "b4": "before", "2nite": "tonight", "tonite": "tonight", "ppl": "people",
    "bf": "boyfriend", "gf": "girlfriend", "hubby": "husband", "mum": "mum", "neighbor": "neighbour",
    "knifes": "knives", "nife": "knife", "kil": "kill", "kiling": "killing", "hiting": "hitting",
    "beatting": "beating", "dieing": "dying", "sucide": "suicide", "suicde": "suicide", "sucidal": "suicidal",
    "myslef": "myself", "mysefl": "myself", "danjer": "danger", "dager": "danger", "plese": "please",
    "pleas": "please", "polic": "police", "outsid": "outside", "folowing": "following", "follwing": "following",
}
_NON_WORD = re.compile(r"[^a-z0-9]+")
_REPEATS = re.compile(r"(.)\1{2,}")


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def normalize_en(text: str) -> str:
    """English text for the patterns: lower case, no accents, contractions expanded,
    SMS spellings rewritten, punctuation as spaces."""
    t = _fold(text or "").replace("’", "'").replace("‘", "'")
    for rx, repl in _CONTRACTIONS:
        t = rx.sub(repl, t)
    t = _REPEATS.sub(r"\1\1", _NON_WORD.sub(" ", t))
    return " ".join(_EN_WORDS.get(w, w) for w in t.split())


_CLAUSE_BREAK = {
    "en": re.compile(r"[.!?;\n]+|\bbut\b|\bhowever\b|\bexcept that\b"),
    "ar": re.compile(r"[.!?؟؛;\n]+|(?<!\w)(?:لكن|بس|ولكن)(?!\w)"),
}
# Time guards look at the part of the clause around the match (cut at these words).
_SUBCLAUSE_BREAK = {
    "en": re.compile(r",|\band\b|\bthen\b|\bbecause\b|\bwhile\b|\bso\b"),
    "ar": re.compile(r"[،,]|(?<!\w)(?:ثم|لان|لأن|عشان|حتى)(?!\w)"),
}


def _clauses(text: str, lang: str) -> list[tuple[str, list[str]]]:
    """Normalised clauses, each with its normalised sub-parts (for time guards)."""
    norm = normalize_en if lang == "en" else normalize_ar
    out = []
    for part in _CLAUSE_BREAK[lang].split(text or ""):
        clause = norm(part)
        if clause:
            subs = [s for s in (norm(p) for p in _SUBCLAUSE_BREAK[lang].split(part)) if s]
            out.append((clause, subs or [clause]))
    return out


# ---------------------------------------------------------------- lexicon
class LexiconError(ValueError):
    pass


@dataclass
class _Pattern:
    id: str
    flag: str  # "danger" | "distress"
    rx: re.Pattern[str]
    unless: re.Pattern[str] | None
    needs_now: bool
    present: bool


@dataclass
class Lexicon:
    lang: str
    patterns: list[_Pattern]
    guards: dict[str, list[tuple[re.Pattern[str], frozenset[str]]]]

    def guard(self, kind: str, text: str, flag: str = "danger") -> bool:
        return any(flag in applies and rx.search(text) for rx, applies in self.guards.get(kind, ()))


def _compile(source: Any, define: dict[str, str], lang: str, where: str) -> re.Pattern[str]:
    sources = source if isinstance(source, list) else [source]
    parts = []
    for s in sources:
        for name, frag in define.items():
            s = s.replace("{" + name + "}", frag)
        if re.search(r"\{[a-z_]+\}", s):
            raise LexiconError(f"{where}: unknown {{name}} in {s[:60]!r}")
        if lang == "ar":  # patterns are written as people spell; fold them like the text
            s = _AR_MARKS.sub("", s).translate(_AR_MAP)
        parts.append(f"(?:{s})")
    try:
        return re.compile("|".join(parts))
    except re.error as e:
        raise LexiconError(f"{where}: {e}") from e


@lru_cache(maxsize=None)
def lexicon(lang: str) -> Lexicon:
    data = yaml.safe_load(LANGUAGES[lang].read_text(encoding="utf-8"))
    define = {}
    for name, frag in (data.get("define") or {}).items():  # fragments may use earlier ones
        for prev, f in define.items():
            frag = frag.replace("{" + prev + "}", f)
        define[name] = frag
    patterns, seen = [], set()
    for flag in ("danger", "distress"):
        for e in data.get(flag) or []:
            if e["id"] in seen or not e.get("note"):
                raise LexiconError(f"{lang}: duplicate id or missing note: {e.get('id')}")
            seen.add(e["id"])
            patterns.append(_Pattern(
                e["id"], flag, _compile(e["pattern"], define, lang, e["id"]),
                _compile(e["unless"], define, lang, e["id"]) if e.get("unless") else None,
                bool(e.get("needs_now")), bool(e.get("present"))))
    guards: dict[str, list] = {}
    for g in data.get("guards") or []:
        applies = frozenset(g.get("applies_to") or ["danger", "distress"])
        guards.setdefault(g["kind"], []).append((_compile(g["pattern"], define, lang, g["id"]), applies))
    return Lexicon(lang, patterns, guards)


# ---------------------------------------------------------------- detection
def detect(text: str, lang: str) -> Flags:
    """Danger and distress in an English ("en") or Arabic ("ar") message."""
    if lang not in LANGUAGES or not text:
        return Flags()
    lex = lexicon(lang)
    hits: list[tuple[int, str, str]] = []  # (clause index, flag, id)
    safe_at = -1  # last clause that states safety
    clauses = _clauses(text, lang)
    for ci, (clause, subs) in enumerate(clauses):
        now = lex.guard("now", clause)
        framed = lex.guard("frame", clause)
        idioms = [m.span() for rx, _ in lex.guards.get("idiom", ()) for m in rx.finditer(clause)]
        if lex.guard("safety", clause):
            safe_at = ci
        for p in lex.patterns:
            if p.unless and p.unless.search(clause):
                continue
            if p.needs_now and not now:
                continue
            if framed and lex.guard("frame", clause, p.flag):
                continue
            for m in p.rx.finditer(clause):
                a, b = m.span()
                if lex.guard("negation_before", clause[max(0, a - 40):a], p.flag) or \
                        lex.guard("negation_after", clause[b:b + 20], p.flag):
                    continue
                if any(a < j and i < b for i, j in idioms):
                    continue
                if not p.present and not now:
                    sub = next((s for s in subs if m.group(0) in s), clause)
                    if lex.guard("time", sub, p.flag):
                        continue
                hits.append((ci, p.flag, p.id))
                break
    # a statement of safety cancels the danger said in the clauses before it (or with it)
    danger = [h for h in hits if h[1] == "danger" and h[0] > safe_at]
    distress = [h for h in hits if h[1] == "distress"]
    evidence = tuple(dict.fromkeys(h[2] for h in danger + distress))
    return Flags(bool(danger), bool(distress), evidence)
