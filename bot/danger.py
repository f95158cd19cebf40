"""Deterministic danger and distress detection (runs before any other understanding).

`detect(text)` says whether someone is in immediate danger now (the reply starts with
17 / 112 / SMS 114) and whether the person shows suicidal thoughts or acute distress
(the reply gives 3114). The rules are data: named regular expressions in `danger.yml`,
applied to normalised text (`bot.normalize`), clause by clause:

* a clause raises a flag when one of its patterns matches and no guard applies;
* guards: a negation right around the match ("il ne me frappe plus"); a past or habitual
  time near the match ("il y a trois ans", "tous les jours"), unless the clause holds a
  present marker ("la", "maintenant", "en ce moment"...); a frame that makes the words
  not literal (films, games, hypotheses) or an idiom overlapping the match ("mort de
  rire"); a statement of safety made later in the message ("... mais il est parti");
* recall comes first: a false alarm shows 17/112/114 first, a miss can cost a life.

Extra normalisation done here, on top of `bot.normalize` (shared, not changed here):
letters repeated for emphasis are squeezed ("auuu secouuurs", "frapppe"), and so are
doubled letters, so "frappe" and "frape" read the same (patterns are squeezed the same way
when loaded); SMS spellings whose letters were repeated are expanded again ("jsuuis");
a few more SMS spellings ("kil", "plu", "jtiens", "jpp"); "ma"/"ta" before a violent past
participle is read as "m a" ("il ma etrangler"); "c est est", which bot.normalize
makes of "c'est" ("c" is an SMS key), is read as "c est"; and "plus l a force", which it
makes of "plus la force", is read as "plus la force" (a few nouns, after a non-pronoun).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import accumulate
from pathlib import Path
from re import _parser  # the stdlib's regex parser: to read the structure of the patterns
from typing import Any, Iterator

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
# bot.normalize reads "la force" as "l a force" ("la" + a participle is "l'a"): after a word
# that cannot be the subject or an object pronoun, these nouns keep their article.
_LA_NOUN = re.compile(r"\b(\w+) l a (force|menace|touche|case|pouse|vole|jete)\b")
_PRONOUNS = {"il", "elle", "on", "ils", "elles", "qui", "je", "j", "tu", "nous", "vous", "ne", "n",
             "me", "m", "te", "t", "se", "s", "lui", "y", "en", "que", "qu"}


def _prepare(normalised: list[str]) -> list[str]:
    """Normalised clauses made ready for the patterns (see the module docstring); the
    clauses are handled together, a few regex passes for the whole message."""
    text = "\n".join(normalised)
    squeezed = squeeze(text)
    words, squeezed_words = set(text.split()), set(squeezed.split())
    # Only when some word is an SMS spelling once squeezed ("jsuuis"), or one of ours ("kil").
    if (squeezed_words & _SMS_SQUEEZED.keys()) - words or not _EXTRA_SMS.keys().isdisjoint(words):
        lines = []
        for line, sline in zip(text.split("\n"), squeezed.split("\n")):
            out = []
            for w, sq in zip(line.split(" "), sline.split(" ")):
                if w in _EXTRA_SMS:
                    out.append(_EXTRA_SMS[w])
                elif sq != w:  # repeated letters: "jsuuis" is still "jsuis"
                    out.append(_SMS_SQUEEZED.get(sq, sq))
                else:
                    out.append(w)
            lines.append(" ".join(out))
        squeezed = squeeze("\n".join(lines))
    text = _C_EST.sub("c ", squeezed) if "c est " in squeezed else squeezed
    if " l a " in text:
        text = _LA_NOUN.sub(lambda m: m.group(0) if m.group(1) in _PRONOUNS else f"{m.group(1)} la {m.group(2)}", text)
    if "a " in text:
        text = _ELIDED.sub(r"\1 a \2", text)
    return text.split("\n") if text else []


# ---------------------------------------------------------------- fast matching

class _Rx:
    """A compiled regex, made fast, with the same matches.

    Python's engine tries a pattern that starts with \\b or lookbehinds ("not after je") at
    every position of the text, which is slow, and a message has many clauses and the
    lexicon many patterns. So each regex also gets `leads`: the words (or pairs of words) its
    matches can start with, when they can be spelled out. `detect` looks up each word of
    the message once and tries the full regex only where a lead starts. A regex whose leads
    cannot be spelled out gets `fast` instead: the same pattern without the zero-width
    assertions that start its alternatives, which finds the same places and more, searched
    from space to space when every alternative starts at a word.
    """

    __slots__ = ("regex", "fast", "spaced", "leads")

    def __init__(self, regex: re.Pattern[str]) -> None:
        self.regex = regex
        self.fast, self.spaced, self.leads = _relax(regex.pattern)

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
            # as re.finditer: the next match starts after this one
            pos = m.end() if m is not None and m.end() > m.start() else candidate.start() + 1

    def search(self, text: str) -> re.Match[str] | None:
        return next(self.finditer(text), None)


_MAX_EXACT = 3000  # most strings a part of a pattern may spell out before it counts as "anything"
_BOUNDARY = "\x00"  # stands for \b while spelling out the words a pattern starts with


def _exact(items: Any) -> set[str] | None:
    """All the strings a parsed regex sequence can match, if few; else None."""
    out = {""}
    for op, av in items:
        if op is _parser.LITERAL:
            part: set[str] | None = {chr(av)}
        elif op is _parser.AT:
            part = {_BOUNDARY} if av in (_parser.AT_BOUNDARY, _parser.AT_END) else {""}
        elif op in (_parser.ASSERT, _parser.ASSERT_NOT):
            part = {""}
        elif op is _parser.SUBPATTERN:
            part = _exact(av[-1])
        elif op is _parser.IN and all(o is _parser.LITERAL for o, _ in av) and len(av) <= 8:
            part = {chr(c) for _, c in av}
        elif op is _parser.BRANCH:
            alts = [_exact(b) for b in av[1]]
            part = None if any(a is None for a in alts) else set().union(*alts)  # type: ignore[arg-type]
        elif op in (_parser.MAX_REPEAT, _parser.MIN_REPEAT) and av[0] == 0 and av[1] == 1:
            inner = _exact(av[2])
            part = None if inner is None else inner | {""}
        else:
            part = None
        if part is None or len(out) * len(part) > _MAX_EXACT:
            return None
        out = {a + b for a in out for b in part}
    return out


Lead = tuple[str, ...]  # one word, or two words in a row


def _leads(alternative: str) -> set[Lead] | None:
    """The first word, or first two words, a match of this alternative (which starts at a
    word) can start with; None when the first word cannot be spelled out to its end."""
    return _leads_of(list(_parser.parse(alternative)))


def _leads_of(items: list[Any]) -> set[Lead] | None:
    if not items:
        return None
    op, av = items[0]
    if op in (_parser.AT, _parser.ASSERT, _parser.ASSERT_NOT):  # zero width: look past it
        return _leads_of(items[1:])
    if op is _parser.SUBPATTERN and av[0] is None:
        return _leads_of(list(av[-1]) + items[1:])
    if op is _parser.BRANCH:  # each alternative, followed by the rest
        out: set[Lead] = set()
        for branch in av[1]:
            found = _leads_of(list(branch) + items[1:])
            if found is None:
                return None
            out |= found
        return out
    # Spell out the leading parts, keeping only what a match can start with up to the end
    # of its second word, until every spelling has two words or a part cannot be spelled.
    spelled, n = {""}, 0
    while n < len(items) and not all(_two_words(s) for s in spelled):
        part = _exact(items[n : n + 1])
        if part is None or len(spelled) * len(part) > _MAX_EXACT:
            break
        spelled = {_two_words(a + b) or a + b for a in spelled for b in part}
        n += 1
    if spelled == {""}:
        return None
    then_space = _starts_with_space(items[n:])  # the run is followed by a space or a word end

    def word(s: str | None) -> tuple[str | None, str | None]:  # (complete first word, text after its space)
        if not s:
            return None, None
        cut = min((k for k in (s.find(" "), s.find(_BOUNDARY)) if k > 0), default=-1)
        if cut < 0:
            return (s, None) if then_space else (None, None)
        rest = s[cut:].lstrip(_BOUNDARY)
        return s[:cut], (rest[1:].lstrip(_BOUNDARY) if rest.startswith(" ") else None)

    leads: set[Lead] = set()
    for s in spelled:
        first, rest = word(s.lstrip(_BOUNDARY))
        if first is None:
            return None
        second = word(rest)[0]
        leads.add((first, second) if second else (first,))
    return leads


_TWO_WORDS = re.compile(f"^[{_BOUNDARY}]*[^ {_BOUNDARY}]+[{_BOUNDARY}]* [{_BOUNDARY}]*[^ {_BOUNDARY}]+[ {_BOUNDARY}]")


def _two_words(s: str) -> str:
    """The start of s up to the end of its second complete word, or '' if it has none."""
    m = _TWO_WORDS.match(s)
    return m.group(0) if m else ""


def _starts_with_word(items: list[Any]) -> bool:
    """Whether what these parts match surely starts with a letter or a digit (so after a
    \\b, at the start of a word)."""
    if not items:
        return False
    op, av = items[0]
    if op is _parser.LITERAL:
        return chr(av).isalnum()
    if op is _parser.IN:
        return all(o is _parser.LITERAL and chr(c).isalnum() for o, c in av) or av == [(_parser.CATEGORY, _parser.CATEGORY_WORD)] or av == [(_parser.CATEGORY, _parser.CATEGORY_DIGIT)]
    if op in (_parser.AT, _parser.ASSERT, _parser.ASSERT_NOT):
        return _starts_with_word(items[1:])
    if op is _parser.SUBPATTERN:
        return _starts_with_word(list(av[-1]) + items[1:])
    if op is _parser.BRANCH:
        return all(_starts_with_word(list(b) + items[1:]) for b in av[1])
    if op in (_parser.MAX_REPEAT, _parser.MIN_REPEAT):
        inner = _starts_with_word(list(av[2]))
        return inner and (av[0] >= 1 or _starts_with_word(items[1:]))
    return False


def _starts_with_space(items: list[Any]) -> bool:
    """Whether what these parts match surely starts with a space or a word end."""
    if not items:
        return False  # the match may end inside a word ("frap" in "frappe")
    op, av = items[0]
    if op is _parser.LITERAL:
        return av == ord(" ")
    if op is _parser.AT:
        return av is _parser.AT_BOUNDARY or _starts_with_space(items[1:])
    if op in (_parser.ASSERT, _parser.ASSERT_NOT):
        return _starts_with_space(items[1:])
    if op is _parser.SUBPATTERN:
        return _starts_with_space(list(av[-1]) + items[1:])
    if op is _parser.BRANCH:
        return all(_starts_with_space(list(b) + items[1:]) for b in av[1])
    if op in (_parser.MAX_REPEAT, _parser.MIN_REPEAT):
        inner = _starts_with_space(list(av[2]))
        return inner and (av[0] >= 1 or _starts_with_space(items[1:]))
    return False


def _split_top(text: str, stop: str, i: int = 0) -> int:
    """Index of the next `stop` ('|' or a group's ')') at depth 0 from i, or len(text)."""
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


