"""Deterministic danger and distress detection (runs before any other understanding).

`detect(text)` says whether someone is in immediate danger now (the reply starts with
17 / 112 / SMS 114) and whether the person shows suicidal thoughts or acute distress
(the reply gives 3114). The rules are data: named regular expressions in `danger.yml`,
applied to normalised text (`bot.normalize`) clause by clause:

* a clause raises a flag when one of its patterns matches and no guard applies;
* guards: a negation right around the match ("il ne me frappe plus"), a past or
  habitual time in the same part of the clause ("il y a trois ans", "tous les jours")
  unless the clause holds a present marker ("la", "maintenant", "en ce moment"...),
  a frame that makes the words not literal (films, games, idioms, hypotheses), and a
  statement of safety made later in the message ("... mais il est parti");
* recall comes first: a false alarm shows 17/112/114 first, a miss can cost a life.

Extra normalisation done here, on top of `bot.normalize` (which is shared and not
changed): letters repeated for emphasis are squeezed ("auuu secouuurs", "frapppe";
doubled letters too, so "frappe" and "frape" read the same: patterns are squeezed the
same way when loaded), SMS spellings whose letters were repeated are expanded again,
a few more SMS spellings ("kil", "plu", "jtiens", "jpp"), and "ma"/"ta" before a
violent past participle is read as "m a" ("il ma etrangler").
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Iterator

import yaml

from bot.normalize import SMS, clauses

__all__ = ["Flags", "detect", "DangerLexicon", "DangerLexiconError", "LEXICON", "LEXICON_PATH"]

LEXICON_PATH = Path(__file__).with_name("danger.yml")


@dataclass(frozen=True)
class Flags:
    danger: bool
    distress: bool
    danger_evidence: tuple[str, ...] = ()  # the ids of the patterns that fired (never the person's text)
    distress_evidence: tuple[str, ...] = ()


class DangerLexiconError(ValueError):
    """An invalid danger.yml: the message names the file and the pattern id."""


# ---------------------------------------------------------------- normalisation

_RUN = re.compile(r"([a-z])\1+")


def squeeze(text: str) -> str:
    """Collapse runs of one letter: 'frappe' -> 'frape', 'secouuurs' -> 'secours'."""
    return _RUN.sub(r"\1", text)


def _squeeze_regex(source: str) -> str:
    """Squeeze doubled letters of a regex source, leaving escapes (\\b, \\d...) intact."""
    out: list[str] = []
    i = 0
    while i < len(source):
        c = source[i]
        if c == "\\" and i + 1 < len(source):
            out.append(source[i : i + 2])
            i += 2
            continue
        nxt = source[i + 1] if i + 1 < len(source) else ""
        # "pp" -> "p" and "pp+" -> "p+", but "ee?" stays: "e?" alone would also match nothing.
        if c.isalpha() and out and out[-1] == c and nxt not in ("?", "*", "{"):
            i += 1
            continue
        out.append(c)
        i += 1
    return "".join(out)


# SMS spellings bot.normalize leaves alone (kept small and unambiguous).
_EXTRA_SMS = {
    "kil": "qu il", "kils": "qu ils", "kel": "quel", "kelle": "qu elle", "jveu": "je veux",
    "veu": "veux", "plu": "plus", "jtiens": "je tiens", "jtien": "je tiens", "jpp": "j en peux plus",
    "jpeu": "je peux", "tjr": "toujours", "jmen": "je m en", "jme": "je me", "jsais": "je sais",
    "ajd": "aujourd hui",
}
# SMS keys by their squeezed spelling, so that an emphasised "jsuuis" or "qqnn" still expands
# (not the squeezed forms that are words or other keys: "tt" -> "t", "ttes" -> "tes").
_NOT_SMS = {"t", "m", "n", "s", "te", "tes", "me", "ne", "ce", "se", "le", "la", "de"}
_SMS_SQUEEZED = {
    squeeze(k): v for k, v in {**SMS, **_EXTRA_SMS}.items()
    if v != k and (squeeze(k) == k or (squeeze(k) not in SMS and squeeze(k) not in _NOT_SMS))
}

# "ma"/"ta" + a violent past participle (or its infinitive, as often written) is "m a".
_ELIDED = re.compile(
    r"\b([mt])a ((?:frap|tap|cogn|tabas|etrangl|etouf|egorg|poignard|plant|enferm|atach|sequestr|enlev|"
    r"kidnap|viol|menac|agres|bles|brul|bloqu|coinc|drogu|jet|pous|lanc|defonc|forc|tir|tu|gifl|ecras|"
    r"bat|mord|ligot|train|balanc|insult|touch|vol|suiv|arnaqu|escroqu|cambriol|harcel|cas|vir|atrap|"
    r"retenu|menot)(?:e|es|er|ee|ees|u|ue|us|ues|i|ie|is)?)\b"
)
_C_EST = re.compile(r"\bc est (?=(?:est|etait|etaient|sera|serait|fut)\b)")
# Time words bind to the verb near them: "et il", "qui", "puis" start another part of the
# clause ("il m a frappee hier et il revient"), but "se fait taper et insulter tous les
# jours" stays one part. A time word further than _TIME_REACH words from the match is
# about another verb ("le voisin qui me harcele depuis un an ... va me defoncer").
_SUBCLAUSE = re.compile(
    r"\b(?:et(?= (?:il|elle|ils|elles|je|j|on|nous|vous|tu|la|maintenant|depuis|c|ca|y|mon|ma|mes|le|les|un|une|des|quelqu)\b)"
    r"|qui|puis|ensuite|donc|car|parce que)\b"
)
_TIME_REACH = 6


@lru_cache(maxsize=4096)
def _prepare(clause: str) -> str:
    """A normalised clause made ready for the patterns (see the module docstring)."""
    words = []
    for w in clause.split():
        sq = squeeze(w)
        if w in _EXTRA_SMS:
            words.append(_EXTRA_SMS[w])
        elif sq != w:  # repeated letters: "jsuuis" is still "jsuis"
            words.append(_SMS_SQUEEZED.get(sq, sq))
        else:
            words.append(w)
    # "c'est" comes out of bot.normalize as "c est est" ("c" is also an SMS key for "c est").
    text = _C_EST.sub("c ", squeeze(" ".join(words)))
    return _ELIDED.sub(r"\1 a \2", text)


# ---------------------------------------------------------------- lexicon

_ID = re.compile(r"^[a-z][a-z0-9_.]*$")
_FRAGMENT = re.compile(r"\{([a-z_]+)\}")
_KINDS = ("danger", "distress")
_GUARD_KINDS = ("negation_before", "negation_after", "now", "time", "safety", "frame", "idiom")
_PATTERN_KEYS = {"id", "pattern", "note", "needs_now", "present", "unless"}
_GUARD_KEYS = {"id", "kind", "pattern", "note", "applies_to", "unless"}


class _Rx:
    """A compiled regex made fast, with the same matches.

    Python's engine tries a pattern that starts with \\b or lookbehinds ("not after je")
    at every position of the text, which is slow. So each regex also gets `fast`: the same
    pattern without its leading zero-width assertions, which only finds more places; the
    full regex is then tried at those places alone. And `needles`: strings one of which
    every match contains, looked up once per clause (see _NeedleIndex) to skip patterns.
    """

    __slots__ = ("regex", "fast", "spaced", "needles")

    def __init__(self, regex: re.Pattern[str]) -> None:
        self.regex = regex
        self.fast = _relaxed(regex.pattern)
        self.spaced = self.fast is not None and self.fast.pattern.startswith(" (?:")
        self.needles = _needles(regex.pattern)

    def possible(self, found: frozenset[str] | set[str]) -> bool:
        return self.needles is None or not found.isdisjoint(self.needles)

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        if self.fast is None:
            yield from self.regex.finditer(text)
            return
        spaced = " " + text if self.spaced else text  # then candidate.start() is the word's index in text
        pos = 0
        while (candidate := self.fast.search(spaced, pos)) is not None:
            m = self.regex.match(text, candidate.start())  # lookbehinds still see the text before
            if m is not None:
                yield m
            pos = candidate.start() + 1

    def search(self, text: str) -> re.Match[str] | None:
        return next(self.finditer(text), None)


def _relaxed(source: str) -> re.Pattern[str] | None:
    """The regex without the zero-width assertions (\\b, lookbehinds) that start each of its
    alternatives, or None when there are none: it finds the same places and more."""
    from re import _parser

    def scan(text: str, i: int, stop: str) -> int:  # index of the next top-level `stop`, or len
        depth, in_class = 0, False
        while i < len(text):
            c = text[i]
            if c == "\\":
                i += 2
                continue
            if in_class:
                in_class = c != "]"
            elif c == "[":
                in_class = True
                if text[i + 1 : i + 2] == "]":
                    i += 1
            elif c == "(":
                depth += 1
            elif c == ")":
                depth -= 1
                if depth == 0 and stop == ")":
                    return i
            elif c == "|" and depth == 0 and stop == "|":
                return i
            i += 1
        return len(text)

    def zero_width(items: Any) -> bool:
        return all(op in (_parser.AT, _parser.ASSERT, _parser.ASSERT_NOT)
                   or (op is _parser.SUBPATTERN and av[0] is None and zero_width(av[-1])) for op, av in items)

    at_word_start = True  # every alternative began with \\b: matches start at a word

    def relax(text: str) -> str:
        nonlocal at_word_start
        alternatives, i = [], 0
        while i <= len(text):
            j = scan(text, i, "|")
            alternatives.append(text[i:j])
            i = j + 1
        out = []
        for alt in alternatives:
            if alt.startswith("(?:") and scan(alt, 0, ")") == len(alt) - 1:
                out.append("(?:" + relax(alt[3:-1]) + ")")  # a whole group: relax inside it
                continue
            k, bounded = 0, False
            while k < len(alt):
                if alt.startswith("\\b", k):
                    k += 2
                    bounded = True
                elif alt[k] == "(" and (e := scan(alt, k, ")")) < len(alt) and zero_width(_parser.parse(alt[k : e + 1])):
                    k = e + 1
                else:
                    break
            at_word_start = at_word_start and bounded
            out.append(alt[k:])
        return "|".join(out)

    try:
        fast = relax(source)
        if fast == source or not all(fast.split("|")):
            return None
        # Words start after a space: searching " " + text for " (?:...)" lets the engine jump
        # from space to space instead of trying every position.
        return re.compile(f" (?:{fast})") if at_word_start and "^" not in fast else re.compile(fast)
    except Exception:  # an unusual construct: the regex alone
        return None


class _NeedleIndex:
    """Which needles occur in a text, in one left-to-right pass of a trie-shaped regex."""

    def __init__(self, needles: Iterable[str]) -> None:
        words = sorted(set(needles))
        trie: dict[str, Any] = {}
        for w in words:
            node = trie
            for ch in w:
                node = node.setdefault(ch, {})
            node[""] = {}

        def build(node: dict[str, Any]) -> str:
            alts = [re.escape(ch) + build(child) for ch, child in sorted(node.items()) if ch]
            if not alts:
                return ""
            body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
            return f"(?:{body})?" if "" in node else body  # greedy: the longest needle here

        self.regex = re.compile(build(trie)) if words else None
        self.words = frozenset(words)
        self._inside: dict[str, frozenset[str]] = {}

    def inside(self, word: str) -> frozenset[str]:
        """The needles inside a needle: found with it, since only the longest is reported."""
        if word not in self._inside:
            subs = {word[i:j] for i in range(len(word)) for j in range(i + 1, len(word) + 1)}
            self._inside[word] = frozenset(subs & self.words)
        return self._inside[word]

    def found(self, text: str) -> set[str]:
        out: set[str] = set()
        if self.regex is None:
            return out
        pos = 0
        while (m := self.regex.search(text, pos)) is not None:
            out |= self.inside(m.group())
            pos = m.start() + 1
        return out


_MAX_EXACT = 3000  # most strings a part of a pattern may spell out before it counts as "anything"


def _needles(source: str) -> tuple[str, ...] | None:
    """Literal strings one of which any match must contain, or None when unsure.

    Works on the stdlib's parse of the regex: a run of parts that spell out a small set of
    strings ("(?:va|veut) (?:me|m)") gives those strings; a branch needs one of its
    alternatives; zero-width assertions and optional parts never make a match longer.
    """
    from re import _parser  # the stdlib's own regex parser (sre_parse)

    def exact(items: Any) -> set[str] | None:
        """All the strings this sequence can match, if few; else None."""
        out = {""}
        for op, av in items:
            if op is _parser.LITERAL:
                part: set[str] | None = {chr(av)}
            elif op in (_parser.AT, _parser.ASSERT, _parser.ASSERT_NOT):
                part = {""}
            elif op is _parser.SUBPATTERN:
                part = exact(av[-1])
            elif op is _parser.BRANCH:
                alts = [exact(b) for b in av[1]]
                part = None if any(a is None for a in alts) else set().union(*alts)  # type: ignore[arg-type]
            elif op in (_parser.MAX_REPEAT, _parser.MIN_REPEAT) and av[0] == 0 and av[1] == 1:
                inner = exact(av[2])
                part = None if inner is None else inner | {""}
            else:
                part = None
            if part is None or len(out) * len(part) > _MAX_EXACT:
                return None
            out = {a + b for a in out for b in part}
        return out

    def required(items: Any) -> set[str] | None:
        """Strings one of which any match of this sequence contains (the most selective found)."""
        candidates: list[set[str]] = []
        run: set[str] = {""}
        for op, av in items:
            sub = exact([(op, av)])
            if sub is not None:
                candidates.append(sub)  # this part alone
                if len(run) * len(sub) <= _MAX_EXACT:
                    run = {a + b for a in run for b in sub}
                    continue
            candidates.append(run)
            run = {""}
            if sub is not None:
                continue
            if op is _parser.SUBPATTERN:
                candidates.append(required(av[-1]) or set())
            elif op is _parser.BRANCH:
                alts = [required(b) for b in av[1]]
                candidates.append(set().union(*alts) if all(alts) else set())  # type: ignore[arg-type]
            elif op in (_parser.MAX_REPEAT, _parser.MIN_REPEAT) and av[0] >= 1:
                candidates.append(required(av[2]) or set())
        candidates.append(run)
        good = [c for c in candidates if c and "" not in c]
        if not good:
            return None
        # The fewest strings of at least 3 letters (cheap to look for), else the longest.
        long_enough = [c for c in good if min(map(len, c)) >= 3]
        if long_enough:
            return min(long_enough, key=lambda c: (len(c), -min(map(len, c))))
        return max(good, key=lambda c: min(map(len, c)))

    try:
        found = required(_parser.parse(source))
    except Exception:  # an unusual construct: no prefilter, the regex alone decides
        return None
    if not found or min(map(len, found)) < 3:
        return None
    return tuple(sorted(found))


@dataclass(frozen=True)
class _Pattern:
    id: str
    regex: _Rx
    needs_now: bool  # fires only when the clause also holds a present marker
    present: bool  # the words themselves say "now": past or habitual time does not cancel them
    unless: re.Pattern[str] | None  # a clause-level exception for this pattern alone


@dataclass(frozen=True)
class _Guard:
    id: str
    kind: str
    regex: _Rx
    applies_to: frozenset[str]
    unless: re.Pattern[str] | None


class DangerLexicon:
    """The patterns and guards of danger.yml, validated and compiled."""

    def __init__(self, path: Path, patterns: dict[str, list[_Pattern]], guards: list[_Guard]) -> None:
        self.path = path
        self.patterns = patterns
        self.guards = {k: [g for g in guards if g.kind == k] for k in _GUARD_KINDS}
        self.ids = frozenset(p.id for ps in patterns.values() for p in ps) | {g.id for g in guards}
        regexes = [p.regex for ps in patterns.values() for p in ps] + [g.regex for g in guards]
        self.index = _NeedleIndex(n for r in regexes if r.needles for n in r.needles)

    # -- loading
    @classmethod
    def load(cls, path: Path | str = LEXICON_PATH) -> "DangerLexicon":
        path = Path(path)

        def fail(where: str, problem: str) -> DangerLexiconError:
            return DangerLexiconError(f"{path}: {where}: {problem}")

        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise fail("file", f"cannot be read as YAML ({exc})") from exc
        if not isinstance(data, dict):
            raise fail("file", "expected a mapping with define, danger, distress and guards")
        unknown = set(data) - {"version", "define", "danger", "distress", "guards"}
        if unknown:
            raise fail("file", f"unknown sections {sorted(unknown)}")
        fragments = data.get("define") or {}
        if not isinstance(fragments, dict) or not all(isinstance(v, str) for v in fragments.values()):
            raise fail("define", "expected a mapping of name: regex")
        seen: set[str] = set()

        def source(entry: dict[str, Any], key: str, where: str) -> str:
            raw = entry.get(key)
            parts = [raw] if isinstance(raw, str) else raw
            if not isinstance(parts, list) or not parts or not all(isinstance(p, str) and p.strip() for p in parts):
                raise fail(where, f"'{key}' must be a non-empty regex or list of regexes")
            text = "|".join(f"(?:{p})" for p in parts) if len(parts) > 1 else parts[0]
            for _ in range(5):  # fragments may use fragments
                def sub(m: re.Match[str]) -> str:
                    if m.group(1) not in fragments:
                        raise fail(where, f"unknown fragment {{{m.group(1)}}} in '{key}'")
                    return f"(?:{fragments[m.group(1)]})"
                text = _FRAGMENT.sub(sub, text)
            return text

        def compile_(text: str, where: str, key: str) -> re.Pattern[str]:
            try:
                return re.compile(_squeeze_regex(text))
            except (re.error, RecursionError, OverflowError) as exc:
                raise fail(where, f"invalid regex in '{key}': {exc}") from exc

        def entry_id(entry: Any, section: str, index: int) -> str:
            if not isinstance(entry, dict):
                raise fail(f"{section}[{index}]", "expected a mapping")
            pid = entry.get("id")
            if not isinstance(pid, str) or not _ID.match(pid):
                raise fail(f"{section}[{index}]", f"missing or malformed id {pid!r}")
            if pid in seen:
                raise fail(f"pattern '{pid}'", "duplicate id")
            seen.add(pid)
            note = entry.get("note")
            if not isinstance(note, str) or not note.strip():
                raise fail(f"pattern '{pid}'", "missing note")
            return pid

        patterns: dict[str, list[_Pattern]] = {}
        for kind in _KINDS:
            entries = data.get(kind)
            if not isinstance(entries, list) or not entries:
                raise fail(kind, "expected a non-empty list of patterns")
            patterns[kind] = []
            for i, entry in enumerate(entries):
                pid = entry_id(entry, kind, i)
                where = f"pattern '{pid}'"
                if set(entry) - _PATTERN_KEYS:
                    raise fail(where, f"unknown keys {sorted(set(entry) - _PATTERN_KEYS)}")
                needs_now, present = entry.get("needs_now", False), entry.get("present", False)
                if not isinstance(needs_now, bool) or not isinstance(present, bool):
                    raise fail(where, "'needs_now' and 'present' must be true or false")
                unless = compile_(source(entry, "unless", where), where, "unless") if "unless" in entry else None
                regex = _Rx(compile_(source(entry, "pattern", where), where, "pattern"))
                patterns[kind].append(_Pattern(pid, regex, needs_now, present, unless))

        guards: list[_Guard] = []
        for i, entry in enumerate(data.get("guards") or []):
            gid = entry_id(entry, "guards", i)
            where = f"guard '{gid}'"
            if set(entry) - _GUARD_KEYS:
                raise fail(where, f"unknown keys {sorted(set(entry) - _GUARD_KEYS)}")
            if entry.get("kind") not in _GUARD_KINDS:
                raise fail(where, f"'kind' must be one of {', '.join(_GUARD_KINDS)}")
            applies = entry.get("applies_to", ["danger"])
            if not isinstance(applies, list) or not applies or set(applies) - set(_KINDS):
                raise fail(where, "'applies_to' must list danger and/or distress")
            unless = compile_(source(entry, "unless", where), where, "unless") if "unless" in entry else None
            regex = _Rx(compile_(source(entry, "pattern", where), where, "pattern"))
            guards.append(_Guard(gid, entry["kind"], regex, frozenset(applies), unless))
        for kind in ("negation_before", "negation_after", "now"):
            if not any(g.kind == kind for g in guards):
                raise fail("guards", f"at least one guard of kind '{kind}' is required")
        return cls(path, patterns, guards)

    # -- detection
    def detect(self, text: str) -> Flags:
        prepared = [_prepare(c) for c in clauses(text if isinstance(text, str) else "")]
        view = self._view("\n".join(prepared))  # the patterns and guards that can match
        # Statements of safety, in reading order: they cancel danger said before them.
        view.safety = [(ci, m.start()) for ci, c in enumerate(prepared) for g in view.guards["safety"]
                       for m in g.regex.finditer(c) if not (g.unless and g.unless.search(c[m.start():]))]
        evidence: dict[str, set[str]] = {k: set() for k in _KINDS}
        for ci, clause in enumerate(prepared):
            now = view.any("now", "danger", clause)
            for flag in _KINDS:
                for p in view.patterns[flag]:
                    if p.id in evidence[flag]:
                        continue
                    for m in p.regex.finditer(clause):
                        if view.fires(flag, p, clause, m, now, ci):
                            evidence[flag].add(p.id)
                            break
        return Flags(
            danger=bool(evidence["danger"]),
            distress=bool(evidence["distress"]),
            danger_evidence=tuple(sorted(evidence["danger"])),
            distress_evidence=tuple(sorted(evidence["distress"])),
        )

    def _view(self, text: str) -> "_Message":
        found = self.index.found(text)
        return _Message(
            patterns={f: [p for p in self.patterns[f] if p.regex.possible(found)] for f in _KINDS},
            guards={k: [g for g in gs if g.regex.possible(found)] for k, gs in self.guards.items()},
        )


@dataclass
class _Message:
    """The patterns and guards that can match one message, and its statements of safety."""

    patterns: dict[str, list[_Pattern]]
    guards: dict[str, list[_Guard]]
    safety: list[tuple[int, int]] = field(default_factory=list)

    def any(self, kind: str, flag: str, text: str) -> bool:
        return any(g.regex.search(text) and not (g.unless and g.unless.search(text))
                   for g in self.guards[kind] if flag in g.applies_to)

    def fires(self, flag: str, p: _Pattern, clause: str, m: re.Match[str], now: bool, ci: int) -> bool:
        """Whether this match raises the flag: no guard applies to it."""
        if p.unless and p.unless.search(clause):
            return False
        if p.needs_now and not now:
            return False
        if self.negated(clause, m, flag):
            return False
        if self.any("frame", flag, clause):
            return False
        if any(im.start() < m.end() and m.start() < im.end()
               for g in self.guards["idiom"] if flag in g.applies_to for im in g.regex.finditer(clause)):
            return False  # "mourir de rire" cancels "mourir", not a threat elsewhere in the clause
        if flag == "danger":
            if not now and not p.present and self.timed(flag, clause, m):
                return False
            if any((sc, ss) > (ci, m.start()) for sc, ss in self.safety):
                return False
        return True

    def negated(self, clause: str, m: re.Match[str], flag: str) -> bool:
        # A pattern that spells its own negation ("plus envie de vivre") is not negated again.
        if _NEGATION_WORD.search(m.group(0)):
            return False
        before, after = clause[: m.start()], clause[m.end() :]
        # A match that starts with its subject ("je prefere me tuer") is not negated by the
        # end of the previous sentence ("... que je connais pas je prefere me tuer").
        if not _SUBJECT.match(m.group(0)) and self.any("negation_before", flag, before):
            return True
        return self.any("negation_after", flag, after)

    def timed(self, flag: str, clause: str, m: re.Match[str]) -> bool:
        """A past or habitual time near the match, in the same part of the clause."""
        start, end = _subclause(clause, m.start())
        part = clause[start:end]
        for g in self.guards["time"]:
            if flag not in g.applies_to:
                continue
            for t in g.regex.finditer(part):
                ts, te = t.start() + start, t.end() + start
                gap = clause[te : m.start()] if te <= m.start() else clause[m.end() : ts] if ts >= m.end() else ""
                if len(gap.split()) <= _TIME_REACH:
                    return True
        return False


_NEGATION_WORD = re.compile(r"\b(?:pas|plus|jamais|rien)\b")
_SUBJECT = re.compile(r"(?:je|j|il|elle|ils|elles|on|tu)\b")


def _subclause(clause: str, pos: int) -> tuple[int, int]:
    """The span of the part of the clause around pos, between 'et il', 'qui', 'puis'..."""
    start, end = 0, len(clause)
    for m in _SUBCLAUSE.finditer(clause):
        if m.end() <= pos:
            start = m.end()
        elif m.start() > pos:
            end = m.start()
            break
    return start, end


def _load_default() -> DangerLexicon:
    return DangerLexicon.load(LEXICON_PATH)


LEXICON = _load_default()  # an invalid danger.yml fails here, at import, naming the file and the id


def detect(text: str) -> Flags:
    """Danger and distress flags of a message. Pure, deterministic, fast."""
    return LEXICON.detect(text)


def explain(texts: Iterable[str]) -> list[tuple[str, Flags]]:
    """Flags for several texts (for reviewing the lexicon by hand)."""
    return [(t, detect(t)) for t in texts]