def _zero_width(items: Any) -> bool:
    return all(op in (_parser.AT, _parser.ASSERT, _parser.ASSERT_NOT)
               or (op is _parser.SUBPATTERN and av[0] is None and _zero_width(av[-1])) for op, av in items)


def _relax(source: str) -> tuple[re.Pattern[str] | None, bool, frozenset[Lead] | None]:
    """(fast regex or None, whether it is searched in " " + text, leads or None)."""
    at_word_start = True  # every alternative began with \b: matches start at a word
    leads: set[Lead] | None = set()

    def relax(text: str) -> str:
        nonlocal at_word_start, leads
        alternatives, i = [], 0
        while i <= len(text):
            j = _split_top(text, "|", i)
            alternatives.append(text[i:j])
            i = j + 1
        out = []
        for alt in alternatives:
            if alt.startswith("(?:") and _split_top(alt, ")") == len(alt) - 1:
                out.append("(?:" + relax(alt[3:-1]) + ")")  # a whole group: relax inside it
                continue
            k, bounded = 0, False
            while k < len(alt):
                if alt.startswith("\\b", k):
                    k += 2
                    bounded = True
                elif alt[k] == "(" and (e := _split_top(alt, ")", k)) < len(alt) and _zero_width(_parser.parse(alt[k : e + 1])):
                    k = e + 1
                else:
                    break
            # A \b, then a letter or a digit: the match starts where a word starts.
            bounded = bounded and _starts_with_word(list(_parser.parse(alt[k:])))
            at_word_start = at_word_start and bounded
            found = _leads(alt[k:]) if bounded and leads is not None else None
            leads = None if found is None else leads | found  # type: ignore[operator]
            out.append(alt[k:])
        return "|".join(out)

    try:
        fast = relax(source)
        if fast == source or not all(fast.split("|")):
            return None, False, None
        if at_word_start and "^" not in fast:
            # Words start after a space: searching " " + text for " (?:...)" lets the engine
            # jump from space to space instead of trying every position.
            return re.compile(f" (?:{fast})"), True, frozenset(leads) if leads else None
        return re.compile(fast), False, None
    except Exception:  # an unusual construct: the regex alone decides, at every position
        return None, False, None


# ---------------------------------------------------------------- lexicon

_ID = re.compile(r"^[a-z][a-z0-9_.]*$")
_FRAGMENT = re.compile(r"\{([a-z_]+)\}")
_KINDS = ("danger", "distress")
_GUARD_KINDS = ("negation_before", "negation_after", "now", "time", "safety", "frame", "idiom")
_PATTERN_KEYS = {"id", "pattern", "note", "needs_now", "present", "unless"}
_GUARD_KEYS = {"id", "kind", "pattern", "note", "applies_to", "unless"}


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
        # What is looked for on every clause (patterns, present markers, safety), by lead.
        self._scanned: list[_Pattern | _Guard] = [p for ps in patterns.values() for p in ps]
        self._flag_of = {k: flag for k, (flag, _) in enumerate((f, p) for f, ps in patterns.items() for p in ps)}
        self._scanned += [g for g in guards if g.kind in ("now", "safety")]
        self._single: dict[str, list[int]] = {}
        self._pair: dict[Lead, list[int]] = {}
        self._unled: list[int] = []
        for k, item in enumerate(self._scanned):
            if item.regex.leads is None:
                self._unled.append(k)
            for lead in item.regex.leads or ():
                if len(lead) == 1:
                    self._single.setdefault(lead[0], []).append(k)
                else:
                    self._pair.setdefault(lead, []).append(k)
        self._pair_first = frozenset(w for w, _ in self._pair)
        self._lead_words = self._pair_first | self._single.keys()

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

        def compile_(entry: dict[str, Any], key: str, where: str) -> re.Pattern[str]:
            try:
                return re.compile(_squeeze_regex(source(entry, key, where)))
            except (re.error, RecursionError, OverflowError) as exc:
                raise fail(where, f"invalid regex in '{key}': {exc}") from exc

        def entry_id(entry: Any, section: str, index: int, keys: set[str]) -> str:
            if not isinstance(entry, dict):
                raise fail(f"{section}[{index}]", "expected a mapping")
            eid = entry.get("id")
            if not isinstance(eid, str) or not _ID.match(eid):
                raise fail(f"{section}[{index}]", f"missing or malformed id {eid!r}")
            if eid in seen:
                raise fail(f"pattern '{eid}'", "duplicate id")
            seen.add(eid)
            if not isinstance(entry.get("note"), str) or not entry["note"].strip():
                raise fail(f"pattern '{eid}'", "missing note")
            if set(entry) - keys:
                raise fail(f"pattern '{eid}'", f"unknown keys {sorted(set(entry) - keys)}")
            return eid

        patterns: dict[str, list[_Pattern]] = {}
        for kind in _KINDS:
            entries = data.get(kind)
            if not isinstance(entries, list) or not entries:
                raise fail(kind, "expected a non-empty list of patterns")
            patterns[kind] = []
            for i, entry in enumerate(entries):
                pid = entry_id(entry, kind, i, _PATTERN_KEYS)
                where = f"pattern '{pid}'"
                needs_now, present = entry.get("needs_now", False), entry.get("present", False)
                if not isinstance(needs_now, bool) or not isinstance(present, bool):
                    raise fail(where, "'needs_now' and 'present' must be true or false")
                unless = compile_(entry, "unless", where) if "unless" in entry else None
                patterns[kind].append(_Pattern(pid, _Rx(compile_(entry, "pattern", where)), needs_now, present, unless))

        guards: list[_Guard] = []
        for i, entry in enumerate(data.get("guards") or []):
            gid = entry_id(entry, "guards", i, _GUARD_KEYS)
            where = f"guard '{gid}'"
            if entry.get("kind") not in _GUARD_KINDS:
                raise fail(where, f"'kind' must be one of {', '.join(_GUARD_KINDS)}")
            applies = entry.get("applies_to", ["danger"])
            if not isinstance(applies, list) or not applies or set(applies) - set(_KINDS):
                raise fail(where, "'applies_to' must list danger and/or distress")
            unless = compile_(entry, "unless", where) if "unless" in entry else None
            guards.append(_Guard(gid, entry["kind"], _Rx(compile_(entry, "pattern", where)), frozenset(applies), unless))
        for kind in ("negation_before", "negation_after", "now"):
            if not any(g.kind == kind for g in guards):
                raise fail("guards", f"at least one guard of kind '{kind}' is required")
        return cls(path, patterns, guards)

    def _plain(self) -> "DangerLexicon":
        """The same lexicon without the speed-ups (every regex on every clause): for tests."""
        plain = DangerLexicon.load(self.path)
        for item in plain._scanned + [g for gs in plain.guards.values() for g in gs]:
            item.regex.fast, item.regex.leads = None, None
        plain._single, plain._pair, plain._pair_first = {}, {}, frozenset()
        plain._unled = list(range(len(plain._scanned)))
        return plain

    # -- detection
    def detect(self, text: str) -> Flags:
        if not isinstance(text, str):  # let the caller fail safe (it answers as danger)
            raise TypeError(f"detect() needs a str, not {type(text).__name__}")
        prepared = _prepare(clauses(text))
        found = self._matches(prepared)
        message = _Message(prepared, self.guards)
        for k, g in enumerate(self._scanned):
            if isinstance(g, _Guard):
                for ci, m in found.get(k, ()):
                    if g.kind == "now" and not (g.unless and g.unless.search(prepared[ci])):
                        message.now[ci] = True
                    elif g.kind == "safety" and not (g.unless and g.unless.search(prepared[ci][m.start() :])):
                        message.safety.append((ci, m.start()))  # cancels danger said before it
        evidence: dict[str, list[str]] = {flag: [] for flag in _KINDS}
        for k, flag in self._flag_of.items():
            p = self._scanned[k]
            if k in found and any(message.fires(flag, p, ci, m) for ci, m in found[k]):  # type: ignore[arg-type]
                evidence[flag].append(p.id)
        evidence = {flag: sorted(ids) for flag, ids in evidence.items()}
        return Flags(
            danger=bool(evidence["danger"]),
            distress=bool(evidence["distress"]),
            danger_evidence=tuple(evidence["danger"]),
            distress_evidence=tuple(evidence["distress"]),
        )

    def _matches(self, prepared: list[str]) -> dict[int, list[tuple[int, re.Match[str]]]]:
        """The matches of every scanned pattern and guard, as (clause index, match)."""
        starts: dict[int, set[tuple[int, int]]] = {}
        single, pair, pair_first, lead_words = self._single, self._pair, self._pair_first, self._lead_words
        for ci, clause in enumerate(prepared):
            words = clause.split(" ")
            if lead_words.isdisjoint(words):
                continue
            ends = list(accumulate(map(len, words)))  # word i starts at ends[i] - len(word) + i
            words.append("")  # so that words[i + 1] always exists
            for i in [i for i, w in enumerate(words) if w in lead_words]:
                w = words[i]
                pos = ends[i] - len(w) + i
                for k in single.get(w, ()):
                    starts.setdefault(k, set()).add((ci, pos))
                if w in pair_first:
                    for k in pair.get((w, words[i + 1]), ()):
                        starts.setdefault(k, set()).add((ci, pos))
        found: dict[int, list[tuple[int, re.Match[str]]]] = {}
        for k, places in starts.items():
            regex = self._scanned[k].regex.regex
            hits: list[tuple[int, re.Match[str]]] = []
            for ci, pos in sorted(places):
                if hits and hits[-1][0] == ci and pos < hits[-1][1].end():
                    continue  # inside the previous match, as with re.finditer
                if m := regex.match(prepared[ci], pos):
                    hits.append((ci, m))
            if hits:
                found[k] = hits
        for k in self._unled:
            rx = self._scanned[k].regex
            hits = [(ci, m) for ci, clause in enumerate(prepared) for m in rx.finditer(clause)]
            if hits:
                found[k] = hits
        return found


@dataclass
class _Message:
    """One message being read: its clauses, which of them hold a present marker, and where
    it states that the person is safe."""

    clauses: list[str]
    guards: dict[str, list[_Guard]]
    now: dict[int, bool] = field(default_factory=dict)
    safety: list[tuple[int, int]] = field(default_factory=list)
    _cache: dict[tuple[Any, ...], Any] = field(default_factory=dict)  # guard results, per clause

    def cached(self, key: tuple[Any, ...], compute: Any) -> Any:
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    def any(self, kind: str, flag: str, text: str) -> bool:
        return any(g.regex.search(text) and not (g.unless and g.unless.search(text))
                   for g in self.guards[kind] if flag in g.applies_to)

    def fires(self, flag: str, p: _Pattern, ci: int, m: re.Match[str]) -> bool:
        """Whether this match raises the flag: no guard applies to it."""
        clause, now = self.clauses[ci], self.now.get(ci, False)
        if p.unless and p.unless.search(clause):
            return False
        if p.needs_now and not now:
            return False
        if self.negated(clause, m, flag):
            return False
        if self.cached(("frame", ci, flag), lambda: self.any("frame", flag, clause)):
            return False
        idioms = self.cached(("idiom", ci, flag), lambda: [
            im.span() for g in self.guards["idiom"] if flag in g.applies_to for im in g.regex.finditer(clause)])
        if any(s < m.end() and m.start() < e for s, e in idioms):
            return False  # "mourir de rire" cancels "mourir", not a threat elsewhere in the clause
        if flag == "danger":
            if not now and not p.present and self.timed(flag, ci, m):
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

    def timed(self, flag: str, ci: int, m: re.Match[str]) -> bool:
        """A past or habitual time near the match, in the same part of the clause."""
        clause = self.clauses[ci]
        start, end = _subclause(clause, m.start())
        part = clause[start:end]
        times = self.cached(("time", ci, start, end, flag), lambda: [
            (t.start() + start, t.end() + start)
            for g in self.guards["time"] if flag in g.applies_to for t in g.regex.finditer(part)])
        for ts, te in times:
            gap = clause[te : m.start()] if te <= m.start() else clause[m.end() : ts] if ts >= m.end() else ""
            if len(gap.split()) <= _TIME_REACH:
                return True
        return False


_NEGATION_WORD = re.compile(r"\b(?:pas|plus|jamais|rien)\b")
_SUBJECT = re.compile(r"(?:je|j|il|elle|ils|elles|on|tu)\b")
# Time words bind to the verb near them: "et il", "qui", "puis" start another part of the
# clause ("il m a frappee hier et il revient"), but "se fait taper et insulter tous les
# jours" stays one part. A time word further than _TIME_REACH words from the match is
# about another verb ("le voisin qui me harcele depuis un an ... va me defoncer").
_SUBCLAUSE = re.compile(
    r"\b(?:et(?= (?:il|elle|ils|elles|je|j|on|nous|vous|tu|la|maintenant|depuis|c|ca|y|mon|ma|mes|le|les|un|une|des|quelqu)\b)"
    r"|qui|puis|ensuite|donc|car|parce que)\b"
)
_TIME_REACH = 6


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


LEXICON = DangerLexicon.load(LEXICON_PATH)  # an invalid danger.yml fails here, at import, naming the file and the id


def detect(text: str) -> Flags:
    """Danger and distress flags of a message. Pure, deterministic, fast."""
    return LEXICON.detect(text)
